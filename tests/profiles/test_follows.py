"""Following: one click, counts under repeated clicks, the owner, htmx, the Following page."""

import datetime as dt
import os
import threading

import pytest
from django.urls import reverse
from django.utils import timezone

from profiles import follows
from profiles.models import AccountSettings, Follow
from tests.accounts_helpers import claimed_record, eager_tasks, record_with_works
from tests.factories import AuthorRecordFactory, UserFactory, WorkFactory, add_authors
from works.models import AuthorRecord, Work

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures(eager_tasks.__name__)]


def _count(record) -> int:
    return AuthorRecord.objects.get(pk=record.pk).follower_count


def test_following_adds_one_follow_and_one_to_the_count():
    record = record_with_works()
    user = UserFactory()
    assert follows.follow(user=user, record=record) is True
    assert list(Follow.objects.values_list("user_id", "record_id")) == [(user.pk, record.pk)]
    assert _count(record) == 1


def test_repeated_follow_clicks_count_once_and_repeated_unfollows_never_go_negative():
    record = record_with_works()
    user = UserFactory()
    results = [follows.follow(user=user, record=record) for _ in range(5)]
    assert results == [True, False, False, False, False]
    assert _count(record) == 1
    results = [follows.unfollow(user=user, record=record) for _ in range(5)]
    assert results == [True, False, False, False, False]
    assert (_count(record), Follow.objects.count()) == (0, 0)


def test_many_followers_and_unfollowers_keep_the_count_equal_to_the_rows():
    record = record_with_works()
    users = [UserFactory() for _ in range(6)]
    for user in users:
        follows.follow(user=user, record=record)
    for user in users[:2]:
        follows.unfollow(user=user, record=record)
    assert _count(record) == Follow.objects.filter(record=record).count() == 4


def test_the_owner_cannot_follow_their_own_record():
    record, owner, _ = claimed_record()
    with pytest.raises(follows.FollowError):
        follows.follow(user=owner, record=record)
    assert _count(record) == 0


def test_organisations_cannot_be_followed(client):
    organisation = AuthorRecordFactory(kind=AuthorRecord.Kind.ORGANISATION)
    client.force_login(UserFactory())
    response = client.post(reverse("profiles:follow", args=[organisation.slug]))
    assert response.status_code == 404
    assert Follow.objects.count() == 0


def test_follow_without_javascript_posts_and_redirects_to_the_page(client):
    record = record_with_works()
    client.force_login(UserFactory())
    response = client.post(reverse("profiles:follow", args=[record.slug]))
    assert response.status_code == 302
    assert response["Location"] == f"{record.get_absolute_url()}#actions"
    html = client.get(record.get_absolute_url()).content.decode()
    assert "Following" in html
    assert 'data-testid="follower-count">1<' in html


def test_follow_with_htmx_swaps_the_button_and_the_count(client):
    record = record_with_works()
    client.force_login(UserFactory())
    response = client.post(reverse("profiles:follow", args=[record.slug]), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.strip().startswith('<div id="follow-panel"')
    assert "<html" not in html
    assert 'aria-pressed="true"' in html
    assert 'data-testid="follower-count">1<' in html
    assert reverse("profiles:unfollow", args=[record.slug]) in html

    response = client.post(reverse("profiles:unfollow", args=[record.slug]), HTTP_HX_REQUEST="true")
    assert 'data-testid="follower-count">0<' in response.content.decode()
    assert 'aria-pressed="false"' in response.content.decode()


def test_anonymous_visitors_get_a_login_link_that_comes_back(client):
    record = record_with_works()
    html = client.get(record.get_absolute_url()).content.decode()
    assert f'href="/accounts/login/?next={record.get_absolute_url()}"' in html
    assert "Follow researcher" in html


def test_follow_toggling_is_rate_limited_with_a_friendly_fragment(client, one_ratelimit_window):
    record = record_with_works()
    client.force_login(UserFactory())
    url_for = {
        True: reverse("profiles:unfollow", args=[record.slug]),
        False: reverse("profiles:follow", args=[record.slug]),
    }
    following = False
    statuses = []
    for _ in range(31):
        response = client.post(url_for[following], HTTP_HX_REQUEST="true")
        statuses.append(response.status_code)
        if response.status_code == 200:
            following = not following
    assert statuses[:30] == [200] * 30
    assert statuses[30] == 429
    assert "very quickly" in response.content.decode()
    assert 'id="follow-panel"' in response.content.decode()
    # Without htmx: a full page with the same message.
    response = client.post(url_for[following])
    assert response.status_code == 429
    assert "Please slow down" in response.content.decode()


# --- The Following page --------------------------------------------------------------------


def _work_imported_at(record, when):
    work = WorkFactory()
    add_authors(work, [record])
    Work.objects.filter(pk=work.pk).update(imported_at=when)
    return work


def test_the_following_page_lists_records_and_their_new_works_since_the_last_visit(client):
    user = UserFactory()
    record = AuthorRecordFactory()
    follow_time = timezone.now() - dt.timedelta(days=10)
    Follow.objects.create(user=user, record=record)
    Follow.objects.filter(user=user).update(created_at=follow_time)
    old = _work_imported_at(record, follow_time - dt.timedelta(days=1))
    new = _work_imported_at(record, timezone.now() - dt.timedelta(days=1))
    client.force_login(user)

    html = client.get(reverse("profiles:following")).content.decode()

    assert record.display_name in html
    assert new.title in html
    assert old.title not in html
    assert "1 new work" in html
    assert AccountSettings.objects.get(user=user).following_seen_at is not None
    # The second visit has nothing new.
    html = client.get(reverse("profiles:following")).content.decode()
    assert new.title not in html
    assert "No new works." in html


def test_the_following_page_needs_login(client):
    response = client.get(reverse("profiles:following"))
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/following/"


def test_the_following_page_costs_the_same_for_1_and_30_records(client, django_assert_num_queries):
    def build(n):
        user = UserFactory()
        for _ in range(n):
            record = AuthorRecordFactory()
            Follow.objects.create(user=user, record=record)
            _work_imported_at(record, timezone.now())
        return user

    counts = []
    for n in (1, 30):
        user = build(n)
        client.force_login(user)
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("profiles:following"))
        assert response.status_code == 200
        assert response.content.decode().count('class="following__item"') == n
        counts.append(len(captured))
    assert counts[0] == counts[1]


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="real concurrency needs PostgreSQL: SQLite's in-memory test database locks whole tables",
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_double_clicks_of_many_accounts_keep_the_count_equal_to_the_rows():
    from django.db import connection

    record = record_with_works()
    users = [UserFactory() for _ in range(4)]
    clicks = [user for user in users for _ in range(2)]  # every account double-clicks
    barrier = threading.Barrier(len(clicks))

    def click(user):
        try:
            barrier.wait(timeout=5)
            follows.follow(user=user, record=record)
        finally:
            connection.close()

    threads = [threading.Thread(target=click, args=(user,)) for user in clicks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert Follow.objects.filter(record=record).count() == 4
    assert _count(record) == 4


def test_the_htmx_answer_to_a_follow_does_not_ask_again_whether_the_user_follows(client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    record = AuthorRecordFactory()
    client.force_login(UserFactory(verified=True))

    for action, label in (("follow", "Following"), ("unfollow", "Follow researcher")):
        with CaptureQueriesContext(connection) as queries:
            response = client.post(
                reverse(f"profiles:{action}", args=[record.slug]), HTTP_HX_REQUEST="true"
            )
        assert label in response.content.decode()
        reads = [q["sql"] for q in queries if q["sql"].startswith("SELECT")]
        assert not [sql for sql in reads if 'FROM "profiles_follow"' in sql]
