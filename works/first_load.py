"""Loading an empty database bare: the schema the bulk loader sets aside, and puts back.

On a first load every row is new, and most of the cost of writing it is upkeep nobody reads
until the load ends: the full-text and trigram indexes (to_tsvector of every abstract), the
secondary btrees, the foreign-key checks (a lookup per row), and each batch recounting the
records it touched. A first load drops them, loads, then builds each index once from sorted
data with a large ``maintenance_work_mem``, adds each foreign key back with one validating join,
recounts every record in one set-based pass and runs ANALYZE.

People's signatures are linked to records the same way: not batch by batch against a growing
database (94 % of a first load's time), but once per block when the copying is done
(:func:`link_unlinked`), in parallel, before the schema is put back.

What is dropped is read from the catalogue (``pg_get_indexdef`` with the index's statistics
targets, ``pg_get_constraintdef``, ``pg_get_statisticsobjdef``) and written to
works.models.DeferredSchemaObject in the same transaction as the drops, so a load interrupted
anywhere leaves a note of exactly what to put back: :func:`pending` tells the next load to
carry on, and :func:`restore` ends in the migrated schema, whatever was already redone.

Kept while loading: primary keys, unique indexes (``ON CONFLICT`` and the loader's joins need
them, and they are rules), check constraints (cheap), and the indexes the loader reads every
batch (:data:`LOADER_READS`).
"""

from __future__ import annotations

import itertools
import os
from array import array
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from django.db import connection, transaction
from django.utils import timezone

from bzpeer.lib.memory import resident_mb, return_freed_memory
from bzpeer.lib.processes import parallel_map
from works import clustering, record_notes
from works.changes import refresh_all_record_counts
from works.identity import sharing
from works.identity.caches import forget_caches
from works.models import (
    AuthorRecord,
    Authorship,
    DeferredSchemaObject,
    RecordEvent,
    Work,
    WorkTopic,
    WorkVersion,
)

FILLED_MODELS = (Work, Authorship, WorkTopic, WorkVersion, AuthorRecord, RecordEvent)
# (table, first column) of the indexes the loader itself reads during a load: blocks for
# linking new signatures, slugs (LIKE 'base-%') and name keys for new records.
LOADER_READS = {
    (Authorship._meta.db_table, "block_key"),
    (AuthorRecord._meta.db_table, "slug"),
    (AuthorRecord._meta.db_table, "name_key"),
}
# Building the GIN and btree indexes of a million works sorts in memory rather than on disk.
MAINTENANCE_WORK_MEM = "512MB"
# Unlinked signatures per task of the end-of-load linking (a block is never split): what one
# process holds at a time, as labelled rows.
LINK_TASK_SIGNATURES = 2000
# Blocks this big are linked one at a time, the others beside them. Peak RSS of one block's
# linking process in a million-record load: 1,000 signatures 243 MB, 2,000 350, 3,000 500,
# the largest (6,576) 560; a process starts at 84. Two of the largest at once, beside the
# loader, took the whole load past 1.5 GB.
HEAVY_BLOCK_SIGNATURES = 1000
# Blocks this big are linked alone: the other linking process exits first, and a fresh one
# takes the block. Peak RSS of one block in a fresh process, a million-record load: 1,000
# signatures 261 MB, 2,000 370, 2,500 about 420, 2,700-3,300 440-519 (one component of up to
# 3,000 profiles clustered in n x n matrices), 4,000 about 425, the largest (6,576) 577. Beside
# the other linking process (about 230 MB proportional), the loader (180-210) and the fork
# server (76 with its helper), blocks of 2,900-3,300 took the whole load to 981 MB, and the
# largest would have taken it to about 1 GB. 249 blocks, 809,000 of the 5.5 million
# signatures: their idle core costs an estimated 20 minutes of a load that links for hours.
ALONE_BLOCK_SIGNATURES = 2500
# Resident MB above which a linking process empties its identity caches after a task.
LINK_PROCESS_MB = 250

_DROPPABLE_SQL = """
SELECT t.relname, i.relname, 'index', pg_get_indexdef(x.indexrelid),
       (SELECT attname FROM pg_attribute WHERE attrelid = t.oid AND attnum = x.indkey[0])
FROM pg_index x
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_class i ON i.oid = x.indexrelid
WHERE t.relname = ANY(%(tables)s) AND t.relnamespace = current_schema()::regnamespace
  AND NOT x.indisunique AND NOT x.indisprimary
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
UNION ALL
SELECT t.relname, c.conname, 'constraint', pg_get_constraintdef(c.oid), NULL
FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
WHERE t.relname = ANY(%(tables)s) AND t.relnamespace = current_schema()::regnamespace
  AND c.contype = 'f'
UNION ALL
SELECT t.relname, s.stxname, 'statistics', pg_get_statisticsobjdef(s.oid), NULL
FROM pg_statistic_ext s JOIN pg_class t ON t.oid = s.stxrelid
WHERE t.relname = ANY(%(tables)s) AND t.relnamespace = current_schema()::regnamespace
ORDER BY 1, 3, 2
"""
# Statistics targets set on index columns (ALTER INDEX ... SET STATISTICS): not part of
# pg_get_indexdef, so noted beside it. NULL is the default from PostgreSQL 17, -1 before.
_INDEX_STATISTICS_SQL = """
SELECT i.relname, a.attnum, a.attstattarget
FROM pg_attribute a JOIN pg_class i ON i.oid = a.attrelid
WHERE i.relname = ANY(%(names)s) AND i.relnamespace = current_schema()::regnamespace
  AND a.attstattarget >= 0
ORDER BY 1, 2
"""


_UNLINKED_BLOCKS_SQL = f"""
SELECT block_key, count(*) FROM {Authorship._meta.db_table}
WHERE author_id IS NULL AND block_key <> ''
GROUP BY block_key
HAVING (count(*) >= %s) = %s
ORDER BY count(*) DESC, block_key
"""


def available() -> bool:
    return connection.vendor == "postgresql"


def pending() -> bool:
    """Whether a first load was interrupted: its dropped objects are still noted."""
    return available() and DeferredSchemaObject.objects.exists()


def droppable() -> list[DeferredSchemaObject]:
    """The secondary indexes, foreign keys and statistics objects of the tables a load fills,
    as they are now.

    Statistics objects go too: the one on the works' full-text document runs to_tsvector over
    ANALYZE's whole sample, and the load analyzes the works for the recount's plan while
    nothing searches them yet."""
    tables = [model._meta.db_table for model in FILLED_MODELS]
    with connection.cursor() as cursor:
        cursor.execute(_DROPPABLE_SQL, {"tables": tables})
        found = [row for row in cursor.fetchall() if (row[0], row[4]) not in LOADER_READS]
        indexes = [name for _, name, kind, *_ in found if kind == DeferredSchemaObject.Kind.INDEX]
        cursor.execute(_INDEX_STATISTICS_SQL, {"names": indexes})
        statistics = cursor.fetchall()
    quote = connection.ops.quote_name
    settings = {}
    for index, column, target in statistics:
        settings.setdefault(index, []).append(
            f"ALTER INDEX {quote(index)} ALTER COLUMN {column} SET STATISTICS {target}"
        )
    # The definition is what puts the object back: the index, then its statistics targets.
    return [
        DeferredSchemaObject(
            table=table,
            name=name,
            kind=kind,
            definition="; ".join([definition, *settings.get(name, [])]),
        )
        for table, name, kind, definition, _first_column in found
    ]


def drop() -> list[str]:
    """Note and drop the secondary schema; the names dropped. Nothing when already dropped
    (an interrupted first load carries on)."""
    if pending():
        return []
    objects = droppable()
    quote = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cursor:
        # ALTER TABLE refuses a table with deferred foreign-key checks pending: run them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        DeferredSchemaObject.objects.bulk_create(objects)
        for item in objects:
            if item.kind == DeferredSchemaObject.Kind.INDEX:
                cursor.execute(f"DROP INDEX {quote(item.name)}")
            elif item.kind == DeferredSchemaObject.Kind.STATISTICS:
                cursor.execute(f"DROP STATISTICS {quote(item.name)}")
            else:
                cursor.execute(
                    f"ALTER TABLE {quote(item.table)} DROP CONSTRAINT {quote(item.name)}"
                )
    return [item.name for item in objects]


def restore(*, touched_record_ids: set[int] = frozenset()) -> list[str]:
    """Put back every noted object, recount every record, ANALYZE; the names put back.

    Each object is redone in its own transaction with its note stamped, so an interruption
    here loses nothing: the next call redoes only what is missing, and the notes go only once
    the recount, which the load deferred, has committed. ``touched_record_ids`` get their
    ``works_changed_at`` stamped, as each batch of a normal load stamps them.

    PostgreSQL builds a GIN index in one process, and the full-text index of the works is
    most of the rebuild (to_tsvector of every abstract): its partitions (migration
    works/0013) are built side by side on connections of their own, one per core, while this
    one puts back the rest and recounts. Nothing here waits on them but what locks the works
    against them and so comes last: the foreign keys to the works, the statistics objects,
    and the works' ANALYZE.

    Outside a transaction the tables end vacuumed as well as analyzed (see _settle): the
    site's first visitors then read them as they will read them for good.
    """
    if not pending():
        return []
    works = Work._meta.db_table
    beside, indexes, last = [], [], []
    for item in DeferredSchemaObject.objects.filter(restored_at__isnull=True):
        if item.table == works and _is_gin(item):
            beside.append(item)
        else:
            (indexes if _is_index(item) else last).append(item)
    if connection.in_atomic_block:
        # Another connection could not see this transaction's tables: all of it here.
        indexes, beside = indexes + beside, []
    # Statistics for the recount's plan, before the long builds lock the table against them.
    _analyze([works])
    others = [model._meta.db_table for model in FILLED_MODELS if model is not Work]
    threads = max(1, min(len(beside), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=threads) as pool:
        built_beside = [pool.submit(_restore_on_own_connection, [item]) for item in beside]
        restored = _restore_objects(indexes)
        _analyze(others)
        with transaction.atomic():
            refresh_all_record_counts(stamp=touched_record_ids, now=timezone.now())
        # While the works' index is still being built: this connection would only wait.
        _settle(others)
        restored += _restore_objects(last)
        for build in built_beside:
            restored += build.result()
    _settle([works])
    DeferredSchemaObject.objects.all().delete()
    return restored


def _is_index(item: DeferredSchemaObject) -> bool:
    return item.kind == DeferredSchemaObject.Kind.INDEX


def _is_gin(item: DeferredSchemaObject) -> bool:
    return _is_index(item) and " USING gin " in item.definition


def _restore_on_own_connection(items: list[DeferredSchemaObject]) -> list[str]:
    if not items:
        return []
    try:
        return _restore_objects(items)
    finally:
        connection.close()  # this thread's own


def _restore_objects(items: list[DeferredSchemaObject]) -> list[str]:
    quote = connection.ops.quote_name
    for item in items:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL maintenance_work_mem = '{MAINTENANCE_WORK_MEM}'")
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            if item.kind == DeferredSchemaObject.Kind.CONSTRAINT:
                cursor.execute(
                    f"ALTER TABLE {quote(item.table)} ADD CONSTRAINT {quote(item.name)} "
                    f"{item.definition}"
                )
            else:  # an index or a statistics object: its own statement
                cursor.execute(item.definition)
            item.restored_at = timezone.now()
            item.save(update_fields=["restored_at"])
    return [item.name for item in items]


def _analyze(tables: list[str]) -> None:
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")


def _settle(tables: list[str]) -> None:
    """VACUUM (ANALYZE) the loaded tables; only ANALYZE inside a transaction, where VACUUM
    cannot run.

    A bulk load leaves rows no VACUUM has seen: every first read of a page sets its hint bits
    and writes it back, index-only scans fetch each row from the heap (the visibility map is
    empty), and the signatures people were linked to at the end of the load, and the records
    the recount updated, leave their old versions behind (110,046 dead rows in the
    authorships of a 20,000-record load: half the table). Autovacuum would come to it later;
    the load ends with it done. INDEX_CLEANUP ON: by default VACUUM skips the indexes when
    dead rows sit on under 2 % of the pages (rows of rolled-back or deleted writes before
    the load, say), and the pages holding them then stay out of the visibility map.
    """
    if connection.in_atomic_block:
        _analyze(tables)
        return
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM (ANALYZE, INDEX_CLEANUP ON) {connection.ops.quote_name(table)}")


# -- identity at the end of the load --------------------------------------------------------------


def link_unlinked(*, source_label: str, workers: int = 0) -> set[int]:
    """Link every person signature still without a record, each block once; the records
    that gained signatures.

    A first load leaves people's signatures unlinked while it copies (each batch linking
    against a growing database cost more than the rest of the load), then clusters each block
    here, once, with the import's own linker (works.clustering.plan_links: on a block with no
    record yet it clusters from scratch, as ``cluster_authors`` does) and writes the records'
    variants and import events as a batch would. Blocks go in tasks of about
    LINK_TASK_SIGNATURES signatures (the heavy blocks alone, see _link_tasks), planned in
    ``workers`` processes (0: here) and written here, in the tasks' order: new records get
    the same slugs however the processes' work interleaves. Each task commits on its own, so
    an interrupted run leaves whole blocks linked and the next one links the rest.
    """
    # This process parsed and copied every record and stays resident while the blocks are
    # linked, the load's most memory-hungry step: at 200,000 records, 236 MB, 176 MB after.
    return_freed_memory()
    heavy_sizes: dict[str, int] = {}
    tasks = _link_tasks(heavy_sizes)
    first = list(itertools.islice(tasks, 2))
    if len(first) < 2:
        workers = 0  # one task: not worth starting processes
    # Ids as 8-byte integers while the linking processes are alive: a set of Python ints
    # takes about 62 bytes an id, and a million-record load makes over a million records.
    touched = array("q")
    for plan in parallel_map(
        plan_blocks,
        itertools.chain(first, tasks),
        workers,
        tasks_per_process=clustering.TASKS_PER_PROCESS,
        heavy=lambda block_keys: block_keys[0] in heavy_sizes,
        alone=lambda block_keys: heavy_sizes.get(block_keys[0], 0) >= ALONE_BLOCK_SIGNATURES,
    ):
        if plan is not None:
            touched.extend(write_links(plan, source_label))
    return set(touched)


def _link_tasks(heavy_sizes: dict[str, int]) -> Iterator[list[str]]:
    """The block keys of each task, streamed from the server.

    Blocks of HEAVY_BLOCK_SIGNATURES or more (their sizes noted in ``heavy_sizes``) are tasks
    of their own, woven in among the others by signatures (works.identity.sharing.interleaved):
    two never run at once, and the lighter tasks that run beside them are at hand. Blocks of
    ALONE_BLOCK_SIGNATURES or more run with nothing beside them.
    """
    with connection.cursor() as cursor:
        cursor.execute(_UNLINKED_BLOCKS_SQL, [HEAVY_BLOCK_SIGNATURES, True])
        heavy = cursor.fetchall()  # a few thousand blocks in all of arXiv
    heavy_sizes.update(heavy)
    with connection.chunked_cursor() as cursor:
        cursor.execute(_UNLINKED_BLOCKS_SQL, [HEAVY_BLOCK_SIGNATURES, False])
        rows = itertools.chain.from_iterable(iter(lambda: cursor.fetchmany(5000), []))
        light = sharing.sized_groups(rows, LINK_TASK_SIGNATURES)
        yield from sharing.interleaved((([key], size) for key, size in heavy), light)


def plan_blocks(block_keys: list[str]) -> clustering.LinkPlan | None:
    """Where the unlinked person signatures of some blocks go (in a worker process: it reads
    and decides, writing nothing)."""
    plan = clustering.plan_links(Authorship.objects.filter(block_key__in=block_keys))
    # A linking process grew over its stretch of tasks until it was replaced: the identity
    # caches filled, and glibc kept the pages the clustering freed. Emptying the caches after
    # every task cost 18 % more CPU, so only past LINK_PROCESS_MB.
    if (resident_mb() or 0) > LINK_PROCESS_MB:
        forget_caches()
    return_freed_memory()
    return plan


def write_links(plan: clustering.LinkPlan, source_label: str) -> set[int]:
    """Write one task's plan, note its records' variants and import events, in one
    transaction; the records that gained signatures."""
    with transaction.atomic(), connection.cursor() as cursor:
        clustering.apply_links(plan)
        record_notes.create_staging(cursor)
        record_notes.note(
            cursor,
            source_label=source_label,
            now=timezone.now(),
            where="AND t.id = ANY(%s)",
            params=[[s.id for s in plan.pending]],
        )
        return record_notes.touched_records(cursor)
