"""Profile tasks: thin, named, taking ids. The work happens in the workflows they call.

Nothing in profiles imports this module: the workflows queue these tasks by name (through
`profiles.trust_queue` for trust, `bzpeer.lib.tasks.enqueue_on_commit` for emails).
"""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from bzpeer.lib.tasks import enqueue
from profiles import claims, collaboration, counters, follows, trust
from profiles.orcid import checks as orcid_checks
from profiles.trust_queue import trust_lock_key

# Event-driven recomputes are idempotent (a record already scored from the same inputs is not
# written again), so they are acknowledged only once done: a worker killed mid-recompute leaves
# the message to be delivered again instead of dropping the event until the nightly sweep.
_REDELIVER_IF_KILLED = {"acks_late": True, "reject_on_worker_lost": True}


@shared_task(
    name="profiles.recompute_trust", soft_time_limit=60, time_limit=90, **_REDELIVER_IF_KILLED
)
def recompute_trust(author_id: int) -> None:
    cache.delete(trust_lock_key(author_id))
    trust.recompute(author_ids=[author_id])


@shared_task(
    # Acknowledged on arrival: its time limit outlasts the broker's visibility timeout (3 h), so
    # a late ack would hand a long sweep to a second worker. A sweep killed half-way leaves its
    # committed batches; the next night's sweep does the rest (tests/test_killed_jobs.py).
    name="profiles.recompute_all_trust",
    soft_time_limit=3 * 3600,
    time_limit=3 * 3600 + 300,
)
def recompute_all_trust(full: bool | None = None) -> None:
    """The nightly sweep. Sundays (UTC) it reads every record's works in full: a safety net for
    a works change whose own recompute was lost, which the other nights' sweeps (reading only
    the works stamped as changed) would not see."""
    trust.recompute_all(full=timezone.now().weekday() == 6 if full is None else full)


@shared_task(
    name="profiles.recompute_trust_batch",
    soft_time_limit=600,
    time_limit=660,
    **_REDELIVER_IF_KILLED,
)
def recompute_trust_batch(author_ids: list[int]) -> None:
    trust.recompute(author_ids=author_ids)


@shared_task(name="profiles.follow_merged_records", soft_time_limit=300, time_limit=360)
def follow_merged_records(merged: dict[str, int]) -> None:
    """Followers of records a re-clustering merged away follow the survivors."""
    follows.follow_merged_records({int(source): target for source, target in merged.items()})


@shared_task(name="profiles.reconcile_counters", soft_time_limit=3600, time_limit=3900)
def reconcile_counters() -> dict[str, int]:
    """The nightly recount of every record's counters from the rows (beat: 04:30 UTC)."""
    return counters.reconcile_counters().fixed


# --- Emails: claim decisions, invitations, messages, digests (accounts work) -----------------
# Thin and named; the `profiles.send_*` names route them to the "email" queue. A mail server
# that is briefly away is retried with backoff; anything else fails loudly.

_EMAIL_RETRY = {
    "autoretry_for": (SMTPException, ConnectionError, TimeoutError),
    "retry_backoff": 30,
    "max_retries": 5,
    "soft_time_limit": 60,
    "time_limit": 90,
}


@shared_task(name="profiles.send_claim_decision", **_EMAIL_RETRY)
def send_claim_decision(claim_id: str) -> None:
    claims.email_decision(claim_id)


@shared_task(name="profiles.send_invitation_notice", **_EMAIL_RETRY)
def send_invitation_notice(invitation_id: str) -> None:
    collaboration.email_invitation_notice(invitation_id)


@shared_task(name="profiles.send_invitation_answer", **_EMAIL_RETRY)
def send_invitation_answer(invitation_id: str) -> None:
    collaboration.email_invitation_answer(invitation_id)


@shared_task(name="profiles.send_message_notice", **_EMAIL_RETRY)
def send_message_notice(message_id: int) -> None:
    collaboration.email_message_notice(message_id)


@shared_task(name="profiles.send_digests", soft_time_limit=300, time_limit=360)
def send_digests() -> int:
    """Fan out one task per account whose digest is due (beat: every morning)."""
    user_ids = follows.due_digest_user_ids(now=timezone.now())
    for user_id in user_ids:
        enqueue(send_account_digest, user_id)
    return len(user_ids)


# No automatic retry: a digest is marked sent before the email goes (at most once per work).
@shared_task(name="profiles.send_account_digest", soft_time_limit=120, time_limit=150)
def send_account_digest(user_id: int) -> int:
    return follows.send_digest(user_id=user_id, now=timezone.now())


# --- ORCID (issue 14): the "orcid" queue -------------------------------------------------------
# Each reads ORCID's public API through the polite client (its own retries and Retry-After), so
# no task-level retry: a check that could not read ORCID leaves the claim pending with the error,
# and the nightly refresh tries it again.


@shared_task(name="profiles.orcid_check_claim", soft_time_limit=600, time_limit=660)
def orcid_check_claim(claim_id: str) -> str:
    """Compare a new claim's authenticated iD with its record; approve it at once if they agree."""
    return orcid_checks.check_claim(claim_id)


@shared_task(name="profiles.orcid_sync_account", soft_time_limit=600, time_limit=660)
def orcid_sync_account(user_id: int) -> str:
    """Re-read an owner's ORCID works: new offers, and a drift flag for admins."""
    return orcid_checks.sync_account(user_id)


@shared_task(name="profiles.orcid_refresh_all", soft_time_limit=300, time_limit=360)
def orcid_refresh_all() -> int:
    """The nightly refresh (beat): one task per owner who opted in, and a new check of every
    pending claim whose check could not read ORCID."""
    owners, pending = orcid_checks.due_refreshes()
    for user_id in owners:
        enqueue(orcid_sync_account, user_id)
    for claim_id in pending:
        enqueue(orcid_check_claim, claim_id)
    return len(owners) + len(pending)
