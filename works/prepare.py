"""What the snapshot loader (works.bulk) does to each record before the database sees it.

Parsing, validation, the content hash and the COPY encoding of a record's rows (works.rows).
This runs in the loader's worker processes, thousands of records a second, so it is kept
free of Django's models: a worker imports this module and what it imports, not the project,
and starts in a third of the time.
"""

from __future__ import annotations

import gc
import hashlib
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple

from works import rows
from works.arxiv import names
from works.arxiv.parsers import forget_parsed_authors, snapshot_line
from works.arxiv.records import ParsedRecord, RecordError
from works.identity import names as identity_names
from works.rows import Freshness


class Encoded(NamedTuple):
    """A record's rows (works.rows) as COPY text lines."""

    work: bytes
    signatures: bytes
    organisations: tuple[rows.Signature, ...]  # they get one record per name
    versions: bytes
    topics: bytes
    categories: tuple[str, ...]


class Prepared(NamedTuple):
    """One record on its way to the database. It crosses a process boundary thousands of
    times a second: a tuple of str/bytes pickles fastest.

    ``encoded`` is None for a record only fingerprinted (see prepare_lines): then ``line``
    holds the raw snapshot line, parsed again if the record turns out to have changed.
    ``digest``: what the work stores of the snapshot line it came from (snapshot_digest),
    empty for a record that came from elsewhere.
    """

    arxiv_id: str
    content_hash: str
    freshness: Freshness
    encoded: Encoded | None
    line: bytes | None = None
    digest: str = ""

    @property
    def newest_key(self) -> tuple[int, str]:
        return self.freshness.version, self.freshness.updated_iso


def copy_escape(text: str) -> str:
    """A value in COPY's text format (backslash escapes)."""
    if "\\" in text:
        text = text.replace("\\", "\\\\")
    if "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


_NULL = "\\N"


def _ts(value) -> str:
    return value.isoformat() if value else _NULL


@lru_cache(maxsize=100_000)
def _signature_line(signature: rows.Signature) -> str:
    """The end of a signature's staging line: key, printed name, affiliation, block, name as a
    co-author, whether an organisation. Cached: names recur across papers."""
    block = signature.block_key if signature.is_person else ""
    return (
        f"{copy_escape(signature.name_key)}\t{copy_escape(signature.printed_name)}\t"
        f"{copy_escape(signature.affiliation)}\t{copy_escape(block)}\t"
        f"{copy_escape(signature.coauthor_name)}\t{'t' if signature.is_organisation else 'f'}\n"
    )


def encode(record_rows: rows.RecordRows) -> Encoded:
    """COPY lines for every row of a record (the staging tables' columns, in order)."""
    aid = copy_escape(record_rows.work.arxiv_id)
    versions = record_rows.versions
    dates = [v.submitted.isoformat() for v in versions]
    signatures = record_rows.signatures
    topics = record_rows.topics
    formatted = {id(v.submitted): day for v, day in zip(versions, dates, strict=True)}
    return Encoded(
        work=_work_line(aid, record_rows.work, formatted),
        signatures="".join(
            [f"{aid}\t{position}\t{_signature_line(s)}" for position, s in enumerate(signatures)]
        ).encode(),
        organisations=tuple([s for s in signatures if s.is_organisation]),
        versions="".join(
            [
                f"{aid}\t{v.number}\t{day}\t{_NULL if v.size_kb is None else v.size_kb}\n"
                for v, day in zip(versions, dates, strict=True)
            ]
        ).encode(),
        topics="".join([f"{aid}\t{copy_escape(t.code)}\t{t.position}\n" for t in topics]).encode(),
        categories=tuple([t.code for t in topics]),
    )


def _work_line(aid: str, work: rows.WorkRow, formatted: dict[int, str]) -> bytes:
    """The work's staging line. ``formatted``: dates already in ISO form, by id (the work's
    first and latest dates are most often its versions' own objects)."""
    line = "\t".join(
        (
            aid,
            str(work.version),
            copy_escape(work.title),
            copy_escape(work.abstract),
            copy_escape(work.comments),
            copy_escape(work.journal_ref),
            copy_escape(work.doi),
            copy_escape(work.report_no),
            copy_escape(work.license),
            copy_escape(work.primary_category),
            formatted.get(id(work.submitted)) or _ts(work.submitted),
            formatted.get(id(work.updated)) or _ts(work.updated),
            _NULL if work.year is None else str(work.year),
            "t" if work.withdrawn else "f",
            work.kind,
            str(work.person_author_count),
            str(work.author_count),
            copy_escape(work.source),
            work.content_hash,
        )
    )
    return (line + "\n").encode()


def prepare(record: ParsedRecord, from_line: str = "") -> Prepared | RecordError:
    """Everything the database needs from one parsed record, COPY-encoded. ``from_line``:
    the digest of the snapshot line it was read from, if any (line_digest)."""
    record_rows = rows.rows_for(record)
    if isinstance(record_rows, RecordError):
        return record_rows
    encoded = encode(record_rows)
    if b"\x00" in encoded.work or b"\x00" in encoded.signatures:
        # PostgreSQL text cannot hold NUL; the ORM path would fail the whole batch.
        return RecordError(where=record.arxiv_id, reason="contains a NUL character")
    work = record_rows.work
    digest = snapshot_digest(from_line, work.content_hash) if from_line else ""
    return Prepared(work.arxiv_id, work.content_hash, record_rows.freshness, encoded, None, digest)


def prepare_items(items: Iterable[ParsedRecord | RecordError]) -> list[Prepared | RecordError]:
    return [item if isinstance(item, RecordError) else prepare(item) for item in items]


def prepare_lines(
    first_line: int, lines: list[bytes], fully: bool = True
) -> list[Prepared | RecordError]:
    """Worker task: parse and prepare a chunk of snapshot lines.

    With ``fully`` off (the previous batch was nearly all unchanged: a
    re-import), records are only fingerprinted: what deciding "unchanged" needs,
    and the raw line, which the loader parses again for the rare changed one.
    """
    gc.set_threshold(100_000, 50, 100)  # see works.bulk._fewer_gc_passes
    out: list[Prepared | RecordError] = []
    for number, line in enumerate(lines, start=first_line):
        item = snapshot_line(line, number)
        if item is None:
            continue  # a blank line
        if isinstance(item, RecordError):
            out.append(item)
        elif fully:
            out.append(prepare(item, line_digest(line)))
        else:
            out.append(_fingerprint(item, line))
    return out


def prepare_lines_in_worker(
    first_line: int, lines: list[bytes], fully: bool = True
) -> list[Prepared | RecordError]:
    """prepare_lines as a parsing worker's task: a worker does nothing else, so its name
    caches are kept small (see NAME_CACHE_ENTRIES)."""
    prepared = prepare_lines(first_line, lines, fully)
    _bound_name_caches()
    return prepared


# Name caches a parsing worker keeps filling and seldom hits again (a name's next paper is
# far down the file): past this many entries they start over. Over a million records each
# worker grew to about 500 MB resident; with this, about 170 MB less, at no measured cost in
# parse time (bench/README.md). The caches that repeated names do hit (a signature's row, an
# author's parse) keep their size, and so does every other process: the loader, which links
# people between batches, and the identity processes hit these constantly.
NAME_CACHE_ENTRIES = 50_000
_NAME_CACHES = (
    identity_names.parse_name,
    names.name_key,
    names.latex_to_unicode,
    names.is_organisation,
)


def _bound_name_caches() -> None:
    for cache in _NAME_CACHES:
        if cache.cache_info().currsize > NAME_CACHE_ENTRIES:
            cache.cache_clear()


# Everything parsing a line leaves behind: the name caches and the rows built from names.
_PARSE_CACHES = (*_NAME_CACHES, rows.signature, _signature_line)


def forget_parsing() -> None:
    """Empty every cache the parse fills, in a process that will parse no more lines: a first
    load's loader, once the workers take over from its own first batch (about 60 MB of names
    and rows at 20,000 records, which it would otherwise hold to the end of the load)."""
    for cache in _PARSE_CACHES:
        cache.cache_clear()
    forget_parsed_authors()


def _fingerprint(record: ParsedRecord, line: bytes) -> Prepared | RecordError:
    problem = rows.validate(record)
    if problem:
        return RecordError(where=record.arxiv_id or "record", reason=problem)
    content_hash = rows.content_hash(record)
    digest = snapshot_digest(line_digest(line), content_hash)
    return Prepared(record.arxiv_id, content_hash, rows.freshness(record), None, line, digest)


def fully_encoded(record: Prepared) -> Prepared | RecordError:
    """A fingerprinted record, parsed again and fully prepared."""
    if record.encoded is not None:
        return record
    return prepare(snapshot_line(record.line, 1), line_digest(record.line))


# -- the line screen ------------------------------------------------------------------------------

# The snapshot parser's version, as far as a line's content hash goes. Bump it whenever one
# snapshot line can give another record (anything rows.content_hash covers): the loader skips,
# unparsed, every line whose digest a work holds (works.bulk), so without a bump a re-import
# would keep what the old parser read. tests/works/test_snapshot_digest.py fails when the
# fixture lines' content hashes change while this stays.
PARSER_VERSION = 1
# The id opens every line of arXiv's snapshot. A line whose id is not there, or not in its
# canonical form (the one works store), matches no work and is parsed, as before.
_LEADING_ID = re.compile(rb'\s*\{\s*"id"\s*:\s*"([^"\\]{1,100})"')
_LINE_END = b" \t\r\n"


def line_digest(line: bytes) -> str:
    """A snapshot line as this parser version reads it (its line end aside). SHA-256, which
    CPUs compute in hardware: a third of MD5's time on a 2 KB line."""
    end = len(line)
    while end and line[end - 1] in _LINE_END:
        end -= 1
    return f"{PARSER_VERSION}:{hashlib.sha256(memoryview(line)[:end]).hexdigest()[:32]}"


def snapshot_digest(digest_of_line: str, content_hash: str) -> str:
    """What a work stores: its line's digest bound to the content hash that line gave.
    Content written by any other path has another hash, and the line no longer matches.
    The loader compares it in SQL as ``md5(line digest || works.content_hash)``."""
    bound = (digest_of_line + content_hash).encode()
    return hashlib.md5(bound, usedforsecurity=False).hexdigest()


def screen_key(line: bytes) -> tuple[str, str] | None:
    """(arXiv id, line digest) of a snapshot line, read without parsing it; None when the
    line does not open with its id (it is then parsed)."""
    found = _LEADING_ID.match(line)
    if found is None:
        return None
    return found.group(1).decode(errors="replace"), line_digest(line)
