"""Upsert parsed arXiv records into the database, in batches, idempotently.

The importer works set-based on batches of records: one query to find which
works exist, one to resolve author names, bulk inserts for the rest. Importing
the same file twice changes nothing: each work carries a hash of its imported
content, and an unchanged record is skipped before anything is written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

from django.db import transaction
from django.db.models import Count, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.text import slugify

from works.arxiv import names
from works.arxiv.records import ParsedAuthor, ParsedRecord, RecordError
from works.models import AuthorRecord, Authorship, RecordEvent, Topic, Work, WorkTopic, WorkVersion
from works.taxonomy import topic_group, topic_name

BATCH_SIZE = 1000
MAX_TITLE_LENGTH = 10_000
MAX_ABSTRACT_LENGTH = 100_000
MAX_NAME_LENGTH = 300


@dataclass
class ImportStats:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RecordError] = field(default_factory=list)
    touched_author_ids: set[int] = field(default_factory=set)
    touched_work_ids: set[int] = field(default_factory=set)

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
        self.touched_work_ids |= other.touched_work_ids


@dataclass(frozen=True)
class ResolvedAuthor:
    printed: str
    display: str
    key: str
    is_organisation: bool
    affiliation: str


def content_hash(record: ParsedRecord) -> str:
    """A fingerprint of everything the importer stores for a work."""
    parts = [
        record.arxiv_id,
        str(record.version),
        record.title,
        record.abstract,
        record.comments,
        record.journal_ref,
        " ".join(record.dois),
        record.report_no,
        record.license,
        "1" if record.withdrawn else "0",
        _iso(record.submitted),
        _iso(record.updated),
        "|".join(record.categories),
        "|".join(f"{a.printed}@{a.affiliation}" for a in record.authors),
        "|".join(f"{v.number}:{_iso(v.submitted)}:{v.size_kb}" for v in record.versions),
    ]
    return hashlib.md5("\x1f".join(parts).encode(), usedforsecurity=False).hexdigest()


def _iso(value: dt.datetime | None) -> str:
    return value.isoformat() if value else ""


def validate(record: ParsedRecord) -> str | None:
    """Why a parsed record cannot be stored, or None."""
    if not record.arxiv_id:
        return "no arXiv id"
    if len(record.arxiv_id) > 40:
        return "arXiv id too long"
    if record.title is None or not record.title.strip():
        return "no title"
    if len(record.title) > MAX_TITLE_LENGTH:
        return f"title too long ({len(record.title):,} characters)"
    if len(record.abstract) > MAX_ABSTRACT_LENGTH:
        return f"abstract too long ({len(record.abstract):,} characters)"
    if not record.categories:
        return "no category"
    return None


def resolve_authors(authors: list[ParsedAuthor]) -> list[ResolvedAuthor]:
    resolved = []
    for author in authors:
        display = names.display_name(author)[:MAX_NAME_LENGTH]
        if names.is_junk_name(display):
            continue
        key = names.name_key(display)[:MAX_NAME_LENGTH]
        if not key:
            continue
        resolved.append(
            ResolvedAuthor(
                printed=author.printed[:500] or display,
                display=display,
                key=key,
                is_organisation=names.is_organisation(display),
                affiliation=author.affiliation,
            )
        )
    return resolved


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
        records: dict[str, ParsedRecord] = {}
        for item in items:
            if isinstance(item, RecordError):
                stats.errors.append(item)
                continue
            problem = validate(item)
            if problem:
                stats.errors.append(RecordError(where=item.arxiv_id or "record", reason=problem))
                continue
            previous = records.get(item.arxiv_id)
            # The same paper twice in one batch (API pages shift): keep the newest.
            if previous is None or (item.version, _iso(item.updated)) >= (
                previous.version,
                _iso(previous.updated),
            ):
                if previous is not None:
                    stats.unchanged += 1
                records[item.arxiv_id] = item
            else:
                stats.unchanged += 1
        if not records:
            return stats
        with transaction.atomic():
            self._write(records, stats)
        return stats

    # -- internals -----------------------------------------------------------

    def _write(self, records: dict[str, ParsedRecord], stats: ImportStats) -> None:
        hashes = {arxiv_id: content_hash(r) for arxiv_id, r in records.items()}
        existing = {
            row["arxiv_id"]: row
            for row in Work.objects.filter(arxiv_id__in=records).values(
                "id", "arxiv_id", "version", "updated", "content_hash"
            )
        }
        to_create: list[ParsedRecord] = []
        to_update: list[tuple[int, ParsedRecord]] = []
        for arxiv_id, record in records.items():
            row = existing.get(arxiv_id)
            if row is None:
                to_create.append(record)
            elif row["content_hash"] == hashes[arxiv_id] or _is_older(record, row):
                stats.unchanged += 1
            else:
                to_update.append((row["id"], record))
        if not to_create and not to_update:
            return

        changed = to_create + [r for _, r in to_update]
        self._ensure_topics({c for r in changed for c in r.categories})
        resolved = {r.arxiv_id: resolve_authors(r.authors) for r in changed}
        author_ids = self._resolve_records([a for authors in resolved.values() for a in authors])

        now = timezone.now()
        new_works = [
            self._work_from(record, hashes[record.arxiv_id], resolved) for record in to_create
        ]
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

        if to_update:
            updated_works = []
            for work_id, record in to_update:
                work = self._work_from(record, hashes[record.arxiv_id], resolved)
                work.pk = work.id = work_id
                updated_works.append(work)
                work_ids[record.arxiv_id] = work_id
            Work.objects.bulk_update(updated_works, fields=_UPDATABLE_FIELDS, batch_size=500)
            stats.updated += len(updated_works)

        updated_ids = [work_id for work_id, _ in to_update]
        # A correction or a merge moved some authorships off their name's default
        # record: keep those assignments when a newer version is imported.
        kept_assignments = self._current_assignments(updated_ids)
        # Authors a newer version dropped lose a work: their counts and edges change too.
        previous_author_ids = set(
            Authorship.objects.filter(work_id__in=updated_ids).values_list("author_id", flat=True)
        )
        Authorship.objects.filter(work_id__in=updated_ids).delete()
        WorkTopic.objects.filter(work_id__in=updated_ids).delete()
        existing_versions = set(
            WorkVersion.objects.filter(work_id__in=updated_ids).values_list("work_id", "number")
        )

        authorships, work_topics, versions = [], [], []
        touched_authors: dict[int, list[str]] = {}
        for record in changed:
            work_id = work_ids[record.arxiv_id]
            for position, author in enumerate(resolved[record.arxiv_id]):
                author_id = kept_assignments.get((work_id, author.key)) or author_ids[author.key]
                authorships.append(
                    Authorship(
                        work_id=work_id,
                        author_id=author_id,
                        position=position,
                        printed_name=author.printed,
                        affiliation=author.affiliation,
                    )
                )
                touched_authors.setdefault(author_id, []).append(author.printed)
            for position, code in enumerate(record.categories):
                work_topics.append(
                    WorkTopic(
                        work_id=work_id,
                        topic_id=self._topics[code],
                        is_primary=position == 0,
                        position=position,
                    )
                )
            for version in _versions_of(record):
                if (work_id, version.number) not in existing_versions:
                    versions.append(
                        WorkVersion(
                            work_id=work_id,
                            number=version.number,
                            submitted=version.submitted,
                            size_kb=version.size_kb,
                        )
                    )
        Authorship.objects.bulk_create(authorships, batch_size=2000)
        WorkTopic.objects.bulk_create(work_topics, batch_size=2000)
        WorkVersion.objects.bulk_create(versions, batch_size=2000, ignore_conflicts=True)

        self._refresh_records(touched_authors, now)
        dropped_author_ids = previous_author_ids - set(touched_authors)
        refresh_record_counts(sorted(dropped_author_ids))
        stats.touched_author_ids |= set(touched_authors) | dropped_author_ids
        stats.touched_work_ids |= set(work_ids.values())

    def _work_from(self, record: ParsedRecord, digest: str, resolved) -> Work:
        doi = " ".join(record.dois)
        authors = resolved[record.arxiv_id]
        return Work(
            arxiv_id=record.arxiv_id,
            version=max(record.version, max((v.number for v in record.versions), default=1)),
            title=record.title,
            abstract=record.abstract,
            comments=record.comments,
            journal_ref=record.journal_ref,
            doi=doi,
            report_no=record.report_no,
            license=record.license[:300],
            primary_topic_id=self._topics[record.primary_category],
            submitted=record.submitted,
            updated=record.updated or record.submitted,
            year=(record.updated or record.submitted).year
            if (record.updated or record.submitted)
            else None,
            withdrawn=record.withdrawn,
            kind=Work.kind_for(withdrawn=record.withdrawn, journal_ref=record.journal_ref, doi=doi),
            person_author_count=sum(1 for a in authors if not a.is_organisation),
            author_count=len(authors),
            source=record.source,
            content_hash=digest,
        )

    def _ensure_topics(self, codes: set[str]) -> None:
        missing = codes - self._topics.keys()
        if not missing:
            return
        Topic.objects.bulk_create(
            [Topic(code=c, name=topic_name(c), group=topic_group(c)) for c in missing],
            ignore_conflicts=True,
        )
        self._topics.update(Topic.objects.filter(code__in=missing).values_list("code", "id"))

    def _resolve_records(self, authors: list[ResolvedAuthor]) -> dict[str, int]:
        """Name key → author record id, creating the records that don't exist.

        First rule of author resolution: the same normalised name is the same
        record. Initials-only names have their own keys ("z zhang"), so they are
        never merged into a full name. Records made by a correction are skipped,
        and a merged record resolves to the record it was merged into.
        """
        by_key: dict[str, ResolvedAuthor] = {}
        for author in authors:
            by_key.setdefault(author.key, author)
        found: dict[str, int] = {}
        for key, record_id, merged_into in (
            AuthorRecord.objects.filter(name_key__in=by_key, resolvable=True)
            .order_by("id")
            .values_list("name_key", "id", "merged_into_id")
        ):
            found.setdefault(key, merged_into or record_id)
        missing = [by_key[k] for k in by_key if k not in found]
        if missing:
            slugs = self._free_slugs(missing)
            AuthorRecord.objects.bulk_create(
                [
                    AuthorRecord(
                        slug=slugs[a.key],
                        display_name=a.display,
                        name_key=a.key,
                        search_key=names.order_free_key(a.display)[:300],
                        kind=AuthorRecord.Kind.ORGANISATION
                        if a.is_organisation
                        else AuthorRecord.Kind.PERSON,
                        # Built from a trusted public source with a work: L1.
                        verification_level=1,
                        variants=[],
                    )
                    for a in missing
                ],
                batch_size=1000,
            )
            for key, record_id in AuthorRecord.objects.filter(
                name_key__in=[a.key for a in missing], resolvable=True, merged_into__isnull=True
            ).values_list("name_key", "id"):
                found.setdefault(key, record_id)
        return found

    def _free_slugs(self, authors: list[ResolvedAuthor]) -> dict[str, str]:
        wanted = {
            a.key: (slugify(names.latex_to_unicode(a.display)) or "author")[:100] for a in authors
        }
        taken = set(
            AuthorRecord.objects.filter(slug__in=set(wanted.values())).values_list(
                "slug", flat=True
            )
        )
        slugs = {}
        for key, base in wanted.items():
            slug = base
            if slug in taken:
                slug = next_free_slug(base, also_taken=taken)
            taken.add(slug)
            slugs[key] = slug
        return slugs

    def _current_assignments(self, work_ids: list[int]) -> dict[tuple[int, str], int]:
        if not work_ids:
            return {}
        rows = Authorship.objects.filter(work_id__in=work_ids).values_list(
            "work_id", "printed_name", "author_id", "author__name_key", "author__resolvable"
        )
        kept = {}
        for work_id, printed, author_id, author_key, resolvable in rows:
            key = names.name_key(printed)
            if not resolvable or author_key != key:
                kept[(work_id, key)] = author_id
        return kept

    def _refresh_records(self, touched: dict[int, list[str]], now) -> None:
        if not touched:
            return
        ids = list(touched)
        records = AuthorRecord.objects.in_bulk(ids)
        for record_id, printed_names in touched.items():
            record = records[record_id]
            variants = list(record.variants)
            for printed in printed_names:
                if printed not in variants and len(variants) < 50:
                    variants.append(printed)
            record.variants = variants
            record.works_changed_at = now
        AuthorRecord.objects.bulk_update(
            records.values(), ["variants", "works_changed_at"], batch_size=1000
        )
        refresh_record_counts(ids)
        RecordEvent.objects.bulk_create(
            [
                RecordEvent(
                    record_id=record_id,
                    kind=RecordEvent.Kind.IMPORT,
                    summary=f"{self.source_label}: {len(set(printed))} work(s) added or updated",
                    data={"works": len(printed)},
                )
                for record_id, printed in touched.items()
            ],
            batch_size=1000,
        )


_UPDATABLE_FIELDS = [
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


def _is_older(record: ParsedRecord, row: dict) -> bool:
    """An older version of a work changes nothing."""
    if record.updated and row["updated"] and record.updated.date() < row["updated"].date():
        return True
    return bool(record.versions or record.source == "api") and record.version < row["version"]


def _versions_of(record: ParsedRecord):
    if record.versions:
        return record.versions
    from works.arxiv.records import ParsedVersion

    versions = []
    if record.submitted:
        versions.append(ParsedVersion(number=1, submitted=record.submitted))
    if record.version > 1 and record.updated:
        versions.append(ParsedVersion(number=record.version, submitted=record.updated))
    return versions


def next_free_slug(base: str, *, also_taken: set[str] = frozenset()) -> str:
    """``base-2``, ``base-3``… the first not taken (homonyms get a suffix).

    ``also_taken`` holds slugs picked earlier in the same batch, not yet saved.
    """
    taken = set(
        AuthorRecord.objects.filter(Q(slug=base) | Q(slug__startswith=f"{base}-")).values_list(
            "slug", flat=True
        )
    )
    taken |= also_taken
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def refresh_record_counts(record_ids: list[int]) -> None:
    """Recount works and topics, and take the latest affiliation, set-based."""
    for start in range(0, len(record_ids), 5000):
        chunk = record_ids[start : start + 5000]
        works = (
            Authorship.objects.filter(author=OuterRef("pk"))
            .values("author")
            .annotate(n=Count("work", distinct=True))
            .values("n")
        )
        topics = (
            WorkTopic.objects.filter(work__authorships__author=OuterRef("pk"))
            .values("work__authorships__author")
            .annotate(n=Count("topic", distinct=True))
            .values("n")
        )
        affiliation = (
            Authorship.objects.filter(author=OuterRef("pk"))
            .exclude(affiliation="")
            .order_by("-work__updated", "-work_id")
            .values("affiliation")[:1]
        )
        # Coalesce: a record whose works all moved away has no rows left.
        AuthorRecord.objects.filter(id__in=chunk).update(
            work_count=Coalesce(Subquery(works), 0),
            topic_count=Coalesce(Subquery(topics), 0),
            affiliation=Coalesce(Subquery(affiliation), Value("")),
        )
