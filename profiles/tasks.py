"""Profile tasks: thin, named, taking ids. Work happens in profiles.trust."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from bzpeer.lib.tasks import enqueue

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


@shared_task(name="profiles.recompute_trust", soft_time_limit=60, time_limit=90)
def recompute_trust(author_id: int) -> None:
    from profiles.trust import recompute

    cache.delete(trust_lock_key(author_id))
    recompute(author_ids=[author_id])


@shared_task(
    name="profiles.recompute_all_trust", soft_time_limit=3 * 3600, time_limit=3 * 3600 + 300
)
def recompute_all_trust(full: bool | None = None) -> None:
    """The nightly sweep. Sundays (UTC) it reads every record's works in full: a safety net for
    a works change whose own recompute was lost, which the other nights' sweeps (reading only
    the works stamped as changed) would not see."""
    from django.utils import timezone

    from profiles.trust import recompute_all

    recompute_all(full=timezone.now().weekday() == 6 if full is None else full)


@shared_task(name="profiles.recompute_trust_batch", soft_time_limit=600, time_limit=660)
def recompute_trust_batch(author_ids: list[int]) -> None:
    from profiles.trust import recompute

    recompute(author_ids=author_ids)


def _debounce_seconds() -> float:
    # A setting may shorten it (the end-to-end worker test does); the default stays above.
    return getattr(settings, "TRUST_DEBOUNCE_SECONDS", TRUST_DEBOUNCE_SECONDS)


def _queue_debounced(author_ids: list[int]) -> None:
    if len(author_ids) > MANY_RECORDS:
        # A harvest touching thousands of records: a lock and a task per record would be
        # thousands of cache round trips and tasks; batches read their inputs set-based.
        for start in range(0, len(author_ids), BATCH_TASK_SIZE):
            enqueue(
                recompute_trust_batch,
                author_ids[start : start + BATCH_TASK_SIZE],
                countdown=_debounce_seconds(),
            )
        return
    for author_id in author_ids:
        # cache.add is atomic in Redis and locmem: only the first event of a burst wins.
        if not cache.add(trust_lock_key(author_id), 1, timeout=_LOCK_SECONDS):
            continue
        if not enqueue(recompute_trust, author_id, countdown=_debounce_seconds()):
            # Not queued (broker down): the next event must be free to try again.
            cache.delete(trust_lock_key(author_id))


def queue_trust_recompute(author_ids: list[int]) -> None:
    """Recompute these records' trust once the current transaction commits, debounced.

    The lock is taken at commit time, not now: a rolled-back transaction must not leave a lock
    that silences the next real event.
    """
    unique_ids = sorted({int(author_id) for author_id in author_ids})
    if unique_ids:
        transaction.on_commit(lambda: _queue_debounced(unique_ids))


# --- Emails: claim decisions, invitations, messages, digests (accounts work) -----------------
# Thin and named; the `profiles.send_*` names route them to the "email" queue. A mail server
# that is briefly away is retried with backoff; anything else fails loudly.

from smtplib import SMTPException  # noqa: E402

_EMAIL_RETRY = {
    "autoretry_for": (SMTPException, ConnectionError, TimeoutError),
    "retry_backoff": 30,
    "max_retries": 5,
    "soft_time_limit": 60,
    "time_limit": 90,
}


@shared_task(name="profiles.send_claim_decision", **_EMAIL_RETRY)
def send_claim_decision(claim_id: str) -> None:
    from profiles.claims import email_decision

    email_decision(claim_id)


@shared_task(name="profiles.send_invitation_notice", **_EMAIL_RETRY)
def send_invitation_notice(invitation_id: str) -> None:
    from profiles.collaboration import email_invitation_notice

    email_invitation_notice(invitation_id)


@shared_task(name="profiles.send_invitation_answer", **_EMAIL_RETRY)
def send_invitation_answer(invitation_id: str) -> None:
    from profiles.collaboration import email_invitation_answer

    email_invitation_answer(invitation_id)


@shared_task(name="profiles.send_message_notice", **_EMAIL_RETRY)
def send_message_notice(message_id: int) -> None:
    from profiles.collaboration import email_message_notice

    email_message_notice(message_id)


@shared_task(name="profiles.send_digests", soft_time_limit=300, time_limit=360)
def send_digests() -> int:
    """Fan out one task per account whose digest is due (beat: every morning)."""
    from django.utils import timezone

    from profiles.follows import due_digest_user_ids

    user_ids = due_digest_user_ids(now=timezone.now())
    for user_id in user_ids:
        enqueue(send_account_digest, user_id)
    return len(user_ids)


# No automatic retry: a digest is marked sent before the email goes (at most once per work).
@shared_task(name="profiles.send_account_digest", soft_time_limit=120, time_limit=150)
def send_account_digest(user_id: int) -> int:
    from django.utils import timezone

    from profiles.follows import send_digest

    return send_digest(user_id=user_id, now=timezone.now())
