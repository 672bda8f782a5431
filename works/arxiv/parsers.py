"""Turn arXiv metadata documents (bytes) into ``ParsedPage``/``ParsedRecord``.

Pure code: no database, no Django. Three sources are understood:

* the query API (Atom 1.0 with ``opensearch:`` and ``arxiv:`` extensions), both
  the 2016 "legacy" output and the current (2026) output;
* OAI-PMH ``ListRecords``/``GetRecord`` with ``metadataPrefix=arXiv`` or
  ``arXivRaw``;
* the Kaggle metadata snapshot (one JSON object per line).

Every record is reduced to the same normalised shape (``works.arxiv.records``):
whitespace collapsed, XML entities decoded exactly once (by the XML parser),
LaTeX left exactly as written, ids split into ``(base_id, version)``, dates
as tz-aware UTC datetimes. A record that cannot be read becomes a
``RecordError`` and the rest of the document still lands; a document that
cannot be read at all raises ``ArxivFormatError`` (or a subclass).

What each source can tell about versions:

* API: the entry id carries the version of the returned (latest) version;
  ``published`` is v1's date, ``updated`` the returned version's date.
  ``versions`` stays empty: the API has no per-version history.
* OAI ``arXiv``: only ``created``/``updated`` *dates* (midnight UTC) and no
  version number. We set ``version=1`` and leave ``versions`` empty; when
  ``updated`` is absent (v1 only) ``updated`` equals ``submitted``. The
  importer must not read ``version=1`` from this format as "known to be v1".
* OAI ``arXivRaw`` and the snapshot: the full history (``versions`` sorted by
  number, ``version`` = the highest number).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import io
import json
import operator
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import IO

import orjson
from lxml import etree

from .names import author_from_parts, author_from_printed, split_author_list
from .records import (
    ArxivApiError,
    ArxivFormatError,
    OaiError,
    ParsedAuthor,
    ParsedPage,
    ParsedRecord,
    ParsedVersion,
    RecordError,
)

__all__ = [
    "MAX_TITLE_LENGTH",
    "detect_format",
    "iter_snapshot",
    "normalise_arxiv_id",
    "parse_atom",
    "parse_date",
    "parse_oai",
    "parse_snapshot",
    "recorded_json_body",
    "snapshot_line",
]

ATOM = "http://www.w3.org/2005/Atom"
ARXIV_ATOM = "http://arxiv.org/schemas/atom"
OPENSEARCH = "http://a9.com/-/spec/opensearch/1.1/"
OAI = "http://www.openarchives.org/OAI/2.0/"
OAI_ARXIV = "http://arxiv.org/OAI/arXiv/"
OAI_ARXIVRAW = "http://arxiv.org/OAI/arXivRaw/"

# Real titles are a few hundred characters; anything this long is garbage or an
# attack, and is reported rather than stored.
MAX_TITLE_LENGTH = 10_000

# How much of a document detect_format() looks at.
SNIFF_BYTES = 8192


# --------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------

_WHITESPACE = re.compile(r"\s+")


def _collapse(text: str | None) -> str:
    """Hard wraps, indentation and pretty-printing newlines become one space."""
    if text is None:
        return ""
    if len(text) < 200 or not text.isascii():
        # Same as _WHITESPACE.sub(" ", text).strip() (str.split and \s both split on
        # str.isspace characters), four times faster than the regex on a 1 KB abstract,
        # and faster than the replacing below on short text.
        return " ".join(text.split())
    # The same for long ASCII text (whose whitespace is these and the space), faster again
    # where only a few kinds occur, as in a hard-wrapped abstract: no list of its words.
    for space in _ASCII_SPACES:
        if space in text:
            text = text.replace(space, " ")
    while "  " in text:
        text = text.replace("  ", " ")
    return text.strip(" ")


_ASCII_SPACES = ("\n", "\t", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f")


# New scheme: YYMM.NNNN (0704-1412) or YYMM.NNNNN (1501 on).
_NEW_ID = re.compile(r"(?P<yy>\d\d)(?P<mm>\d\d)\.(?P<num>\d{4,5})(?:v(?P<v>\d+))?")
# Old scheme: archive[.SUBJ]/YYMMNNN, e.g. hep-th/9901001, math.CA/0611800.
_OLD_ID = re.compile(
    r"(?P<archive>[a-z]+(?:-[a-z]+)?)(?:\.(?P<subj>[A-Za-z][A-Za-z-]*))?"
    r"/(?P<yy>\d\d)(?P<mm>\d\d)(?P<num>\d{3})(?:v(?P<v>\d+))?"
)
_ID_PREFIX = re.compile(
    r"^(?:https?://(?:www\.|export\.)?arxiv\.org/(?:abs|pdf)/|oai:arxiv\.org:|arxiv:)",
    re.IGNORECASE,
)


_ESCAPED_SLASH = re.compile("%2f", re.IGNORECASE)


def normalise_arxiv_id(raw: str) -> tuple[str, int | None]:
    """``"http://arxiv.org/abs/hep-th/9901001v2"`` -> ``("hep-th/9901001", 2)``.

    Strips the ``http(s)://arxiv.org/abs/`` (or ``/pdf/``), ``arXiv:`` and
    ``oai:arXiv.org:`` wrappers, decodes ``%2F`` and splits off ``vN``
    (``None`` when the id carries no version). Old-style ids keep their slash
    but lose the subject class (``math.CA/0611800`` -> ``math/0611800``,
    arXiv's canonical external form), so both spellings meet on one key.
    Raises ``ArxivFormatError`` for anything that is not a valid arXiv id.
    """
    if not isinstance(raw, str):
        raise ArxivFormatError(f"malformed arXiv id {raw!r}")
    text = raw.strip()
    text = _ID_PREFIX.sub("", text, count=1)
    if "%" in text:
        text = _ESCAPED_SLASH.sub("/", text)
    if text.endswith(".pdf"):
        text = text[:-4]

    if m := _NEW_ID.fullmatch(text):
        yymm = int(m["yy"] + m["mm"])
        month = int(m["mm"])
        digits = len(m["num"])
        if not 1 <= month <= 12 or yymm < 704:
            raise ArxivFormatError(f"malformed arXiv id {raw!r} (no such month)")
        # 4-digit sequence numbers until 1412, 5 digits from 1501 on.
        if (yymm <= 1412 and digits != 4) or (yymm >= 1501 and digits != 5):
            raise ArxivFormatError(
                f"malformed arXiv id {raw!r} ({digits}-digit number for {m['yy']}{m['mm']})"
            )
        base = f"{m['yy']}{m['mm']}.{m['num']}"
    elif m := _OLD_ID.fullmatch(text):
        year, month = int(m["yy"]), int(m["mm"])
        # The old scheme ran from 1991 to March 2007.
        if not 1 <= month <= 12 or not (year >= 91 or year <= 7):
            raise ArxivFormatError(f"malformed arXiv id {raw!r} (no such month)")
        base = f"{m['archive']}/{m['yy']}{m['mm']}{m['num']}"
    else:
        raise ArxivFormatError(f"malformed arXiv id {raw!r}")

    version = None
    if m["v"] is not None:
        version = int(m["v"])
        if version < 1:
            raise ArxivFormatError(f"malformed arXiv id {raw!r} (version 0)")
    return base, version


_RFC822_GMT = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{1,2}) "
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) (\d\d):(\d\d):(\d\d) GMT"
)
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}


def parse_date(text: str) -> dt.datetime:
    """RFC-822 (``Tue, 3 Apr 2007 22:04:11 GMT``), ISO 8601 (``Z``/``-04:00``)
    or a bare ``YYYY-MM-DD`` (midnight UTC) -> tz-aware UTC datetime."""
    # The form every snapshot and OAI version date has, without email.utils (and, when
    # it matches as given, without collapsing: then there is nothing to collapse).
    m = _RFC822_GMT.fullmatch(text)
    value = text if m is not None else _collapse(text)
    if not value:
        raise ArxivFormatError("empty date")
    if m is not None or (m := _RFC822_GMT.fullmatch(value)) is not None:
        try:
            return dt.datetime(
                int(m[3]), _MONTHS[m[2]], int(m[1]), int(m[4]), int(m[5]), int(m[6]), tzinfo=dt.UTC
            )
        except ValueError:
            pass  # "31 Feb": email.utils reports it below
    if value[0].isdigit():
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError as exc:
            raise ArxivFormatError(f"unparsable date {value[:40]!r}") from exc
    else:
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError) as exc:
            raise ArxivFormatError(f"unparsable date {value[:40]!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def _parse_day(text: str) -> dt.date:
    """OAI datestamps / snapshot ``update_date``: a day (a full timestamp is cut)."""
    value = _collapse(text)
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError as exc:
        raise ArxivFormatError(f"unparsable date {value[:40]!r}") from exc


_WITHDRAWN = re.compile(
    r"^(?:this\s+(?:paper|article|manuscript|submission|preprint|work)\s+"
    r"(?:has\s+been|was|is)\s+withdrawn|(?:paper\s+|article\s+)?withdrawn\b)",
    re.IGNORECASE,
)


def _is_withdrawn(comments: str) -> bool:
    """arXiv's bulk formats only say so in the comments ("This paper has been
    withdrawn by the authors...", "Withdrawn by the author ...")."""
    return bool(_WITHDRAWN.match(comments.strip()))


def _unique(values: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        if value and value not in seen:
            seen[value] = None
    return list(seen)


def _split_dois(text: str | None) -> list[str]:
    # arXivRaw and the snapshot can hold several DOIs in one field, space separated.
    return _unique(_collapse(text).split())


def _check_record(record: ParsedRecord) -> ParsedRecord:
    if len(record.title) > MAX_TITLE_LENGTH:
        raise ArxivFormatError(f"title too long ({len(record.title)} characters)")
    record.withdrawn = _is_withdrawn(record.comments)
    return record


def _versions_summary(
    versions: list[ParsedVersion],
) -> tuple[int, dt.datetime | None, dt.datetime | None]:
    """(latest number, v1 date, latest date) for a sorted version list."""
    if not versions:
        return 1, None, None
    return versions[-1].number, versions[0].submitted, versions[-1].submitted


_VERSION_LABEL = re.compile(r"[vV]?(\d+)")
_SIZE = re.compile(r"(\d+)\s*kb", re.IGNORECASE)


@lru_cache(maxsize=1_000)
def _version_number(text: str) -> int:
    """``"v2"`` -> 2. Cached: a few labels make up nearly all of them."""
    value = _collapse(text)
    m = _VERSION_LABEL.fullmatch(value)
    if not m or int(m[1]) < 1:
        raise ArxivFormatError(f"bad version label {value[:20]!r}")
    return int(m[1])


def _size_kb(text: str | None) -> int | None:
    m = _SIZE.fullmatch(_collapse(text))
    return int(m[1]) if m else None


def recorded_json_body(data: bytes) -> bytes:
    """The real HTTP body inside an arxiv.py ``*.recorded.json`` fixture.

    That recorder stored ``response.content.decode("latin-1")``; encoding the
    text back to latin-1 gives the UTF-8 bytes arXiv sent. Reading ``body`` as
    text directly yields mojibake (``WÃ¼bben``).
    """
    try:
        return json.loads(data)["body"].encode("latin-1")
    except (ValueError, KeyError, TypeError, UnicodeEncodeError) as exc:
        raise ArxivFormatError(f"not a recorded response: {exc}") from exc


# --------------------------------------------------------------------------
# Format detection
# --------------------------------------------------------------------------

_FIRST_TAG = re.compile(rb"<([A-Za-z_][\w.:-]*)")


def detect_format(head: bytes) -> str:
    """``"atom"``, ``"oai"`` or ``"snapshot"`` from the first few KB of a document."""
    sample = head[:SNIFF_BYTES].removeprefix(b"\xef\xbb\xbf").lstrip()
    if not sample:
        raise ArxivFormatError("empty input")
    if sample.startswith(b"{"):
        return "snapshot"
    if sample.startswith(b"<"):
        # Skip the XML declaration, comments and processing instructions: the
        # first real start tag is the root element.
        body = re.sub(rb"<\?.*?\?>|<!--.*?-->", b"", sample, flags=re.DOTALL)
        if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
            raise ArxivFormatError("refusing XML with a DOCTYPE/ENTITY declaration")
        if m := _FIRST_TAG.search(body):
            local = m[1].rsplit(b":", 1)[-1]
            if local == b"feed":
                return "atom"
            if local == b"OAI-PMH":
                return "oai"
            raise ArxivFormatError(
                f"unknown XML document (root element <{m[1].decode('ascii', 'replace')}>)"
            )
    raise ArxivFormatError("not arXiv metadata (neither XML nor JSON lines)")


# --------------------------------------------------------------------------
# XML
# --------------------------------------------------------------------------


def _parse_xml(data: bytes) -> etree._Element:
    """Parse untrusted XML: no DTD, no entity expansion, no network, no huge nodes.

    Any DOCTYPE or ENTITY declaration is refused outright: arXiv never sends
    one, and it is how billion-laughs and XXE documents start. Note that with
    ``huge_tree=False`` libxml2 refuses any single text node over 10,000,000
    characters, so such a document fails as a whole (``malformed XML``).
    """
    if not data or not data.strip():
        raise ArxivFormatError("empty input")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise ArxivFormatError("refusing XML with a DOCTYPE/ENTITY declaration")
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise ArxivFormatError(f"malformed XML: {exc}") from exc
    # Belt and braces: a declaration in an encoding the byte check cannot see
    # (UTF-16) still lands here.
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.doctype:
        raise ArxivFormatError("refusing XML with a DOCTYPE/ENTITY declaration")
    return root


def _text(element: etree._Element | None) -> str | None:
    """Raw text of an element (``None`` when absent); entity references that
    were left unexpanded are refused rather than silently dropped."""
    if element is None:
        return None
    parts = []
    for node in element.iter():
        if isinstance(node, etree._Entity):
            raise ArxivFormatError(f"unexpanded entity {node.text}")
        if node.text and not isinstance(node, etree._Entity):
            parts.append(node.text)
        if node is not element and node.tail:
            parts.append(node.tail)
    return "".join(parts)


def _child_text(parent: etree._Element, tag: str) -> str:
    """Collapsed text of the first child named ``tag`` ("" when absent)."""
    return _collapse(_text(parent.find(tag)))


def _int_or_none(text: str | None, what: str) -> int | None:
    value = _collapse(text)
    if not value:
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise ArxivFormatError(f"{what} is not a number: {value[:40]!r}") from exc


# --------------------------------------------------------------------------
# Query API (Atom)
# --------------------------------------------------------------------------

_A = f"{{{ATOM}}}"
_AX = f"{{{ARXIV_ATOM}}}"
_OS = f"{{{OPENSEARCH}}}"


def parse_atom(data: bytes) -> ParsedPage:
    """One page of the query API feed.

    Raises ``ArxivApiError`` for the API's error feed (an entry whose id is
    ``…/api/errors#…``, titled ``Error``), whatever the HTTP status was.
    """
    root = _parse_xml(data)
    if root.tag != f"{_A}feed":
        raise ArxivFormatError(f"not an Atom feed (root element {root.tag})")

    page = ParsedPage(
        total_results=_int_or_none(_text(root.find(f"{_OS}totalResults")), "totalResults"),
        start_index=_int_or_none(_text(root.find(f"{_OS}startIndex")), "startIndex"),
        items_per_page=_int_or_none(_text(root.find(f"{_OS}itemsPerPage")), "itemsPerPage"),
    )
    entries = root.findall(f"{_A}entry")
    for entry in entries:
        raw_id = _child_text(entry, f"{_A}id")
        if "/api/errors" in raw_id or (
            _child_text(entry, f"{_A}title") == "Error" and "/abs/" not in raw_id
        ):
            message = _child_text(entry, f"{_A}summary") or raw_id or "unknown API error"
            raise ArxivApiError(message)

    for position, entry in enumerate(entries, start=1):
        raw_id = _child_text(entry, f"{_A}id")
        where = raw_id or f"entry {position}"
        try:
            page.records.append(_atom_entry(entry, raw_id))
        except ArxivFormatError as exc:
            page.errors.append(RecordError(where=where, reason=str(exc)))
    return page


def _atom_entry(entry: etree._Element, raw_id: str) -> ParsedRecord:
    if not raw_id:
        raise ArxivFormatError("entry has no id")
    arxiv_id, version = normalise_arxiv_id(raw_id)

    published = _child_text(entry, f"{_A}published")
    updated = _child_text(entry, f"{_A}updated")
    submitted_at = parse_date(published) if published else None
    updated_at = parse_date(updated) if updated else submitted_at

    authors: list[ParsedAuthor] = []
    for author in entry.findall(f"{_A}author"):
        name = _child_text(author, f"{_A}name")
        if not name:
            continue
        affiliations = _unique(_collapse(_text(a)) for a in author.findall(f"{_AX}affiliation"))
        authors.append(author_from_printed(name, "; ".join(affiliations)))

    primary = entry.find(f"{_AX}primary_category")
    categories = _unique(
        [_collapse(primary.get("term")) if primary is not None else ""]
        + [_collapse(c.get("term")) for c in entry.findall(f"{_A}category")]
    )
    dois = _unique(
        doi for element in entry.findall(f"{_AX}doi") for doi in _split_dois(_text(element))
    )

    record = ParsedRecord(
        arxiv_id=arxiv_id,
        version=version or 1,
        title=_child_text(entry, f"{_A}title"),
        abstract=_child_text(entry, f"{_A}summary"),
        authors=authors,
        categories=categories,
        submitted=submitted_at,
        updated=updated_at,
        comments=_child_text(entry, f"{_AX}comment"),
        journal_ref=_child_text(entry, f"{_AX}journal_ref"),
        dois=dois,
        source="api",
    )
    return _check_record(record)


# --------------------------------------------------------------------------
# OAI-PMH
# --------------------------------------------------------------------------

_O = f"{{{OAI}}}"
_OX = f"{{{OAI_ARXIV}}}"
_OR = f"{{{OAI_ARXIVRAW}}}"


def parse_oai(data: bytes) -> ParsedPage:
    """One OAI-PMH ``ListRecords`` or ``GetRecord`` response (``arXiv``/``arXivRaw``).

    ``noRecordsMatch`` is an empty page; any other ``<error>`` raises
    ``OaiError(code, message)``. Deleted records (``<header status="deleted">``)
    go to ``page.deleted_ids``.
    """
    root = _parse_xml(data)
    if root.tag != f"{_O}OAI-PMH":
        raise ArxivFormatError(f"not an OAI-PMH response (root element {root.tag})")

    page = ParsedPage()
    response_date = _child_text(root, f"{_O}responseDate")
    if response_date:
        page.response_date = parse_date(response_date)

    errors = root.findall(f"{_O}error")
    for error in errors:
        code = _collapse(error.get("code")) or "unknown"
        if code != "noRecordsMatch":
            raise OaiError(code, _collapse(_text(error)))
    if errors:
        return page  # only noRecordsMatch: nothing harvested, not a failure

    container = root.find(f"{_O}ListRecords")
    if container is None:
        container = root.find(f"{_O}GetRecord")
    if container is None:
        raise ArxivFormatError("OAI-PMH response without ListRecords or GetRecord")

    token = container.find(f"{_O}resumptionToken")
    if token is not None:
        page.resumption_token = _collapse(_text(token)) or None
        page.cursor = _int_or_none(token.get("cursor"), "cursor")
        page.complete_list_size = _int_or_none(token.get("completeListSize"), "completeListSize")

    for position, record in enumerate(container.findall(f"{_O}record"), start=1):
        header = record.find(f"{_O}header")
        identifier = _child_text(header, f"{_O}identifier") if header is not None else ""
        where = identifier or f"record {position}"
        try:
            if header is None:
                raise ArxivFormatError("record has no header")
            if header.get("status") == "deleted":
                page.deleted_ids.append(normalise_arxiv_id(identifier)[0])
                continue
            parsed = _oai_record(record)
            datestamp = _child_text(header, f"{_O}datestamp")
            parsed.datestamp = _parse_day(datestamp) if datestamp else None
            page.records.append(parsed)
        except ArxivFormatError as exc:
            page.errors.append(RecordError(where=where, reason=str(exc)))
    return page


def _oai_record(record: etree._Element) -> ParsedRecord:
    metadata = record.find(f"{_O}metadata")
    if metadata is None or len(metadata) == 0:
        raise ArxivFormatError("record has no metadata")
    payload = metadata[0]
    if payload.tag == f"{_OX}arXiv":
        return _check_record(_oai_arxiv(payload))
    if payload.tag == f"{_OR}arXivRaw":
        return _check_record(_oai_arxivraw(payload))
    raise ArxivFormatError(f"unsupported metadata format {payload.tag}")


def _common_fields(payload: etree._Element, ns: str) -> dict:
    raw_id = _child_text(payload, f"{ns}id")
    if not raw_id:
        raise ArxivFormatError("record has no id")
    arxiv_id, _ = normalise_arxiv_id(raw_id)
    return {
        "arxiv_id": arxiv_id,
        "title": _child_text(payload, f"{ns}title"),
        "abstract": _child_text(payload, f"{ns}abstract"),
        "categories": _unique(_child_text(payload, f"{ns}categories").split()),
        "comments": _child_text(payload, f"{ns}comments"),
        "journal_ref": _child_text(payload, f"{ns}journal-ref"),
        "dois": _split_dois(_text(payload.find(f"{ns}doi"))),
        "report_no": _child_text(payload, f"{ns}report-no"),
        "license": _child_text(payload, f"{ns}license"),
    }


def _oai_arxiv(payload: etree._Element) -> ParsedRecord:
    fields = _common_fields(payload, _OX)
    created = _child_text(payload, f"{_OX}created")
    updated = _child_text(payload, f"{_OX}updated")
    submitted_at = parse_date(created) if created else None
    updated_at = parse_date(updated) if updated else submitted_at

    authors = []
    for author in payload.iterfind(f"{_OX}authors/{_OX}author"):
        affiliations = _unique(_collapse(_text(a)) for a in author.findall(f"{_OX}affiliation"))
        authors.append(
            author_from_parts(
                _child_text(author, f"{_OX}keyname"),
                _child_text(author, f"{_OX}forenames"),
                _child_text(author, f"{_OX}suffix"),
                "; ".join(affiliations),
            )
        )
    # This format has no version numbers: version 1 means "unknown" here.
    return ParsedRecord(
        version=1,
        authors=authors,
        submitted=submitted_at,
        updated=updated_at,
        source="oai-arXiv",
        **fields,
    )


def _oai_arxivraw(payload: etree._Element) -> ParsedRecord:
    fields = _common_fields(payload, _OR)
    versions = sorted(
        (
            ParsedVersion(
                number=_version_number(v.get("version", "")),
                submitted=parse_date(_child_text(v, f"{_OR}date")),
                size_kb=_size_kb(_text(v.find(f"{_OR}size"))),
            )
            for v in payload.findall(f"{_OR}version")
        ),
        key=lambda v: v.number,
    )
    version, submitted_at, updated_at = _versions_summary(versions)
    authors_text = _child_text(payload, f"{_OR}authors")
    return ParsedRecord(
        version=version,
        authors=split_author_list(authors_text) if authors_text else [],
        submitted=submitted_at,
        updated=updated_at,
        versions=versions,
        source="oai-arXivRaw",
        **fields,
    )


# --------------------------------------------------------------------------
# Kaggle snapshot (JSON lines)
# --------------------------------------------------------------------------

# authors_parsed's 4th element is sometimes only the "(1 and 2)" markers of the
# free-text author string, not an affiliation.
_AFFILIATION_MARKERS = re.compile(r"[\d\s,;&]*(?:(?:and|&)[\d\s,;]*)*", re.IGNORECASE)


def iter_snapshot(stream: IO[bytes]) -> Iterator[ParsedRecord | RecordError]:
    """Records of the Kaggle snapshot, one line at a time (constant memory).

    A line that is not a JSON object, lacks an id or holds bad values yields a
    ``RecordError`` (``where`` is the id when known, else ``"line N"``), and the
    next line is read as usual. Blank lines are skipped.
    """
    for number, line in enumerate(stream, start=1):
        item = snapshot_line(line, number)
        if item is not None:
            yield item


def snapshot_line(line: bytes, number: int) -> ParsedRecord | RecordError | None:
    """One line of the snapshot (the ``number``-th, for errors), or None for a blank one."""
    if not line or line.isspace():
        return None
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        return RecordError(where=f"line {number}", reason=f"not JSON: {exc}")
    if not isinstance(obj, dict):
        return RecordError(where=f"line {number}", reason="not a JSON object")
    raw_id = obj.get("id")
    if not isinstance(raw_id, str) or not raw_id.strip():
        return RecordError(where=f"line {number}", reason="record has no id")
    try:
        return _snapshot_record(obj)
    except (ArxivFormatError, TypeError, ValueError, AttributeError) as exc:
        return RecordError(where=raw_id.strip(), reason=str(exc))


def parse_snapshot(data: bytes) -> ParsedPage:
    """All of a (small) snapshot chunk in memory; use ``iter_snapshot`` for files."""
    if not data.strip():
        raise ArxivFormatError("empty input")
    page = ParsedPage()
    for item in iter_snapshot(io.BytesIO(data)):
        if isinstance(item, RecordError):
            page.errors.append(item)
        else:
            page.records.append(item)
    return page


def _str(value: object) -> str:
    """JSON ``null`` -> ""; anything else must be a string."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ArxivFormatError(f"expected a string, got {type(value).__name__}")
    return value


def _snapshot_record(obj: dict) -> ParsedRecord:
    arxiv_id, _ = normalise_arxiv_id(obj["id"])
    versions = [
        ParsedVersion(_version_number(_str(v.get("version"))), parse_date(_str(v.get("created"))))
        for v in obj.get("versions") or []
    ]
    if len(versions) > 1:
        versions.sort(key=_version_order)
    version, submitted_at, updated_at = _versions_summary(versions)
    update_date = _str(obj.get("update_date"))
    record = ParsedRecord(
        arxiv_id=arxiv_id,
        version=version,
        title=_collapse(_str(obj.get("title"))),
        abstract=_collapse(_str(obj.get("abstract"))),
        authors=_snapshot_authors(obj),
        categories=_unique(_str(obj.get("categories")).split()),
        submitted=submitted_at,
        updated=updated_at,
        versions=versions,
        comments=_collapse(_str(obj.get("comments"))),
        journal_ref=_collapse(_str(obj.get("journal-ref"))),
        dois=_split_dois(_str(obj.get("doi"))),
        report_no=_collapse(_str(obj.get("report-no"))),
        license=_collapse(_str(obj.get("license"))),
        source="snapshot",
        datestamp=_parse_day(update_date) if update_date else None,
    )
    return _check_record(record)


_version_order = operator.attrgetter("number")


def _snapshot_authors(obj: dict) -> list[ParsedAuthor]:
    """``authors_parsed`` (already Unicode) for the names; the free-text
    ``authors`` only when ``authors_parsed`` is missing, or to recover real
    affiliations where ``authors_parsed`` only kept the ``1 and 2`` markers."""
    authors_text = _str(obj.get("authors"))  # collapsed only when read: lists can be long
    parsed = obj.get("authors_parsed")
    if not parsed:
        authors_text = _collapse(authors_text)
        return split_author_list(authors_text) if authors_text else []

    authors = []
    needs_free_text = False
    for parts in parsed:
        if type(parts) is list and 0 < len(parts) <= 3:
            # The common entry, [keyname, forenames, suffix]: names recur across
            # papers, so the same entry is decoded once.
            try:
                authors.append(_snapshot_author(*parts))
                continue
            except TypeError:  # an unhashable part: reported below as the others are
                pass
        if not isinstance(parts, list) or not parts:
            raise ArxivFormatError(f"bad authors_parsed entry {parts!r:.80}")
        keyname, forenames, suffix = ([_collapse(_str(p)) for p in parts[:3]] + ["", ""])[:3]
        affiliation = "; ".join(_unique(_collapse(_str(p)) for p in parts[3:]))
        if affiliation and _AFFILIATION_MARKERS.fullmatch(affiliation):
            needs_free_text = True
            affiliation = ""
        authors.append(author_from_parts(keyname, forenames, suffix, affiliation))

    authors_text = _collapse(authors_text) if needs_free_text else ""
    if authors_text:
        from_text = split_author_list(authors_text)
        if len(from_text) == len(authors):
            authors = [
                a if a.affiliation or not t.affiliation else _with_affiliation(a, t.affiliation)
                for a, t in zip(authors, from_text, strict=True)
            ]
    return authors


@lru_cache(maxsize=200_000)
def _snapshot_author(*parts: object) -> ParsedAuthor:
    """An ``authors_parsed`` entry of one to three parts; a part that is not a string raises as
    in the general case (and what raises is not cached). ParsedAuthor is frozen: sharing one
    instance between records is safe."""
    keyname, forenames, suffix = ([_collapse(_str(p)) for p in parts] + ["", ""])[:3]
    return author_from_parts(keyname, forenames, suffix)


def forget_parsed_authors() -> None:
    """Empty the cache of parsed ``authors_parsed`` entries (works.prepare.forget_parsing)."""
    _snapshot_author.cache_clear()


def _with_affiliation(author: ParsedAuthor, affiliation: str) -> ParsedAuthor:
    return ParsedAuthor(
        printed=author.printed,
        keyname=author.keyname,
        forenames=author.forenames,
        suffix=author.suffix,
        affiliation=affiliation,
    )
