"""Research graph views: the inline slice, the explorer page and its JSON.

All three are public reads of public data and serve a cached graph (graph.cache), so a
researcher with thousands of works answers as fast as one with a single paper: one query for
the record, then the cache.
"""

from __future__ import annotations

import orjson
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.functional import SimpleLazyObject
from django.views.decorators.http import require_safe

from graph.cache import GRAPH_TIMEOUT, cached_graph, graph_key
from graph.ego import EXPLORER, INLINE
from graph.layout import layout
from works.catalogue_pages import shared_partial
from works.models import AuthorRecord
from works.records import record_from_slug

# Browsers may reuse a graph for a minute; the server-side cache is invalidated on import.
BROWSER_CACHE_SECONDS = 60


def _lists(graph: dict) -> dict:
    nodes = [n for n in graph["nodes"] if n["id"] != graph["center"]]
    return {
        "people": [n for n in nodes if n["type"] == "person"],
        "works": [n for n in nodes if n["type"] == "work"],
        "topics": [n for n in nodes if n["type"] == "topic"],
        "institutions": [n for n in nodes if n["type"] == "institution"],
    }


@require_safe
@shared_partial
@record_from_slug("graph:slice")
def graph_slice(request: HttpRequest, record: AuthorRecord):
    key = graph_key(record.pk, INLINE.name)
    graph = cached_graph(record, limits=INLINE, key=key)
    context = {
        "record": record,
        "graph": graph,
        # Computed only if the rendered slice is not in the fragment cache already.
        "drawing": SimpleLazyObject(lambda: layout(graph)),
        "graph_key": key,
        "graph_timeout": GRAPH_TIMEOUT,
        "truncated": graph["truncated"],
        **_lists(graph),
    }
    template = "graph/slice.html#graph-slice" if request.htmx else "graph/slice.html"
    return TemplateResponse(request, template, context)


@require_safe
@record_from_slug("graph:explorer")
def explorer(request: HttpRequest, record: AuthorRecord):
    graph = cached_graph(record, limits=EXPLORER)
    context = {"record": record, "graph": graph, "truncated": graph["truncated"], **_lists(graph)}
    return TemplateResponse(request, "graph/explorer.html", context)


@require_safe
@record_from_slug("graph:json")
def graph_json(request: HttpRequest, record: AuthorRecord):
    """The ego-graph as JSON (schema in graph/README.md); ``?size=inline`` for the small one."""
    limits = INLINE if request.GET.get("size") == "inline" else EXPLORER
    graph = cached_graph(record, limits=limits)
    response = HttpResponse(orjson.dumps(graph), content_type="application/json")
    response["Cache-Control"] = f"public, max-age={BROWSER_CACHE_SECONDS}"
    return response
