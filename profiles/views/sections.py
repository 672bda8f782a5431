"""The profile page's sections for one visitor: identity (claims), collaboration, follow, trust.

Page assembly belongs to the views: the domain modules decide (may this visitor claim, invite,
follow?), these functions gather what a section shows, each in a constant number of queries
however many works, followers or claims the record has. The profile page, the claim page, the
invitation page and the follow button's htmx answer share them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q

from graph.weights import CLOSE_COLLABORATOR_THRESHOLD
from profiles.accounts import verified_email
from profiles.claims import why_cannot_claim
from profiles.collaboration import why_cannot_invite, work_choices
from profiles.follows import is_owner
from profiles.forms import InvitationForm
from profiles.levels import ClaimState, Level
from profiles.models import Claim, Follow, Invitation, TrustSnapshot
from works.models import AuthorRecord

# --- Identity: claims ----------------------------------------------------------------------


@dataclass
class ClaimPanel:
    """The identity section's facts for one visitor."""

    approved: Claim | None
    own_claim: Claim | None  # the visitor's latest claim on this record
    is_owner: bool
    can_claim: bool
    cannot_claim_reason: str
    has_verified_email: bool

    @property
    def owner_email_domain(self) -> str:
        return self.approved.email.rpartition("@")[2] if self.approved else ""


def identity_section(record: AuthorRecord, user) -> dict:
    """The identity and collaboration sections' context: at most five queries, however many
    works, followers or claims the record has."""
    authenticated = user.is_authenticated
    claims = _claims_shown(record, user)
    approved = next(
        (c for c in claims if c.record_id == record.pk and c.state == Claim.State.APPROVED), None
    )
    own = [c for c in claims if authenticated and c.user_id == user.pk]
    email = verified_email(user) if authenticated else None
    reason = (
        why_cannot_claim(record=record, user=user, claims=own, email=email) if authenticated else ""
    )
    panel = ClaimPanel(
        approved=approved,
        own_claim=next((c for c in own if c.record_id == record.pk), None),
        is_owner=bool(approved and authenticated and approved.user_id == user.pk),
        can_claim=authenticated
        and not reason
        and record.claim_state != AuthorRecord.ClaimState.CLAIMED,
        cannot_claim_reason=reason,
        has_verified_email=bool(email),
    )
    invitations = collaboration_panel(
        record=record, user=user, owner_id=approved.user_id if approved else None, email=email
    )
    return {
        "claim_panel": panel,
        "collaboration": invitations,
        "invitation_form": (
            InvitationForm(work_choices=invitations.work_choices, auto_id="invite_%s")
            if invitations.can_invite
            else None
        ),
    }


def _claims_shown(record: AuthorRecord, user) -> list[Claim]:
    """The record's approved claim and the visitor's pending and approved claims (any record)
    and claims on this record, newest first: one query, none for an anonymous visitor of an
    unclaimed record."""
    authenticated = user.is_authenticated
    if not authenticated and record.claim_state != AuthorRecord.ClaimState.CLAIMED:
        return []
    condition = Q(record=record, state=Claim.State.APPROVED)
    if authenticated:
        condition |= Q(user=user) & (
            Q(record=record) | Q(state__in=[Claim.State.PENDING, Claim.State.APPROVED])
        )
    return list(Claim.objects.filter(condition).order_by("-created_at"))


# --- Collaboration: invitations ------------------------------------------------------------


@dataclass
class CollaborationPanel:
    available: bool  # the record takes invitations at all
    reason: str  # why the visitor cannot send one ('' when they can)
    can_invite: bool
    open_invitation: Invitation | None = None
    work_choices: list[tuple[int, str]] = field(default_factory=list)


def collaboration_panel(
    *, record: AuthorRecord, user, owner_id: int | None, email: str | None
) -> CollaborationPanel:
    """Constant queries: at most one for an open invitation and one for the work choices."""
    reason = why_cannot_invite(record=record, sender=user, owner_id=owner_id, email=email)
    available = (
        record.claim_state == AuthorRecord.ClaimState.CLAIMED
        and owner_id is not None
        and record.open_to_collaborate
    )
    if reason or not available:
        return CollaborationPanel(available=available, reason=reason, can_invite=False)
    open_invitation = Invitation.objects.filter(
        sender=user, record=record, state=Invitation.State.OPEN
    ).first()
    return CollaborationPanel(
        available=True,
        reason="",
        can_invite=open_invitation is None,
        open_invitation=open_invitation,
        work_choices=work_choices(record) if open_invitation is None else [],
    )


# --- Follow --------------------------------------------------------------------------------


def follow_section(record: AuthorRecord, user, *, following: bool | None = None) -> dict:
    """The follow section's context: at most two queries, one when ``following`` is known
    (the answer to a follow or unfollow that just succeeded)."""
    if not user.is_authenticated:
        return {"is_following": False, "is_record_owner": False}
    owner = is_owner(record, user)
    if following is None:
        following = Follow.objects.filter(user=user, record=record).exists()
    return {"is_following": not owner and following, "is_record_owner": owner}


# --- Trust ---------------------------------------------------------------------------------


def trust_section(record: AuthorRecord) -> dict:
    """What the profile page's trust panel needs: one query, whatever the history's length."""
    # The panel shows the score and band only; a prolific record's inputs and evidence
    # weigh over a megabyte of JSON, which would dominate the profile page's time.
    snapshot = (
        TrustSnapshot.objects.filter(record=record)
        .defer("inputs", "components")
        .order_by("-computed_at", "-id")
        .first()
        if record.is_person
        else None
    )
    return {
        "trust_snapshot": snapshot,
        "trust_level": Level(record.verification_level),
        "trust_claim_state": ClaimState(record.claim_state),
        "close_collaborator_threshold": CLOSE_COLLABORATOR_THRESHOLD,
    }
