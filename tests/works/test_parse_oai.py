"""The OAI-PMH parser (arXiv and arXivRaw formats, errors, paging)."""

import datetime as dt

import pytest

from works.arxiv.parsers import detect_format, parse_oai
from works.arxiv.records import OaiError, ParsedVersion


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


# --- arXivRaw -------------------------------------------------------------


def test_arxivraw_page_with_resumption_token(fixture):
    data = fixture("oai_listrecords_arxivraw_page1_resumptiontoken.xml")
    assert detect_format(data) == "oai"
    page = parse_oai(data)

    # Trimmed by the fixture author: 6 records, but a real page-1 token.
    assert page.resumption_token == "726959|1001"
    assert page.cursor == 0
    assert page.complete_list_size == 58011
    assert page.response_date == utc(2015, 1, 6, 20, 49, 59)
    assert page.errors == []
    assert page.deleted_ids == []
    assert [(r.arxiv_id, r.version) for r in page.records] == [
        ("0704.0471", 1),
        ("0704.0716", 4),
        ("0704.0874", 3),
        ("0704.1109", 2),
        ("0704.1114", 1),
        ("0704.1586", 1),
    ]
    records = {r.arxiv_id: r for r in page.records}

    shetty = records["0704.0471"]
    assert shetty.source == "oai-arXivRaw"
    assert shetty.datestamp == dt.date(2014, 11, 18)  # years after submission
    assert shetty.versions == [ParsedVersion(1, utc(2007, 4, 3, 22, 4, 11), 294)]
    assert shetty.submitted == shetty.updated == utc(2007, 4, 3, 22, 4, 11)
    assert shetty.dois == ["10.1103/PhysRevC.76.024606", "10.1103/PhysRevC.76.039902"]
    assert shetty.journal_ref == "Phys.Rev.C76:024606,2007; Erratum-ibid.C76:039902,2007"
    assert shetty.title == (
        "Density dependence of the symmetry energy and the nuclear equation of state: "
        "A Dynamical and Statistical model perspective"
    )
    # Oxford-comma author list.
    assert [a.printed for a in shetty.authors] == [
        "D.V. Shetty",
        "S.J. Yennello",
        "G.A. Souliotis",
    ]
    # &quot; decoded once.
    assert 'rules out an extremely " stiff " and " soft " form' in shetty.abstract
    assert shetty.license == ""
    assert shetty.categories == ["nucl-ex", "nucl-th"]

    richard = records["0704.0716"]
    assert [(v.number, v.submitted, v.size_kb) for v in richard.versions] == [
        (1, utc(2007, 4, 5, 12, 45, 3), 43),
        (2, utc(2007, 9, 28, 15, 13, 43), 48),
        (3, utc(2008, 2, 29, 16, 5, 39), 48),
        (4, utc(2008, 11, 14, 9, 7, 25), 49),
    ]
    assert richard.submitted == utc(2007, 4, 5, 12, 45, 3)
    assert richard.updated == utc(2008, 11, 14, 9, 7, 25)
    assert richard.categories == ["math-ph", "math.MP"]
    assert richard.license == "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"
    assert richard.journal_ref == (
        "Polygons, polyominoes and polycubes, 247-299, Lecture Notes in Phys., 775, "
        "Springer, Dordrecht, 2009"
    )

    assert [a.printed for a in records["0704.1109"].authors] == [
        "Valeria M. Rosa",
        "Patricio S. letelier",
    ]
    summers = records["0704.1586"]
    assert summers.title == (
        "Core excitation in the elastic scattering and breakup of $^{11}$Be on protons"
    )
    assert summers.dois == ["10.1103/PhysRevC.76.014611", "10.1103/PhysRev.C77.049901"]
    assert records["0704.1114"].dois == ["10.1086/518736"]


def test_arxivraw_getrecord(fixture):
    page = parse_oai(fixture("oai_getrecord_arxivraw_1302.2146.xml"))
    assert page.resumption_token is None
    assert page.response_date == utc(2015, 1, 6, 20, 48, 16)
    [record] = page.records
    assert record.arxiv_id == "1302.2146"
    assert record.version == 2
    assert record.versions == [
        ParsedVersion(1, utc(2013, 2, 8, 21, 0, 1), 853),
        ParsedVersion(2, utc(2013, 4, 2, 1, 50, 8), 849),
    ]
    assert record.datestamp == dt.date(2013, 4, 3)
    assert record.title == "The Same-Sign Dilepton Signature of RPV/MFV SUSY"
    assert [a.printed for a in record.authors] == [
        "Joshua Berger",
        "Maxim Perelstein",
        "Michael Saelim",
        "Philip Tanedo",
    ]
    assert record.categories == ["hep-ph", "hep-ex"]
    assert record.comments == "18 pages, 6 figures; v2: References added"
    assert record.withdrawn is False


# --- arXiv ----------------------------------------------------------------


def test_arxiv_format_collaboration_record(fixture):
    page = parse_oai(fixture("oai_getrecord_arxiv_collaboration_1603.05976.xml"))
    assert page.response_date == utc(2016, 6, 30, 12, 56, 53)
    [record] = page.records
    assert record.arxiv_id == "1603.05976"
    assert record.source == "oai-arXiv"
    # This format has no version numbers: version 1, no history.
    assert record.version == 1
    assert record.versions == []
    assert record.submitted == utc(2016, 3, 18)
    assert record.updated == utc(2016, 3, 18)  # no <updated>: v1 only
    assert record.datestamp == dt.date(2016, 3, 22)
    assert len(record.authors) == 66
    # arXiv's own (wrong) split of the collaboration: printed back as
    # "Forenames Keyname Suffix", one author per <author> element.
    assert [a.printed for a in record.authors[:4]] == [
        "Keck Array",
        "BICEP2 Collaborations",
        ":",
        "P. Ade",
    ]
    assert record.authors[-1].printed == "K. W. Yoon"
    assert [(a.printed, a.suffix) for a in record.authors if a.suffix] == [("R. W. IV", "IV")]
    assert record.title == (
        "BICEP2 / Keck Array VII: Matrix based E/B Separation applied to BICEP2 and the Keck Array"
    )
    assert record.categories == ["astro-ph.IM", "astro-ph.CO"]
    # &lt; decoded exactly once, LaTeX kept.
    assert record.abstract.endswith("tensor-to-scalar ratio of $r<1\\times10^{-4}$.")
    assert record.dois == []


def test_arxiv_format_pretty_printed_record(fixture):
    [record] = parse_oai(fixture("oai_getrecord_arxiv_1305.0014_reindented.xml")).records
    assert record.arxiv_id == "1305.0014"
    assert record.title == (
        "Framework for maximum likelihood analysis of neutron beta decay observables "
        "to resolve the limits of the V-A law"
    )
    assert record.license == "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"
    assert record.abstract.startswith("We assess the ability of future neutron beta decay")
    assert record.abstract.endswith("must be determined in order to exact such tests.")
    assert record.submitted == utc(2013, 4, 30)
    assert record.updated == utc(2013, 6, 28)
    assert record.datestamp == dt.date(2013, 7, 2)
    assert record.categories == ["hep-ph", "hep-lat", "nucl-ex", "nucl-th"]
    assert record.primary_category == "hep-ph"
    assert record.dois == ["10.1103/PhysRevC.87.065504"]
    assert record.journal_ref == "Phys. Rev. C 87, 065504 (2013)"
    assert record.comments == "as-published version, 16 pages, 2 figures"
    assert [(a.printed, a.keyname, a.forenames) for a in record.authors] == [
        ("S. Gardner", "Gardner", "S."),
        ("B. Plaster", "Plaster", "B."),
    ]


def test_arxiv_format_hep_th_set_last_page(fixture):
    page = parse_oai(fixture("oai_listrecords_arxiv_set_physics-hep-th.xml"))
    assert page.resumption_token is None  # no token at all: last page
    assert page.response_date == utc(2017, 12, 14, 12, 56, 31)
    assert [r.arxiv_id for r in page.records] == ["1412.8323", "1507.07790", "1607.01710"]
    hoehn, castro, correa = page.records

    # Primary quant-ph inside the hep-th set.
    assert hoehn.categories == [
        "quant-ph",
        "gr-qc",
        "hep-th",
        "math-ph",
        "math.MP",
        "physics.hist-ph",
    ]
    assert hoehn.license == "http://creativecommons.org/licenses/by/4.0/"
    assert hoehn.submitted == utc(2014, 12, 29)
    assert hoehn.updated == utc(2017, 12, 13)
    assert hoehn.comments.startswith("78 pages, many figures, graphs and references. Version")
    assert "\n" not in hoehn.comments

    assert castro.dois == ["10.1088/1751-8121/aa9c53"]
    assert castro.journal_ref == "J. Phys. A: Math. Theor. 51 (2018) 035201"
    assert castro.title == (
        "Relativistic quantum dynamics of vector bosons in an Aharonov-Bohm potential"
    )

    assert len(correa.authors) == 5
    # keyname "Dutra", forenames "A. de Souza" (inverted particle) in the source.
    assert correa.authors[3].printed == "A. de Souza Dutra"
    assert correa.comments == ""
    assert correa.datestamp == dt.date(2017, 12, 14)


def test_arxiv_format_hep_ex_set(fixture):
    page = parse_oai(fixture("oai_listrecords_arxiv_set_physics-hep-ex.xml"))
    assert page.response_date == utc(2017, 12, 14, 13, 0, 41)
    assert [r.arxiv_id for r in page.records] == ["1706.05371", "1706.09418", "1707.00874"]
    sipm, rpv, bl = page.records
    assert len(sipm.authors) == 13
    assert sipm.authors[0].printed == "Tyler Anderson"
    assert sipm.categories == ["physics.ins-det", "hep-ex"]
    assert rpv.report_no == "BONN-TH-2017-03"
    assert rpv.dois == ["10.1140/epjc/s10052-017-5414-4"]
    assert bl.report_no == "IITH-PH-0001/17, IMSc/2017/07/05"
    assert bl.primary_category == "hep-ph"
    assert bl.title == (
        "Implications of right-handed neutrinos in $B-L$ extended standard model "
        "with scalar dark matter"
    )
    assert "$\\mathcal{O}$(TeV)" in bl.abstract
    assert "$Z^\\prime$" in bl.abstract


# --- errors ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "code", "message"),
    [
        (
            "oai_error_badArgument.xml",
            "badArgument",
            "Verb 'ListRecords', illegal argument 'identifier'.",
        ),
        (
            "oai_error_badResumptionToken.xml",
            "badResumptionToken",
            "The resumptionToken supplied is illegal for this repository",
        ),
        (
            "oai_error_badVerb_reindented.xml",
            "badVerb",
            "Bad verb. Verb 'wah' not implemented.",
        ),
        (
            "oai_error_idDoesNotExist_0813.2274.xml",
            "idDoesNotExist",
            "Identifier 'oai:arXiv.org:0813.2274' has correct form but does not correspond "
            "to an item in this repository",
        ),
        (
            "oai_error_idDoesNotExist_1305.9999.xml",
            "idDoesNotExist",
            "Identifier 'oai:arXiv.org:1305.9999' has correct form but does not correspond "
            "to an item in this repository",
        ),
        (
            "oai_error_idDoesNotExist_malformed_identifier.xml",
            "idDoesNotExist",
            "Malformed identifier `oai:arXiv.org:is-malformed'",
        ),
        (
            "oai_error_idDoesNotExist_versioned_identifier_1305.0014v1.xml",
            "idDoesNotExist",
            "This OAI interface supports only the notion of an arXiv article and not access "
            "to individual versions. You must not include the 'v1' at the end of the identifier.",
        ),
    ],
)
def test_oai_errors_raise_with_code_and_message(fixture, name, code, message):
    data = fixture(name)
    assert detect_format(data) == "oai"
    with pytest.raises(OaiError) as info:
        parse_oai(data)
    assert info.value.code == code
    assert info.value.message == message


def test_no_records_match_is_an_empty_page(fixture):
    page = parse_oai(fixture("oai_error_noRecordsMatch_unknown_set.xml"))
    assert page.records == []
    assert page.errors == []
    assert page.resumption_token is None
    assert page.response_date == utc(2015, 6, 23, 13, 28, 30)


# --- synthetic cases the fixtures lack ---------------------------------------

OAI_HEAD = b"""<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">
<responseDate>2025-04-01T10:00:00Z</responseDate>
<ListRecords>"""


def test_deleted_records_empty_token_and_bad_records():
    data = (
        OAI_HEAD
        + b"""
<record><header status="deleted"><identifier>oai:arXiv.org:hep-th/9901001</identifier>
  <datestamp>2025-03-30</datestamp></header></record>
<record><header><identifier>oai:arXiv.org:0704.0001</identifier>
  <datestamp>2025-03-30</datestamp></header>
  <metadata><dc xmlns="http://www.openarchives.org/OAI/2.0/oai_dc/"/></metadata></record>
<record><header><identifier>oai:arXiv.org:2501.12948</identifier>
  <datestamp>2025-03-31</datestamp></header>
  <metadata><arXivRaw xmlns="http://arxiv.org/OAI/arXivRaw/"><id>2501.12948</id>
  <version version="v2"><date>Mon, 3 Feb 2025 10:00:00 GMT</date><size>1kb</size></version>
  <version version="v1"><date>Wed, 22 Jan 2025 09:00:00 GMT</date><size>2kb</size></version>
  <title>  R1
   </title><authors>DeepSeek-AI</authors><categories>cs.CL cs.AI cs.CL</categories>
  <comments>This paper has been withdrawn by the author</comments>
  </arXivRaw></metadata></record>
<resumptionToken cursor="2500" completeListSize="2503"/>
</ListRecords></OAI-PMH>"""
    )
    page = parse_oai(data)
    assert page.deleted_ids == ["hep-th/9901001"]
    assert page.resumption_token is None  # empty token: last page
    assert (page.cursor, page.complete_list_size) == (2500, 2503)
    assert [(e.where, e.reason) for e in page.errors] == [
        (
            "oai:arXiv.org:0704.0001",
            "unsupported metadata format {http://www.openarchives.org/OAI/2.0/oai_dc/}dc",
        )
    ]
    [record] = page.records
    assert (record.arxiv_id, record.version, record.title) == ("2501.12948", 2, "R1")
    assert [v.number for v in record.versions] == [1, 2]  # sorted whatever the order
    assert record.submitted == utc(2025, 1, 22, 9)
    assert record.updated == utc(2025, 2, 3, 10)
    assert record.categories == ["cs.CL", "cs.AI"]
    assert record.withdrawn is True
    assert record.datestamp == dt.date(2025, 3, 31)
