"""What gets queued when an event commits: one debounced recompute per record, by task name."""

from unittest import mock

import pytest
from django.core.cache import cache
from django.db import transaction
from factories import AuthorRecordFactory, WorkFactory, add_authors

from profiles import tasks
from profiles.trust_queue import TRUST_DEBOUNCE_SECONDS, queue_trust_recompute, trust_lock_key

pytestmark = pytest.mark.django_db


def person_with_work():
    record = AuthorRecordFactory()
    add_authors(WorkFactory(), [record])
    return record


def test_a_burst_of_events_queues_one_delayed_recompute_on_commit(
    django_capture_on_commit_callbacks,
):
    with (
        mock.patch.object(tasks.recompute_trust, "apply_async") as apply_async,
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        for _ in range(5):  # five follows in a row
            queue_trust_recompute([42])

    assert len(callbacks) == 5
    apply_async.assert_called_once_with(args=[42], countdown=TRUST_DEBOUNCE_SECONDS)


def test_nothing_is_queued_before_commit(django_capture_on_commit_callbacks):
    with (
        mock.patch.object(tasks.recompute_trust, "apply_async") as apply_async,
        django_capture_on_commit_callbacks(execute=False) as callbacks,
    ):
        queue_trust_recompute([7, 7, 8])

    assert len(callbacks) == 1
    apply_async.assert_not_called()
    assert cache.get(trust_lock_key(7)) is None


def test_a_rolled_back_event_leaves_no_lock_behind(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                queue_trust_recompute([5])
                raise RuntimeError("the follow failed")
        except RuntimeError:
            pass

    assert callbacks == []
    assert cache.get(trust_lock_key(5)) is None


def test_an_event_after_the_task_started_queues_a_fresh_recompute(
    django_capture_on_commit_callbacks,
):
    record = person_with_work()
    with mock.patch.object(tasks.recompute_trust, "apply_async") as apply_async:
        with django_capture_on_commit_callbacks(execute=True):
            queue_trust_recompute([record.id])
        tasks.recompute_trust(record.id)  # the worker runs it and drops the lock
        with django_capture_on_commit_callbacks(execute=True):
            queue_trust_recompute([record.id])

    assert apply_async.call_count == 2


def test_many_records_at_once_are_queued_as_batch_tasks(django_capture_on_commit_callbacks):
    ids = list(range(1, 4502))
    with (
        mock.patch.object(tasks.recompute_trust, "apply_async") as single,
        mock.patch.object(tasks.recompute_trust_batch, "apply_async") as batch,
        django_capture_on_commit_callbacks(execute=True),
    ):
        queue_trust_recompute(ids)

    single.assert_not_called()
    assert [len(call.kwargs["args"][0]) for call in batch.call_args_list] == [2000, 2000, 501]
    assert all(call.kwargs["countdown"] == TRUST_DEBOUNCE_SECONDS for call in batch.call_args_list)
