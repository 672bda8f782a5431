"""Helpers shared by the accounts, claims, follows and collaboration tests.

Claimed records are made through the real services (submit, then an admin approves), so every
test starts from a state the application itself produced.
"""

from __future__ import annotations

import pytest

from profiles import claims
from profiles.models import Claim
from tests.factories import AuthorRecordFactory, UserFactory, WorkFactory, add_authors
from works.models import AuthorRecord


def make_admin(**kwargs):
    return UserFactory(verified=True, is_staff=True, is_superuser=True, **kwargs)


def record_with_works(n: int = 1, **kwargs) -> AuthorRecord:
    record = AuthorRecordFactory(**kwargs)
    for _ in range(n):
        add_authors(WorkFactory(), [record])
    record.work_count = n
    record.save(update_fields=["work_count"])
    return record


def claimed_record(*, owner=None, admin=None, open_to_collaborate: bool = True, works: int = 1):
    """A record with an approved claim by `owner` (a new verified account by default)."""
    owner = owner or UserFactory(verified=True)
    admin = admin or make_admin()
    record = record_with_works(works)
    claim = claims.submit_claim(record=record, user=owner, links=[], statement="It is me.")
    claims.approve_claim(claim, by=admin, reason="Evidence checks out.")
    record.refresh_from_db()
    if open_to_collaborate:
        record.open_to_collaborate = True
        record.save(update_fields=["open_to_collaborate"])
    return record, owner, Claim.objects.get(pk=claim.pk)


@pytest.fixture
def eager_tasks():
    """Run queued tasks in-process, also when REDIS_URL makes Celery use a real broker.

    The emails these tests read are sent by tasks; without this they would sit in Redis.
    """
    from bzpeer.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous
