"""Load the arXiv metadata snapshot into PostgreSQL fast: COPY and set-based SQL.

The generic :class:`works.importer.Importer` saves batches through the ORM and
works on every database; at a few thousand records a second it would take
hours over the 2.8 million records of the snapshot. This loader writes exactly
the same rows (the importer's semantics are the contract, and
tests/works/test_bulk_import.py compares the two paths row by row), but:

* Parsing, validation, content hashes and author-name facts are computed in
  worker processes (works.prepare: the parse is pure Python and the bottleneck
  of an unchanged re-import), each record coming back as pre-encoded COPY
  lines, or, on a database that holds records while the batches come out
  nearly all unchanged (a re-import), as just its fingerprint. The first batch,
  and so a small input, is prepared in-process and starts no worker.
* A snapshot line the database already holds is never parsed: each work keeps the
  digest of the line its content came from, bound to its content hash
  (``works.prepare.snapshot_digest``), and per batch of lines one COPY of
  ``(arxiv_id, line digest)`` and one join answer which lines those are. An unchanged
  re-import hashes its lines and writes nothing.
* Per batch of the remaining records, one COPY of ``(arxiv_id, content_hash)`` and one join
  answer which records are new or changed.
* The changed records are COPied into TEMP staging tables (works, authorships
  with their name keys, name facts, versions, topics), then a fixed number of
  statements resolve names to author records, create the missing records with
  free slugs, upsert works with ``INSERT ... ON CONFLICT (arxiv_id) DO UPDATE``,
  replace authorships and topics, add versions, refresh the counters of the
  touched records with one ``UPDATE ... FROM`` and write their import events
  with one ``INSERT ... SELECT``.

Memory stays bounded: the file is streamed in chunks, a bounded number of
chunks is in flight, and name keys are resolved per batch in SQL rather than
cached in Python. What grows with the input is ``ImportStats``' sets of touched
ids, which :func:`works.services.after_import` needs.

Batch boundaries differ from the generic importer's (20,000 records against
1,000), which shows in two places only: a record touched in two batches gets
one import event per batch (on a first load, where people are linked once at
the end by works.first_load.link_unlinked, a person's record gets one), and a
file holding the same arXiv id twice meets "keep the newest within a batch" at
another boundary. Where three or more new names of one batch want the same
slug the importer fails (its suffix search does not see the batch's own picks);
this loader numbers them on.
"""

from __future__ import annotations

import gc
import itertools
import json
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from django.db import connection, transaction
from django.utils import timezone

from bzpeer.lib import processes
from works import first_load, record_notes, resolution, signals
from works.arxiv.records import ParsedRecord, RecordError
from works.changes import authorships_changed
from works.clustering import PARALLEL_LINKING_SIGNATURES, link_signatures
from works.importer import (
    POSITION_OFFSET,
    UPDATABLE_FIELDS,
    ImportStats,
    pending_signatures,
)
from works.models import AuthorRecord, Authorship, Topic, Work, WorkTopic, WorkVersion
from works.prepare import (
    Prepared,
    copy_escape,
    forget_parsing,
    fully_encoded,
    prepare_items,
    prepare_lines,
    prepare_lines_in_worker,
    screen_key,
)
from works.taxonomy import topic_group, topic_name

BATCH_SIZE = 20_000
# A first load's batches are smaller: the loader holds a batch and about a batch of prepared
# chunks in flight, and without per-batch linking or recounts a smaller batch costs it nothing
# measurable (bench/README.md: 300,000 records, the copy 45.4 s against 45.9 s, 70 MB less).
FIRST_LOAD_BATCH_SIZE = 10_000
# Lines a worker parses per task: large enough that inter-process overhead is
# small, small enough that a few in flight per worker keep memory low.
CHUNK_LINES = 2_000
MAX_WORKERS = 4


def available() -> bool:
    """The fast path needs PostgreSQL (COPY, ON CONFLICT, temp tables)."""
    return connection.vendor == "postgresql"


def choose_first_load(asked: bool | None) -> bool:
    """Load bare (works.first_load) into an empty database, or to carry on a first load that
    was interrupted; ``asked`` (the command's --first-load / --no-first-load) wins."""
    if asked is not None:
        return asked
    return first_load.pending() or not Work.objects.exists()


# -- the loader ----------------------------------------------------------------


class BulkImporter:
    """Drop-in for :class:`works.importer.Importer` on PostgreSQL.

    ``run(items)`` takes parsed records like the generic importer. When
    ``items`` is a snapshot reader (``works.services.read_items`` on JSON
    lines), the raw lines are parsed by ``workers`` processes instead: None
    picks one per core, 0 parses in this process.
    """

    def __init__(
        self,
        *,
        batch_size: int = BATCH_SIZE,
        source_label: str = "arXiv import",
        workers: int | None = None,
        first_load: bool | None = None,
    ):
        self.batch_size = batch_size
        # None: decided when the run starts (see choose_first_load).
        self.first_load = first_load
        self.defer_links = False
        self.source_label = source_label
        self.workers = workers
        self._topics: set[str] = set()
        self._created = 0
        self._analyzed_at = 0
        # Whether workers encode every record for COPY, or only fingerprint them
        # (see prepare_lines): decided by the share of changes in the last batch.
        self._encode = True

    def run(
        self,
        items: Iterable[ParsedRecord | RecordError],
        *,
        progress: Callable[[ImportStats], None] | None = None,
    ) -> ImportStats:
        stats = ImportStats()
        self.first_load = choose_first_load(self.first_load)
        # People's new signatures wait, unlinked, for the end of a first load, and of a run
        # carrying on an interrupted one (whose batches' signatures are still waiting): each
        # block is then clustered once (works.first_load.link_unlinked).
        self.defer_links = self.first_load or first_load.pending()
        if self.first_load:
            first_load.drop()
            self.batch_size = min(self.batch_size, FIRST_LOAD_BATCH_SIZE)
        else:
            # An interrupted first load forced onto the normal path: its schema comes back first.
            first_load.restore()
        copying = time.perf_counter()
        with _fewer_gc_passes():
            self._create_staging_tables()
            batch: list[Prepared | RecordError] = []
            for chunk in self._prepared_chunks(items, stats, progress):
                batch.extend(chunk)
                if len(batch) >= self.batch_size:
                    stats.add(self.import_batch(batch))
                    batch = []
                    if progress:
                        progress(stats)
            if batch:
                stats.add(self.import_batch(batch))
                if progress:
                    progress(stats)
        stats.phases["copy"] = time.perf_counter() - copying
        if self.defer_links:
            linking = time.perf_counter()
            self._link_deferred(stats)
            stats.phases["people linked"] = time.perf_counter() - linking
        if self.first_load:
            restoring = time.perf_counter()
            first_load.restore(touched_record_ids=stats.touched_author_ids)
            stats.phases["schema and counters"] = time.perf_counter() - restoring
            # Timed apart: without a broker the edges and trust run here, on commit. At 20,000
            # records they took 54.7 s and the schema 15.6 s, printed as one 75 s "schema".
            telling = time.perf_counter()
            self._tell_layers_above(stats)
            stats.phases["follow-ups"] = time.perf_counter() - telling
        return stats

    def _link_deferred(self, stats: ImportStats) -> None:
        linked = first_load.link_unlinked(
            source_label=self.source_label, workers=self._worker_count()
        )
        if self.first_load:
            stats.touched_author_ids |= linked  # counted by works.first_load.restore
        else:
            stats.touched_author_ids |= set(authorships_changed(linked))

    def _tell_layers_above(self, stats: ImportStats) -> None:
        """Every record the first load touched, as each batch of a normal load tells them:
        their edges and trust are queued (run here, on commit, without a broker)."""
        with transaction.atomic():
            signals.authorships_changed.send(
                sender=Authorship, record_ids=sorted(stats.touched_author_ids)
            )

    # -- preparing -----------------------------------------------------------

    def _prepared_chunks(self, items, stats, progress) -> Iterator[list[Prepared | RecordError]]:
        size = min(CHUNK_LINES, self.batch_size)
        lines = getattr(items, "snapshot_lines", None)
        if lines is None:
            items = iter(items)
            while chunk := list(itertools.islice(items, size)):
                yield prepare_items(chunk)
            return
        numbered = _line_chunks(lines, size)
        if not self.first_load:
            numbered = self._screened(numbered, stats, progress)
        # Into an empty database every record is new: encoded at once. Otherwise the first
        # batch is only fingerprinted, the few changed records of a re-import parsed again.
        self._encode = bool(self.first_load)
        # The first batch is prepared here: a small file never starts workers.
        seen = 0
        for first_line, chunk in numbered:
            yield prepare_lines(first_line, chunk, self._encode)
            seen += len(chunk)
            if seen >= self.batch_size:
                break
        else:
            return
        following = next(numbered, None)
        if following is None:
            return  # the file was exactly one batch: no workers to start
        numbered = itertools.chain([following], numbered)
        workers = self._worker_count()
        if not workers:
            for first_line, chunk in numbered:
                yield prepare_lines(first_line, chunk, self._encode)
            return
        if self.first_load:
            # The workers encode every line of a first load, and its people are linked when it
            # ends: this process parses nothing more until then.
            forget_parsing()
        # Enough chunks in flight to fill most of the next batch while this one is
        # written; each is a few MB of prepared records held in this process.
        yield from _parallel(
            numbered, workers, self.batch_size // size + workers, lambda: self._encode
        )

    def _screened(self, numbered, stats, progress) -> Iterator[tuple[int, list[bytes]]]:
        """The chunks without the lines whose content the database holds as read from those
        very lines (works.prepare.snapshot_digest), counted unchanged and never parsed.

        Parsing is what an unchanged re-import spent its time on: a line is now hashed
        instead, and one join per batch answers for all of them. A skipped line leaves a
        blank in its chunk, so every other line keeps its number for error messages.
        """
        for group in _groups(numbered, self.batch_size):
            keys = [[screen_key(line) for line in chunk] for _, chunk in group]
            held = _held_lines(keys)
            for (first, chunk), chunk_keys in zip(group, keys, strict=True):
                skip = [key in held for key in chunk_keys]
                kept = [b"" if s else line for line, s in zip(chunk, skip, strict=True)]
                skipped = sum(skip)
                stats.unchanged += skipped
                if skipped < len(chunk):
                    yield first, kept
            if held and progress:
                progress(stats)

    def _worker_count(self) -> int:
        if self.workers is not None:
            return self.workers
        if multiprocessing.current_process().daemon:
            return 0  # a Celery prefork child may not have children
        return min(MAX_WORKERS, os.cpu_count() or 1)

    # -- writing -------------------------------------------------------------

    def import_batch(self, items: list[Prepared | RecordError]) -> ImportStats:
        stats = ImportStats()
        records: dict[str, Prepared] = {}
        for item in items:
            if isinstance(item, RecordError):
                stats.errors.append(item)
                continue
            previous = records.get(item.arxiv_id)
            # The same paper twice in one batch: keep the newest (as the importer).
            if previous is None or item.newest_key >= previous.newest_key:
                if previous is not None:
                    stats.unchanged += 1
                records[item.arxiv_id] = item
            else:
                stats.unchanged += 1
        if records:
            with transaction.atomic(), connection.cursor() as cursor:
                changed = self._write(cursor, records, stats)
            self._analyze_as_tables_grow(stats.created)
            # Parsing a changed record again here costs about what encoding it in
            # a worker costs twice: below a fifth changed, fingerprints are cheaper.
            self._encode = changed >= len(records) / 5
        return stats

    def _analyze_as_tables_grow(self, created: int) -> None:
        """Refresh the planner's statistics each time this run has doubled the rows.

        Autovacuum lags behind a bulk load, and with statistics of a nearly
        empty table the planner picks nested loops over hundreds of thousands of
        rows for the counters' refresh.
        """
        self._created += created
        if self._created < max(2 * self._analyzed_at, 1000):
            return
        self._analyzed_at = self._created
        with connection.cursor() as cursor:
            # Not works_work: its statistics cover the full-text expression index,
            # which means to_tsvector on 30,000 sampled abstracts.
            for model in (Authorship, WorkTopic, WorkVersion, AuthorRecord):
                cursor.execute(f"ANALYZE {_table(model)}")

    def _warm_up_linking(self, changed: list[Prepared]) -> None:
        """With enough new signatures to link them in processes, the fork server boots while
        this batch is written (a day's increment waited a second for it)."""
        if self.defer_links or self._worker_count() < 2:
            return
        signatures = sum(record.encoded.signatures.count(b"\n") for record in changed)
        if signatures >= PARALLEL_LINKING_SIGNATURES:
            processes.warm_up()

    def _write(self, cursor, records: dict[str, Prepared], stats: ImportStats) -> int:
        """Write the new and changed records; how many there were."""
        changed = self._changed_records(cursor, records, stats)
        if not changed:
            return 0
        self._ensure_topics({code for record in changed for code in record.encoded.categories})
        self._warm_up_linking(changed)
        self._copy_changed(cursor, changed)
        now = timezone.now()
        written = self._upsert_works(cursor, now)
        stats.created += written["created"]
        stats.updated += written["updated"]
        stats.unchanged += len(changed) - written["created"] - written["updated"]
        # A batch of new works only (every batch of a first load, most of a day's harvest) has
        # no stored signature to find again, move or drop.
        only_new = written["updated"] == 0
        self._match_signatures(cursor, only_new=only_new)
        self._assign_organisations(cursor, changed)
        dropped = self._write_signatures(cursor, only_new=only_new)
        self._write_topics_and_versions(cursor)
        if not self.defer_links:
            # A person's new signature is linked by the evidence, as on the ORM path.
            cursor.execute("SELECT work_id FROM bulk_written")
            work_ids = [row[0] for row in cursor.fetchall()]
            link_signatures(pending_signatures(work_ids), workers=self._worker_count())
        # Variants and events of the records linked now (with deferred links: organisations'
        # and the kept signatures' records; people's come when their blocks are linked).
        record_notes.note(
            cursor,
            source_label=self.source_label,
            now=now,
            joins="JOIN bulk_written w ON t.work_id = w.work_id",
        )
        touched = record_notes.touched_records(cursor)
        if self.first_load:
            # Counted once, set-based, when the load ends (works.first_load.restore).
            stats.touched_author_ids.update(touched | dropped)
        else:
            stats.touched_author_ids.update(authorships_changed(touched | dropped, now=now))
        return len(changed)

    def _changed_records(
        self, cursor, records: dict[str, Prepared], stats: ImportStats
    ) -> list[Prepared]:
        """The new records and those whose content changed, fully prepared; the rest counted."""
        _truncate_staging(cursor)
        _copy(
            cursor,
            "bulk_hash (arxiv_id, content_hash, snapshot_digest)",
            _hash_lines(records.values()),
        )
        # Only new works and works whose content differs come back: an unchanged
        # batch is answered by this one join.
        cursor.execute(
            """
            SELECT h.arxiv_id, w.id, w.version, w.updated
            FROM bulk_hash h LEFT JOIN works_work w ON w.arxiv_id = h.arxiv_id
            WHERE w.content_hash IS DISTINCT FROM h.content_hash
            """
        )
        differing = cursor.fetchall()
        stats.unchanged += len(records) - len(differing)
        if len(differing) < len(records):
            # Unchanged works read from a snapshot line they do not hold yet (loaded before
            # the line screen, or last written by another path) take it, for the next
            # re-import. (A first load's batches are all new: no join to run.)
            cursor.execute(
                f"""
                UPDATE {_table(Work)} w SET snapshot_digest = h.snapshot_digest
                FROM bulk_hash h
                WHERE w.arxiv_id = h.arxiv_id AND w.content_hash = h.content_hash
                AND h.snapshot_digest <> '' AND w.snapshot_digest <> h.snapshot_digest
                """
            )
        to_create: list[Prepared] = []
        to_update: list[Prepared] = []
        for arxiv_id, work_id, version, updated in differing:
            record = records[arxiv_id]
            if work_id is None:
                to_create.append(record)
            elif record.freshness.is_older_than(version=version, updated=updated):
                stats.unchanged += 1
            else:
                to_update.append(record)
        changed = []
        for record in [*to_create, *to_update]:
            record = fully_encoded(record)
            if isinstance(record, RecordError):
                stats.errors.append(record)
            else:
                changed.append(record)
        return changed

    def _copy_changed(self, cursor, changed: list[Prepared]):
        # Order matters and is kept by the staging tables' identity column:
        # new works first, then updated ones, as the importer orders them; name
        # facts in order of first appearance (which name gets a homonym's slug).
        _copy(
            cursor,
            "bulk_work (arxiv_id, version, title, abstract, comments, journal_ref, doi, "
            "report_no, license, primary_code, submitted, updated, year, withdrawn, kind, "
            "person_author_count, author_count, source, content_hash, snapshot_digest)",
            # A generator: each line with its digest is made as it is sent, not a batch's
            # worth of copies of every abstract at once (about 30 MB per 20,000 records).
            (record.encoded.work[:-1] + f"\t{record.digest}\n".encode() for record in changed),
        )
        _copy(
            cursor,
            "bulk_author (arxiv_id, position, key, printed, affiliation, block_key, coauthor_name, "
            "is_org)",
            [record.encoded.signatures for record in changed],
        )
        _copy(
            cursor,
            "bulk_version (arxiv_id, number, submitted, size_kb)",
            [record.encoded.versions for record in changed],
        )
        _copy(
            cursor,
            "bulk_topic (arxiv_id, code, position)",
            [record.encoded.topics for record in changed],
        )

    def _ensure_topics(self, codes: set[str]) -> None:
        missing = codes - self._topics
        if not missing:
            return
        Topic.objects.bulk_create(
            [Topic(code=c, name=topic_name(c), group=topic_group(c)) for c in missing],
            ignore_conflicts=True,
        )
        self._topics |= missing

    def _upsert_works(self, cursor, now) -> dict[str, int]:
        columns, select, params = record_notes.insert_columns(
            Work,
            {
                "arxiv_id": "b.arxiv_id",
                "version": "b.version",
                "title": "b.title",
                "abstract": "b.abstract",
                "comments": "b.comments",
                "journal_ref": "b.journal_ref",
                "doi": "b.doi",
                "report_no": "b.report_no",
                "license": "b.license",
                "primary_topic_id": "t.id",
                "submitted": "b.submitted",
                "updated": "b.updated",
                "year": "b.year",
                "withdrawn": "b.withdrawn",
                "kind": "b.kind",
                "person_author_count": "b.person_author_count",
                "author_count": "b.author_count",
                "source": "b.source",
                "content_hash": "b.content_hash",
                "snapshot_digest": "b.snapshot_digest",
            },
            now,
        )
        updates = ", ".join(
            f"{c} = EXCLUDED.{c}"
            for c in (
                connection.ops.quote_name(Work._meta.get_field(f).column)
                for f in [*UPDATABLE_FIELDS, "snapshot_digest"]
            )
        )
        works = _table(Work)
        # xmax is 0 on a freshly inserted row and set on an updated one. No ORDER
        # BY: sorting 1 KB rows spills to disk, and a temp table filled by one
        # COPY is read back in the order it was written (new works get ids in
        # file order, as with the importer).
        cursor.execute(
            f"""
            WITH written AS (
                INSERT INTO {works} ({columns})
                SELECT {select}
                FROM bulk_work b LEFT JOIN {_table(Topic)} t ON t.code = b.primary_code
                ON CONFLICT (arxiv_id) DO UPDATE SET {updates}
                WHERE {works}.content_hash IS DISTINCT FROM EXCLUDED.content_hash
                RETURNING arxiv_id, id, xmax = 0 AS inserted
            )
            INSERT INTO bulk_written (arxiv_id, work_id, inserted)
            SELECT arxiv_id, id, inserted FROM written
            """,
            params,
        )
        cursor.execute(
            "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) "
            "FROM bulk_written"
        )
        created, updated = cursor.fetchone()
        return {"created": created, "updated": updated}

    def _match_signatures(self, cursor, *, only_new: bool) -> None:
        """Find the stored signatures of updated works again, by (work, key, occurrence).

        A found signature keeps its id and its record (corrections stick); the others are new.
        With only new works in the batch every signature is new: copied across without the
        search, and without the statistics only its joins need (at 200,000 records of a first
        load, 6 of the 40 s the loader waited on the database).
        """
        if only_new:
            cursor.execute(
                """
                INSERT INTO bulk_assigned
                    (seq, work_id, position, printed, key, affiliation, block_key,
                     coauthor_name, is_org)
                SELECT a.seq, w.work_id, a.position, a.printed, a.key, a.affiliation,
                       a.block_key, a.coauthor_name, a.is_org
                FROM bulk_author a JOIN bulk_written w ON w.arxiv_id = a.arxiv_id
                """
            )
            return
        # bulk_work is not analyzed: sampling its 1 KB abstracts costs more than it tells
        # (it is joined on arxiv_id alone).
        cursor.execute("ANALYZE bulk_author")
        cursor.execute(
            f"""
            INSERT INTO bulk_stored (authorship_id, work_id, author_id, key, occurrence)
            SELECT t.id, t.work_id, t.author_id, t.name_key,
                   row_number() OVER (PARTITION BY t.work_id, t.name_key ORDER BY t.position)
            FROM {_table(Authorship)} t
            JOIN bulk_written w ON t.work_id = w.work_id AND NOT w.inserted
            """
        )
        cursor.execute(
            """
            INSERT INTO bulk_assigned
                (seq, work_id, authorship_id, author_id, position, printed, key, affiliation,
                 block_key, coauthor_name, is_org)
            SELECT a.seq, w.work_id, s.authorship_id, s.author_id, a.position, a.printed, a.key,
                   a.affiliation, a.block_key, a.coauthor_name, a.is_org
            FROM (
                SELECT b.*,
                       row_number() OVER (PARTITION BY b.arxiv_id, b.key ORDER BY b.position)
                           AS occurrence
                FROM bulk_author b
            ) a
            JOIN bulk_written w ON w.arxiv_id = a.arxiv_id
            LEFT JOIN bulk_stored s
              ON s.work_id = w.work_id AND s.key = a.key AND s.occurrence = a.occurrence
            """
        )
        cursor.execute("ANALYZE bulk_assigned")
        cursor.execute("ANALYZE bulk_stored")

    def _assign_organisations(self, cursor, changed: list[Prepared]) -> None:
        """An organisation's new signature goes to the organisation's record (one per name)."""
        cursor.execute(
            "SELECT DISTINCT key FROM bulk_assigned WHERE authorship_id IS NULL AND is_org"
        )
        keys = {row[0] for row in cursor.fetchall()}
        if not keys:
            return
        organisations = {
            s.name_key: s for r in changed for s in r.encoded.organisations if s.name_key in keys
        }
        record_ids = resolution.records_for(list(organisations.values()))
        cursor.execute(
            "UPDATE bulk_assigned a SET author_id = (%s::jsonb ->> a.key)::bigint "
            "WHERE a.authorship_id IS NULL AND a.is_org",
            [json.dumps(record_ids)],
        )

    def _write_signatures(self, cursor, *, only_new: bool) -> set[int]:
        """Update found signatures in place, delete those a new version dropped, insert the
        new ones (a person's without a record: linked next). Returns the records of the
        deleted signatures."""
        dropped = set() if only_new else self._rewrite_stored_signatures(cursor)
        columns, select, params = record_notes.insert_columns(
            Authorship,
            {
                "work_id": "a.work_id",
                "author_id": "a.author_id",
                "position": "a.position",
                "printed_name": "a.printed",
                "name_key": "a.key",
                "block_key": "a.block_key",
                "coauthor_name": "a.coauthor_name",
                "affiliation": "a.affiliation",
            },
            None,
        )
        cursor.execute(
            f"INSERT INTO {_table(Authorship)} ({columns}) "
            f"SELECT {select} FROM bulk_assigned a WHERE a.authorship_id IS NULL ORDER BY a.seq",
            params,
        )
        return dropped

    def _rewrite_stored_signatures(self, cursor) -> set[int]:
        """The updated works' stored signatures: moved to their new positions, or deleted when
        the new version dropped them; the records of the deleted ones."""
        authorships = _table(Authorship)
        # No two rows of a work may hold one position, even for a moment.
        cursor.execute(
            f"UPDATE {authorships} t SET position = t.position + %s "
            "FROM bulk_written w WHERE t.work_id = w.work_id AND NOT w.inserted",
            [POSITION_OFFSET],
        )
        cursor.execute(
            f"""
            DELETE FROM {authorships} t USING bulk_stored s
            WHERE t.id = s.authorship_id
              AND NOT EXISTS (SELECT 1 FROM bulk_assigned a WHERE a.authorship_id = s.authorship_id)
            RETURNING t.author_id
            """
        )
        dropped = {row[0] for row in cursor.fetchall()}
        cursor.execute(
            f"""
            UPDATE {authorships} t
            SET position = a.position, printed_name = a.printed, name_key = a.key,
                coauthor_name = a.coauthor_name, affiliation = a.affiliation
            FROM bulk_assigned a WHERE t.id = a.authorship_id
            """
        )
        return dropped

    def _write_topics_and_versions(self, cursor) -> None:
        cursor.execute(
            f"DELETE FROM {_table(WorkTopic)} t USING bulk_written w "
            "WHERE t.work_id = w.work_id AND NOT w.inserted"
        )
        columns, select, params = record_notes.insert_columns(
            WorkTopic,
            {
                "work_id": "w.work_id",
                "topic_id": "t.id",
                "is_primary": "b.position = 0",
                "position": "b.position",
            },
            None,
        )
        cursor.execute(
            f"INSERT INTO {_table(WorkTopic)} ({columns}) SELECT {select} "
            f"FROM bulk_topic b JOIN bulk_written w ON w.arxiv_id = b.arxiv_id "
            f"JOIN {_table(Topic)} t ON t.code = b.code ORDER BY b.seq",
            params,
        )
        columns, select, params = record_notes.insert_columns(
            WorkVersion,
            {
                "work_id": "w.work_id",
                "number": "v.number",
                "submitted": "v.submitted",
                "size_kb": "v.size_kb",
            },
            None,
        )
        # Versions are history: added, never replaced or deleted.
        cursor.execute(
            f"INSERT INTO {_table(WorkVersion)} ({columns}) SELECT {select} "
            f"FROM bulk_version v JOIN bulk_written w ON w.arxiv_id = v.arxiv_id "
            f"ORDER BY v.seq ON CONFLICT DO NOTHING",
            params,
        )

    def _create_staging_tables(self) -> None:
        with connection.cursor() as cursor:
            for name, columns in _STAGING.items():
                cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} ({columns})")
            record_notes.create_staging(cursor)


# The identity column ``seq`` keeps the order rows were copied in.
_STAGING = {
    "bulk_hash": "arxiv_id text, content_hash text, snapshot_digest text",
    "bulk_line": "arxiv_id text, digest text",
    "bulk_work": (
        "seq bigint GENERATED ALWAYS AS IDENTITY, arxiv_id text, version integer, title text, "
        "abstract text, comments text, journal_ref text, doi text, report_no text, "
        "license text, primary_code text, submitted timestamptz, updated timestamptz, "
        "year integer, withdrawn boolean, kind text, person_author_count integer, "
        "author_count integer, source text, content_hash text, snapshot_digest text"
    ),
    "bulk_author": (
        "seq bigint GENERATED ALWAYS AS IDENTITY, arxiv_id text, position integer, key text, "
        "printed text, affiliation text, block_key text, coauthor_name text, is_org boolean"
    ),
    "bulk_version": (
        "seq bigint GENERATED ALWAYS AS IDENTITY, arxiv_id text, number integer, "
        "submitted timestamptz, size_kb integer"
    ),
    "bulk_topic": (
        "seq bigint GENERATED ALWAYS AS IDENTITY, arxiv_id text, code text, position integer"
    ),
    "bulk_stored": (
        "authorship_id bigint, work_id bigint, author_id bigint, key text, occurrence integer"
    ),
    "bulk_written": "arxiv_id text PRIMARY KEY, work_id bigint, inserted boolean",
    "bulk_assigned": (
        "seq bigint, work_id bigint, authorship_id bigint, author_id bigint, position integer, "
        "printed text, key text, affiliation text, block_key text, coauthor_name text, "
        "is_org boolean"
    ),
}


def _truncate_staging(cursor) -> None:
    cursor.execute(f"TRUNCATE {', '.join(_STAGING)}")


def _copy(cursor, target: str, data: bytes | Iterable[bytes]) -> None:
    """COPY text-format lines; an iterable is streamed (no 50 MB joined copy)."""
    if not data:
        return
    with cursor.copy(f"COPY {target} FROM STDIN") as copy:
        if isinstance(data, bytes):
            copy.write(data)
        else:
            for piece in data:
                if piece:
                    copy.write(piece)


def _hash_lines(records: Iterable[Prepared]) -> bytes:
    return "".join(
        f"{copy_escape(r.arxiv_id)}\t{r.content_hash}\t{r.digest}\n" for r in records
    ).encode()


def _held_lines(keys: list[list[tuple[str, str] | None]]) -> set[tuple[str, str]]:
    """Which (arXiv id, line digest) pairs name a work that holds the content that line gave."""
    data = "".join(
        f"{copy_escape(key[0])}\t{key[1]}\n" for chunk in keys for key in chunk if key
    ).encode()
    if not data:
        return set()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE bulk_line")
        _copy(cursor, "bulk_line (arxiv_id, digest)", data)
        cursor.execute(
            f"""
            SELECT l.arxiv_id, l.digest FROM bulk_line l
            JOIN {_table(Work)} w ON w.arxiv_id = l.arxiv_id
            WHERE w.snapshot_digest = md5(l.digest || w.content_hash)
            """
        )
        return set(cursor.fetchall())


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


# -- streaming -----------------------------------------------------------------


def _line_chunks(lines: Iterable[bytes], size: int) -> Iterator[tuple[int, list[bytes]]]:
    """(number of the first line, lines) for consecutive chunks of the input."""
    iterator = iter(lines)
    first = 1
    while chunk := list(itertools.islice(iterator, size)):
        yield first, chunk
        first += len(chunk)


def _groups(chunks: Iterator, lines: int) -> Iterator[list]:
    """Consecutive chunks gathered until they hold at least ``lines`` lines."""
    group, held = [], 0
    for chunk in chunks:
        group.append(chunk)
        held += len(chunk[1])
        if held >= lines:
            yield group
            group, held = [], 0
    if group:
        yield group


def _parallel(
    chunks: Iterator[tuple[int, list[bytes]]],
    workers: int,
    depth: int,
    encode: Callable[[], bool],
) -> Iterator[list[Prepared | RecordError]]:
    """Prepared chunks, in input order, from ``workers`` processes.

    From the fork server (`bzpeer.lib.processes`), not forked from here: a child
    forked from here would share this process's database socket. At most ``depth``
    chunks are in flight, so a slow database holds the readers back instead of
    filling memory.
    """
    context = processes.worker_context()
    # The task (works.prepare) needs neither Django's settings nor its models: the workers
    # only end with this process.
    pool = context.Pool(workers, initializer=processes.exit_with, initargs=(os.getpid(),))
    pending: deque = deque()
    try:
        for first_line, chunk in chunks:
            pending.append(pool.apply_async(prepare_lines_in_worker, (first_line, chunk, encode())))
            if len(pending) >= depth:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()
    finally:
        # Stopped early too (a failed batch closes this generator), the workers finish the
        # chunks they were given before the pool closes. Not Pool.terminate(): with a chunk
        # half-written to a worker's pipe, its task thread blocks on the pipe for ever once the
        # worker is killed, and the load hangs instead of reporting its error.
        for result in pending:
            result.wait()
        pool.close()
        pool.join()


@contextmanager
def _fewer_gc_passes():
    """Millions of short-lived records trigger the cyclic collector constantly;
    they hold no cycles worth collecting during the load."""
    before = gc.get_threshold()
    gc.set_threshold(100_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*before)
