"""The researcher profile page: sections, values, paging, redirects, escaping, query counts."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import AuthorRecordFactory, WorkFactory, add_authors
from works.models import AuthorRecord, SlugRedirect, Work

pytestmark = pytest.mark.django_db

DEMO_URL = "/researchers/zhengyan-zhang/"
# The seed page's nine works, newest first then by title.
SEED_TITLES = [
    "DeepSeek-R1: Incentivizing Reasoning Capability in LLMs via Reinforcement Learning",
    "mHC: Manifold-Constrained Hyper-Connections",
    "A Roadmap for Big Model",
    "A Unified Understanding of Deep NLP Models for Text Classification",
    "CPT: Colorful Prompt Tuning for Pre-trained Vision-Language Models",
    "Effective Few-Shot Named Entity Linking by Meta-Learning",
    "Knowledge Inheritance for Pre-trained Language Models",
    "MoEfication: Transformer Feed-forward Layers are Mixtures of Experts",
    "Prompt Tuning for Discriminative Pre-trained Language Models",
]


def _text(response) -> str:
    return response.content.decode()


def _work_titles(html: str) -> list[str]:
    return re.findall(r'<h3 class="work__title"><a href="[^"]+">([^<]*)</a></h3>', html)


def _counts(html: str) -> dict[str, int]:
    return {
        label: int(value) for label, value in re.findall(r"<dt>([a-z ]+)</dt><dd>(\d+)</dd>", html)
    }


def _researcher_with_works(count: int, *, coauthors: int = 0) -> AuthorRecord:
    record = AuthorRecordFactory()
    others = [AuthorRecordFactory() for _ in range(coauthors)]
    for _ in range(count):
        add_authors(WorkFactory(), [record, *others])
    AuthorRecord.objects.filter(pk=record.pk).update(work_count=count)
    record.refresh_from_db()
    return record


def test_demo_profile_shows_the_seed_sections_in_order(demo, client):
    response = client.get(DEMO_URL)

    assert response.status_code == 200
    html = _text(response)
    html = html[html.index("<main") :]
    in_seed_order = [
        "Researcher profile",
        "<h1",
        "Zhengyan Zhang contributes to research discovery and scholarly infrastructure.",
        '<li class="chip chip--kind">Researcher</li>',
        "Affiliation not imported",
        "Trust snapshot",
        "Quick read",
        "Verification L1",
        "Unclaimed author",
        "Decide how to stay connected",
        "Identity and collaboration",
        "Research graph",
        "See the researcher in context",
        "Open full explorer",
        "Building this graph slice…",
        "BZPEER is loading the nearby papers, people, topics and institutions for this page.",
        "Published work",
        "9 published item(s)",
        SEED_TITLES[0],
    ]
    positions = [html.find(marker) for marker in in_seed_order]
    assert -1 not in positions, [m for m, p in zip(in_seed_order, positions, strict=True) if p < 0]
    assert positions == sorted(positions)
    assert "Open to collaborate" not in html


def test_counts_come_from_the_record_counters(demo, client):
    AuthorRecord.objects.filter(pk=demo.pk).update(
        work_count=9, follower_count=3, topic_count=4, close_collaborator_count=7
    )

    html = _text(client.get(DEMO_URL))

    assert _counts(html) == {
        "works": 9,
        "followers": 3,
        "topics": 4,
        "close collaborators": 7,
    }


def test_header_shows_affiliation_and_open_to_collaborate_when_set(client):
    record = AuthorRecordFactory(
        display_name="Ada Example", affiliation="Tsinghua University", open_to_collaborate=True
    )

    html = _text(client.get(record.get_absolute_url()))

    assert '<li class="chip">Tsinghua University</li>' in html
    assert "Open to collaborate" in html
    assert "Affiliation not imported" not in html


def test_works_are_listed_newest_first_with_type_year_venue_and_links(demo, client):
    html = _text(client.get(DEMO_URL))

    assert _work_titles(html) == SEED_TITLES
    first = html[html.index('<li class="work">') :]
    first = first[: first.index("</li>")]
    assert '<span class="badge badge--preprint">preprint</span>' in first
    assert '<span class="work__year">2026</span>' in first
    assert '<span class="work__venue">arXiv</span>' in first
    assert 'href="https://arxiv.org/abs/2501.12948"' in first
    assert 'href="https://arxiv.org/pdf/2501.12948"' in first
    assert 'href="/works/2501.12948/"' in first


def test_a_long_author_list_keeps_the_researcher_and_counts_the_rest(demo, client):
    html = _text(client.get(DEMO_URL))

    deepseek = html[html.index(SEED_TITLES[0]) :]
    authors = deepseek[deepseek.index('class="work__authors"') :]
    authors = authors[: authors.index("</p>")]
    linked = re.findall(r'<a class="author" href="(/researchers/[^"]+/)">([^<]+)</a>', authors)
    assert [name for _, name in linked] == [
        "DeepSeek-AI",
        "Daya Guo",
        "Dejian Yang",
        "Haowei Zhang",
        "Junxiao Song",
        "Ruoyu Zhang",
        "Runxin Xu",
        "Qihao Zhu",
        "Shirong Ma",
    ]
    assert linked[1][0] == "/researchers/daya-guo/"
    assert (
        '… <strong class="author author--self" aria-current="page">Zhengyan Zhang</strong>'
        in authors
    )
    assert "and 190 more" in authors


def test_a_short_author_list_is_shown_whole(client):
    record = AuthorRecordFactory(display_name="Short List")
    coauthors = [AuthorRecordFactory() for _ in range(11)]
    add_authors(WorkFactory(), [*coauthors, record])

    html = _text(client.get(record.get_absolute_url()))

    assert html.count('<a class="author"') == 11
    assert "more</span>" not in html
    assert '<strong class="author author--self" aria-current="page">Short List</strong>' in html


def test_a_long_abstract_is_folded_behind_more_and_a_short_one_is_not(client):
    record = AuthorRecordFactory()
    add_authors(WorkFactory(title="Long", abstract="word " * 200), [record])
    add_authors(WorkFactory(title="Short", abstract="A short abstract."), [record])

    html = _text(client.get(record.get_absolute_url()))

    assert html.count('<details class="abstract">') == 1
    assert '<span class="abstract__toggle">more</span>' in html
    assert '<p class="abstract">A short abstract.</p>' in html


def test_doi_and_journal_reference_show_as_article_venue_and_link(client):
    record = AuthorRecordFactory()
    work = WorkFactory(
        journal_ref="Phys. Rev. D 99, 123 (2019)", doi="10.1103/PhysRevD.99.123", kind="article"
    )
    add_authors(work, [record])

    html = _text(client.get(record.get_absolute_url()))

    assert '<span class="work__venue">Phys. Rev. D 99, 123 (2019)</span>' in html
    assert '<span class="badge badge--article">article</span>' in html
    assert 'href="https://doi.org/10.1103/PhysRevD.99.123"' in html


def test_works_are_paged_by_twenty_with_a_plain_show_more_link(client):
    record = _researcher_with_works(45)
    expected = list(Work.objects.by_author(record).newest_first().values_list("title", flat=True))

    first = _text(client.get(record.get_absolute_url()))
    second = _text(client.get(record.get_absolute_url() + "?page=2"))
    third = _text(client.get(record.get_absolute_url() + "?page=3"))

    assert "45 published item(s)" in first
    assert _work_titles(first) == expected[:20]
    assert 'href="?page=2#works"' in first
    assert 'hx-get="?page=2"' in first
    assert "<html" in second
    assert _work_titles(second) == expected[20:40]
    assert _work_titles(third) == expected[40:]
    assert "Show more" not in third


def test_show_more_with_htmx_returns_only_the_next_items(client):
    record = _researcher_with_works(25)
    expected = list(Work.objects.by_author(record).newest_first().values_list("title", flat=True))

    response = client.get(
        record.get_absolute_url() + "?page=2", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="works-more"
    )

    html = _text(response)
    assert response.status_code == 200
    assert "<html" not in html
    assert "Quick read" not in html
    assert _work_titles(html) == expected[20:]
    assert 'id="works-more"' not in html


def test_the_graph_section_loads_its_slice_after_the_page(demo, client):
    html = _text(client.get(DEMO_URL))

    assert (
        '<div class="graph-placeholder" hx-get="/researchers/zhengyan-zhang/graph/slice/" '
        'hx-trigger="load" hx-swap="outerHTML"'
    ) in html
    assert 'href="/researchers/zhengyan-zhang/graph/">Open full explorer</a>' in html
    assert "<noscript>" in html
    slice_response = client.get("/researchers/zhengyan-zhang/graph/slice/", HTTP_HX_REQUEST="true")
    assert slice_response.status_code == 200
    assert "<html" not in _text(slice_response)


def test_an_old_slug_redirects_permanently_to_the_new_one(client):
    record = AuthorRecordFactory(display_name="Kept Name")
    SlugRedirect.objects.create(old_slug="old-name", record=record)

    response = client.get("/researchers/old-name/")

    assert response.status_code == 301
    assert response["Location"] == "/researchers/kept-name/"


def test_a_merged_record_redirects_to_the_surviving_record_through_a_chain(client):
    survivor = AuthorRecordFactory(display_name="Survivor")
    middle = AuthorRecordFactory(display_name="Middle", merged_into=survivor)
    merged = AuthorRecordFactory(display_name="Merged", merged_into=middle)
    SlugRedirect.objects.create(old_slug="older", record=merged)

    assert client.get("/researchers/merged/")["Location"] == "/researchers/survivor/"
    assert client.get("/researchers/older/")["Location"] == "/researchers/survivor/"
    assert client.get("/researchers/merged/").status_code == 301


def test_a_merge_cycle_is_a_404_not_a_loop(client):
    first = AuthorRecordFactory(display_name="First")
    second = AuthorRecordFactory(display_name="Second", merged_into=first)
    AuthorRecord.objects.filter(pk=first.pk).update(merged_into=second)

    assert client.get("/researchers/first/").status_code == 404


def test_an_unknown_researcher_is_a_404_in_the_site_look(client):
    response = client.get("/researchers/nobody-here/")

    assert response.status_code == 404
    assert "We could not find that page." in _text(response)
    assert 'role="search"' in _text(response)


def test_names_titles_and_abstracts_are_escaped(client):
    record = AuthorRecordFactory(
        display_name="<script>alert(1)</script>", slug="script-person", affiliation="<b>Lab</b>"
    )
    add_authors(
        WorkFactory(title="<script>alert(2)</script>", abstract="<img src=x onerror=alert(3)>"),
        [record],
    )

    html = _text(client.get("/researchers/script-person/"))

    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "<b>Lab</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(3)&gt;" in html


def test_latex_in_titles_is_left_readable(client):
    record = AuthorRecordFactory()
    add_authors(WorkFactory(title=r"Decay of $^{8}$Be and the $\alpha$-cluster model"), [record])

    html = _text(client.get(record.get_absolute_url()))

    assert r"Decay of $^{8}$Be and the $\alpha$-cluster model" in html


def test_an_organisation_gets_its_works_but_no_person_sections(client):
    organisation = AuthorRecordFactory(
        display_name="ATLAS Collaboration", kind="organisation", work_count=1
    )
    add_authors(WorkFactory(), [organisation])

    html = _text(client.get(organisation.get_absolute_url()))

    assert "Organisation" in html
    assert "Quick read" not in html
    assert "Research graph" not in html
    assert "1 published item(s)" in html


def _queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("user_kind", ["anonymous", "signed_in"])
def test_profile_query_count_does_not_grow_with_works(client, django_assert_num_queries, user_kind):
    from tests.factories import UserFactory

    if user_kind == "signed_in":
        client.force_login(UserFactory(verified=True))
    one = _researcher_with_works(1)
    thirty = _researcher_with_works(30)
    expected = _queries_for(client, one.get_absolute_url())

    with django_assert_num_queries(expected):
        client.get(thirty.get_absolute_url())


def test_profile_query_count_does_not_grow_with_coauthors(client, django_assert_num_queries):
    one = _researcher_with_works(3, coauthors=1)
    many = _researcher_with_works(3, coauthors=300)
    expected = _queries_for(client, one.get_absolute_url())

    with django_assert_num_queries(expected):
        response = client.get(many.get_absolute_url())
    assert "and 292 more" in _text(response)


def test_show_more_query_count_does_not_grow_with_works(client, django_assert_num_queries):
    small = _researcher_with_works(21)
    large = _researcher_with_works(50)
    headers = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "works-more"}
    with CaptureQueriesContext(connection) as captured:
        client.get(small.get_absolute_url() + "?page=2", **headers)

    with django_assert_num_queries(len(captured)):
        client.get(large.get_absolute_url() + "?page=2", **headers)
    assert len(captured) == 4  # record, works page, authors of the page, their slugs


def test_home_lists_recently_updated_researchers(demo, client):
    html = _text(client.get("/"))

    assert 'role="search"' in html
    assert '<a class="person__name" href="/researchers/zhengyan-zhang/">Zhengyan Zhang</a>' in html


# --- The page shared by visitors without a session -----------------------------------------


def _snapshot(record, score: int, band: str, when):
    from profiles.models import TrustSnapshot

    return TrustSnapshot.objects.create(
        record=record,
        score=score,
        band=band,
        level=1,
        claim_state="unclaimed",
        inputs={},
        components=[],
        formula_version="test",
        fingerprint=f"{score}",
        computed_at=when,
    )


def test_visitors_without_a_session_share_one_rendered_page(demo, django_assert_num_queries):
    from django.test import Client

    first = Client().get(DEMO_URL)

    with django_assert_num_queries(0):
        second = Client().get(DEMO_URL)
    assert second.status_code == 200
    assert second.content == first.content
    assert "Cookie" in second["Vary"]


def test_the_shared_page_holds_no_csrf_token_and_sets_no_cookie(demo, client):
    response = client.get(DEMO_URL)

    html = _text(response)
    assert "X-CSRFToken" not in html
    assert "csrfmiddlewaretoken" not in html
    assert not response.cookies


def test_a_new_trust_snapshot_shows_at_once_on_the_shared_page(demo, client):
    import datetime as dt

    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    _snapshot(demo, 21, "Emerging", now)
    assert "Trust 21 - Emerging" in _text(client.get(DEMO_URL))

    _snapshot(demo, 30, "Developing", now + dt.timedelta(days=1))

    assert "Trust 30 - Developing" in _text(client.get(DEMO_URL))


def test_new_works_show_at_once(client):
    from works.changes import authorships_changed

    record = _researcher_with_works(2)
    client.get(record.get_absolute_url())
    add_authors(WorkFactory(title="A brand new paper", year=2030), [record])
    # What the importer and the corrections end with: recount, stamp, tell the layers above.
    authorships_changed([record.pk])

    html = _text(client.get(record.get_absolute_url()))

    assert _work_titles(html)[0] == "A brand new paper"
    assert "3 published item(s)" in html


def test_a_signed_in_visitor_never_gets_the_shared_page(demo, client):
    from tests.factories import UserFactory

    client.get(DEMO_URL)
    client.force_login(UserFactory(verified=True))

    html = _text(client.get(DEMO_URL))

    assert "Log out" in html
    assert "X-CSRFToken" in html


def test_the_page_answers_only_reads(demo, client):
    assert client.post(DEMO_URL).status_code == 405
