"""Pages machines understand: Highwire citation_* tags read the way Zotero's Embedded Metadata
translator reads them, schema.org JSON-LD that no title can break out of, and meta tags escaped."""

import datetime as dt
import json
from html.parser import HTMLParser

import pytest

from profiles.models import Claim
from tests.factories import AuthorRecordFactory, UserFactory, WorkFactory, add_authors
from works.models import AuthorRecord

pytestmark = pytest.mark.django_db

HOSTILE = 'Q&A: "quotes" <b>bold</b> </script><script>alert(1)</script> <!-- x'


class _Head(HTMLParser):
    """The page's <meta name=... content=...> pairs (in order) and its JSON-LD blocks."""

    def __init__(self):
        super().__init__()
        self.meta: list[tuple[str, str]] = []
        self.json_ld: list[str] = []
        self._in_json_ld = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "meta" and "name" in attributes and "content" in attributes:
            self.meta.append((attributes["name"].lower(), attributes["content"]))
        if tag == "script" and attributes.get("type") == "application/ld+json":
            self._in_json_ld = True
            self.json_ld.append("")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_json_ld = False

    def handle_data(self, data):
        if self._in_json_ld:
            self.json_ld[-1] += data


def _head(html: str) -> _Head:
    parser = _Head()
    parser.feed(html)
    return parser


def zotero_item(html: str) -> dict:
    """What Zotero's Embedded Metadata translator makes of the citation_* tags: the first
    citation_title, citation_publication_date (else citation_date), one creator per
    citation_author ("Last, First" split at the comma, else the last word is the last name),
    citation_doi, citation_pdf_url as the attachment, citation_arxiv_id into Extra."""
    tags: dict[str, list[str]] = {}
    for name, content in _head(html).meta:
        if name.startswith("citation_"):
            tags.setdefault(name, []).append(content.strip())
    creators = []
    for author in tags.get("citation_author", []):
        if "," in author:
            last, first = (part.strip() for part in author.split(",", 1))
        else:
            first, _, last = author.rpartition(" ")
        creators.append({"lastName": last, "firstName": first, "creatorType": "author"})
    date = (tags.get("citation_publication_date") or tags.get("citation_date") or [""])[0]
    return {
        "itemType": "preprint" if "citation_arxiv_id" in tags else "webpage",
        "title": tags["citation_title"][0],
        "creators": creators,
        "date": date.replace("/", "-"),
        "DOI": (tags.get("citation_doi") or [""])[0],
        "attachments": [
            {"url": url, "mimeType": "application/pdf"} for url in tags.get("citation_pdf_url", [])
        ],
        "extra": "\n".join(f"arXiv: {i}" for i in tags.get("citation_arxiv_id", [])),
    }


def test_zotero_reads_a_work_page_as_the_preprint_it_is(client):
    people = [
        AuthorRecordFactory(display_name="Péter Frühwirth", slug="p-f"),
        AuthorRecordFactory(display_name="Floris van der Tak", slug="f-t"),
        AuthorRecordFactory(
            display_name="DeepSeek-AI", slug="deepseek-ai", kind=AuthorRecord.Kind.ORGANISATION
        ),
    ]
    work = WorkFactory(
        arxiv_id="2501.12948",
        title="DeepSeek-R1: Incentivizing $\\alpha$ Reasoning",
        doi="10.48550/arXiv.2501.12948",
        submitted=dt.datetime(2025, 1, 22, tzinfo=dt.UTC),
    )
    add_authors(work, people)

    item = zotero_item(client.get("/works/2501.12948/").content.decode())

    assert item == {
        "itemType": "preprint",
        "title": "DeepSeek-R1: Incentivizing $\\alpha$ Reasoning",
        "creators": [
            {"lastName": "Frühwirth", "firstName": "Péter", "creatorType": "author"},
            {"lastName": "van der Tak", "firstName": "Floris", "creatorType": "author"},
            {"lastName": "DeepSeek-AI", "firstName": "", "creatorType": "author"},
        ],
        "date": "2025-01-22",
        "DOI": "10.48550/arXiv.2501.12948",
        "attachments": [{"url": "https://arxiv.org/pdf/2501.12948", "mimeType": "application/pdf"}],
        "extra": "arXiv: 2501.12948",
    }


def test_every_author_of_a_long_paper_has_its_tag(client):
    work = WorkFactory()
    add_authors(work, [AuthorRecordFactory() for _ in range(40)])

    item = zotero_item(client.get(work.get_absolute_url()).content.decode())

    assert len(item["creators"]) == 40  # the page shows 30, the tags list everyone


def test_a_hostile_title_stays_text_in_meta_tags_and_json_ld(client):
    author = AuthorRecordFactory(display_name='Eve "<i>" & </script>', slug="eve")
    work = WorkFactory(title=HOSTILE, abstract=HOSTILE)
    add_authors(work, [author])

    html = client.get(work.get_absolute_url()).content.decode()
    head = _head(html)

    assert "</script><script>alert(1)" not in html
    assert "<!-- x" not in html
    assert dict(head.meta)["citation_title"] == HOSTILE
    assert dict(head.meta)["citation_abstract"] == HOSTILE
    # "Family, Given" as the parser splits the printed name: every character kept.
    assert dict(head.meta)["citation_author"] == '</script>, Eve "<i>" &'
    assert '<meta name="citation_title" content="Q&amp;A: &quot;quotes&quot; &lt;b&gt;' in html
    (block,) = head.json_ld
    article = json.loads(block)
    assert article["@type"] == "ScholarlyArticle"
    assert article["name"] == HOSTILE
    assert article["author"][0]["name"] == 'Eve "<i>" & </script>'
    assert "<" not in block and ">" not in block and "&" not in block


def test_the_work_json_ld_describes_the_article(demo, client):
    (block,) = _head(client.get("/works/2203.14101/").content.decode()).json_ld
    article = json.loads(block)

    assert article["@context"] == "https://schema.org"
    assert article["identifier"][0] == {
        "@type": "PropertyValue",
        "propertyID": "arXiv",
        "value": "2203.14101",
    }
    assert article["sameAs"][0] == "https://arxiv.org/abs/2203.14101"
    assert article["creativeWorkStatus"] == "Withdrawn"
    assert article["url"] == "http://testserver/works/2203.14101/"


def test_a_profile_is_a_person_with_its_public_links(demo, client):
    user = UserFactory(verified=True)
    Claim.objects.create(
        record=demo,
        user=user,
        state=Claim.State.APPROVED,
        email=user.email,
        orcid="0000-0002-1825-0097",
        orcid_confirmed=True,
    )
    AuthorRecord.objects.filter(pk=demo.pk).update(
        claim_state="claimed", owner_affiliation='Tsinghua "<University>"'
    )

    (block,) = _head(client.get("/researchers/zhengyan-zhang/").content.decode()).json_ld
    person = json.loads(block)

    assert person == {
        "@context": "https://schema.org",
        "@type": "Person",
        "@id": "http://testserver/researchers/zhengyan-zhang/",
        "url": "http://testserver/researchers/zhengyan-zhang/",
        "name": "Zhengyan Zhang",
        "description": (
            "Zhengyan Zhang contributes to research discovery and scholarly infrastructure."
        ),
        "affiliation": {"@type": "Organization", "name": 'Tsinghua "<University>"'},
        "sameAs": ["https://orcid.org/0000-0002-1825-0097"],
    }


def test_an_unconfirmed_orcid_is_not_a_public_link(demo, client):
    user = UserFactory(verified=True)
    Claim.objects.create(
        record=demo, user=user, state=Claim.State.APPROVED, email=user.email,
        orcid="0000-0002-1825-0097",
    )  # fmt: skip
    AuthorRecord.objects.filter(pk=demo.pk).update(claim_state="claimed")

    (block,) = _head(client.get("/researchers/zhengyan-zhang/").content.decode()).json_ld

    assert "sameAs" not in json.loads(block)
