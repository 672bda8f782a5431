"""The rows the loaders store, pinned byte for byte.

Making the parse cheaper (issue 13) must not change one byte of what is stored. Each real
fixture in tests/fixtures/arxiv/, and variants of the snapshot's lines that take its rarer
paths, goes through everything the parse produces: the bulk loader's prepared records (COPY
lines, content hash, freshness) with and without full encoding, and the rows the ORM importer
builds (works.rows.rows_for). Each item's rendering is digested and compared with
tests/fixtures/encoded_rows.sha256, written by the code before the parse was made cheaper.

A deliberate change of the rows rewrites that file (and its diff says which items changed):

    WRITE_ENCODED_ROWS=1 pytest tests/works/test_encoded_rows.py -n 0
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import unicodedata
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support import FIXTURES, TESTS

from works import bulk, rows
from works.arxiv import names, parsers
from works.arxiv.parsers import iter_snapshot, parse_atom, parse_oai
from works.arxiv.records import ArxivFormatError, RecordError

GOLDEN = TESTS / "fixtures" / "encoded_rows.sha256"
SNAPSHOT = FIXTURES / "kaggle_snapshot_first200.jsonl"


def _variants(obj: dict) -> Iterator[dict]:
    """Real records bent towards the parse's rarer paths: each is one line of its own."""
    changes: list[dict] = [
        {"authors_parsed": None},  # names from the free text
        {"authors_parsed": []},
        {"authors": "A. Smith (1 and 2), B. Jones (2) ((1) Leiden, (2) Utrecht) et al."},
        {
            "authors_parsed": [
                ['W{\\"u}bben', "Dirk", ""],
                ["M{\\o}ller", "J\\'{\\i}r", "Jr."],
                ["Collaboration", "ATLAS", ""],
                ["et al.", "", ""],
                [":", "", ""],
                ["Smith", "J.", "", "Leiden", "Leiden", "CERN"],
                ["Jones", "B.", "", "1 and 2"],
                ["Solo"],
                ["Tab\there", "New\nline", "Back\\slash"],
                ["Zhang", "Zhengyan", "", ""],
                ["DeepSeek-AI"],
                ["Keck", "Array"],
            ]
        },
        {"authors_parsed": [["Smith", 3, ""]]},
        {"authors_parsed": [[]]},
        {"authors_parsed": "Smith"},
        {"title": None},
        {"title": "  "},
        {"title": 12},
        {"title": "Tabs\tand\\backslashes\r\n  wrapped"},
        {"title": "A NUL \x00 inside"},
        {"abstract": ["not", "text"]},
        {"categories": "hep-th hep-th math.CA"},
        {"categories": "not/a-code"},
        {"categories": ""},
        {"versions": []},
        {"versions": None},
        {"versions": [{"version": "v2", "created": "Tue, 3 Apr 2007 22:04:11 GMT"}]},
        {"versions": [{"version": "v0", "created": "Tue, 3 Apr 2007 22:04:11 GMT"}]},
        {"versions": [{"version": "3", "created": "2007-04-03T22:04:11-04:00"}]},
        {"versions": [{"version": "V1", "created": "  Tue,  3 Apr 2007\n22:04:11 GMT "}]},
        {"versions": [{"version": "v1", "created": "Sat, 31 Feb 2007 22:04:11 GMT"}]},
        {"versions": [{"version": "v1", "created": "yesterday"}]},
        {
            "versions": [
                {"version": "v2", "created": "Wed, 4 Apr 2007 10:00:00 GMT"},
                {"version": "v1", "created": "Tue, 3 Apr 2007 22:04:11 GMT"},
            ]
        },
        {"id": "arXiv:0704.0001v2"},
        {"id": "math.CA/0611800"},
        {"id": "http://arxiv.org/abs/hep-th%2F9901001v3"},
        {"id": "not an id"},
        {"id": 704.0001},
        {"doi": "10.1/a 10.1/b 10.1/a"},
        {"comments": "This paper has been withdrawn by the author"},
        {"journal-ref": "Phys. Rev.\n  D 1 (2007)", "license": "http://x/y"},
        {"update_date": "not a date"},
        {"update_date": None, "report-no": None, "comments": None},
    ]
    for change in changes:
        variant = copy.deepcopy(obj)
        variant.update(change)
        yield variant


def snapshot_inputs() -> dict[str, list[bytes]]:
    lines = SNAPSHOT.read_bytes().splitlines(keepends=True)
    variants = [json.dumps(v).encode() + b"\n" for v in _variants(json.loads(lines[24]))]
    unusual = [b"not json\n", b"[1, 2]\n", b"\n", b"  \n", b'{"id": "  "}\n', lines[3], lines[3]]
    return {SNAPSHOT.name: lines, "variants": variants + unusual}


def _render(item: bulk.Prepared | RecordError) -> str:
    """Everything a prepared record carries to the database, independent of how it is held."""
    if isinstance(item, RecordError):
        return repr(("error", item.where, item.reason))
    encoded = item.encoded
    if encoded is not None:
        encoded = (
            encoded.work,
            encoded.signatures,
            tuple(tuple(s) for s in encoded.organisations),
            encoded.versions,
            encoded.topics,
            tuple(encoded.categories),
        )
    return repr((item.arxiv_id, item.content_hash, tuple(item.freshness), encoded, item.line))


def _rows(item) -> str:
    return repr(item if isinstance(item, RecordError) else rows.rows_for(item))


def rendered() -> Iterator[tuple[str, str]]:
    """(item name, rendering) of everything the fixtures become."""
    for name, lines in snapshot_inputs().items():
        for fully in (True, False):
            for number, item in enumerate(bulk.prepare_lines(1, lines, fully), start=1):
                yield f"{name} {'encoded' if fully else 'fingerprinted'} {number}", _render(item)
        for number, item in enumerate(iter_snapshot(lines), start=1):
            yield f"{name} rows {number}", _rows(item)
    for path in sorted(FIXTURES.glob("*.xml")):
        parse = parse_atom if path.name.endswith(".atom.xml") else parse_oai
        try:
            page = parse(path.read_bytes())
        except ArxivFormatError as exc:
            yield f"{path.name} error", repr(exc)
            continue
        for number, item in enumerate(bulk.prepare_items(page.records), start=1):
            yield f"{path.name} encoded {number}", _render(item)
        for number, record in enumerate(page.records, start=1):
            yield f"{path.name} rows {number}", _rows(record)


def digests() -> dict[str, str]:
    return {name: hashlib.sha256(text.encode()).hexdigest()[:32] for name, text in rendered()}


def test_every_fixture_gives_the_same_rows_as_before():
    if os.environ.get("WRITE_ENCODED_ROWS"):
        GOLDEN.write_text("".join(f"{name} {digest}\n" for name, digest in digests().items()))
        pytest.skip(f"wrote {GOLDEN.name}")
    expected = dict(line.rsplit(" ", 1) for line in GOLDEN.read_text().splitlines())
    actual = digests()
    assert len(actual) > 1_000
    changed = [name for name in expected if actual.get(name) != expected[name]]
    assert not changed, f"{len(changed)} items changed, first: {changed[:5]}"
    assert actual.keys() == expected.keys()


def test_the_variants_take_the_rare_paths():
    lines = snapshot_inputs()["variants"]
    items = bulk.prepare_lines(1, lines)
    errors = [item for item in items if isinstance(item, RecordError)]
    prepared = [item for item in items if isinstance(item, bulk.Prepared)]
    assert len(errors) >= 15 and len(prepared) >= 20
    assert any(b"ATLAS" in p.encoded.signatures for p in prepared)
    assert any(p.encoded.organisations for p in prepared)


@pytest.mark.parametrize("fully", [True, False])
def test_a_fingerprint_is_the_full_preparations_hash(fully):
    lines = snapshot_inputs()[SNAPSHOT.name]
    full = bulk.prepare_lines(1, lines)
    other = bulk.prepare_lines(1, lines, fully)
    assert [(p.arxiv_id, p.content_hash, p.freshness) for p in full] == [
        (p.arxiv_id, p.content_hash, p.freshness) for p in other
    ]


# ASCII text, whitespace of every kind and non-ASCII letters mixed in; long ASCII text takes
# another path through _collapse.
_ASCII = list("ab Z.'`-\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f")
_TEXTS = st.text(st.sampled_from([*_ASCII, "\xa0", "\u2003", "é", "ø", "ß", "\u0301"]))
_LONG_ASCII = st.text(st.sampled_from(_ASCII), min_size=200, max_size=1_000)


@given(st.one_of(_TEXTS, _LONG_ASCII))
def test_collapsing_whitespace_is_splitting_and_joining(text):
    assert parsers._collapse(text) == " ".join(text.split())


@given(_TEXTS)
def test_folding_ascii_skips_only_what_does_nothing(text):
    decomposed = unicodedata.normalize("NFKD", text)
    marks_dropped = "".join(c for c in decomposed if not unicodedata.combining(c))
    assert names._fold(text) == marks_dropped.translate(names._FOLD).casefold()


@given(_TEXTS)
def test_cleaning_a_name_collapses_as_the_regex_did(text):
    assert names._clean(text) == re.sub(r"\s+", " ", names.latex_to_unicode(text)).strip()
