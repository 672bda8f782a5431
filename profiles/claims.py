"""Claims of author records: submitting, deciding, releasing, and the claimant's email.

A claim's state moves only through `_decide`, a conditional UPDATE ... WHERE state IN (...):
two admins deciding at once, or two claims approved for one record at once, end with exactly one
winner. The database's partial unique indexes (one approved claim per record, per account and
per ORCID iD) settle the race that the WHERE clause cannot see; the loser gets a ClaimError.
The record's level and claim state then follow through `profiles.verification.transition`, the
one function that writes them. A decision queues one trust recompute, of every record it moved.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from bzpeer.lib.mail import send_templated_email, site_url
from bzpeer.lib.tasks import enqueue_on_commit
from profiles.accounts import verified_email
from profiles.limits import MAX_EVIDENCE_LINKS
from profiles.models import Claim, Invitation
from profiles.trust_queue import queue_trust_recompute
from profiles.verification import transition, trust_dependents
from works import constraints
from works.models import AuthorRecord, Authorship, IdentityConstraint, RecordEvent


class ClaimError(Exception):
    """A claim action that is not allowed; the message is shown to the person who tried."""


# --- Submitting ---------------------------------------------------------------------------


def why_cannot_claim(*, record: AuthorRecord, user, claims: list[Claim], email: str | None) -> str:
    """Why this account cannot submit a claim on this record now ('' when it can).

    `claims` are the account's pending and approved claims (any record) and its claims on this
    record, as loaded by the caller.
    """
    if not record.is_person:
        return "Organisation records cannot be claimed."
    if record.merged_into_id:
        return "This record was merged into another one."
    if any(c.state == Claim.State.APPROVED for c in claims if c.user_id == user.pk):
        return "Your account has already claimed a record; an account claims at most one."
    if any(c.state == Claim.State.PENDING for c in claims if c.user_id == user.pk):
        return "You already have a claim waiting for a decision."
    if not email:
        return "Verify your email address first: a claim needs a verified email."
    return ""


def submit_claim(
    *,
    record: AuthorRecord,
    user,
    orcid: str = "",
    orcid_authenticated: bool = False,
    links: list[str],
    statement: str,
) -> Claim:
    """Create a pending claim with its evidence; the record shows "Claim pending".

    With an authenticated iD (the account signed in to ORCID with it), the iD's public works
    are compared with the record in the background (`profiles.orcid_check_claim`, on the
    "orcid" queue), which approves the claim at once when they agree.
    """
    email = verified_email(user)
    own = list(
        Claim.objects.filter(user=user).filter(
            Q(record=record) | Q(state__in=[Claim.State.PENDING, Claim.State.APPROVED])
        )
    )
    reason = why_cannot_claim(record=record, user=user, claims=own, email=email)
    if reason:
        raise ClaimError(reason)
    try:
        with transaction.atomic():
            claim = Claim.objects.create(
                record=record,
                user=user,
                email=email,
                email_verified=True,
                orcid=orcid,
                orcid_authenticated=bool(orcid_authenticated and orcid),
                links=links[:MAX_EVIDENCE_LINKS],
                statement=statement,
            )
            changed = transition(record, actor=user, reason="A claim was submitted.")
            if not changed:
                RecordEvent.objects.create(
                    record=record,
                    kind=RecordEvent.Kind.CLAIM,
                    summary="Another claim was submitted.",
                    actor=user,
                )
    except IntegrityError as error:
        # Two submissions of the same claim at once (a double click): the partial unique
        # index on pending (user, record) lets one through.
        raise ClaimError("You already have a claim waiting for a decision.") from error
    if claim.orcid_authenticated:
        enqueue_on_commit("profiles.orcid_check_claim", str(claim.pk))
    return claim


def withdraw_claim(claim: Claim, *, by) -> None:
    """The claimant takes back a claim that is still pending."""
    if claim.user_id != by.pk:
        raise ClaimError("Only the claimant can withdraw a claim.")
    _decide(
        claim,
        to_state=Claim.State.WITHDRAWN,
        from_states=[Claim.State.PENDING],
        by=by,
        reason="Withdrawn by the claimant.",
        public_reason="A claim was withdrawn by its claimant.",
        notify=False,
    )


# --- Deciding (admins) ---------------------------------------------------------------------


def approve_claim(claim: Claim, *, by, reason: str, orcid_confirmed: bool = False) -> None:
    """Approve a pending claim: the record becomes Claimed, at L2 or L3 (strong evidence)."""
    _refuse_own(claim, by=by, verb="approve")
    _refuse_taken_orcid(claim)
    _decide(
        claim,
        to_state=Claim.State.APPROVED,
        from_states=[Claim.State.PENDING],
        by=by,
        reason=reason,
        public_reason="A claim was approved by an admin.",
        extra={"orcid_confirmed": bool(orcid_confirmed and claim.orcid)},
    )
    if claim.orcid_authenticated:
        # The owner's ORCID works that sit on other records are offered to them.
        enqueue_on_commit("profiles.orcid_sync_account", claim.user_id)


def approve_claim_by_orcid(claim: Claim, *, reason: str, matched: list[dict]) -> None:
    """BZPEER approves a pending claim itself: the claimant's authenticated ORCID record lists
    enough of the record's works (the rule is in profiles.orcid.evidence). Nobody decides, so
    the actor is None; the record's history says why and lists the works that matched."""
    if not claim.orcid_authenticated:
        raise ClaimError("Only a claim with an authenticated ORCID iD is approved at once.")
    _refuse_taken_orcid(claim)
    listed = ", ".join(f"arXiv:{work['arxiv_id']}" for work in matched[:5])
    if len(matched) > 5:
        listed += f" and {len(matched) - 5} more"
    _decide(
        claim,
        to_state=Claim.State.APPROVED,
        from_states=[Claim.State.PENDING],
        by=None,
        reason=reason,
        public_reason=(
            f"A claim was approved at once: the claimant's ORCID iD {claim.orcid}, "
            f"authenticated by signing in with ORCID, lists {len(matched)} works of this "
            f"record ({listed})."
        ),
        extra={"auto_approved": True},
        event_data={
            "orcid": claim.orcid,
            "matched_works": [
                {"arxiv_id": work["arxiv_id"], "title": work.get("title", "")} for work in matched
            ],
            "rule": reason,
        },
    )


def reject_claim(claim: Claim, *, by, reason: str) -> None:
    _refuse_own(claim, by=by, verb="reject")
    _decide(
        claim,
        to_state=Claim.State.REJECTED,
        from_states=[Claim.State.PENDING],
        by=by,
        reason=reason,
        public_reason="A claim was rejected by an admin.",
    )


def revoke_claim(claim: Claim, *, by, reason: str) -> None:
    """Take back an approved claim: the record returns to unclaimed."""
    _refuse_own(claim, by=by, verb="revoke")
    _decide(
        claim,
        to_state=Claim.State.REVOKED,
        from_states=[Claim.State.APPROVED],
        by=by,
        reason=reason,
        public_reason="The approved claim was revoked by an admin.",
    )


def release_claims(*, user, reason: str) -> list[int]:
    """The account is going away: its approved claim is released, nobody decides.

    Returns the records whose trust the release moved, without queueing their recompute: the
    account deletion queues it once, with the other records it changes.
    """
    affected: list[int] = []
    for claim in Claim.objects.filter(user=user, state=Claim.State.APPROVED):
        affected += _decide(
            claim,
            to_state=Claim.State.REVOKED,
            from_states=[Claim.State.APPROVED],
            by=None,
            reason=reason,
            public_reason="The claim was released: the claimant's account was deleted.",
            notify=False,
            queue_trust=False,
        )
    return affected


def _refuse_taken_orcid(claim: Claim) -> None:
    if not claim.orcid:
        return
    holder = (
        Claim.objects.filter(orcid=claim.orcid, state=Claim.State.APPROVED)
        .exclude(pk=claim.pk)
        .select_related("record")
        .first()
    )
    if holder is not None:
        raise ClaimError(_orcid_taken(claim.orcid, holder.record))


def _orcid_taken(orcid: str, record: AuthorRecord | None) -> str:
    where = f" (on {record.display_name}, {record.slug})" if record is not None else ""
    return (
        f"The ORCID iD {orcid} already backs an approved claim{where}: an ORCID iD is one "
        "person. Revoke that claim first if it was wrong."
    )


def _refuse_own(claim: Claim, *, by, verb: str) -> None:
    if by is not None and claim.user_id == by.pk:
        raise ClaimError(f"Nobody can {verb} their own claim; another admin must decide.")


def _decide(
    claim: Claim,
    *,
    to_state: str,
    from_states: list[str],
    by,
    reason: str,
    public_reason: str,
    extra: dict | None = None,
    event_data: dict | None = None,
    notify: bool = True,
    queue_trust: bool = True,
) -> list[int]:
    """Move a claim from one of `from_states` to `to_state`, once, and let the record follow.

    The admin's own `reason` is stored on the claim and sent to the claimant; the public history
    gets `public_reason` only (a rejection's reason can be about the person). Returns the records
    whose trust the decision moved, and queues their recompute unless `queue_trust` is False
    (the caller's event queues once for everything it changed). `event_data` goes into the data
    of the record's history entry.
    """
    with transaction.atomic():
        _move_state(
            claim, to_state=to_state, from_states=from_states, by=by, reason=reason, extra=extra
        )
        claim.refresh_from_db()
        record = claim.record
        changed = _record_decision(record, by=by, public_reason=public_reason, data=event_data)
        if to_state == Claim.State.APPROVED:
            _confirm_signatures(claim)
        if from_states == [Claim.State.APPROVED]:
            _forget_owner_settings(record, actor=by)
            _forget_confirmations(claim)
        if notify:
            enqueue_on_commit("profiles.send_claim_decision", str(claim.pk))
    # A new level moves the trust of those who count the record as a close collaborator too.
    affected = trust_dependents([record.pk]) if changed else [record.pk]
    if queue_trust:
        queue_trust_recompute(affected)
    return affected


def _move_state(
    claim: Claim, *, to_state: str, from_states: list[str], by, reason: str, extra: dict | None
) -> None:
    """The claim's own row moved to `to_state`, or ClaimError: only one decision wins."""
    try:
        with transaction.atomic():
            updated = Claim.objects.filter(pk=claim.pk, state__in=from_states).update(
                state=to_state,
                decided_by=by,
                decided_at=timezone.now(),
                reason=reason,
                **(extra or {}),
            )
    except IntegrityError as error:
        # Approved at the same moment as another claim: the constraint names the rule.
        if "orcid" in str(error):
            raise ClaimError(_orcid_taken(claim.orcid, None)) from error
        raise ClaimError(
            "Another claim on this record is already approved, or this account already "
            "owns a record: revoke that claim first."
        ) from error
    if updated != 1:
        raise ClaimError("This claim was already decided; reload to see its state.")


def _record_decision(record, *, by, public_reason: str, data: dict | None) -> bool:
    """The record follows the decision; True when its state moved (its history says so)."""
    changed = transition(record, actor=by, reason=public_reason, queue_trust=False, data=data)
    if not changed:
        # The record's state did not move (another claim is still pending): the decision
        # still belongs in the record's history.
        RecordEvent.objects.create(
            record=record,
            kind=RecordEvent.Kind.CLAIM,
            summary=public_reason[:500],
            actor=by,
            data=data or {},
        )
    return changed


def _confirm_signatures(claim: Claim) -> None:
    """An approved owner confirms the record's signatures as theirs: re-clustering keeps
    every one of them on the record (works.constraints)."""
    constraints.must_link(
        Authorship.objects.filter(author=claim.record).values_list("pk", flat=True),
        claim.record,
        source=IdentityConstraint.Source.CONFIRMED,
        actor=claim.user,
    )


def _forget_confirmations(claim: Claim) -> None:
    """An owner whose claim ended confirms nothing any more."""
    IdentityConstraint.objects.filter(
        record=claim.record, source=IdentityConstraint.Source.CONFIRMED, actor=claim.user
    ).delete()


def _forget_owner_settings(record: AuthorRecord, *, actor) -> None:
    """A record without an owner shows no owner's words and takes no invitations."""
    fields = {"open_to_collaborate": False, "description": "", "owner_affiliation": ""}
    changed = {name: value for name, value in fields.items() if getattr(record, name) != value}
    if changed:
        AuthorRecord.objects.filter(pk=record.pk).update(**changed)
        for name, value in changed.items():
            setattr(record, name, value)
        RecordEvent.objects.create(
            record=record,
            kind=RecordEvent.Kind.EDIT,
            summary="The former owner's description, affiliation and collaboration setting "
            "were cleared.",
            actor=actor,
        )
    Invitation.objects.filter(record=record, state=Invitation.State.OPEN).update(
        state=Invitation.State.DECLINED, decided_at=timezone.now()
    )


# --- Emails -------------------------------------------------------------------------------


def email_decision(claim_id) -> None:
    """Tell the claimant what was decided and why."""
    claim = Claim.objects.select_related("record").filter(pk=claim_id).first()
    if claim is None or claim.state == Claim.State.PENDING:
        return
    send_templated_email(
        to=[claim.email],
        template="profiles/email/claim_decision",
        context={
            "claim": claim,
            "record": claim.record,
            "record_url": site_url(claim.record.get_absolute_url()),
        },
    )
