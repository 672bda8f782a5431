"""Citation exports, read back by real parsers: bibtexparser (BibTeX), rispy (RIS) and
citeproc-py rendering the CSL-JSON with a real style."""

import json

import bibtexparser
import pytest
import rispy
from bibtexparser.middlewares import LatexDecodingMiddleware, SeparateCoAuthors, SplitNameParts
from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle
from citeproc import formatter as citeproc_formatter
from citeproc.source.json import CiteProcJSON

from tests.factories import AuthorRecordFactory, TopicFactory, WorkFactory, add_authors
from works import citations
from works.models import AuthorRecord, SlugRedirect

pytestmark = pytest.mark.django_db

TITLE = r"Measuring $H_0$ with DeepSeek-R1 \& LIGO: 100% of {GPU}s for $\alpha<\beta$ in LLMs"


def _content(response) -> str:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return body.decode("utf-8")


def _bibtex_entries(text: str):
    library = bibtexparser.parse_string(
        text, append_middleware=[SeparateCoAuthors(), SplitNameParts()]
    )
    assert library.failed_blocks == []
    return library.entries


def _rendered_bibliography(items: list[dict]) -> list[str]:
    style = CitationStylesStyle("harvard-cite-them-right", validate=False)
    bibliography = CitationStylesBibliography(style, CiteProcJSON(items), citeproc_formatter.plain)
    for item in items:
        bibliography.register(Citation([CitationItem(item["id"])]))
    return [str(entry) for entry in bibliography.bibliography()]


@pytest.fixture
def tricky_work():
    """Accents, a particle, a suffix, an organisation, LaTeX in the title, a DOI, withdrawn."""
    people = [
        AuthorRecordFactory(display_name="Péter Frühwirth", slug="peter-fruhwirth"),
        AuthorRecordFactory(display_name="Floris van der Tak", slug="floris-van-der-tak"),
        AuthorRecordFactory(display_name="José Ñúñez Jr.", slug="jose-nunez"),
        AuthorRecordFactory(
            display_name="ATLAS Collaboration",
            slug="atlas-collaboration",
            kind=AuthorRecord.Kind.ORGANISATION,
        ),
    ]
    work = WorkFactory(
        arxiv_id="2501.00042",
        title=TITLE,
        doi="10.1000/x_y-1",
        primary_topic=TopicFactory(code="astro-ph.CO", name="Cosmology"),
        withdrawn=True,
        kind="withdrawn",
    )
    add_authors(work, people)
    return work


def test_bibtex_follows_arxivs_form_and_parses_back(tricky_work, client):
    response = client.get("/works/2501.00042/cite.bib")

    assert response["Content-Type"] == "application/x-bibtex; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="2501.00042.bib"'
    (entry,) = _bibtex_entries(_content(response))
    assert entry.entry_type == "misc"
    assert entry.key == "fruhwirth2024measuring"
    fields = {name: entry[name] for name in ("eprint", "archivePrefix", "primaryClass", "doi")}
    assert fields == {
        "eprint": "2501.00042",
        "archivePrefix": "arXiv",
        "primaryClass": "astro-ph.CO",
        "doi": r"10.1000/x\_y-1",
    }
    assert entry["url"] == "https://arxiv.org/abs/2501.00042"
    assert entry["note"] == "Withdrawn by its authors on arXiv"
    names = [(n.first, n.von, n.last, n.jr) for n in entry["author"]]
    assert names == [
        (["Péter"], [], ["Frühwirth"], []),
        (["Floris"], ["van", "der"], ["Tak"], []),
        (["José"], [], ["Ñúñez"], ["Jr."]),
        ([], [], ["{ATLAS Collaboration}"], []),
    ]


def test_bibtex_titles_keep_math_escape_specials_and_protect_capitals(tricky_work, client):
    (entry,) = _bibtex_entries(_content(client.get("/works/2501.00042/cite.bib")))

    assert entry["title"] == (
        r"Measuring $H_0$ with {DeepSeek-R1} \& {LIGO}: 100\% of {GPU}s for "
        r"$\alpha<\beta$ in {LLMs}"
    )
    decoded = bibtexparser.parse_string(
        f"@misc{{k, title={{{entry['title']}}}}}", append_middleware=[LatexDecodingMiddleware()]
    ).entries[0]["title"]
    assert "DeepSeek-R1 & LIGO: 100% of GPUs" in decoded


def test_a_200_author_work_lists_every_author(client):
    people = [AuthorRecordFactory(display_name=f"Author Number{n}") for n in range(200)]
    work = WorkFactory()
    add_authors(work, people)

    (entry,) = _bibtex_entries(_content(client.get(f"/works/{work.arxiv_id}/cite.bib")))
    (ris_entry,) = rispy.loads(_content(client.get(f"/works/{work.arxiv_id}/cite.ris")))
    (csl,) = json.loads(_content(client.get(f"/works/{work.arxiv_id}/cite.csl.json")))

    assert len(entry["author"]) == 200
    assert entry["author"][199].last == ["Number199"]
    assert len(ris_entry["authors"]) == 200
    assert len(csl["author"]) == 200


def test_ris_parses_back_with_every_field(tricky_work, client):
    response = client.get("/works/2501.00042/cite.ris")

    assert response["Content-Type"] == "application/x-research-info-systems; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="2501.00042.ris"'
    (entry,) = rispy.loads(_content(response))
    assert entry["type_of_reference"] == "UNPB"
    assert entry["authors"] == [
        "Frühwirth, Péter",
        "van der Tak, Floris",
        "Ñúñez Jr., José",
        "ATLAS Collaboration",
    ]
    assert entry["title"] == r"Measuring $H_0$ with DeepSeek-R1 & LIGO: 100% of GPUs for " + (
        r"$\alpha<\beta$ in LLMs"
    )
    assert entry["doi"] == "10.1000/x_y-1"
    assert entry["urls"] == ["https://arxiv.org/abs/2501.00042"]
    assert entry["notes"] == ["Withdrawn by its authors on arXiv"]
    assert entry["year"] == "2024"


def test_csl_json_renders_with_citeproc(tricky_work, client):
    response = client.get("/works/2501.00042/cite.csl.json")

    assert response["Content-Type"] == "application/vnd.citationstyles.csl+json; charset=utf-8"
    items = json.loads(_content(response))
    assert items[0]["author"][3] == {"literal": "ATLAS Collaboration"}
    assert items[0]["status"] == "withdrawn"
    (rendered,) = _rendered_bibliography(items)
    # Harvard shortens four authors or more to "et al.".
    assert rendered.startswith("Frühwirth, P. et al. (2024) “Measuring $H_0$ with DeepSeek-R1 &")
    assert "Available at: https://doi.org/10.1000/x_y-1." in rendered


def test_a_researchers_works_in_every_format(demo, client):
    bib = client.get("/researchers/zhengyan-zhang/works.bib")
    ris = client.get("/researchers/zhengyan-zhang/works.ris")
    csl = client.get("/researchers/zhengyan-zhang/works.csl.json")

    assert bib["Content-Disposition"] == 'attachment; filename="zhengyan-zhang.bib"'
    assert csl["Content-Disposition"] == 'attachment; filename="zhengyan-zhang.json"'
    entries = _bibtex_entries(_content(bib))
    assert len(entries) == 9
    assert len({entry.key for entry in entries}) == 9
    assert len(rispy.loads(_content(ris))) == 9
    items = json.loads(_content(csl))
    assert len(_rendered_bibliography(items)) == 9
    withdrawn = [e for e in entries if e.get("note")]
    assert [e["eprint"] for e in withdrawn] == ["2203.14101"]
    deepseek = next(e for e in entries if e["eprint"] == "2501.12948")
    assert len(deepseek["author"]) == 200  # the demo's 200-author paper, in full


def test_a_researchers_export_stops_listing_at_500_authors(client):
    record = AuthorRecordFactory()
    work = WorkFactory()
    add_authors(work, [record, *[AuthorRecordFactory() for _ in range(501)]])

    (entry,) = _bibtex_entries(_content(client.get(f"/researchers/{record.slug}/works.bib")))

    assert len(entry["author"]) == 501
    assert entry["author"][-1].last == ["others"]


def test_old_addresses_of_an_export_redirect(demo, client):
    SlugRedirect.objects.create(old_slug="zhang-z", record=demo)

    response = client.get("/researchers/zhang-z/works.ris")

    assert response.status_code == 301
    assert response["Location"] == "/researchers/zhengyan-zhang/works.ris"


def test_an_unknown_work_or_format_is_a_404(demo, client):
    assert client.get("/works/2109.11797/cite.docx", follow=True).status_code == 404
    assert client.get("/works/0000.00000/cite.bib").status_code == 404
    assert client.get("/works/%00/cite.bib").status_code == 404  # PostgreSQL refuses a NUL
    assert client.get("/researchers/nobody/works.bib").status_code == 404


def test_a_researcher_export_reads_works_in_chunks(client, django_assert_max_num_queries):
    small, large = AuthorRecordFactory(), AuthorRecordFactory()
    add_authors(WorkFactory(), [small])
    for _ in range(30):
        add_authors(WorkFactory(), [large, AuthorRecordFactory()])

    with django_assert_max_num_queries(6):
        assert len(_bibtex_entries(_content(client.get(f"/researchers/{large.slug}/works.bib"))))


# --- Pure formatting -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "title,expected",
    [
        ("Plain title with Capital words", "Plain title with Capital words"),
        ("BERT and mHC, GPT-4o.", "{BERT} and {mHC}, {GPT-4o}."),
        (r"Already \& escaped and $a_b$ math", r"Already \& escaped and $a_b$ math"),
        ("Unbalanced { brace", r"Unbalanced \{ brace"),
        ("snake_case # 50%", r"snake\_case \# 50\%"),
    ],
)
def test_bibtex_title(title, expected):
    assert citations.bibtex_title(title) == expected


def test_plain_citation_says_withdrawn_and_et_al():
    work = citations.CitedWork(
        arxiv_id="2203.14101",
        title="A title",
        authors=[citations.CitedAuthor(name) for name in ("Sha Yuan", "Ana Li", "Bo Wu", "Cy Xu")],
        year=2022,
        withdrawn=True,
    )

    assert citations.plain_citation(work) == (
        "Yuan, S., Li, A., Wu, B. et al. (2022). A title. arXiv:2203.14101. Withdrawn."
    )
