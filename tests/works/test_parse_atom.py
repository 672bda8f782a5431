"""The query API (Atom) parser against real 2016 and 2026 responses."""

import datetime as dt

import pytest

from works.arxiv.parsers import detect_format, parse_atom, recorded_json_body
from works.arxiv.records import ArxivApiError, ParsedRecord


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def by_id(records: list[ParsedRecord]) -> dict[str, ParsedRecord]:
    return {r.arxiv_id: r for r in records}


def printed(record: ParsedRecord) -> list[str]:
    return [a.printed for a in record.authors]


# --- current (2026) output ------------------------------------------------


def test_single_id_current_output(fixture):
    data = fixture("api_idlist_single_1605.08386.atom.xml")
    assert detect_format(data) == "atom"
    page = parse_atom(data)

    assert (page.total_results, page.start_index, page.items_per_page) == (1, 0, 100)
    assert page.errors == []
    [record] = page.records
    assert record.arxiv_id == "1605.08386"
    assert record.version == 1
    assert record.title == "Heat-bath random walks with Markov bases"
    assert record.abstract.startswith("Graphs on lattice points are studied whose edges")
    assert record.abstract.endswith("is an expander in fixed dimension.")
    assert record.categories == ["math.CO", "math.ST"]
    assert record.primary_category == "math.CO"
    assert record.submitted == utc(2016, 5, 26, 17, 59, 46)
    assert record.updated == utc(2016, 5, 26, 17, 59, 46)
    assert record.comments == "20 pages, 3 figures"
    assert record.journal_ref == ""
    assert record.dois == []
    assert record.versions == []
    assert record.source == "api"
    assert record.withdrawn is False
    assert printed(record) == ["Caprice Stanley", "Tobias Windisch"]


def test_recorded_json_route_gives_the_same_page(fixture):
    direct = parse_atom(fixture("api_idlist_single_1605.08386.atom.xml"))
    recorded = parse_atom(recorded_json_body(fixture("api_idlist_single_1605.08386.recorded.json")))
    assert recorded == direct


def test_title_zero_survives(fixture):
    for data in (
        fixture("api_idlist_single_versioned_2104.12255v1.atom.xml"),
        recorded_json_body(fixture("api_idlist_single_versioned_2104.12255v1.recorded.json")),
    ):
        [record] = parse_atom(data).records
        assert record.arxiv_id == "2104.12255"
        assert record.version == 1
        assert record.title == "0"
        assert record.categories == ["cs.CR"]
        assert printed(record) == ["Quan Thoi Minh Nguyen"]
        assert "awarded $35,000 in total" in record.abstract
        assert '"splitting zero" attacks' in record.abstract
        assert record.submitted == utc(2021, 4, 20, 16, 7, 14)


def test_two_ids_one_unknown_keeps_the_known_one_and_its_accents(fixture):
    page = parse_atom(fixture("api_idlist_two_ids_one_unknown_0808.05394_1707.08567.atom.xml"))
    assert page.total_results == 1
    assert page.errors == []
    [record] = page.records
    assert record.arxiv_id == "1707.08567"
    assert record.version == 1
    assert record.title == (
        "Proceedings of Workshop AEW10: Concepts in Information Theory and Communications"
    )
    assert len(record.authors) == 34
    assert record.authors[0].printed == "Kees A. Schouhamer Immink"
    assert record.authors[32].printed == "Dirk Wübben"
    assert record.authors[33].printed == "Hirosuke Yamamoto"
    assert record.comments == (
        "44 pages, editors for the proceedings: Yanling Chen and A. J. Han Vinck"
    )


def test_recorded_json_must_be_reencoded_latin1(fixture):
    raw = fixture("api_idlist_two_ids_one_unknown_0808.05394_1707.08567.recorded.json")
    body = recorded_json_body(raw)
    assert body == fixture("api_idlist_two_ids_one_unknown_0808.05394_1707.08567.atom.xml")
    [record] = parse_atom(body).records
    assert record.authors[32].printed == "Dirk Wübben"

    # Read naively (the JSON text encoded as UTF-8), the name is mojibake.
    import json

    naive = json.loads(raw)["body"].encode("utf-8")
    [wrong] = parse_atom(naive).records
    assert wrong.authors[32].printed == "Dirk WÃ¼bben"


def test_error_feed_raises_with_the_summary(fixture):
    for data in (
        fixture("api_error_http400_incorrect_id_format_abc.atom.xml"),
        recorded_json_body(fixture("api_error_http400_incorrect_id_format_abc.recorded.json")),
    ):
        with pytest.raises(ArxivApiError) as info:
            parse_atom(data)
        assert str(info.value) == "incorrect id format for abc"


def test_empty_feed_is_zero_records_not_an_error(fixture):
    for data in (
        fixture("api_idlist_empty_0000.0000.atom.xml"),
        recorded_json_body(fixture("api_idlist_empty_0000.0000.recorded.json")),
    ):
        page = parse_atom(data)
        assert page.records == []
        assert page.errors == []
        assert (page.total_results, page.start_index, page.items_per_page) == (0, 0, 100)


def test_query_page_one_current_output(fixture):
    for data in (
        fixture("api_query_multi_all_testing_start0_max10.atom.xml"),
        recorded_json_body(fixture("api_query_multi_all_testing_start0_max10.recorded.json")),
    ):
        page = parse_atom(data)
        assert (page.total_results, page.start_index, page.items_per_page) == (214881, 0, 10)
        assert [(r.arxiv_id, r.version) for r in page.records] == [
            ("2202.12139", 1),
            ("2405.13786", 1),
            ("2005.14124", 2),
            ("2204.08348", 3),
            ("2302.03287", 3),
            ("1202.4527", 1),
            ("2503.05378", 2),
            ("1205.1866", 1),
            ("2502.07719", 2),
            ("1812.11470", 1),
        ]
        records = by_id(page.records)

        first = records["2202.12139"]
        assert first.categories == ["cs.SE", "cs.LG"]
        assert first.dois == ["10.1109/ICSTW55395.2022.00035"]
        assert first.journal_ref.startswith("Artificial Intelligence in Software Testing @ 2022")
        assert printed(first) == ["Mohit Kumar Ahuja", "Arnaud Gotlieb", "Helge Spieker"]

        assert records["2405.13786"].authors[0].printed == "Aurora Ramírez"
        assert records["2302.03287"].title == (
            "ChatGPT and Software Testing Education: Promises & Perils"
        )
        assert records["1202.4527"].journal_ref.startswith(
            "International Journal of Software Engineering & Applications (IJSEA)"
        )
        revised = records["2204.08348"]
        assert revised.submitted == utc(2022, 4, 18, 14, 46, 24)
        assert revised.updated == utc(2022, 7, 6, 5, 12, 56)
        assert records["1205.1866"].primary_category == "cs.AR"


def test_query_page_two_paging_fields(fixture):
    for data in (
        fixture("api_query_multi_all_testing_start10_max10.atom.xml"),
        recorded_json_body(fixture("api_query_multi_all_testing_start10_max10.recorded.json")),
    ):
        page = parse_atom(data)
        assert (page.total_results, page.start_index, page.items_per_page) == (214881, 10, 10)
        assert len(page.records) == 10
        records = by_id(page.records)
        first = records["2403.16981"]
        assert first.version == 2
        assert first.categories == ["math.ST", "cs.IT", "stat.ML"]
        assert first.submitted == utc(2024, 3, 25, 17, 42, 32)
        assert first.updated == utc(2025, 5, 24, 5, 50, 33)
        # Unicode Greek inside LaTeX math is kept exactly.
        assert "type-I error at most $α$" in first.abstract
        assert "i.i.d.\\ samples" in first.abstract
        assert [r.primary_category for r in page.records][:4] == [
            "math.ST",
            "stat.AP",
            "cs.SE",
            "econ.EM",
        ]
        assert records["2202.06271"].authors[0].printed == "Katharina Götz"


def test_query_max100_affiliations_old_ids_and_overlap(fixture):
    for data in (
        fixture("api_query_multi_testing_start0_max100.atom.xml"),
        recorded_json_body(fixture("api_query_multi_testing_start0_max100.recorded.json")),
    ):
        page = parse_atom(data)
        assert (page.total_results, page.start_index, page.items_per_page) == (214881, 0, 100)
        assert len(page.records) == 100
        assert page.errors == []
        records = by_id(page.records)

        gaudel = records["0804.0970"]
        assert [(a.printed, a.affiliation) for a in gaudel.authors] == [
            ("Marie-Claude Gaudel", "LRI"),
            ("Pascale Le Gall", "IBISC"),
        ]
        assert gaudel.categories == ["cs.PL"]

        old = [r.arxiv_id for r in page.records if "/" in r.arxiv_id]
        assert old == ["cs/0503050", "hep-ph/0301050", "gr-qc/0103067"]
        anarchy = records["hep-ph/0301050"]
        assert anarchy.version == 2
        assert anarchy.title == "Statistical Test of Anarchy"
        assert anarchy.abstract.startswith('"Anarchy" is the hypothesis')  # leading spaces gone
        assert anarchy.journal_ref == "Phys.Lett.B573:94-100,2003"
        assert anarchy.submitted == utc(2003, 1, 8, 20, 15, 43)
        assert anarchy.updated == utc(2003, 6, 30, 3, 20, 20)

        assert any(
            r.title == "$ω$Test: WebView-Oriented Testing for Android Applications"
            for r in page.records
        )
        # README counts: 46 multi-category, 36 revised, 32 with a DOI.
        assert sum(len(r.categories) > 1 for r in page.records) == 46
        assert sum(r.version > 1 for r in page.records) == 36
        assert sum(bool(r.dois) for r in page.records) == 32

    # Its first 20 entries are the two 10-entry pages.
    big = [
        r.arxiv_id
        for r in parse_atom(fixture("api_query_multi_testing_start0_max100.atom.xml")).records
    ]
    page1 = parse_atom(fixture("api_query_multi_all_testing_start0_max10.atom.xml")).records
    page2 = parse_atom(fixture("api_query_multi_all_testing_start10_max10.atom.xml")).records
    assert big[:20] == [r.arxiv_id for r in page1 + page2]


# --- legacy (2016) output -------------------------------------------------


def test_legacy_single_versioned_id(fixture):
    page = parse_atom(fixture("api_legacy_idlist_single_1111.2011v2.atom.xml"))
    assert (page.total_results, page.start_index, page.items_per_page) == (1, 0, 10)
    [record] = page.records
    assert record.arxiv_id == "1111.2011"
    assert record.version == 2
    assert record.submitted == utc(2011, 11, 8, 18, 48, 36)
    assert record.updated == utc(2012, 4, 2, 12, 38, 54)
    # Hard-wrapped title and abstract (leading spaces, trailing newline) collapse.
    assert record.title == (
        "Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large Connectivity Limit"
    )
    assert record.abstract.startswith(
        "Theoretical description of anisotropic systems, such as layered superconductors"
    )
    assert record.abstract.endswith("describing a single node.")
    assert "\n" not in record.abstract
    assert record.categories == ["cond-mat.str-el", "cond-mat.stat-mech"]
    assert record.dois == ["10.1103/PhysRevB.85.115117"]
    assert record.journal_ref == "Phys. Rev. B 85, 115117 (2012)"
    assert record.comments == "8 pages, 3 figures. Published version"
    assert printed(record) == ["James M. Murray", "Adrian Del Maestro", "Zlatko Tesanovic"]


def test_legacy_query_both_id_schemes_entities_and_latex(fixture):
    page = parse_atom(fixture("api_legacy_query_multi_au_del_maestro.atom.xml"))
    assert (page.total_results, page.start_index, page.items_per_page) == (31, 0, 10)
    assert [(r.arxiv_id, r.version) for r in page.records] == [
        ("1201.4869", 1),
        ("cond-mat/0412498", 1),
        ("cond-mat/0603029", 1),
        ("1005.5383", 1),
        ("1303.6954", 2),
        ("1312.6177", 1),
        ("1412.6529", 2),
        ("cond-mat/0607501", 2),
        ("cond-mat/0702661", 2),
        ("0807.2873", 1),
    ]
    records = by_id(page.records)

    melting = records["cond-mat/0412498"]
    assert melting.categories == ["cond-mat.str-el", "cond-mat.stat-mech"]
    assert melting.dois == ["10.1103/PhysRevB.71.184511"]
    assert melting.journal_ref == "Physical Review B 71, 184511 (2005)"
    assert printed(melting) == ["Adrian Del Maestro", "Subir Sachdev"]
    # &gt; decoded once, never twice.
    assert '"p x p" density wave ordering on the square lattice (p >= 3, integer)' in (
        melting.abstract
    )

    partition = records["1412.6529"]
    assert partition.submitted == utc(2014, 12, 19, 21, 0, 8)
    assert partition.updated == utc(2015, 2, 25, 23, 4, 37)
    assert partition.abstract.startswith("We consider the R\\'{e}nyi entanglement entropy")
    assert "$\\delta$-function interacting bosons" in partition.abstract
    assert partition.comments == (
        "10 pages, 8 figures; updated figure 5, added references, revised text, reformatted"
    )
    assert "A. Del Maestro" in printed(partition)

    assert records["cond-mat/0603029"].title == (
        "From stripe to checkerboard order on the square lattice "
        "in the presence of quenched disorder"
    )
    assert records["1303.6954"].submitted == utc(2013, 3, 27, 20, 0, 4)


def test_elements_are_selected_by_name_not_position():
    data = b"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom">
  <entry>
    <arxiv:doi>10.1/a 10.1/b</arxiv:doi>
    <category term="hep-th"/>
    <author><name>A. Author</name><arxiv:affiliation>X</arxiv:affiliation></author>
    <published>2001-02-03T04:05:06-04:00</published>
    <category term="math.CA"/>
    <arxiv:primary_category term="math.CA"/>
    <summary>S</summary>
    <title>T</title>
    <id>https://arxiv.org/abs/math.CA/0611800v3</id>
  </entry>
</feed>"""
    [record] = parse_atom(data).records
    assert record.arxiv_id == "math/0611800"
    assert record.version == 3
    assert record.categories == ["math.CA", "hep-th"]
    assert record.dois == ["10.1/a", "10.1/b"]
    assert record.submitted == utc(2001, 2, 3, 8, 5, 6)
    assert record.updated == record.submitted
    assert (record.title, record.abstract) == ("T", "S")
    assert record.authors[0].affiliation == "X"


def test_malformed_entries_are_reported_and_the_rest_parsed():
    data = b"""<feed xmlns="http://www.w3.org/2005/Atom">
  <entry><title>no id</title></entry>
  <entry><id>http://arxiv.org/abs/0808.05394v1</id><title>bad id</title></entry>
  <entry><id>http://arxiv.org/abs/2501.12948v2</id><title>good</title>
    <published>not a date</published></entry>
  <entry><id>http://arxiv.org/abs/2501.12948v2</id><title>good</title></entry>
</feed>"""
    page = parse_atom(data)
    assert [(r.arxiv_id, r.version, r.title) for r in page.records] == [("2501.12948", 2, "good")]
    assert [e.where for e in page.errors] == [
        "entry 1",
        "http://arxiv.org/abs/0808.05394v1",
        "http://arxiv.org/abs/2501.12948v2",
    ]
    assert page.errors[0].reason == "entry has no id"
    assert "malformed arXiv id" in page.errors[1].reason
    assert "unparsable date" in page.errors[2].reason
