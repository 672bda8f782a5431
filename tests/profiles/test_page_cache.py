"""The profile page shared by visitors without a session: served from the cache without a
query, and every change made through the app visible on the next load."""

import datetime as dt
import itertools
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from profiles import claims, corrections, page_cache, trust
from tests.accounts_helpers import make_admin, record_with_works
from tests.factories import UserFactory
from works.arxiv import names
from works.arxiv.records import ParsedRecord
from works.models import AuthorRecord
from works.services import import_records

pytestmark = pytest.mark.django_db

_arxiv_ids = itertools.count(1)


def _page(client, record) -> str:
    response = client.get(record.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def _cached(client, record, django_assert_num_queries) -> str:
    """The page, loaded twice: the second load is a cache hit without any query."""
    first = _page(client, record)
    with django_assert_num_queries(0):
        assert _page(client, record) == first
    return first


def _followers(html: str) -> int:
    return int(re.search(r"<dt>followers</dt><dd>(\d+)</dd>", html).group(1))


def _trust_line(html: str) -> list[str]:
    return re.findall(r"Trust \d+ - \w+", html)


def _paper(title: str, authors: list[str]) -> ParsedRecord:
    when = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
    return ParsedRecord(
        arxiv_id=f"2403.{next(_arxiv_ids):05d}",
        version=1,
        title=title,
        abstract="",
        authors=[names.author_from_printed(name) for name in authors],
        categories=["hep-th"],
        submitted=when,
        updated=when,
        source="api",
    )


def test_an_unchanged_record_is_served_without_any_query(client, django_assert_num_queries):
    record = record_with_works(3)

    html = _cached(client, record, django_assert_num_queries)

    assert "3 published item(s)" in html


def test_a_page_is_shared_per_address_and_never_with_a_session(client, django_assert_num_queries):
    record = record_with_works(1)
    _cached(client, record, django_assert_num_queries)

    with django_assert_num_queries(0):
        client.get(record.get_absolute_url())
    # Another page number, an htmx request or a session: not the stored page.
    assert client.get(record.get_absolute_url() + "?page=2").status_code == 200
    client.cookies["sessionid"] = "no-such-session"
    html = _page(client, record)
    assert html == _page(Client(), record)  # rendered again, the same for a stranger


def test_a_parameter_the_page_does_not_read_gets_a_page_of_its_own_never_stored(
    client, django_assert_num_queries
):
    record = record_with_works(1)
    _cached(client, record, django_assert_num_queries)
    url = record.get_absolute_url() + "?utm_source=x"

    for _ in range(2):
        with CaptureQueriesContext(connection) as rendered:
            assert client.get(url).status_code == 200
        assert len(rendered) > 0
    with django_assert_num_queries(0):
        client.get(record.get_absolute_url())


def test_a_follow_shows_on_the_next_load(client, django_assert_num_queries):
    record = record_with_works(1)
    assert _followers(_cached(client, record, django_assert_num_queries)) == 0
    follower = Client()
    follower.force_login(UserFactory(verified=True))

    follower.post(reverse("profiles:follow", args=[record.slug]))

    assert _followers(_page(client, record)) == 1
    follower.post(reverse("profiles:unfollow", args=[record.slug]))
    assert _followers(_page(client, record)) == 0


def test_a_follow_fills_the_new_count_into_the_stored_page_without_rendering_it(
    client, django_assert_num_queries
):
    record = record_with_works(1)
    before = _cached(client, record, django_assert_num_queries)
    follower = Client()
    follower.force_login(UserFactory(verified=True))

    follower.post(reverse("profiles:follow", args=[record.slug]))

    # One query, the count; the page is the stored one with the count filled in.
    with django_assert_num_queries(1):
        after = _page(client, record)
    with django_assert_num_queries(0):
        assert _page(client, record) == after
    assert _followers(after) == 1
    # The same page, but for the count in each of its places.
    expected = (
        before.replace("<dt>followers</dt><dd>0</dd>", "<dt>followers</dt><dd>1</dd>")
        .replace('data-testid="follower-count">0<', 'data-testid="follower-count">1<')
        .replace('"visually-hidden"> followers<', '"visually-hidden"> follower<')
    )
    assert after == expected != before


def test_the_filled_count_has_its_plural_and_no_marker_is_ever_served(client):
    record = record_with_works(1)
    pages = [_page(client, record), _page(client, record)]
    for count in (1, 2, 0):
        AuthorRecord.objects.filter(pk=record.pk).update(follower_count=count)
        page_cache.followers_changed([record.pk])
        pages += [_page(client, record), _page(client, record)]
        assert _followers(pages[-1]) == count
        hidden = re.findall(r'class="visually-hidden"> (followers?)</span>', pages[-1])
        assert hidden == ["follower" if count == 1 else "followers"]

    assert not [page for page in pages if "<!--bzpeer:follower" in page]


def test_a_claim_decision_shows_on_the_next_load(client, django_assert_num_queries):
    record = record_with_works(1)
    owner = UserFactory(verified=True)
    claim = claims.submit_claim(record=record, user=owner, links=[], statement="It is me.")
    pending = _cached(client, record, django_assert_num_queries)
    assert "Claim pending" in pending
    assert '<span class="badge badge--claimed">Claimed</span>' not in pending

    claims.approve_claim(claim, by=make_admin(), reason="Evidence checks out.")

    approved = _page(client, record)
    assert '<span class="badge badge--claimed">Claimed</span>' in approved
    assert "Claim pending" not in approved
    _cached(client, record, django_assert_num_queries)
    claim.refresh_from_db()
    claims.revoke_claim(claim, by=make_admin(), reason="Not them after all.")
    assert '<span class="badge badge--claimed">Claimed</span>' not in _page(client, record)


def test_a_new_trust_snapshot_shows_on_the_next_load(client, django_assert_num_queries):
    record = record_with_works(2)
    assert not _trust_line(_cached(client, record, django_assert_num_queries))

    trust.recompute(author_ids=[record.pk])

    snapshot = record.trust_snapshots.latest("computed_at")
    assert _trust_line(_page(client, record)) == [f"Trust {snapshot.score} - {snapshot.band}"]


def test_an_imported_work_shows_on_the_next_load(client, django_assert_num_queries):
    import_records([_paper("Gauge anomalies on orbifolds", ["Ada Newcomer", "Bob Brown"])])
    record = AuthorRecord.objects.get(display_name="Ada Newcomer")
    assert "1 published item(s)" in _cached(client, record, django_assert_num_queries)

    import_records([_paper("Gauge anomalies on orbifolds II", ["Ada Newcomer", "Bob Brown"])])

    html = _page(client, record)
    assert "2 published item(s)" in html
    assert "Gauge anomalies on orbifolds II" in html


def test_a_merge_redirects_the_old_address_and_shows_on_the_survivor(
    client, django_assert_num_queries
):
    source, target = record_with_works(2), record_with_works(1)
    _cached(client, source, django_assert_num_queries)
    assert "1 published item(s)" in _cached(client, target, django_assert_num_queries)

    corrections.merge_records(source=source, target=target, by=make_admin(), reason="Same")

    response = client.get(source.get_absolute_url())
    assert response.status_code == 301
    assert response["Location"] == target.get_absolute_url()
    assert "3 published item(s)" in _page(client, target)


def test_an_owner_edit_shows_on_the_next_load(client, django_assert_num_queries):
    record = record_with_works(1)
    _cached(client, record, django_assert_num_queries)

    record.owner_affiliation = "Tsinghua University"
    record.save(update_fields=["owner_affiliation"])

    assert "Tsinghua University" in _page(client, record)


def test_rebuilt_edges_show_on_the_next_load(client, django_assert_num_queries):
    from graph.signals import edges_changed

    record = record_with_works(1)
    _cached(client, record, django_assert_num_queries)
    # The rebuild's counters are written in SQL; the signal is what reports them.
    AuthorRecord.objects.filter(pk=record.pk).update(close_collaborator_count=7)
    edges_changed.send(sender=None, record_ids=[record.pk])

    assert re.search(r"<dt>close collaborators</dt><dd>7</dd>", _page(client, record))


def test_without_a_shared_cache_the_record_is_read_and_compared(
    client, settings, django_assert_num_queries
):
    # A cache per process cannot hear another process's writes: one query says what changed.
    settings.PAGE_CACHE_SHARED = False
    record = record_with_works(1)
    first = _page(client, record)
    with django_assert_num_queries(1):
        assert _page(client, record) == first

    AuthorRecord.objects.filter(pk=record.pk).update(follower_count=5)

    assert _followers(_page(client, record)) == 5


def test_many_records_changed_at_once_make_every_page_stale(
    client, monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(page_cache, "MAX_TOKENS_PER_WRITE", 1)
    first, second = record_with_works(1), record_with_works(1)
    _cached(client, first, django_assert_num_queries)

    page_cache.forget([first.pk, second.pk])

    with CaptureQueriesContext(connection) as rendered:
        _page(client, first)
    assert len(rendered) > 0


def test_inside_a_transaction_only_a_write_after_a_stored_page_replaces_the_token_again(
    client, django_assert_num_queries
):
    # The test runs inside a transaction, as an import's batch does.
    record = record_with_works(1)
    page_cache.forget([record.pk])
    first = page_cache.tokens(record.pk).record
    page_cache.forget([record.pk])
    # No page of it was stored in between: nothing else could be under the first token.
    assert page_cache.tokens(record.pk).record == first

    _cached(client, record, django_assert_num_queries)
    AuthorRecord.objects.filter(pk=record.pk).update(description="Renamed in place")
    page_cache.forget([record.pk])

    assert page_cache.tokens(record.pk).record != first
    assert "Renamed in place" in _page(client, record)


def test_a_page_whose_token_was_replaced_is_rendered_again(client, django_assert_num_queries):
    # A namesake lives in another row: the record's own columns do not show it, the token does.
    from tests.factories import AuthorRecordFactory

    record = record_with_works(1)
    assert 'id="namesakes"' not in _cached(client, record, django_assert_num_queries)
    AuthorRecordFactory(
        display_name=record.display_name, name_key=record.name_key, slug=f"{record.slug}-2"
    )

    page_cache.forget([record.pk])

    assert f"2 researchers named {record.display_name}" in _page(client, record)
