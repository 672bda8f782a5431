"""The Kaggle snapshot (JSON lines) parser."""

import datetime as dt
import io

import orjson

from works.arxiv.parsers import detect_format, iter_snapshot, parse_snapshot
from works.arxiv.records import ParsedRecord, ParsedVersion, RecordError

SNAPSHOT = "kaggle_snapshot_first200.jsonl"


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def snapshot_records(fixture) -> dict[str, ParsedRecord]:
    page = parse_snapshot(fixture(SNAPSHOT))
    assert page.errors == []
    return {r.arxiv_id: r for r in page.records}


def test_first_200_lines_parse(fixture):
    data = fixture(SNAPSHOT)
    assert detect_format(data) == "snapshot"
    page = parse_snapshot(data)
    assert page.errors == []
    assert len(page.records) == 200
    assert page.records[0].arxiv_id == "0704.0001"
    assert page.records[-1].arxiv_id == "0704.0200"
    # Counts given in the fixtures README.
    assert sum(len(r.versions) > 1 for r in page.records) == 87
    assert max(len(r.versions) for r in page.records) == 5
    assert sum(len(r.categories) > 1 for r in page.records) == 78
    assert sum(r.license == "" for r in page.records) == 181
    assert {r.source for r in page.records} == {"snapshot"}


def test_first_record_exact_values(fixture):
    record = snapshot_records(fixture)["0704.0001"]
    assert record.version == 2
    assert record.versions == [
        ParsedVersion(1, utc(2007, 4, 2, 19, 18, 42)),
        ParsedVersion(2, utc(2007, 7, 24, 20, 10, 27)),
    ]
    assert record.submitted == utc(2007, 4, 2, 19, 18, 42)
    assert record.updated == utc(2007, 7, 24, 20, 10, 27)
    assert record.datestamp == dt.date(2008, 11, 26)
    assert record.title == (
        "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    )
    assert record.abstract.startswith("A fully differential calculation in perturbative")
    assert record.abstract.endswith("judicious selection of events.")
    # authors_parsed is already Unicode (the free text says C. Bal\'azs).
    assert [a.printed for a in record.authors] == [
        "C. Balázs",
        "E. L. Berger",
        "P. M. Nadolsky",
        "C. -P. Yuan",
    ]
    assert record.authors[0].keyname == "Balázs"
    assert record.categories == ["hep-ph"]
    assert record.dois == ["10.1103/PhysRevD.76.013009"]
    assert record.journal_ref == "Phys.Rev.D76:013009,2007"
    assert record.report_no == "ANL-HEP-PR-07-12"
    assert record.comments == "37 pages, 15 figures; published version"
    assert record.license == ""  # null
    assert record.withdrawn is False


def test_suffix_affiliations_and_licence(fixture):
    records = snapshot_records(fixture)

    evans = records["0704.0009"].authors[5]
    assert (evans.printed, evans.keyname, evans.forenames, evans.suffix) == (
        "Neal J. Evans II",
        "Evans",
        "Neal J.",
        "II",
    )
    assert records["0704.0009"].comments == ""  # null

    # authors_parsed only kept the "(1 and 2)" markers; the real affiliations
    # come from the free-text author string.
    mishchenko, nagaosa = records["0704.0025"].authors
    assert mishchenko.printed == "A. S. Mishchenko"
    assert "CREST, Japan Science and Technology Agency" in mishchenko.affiliation
    assert "1 and 2" not in mishchenko.affiliation
    assert "The University of Tokyo" in nagaosa.affiliation
    assert records["0704.0025"].categories == ["cond-mat.str-el", "cond-mat.stat-mech"]
    assert records["0704.0025"].comments.startswith(
        '41 pages, 13 figures, in "Polarons in Advanced Materials" ed. A. S. Alexandrov'
    )

    malik = records["0704.0064"]
    assert malik.version == 5
    assert [v.number for v in malik.versions] == [1, 2, 3, 4, 5]
    assert malik.updated == utc(2008, 10, 24, 12, 23, 58)
    assert malik.license == "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"
    assert [(a.printed, a.affiliation) for a in malik.authors] == [("R. P. Malik", "Bhu")]


def test_withdrawn_paper(fixture):
    records = snapshot_records(fixture)
    withdrawn = records["0704.0156"]
    assert withdrawn.withdrawn is True
    assert withdrawn.comments.startswith("This paper has been withdrawn by the authors.")
    assert withdrawn.version == 2
    assert withdrawn.dois == ["10.1029/2007JA012441"]
    assert [r.arxiv_id for r in records.values() if r.withdrawn] == ["0704.0156"]


def test_streaming_reports_bad_lines_and_keeps_going(fixture):
    lines = fixture(SNAPSHOT).splitlines(keepends=True)
    stream = io.BytesIO(
        b"".join(
            [
                lines[0],
                b'{"id": "0704.0002", "title": "broken\n',  # not JSON (cut)
                b"\n",  # blank: skipped
                b'{"title": "no id", "authors": "A. Person"}\n',
                b'["a", "list"]\n',
                b'{"id": "0808.05394", "title": "bad id"}\n',
                b'{"id": "0704.0003", "versions": [{"version": "v1", "created": "soon"}]}\n',
                *lines[1:3],
            ]
        )
    )
    items = list(iter_snapshot(stream))
    assert [i.arxiv_id for i in items if isinstance(i, ParsedRecord)] == [
        "0704.0001",
        "0704.0002",
        "0704.0003",
    ]
    errors = [i for i in items if isinstance(i, RecordError)]
    assert [e.where for e in errors] == ["line 2", "line 4", "line 5", "0808.05394", "0704.0003"]
    assert errors[0].reason.startswith("not JSON")
    assert errors[1].reason == "record has no id"
    assert errors[2].reason == "not a JSON object"
    assert "malformed arXiv id" in errors[3].reason
    assert "unparsable date" in errors[4].reason


def test_iter_snapshot_is_lazy():
    def lines():
        yield orjson.dumps({"id": "0704.0001", "title": "one"}) + b"\n"
        raise AssertionError("read past the first record")

    first = next(iter_snapshot(lines()))
    assert first.arxiv_id == "0704.0001"
    assert first.title == "one"
    assert first.version == 1
    assert first.versions == []
    assert (first.submitted, first.updated, first.datestamp) == (None, None, None)


def test_free_text_authors_when_authors_parsed_is_missing():
    line = orjson.dumps(
        {
            "id": "math.CA/0611800",
            "authors": "D.V. Shetty, S.J. Yennello, and G.A. Souliotis",
            "authors_parsed": None,
            "title": "0",
            "doi": "10.1/a 10.1/b",
            "comments": "Withdrawn by the author due to an error",
        }
    )
    [record] = parse_snapshot(line).records
    assert record.arxiv_id == "math/0611800"
    assert record.title == "0"
    assert [a.printed for a in record.authors] == ["D.V. Shetty", "S.J. Yennello", "G.A. Souliotis"]
    assert record.dois == ["10.1/a", "10.1/b"]
    assert record.withdrawn is True
