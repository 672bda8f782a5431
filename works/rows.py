"""A parsed arXiv record's database rows, defined once.

Both import paths store exactly these rows: the ORM importer (works.importer) turns them into
model instances, the PostgreSQL bulk loader (works.bulk) only encodes them for COPY. What a
record may hold (validation), what counts as a change (the content hash), which authors are
people and how their names key all live here. Pure: no Django, no database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from functools import lru_cache
from typing import NamedTuple

from django.utils.text import slugify  # a pure function: no settings, no database

from works import taxonomy
from works.arxiv import names
from works.arxiv.records import ParsedAuthor, ParsedRecord, ParsedVersion, RecordError
from works.identity import names as identity_names

MAX_ARXIV_ID_LENGTH = 40
MAX_TITLE_LENGTH = 10_000
MAX_ABSTRACT_LENGTH = 100_000
MAX_NAME_LENGTH = 300
MAX_PRINTED_LENGTH = 500
MAX_SLUG_BASE_LENGTH = 100
MAX_LICENSE_LENGTH = 300

PREPRINT, ARTICLE, WITHDRAWN = "preprint", "article", "withdrawn"


class WorkRow(NamedTuple):
    arxiv_id: str
    version: int
    title: str
    abstract: str
    comments: str
    journal_ref: str
    doi: str
    report_no: str
    license: str
    primary_category: str
    submitted: dt.datetime | None
    updated: dt.datetime | None
    year: int | None
    withdrawn: bool
    kind: str
    person_author_count: int
    author_count: int
    source: str
    content_hash: str


class Signature(NamedTuple):
    """One author as printed on a paper, with what matching and new records need.

    The position is the signature's index in ``RecordRows.signatures``.
    """

    printed_name: str
    display_name: str
    name_key: str
    search_key: str
    base_slug: str
    affiliation: str
    is_organisation: bool
    block_key: str  # "" when the name is not one person (works.identity.names)
    # The printed name as a co-author (works.identity.names.coauthor_name), "" when none
    coauthor_name: str

    @property
    def is_person(self) -> bool:
        """A person is clustered into records; an organisation gets one record per name; any
        other name ("Plato", a lone surname) stays on the work without a record."""
        return bool(self.block_key) and not self.is_organisation


class VersionRow(NamedTuple):
    number: int
    submitted: dt.datetime
    size_kb: int | None


class TopicRow(NamedTuple):
    code: str
    position: int

    @property
    def is_primary(self) -> bool:
        return self.position == 0


class Freshness(NamedTuple):
    """What decides between two copies of a work: keep the newest, never go back."""

    version: int
    updated_iso: str  # "" when unknown
    has_history: bool  # the source lists versions (or is the API): its version is reliable

    def is_older_than(self, *, version: int, updated: dt.datetime | None) -> bool:
        """Whether this copy is older than the stored work (an older version changes nothing)."""
        if self.updated_iso and updated and self.updated_iso[:10] < updated.date().isoformat():
            return True
        return self.has_history and self.version < version


class RecordRows(NamedTuple):
    work: WorkRow
    signatures: tuple[Signature, ...]
    versions: tuple[VersionRow, ...]
    topics: tuple[TopicRow, ...]
    freshness: Freshness


def validate(record: ParsedRecord) -> str | None:
    """Why a parsed record cannot be stored, or None."""
    if not record.arxiv_id:
        return "no arXiv id"
    if len(record.arxiv_id) > MAX_ARXIV_ID_LENGTH:
        return "arXiv id too long"
    if record.title is None or not record.title.strip():
        return "no title"
    if len(record.title) > MAX_TITLE_LENGTH:
        return f"title too long ({len(record.title):,} characters)"
    if len(record.abstract) > MAX_ABSTRACT_LENGTH:
        return f"abstract too long ({len(record.abstract):,} characters)"
    if not record.categories:
        return "no category"
    for code in record.categories:
        # A code that is no category (a slash, markup, 40 characters) would break every page
        # linking to its topic, or a whole batch on PostgreSQL (the column holds 32).
        if not taxonomy.is_valid_code(code):
            return f"bad category code {code[:40]!r}"
    return None


def content_hash(record: ParsedRecord) -> str:
    """A fingerprint of everything the importer stores for a work."""
    history = record.versions
    dates = [iso(v.submitted) for v in history]
    # The first and latest dates are most often the versions' own: formatted once.
    first = history[0].submitted if history else None
    latest = history[-1].submitted if history else None
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
        dates[0] if first is not None and record.submitted is first else iso(record.submitted),
        dates[-1] if latest is not None and record.updated is latest else iso(record.updated),
        "|".join(record.categories),
        "|".join([f"{a.printed}@{a.affiliation}" for a in record.authors]),
        "|".join([f"{v.number}:{day}:{v.size_kb}" for v, day in zip(history, dates, strict=True)]),
    ]
    return hashlib.md5("\x1f".join(parts).encode(), usedforsecurity=False).hexdigest()


def iso(value: dt.datetime | None) -> str:
    return value.isoformat() if value else ""


def freshness(record: ParsedRecord) -> Freshness:
    return Freshness(
        version=record.version,
        updated_iso=iso(record.updated),
        has_history=bool(record.versions or record.source == "api"),
    )


def work_kind(*, withdrawn: bool, journal_ref: str, doi: str) -> str:
    if withdrawn:
        return WITHDRAWN
    if journal_ref or doi:
        return ARTICLE
    return PREPRINT


@lru_cache(maxsize=100_000)
def signature(author: ParsedAuthor) -> Signature | None:
    """How one printed author is stored, or None for a name that is no author ("et al.").

    Cached: the same names recur across millions of papers.
    """
    display = names.display_name(author)[:MAX_NAME_LENGTH]
    if names.is_junk_name(display):
        return None
    key = names.name_key(display)[:MAX_NAME_LENGTH]
    if not key:
        return None
    printed = author.printed[:MAX_PRINTED_LENGTH] or display
    is_organisation = names.is_organisation(display)
    parts = identity_names.parse_name(printed)
    return Signature(
        printed_name=printed,
        display_name=display,
        name_key=key,
        search_key=names.order_free_key(display)[:MAX_NAME_LENGTH],
        base_slug=slug_base(display),
        affiliation=author.affiliation,
        is_organisation=is_organisation,
        block_key="" if is_organisation or parts is None else parts.block_key[:120],
        # What the linker would parse from the stored printed name, organisation or not.
        coauthor_name=identity_names.parts_as_coauthor(parts)[1] or "",
    )


def slug_base(display_name: str) -> str:
    """The slug a new record of this name wants (homonyms then get -2, -3...)."""
    return slugify(names.latex_to_unicode(display_name))[:MAX_SLUG_BASE_LENGTH] or "author"


def versions_of(record: ParsedRecord) -> list[ParsedVersion]:
    """The versions a record lists, or those its dates imply (the API gives no history)."""
    if record.versions:
        return record.versions
    versions = []
    if record.submitted:
        versions.append(ParsedVersion(number=1, submitted=record.submitted))
    if record.version > 1 and record.updated:
        versions.append(ParsedVersion(number=record.version, submitted=record.updated))
    return versions


def rows_for(record: ParsedRecord) -> RecordRows | RecordError:
    """Every row a valid record becomes, or the error that skips it."""
    problem = validate(record)
    if problem:
        return RecordError(where=record.arxiv_id or "record", reason=problem)
    signatures = tuple([s for s in map(signature, record.authors) if s is not None])
    doi = " ".join(record.dois)
    updated = record.updated or record.submitted
    work = WorkRow(
        arxiv_id=record.arxiv_id,
        version=max(record.version, max((v.number for v in record.versions), default=1)),
        title=record.title,
        abstract=record.abstract,
        comments=record.comments,
        journal_ref=record.journal_ref,
        doi=doi,
        report_no=record.report_no,
        license=record.license[:MAX_LICENSE_LENGTH],
        primary_category=record.primary_category,
        submitted=record.submitted,
        updated=updated,
        year=updated.year if updated else None,
        withdrawn=record.withdrawn,
        kind=work_kind(withdrawn=record.withdrawn, journal_ref=record.journal_ref, doi=doi),
        person_author_count=sum([s.is_person for s in signatures]),
        author_count=len(signatures),
        source=record.source,
        content_hash=content_hash(record),
    )
    return RecordRows(
        work=work,
        signatures=signatures,
        versions=tuple([VersionRow(v.number, v.submitted, v.size_kb) for v in versions_of(record)]),
        topics=tuple([TopicRow(code, position) for position, code in enumerate(record.categories)]),
        freshness=freshness(record),
    )
