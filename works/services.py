"""Import workflows shared by the management command, the admin and the workers."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import IO

from works import bulk
from works.arxiv import parsers
from works.arxiv.records import ArxivFormatError, ParsedRecord, RecordError
from works.importer import Importer, ImportStats

FORMATS = ("atom", "oai", "snapshot")


def read_items(
    stream: IO[bytes], *, fmt: str | None = None
) -> Iterator[ParsedRecord | RecordError]:
    """Parse a file of any supported format into records and per-record errors.

    XML documents are parsed whole before anything is written, so a truncated or
    malformed file raises ArxivFormatError and nothing is half-written. JSON
    lines stream with constant memory; a bad line is a per-record error.
    """
    head = stream.read(4096)
    if not head.strip():
        raise ArxivFormatError("the file is empty")
    fmt = fmt or parsers.detect_format(head)
    if fmt not in FORMATS:
        raise ArxivFormatError(f"unknown format {fmt!r} (expected one of {', '.join(FORMATS)})")
    if fmt == "snapshot":
        return SnapshotReader(_Prepended(head, stream))
    data = head + stream.read()
    page = parsers.parse_atom(data) if fmt == "atom" else parsers.parse_oai(data)
    return iter([*page.errors, *page.records])


def import_stream(
    stream: IO[bytes],
    *,
    fmt: str | None = None,
    source_label: str = "arXiv import",
    progress: Callable[[ImportStats], None] | None = None,
    importer: Importer | None = None,
    first_load: bool | None = None,
) -> ImportStats:
    """``first_load`` forces the bulk loader's bare first load on (True) or off (False);
    None lets it choose (works.bulk.choose_first_load)."""
    items = read_items(stream, fmt=fmt)
    if importer is None:
        # The snapshot's millions of records go through COPY on PostgreSQL.
        if isinstance(items, SnapshotReader) and bulk.available():
            importer = bulk.BulkImporter(source_label=source_label, first_load=first_load)
        else:
            importer = Importer(source_label=source_label)
    return importer.run(items, progress=progress)


def import_records(
    items, *, source_label: str = "arXiv import", importer: Importer | None = None
) -> ImportStats:
    return (importer or Importer(source_label=source_label)).run(items)


class SnapshotReader(Iterator[ParsedRecord | RecordError]):
    """The records of a snapshot stream; the bulk loader reads its raw lines
    instead (``snapshot_lines``), to parse them in worker processes."""

    def __init__(self, stream: IO[bytes]):
        self.snapshot_lines = stream
        self._records = parsers.iter_snapshot(stream)

    def __next__(self) -> ParsedRecord | RecordError:
        return next(self._records)


class _Prepended(io.RawIOBase):
    """A binary stream that first yields ``head`` then the rest of ``stream``."""

    def __init__(self, head: bytes, stream: IO[bytes]):
        self._buffer = io.BytesIO(head)
        self._stream = stream
        self._head_done = False

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        if not self._head_done:
            n = self._buffer.readinto(target)
            if n:
                return n
            self._head_done = True
        data = self._stream.read(len(target))
        target[: len(data)] = data
        return len(data)

    def __iter__(self):
        return iter(io.BufferedReader(self, buffer_size=1 << 20))
