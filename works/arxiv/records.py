"""The one normalised record type every arXiv format is parsed into.

Parsers (``works.arxiv.parsers``) turn bytes from the Atom query API, OAI-PMH
(``arXiv`` and ``arXivRaw``) and the metadata snapshot (JSON lines) into these
dataclasses. They know nothing about the database; ``works.importer`` does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


class ArxivFormatError(ValueError):
    """A document (or one record in it) that cannot be read as arXiv metadata."""


class ArxivApiError(ArxivFormatError):
    """The query API answered with its error feed (an entry titled ``Error``)."""


class OaiError(ArxivFormatError):
    """An OAI-PMH ``<error code=...>`` other than ``noRecordsMatch``."""

    def __init__(self, code: str, message: str):
        super().__init__(f"OAI-PMH error {code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ParsedAuthor:
    """One author as printed on one paper.

    ``printed`` is the name exactly as the source printed it (whitespace
    collapsed). ``keyname``/``forenames``/``suffix`` are filled when the source
    splits names (OAI ``arXiv``, snapshot ``authors_parsed``); otherwise they
    are derived from the printed form.
    """

    printed: str
    keyname: str = ""
    forenames: str = ""
    suffix: str = ""
    affiliation: str = ""


@dataclass(frozen=True)
class ParsedVersion:
    number: int
    submitted: dt.datetime  # UTC, tz-aware
    size_kb: int | None = None


@dataclass
class ParsedRecord:
    arxiv_id: str  # base id without version: "2501.12948", "hep-th/9901001"
    version: int  # latest version the source knows (1 when unknown)
    title: str  # whitespace collapsed, entities decoded once, LaTeX kept
    abstract: str
    authors: list[ParsedAuthor]
    categories: list[str]  # primary first, no duplicates
    submitted: dt.datetime | None  # v1, UTC
    updated: dt.datetime | None  # latest version, UTC
    versions: list[ParsedVersion] = field(default_factory=list)  # may be empty (API)
    comments: str = ""
    journal_ref: str = ""
    dois: list[str] = field(default_factory=list)
    report_no: str = ""
    license: str = ""
    withdrawn: bool = False
    source: str = ""  # "api", "oai-arXiv", "oai-arXivRaw", "snapshot"
    datestamp: dt.date | None = None  # OAI header datestamp / snapshot update_date

    @property
    def primary_category(self) -> str:
        return self.categories[0] if self.categories else ""


@dataclass
class RecordError:
    """A record that was reported and skipped; the rest of the batch lands."""

    where: str  # an arXiv id when known, else "line 17" / "entry 3"
    reason: str


@dataclass
class ParsedPage:
    """What one document (API feed page, OAI response, snapshot chunk) holds."""

    records: list[ParsedRecord] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)
    # Query API paging
    total_results: int | None = None
    start_index: int | None = None
    items_per_page: int | None = None
    # OAI-PMH paging
    resumption_token: str | None = None  # None or "" = last page
    complete_list_size: int | None = None
    cursor: int | None = None
    response_date: dt.datetime | None = None
    deleted_ids: list[str] = field(default_factory=list)
