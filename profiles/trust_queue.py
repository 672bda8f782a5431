"""Queueing trust recomputes: once per event, debounced per record, by task name.

Every event that moves a record's trust (a follow, a claim decision, an account deletion, a
change of level, new works) calls `queue_trust_recompute` once, with every record it affected.
This module sits below the workflows and below `profiles.tasks`: it names the tasks instead of
importing them, so that the workflows can queue without importing the module that imports them.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from bzpeer.lib.tasks import enqueue

RECOMPUTE_TASK = "profiles.recompute_trust"
RECOMPUTE_BATCH_TASK = "profiles.recompute_trust_batch"

# A burst of events on one record (twenty follows in a minute, an import touching the same
# record in several batches) becomes one recompute: the first event takes a short cache lock and
# queues the task with this countdown; later events see the lock and queue nothing. The task
# drops the lock before reading its inputs, so an event that commits while it runs queues a
# fresh recompute instead of being lost.
TRUST_DEBOUNCE_SECONDS = 30
# The lock outlives the countdown so a slow queue does not let a second task in; if the worker
# never runs the task, the lock expires and the nightly sweep catches the record.
_LOCK_SECONDS = TRUST_DEBOUNCE_SECONDS * 4
# Above this many records in one event, recompute in batch tasks instead of one task each.
MANY_RECORDS = 200
BATCH_TASK_SIZE = 2000


def trust_lock_key(author_id: int) -> str:
    return f"profiles:trust-recompute:{author_id}"


def _debounce_seconds() -> float:
    # A setting may shorten it (the end-to-end worker test does); the default stays above.
    return getattr(settings, "TRUST_DEBOUNCE_SECONDS", TRUST_DEBOUNCE_SECONDS)


def _queue_debounced(author_ids: list[int]) -> None:
    if len(author_ids) > MANY_RECORDS:
        # A harvest touching thousands of records: a lock and a task per record would be
        # thousands of cache round trips and tasks; batches read their inputs set-based.
        for start in range(0, len(author_ids), BATCH_TASK_SIZE):
            enqueue(
                RECOMPUTE_BATCH_TASK,
                author_ids[start : start + BATCH_TASK_SIZE],
                countdown=_debounce_seconds(),
            )
        return
    for author_id in author_ids:
        # cache.add is atomic in Redis and locmem: only the first event of a burst wins.
        if not cache.add(trust_lock_key(author_id), 1, timeout=_LOCK_SECONDS):
            continue
        if not enqueue(RECOMPUTE_TASK, author_id, countdown=_debounce_seconds()):
            # Not queued (broker down): the next event must be free to try again.
            cache.delete(trust_lock_key(author_id))


def queue_trust_recompute(author_ids: Iterable[int]) -> None:
    """Recompute these records' trust once the current transaction commits, debounced.

    Call it once per event, with every record the event affected; nothing that runs inside a
    recompute calls it (a recompute never queues another). The lock is taken at commit time,
    not now: a rolled-back transaction must not leave a lock that silences the next real event.
    """
    unique_ids = sorted({int(author_id) for author_id in author_ids})
    if unique_ids:
        transaction.on_commit(lambda: _queue_debounced(unique_ids))
