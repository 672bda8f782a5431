"""Deleting an account, with everything that is only its own."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from profiles.claims import release_claims
from profiles.models import Claim, Follow, Invitation
from profiles.trust_queue import queue_trust_recompute
from profiles.verification import transition, trust_dependents
from works.models import AuthorRecord


def delete_account(*, user) -> None:
    """Delete the account with everything that is only its own.

    Its follows, invitations and claims go; an approved claim is released first, through the
    claim transition, so the record returns to unclaimed and its history says so. Follower counts
    of the records it followed drop by one each, set-based. The trust of every record this
    moved (the released one, the followed ones, those a pending claim left) is queued once.
    """
    with transaction.atomic():
        affected = release_claims(user=user, reason="The claimant deleted their account.")
        followed_ids = list(Follow.objects.filter(user=user).values_list("record_id", flat=True))
        Follow.objects.filter(user=user).delete()
        AuthorRecord.objects.filter(id__in=followed_ids, follower_count__gt=0).update(
            follower_count=F("follower_count") - 1
        )
        Invitation.objects.filter(sender=user).delete()
        pending_on = list(
            AuthorRecord.objects.filter(claims__user=user, claims__state=Claim.State.PENDING)
        )
        Claim.objects.filter(user=user).delete()
        for record in pending_on:
            # "Claim pending" goes away with the last pending claim.
            if transition(
                record, actor=None, reason="A pending claim was withdrawn.", queue_trust=False
            ):
                affected += trust_dependents([record.pk])
        user.delete()
        queue_trust_recompute([*affected, *followed_ids])
