"""Homonyms in the open: the notice on a profile, the namesakes page, search's distinguishers."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from graph.services import rebuild_all_edges
from tests.factories import AuthorRecordFactory, TopicFactory, WorkFactory, add_authors
from works.models import AuthorRecord, Authorship

pytestmark = pytest.mark.django_db


def wei_wang(slug: str, **fields) -> AuthorRecord:
    return AuthorRecordFactory(
        display_name="Wei Wang", name_key="wei wang", search_key="wang wei", slug=slug, **fields
    )


@pytest.fixture
def two_wei_wangs():
    hep, cl = TopicFactory(code="hep-th", name="High Energy Physics - Theory"), TopicFactory()
    physicist = wei_wang("wei-wang", affiliation="CERN")
    linguist = wei_wang("wei-wang-2", affiliation="Alibaba")
    alice, bob = AuthorRecordFactory(display_name="Alice Able"), AuthorRecordFactory()
    for year in (2019, 2021):
        add_authors(WorkFactory(primary_topic=hep, year=year), [physicist, alice])
    add_authors(WorkFactory(primary_topic=cl, year=2024), [linguist, bob])
    rebuild_all_edges()
    return physicist, linguist


def test_each_namesake_says_how_many_share_the_name_and_links_to_them(client, two_wei_wangs):
    physicist, _ = two_wei_wangs

    html = client.get(physicist.get_absolute_url()).content.decode()

    assert "2 researchers named Wei Wang on BZPEER" in html
    assert 'href="/researchers/wei-wang/namesakes/"' in html


def test_a_name_nobody_else_has_shows_no_notice(client, two_wei_wangs):
    alice = AuthorRecord.objects.get(display_name="Alice Able")

    assert "researchers named" not in client.get(alice.get_absolute_url()).content.decode()


def test_the_namesakes_page_tells_them_apart(client, two_wei_wangs):
    physicist, linguist = two_wei_wangs
    physicist.refresh_from_db()

    html = client.get("/researchers/wei-wang-2/namesakes/").content.decode()

    assert "2 researchers named Wei Wang on BZPEER" in html
    physicist_line = html[html.index('href="/researchers/wei-wang/"') :]
    physicist_line = physicist_line[: physicist_line.index("</li>")]
    assert "High Energy Physics - Theory" in physicist_line
    assert "active 2019–2021" in physicist_line
    assert "often with" in physicist_line and "Alice Able" in physicist_line
    assert "CERN" in physicist_line
    linguist_line = html[html.index('href="/researchers/wei-wang-2/"') :]
    linguist_line = linguist_line[: linguist_line.index("</li>")]
    assert "Computation and Language" in linguist_line and "active 2024" in linguist_line
    assert "Alibaba" in linguist_line and 'aria-current="page"' in linguist_line


def test_merged_records_and_organisations_are_not_namesakes(client, two_wei_wangs):
    physicist, linguist = two_wei_wangs
    wei_wang("wei-wang-3", merged_into=physicist)
    wei_wang("wei-wang-4", kind=AuthorRecord.Kind.ORGANISATION)

    html = client.get("/researchers/wei-wang/namesakes/").content.decode()

    assert "2 researchers named Wei Wang" in html
    assert "/researchers/wei-wang-3/" not in html and "/researchers/wei-wang-4/" not in html


def test_names_and_affiliations_are_escaped(client):
    for n in (1, 2):
        AuthorRecordFactory(
            display_name="<script>alert(1)</script> & Co",
            name_key="script alert 1 script co",
            slug=f"xss-{n}",
            affiliation='Dept. of "Quotes" <b>',
        )

    html = client.get("/researchers/xss-1/namesakes/").content.decode()
    profile = client.get("/researchers/xss-1/").content.decode()

    for page in (html, profile):
        assert "<script>alert(1)" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in page
    assert "<b>" not in html


def test_the_namesakes_page_costs_the_same_queries_for_2_and_30_namesakes(client):
    def page_queries(count: int) -> int:
        Authorship.objects.all().delete()
        AuthorRecord.objects.all().delete()
        records = [wei_wang(f"wei-wang-{n}") for n in range(count)]
        for record in records:
            add_authors(WorkFactory(), [record, AuthorRecordFactory()])
        rebuild_all_edges()
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/researchers/wei-wang-0/namesakes/").status_code == 200
        return len(captured)

    assert page_queries(2) == page_queries(30)


def test_search_shows_what_tells_namesakes_apart(client, two_wei_wangs):
    html = client.get("/search/", {"q": "wei wang"}).content.decode()

    assert "High Energy Physics - Theory" in html and "Computation and Language" in html
    assert "active 2019–2021" in html and "active 2024" in html
    assert "CERN" in html and "Alibaba" in html


def test_a_record_that_may_hold_several_people_says_so(client, db):
    record = AuthorRecordFactory(possibly_several_people=True, verification_level=0)
    add_authors(WorkFactory(), [record])

    html = client.get(record.get_absolute_url()).content.decode()

    assert "This record may hold several people." in html
