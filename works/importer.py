"""Upsert parsed arXiv records into the database, in batches, idempotently.

The importer works set-based on batches of records: one query to find which works exist, one to
resolve author names, bulk inserts for the rest. Importing the same file twice changes nothing:
each work carries a hash of its imported content, and an unchanged record is skipped before
anything is written. The rows themselves are defined once, in works.rows; the PostgreSQL bulk
loader (works.bulk) writes the same rows through COPY.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

from django.db import transaction
from django.db.models import F

from works import resolution, rows
from works.arxiv.records import ParsedRecord, RecordError
from works.changes import authorships_changed
from works.clustering import link_signatures
from works.models import AuthorRecord, Authorship, RecordEvent, Topic, Work, WorkTopic, WorkVersion
from works.rows import RecordRows
from works.taxonomy import topic_group, topic_name

BATCH_SIZE = 1000
MAX_VARIANTS = 50


@dataclass
class ImportStats:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RecordError] = field(default_factory=list)
    touched_author_ids: set[int] = field(default_factory=set)
    # Wall seconds of each step of a bulk load (copying, linking people, the schema put
    # back), so that an operator and the bench see where a first load's time went.
    phases: dict[str, float] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged + len(self.errors)

    def summary(self) -> str:
        return (
            f"{self.total} records: {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged, {len(self.errors)} errors"
        )

    def add(self, other: ImportStats) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.errors.extend(other.errors)
        self.touched_author_ids |= other.touched_author_ids
        for phase, seconds in other.phases.items():
            self.phases[phase] = self.phases.get(phase, 0.0) + seconds


def newest_first_wins(
    items: Iterable[ParsedRecord | RecordError], stats: ImportStats
) -> dict[str, RecordRows]:
    """Valid records' rows by arXiv id; errors counted. The same paper twice in one batch (API
    pages shift) keeps its newest copy."""
    kept: dict[str, RecordRows] = {}
    for item in items:
        record_rows = item if isinstance(item, RecordError) else rows.rows_for(item)
        if isinstance(record_rows, RecordError):
            stats.errors.append(record_rows)
            continue
        arxiv_id = record_rows.work.arxiv_id
        previous = kept.get(arxiv_id)
        if previous is not None:
            stats.unchanged += 1
            if _order(record_rows) < _order(previous):
                continue
        kept[arxiv_id] = record_rows
    return kept


def _order(record_rows: RecordRows) -> tuple[int, str]:
    return record_rows.freshness.version, record_rows.freshness.updated_iso


@dataclass
class _Plan:
    """What a batch changes: new works, and updated ones with their stored ids."""

    to_create: list[RecordRows] = field(default_factory=list)
    to_update: list[tuple[int, RecordRows]] = field(default_factory=list)

    @property
    def changed(self) -> list[RecordRows]:
        return self.to_create + [r for _, r in self.to_update]

    @property
    def updated_ids(self) -> list[int]:
        return [work_id for work_id, _ in self.to_update]


class Importer:
    """Imports batches of parsed records. Keep one per import run: it caches topics."""

    def __init__(self, *, batch_size: int = BATCH_SIZE, source_label: str = "arXiv import"):
        self.batch_size = batch_size
        self.source_label = source_label
        self._topics: dict[str, int] = {}

    def run(
        self,
        items: Iterable[ParsedRecord | RecordError],
        *,
        progress: Callable[[ImportStats], None] | None = None,
    ) -> ImportStats:
        stats = ImportStats()
        iterator: Iterator[ParsedRecord | RecordError] = iter(items)
        while batch := list(islice(iterator, self.batch_size)):
            stats.add(self.import_batch(batch))
            if progress:
                progress(stats)
        return stats

    def import_batch(self, items: list[ParsedRecord | RecordError]) -> ImportStats:
        stats = ImportStats()
        records = newest_first_wins(items, stats)
        if records:
            with transaction.atomic():
                self._write(records, stats)
        return stats

    # -- the steps of one batch ----------------------------------------------------------------

    def _write(self, records: dict[str, RecordRows], stats: ImportStats) -> None:
        plan = self._plan(records, stats)
        changed = plan.changed
        if not changed:
            return
        self._ensure_topics({t.code for r in changed for t in r.topics})
        work_ids = self._save_works(plan, stats)
        signatures = SignatureUpdate.plan(changed, work_ids, plan.updated_ids)
        # Kept signatures stay on their records; an organisation's new one goes to the
        # organisation's record; a person's is linked by the evidence (works.clustering).
        signatures.save(resolution.records_for([s for _, s in signatures.new if s.is_organisation]))
        # Topics first: linking reads the works' categories as evidence.
        self._replace_topics_add_versions(changed, work_ids, plan.updated_ids)
        link_signatures(pending_signatures(work_ids.values()))
        touched = note_variants_and_events(work_ids.values(), source_label=self.source_label)
        dropped = set(signatures.dropped.values())
        stats.touched_author_ids |= set(authorships_changed(touched | dropped))

    def _plan(self, records: dict[str, RecordRows], stats: ImportStats) -> _Plan:
        plan = _Plan()
        existing = Work.objects.filter(arxiv_id__in=records).values_list(
            "arxiv_id", "id", "version", "updated", "content_hash"
        )
        stored = {row[0]: row[1:] for row in existing}
        for arxiv_id, record_rows in records.items():
            if arxiv_id not in stored:
                plan.to_create.append(record_rows)
                continue
            work_id, version, updated, digest = stored[arxiv_id]
            if digest == record_rows.work.content_hash or (
                record_rows.freshness.is_older_than(version=version, updated=updated)
            ):
                stats.unchanged += 1
            else:
                plan.to_update.append((work_id, record_rows))
        return plan

    def _save_works(self, plan: _Plan, stats: ImportStats) -> dict[str, int]:
        """Insert the new works and update the changed ones; arXiv id → work id."""
        new_works = [self._work_from(r.work) for r in plan.to_create]
        Work.objects.bulk_create(new_works, batch_size=500)
        if not all(w.pk for w in new_works):  # SQLite before 3.35 gives no ids back
            ids = dict(
                Work.objects.filter(arxiv_id__in=[w.arxiv_id for w in new_works]).values_list(
                    "arxiv_id", "id"
                )
            )
            for work in new_works:
                work.pk = work.id = ids[work.arxiv_id]
        work_ids = {w.arxiv_id: w.pk for w in new_works}
        stats.created += len(new_works)
        updated_works = []
        for work_id, record_rows in plan.to_update:
            work = self._work_from(record_rows.work)
            work.pk = work.id = work_id
            updated_works.append(work)
            work_ids[work.arxiv_id] = work_id
        Work.objects.bulk_update(updated_works, fields=UPDATABLE_FIELDS, batch_size=500)
        stats.updated += len(updated_works)
        return work_ids

    def _replace_topics_add_versions(
        self, changed: list[RecordRows], work_ids: dict[str, int], updated_ids: list[int]
    ) -> None:
        """A work's topics are replaced; its versions are history: only new ones are added."""
        WorkTopic.objects.filter(work_id__in=updated_ids).delete()
        existing_versions = set(
            WorkVersion.objects.filter(work_id__in=updated_ids).values_list("work_id", "number")
        )
        work_topics, versions = [], []
        for record_rows in changed:
            work_id = work_ids[record_rows.work.arxiv_id]
            work_topics += [
                WorkTopic(
                    work_id=work_id,
                    topic_id=self._topics[t.code],
                    is_primary=t.is_primary,
                    position=t.position,
                )
                for t in record_rows.topics
            ]
            versions += [
                WorkVersion(
                    work_id=work_id, number=v.number, submitted=v.submitted, size_kb=v.size_kb
                )
                for v in record_rows.versions
                if (work_id, v.number) not in existing_versions
            ]
        WorkTopic.objects.bulk_create(work_topics, batch_size=2000)
        WorkVersion.objects.bulk_create(versions, batch_size=2000, ignore_conflicts=True)

    def _work_from(self, work: rows.WorkRow) -> Work:
        fields = work._asdict()
        fields["primary_topic_id"] = self._topics[fields.pop("primary_category")]
        return Work(**fields)

    def _ensure_topics(self, codes: set[str]) -> None:
        missing = codes - self._topics.keys()
        if not missing:
            return
        Topic.objects.bulk_create(
            [Topic(code=c, name=topic_name(c), group=topic_group(c)) for c in missing],
            ignore_conflicts=True,
        )
        self._topics.update(Topic.objects.filter(code__in=missing).values_list("code", "id"))


# Added to the positions of an updated work's signatures before they take their new ones, so
# that no two rows of a work ever hold one position (the unique constraint is immediate).
POSITION_OFFSET = 1_000_000


@dataclass
class SignatureUpdate:
    """How a batch's signatures land: kept signatures updated in place, new ones inserted,
    those a new version dropped deleted.

    A signature of an updated work is found again by (work, name key, occurrence): it keeps
    its id and its record, so corrections made to it (and any later clustering) stick.
    """

    updated_work_ids: list[int]
    kept: list[Authorship] = field(default_factory=list)
    new: list[tuple[Authorship, rows.Signature]] = field(default_factory=list)
    dropped: dict[int, int] = field(default_factory=dict)  # authorship id → record id

    @classmethod
    def plan(
        cls,
        changed: list[RecordRows],
        work_ids: dict[str, int],
        updated_ids: list[int],
    ) -> SignatureUpdate:
        update = cls(updated_work_ids=updated_ids)
        stored = stored_signatures(updated_ids)
        for record_rows in changed:
            work_id = work_ids[record_rows.work.arxiv_id]
            for position, signature in enumerate(record_rows.signatures):
                found = stored.get((work_id, signature.name_key))
                row = _authorship(work_id, position, signature)
                if found:
                    row.pk, row.author_id = found.popleft()
                    update.kept.append(row)
                else:
                    update.new.append((row, signature))
        update.dropped = {pk: author for left in stored.values() for pk, author in left}
        return update

    def save(self, organisation_ids: dict[str, int]) -> None:
        """Write the batch's signatures. New ones of organisations go to the records of their
        names; new ones of people wait, without a record, to be linked."""
        for row, signature in self.new:
            row.author_id = organisation_ids.get(signature.name_key)
        if self.updated_work_ids:
            Authorship.objects.filter(work_id__in=self.updated_work_ids).update(
                position=F("position") + POSITION_OFFSET
            )
        Authorship.objects.filter(pk__in=list(self.dropped)).delete()
        Authorship.objects.bulk_update(
            self.kept,
            ["position", "printed_name", "name_key", "coauthor_name", "affiliation"],
            batch_size=1000,
        )
        Authorship.objects.bulk_create([row for row, _ in self.new], batch_size=2000)


def stored_signatures(work_ids: list[int]) -> dict[tuple[int, str], deque[tuple[int, int]]]:
    """(work, name key) → the stored signatures' (id, record id), in position order."""
    stored: dict[tuple[int, str], deque[tuple[int, int]]] = {}
    rows_ = (
        Authorship.objects.filter(work_id__in=work_ids)
        .order_by("work_id", "position")
        .values_list("id", "work_id", "name_key", "author_id")
    )
    for pk, work_id, key, author_id in rows_:
        stored.setdefault((work_id, key), deque()).append((pk, author_id))
    return stored


def _authorship(work_id: int, position: int, signature: rows.Signature) -> Authorship:
    return Authorship(
        work_id=work_id,
        position=position,
        printed_name=signature.printed_name,
        name_key=signature.name_key,
        block_key=signature.block_key if signature.is_person else "",
        coauthor_name=signature.coauthor_name,
        affiliation=signature.affiliation,
    )


def pending_signatures(work_ids: Iterable[int]) -> list[int]:
    """The person signatures of these works that have no record yet."""
    return list(
        Authorship.objects.filter(work_id__in=list(work_ids), author__isnull=True)
        .exclude(block_key="")
        .values_list("id", flat=True)
    )


def note_variants_and_events(work_ids: Iterable[int], *, source_label: str) -> set[int]:
    """The names each record of these works was printed as (at most 50, in order of first
    appearance) and one import event per record; the records' ids."""
    printed_by_record: dict[int, list[str]] = {}
    for author_id, printed in (
        Authorship.objects.filter(work_id__in=list(work_ids), author__isnull=False)
        .order_by("work_id", "position")
        .values_list("author_id", "printed_name")
    ):
        printed_by_record.setdefault(author_id, []).append(printed)
    if not printed_by_record:
        return set()
    records = AuthorRecord.objects.in_bulk(list(printed_by_record))
    for record_id, printed_names in printed_by_record.items():
        record = records[record_id]
        variants = list(record.variants)
        for printed in printed_names:
            if printed not in variants and len(variants) < MAX_VARIANTS:
                variants.append(printed)
        record.variants = variants
    AuthorRecord.objects.bulk_update(records.values(), ["variants"], batch_size=1000)
    RecordEvent.objects.bulk_create(
        [
            RecordEvent(
                record_id=record_id,
                kind=RecordEvent.Kind.IMPORT,
                summary=f"{source_label}: {len(set(printed))} work(s) added or updated",
                data={"works": len(printed)},
            )
            for record_id, printed in printed_by_record.items()
        ],
        batch_size=1000,
    )
    return set(printed_by_record)


# Every column of a work that a newer version may change (all but the id and the stamps).
UPDATABLE_FIELDS = [
    "version",
    "title",
    "abstract",
    "comments",
    "journal_ref",
    "doi",
    "report_no",
    "license",
    "primary_topic",
    "submitted",
    "updated",
    "year",
    "withdrawn",
    "kind",
    "person_author_count",
    "author_count",
    "source",
    "content_hash",
]
