"""Following records: follow, unfollow, the Following page and the digests' new works.

`AuthorRecord.follower_count` moves only with a row that really appeared or disappeared: the
insert runs in a savepoint and a duplicate (a double click, two tabs) hits the unique constraint
and changes nothing; a delete counts only the rows it removed. The counter is then moved with an
F() expression, so concurrent clicks on one record never lose an update.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Count, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from bzpeer.lib.mail import send_templated_email, site_url
from profiles import page_cache
from profiles.accounts import verified_email
from profiles.models import AccountSettings, Claim, DigestDelivery, Follow
from profiles.trust_queue import queue_trust_recompute
from works.models import AuthorRecord, Authorship, Work

# The Following page lists this many new works per followed record, and reads at most
# NEW_WORKS_SCAN rows in all: a record that imported 5,000 works overnight must not make
# the page slow.
NEW_WORKS_PER_RECORD = 5
NEW_WORKS_SCAN = 500
FOLLOWING_PER_PAGE = 50


class FollowError(Exception):
    pass


def is_owner(record: AuthorRecord, user) -> bool:
    return (
        user.is_authenticated
        and record.claim_state == AuthorRecord.ClaimState.CLAIMED
        and Claim.objects.filter(record=record, user=user, state=Claim.State.APPROVED).exists()
    )


def follow(*, user, record: AuthorRecord) -> bool:
    """Follow the record; True when a new follow was made (False when it already existed)."""
    if not record.is_person or record.merged_into_id:
        raise FollowError("Only researcher records can be followed.")
    if is_owner(record, user):
        raise FollowError("You cannot follow your own record.")
    try:
        with transaction.atomic():
            Follow.objects.create(user=user, record=record)
            AuthorRecord.objects.filter(pk=record.pk).update(follower_count=F("follower_count") + 1)
    except IntegrityError:
        return False
    _after_change(record)
    return True


def unfollow(*, user, record: AuthorRecord) -> bool:
    """Stop following; True when a follow was removed."""
    with transaction.atomic():
        deleted, _ = Follow.objects.filter(user=user, record=record).delete()
        if deleted:
            AuthorRecord.objects.filter(pk=record.pk, follower_count__gt=0).update(
                follower_count=F("follower_count") - 1
            )
    if deleted:
        _after_change(record)
    return bool(deleted)


def _after_change(record: AuthorRecord) -> None:
    record.refresh_from_db(fields=["follower_count"])
    # The counter moved by an UPDATE, which no signal reports; nothing else on the page did.
    page_cache.followers_changed([record.pk])
    # The community component counts followers; the recompute is debounced per record.
    queue_trust_recompute([record.pk])


def recount_followers(record_ids: list[int]) -> int:
    """Recount from the rows, set-based (after a merge moved follows around; the nightly
    reconciliation). Only rows whose count is wrong are written; returns how many."""
    counts = (
        Follow.objects.filter(record=OuterRef("pk"))
        .values("record")
        .annotate(n=Count("id"))
        .values("n")
    )
    recount = Coalesce(Subquery(counts), Value(0))
    changed = (
        AuthorRecord.objects.filter(id__in=record_ids)
        .exclude(follower_count=recount)
        .update(follower_count=recount)
    )
    if changed:
        page_cache.followers_changed(record_ids)
    return changed


# --- New works of followed records ---------------------------------------------------------


@dataclass
class FollowedRecord:
    record: AuthorRecord
    followed_at: dt.datetime
    new_works: list[Work] = field(default_factory=list)
    more_new: int = 0


def move_follows(source: AuthorRecord, target: AuthorRecord) -> tuple[list[int], list[int]]:
    """Follows move to the target: (moved follow ids, users whose duplicate follow dropped).

    A follower of both keeps one follow; the target's owner never follows their own record.
    """
    target_owner = Claim.objects.filter(record=target, state=Claim.State.APPROVED).values_list(
        "user_id", flat=True
    )
    duplicate = Follow.objects.filter(record=source).filter(
        user__in=Follow.objects.filter(record=target).values("user")
    ) | Follow.objects.filter(record=source, user__in=target_owner)
    dropped_users = sorted(set(duplicate.values_list("user_id", flat=True)))
    Follow.objects.filter(record=source, user__in=dropped_users).delete()
    moved_follows = list(Follow.objects.filter(record=source).values_list("pk", flat=True))
    Follow.objects.filter(pk__in=moved_follows).update(record=target)
    return moved_follows, dropped_users


def new_works_by_record(
    follows: list[Follow], *, since: dt.datetime | None, exclude_work_ids: set[int] = frozenset()
) -> dict[int, list[Work]]:
    """Works imported after `since` (and after the follow began) for each followed record.

    One query for all the records: works are read newest first, at most NEW_WORKS_SCAN rows.
    """
    if not follows:
        return {}
    followed_at = {f.record_id: f.created_at for f in follows}
    earliest = min(followed_at.values())
    threshold = max(earliest, since) if since else earliest
    rows = (
        Authorship.objects.filter(author_id__in=list(followed_at), work__imported_at__gt=threshold)
        .exclude(work_id__in=list(exclude_work_ids))
        .select_related("work")
        .only(
            "author_id",
            "work__id",
            "work__arxiv_id",
            "work__title",
            "work__year",
            "work__kind",
            "work__imported_at",
        )
        .order_by("-work__imported_at", "-work_id")[:NEW_WORKS_SCAN]
    )
    result: dict[int, list[Work]] = {}
    for authorship in rows:
        if authorship.work.imported_at <= followed_at[authorship.author_id]:
            continue
        works = result.setdefault(authorship.author_id, [])
        if all(w.id != authorship.work_id for w in works):
            works.append(authorship.work)
    return result


def following_page(*, user, page: int) -> tuple[list[FollowedRecord], bool, dt.datetime | None]:
    """The followed records (newest follow first) with their works new since the last visit.

    Returns (rows, has_next, previous visit). Three queries, however many records or works.
    The visit is recorded after reading page 1, so the next visit starts from now.
    """
    account_settings, _ = AccountSettings.objects.get_or_create(user=user)
    seen_at = account_settings.following_seen_at
    start = (page - 1) * FOLLOWING_PER_PAGE
    follows = list(
        Follow.objects.filter(user=user)
        .select_related("record")
        .order_by("-created_at", "-id")[start : start + FOLLOWING_PER_PAGE + 1]
    )
    has_next = len(follows) > FOLLOWING_PER_PAGE
    follows = follows[:FOLLOWING_PER_PAGE]
    new = new_works_by_record(follows, since=seen_at)
    rows = []
    for follow_row in follows:
        works = new.get(follow_row.record_id, [])
        rows.append(
            FollowedRecord(
                record=follow_row.record,
                followed_at=follow_row.created_at,
                new_works=works[:NEW_WORKS_PER_RECORD],
                more_new=max(0, len(works) - NEW_WORKS_PER_RECORD),
            )
        )
    if page == 1:
        # Later pages keep the same "since" as the first one the visitor just read.
        AccountSettings.objects.filter(pk=account_settings.pk).update(
            following_seen_at=timezone.now()
        )
    return rows, has_next, seen_at


# --- Digest emails -------------------------------------------------------------------------

DIGEST_PERIODS = {
    AccountSettings.Digest.DAILY: dt.timedelta(days=1),
    AccountSettings.Digest.WEEKLY: dt.timedelta(days=7),
}
# The beat runs at the same hour every day; a digest sent a little less than a period ago is
# due again (the task's start time drifts by minutes).
DIGEST_SLACK = dt.timedelta(hours=2)
DIGEST_MAX_WORKS = 100


def due_digest_user_ids(*, now: dt.datetime) -> list[int]:
    """Accounts whose digest is due: daily ones every day, weekly ones on Mondays."""
    due = Q(digest=AccountSettings.Digest.DAILY, last_digest_at__isnull=True) | Q(
        digest=AccountSettings.Digest.DAILY,
        last_digest_at__lte=now - DIGEST_PERIODS[AccountSettings.Digest.DAILY] + DIGEST_SLACK,
    )
    if now.weekday() == 0:
        due |= Q(digest=AccountSettings.Digest.WEEKLY, last_digest_at__isnull=True) | Q(
            digest=AccountSettings.Digest.WEEKLY,
            last_digest_at__lte=now - DIGEST_PERIODS[AccountSettings.Digest.WEEKLY] + DIGEST_SLACK,
        )
    return list(
        AccountSettings.objects.filter(due, user__is_active=True)
        .order_by("user_id")
        .values_list("user_id", flat=True)
    )


def send_digest(*, user_id: int, now: dt.datetime) -> int:
    """Email one account the new works of the records it follows; returns how many were sent.

    Each work goes to an account at most once (DigestDelivery's unique constraint), even when
    two digest runs overlap: the run first takes the account with a conditional UPDATE of
    `last_digest_at`, and a second run finds it taken. Deliveries are written before the email
    is sent: if sending fails the works are not sent again (at most once, never twice).
    """
    account = AccountSettings.objects.filter(user_id=user_id).select_related("user").first()
    if account is None or account.digest not in DIGEST_PERIODS or not account.user.is_active:
        return 0
    previous = account.last_digest_at
    if not _take_digest_turn(account, now=now):
        return 0
    user = get_user_model().objects.get(pk=user_id)
    email = verified_email(user)
    if not email:
        # Digests go only to verified addresses: an unverified one may be someone else's.
        return 0
    sections = _digest_sections(user, since=previous or (now - DIGEST_PERIODS[account.digest]))
    work_ids = sorted(work.id for _, works in sections for work in works)
    if not work_ids:
        return 0
    with transaction.atomic():
        DigestDelivery.objects.bulk_create(
            [DigestDelivery(user=user, work_id=work_id) for work_id in work_ids],
            ignore_conflicts=True,
        )
    send_templated_email(
        to=[email],
        template="profiles/email/digest",
        context={
            "sections": sections,
            "frequency": account.get_digest_display().lower(),
            "following_url": site_url("/following/"),
            "settings_url": site_url("/accounts/settings/"),
            "work_count": len(work_ids),
        },
    )
    return len(work_ids)


def _take_digest_turn(account: AccountSettings, *, now: dt.datetime) -> bool:
    """Whether this run sends the account's digest: it is due, and no other run took it first
    (a conditional UPDATE of `last_digest_at` from the value this run read)."""
    previous = account.last_digest_at
    if previous is not None and previous > now - DIGEST_PERIODS[account.digest] + DIGEST_SLACK:
        return False
    unchanged = (
        {"last_digest_at": previous} if previous is not None else {"last_digest_at__isnull": True}
    )
    return bool(
        AccountSettings.objects.filter(pk=account.pk, **unchanged).update(last_digest_at=now)
    )


def _digest_sections(user, *, since: dt.datetime) -> list[tuple[AuthorRecord, list[Work]]]:
    """The followed records with their works new since `since` and never sent to this account:
    each work once (under the first record that has it), at most DIGEST_MAX_WORKS in all."""
    follows = list(Follow.objects.filter(user=user).select_related("record"))
    already = set(
        DigestDelivery.objects.filter(user=user, work__imported_at__gt=since).values_list(
            "work_id", flat=True
        )
    )
    new = new_works_by_record(follows, since=since, exclude_work_ids=already)
    sections = []
    sent_ids: set[int] = set()
    for follow_row in follows:
        works = [w for w in new.get(follow_row.record_id, []) if w.id not in sent_ids]
        works = works[: max(0, DIGEST_MAX_WORKS - len(sent_ids))]
        if works:
            sent_ids.update(w.id for w in works)
            sections.append((follow_row.record, works))
    return sections


def follow_merged_records(merged: dict[int, int]) -> None:
    """Records merged away (by a re-clustering) hand their followers to their survivors."""
    records = AuthorRecord.objects.in_bulk({*merged, *merged.values()})
    with transaction.atomic():
        for source_id, target_id in merged.items():
            if source_id in records and target_id in records:
                move_follows(records[source_id], records[target_id])
        recount_followers(sorted({*merged, *merged.values()}))
