"""Hostile and broken input, ids, dates, format detection, and fixture coverage."""

import datetime as dt
import io
from pathlib import Path

import orjson
import pytest
from support import FIXTURES

from works.arxiv.parsers import (
    MAX_TITLE_LENGTH,
    detect_format,
    iter_snapshot,
    normalise_arxiv_id,
    parse_atom,
    parse_date,
    parse_oai,
    parse_snapshot,
    recorded_json_body,
)
from works.arxiv.records import ArxivFormatError, ParsedRecord, RecordError

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<feed xmlns="http://www.w3.org/2005/Atom"><entry>
<id>http://arxiv.org/abs/2501.12948v1</id><title>&lol9;</title></entry></feed>"""

XXE_ATOM = b"""<?xml version="1.0"?>
<!DOCTYPE feed [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<feed xmlns="http://www.w3.org/2005/Atom"><entry>
<id>http://arxiv.org/abs/2501.12948v1</id><title>&xxe;</title></entry></feed>"""

XXE_OAI = b"""<?xml version="1.0"?>
<!DOCTYPE OAI-PMH [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>&xxe;</responseDate>
</OAI-PMH>"""


def atom_with_titles(*titles: bytes) -> bytes:
    entries = b"".join(
        b"<entry><id>http://arxiv.org/abs/2501.%05dv1</id><title>%s</title></entry>" % (n, t)
        for n, t in enumerate(titles, start=10000)
    )
    return b'<feed xmlns="http://www.w3.org/2005/Atom">' + entries + b"</feed>"


# --- XML attacks and breakage ----------------------------------------------


@pytest.mark.parametrize("parse", [parse_atom, parse_oai])
def test_billion_laughs_is_refused_without_expanding(parse):
    with pytest.raises(ArxivFormatError, match="DOCTYPE/ENTITY declaration"):
        parse(BILLION_LAUGHS)
    with pytest.raises(ArxivFormatError, match="DOCTYPE/ENTITY declaration"):
        detect_format(BILLION_LAUGHS)


@pytest.mark.parametrize(("parse", "data"), [(parse_atom, XXE_ATOM), (parse_oai, XXE_OAI)])
def test_xxe_reading_etc_passwd_is_refused(parse, data):
    with pytest.raises(ArxivFormatError, match="DOCTYPE/ENTITY declaration") as info:
        parse(data)
    assert "root:" not in str(info.value)


def test_xxe_in_utf16_is_refused_too():
    data = XXE_ATOM.replace(b'version="1.0"', b'version="1.0" encoding="UTF-16"')
    with pytest.raises(ArxivFormatError, match="DOCTYPE/ENTITY declaration"):
        parse_atom(data.decode("ascii").encode("utf-16"))


@pytest.mark.parametrize(
    ("parse", "name"),
    [
        (parse_atom, "api_query_multi_all_testing_start0_max10.atom.xml"),
        (parse_oai, "oai_listrecords_arxivraw_page1_resumptiontoken.xml"),
    ],
)
def test_truncated_xml_is_a_format_error(fixture, parse, name):
    data = fixture(name)
    with pytest.raises(ArxivFormatError, match="^malformed XML: "):
        parse(data[: len(data) // 2])


@pytest.mark.parametrize("parse", [parse_atom, parse_oai, parse_snapshot])
def test_empty_input_is_a_format_error(parse):
    with pytest.raises(ArxivFormatError, match="empty input"):
        parse(b"")


def test_wrong_document_kind_is_a_format_error(fixture):
    with pytest.raises(ArxivFormatError, match="not an Atom feed"):
        parse_atom(fixture("oai_getrecord_arxivraw_1302.2146.xml"))
    with pytest.raises(ArxivFormatError, match="not an OAI-PMH response"):
        parse_oai(fixture("api_idlist_single_1605.08386.atom.xml"))


# --- size guards -----------------------------------------------------------


def test_overlong_title_is_a_record_error_and_the_rest_parses():
    page = parse_atom(atom_with_titles(b"x" * (MAX_TITLE_LENGTH + 1), b"fine"))
    assert [r.title for r in page.records] == ["fine"]
    assert [(e.where, e.reason) for e in page.errors] == [
        ("http://arxiv.org/abs/2501.10000v1", "title too long (10001 characters)")
    ]


def test_ten_megabyte_title_in_the_snapshot_is_a_record_error():
    big = orjson.dumps({"id": "2501.12948", "title": "x" * (10 * 1024 * 1024)})
    ok = orjson.dumps({"id": "2501.12949", "title": "fine"})
    page = parse_snapshot(big + b"\n" + ok + b"\n")
    assert [r.arxiv_id for r in page.records] == ["2501.12949"]
    assert [(e.where, e.reason) for e in page.errors] == [
        ("2501.12948", "title too long (10485760 characters)")
    ]


def test_ten_megabyte_title_in_xml_fails_cleanly():
    # libxml2 without huge_tree refuses any text node over 10,000,000 characters,
    # so the whole document is refused (cleanly), not expanded into memory.
    with pytest.raises(ArxivFormatError, match="^malformed XML: .*[Tt]ext node too long"):
        parse_atom(atom_with_titles(b"x" * (10 * 1024 * 1024), b"fine"))


# --- ids -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2501.12948", ("2501.12948", None)),
        ("2501.12948v2", ("2501.12948", 2)),
        ("http://arxiv.org/abs/2501.12948v12", ("2501.12948", 12)),
        ("https://arxiv.org/abs/1605.08386", ("1605.08386", None)),
        ("https://arxiv.org/pdf/1605.08386v1", ("1605.08386", 1)),
        ("arXiv:0704.0001", ("0704.0001", None)),
        ("oai:arXiv.org:0704.0471", ("0704.0471", None)),
        ("hep-th/9901001", ("hep-th/9901001", None)),
        ("http://arxiv.org/abs/cond-mat/0412498v1", ("cond-mat/0412498", 1)),
        ("oai:arXiv.org:cond-mat/0412498", ("cond-mat/0412498", None)),
        ("https://arxiv.org/abs/hep-th%2F9901001v3", ("hep-th/9901001", 3)),
        ("math.CA/0611800", ("math/0611800", None)),
        ("arXiv:math.CA/0611800v2", ("math/0611800", 2)),
        (" 1412.6529v2 ", ("1412.6529", 2)),
    ],
)
def test_normalise_arxiv_id(raw, expected):
    assert normalise_arxiv_id(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "abc",
        "0808.05394",  # 5 digits in 2008
        "1501.0001",  # 4 digits in 2015
        "0000.0000",
        "0813.2274",  # month 13
        "0703.0001",  # new scheme starts in 0704
        "1305.0014v0",
        "is-malformed",
        "hep-th/99010011",
        "http://arxiv.org/api/errors#incorrect_id_format_for_abc",
    ],
)
def test_malformed_ids_are_refused(raw):
    with pytest.raises(ArxivFormatError, match="malformed arXiv id"):
        normalise_arxiv_id(raw)


# --- dates -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tue, 3 Apr 2007 22:04:11 GMT", dt.datetime(2007, 4, 3, 22, 4, 11, tzinfo=dt.UTC)),
        ("Fri, 28 Sep 2007 15:13:43 GMT", dt.datetime(2007, 9, 28, 15, 13, 43, tzinfo=dt.UTC)),
        ("2016-05-26T17:59:46Z", dt.datetime(2016, 5, 26, 17, 59, 46, tzinfo=dt.UTC)),
        ("2016-10-09T00:00:00-04:00", dt.datetime(2016, 10, 9, 4, 0, tzinfo=dt.UTC)),
        ("2013-04-30", dt.datetime(2013, 4, 30, tzinfo=dt.UTC)),
        ("\n 2013-04-30\n", dt.datetime(2013, 4, 30, tzinfo=dt.UTC)),
    ],
)
def test_dates_become_utc(text, expected):
    parsed = parse_date(text)
    assert parsed == expected
    assert parsed.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize("text", ["", "soon", "2013-13-01", "Tue, 33 Apr 2007"])
def test_bad_dates_are_format_errors(text):
    with pytest.raises(ArxivFormatError):
        parse_date(text)


# --- detection and the recorded wrappers ----------------------------------


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b'<?xml version="1.0"?>\n<feed xmlns="http://www.w3.org/2005/Atom">', "atom"),
        (b"\xef\xbb\xbf<!-- c --><OAI-PMH xmlns='x'>", "oai"),
        (b'  {"id": "0704.0001"}\n', "snapshot"),
    ],
)
def test_detect_format(head, kind):
    assert detect_format(head) == kind


@pytest.mark.parametrize("head", [b"", b"   \n", b"<html><body>", b"%PDF-1.4", b"[1, 2]"])
def test_detect_format_refuses_anything_else(head):
    with pytest.raises(ArxivFormatError):
        detect_format(head)


def test_recorded_json_body_rejects_non_recordings():
    with pytest.raises(ArxivFormatError, match="not a recorded response"):
        recorded_json_body(b'{"url": "x"}')


def test_bad_snapshot_line_in_the_middle_of_the_real_file(fixture):
    lines = fixture("kaggle_snapshot_first200.jsonl").splitlines(keepends=True)
    corrupted = b"".join(lines[:100] + [b"this is not json\n"] + lines[100:])
    items = list(iter_snapshot(io.BytesIO(corrupted)))
    errors = [i for i in items if isinstance(i, RecordError)]
    records = [i for i in items if isinstance(i, ParsedRecord)]
    assert [(e.where, e.reason[:8]) for e in errors] == [("line 101", "not JSON")]
    assert len(records) == 200
    assert records[-1].arxiv_id == "0704.0200"


# --- every fixture file is exercised by name --------------------------------


def test_every_fixture_file_is_tested_by_name():
    sources = "".join(
        path.read_text(encoding="utf-8") for path in Path(__file__).parent.glob("test_parse_*.py")
    )
    untested = [
        p.name
        for p in sorted(FIXTURES.iterdir())
        if p.name != "README.md" and p.name not in sources
    ]
    assert untested == []
