"""Work pages and topic pages: content, identifiers, escaping and query counts."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import AuthorRecordFactory, TopicFactory, WorkFactory, add_authors
from works.models import WorkTopic, WorkVersion

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    return response.content.decode()


def _queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_a_demo_work_page_shows_its_record(demo, client):
    response = client.get("/works/2109.11797/")

    html = _text(response)
    assert response.status_code == 200
    assert (
        '<h1 id="work-title" class="work-page__title">'
        "CPT: Colorful Prompt Tuning for Pre-trained Vision-Language Models</h1>"
    ) in html
    assert '<span class="count">6</span>' in html
    assert re.findall(r'<li><a href="/researchers/[^"]+/">([^<]+)</a>', html) == [
        "Yuan Yao",
        "Ao Zhang",
        "Zhengyan Zhang",
        "Zhiyuan Liu",
        "Tat-Seng Chua",
        "Maosong Sun",
    ]
    assert "Cross-modal Prompt Tuning" in html
    assert re.findall(r">(v\d)</a> <time datetime=\"[^\"]+\">([^<]+)</time>", html) == [
        ("v1", "24 Sep 2021"),
        ("v2", "8 Oct 2021"),
        ("v3", "20 May 2022"),
    ]
    assert "cs.CV — Computer Vision and Pattern Recognition" in html
    assert "<dt>Comments</dt><dd>Work in progress</dd>" in html
    assert 'href="https://arxiv.org/abs/2109.11797"' in html
    assert 'href="https://arxiv.org/pdf/2109.11797"' in html
    assert "Withdrawn." not in html


def test_a_withdrawn_work_says_so(demo, client):
    html = _text(client.get("/works/2203.14101/"))

    assert '<p class="notice notice--warning" role="note"><strong>Withdrawn.</strong>' in html
    assert "This paper has been withdrawn by Sha Yuan" in html


def test_journal_reference_doi_and_categories_with_names(client):
    primary = TopicFactory(code="hep-th", name="High Energy Physics - Theory", group="Physics")
    other = TopicFactory(code="gr-qc", name="General Relativity and Quantum Cosmology")
    work = WorkFactory(
        arxiv_id="hep-th/9901001",
        journal_ref="Phys. Lett. B 450 (1999) 1",
        doi="10.1016/S0370-2693(99)00001-1 10.1000/extra",
        kind="article",
        primary_topic=primary,
    )
    add_authors(work, [AuthorRecordFactory()])
    WorkTopic.objects.create(work=work, topic=other, position=1)
    WorkVersion.objects.create(
        work=work, number=1, submitted=dt.datetime(1999, 1, 1, tzinfo=dt.UTC), size_kb=12
    )

    response = client.get("/works/hep-th/9901001/")

    html = _text(response)
    assert response.status_code == 200
    assert work.get_absolute_url() == "/works/hep-th/9901001/"
    assert "<dt>Journal reference</dt><dd>Phys. Lett. B 450 (1999) 1</dd>" in html
    assert 'href="https://doi.org/10.1016/S0370-2693(99)00001-1"' in html
    assert 'href="https://doi.org/10.1000/extra"' in html
    assert re.findall(r'href="/topics/([^"]+)/">', html) == ["hep-th", "gr-qc"]
    assert "hep-th — High Energy Physics - Theory" in html
    assert "gr-qc — General Relativity and Quantum Cosmology" in html
    assert '<a href="https://arxiv.org/abs/hep-th/9901001v1" rel="noopener">v1</a>' in html


def test_a_versioned_id_redirects_to_the_work(client):
    WorkFactory(arxiv_id="2501.12948")

    response = client.get("/works/2501.12948v2/")

    assert response.status_code == 301
    assert response["Location"] == "/works/2501.12948/"


def test_an_unknown_work_is_a_404(client):
    response = client.get("/works/9999.99999/")

    assert response.status_code == 404
    assert "We could not find that page." in _text(response)


def test_a_huge_author_list_is_cut_until_asked_for_all(client):
    work = WorkFactory()
    add_authors(work, [AuthorRecordFactory() for _ in range(130)])

    cut = _text(client.get(work.get_absolute_url()))
    whole = _text(client.get(work.get_absolute_url() + "?authors=all"))

    assert cut.count('<li><a href="/researchers/') == 30
    assert "and 100 more." in cut
    assert 'href="?authors=all#authors">Show all 130 authors</a>' in cut
    assert whole.count('<li><a href="/researchers/') == 130


def test_work_page_escapes_imported_text(client):
    work = WorkFactory(
        title="<script>alert(1)</script>",
        abstract="<img src=x onerror=alert(2)>",
        comments="<b>bold</b>",
        journal_ref="<i>J</i>",
    )
    add_authors(work, [AuthorRecordFactory(display_name="<em>Name</em>", slug="em-name")])

    html = _text(client.get(work.get_absolute_url()))

    for raw in ("<script>alert", "<img src=x", "<b>bold</b>", "<i>J</i>", "<em>Name</em>"):
        assert raw not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_work_page_query_count_does_not_grow_with_authors(client, django_assert_num_queries):
    small = WorkFactory()
    add_authors(small, [AuthorRecordFactory()])
    large = WorkFactory()
    add_authors(large, [AuthorRecordFactory() for _ in range(300)])
    expected = _queries_for(client, small.get_absolute_url())

    with django_assert_num_queries(expected):
        client.get(large.get_absolute_url())
    with django_assert_num_queries(expected):
        client.get(large.get_absolute_url() + "?authors=all")


def test_topic_page_shows_name_active_researchers_and_recent_works(client):
    topic = TopicFactory(code="cs.CL", name="Computation and Language")
    busy, quiet = AuthorRecordFactory(display_name="Busy Author"), AuthorRecordFactory()
    for year in (2020, 2021, 2022):
        add_authors(WorkFactory(title=f"Paper of {year}", year=year, primary_topic=topic), [busy])
    add_authors(WorkFactory(title="Quiet paper", year=2019, primary_topic=topic), [quiet, busy])
    add_authors(
        WorkFactory(primary_topic=TopicFactory(code="math.CO", name="Combinatorics")), [quiet]
    )

    response = client.get("/topics/cs.CL/")

    html = _text(response)
    assert response.status_code == 200
    assert "Computation and Language" in html
    assert re.findall(r'<a class="person__name" href="[^"]+">([^<]+)</a>', html) == [
        "Busy Author",
        quiet.display_name,
    ]
    assert "4 works here" in html
    assert re.findall(r'<h3 class="work__title"><a href="[^"]+">([^<]+)</a>', html) == [
        "Paper of 2022",
        "Paper of 2021",
        "Paper of 2020",
        "Quiet paper",
    ]


def test_topic_page_is_paged_and_unknown_topics_are_404(client):
    topic = TopicFactory(code="cs.AI", name="Artificial Intelligence")
    for _ in range(25):
        add_authors(WorkFactory(primary_topic=topic), [AuthorRecordFactory()])

    first = _text(client.get("/topics/cs.AI/"))
    second = _text(client.get("/topics/cs.AI/?page=2"))

    assert first.count('<h3 class="work__title">') == 20
    assert 'href="?page=2">Older works</a>' in first
    assert second.count('<h3 class="work__title">') == 5
    assert client.get("/topics/xx.YY/").status_code == 404


def test_topic_page_query_count_does_not_grow_with_works(client, django_assert_num_queries):
    small, large = (
        TopicFactory(code="small.T", name="Small"),
        TopicFactory(code="large.T", name="Large"),
    )
    add_authors(WorkFactory(primary_topic=small), [AuthorRecordFactory()])
    for _ in range(30):
        add_authors(WorkFactory(primary_topic=large), [AuthorRecordFactory() for _ in range(5)])
    expected = _queries_for(client, "/topics/small.T/")

    with django_assert_num_queries(expected):
        client.get("/topics/large.T/")


def test_the_500_page_renders_in_the_site_look_without_a_request():
    from django.test import RequestFactory
    from django.views.defaults import server_error

    response = server_error(RequestFactory().get("/"))

    assert response.status_code == 500
    assert "Something went wrong on our side." in response.content.decode()
    assert "/static/css/site.css" in response.content.decode()


@pytest.mark.parametrize("url", ["/works/%00/", "/works/a%00b/", "/topics/%00/", "/topics/cs.%00/"])
def test_a_nul_in_an_address_is_a_404(client, url):
    # PostgreSQL refuses a NUL in a query parameter: it must never reach the database.
    assert client.get(url).status_code == 404
