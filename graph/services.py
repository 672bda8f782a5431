"""Collaboration edges: the full rebuild, the incremental rebuild and the close-collaborator counts.

Edges are derived data: every rebuild recomputes them from authorships with one set-based query
(``_PAIRS_SQL``), never one query per pair. A pair of person records gets an edge in each
direction for the works they share with 2 to ``MAX_AUTHORS_FOR_PAIRS`` person authors:
the summed Newman weight 1/(n - 1), the number of such works and the latest year among them.
Withdrawn works still count: withdrawing a paper does not undo the collaboration behind it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Max, Min, Q

from graph.models import CollaborationEdge
from graph.weights import CLOSE_WEIGHT_FLOOR, MAX_AUTHORS_FOR_PAIRS
from profiles.models import AuthorRecord
from works.models import Authorship, Work

# Author ids per statement of the full rebuild. Bounds the memory of the GROUP BY (a chunk of
# 20,000 records of a 1M-work corpus makes a few hundred thousand pairs) and gives the progress
# bar something to count; each chunk is its own transaction, so readers never wait on the rebuild.
FULL_REBUILD_CHUNK = 20_000
# Parameters per IN (...) list on SQLite, well under its 32,766 host-parameter limit.
_SQLITE_IN_CHUNK = 900
# Two weights closer than this are the same sum computed in another order.
_WEIGHT_EPSILON = 1e-9

_EDGES = CollaborationEdge._meta.db_table
_AUTHORSHIPS = Authorship._meta.db_table
_WORKS = Work._meta.db_table
_RECORDS = AuthorRecord._meta.db_table

# DISTINCT (author, coauthor, work) first: a record printed twice on one paper (two "Wei Wang"s
# resolved to one record) must not count that paper twice for its pairs. Organisation records
# are few, so "NOT IN organisations" is a small hashed lookup rather than a join of every pair
# row against the whole record table.
_PAIRS_SQL = f"""
SELECT pw.author_id, pw.coauthor_id, SUM(pw.pair_weight), COUNT(*), MAX(pw.year)
FROM (
    SELECT DISTINCT a.author_id AS author_id, b.author_id AS coauthor_id, w.id AS work_id,
           CAST(1.0 AS DOUBLE PRECISION) / (w.person_author_count - 1) AS pair_weight,
           w.year AS year
    FROM {_AUTHORSHIPS} a
    JOIN {_WORKS} w ON w.id = a.work_id
    JOIN {_AUTHORSHIPS} b ON b.work_id = a.work_id AND b.author_id <> a.author_id
    WHERE w.person_author_count BETWEEN 2 AND {int(MAX_AUTHORS_FOR_PAIRS)}
      AND {{author_filter}}
      AND a.author_id NOT IN (SELECT id FROM {_RECORDS} WHERE kind <> 'person')
      AND b.author_id NOT IN (SELECT id FROM {_RECORDS} WHERE kind <> 'person')
) pw
GROUP BY pw.author_id, pw.coauthor_id
"""

# Sets every record's counter in the filter to its number of edges at or above the close
# threshold, writing only the rows whose counter changes, and returns their ids.
_COUNTS_SQL = f"""
UPDATE {_RECORDS} SET close_collaborator_count = c.n
FROM (
    SELECT r.id AS id,
           (SELECT COUNT(*) FROM {_EDGES} e
             WHERE e.author_id = r.id AND e.weight >= %s) AS n
    FROM {_RECORDS} r
    WHERE {{record_filter}}
) c
WHERE {_RECORDS}.id = c.id AND {_RECORDS}.close_collaborator_count <> c.n
RETURNING {_RECORDS}.id
"""


@dataclass
class FullRebuildResult:
    edges: int = 0
    counts_changed: list[int] = field(default_factory=list)


def _in_filter(column: str, ids: list[int]) -> tuple[str, list]:
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [ids]
    return f"{column} IN ({', '.join(['%s'] * len(ids))})", list(ids)


def _id_chunks(ids: list[int]) -> Iterable[list[int]]:
    size = 50_000 if connection.vendor == "postgresql" else _SQLITE_IN_CHUNK
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def pairs_for(author_ids: Iterable[int]) -> dict[tuple[int, int], tuple[float, int, int | None]]:
    """The edges from these records, computed from authorships: {(author, coauthor): row}."""
    pairs = {}
    with connection.cursor() as cursor:
        for chunk in _id_chunks(sorted(set(author_ids))):
            where, params = _in_filter("a.author_id", chunk)
            cursor.execute(_PAIRS_SQL.format(author_filter=where), params)
            for author_id, coauthor_id, weight, shared, latest_year in cursor.fetchall():
                pairs[(author_id, coauthor_id)] = (float(weight), shared, latest_year)
    return pairs


def _same(old, new) -> bool:
    if old is None or new is None:
        return old is new
    return (
        math.isclose(old[0], new[0], rel_tol=0, abs_tol=_WEIGHT_EPSILON)
        and old[1] == new[1]
        and old[2] == new[2]
    )


def rebuild_edges_for(*, author_ids: Iterable[int]) -> set[int]:
    """Recompute every edge touching these records; return the records whose edges changed.

    Both directions of each changed pair are written (an upsert, so two overlapping rebuilds
    running at once agree instead of failing), vanished pairs are deleted both ways, and the
    close-collaborator counters of every record on a changed pair are refreshed. Nothing is
    written when nothing changed, so re-importing the same file leaves the edges alone.
    """
    ids = sorted(set(author_ids))
    if not ids:
        return set()
    with transaction.atomic():
        old = {
            (a, b): (w, s, y)
            for a, b, w, s, y in CollaborationEdge.objects.filter(author_id__in=ids).values_list(
                "author_id", "coauthor_id", "weight", "shared_works", "latest_year"
            )
        }
        new = pairs_for(ids)
        changed = sorted(p for p in old.keys() | new.keys() if not _same(old.get(p), new.get(p)))
        if not changed:
            return set()
        vanished = [p for p in changed if p not in new]
        for start in range(0, len(vanished), 200):
            condition = Q()
            for a, b in vanished[start : start + 200]:
                condition |= Q(author_id=a, coauthor_id=b) | Q(author_id=b, coauthor_id=a)
            CollaborationEdge.objects.filter(condition).delete()
        rows = {}
        for a, b in changed:
            if (a, b) in new:
                weight, shared, year = new[(a, b)]
                for author, coauthor in ((a, b), (b, a)):
                    rows[(author, coauthor)] = CollaborationEdge(
                        author_id=author,
                        coauthor_id=coauthor,
                        weight=weight,
                        shared_works=shared,
                        latest_year=year,
                    )
        # Sorted so that concurrent rebuilds lock rows in the same order (no deadlock cycles).
        CollaborationEdge.objects.bulk_create(
            [rows[key] for key in sorted(rows)],
            batch_size=1000,
            update_conflicts=True,
            unique_fields=["author", "coauthor"],
            update_fields=["weight", "shared_works", "latest_year"],
        )
        changed_ids = {record_id for pair in changed for record_id in pair}
        refresh_close_collaborator_counts(author_ids=changed_ids)
    return changed_ids


def refresh_close_collaborator_counts(*, author_ids: Iterable[int]) -> list[int]:
    """Recount close collaborators from the edges; return the records whose count changed."""
    changed = []
    with connection.cursor() as cursor:
        for chunk in _id_chunks(sorted(set(author_ids))):
            where, params = _in_filter("r.id", chunk)
            cursor.execute(_COUNTS_SQL.format(record_filter=where), [CLOSE_WEIGHT_FLOOR, *params])
            changed.extend(row[0] for row in cursor.fetchall())
    return changed


def record_id_span() -> int:
    """How many author ids the full rebuild walks through (for a progress bar)."""
    bounds = AuthorRecord.objects.aggregate(low=Min("id"), high=Max("id"))
    return 0 if bounds["low"] is None else bounds["high"] - bounds["low"] + 1


def rebuild_all_edges(
    *, chunk_size: int = FULL_REBUILD_CHUNK, progress: Callable[[int], None] | None = None
) -> FullRebuildResult:
    """Rebuild every edge and close-collaborator counter from the authorships.

    Works in ranges of author ids: per range, one DELETE and one INSERT ... SELECT (both
    directions come out of the self-join, since a pair appears once from each side), then the
    counters of that range. ``progress`` is called with the number of ids covered.
    """
    bounds = AuthorRecord.objects.aggregate(low=Min("id"), high=Max("id"))
    result = FullRebuildResult()
    if bounds["low"] is None:
        return result
    # A first build finds the table empty and skips the deletes.
    had_edges = CollaborationEdge.objects.exists()
    columns = "author_id, coauthor_id, weight, shared_works, latest_year"
    insert_sql = f"INSERT INTO {_EDGES} ({columns}) " + _PAIRS_SQL.format(
        author_filter="a.author_id >= %s AND a.author_id < %s"
    )
    low, high = bounds["low"], bounds["high"] + 1
    for start in range(low, high, chunk_size):
        stop = min(start + chunk_size, high)
        with transaction.atomic(), connection.cursor() as cursor:
            if had_edges:
                cursor.execute(
                    f"DELETE FROM {_EDGES} WHERE author_id >= %s AND author_id < %s", [start, stop]
                )
            cursor.execute(insert_sql, [start, stop])
            result.edges += max(cursor.rowcount, 0)
            cursor.execute(
                _COUNTS_SQL.format(record_filter="r.id >= %s AND r.id < %s"),
                [CLOSE_WEIGHT_FLOOR, start, stop],
            )
            result.counts_changed.extend(row[0] for row in cursor.fetchall())
        if progress:
            progress(stop - start)
    return result
