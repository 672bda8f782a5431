"""Cache keys for built graphs, invalidated by version tokens rather than by deletion.

A graph is cached under a key that carries two tokens: the global generation (changed by the
full rebuild, which touches every record) and the record's own version (changed by the
incremental rebuild for each record whose works or edges changed). Changing a token makes the
old entries unreachable; they expire on their own. Tokens are random rather than counters: if a
version key is evicted, the next read mints a fresh token instead of falling back to a value an
old entry may still be stored under.

A graph also shows its co-authors' names and the edges between them, which can change without
the centre's version moving (two of its co-authors publish together); ``GRAPH_TIMEOUT`` bounds
how long such a second-hand change can stay unseen.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.core.cache import cache

from graph.ego import build_graph
from works import catalogue_pages

GRAPH_TIMEOUT = 60 * 60
# Longer than any graph entry, so a version outlives the graphs stored under it.
VERSION_TIMEOUT = 30 * 24 * 60 * 60
_GENERATION_KEY = "graph:generation"


def _version_key(record_id: int) -> str:
    return f"graph:version:{record_id}"


def _token() -> str:
    return uuid.uuid4().hex[:12]


def graph_key(record_id: int, variant: str) -> str:
    """The cache key of this record's graph of this variant ("inline" or "explorer")."""
    version_key = _version_key(record_id)
    tokens = cache.get_many([_GENERATION_KEY, version_key])
    generation = tokens.get(_GENERATION_KEY)
    if generation is None:
        cache.add(_GENERATION_KEY, _token(), VERSION_TIMEOUT)
        generation = cache.get(_GENERATION_KEY)
    version = tokens.get(version_key)
    if version is None:
        cache.add(version_key, _token(), VERSION_TIMEOUT)
        version = cache.get(version_key)
    return f"graph:{variant}:{record_id}:{generation}:{version}"


def bump_versions(record_ids: Iterable[int]) -> None:
    """Make the cached graphs of these records stale (and the pages that show them)."""
    catalogue_pages.forget()
    cache.set_many({_version_key(record_id): _token() for record_id in record_ids}, VERSION_TIMEOUT)


def bump_generation() -> None:
    """Make every cached graph stale (after a full rebuild), and the pages that show them."""
    catalogue_pages.forget()
    cache.set(_GENERATION_KEY, _token(), VERSION_TIMEOUT)


def cached_graph(record, *, limits, key: str | None = None) -> dict:
    """The record's graph for these limits, built once per version of its edges and works."""
    key = key or graph_key(record.pk, limits.name)
    graph = cache.get(key)
    if graph is None:
        graph = build_graph(record, limits=limits)
        cache.set(key, graph, GRAPH_TIMEOUT)
    return graph
