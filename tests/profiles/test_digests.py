"""Digest emails: who is due, what they contain, and never the same work twice."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from profiles import follows, tasks
from profiles.models import AccountSettings, DigestDelivery, Follow
from tests.accounts_helpers import eager_tasks
from tests.factories import AuthorRecordFactory, UserFactory, WorkFactory, add_authors
from works.models import Work

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures(eager_tasks.__name__)]

MONDAY = dt.datetime(2026, 3, 2, 7, 0, tzinfo=dt.UTC)
TUESDAY = MONDAY + dt.timedelta(days=1)


def _reader(digest="daily", *, verified=True, followed=(), since=MONDAY - dt.timedelta(days=30)):
    user = UserFactory(verified=verified)
    AccountSettings.objects.create(user=user, digest=digest)
    for record in followed:
        Follow.objects.create(user=user, record=record)
    Follow.objects.filter(user=user).update(created_at=since)
    return user


def _work(record, *, imported_at, title=None):
    work = WorkFactory(**({"title": title} if title else {}))
    add_authors(work, [record])
    Work.objects.filter(pk=work.pk).update(imported_at=imported_at)
    return work


def test_who_is_due_daily_every_day_and_weekly_on_mondays():
    daily = _reader("daily")
    weekly = _reader("weekly")
    _reader("none")
    assert follows.due_digest_user_ids(now=TUESDAY) == [daily.pk]
    assert follows.due_digest_user_ids(now=MONDAY) == [daily.pk, weekly.pk]


def test_a_daily_digest_lists_new_works_of_followed_records_once():
    record = AuthorRecordFactory(display_name="Ada Lovelace")
    reader = _reader("daily", followed=[record])
    new = _work(record, imported_at=TUESDAY - dt.timedelta(hours=3), title="Analytical <engines>")
    _work(record, imported_at=TUESDAY - dt.timedelta(days=5))  # older than a day

    sent = follows.send_digest(user_id=reader.pk, now=TUESDAY)

    assert sent == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [reader.email]
    assert message.subject == "1 new work from researchers you follow"
    assert "Ada Lovelace" in message.body
    assert "Analytical <engines>" in message.body  # plain text: never HTML-escaped
    assert f"https://arxiv.org/abs/{new.arxiv_id}" in message.body
    assert list(DigestDelivery.objects.values_list("user_id", "work_id")) == [(reader.pk, new.pk)]


def test_the_same_work_is_never_sent_twice_even_when_runs_overlap():
    record = AuthorRecordFactory()
    reader = _reader("daily", followed=[record])
    _work(record, imported_at=TUESDAY - dt.timedelta(hours=3))

    assert follows.send_digest(user_id=reader.pk, now=TUESDAY) == 1
    # A second run the same morning (a retried beat) finds the account already served.
    assert follows.send_digest(user_id=reader.pk, now=TUESDAY + dt.timedelta(minutes=5)) == 0
    # Next day the work is still "new since the follow" but was delivered: not again.
    AccountSettings.objects.filter(user=reader).update(last_digest_at=None)
    assert follows.send_digest(user_id=reader.pk, now=TUESDAY + dt.timedelta(hours=1)) == 0
    assert len(mail.outbox) == 1
    assert DigestDelivery.objects.count() == 1


def test_a_work_by_two_followed_records_is_listed_once():
    first, second = AuthorRecordFactory(), AuthorRecordFactory()
    reader = _reader("daily", followed=[first, second])
    work = WorkFactory()
    add_authors(work, [first, second])
    Work.objects.filter(pk=work.pk).update(imported_at=TUESDAY - dt.timedelta(hours=1))
    assert follows.send_digest(user_id=reader.pk, now=TUESDAY) == 1
    assert mail.outbox[0].body.count(work.title) == 1


def test_nothing_new_sends_nothing():
    reader = _reader("daily", followed=[AuthorRecordFactory()])
    assert follows.send_digest(user_id=reader.pk, now=TUESDAY) == 0
    assert mail.outbox == []


def test_works_from_before_the_follow_are_not_new():
    record = AuthorRecordFactory()
    reader = _reader("weekly", followed=[record], since=MONDAY - dt.timedelta(days=1))
    _work(record, imported_at=MONDAY - dt.timedelta(days=3))
    assert follows.send_digest(user_id=reader.pk, now=MONDAY) == 0


def test_unverified_addresses_get_no_digest():
    record = AuthorRecordFactory()
    reader = _reader("daily", followed=[record], verified=False)
    _work(record, imported_at=TUESDAY - dt.timedelta(hours=1))
    assert follows.send_digest(user_id=reader.pk, now=TUESDAY) == 0
    assert mail.outbox == []


def test_the_beat_task_fans_out_to_each_due_account(monkeypatch):
    record = AuthorRecordFactory()
    readers = [_reader("daily", followed=[record]) for _ in range(2)]
    _work(record, imported_at=timezone.now() - dt.timedelta(hours=1))
    assert tasks.send_digests() == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted(r.email for r in readers)


def test_the_settings_page_chooses_the_digest(client):
    user = UserFactory(verified=True)
    client.force_login(user)
    response = client.post("/accounts/settings/", {"digest": "weekly"})
    assert response.status_code == 302
    assert AccountSettings.objects.get(user=user).digest == "weekly"
    response = client.post("/accounts/settings/", {"digest": "hourly"})
    assert response.status_code == 400
    assert AccountSettings.objects.get(user=user).digest == "weekly"
