"""Deleting an account, with everything that is only its own."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from profiles import page_cache
from profiles.claims import release_claims
from profiles.models import Claim, Follow, Invitation
from profiles.trust_queue import queue_trust_recompute
from profiles.verification import transition, trust_dependents
from works.models import AuthorRecord, RecordEvent

# What stands in the records' history for a deleted account's own words.
REMOVED_TEXT = "[removed: the account was deleted]"


def delete_account(*, user) -> None:
    """Delete the account with everything that is only its own.

    Its follows, invitations and claims go; an approved claim is released first, through the
    claim transition, so the record returns to unclaimed and its history says so. Follower counts
    of the records it followed drop by one each, set-based. The trust of every record this
    moved (the released one, the followed ones, those a pending claim left) is queued once.
    The records' history keeps its events, without the texts the account typed.
    """
    with transaction.atomic():
        scrub_own_texts(user=user)
        affected = release_claims(user=user, reason="The claimant deleted their account.")
        followed_ids = list(Follow.objects.filter(user=user).values_list("record_id", flat=True))
        Follow.objects.filter(user=user).delete()
        AuthorRecord.objects.filter(id__in=followed_ids, follower_count__gt=0).update(
            follower_count=F("follower_count") - 1
        )
        page_cache.forget(followed_ids)
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


def scrub_own_texts(*, user) -> int:
    """Drop the account's own words from the history of every record, keeping the events.

    What an owner types lands in an event's data as the before and after values of an owner
    edit (description, affiliation): each text becomes REMOVED_TEXT; empty values and flags
    stay, so the history still says what changed and when. Claim statements and evidence go
    with the claims themselves. Returns how many events were rewritten.
    """
    scrubbed = []
    events = RecordEvent.objects.filter(actor=user, data__has_key="changed").only("id", "data")
    for event in events.iterator(chunk_size=500):
        changed = {
            name: [_removed(v) for v in values] if isinstance(values, list) else _removed(values)
            for name, values in event.data["changed"].items()
        }
        if changed != event.data["changed"]:
            event.data = {**event.data, "changed": changed}
            scrubbed.append(event)
    RecordEvent.objects.bulk_update(scrubbed, ["data"], batch_size=500)
    return len(scrubbed)


def _removed(value):
    return REMOVED_TEXT if isinstance(value, str) and value else value
