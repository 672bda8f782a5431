"""Work pages, search results, topic pages and graph slices shared by visitors without a
session: served from the cache without a query, and every change made through the app
visible on the next load."""

import datetime as dt
import itertools

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from graph import cache as graph_cache
from profiles import corrections
from tests.accounts_helpers import make_admin
from works import catalogue_pages
from works.arxiv import names
from works.arxiv.records import ParsedRecord
from works.models import AuthorRecord, Work
from works.services import import_records

pytestmark = pytest.mark.django_db

_arxiv_ids = itertools.count(1)
HTMX = {"HTTP_HX_REQUEST": "true"}


def _paper(title: str, authors: list[str], *, arxiv_id: str | None = None, version: int = 1):
    when = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
    return ParsedRecord(
        arxiv_id=arxiv_id or f"2405.{next(_arxiv_ids):05d}",
        version=version,
        title=title,
        abstract="We measure the anomalies of orbifold gauge theories.",
        authors=[names.author_from_printed(name) for name in authors],
        categories=["hep-th"],
        submitted=when,
        updated=when,
        source="api",
    )


def _get(client, url: str, **headers) -> str:
    response = client.get(url, **headers)
    assert response.status_code == 200
    return response.content.decode()


def _cached(client, url: str, django_assert_num_queries, **headers) -> str:
    """The page, loaded twice: the second load is a cache hit without any query."""
    first = _get(client, url, **headers)
    with django_assert_num_queries(0):
        assert _get(client, url, **headers) == first
    return first


def _rendered_with_queries(client, url: str, **headers) -> str:
    with CaptureQueriesContext(connection) as queries:
        html = _get(client, url, **headers)
    assert len(queries) > 0, "served from the cache, not rendered"
    return html


@pytest.fixture
def paper():
    import_records([_paper("Gauge anomalies on orbifolds", ["Ada Newcomer", "Bob Brown"])])
    return Work.objects.get(title="Gauge anomalies on orbifolds")


def test_work_page_search_topic_and_slice_are_served_without_any_query(
    client, paper, django_assert_num_queries
):
    ada = AuthorRecord.objects.get(display_name="Ada Newcomer")

    assert "Gauge anomalies on orbifolds" in _cached(
        client, paper.get_absolute_url(), django_assert_num_queries
    )
    assert "Ada Newcomer" in _cached(client, "/search/?q=orbifolds", django_assert_num_queries)
    assert "Gauge anomalies" in _cached(client, "/topics/hep-th/", django_assert_num_queries)
    partial = _cached(
        client, f"/researchers/{ada.slug}/graph/slice/", django_assert_num_queries, **HTMX
    )
    assert 'id="graph-slice"' in partial
    assert "<html" not in partial


def test_the_htmx_partial_and_the_full_page_are_stored_apart(client, paper):
    ada = AuthorRecord.objects.get(display_name="Ada Newcomer")
    url = f"/researchers/{ada.slug}/graph/slice/"

    partial = _get(client, url, **HTMX)
    page = _get(client, url)

    assert "<html" not in partial
    assert "<html" in page
    assert _get(client, url, **HTMX) == partial


def test_a_session_or_a_pending_message_gets_its_own_rendering(client, paper):
    url = paper.get_absolute_url()
    _get(client, url)

    client.cookies["sessionid"] = "no-such-session"
    _rendered_with_queries(client, url)
    stranger = Client()
    stranger.cookies["messages"] = "pending"
    _rendered_with_queries(stranger, url)


def test_a_new_version_of_a_work_shows_on_the_next_load(client, paper, django_assert_num_queries):
    _cached(client, paper.get_absolute_url(), django_assert_num_queries)
    _cached(client, "/search/?q=orbifolds", django_assert_num_queries)

    import_records(
        [
            _paper(
                "Gauge anomalies on orbifolds and their cure",
                ["Ada Newcomer", "Bob Brown"],
                arxiv_id=paper.arxiv_id,
                version=2,
            )
        ]
    )

    assert "and their cure" in _get(client, paper.get_absolute_url())
    assert "and their cure" in _get(client, "/search/?q=orbifolds")


def test_a_newly_imported_work_is_found_on_the_next_search(
    client, paper, django_assert_num_queries
):
    before = _cached(client, "/search/?q=orbifolds", django_assert_num_queries)
    assert "Moduli of tori" not in before

    import_records([_paper("Moduli of tori and orbifolds", ["Cleo Third"])])

    assert "Moduli of tori" in _get(client, "/search/?q=orbifolds")


def test_a_merge_shows_on_the_work_page(client, paper, django_assert_num_queries):
    ada = AuthorRecord.objects.get(display_name="Ada Newcomer")
    import_records([_paper("Another paper", ["A. Newcomer-Elsewhere"])])
    survivor = AuthorRecord.objects.get(display_name="A. Newcomer-Elsewhere")
    assert f'href="/researchers/{ada.slug}/"' in _cached(
        client, paper.get_absolute_url(), django_assert_num_queries
    )

    corrections.merge_records(source=ada, target=survivor, by=make_admin(), reason="Same")

    html = _get(client, paper.get_absolute_url())
    assert f'href="/researchers/{survivor.slug}/"' in html
    assert f'href="/researchers/{ada.slug}/"' not in html


def test_stale_graphs_make_the_slices_stale(client, paper, django_assert_num_queries):
    ada = AuthorRecord.objects.get(display_name="Ada Newcomer")
    url = f"/researchers/{ada.slug}/graph/slice/"
    _cached(client, url, django_assert_num_queries, **HTMX)

    graph_cache.bump_versions([ada.pk])
    _rendered_with_queries(client, url, **HTMX)
    graph_cache.bump_generation()
    _rendered_with_queries(client, url, **HTMX)


def test_a_missing_work_is_not_stored(client):
    assert client.get("/works/2405.99999/").status_code == 404

    import_records([_paper("Late arrival", ["Dana Late"], arxiv_id="2405.99999")])

    assert "Late arrival" in _get(client, "/works/2405.99999/")


def test_without_a_shared_cache_pages_are_always_rendered(client, settings, paper):
    # A cache per process cannot hear another process's writes.
    settings.PAGE_CACHE_SHARED = False
    _get(client, paper.get_absolute_url())

    _rendered_with_queries(client, paper.get_absolute_url())
    _rendered_with_queries(client, "/search/?q=orbifolds")
    _rendered_with_queries(client, "/search/?q=orbifolds")


def test_one_transaction_replaces_the_generation_once_more_on_commit(
    django_capture_on_commit_callbacks,
):
    before = catalogue_pages.catalogue.generation()
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        for n in range(3):
            Work.objects.create(arxiv_id=f"2405.{90000 + n}", title=f"Row {n}")
        during = catalogue_pages.catalogue.generation()
    assert during != before

    replacing = [c for c in callbacks if c == catalogue_pages.catalogue._replace]
    assert len(replacing) == 1
    replacing[0]()
    assert catalogue_pages.catalogue.generation() != during


def test_inside_a_transaction_only_a_write_after_a_stored_page_replaces_the_generation_again(
    client, paper, django_assert_num_queries
):
    # The test runs inside a transaction, as an import's batch does.
    Work.objects.create(arxiv_id="2405.90100", title="First row")
    first = catalogue_pages.catalogue.generation()
    Work.objects.create(arxiv_id="2405.90101", title="Second row")
    # No page was stored in between: nothing else could be under the first token.
    assert catalogue_pages.catalogue.generation() == first

    _cached(client, paper.get_absolute_url(), django_assert_num_queries)
    paper.title = "A retitled paper"
    paper.save()

    assert catalogue_pages.catalogue.generation() != first
    assert "A retitled paper" in _rendered_with_queries(client, paper.get_absolute_url())


def test_pages_stored_together_do_not_expire_together(client, paper):
    from bzpeer.lib import visitor_pages

    lives = [visitor_pages.stored_page_seconds(60) for _ in range(50)]
    assert all(45 <= seconds <= 60 for seconds in lives)
    assert len(set(lives)) > 40

    expiries = []
    for n in range(12):
        _get(client, f"/search/?q=orbifolds+{n}")
        request = RequestFactory().get(f"/search/?q=orbifolds+{n}")
        request.htmx = False
        expiries.append(cache.get(catalogue_pages.catalogue._key(request)).expires)
    assert len(set(expiries)) == len(expiries)
    assert max(expiries) - min(expiries) > 1


def test_an_address_with_a_parameter_the_page_does_not_read_is_never_stored(
    client, paper, django_assert_num_queries
):
    # The login link carries the full path, so each made-up parameter would be a page of its
    # own: anyone could fill the cache with them.
    for url in (f"{paper.get_absolute_url()}?x=1", "/search/?q=orbifolds&utm=1"):
        _get(client, url)
        _rendered_with_queries(client, url)
    _cached(client, f"{paper.get_absolute_url()}?authors=all", django_assert_num_queries)
    _cached(client, "/search/?q=orbifolds&type=works&page=1", django_assert_num_queries)
