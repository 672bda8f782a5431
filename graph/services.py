"""Collaboration edges: the full rebuild, the incremental rebuild and the close-collaborator counts.

Edges are derived data: every rebuild recomputes them from authorships with one set-based query
(``_PAIRS_SQL``), never one query per pair. A pair of person records gets an edge in each
direction for the works they share with 2 to ``MAX_AUTHORS_FOR_PAIRS`` person authors:
the summed Newman weight 1/(n - 1), the number of such works and the latest year among them.
Withdrawn works still count: withdrawing a paper does not undo the collaboration behind it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import DatabaseError, connection, transaction
from django.db.models import Max, Min, Q

from graph.models import CollaborationEdge
from graph.weights import CLOSE_WEIGHT_FLOOR, MAX_AUTHORS_FOR_PAIRS
from works.models import AuthorRecord, Authorship, Work

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

# The pairs of the records in ``author_filter`` (on ``a.author_id``), for the incremental
# rebuild: index lookups from the few records an import touched. DISTINCT (author, coauthor,
# work) first: a record printed twice on one paper (two "Wei Wang"s resolved to one record) must
# not count that paper twice for its pairs.
_PAIRS_SQL = f"""
SELECT pw.author_id, pw.coauthor_id, SUM(pw.pair_weight) AS weight, COUNT(*) AS shared_works,
       MAX(pw.year) AS latest_year
FROM (
    SELECT DISTINCT a.author_id AS author_id, b.author_id AS coauthor_id, w.id AS work_id,
           CAST(1.0 AS DOUBLE PRECISION) / (w.person_author_count - 1) AS pair_weight,
           w.year AS year
    FROM {_AUTHORSHIPS} a
    JOIN {_WORKS} w ON w.id = a.work_id
    JOIN {_AUTHORSHIPS} b ON b.work_id = a.work_id AND b.author_id <> a.author_id
    JOIN {_RECORDS} ra ON ra.id = a.author_id
    JOIN {_RECORDS} rb ON rb.id = b.author_id
    WHERE w.person_author_count BETWEEN 2 AND {int(MAX_AUTHORS_FOR_PAIRS)}
      AND ra.kind = 'person' AND rb.kind = 'person'
      AND {{author_filter}}
) pw
GROUP BY pw.author_id, pw.coauthor_id
"""

# The full rebuild first copies what pairs need into two narrow scratch tables (temporary, so
# private to this connection): the works that add pairs with their per-pair weight, and the
# distinct (work, person) authorships of those works. Each chunk then joins these instead of
# the wide works table (titles, abstracts) and the record table, which on a 1M-work corpus
# would be read again for every chunk.
_SCRATCH_WORKS = "graph_rebuild_works"
_SCRATCH_AUTHORS = "graph_rebuild_authors"
_SCRATCH_SQL = [
    f"""CREATE TEMPORARY TABLE {_SCRATCH_WORKS} AS
    SELECT id, CAST(1.0 AS DOUBLE PRECISION) / (person_author_count - 1) AS pair_weight, year
    FROM {_WORKS}
    WHERE person_author_count BETWEEN 2 AND {int(MAX_AUTHORS_FOR_PAIRS)}""",
    f"CREATE UNIQUE INDEX {_SCRATCH_WORKS}_id ON {_SCRATCH_WORKS} (id)",
    f"""CREATE TEMPORARY TABLE {_SCRATCH_AUTHORS} AS
    SELECT DISTINCT a.work_id, a.author_id
    FROM {_AUTHORSHIPS} a
    JOIN {_SCRATCH_WORKS} w ON w.id = a.work_id
    JOIN {_RECORDS} r ON r.id = a.author_id
    WHERE r.kind = 'person'""",
    f"CREATE INDEX {_SCRATCH_AUTHORS}_author ON {_SCRATCH_AUTHORS} (author_id, work_id)",
    f"CREATE INDEX {_SCRATCH_AUTHORS}_work ON {_SCRATCH_AUTHORS} (work_id, author_id)",
]
_EDGE_COLUMNS = "author_id, coauthor_id, weight, shared_works, latest_year"
# Sorted by the unique key, so the inserts walk the indexes in order instead of at random.
_SCRATCH_PAIRS_SQL = f"""
SELECT a.author_id AS author_id, b.author_id AS coauthor_id, SUM(w.pair_weight) AS weight,
       COUNT(*) AS shared_works, MAX(w.year) AS latest_year
FROM {_SCRATCH_AUTHORS} a
JOIN {_SCRATCH_AUTHORS} b ON b.work_id = a.work_id AND b.author_id <> a.author_id
JOIN {_SCRATCH_WORKS} w ON w.id = a.work_id
WHERE a.author_id >= %s AND a.author_id < %s
GROUP BY a.author_id, b.author_id
ORDER BY a.author_id, b.author_id
"""
# A rebuild over existing edges rewrites only what changed: every inserted edge row costs two
# foreign-key checks (each locking a record row), and most edges of a corpus do not change
# between rebuilds. The chunk's pairs go to a scratch table; edges that differ or vanished are
# deleted; pairs not in the table (new or changed) are inserted.
# On PostgreSQL the same comparison is one statement, without a scratch table: the pairs are a
# materialised CTE, vanished pairs are deleted, and changed or new pairs upserted (an edge
# whose values are unchanged is filtered out before it reaches the INSERT).
_PG_CHUNK_DIFF_SQL = f"""
WITH fresh AS MATERIALIZED ({
    _SCRATCH_PAIRS_SQL.replace("%s", "%(start)s", 1).replace("%s", "%(stop)s", 1)
}),
vanished AS (
    DELETE FROM {_EDGES} e
    WHERE e.author_id >= %(start)s AND e.author_id < %(stop)s
      AND NOT EXISTS (
        SELECT 1 FROM fresh f WHERE f.author_id = e.author_id AND f.coauthor_id = e.coauthor_id
      )
    RETURNING 1
),
written AS (
    INSERT INTO {_EDGES} ({_EDGE_COLUMNS})
    SELECT f.author_id, f.coauthor_id, f.weight, f.shared_works, f.latest_year FROM fresh f
    WHERE NOT EXISTS (
        SELECT 1 FROM {_EDGES} e
        -- The range again, so that the planner reads only this chunk's edges.
        WHERE e.author_id >= %(start)s AND e.author_id < %(stop)s
          AND e.author_id = f.author_id AND e.coauthor_id = f.coauthor_id
          AND ABS(e.weight - f.weight) < {_WEIGHT_EPSILON}
          AND e.shared_works = f.shared_works
          AND e.latest_year IS NOT DISTINCT FROM f.latest_year
    )
    ORDER BY f.author_id, f.coauthor_id
    ON CONFLICT (author_id, coauthor_id) DO UPDATE
    SET weight = EXCLUDED.weight, shared_works = EXCLUDED.shared_works,
        latest_year = EXCLUDED.latest_year
    RETURNING 1
)
SELECT (SELECT COUNT(*) FROM fresh), (SELECT COUNT(*) FROM vanished),
       (SELECT COUNT(*) FROM written)
"""
# The incremental rebuild on PostgreSQL, one statement per chunk of record ids: the chunk's
# pairs and its stored edges are compared on the server, and only the pairs that differ (both
# directions) are deleted or upserted, so no edge row travels to Python and back. Data-modifying
# CTEs run to completion whether or not the final SELECT reads them; it returns the records on
# a changed pair. A pair is symmetric (its values come from the works both records share), so
# the two directions of a changed pair always agree on whether it vanished.
_PG_INCREMENTAL_SQL = f"""
WITH fresh AS MATERIALIZED ({_PAIRS_SQL.format(author_filter="a.author_id = ANY(%(ids)s)")}),
old AS MATERIALIZED (
    SELECT e.author_id, e.coauthor_id, e.weight, e.shared_works, e.latest_year
    FROM {_EDGES} e
    -- The span again, so that the planner expects a chunk's rows, not the table's.
    WHERE e.author_id = ANY(%(ids)s) AND e.author_id BETWEEN %(low)s AND %(high)s
),
changed AS MATERIALIZED (
    SELECT COALESCE(f.author_id, o.author_id) AS author_id,
           COALESCE(f.coauthor_id, o.coauthor_id) AS coauthor_id,
           f.weight, f.shared_works, f.latest_year,
           f.author_id IS NOT NULL AS present
    FROM fresh f
    FULL JOIN old o ON o.author_id = f.author_id AND o.coauthor_id = f.coauthor_id
    WHERE f.author_id IS NULL OR o.author_id IS NULL
       OR NOT (ABS(o.weight - f.weight) <= {_WEIGHT_EPSILON}
               AND o.shared_works = f.shared_works
               AND o.latest_year IS NOT DISTINCT FROM f.latest_year)
),
both_ways AS MATERIALIZED (
    SELECT DISTINCT ON (author_id, coauthor_id) * FROM (
        SELECT author_id, coauthor_id, weight, shared_works, latest_year, present FROM changed
        UNION ALL
        SELECT coauthor_id, author_id, weight, shared_works, latest_year, present FROM changed
    ) directions
    ORDER BY author_id, coauthor_id
),
vanished AS (
    DELETE FROM {_EDGES} e USING both_ways c
    WHERE NOT c.present AND e.author_id = c.author_id AND e.coauthor_id = c.coauthor_id
    RETURNING 1
),
written AS (
    INSERT INTO {_EDGES} ({_EDGE_COLUMNS})
    SELECT {_EDGE_COLUMNS} FROM both_ways WHERE present
    -- Sorted so that concurrent rebuilds lock rows in the same order (no deadlock cycles).
    ORDER BY author_id, coauthor_id
    ON CONFLICT (author_id, coauthor_id) DO UPDATE
    SET weight = EXCLUDED.weight, shared_works = EXCLUDED.shared_works,
        latest_year = EXCLUDED.latest_year
    RETURNING 1
)
SELECT DISTINCT author_id FROM both_ways
"""
_SCRATCH_CHUNK = "graph_rebuild_chunk"
_CHUNK_DIFF_SQL = [
    f"DELETE FROM {_SCRATCH_CHUNK}",
    f"INSERT INTO {_SCRATCH_CHUNK} ({_EDGE_COLUMNS}) {_SCRATCH_PAIRS_SQL}",
    # Vanished pairs first (counted), then changed ones (rewritten by the insert below).
    f"""DELETE FROM {_EDGES}
    WHERE author_id >= %s AND author_id < %s
      AND NOT EXISTS (
        SELECT 1 FROM {_SCRATCH_CHUNK} c
        WHERE c.author_id = {_EDGES}.author_id AND c.coauthor_id = {_EDGES}.coauthor_id
      )""",
    f"""DELETE FROM {_EDGES}
    WHERE author_id >= %s AND author_id < %s
      AND NOT EXISTS (
        SELECT 1 FROM {_SCRATCH_CHUNK} c
        WHERE c.author_id = {_EDGES}.author_id AND c.coauthor_id = {_EDGES}.coauthor_id
          AND ABS(c.weight - {_EDGES}.weight) < {_WEIGHT_EPSILON}
          AND c.shared_works = {_EDGES}.shared_works
          AND (c.latest_year = {_EDGES}.latest_year
               OR (c.latest_year IS NULL AND {_EDGES}.latest_year IS NULL))
      )""",
    f"""INSERT INTO {_EDGES} ({_EDGE_COLUMNS})
    SELECT {_EDGE_COLUMNS} FROM {_SCRATCH_CHUNK} c
    WHERE NOT EXISTS (
        SELECT 1 FROM {_EDGES} e WHERE e.author_id = c.author_id AND e.coauthor_id = c.coauthor_id
    )
    ORDER BY c.author_id, c.coauthor_id""",
]

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
# The full rebuild's statements for one range of author ids: a first build inserts the pairs
# as they come; every rebuild then recounts the range's close collaborators.
_INSERT_PAIRS_SQL = f"INSERT INTO {_EDGES} ({_EDGE_COLUMNS}) {_SCRATCH_PAIRS_SQL}"
_RANGE_COUNTS_SQL = _COUNTS_SQL.format(record_filter="r.id >= %s AND r.id < %s")


@dataclass
class FullRebuildResult:
    edges: int = 0  # edge rows after the rebuild (both directions)
    written: int = 0  # rows inserted or rewritten (new or changed pairs)
    removed: int = 0  # rows deleted (pairs that no longer share a work)
    seconds: dict[str, float] = field(default_factory=dict)  # per phase
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
        if connection.vendor == "postgresql":
            changed_ids = _rewrite_changed_pairs_on_server(ids)
        else:
            changed_ids = _rewrite_changed_pairs(ids)
        if changed_ids:
            refresh_close_collaborator_counts(author_ids=changed_ids)
    return changed_ids


def _rewrite_changed_pairs_on_server(ids: list[int]) -> set[int]:
    """PostgreSQL: compare and rewrite on the server, a chunk of records per statement.

    A pair whose two records fall in different chunks is rewritten by the first chunk (both
    directions) and found unchanged by the second, which still reports nothing new for it:
    the first already did.
    """
    changed_ids: set[int] = set()
    with connection.cursor() as cursor:
        for chunk in _id_chunks(ids):
            cursor.execute(_PG_INCREMENTAL_SQL, {"ids": chunk, "low": chunk[0], "high": chunk[-1]})
            changed_ids.update(row[0] for row in cursor.fetchall())
    return changed_ids


def _rewrite_changed_pairs(ids: list[int]) -> set[int]:
    """Other databases: read the stored edges and the pairs, write the pairs that differ."""
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
    return {record_id for pair in changed for record_id in pair}


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

    Works in ranges of author ids. The range's pairs come from one INSERT ... SELECT over the
    scratch tables (both directions come out of the self-join, since a pair appears once from
    each side). Over existing edges, each range is one transaction that compares the pairs
    with the stored edges and rewrites only the rows that changed, then refreshes the range's
    close-collaborator counters: readers never wait. A first build into an empty table on
    PostgreSQL is a bulk load instead (see ``_bulk_load``). ``progress`` is called with the
    number of ids covered.

    The scratch tables are a snapshot taken at the start: an import that commits during the
    rebuild is brought in by its own incremental task, which may run before the rebuild reaches
    its records; run the rebuild again (or the incremental one for those records) if imports
    were running.
    """
    bounds = AuthorRecord.objects.aggregate(low=Min("id"), high=Max("id"))
    result = FullRebuildResult()
    if bounds["low"] is None:
        return result
    first_build = not CollaborationEdge.objects.exists()
    ranges = [
        (start, min(start + chunk_size, bounds["high"] + 1))
        for start in range(bounds["low"], bounds["high"] + 1, chunk_size)
    ]
    clock = _Clock(result.seconds)
    with connection.cursor() as cursor:
        with clock("scratch"):
            _session_memory(cursor, enlarge=True)
            _create_scratch(cursor)
        try:
            if first_build and connection.vendor == "postgresql":
                _bulk_load_ranges(cursor, ranges, result, clock=clock, progress=progress)
            else:
                _rebuild_ranges(
                    cursor, ranges, result, first_build=first_build, clock=clock, progress=progress
                )
        finally:
            _drop_scratch(cursor)
            _session_memory(cursor, enlarge=False)
    return result


def _bulk_load_ranges(
    cursor,
    ranges: list[tuple[int, int]],
    result: FullRebuildResult,
    *,
    clock: _Clock,
    progress: Callable[[int], None] | None,
) -> None:
    """The first build into an empty table on PostgreSQL: every range in one bulk load."""
    with transaction.atomic():
        with _bulk_load(cursor, clock=clock):
            for start, stop in ranges:
                with clock("pairs"):
                    cursor.execute(_INSERT_PAIRS_SQL, [start, stop])
                result.edges += max(cursor.rowcount, 0)
                if progress:
                    progress(stop - start)
        for start, stop in ranges:
            _refresh_range_counts(cursor, start, stop, result, clock=clock)
    result.written = result.edges


def _rebuild_ranges(
    cursor,
    ranges: list[tuple[int, int]],
    result: FullRebuildResult,
    *,
    first_build: bool,
    clock: _Clock,
    progress: Callable[[int], None] | None,
) -> None:
    """Each range in its own transaction: its edges brought up to date, then its counters."""
    for start, stop in ranges:
        # The "pairs" phase has always included the range's counters (timed again as
        # "counts"); rebuild_graph reports the phases as measured this way.
        with transaction.atomic(), clock("pairs"):
            edges, written, removed = _rewrite_range(cursor, start, stop, first_build=first_build)
            result.edges += edges
            result.written += written
            result.removed += removed
            _refresh_range_counts(cursor, start, stop, result, clock=clock)
        if progress:
            progress(stop - start)


def _rewrite_range(cursor, start: int, stop: int, *, first_build: bool) -> tuple[int, int, int]:
    """Bring the edges of one range of author ids up to date: (edges, written, removed)."""
    if first_build:
        cursor.execute(_INSERT_PAIRS_SQL, [start, stop])
        inserted = max(cursor.rowcount, 0)
        return inserted, inserted, 0
    if connection.vendor == "postgresql":
        cursor.execute(_PG_CHUNK_DIFF_SQL, {"start": start, "stop": stop})
        edges, removed, written = cursor.fetchone()
        return edges, written, removed
    clear, fill, delete_vanished, delete_changed, insert = _CHUNK_DIFF_SQL
    cursor.execute(clear)
    cursor.execute(fill, [start, stop])
    edges = max(cursor.rowcount, 0)
    cursor.execute(delete_vanished, [start, stop])
    removed = max(cursor.rowcount, 0)
    cursor.execute(delete_changed, [start, stop])
    cursor.execute(insert)
    return edges, max(cursor.rowcount, 0), removed


def _refresh_range_counts(
    cursor, start: int, stop: int, result: FullRebuildResult, *, clock: _Clock
) -> None:
    with clock("counts"):
        cursor.execute(_RANGE_COUNTS_SQL, [CLOSE_WEIGHT_FLOOR, start, stop])
        result.counts_changed.extend(row[0] for row in cursor.fetchall())


def _session_memory(cursor, *, enlarge: bool) -> None:
    """Give this connection room for the scratch tables and the per-chunk sorts, then reset.

    The scratch tables of a 1M-work corpus take about 400 MB; with PostgreSQL's default 8 MB
    of buffers for temporary tables, every chunk would read them again from the operating
    system (half of the first build's time). temp_buffers can only be set before the
    connection first uses a temporary table, so a connection that already did (a second
    rebuild in the same process) keeps its current value.
    """
    if connection.vendor != "postgresql":
        return
    if not enlarge:
        cursor.execute("RESET work_mem")
        return
    try:
        with transaction.atomic():
            cursor.execute("SET temp_buffers = '1GB'")
    except DatabaseError:
        pass


def _create_scratch(cursor) -> None:
    _drop_scratch(cursor)
    postgresql = connection.vendor == "postgresql"
    if postgresql:
        # The DISTINCT over every authorship (4M rows for 1M works) hashes in memory.
        cursor.execute("SET work_mem = '256MB'")
    for statement in _SCRATCH_SQL:
        cursor.execute(statement)
    if postgresql:
        # Each chunk then sorts and hashes a few hundred thousand pairs, also in memory.
        cursor.execute("SET work_mem = '64MB'")
    cursor.execute(
        f"CREATE TEMPORARY TABLE {_SCRATCH_CHUNK} AS SELECT {_EDGE_COLUMNS} FROM {_EDGES} "
        "WHERE 1 = 0"
    )
    cursor.execute(
        f"CREATE UNIQUE INDEX {_SCRATCH_CHUNK}_pair ON {_SCRATCH_CHUNK} (author_id, coauthor_id)"
    )
    if postgresql:
        # Autovacuum never analyses temporary tables: without statistics the planner would
        # guess their size.
        cursor.execute(f"ANALYZE {_SCRATCH_WORKS}")
        cursor.execute(f"ANALYZE {_SCRATCH_AUTHORS}")


class _Clock:
    """Adds up the seconds spent in each named phase (reported by rebuild_graph)."""

    def __init__(self, seconds: dict[str, float]):
        self.seconds = seconds

    @contextmanager
    def __call__(self, phase: str):
        started = time.monotonic()
        try:
            yield
        finally:
            elapsed = time.monotonic() - started
            self.seconds[phase] = round(self.seconds.get(phase, 0.0) + elapsed, 1)


@contextmanager
def _bulk_load(cursor, *, clock: _Clock):
    """Load the empty edge table without its indexes and key checks, then restore them.

    Row by row, each edge costs two foreign-key checks (each locking a record row) and three
    index insertions: on a 1M-work corpus (about 14M edge rows) that is most of the time of a
    first build. Inside the caller's transaction, the foreign keys, the unique pair constraint
    and the plain indexes are dropped, the rows inserted, and everything re-created exactly as
    it was (from PostgreSQL's own definitions): the indexes are built in one sort each and the
    keys validated in one join each. DDL is transactional, so a failure leaves the table as it
    was. The table is locked for the duration: this path is only taken when it is empty, on
    the first build after an initial bulk import.
    """
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype IN ('u', 'f') ORDER BY contype DESC, conname",
        [_EDGES],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes "
        "WHERE schemaname = current_schema() AND tablename = %s AND indexname NOT IN ("
        "  SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
        [_EDGES, _EDGES],
    )
    indexes = cursor.fetchall()
    # Foreign keys cannot be altered while checks deferred earlier in this transaction are
    # pending: run those checks now, and defer again afterwards.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    for name, _ in constraints:
        cursor.execute(f'ALTER TABLE {_EDGES} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    yield
    with clock("indexes and keys"):
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for _, definition in indexes:
            cursor.execute(definition)
        for name, definition in constraints:
            cursor.execute(f'ALTER TABLE {_EDGES} ADD CONSTRAINT "{name}" {definition}')
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute(f"ANALYZE {_EDGES}")


def _drop_scratch(cursor) -> None:
    # Schema-qualified: never a real table that happens to share the name.
    schema = "pg_temp" if connection.vendor == "postgresql" else "temp"
    for table in (_SCRATCH_CHUNK, _SCRATCH_AUTHORS, _SCRATCH_WORKS):
        cursor.execute(f"DROP TABLE IF EXISTS {schema}.{table}")
