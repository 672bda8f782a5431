"""ORCID workflows: check a claim, offer the owner works from other records, refresh owners.

Called by the `profiles.orcid_*` tasks (the "orcid" queue) and by the owner's views. Reading
ORCID happens outside any transaction; what is written after it is re-checked against the
database (a claim decided meanwhile is left alone).

- `check_claim`: a pending claim with an authenticated iD. The iD's public names and works are
  compared with the record (`profiles.orcid.evidence`); the comparison is stored on the claim
  for admins, and the record's works a third party listed on the iD become the claim's
  `orcid_matched` (L3 evidence); with enough agreement the claim is approved at once through
  `profiles.claims.approve_claim_by_orcid`, and the owner's works on other records are offered.
  ORCID out of reach leaves the claim pending with the error: an admin decides, or the nightly
  refresh checks it again.
- `sync_account`: an owner's approved claim, re-read (after an admin's approval, and nightly for
  owners who opted in): new offers, and a drift flag when the iD no longer lists works that
  justified the claim. Nothing is removed or lowered: an admin sees the flag and decides.
- `accept_offer` / `decline_offer`: the owner's answer to an offer. An accepted move goes through
  `profiles.corrections.move_authorships` (the one path that moves signatures and remembers the
  move); a work whose signature sits on a record another account has claimed is never moved by
  an owner: it becomes a conflict, for an admin.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from profiles import claims
from profiles.accounts import authenticated_orcid
from profiles.corrections import CorrectionError, move_authorships
from profiles.models import AccountSettings, Claim, OrcidOffer
from profiles.orcid.client import OrcidClient, OrcidError, OrcidNotFound
from profiles.orcid.config import orcid_configured
from profiles.orcid.documents import OrcidPerson, OrcidWork
from profiles.orcid.evidence import (
    Comparison,
    RecordWork,
    Signature,
    compare,
    family_names,
    listed_identifiers,
)
from works.models import AuthorRecord, Authorship, IdentityConstraint

log = logging.getLogger(__name__)


class OfferError(Exception):
    """An answer to an offer that cannot be applied; the message is shown to the owner."""


# --- Reading and comparing ----------------------------------------------------------------


def _read(client: OrcidClient, orcid: str) -> tuple[OrcidPerson, list[OrcidWork]]:
    return client.person(orcid), client.works(orcid)


def _record_works(record: AuthorRecord) -> list[RecordWork]:
    rows = (
        Authorship.objects.filter(author=record)
        .order_by()
        .values_list("work__arxiv_id", "work__title", "work__doi")
        .distinct()
    )
    found: dict[str, RecordWork] = {}
    for arxiv_id, title, doi in rows:
        dois = tuple(d.strip().lower() for d in (doi or "").split() if d.strip())
        found[arxiv_id] = RecordWork(arxiv_id=arxiv_id, title=title, dois=dois)
    return list(found.values())


def _signatures_elsewhere(
    *, record: AuthorRecord, user_id: int, arxiv_ids: set[str], names: list[str]
) -> list[Signature]:
    """Signatures on the listed works this record does not hold, whose printed name could be the
    claimant's (same family name token), with whether another account claimed their record.
    Three queries whatever the number of works; a 3,000-author paper costs only its namesakes."""
    if not arxiv_ids:
        return []
    on_record = set(
        Authorship.objects.filter(author=record, work__arxiv_id__in=arxiv_ids).values_list(
            "work__arxiv_id", flat=True
        )
    )
    wanted = sorted(arxiv_ids - on_record)
    families = family_names(names)
    if not wanted or not families:
        return []
    same_family = Q()
    for family in families:
        same_family |= Q(name_key=family) | Q(name_key__endswith=f" {family}")
        same_family |= Q(name_key__startswith=f"{family} ")
    rows = list(
        Authorship.objects.filter(work__arxiv_id__in=wanted)
        .filter(same_family)
        .exclude(author=record)
        .filter(author__kind=AuthorRecord.Kind.PERSON, author__merged_into__isnull=True)
        .order_by("work__arxiv_id", "position")
        .values_list(
            "id",
            "work_id",
            "work__arxiv_id",
            "work__title",
            "printed_name",
            "author_id",
            "author__slug",
            "author__display_name",
        )
    )
    claimed_by_others = set(
        Claim.objects.filter(record_id__in={row[5] for row in rows}, state=Claim.State.APPROVED)
        .exclude(user_id=user_id)
        .values_list("record_id", flat=True)
    )
    return [
        Signature(*row, claimed_by_other=row[5] in claimed_by_others)  # row[5]: the record's id
        for row in rows
    ]


def compare_with_record(
    *, record: AuthorRecord, user_id: int, person: OrcidPerson, works: list[OrcidWork]
) -> Comparison:
    record_names = list(dict.fromkeys([record.display_name, *(record.variants or [])]))
    arxiv_ids, _dois = listed_identifiers(works)
    return compare(
        person=person,
        orcid_works=works,
        record_names=record_names,
        record_works=_record_works(record),
        signatures=_signatures_elsewhere(
            record=record,
            user_id=user_id,
            arxiv_ids=arxiv_ids,
            names=[*person.names, *record_names],
        ),
        flagged_several=record.possibly_several_people,
    )


# --- A claim -------------------------------------------------------------------------------


def check_claim(claim_id, *, client: OrcidClient | None = None) -> str:
    """Check a pending claim's authenticated iD against its record; approve it when they agree.

    Returns what happened: "approved", "admin" (not enough agreement, or the approval was
    refused), "error" (ORCID could not be read) or "skipped" (no such pending claim).
    """
    claim = Claim.objects.select_related("record").filter(pk=claim_id).first()
    if claim is None or claim.state != Claim.State.PENDING or not claim.orcid_authenticated:
        return "skipped"
    now = timezone.now()
    try:
        if client is None and not orcid_configured():
            # Connected while ORCID was configured; the site has stopped using ORCID since.
            raise OrcidError("ORCID is not configured on this site (ORCID_CLIENT_ID)")
        person, works = _read(client or OrcidClient.from_settings(), claim.orcid)
    except OrcidError as error:
        log.warning("ORCID check of claim %s failed: %s", claim.pk, error)
        _store_pending_check(
            claim,
            {
                "orcid": claim.orcid,
                "checked_at": now.isoformat(),
                "error": str(error),
                "enough": False,
                "reason": "ORCID could not be read; an admin decides, or the nightly check "
                "tries again.",
            },
        )
        return "error"
    comparison = compare_with_record(
        record=claim.record, user_id=claim.user_id, person=person, works=works
    )
    check = {**comparison.to_json(), "checked_at": now.isoformat()}
    if not _store_pending_check(claim, check, matched=comparison.confirmed_ids):
        return "skipped"
    if not comparison.enough:
        return "admin"
    try:
        claims.approve_claim_by_orcid(claim, reason=comparison.reason, matched=comparison.confirmed)
    except claims.ClaimError as error:
        # The record was claimed meanwhile, the account owns another record, or the iD backs
        # another approved claim: the database said no, an admin looks.
        _store_pending_check(claim, {**check, "enough": False, "refused": str(error)})
        return "admin"
    offer_moves(user_id=claim.user_id, record=claim.record, comparison=comparison)
    return "approved"


def _store_pending_check(claim: Claim, check: dict, *, matched: list[str] | None = None) -> bool:
    """Store a check on a claim still pending; False when it was decided meanwhile."""
    fields = {"orcid_check": check}
    if matched is not None:
        fields["orcid_matched"] = matched
    updated = Claim.objects.filter(pk=claim.pk, state=Claim.State.PENDING).update(**fields)
    for name, value in fields.items():
        setattr(claim, name, value)
    return updated == 1


# --- Offers --------------------------------------------------------------------------------


def offer_moves(*, user_id: int, record: AuthorRecord, comparison: Comparison) -> int:
    """Offer the owner the works their ORCID record lists that sit on other records, once each
    (an answered work is never offered again); those on records others claimed are conflicts.
    Returns how many new offers were made."""
    offers = [
        OrcidOffer(
            user_id=user_id,
            record=record,
            work_id=work["work_id"],
            authorship_id=work["authorship_id"],
            source_id=work["record_id"],
            orcid=comparison.orcid,
        )
        for work in comparison.elsewhere
    ] + [
        OrcidOffer(
            user_id=user_id,
            record=record,
            work_id=work["work_id"],
            orcid=comparison.orcid,
            state=OrcidOffer.State.CONFLICT,
        )
        for work in comparison.conflicting
    ]
    if not offers:
        return 0
    known = set(
        OrcidOffer.objects.filter(
            user_id=user_id, work_id__in=[offer.work_id for offer in offers]
        ).values_list("work_id", flat=True)
    )
    fresh = [offer for offer in offers if offer.work_id not in known]
    OrcidOffer.objects.bulk_create(fresh, ignore_conflicts=True)
    return len(fresh)


@dataclass
class OfferOutcome:
    moved: bool
    message: str


def accept_offer(offer: OrcidOffer, *, by) -> OfferOutcome:
    """Move the offered signature onto the owner's record, unless another account has claimed
    the record it sits on (then it becomes a conflict, for an admin)."""
    with transaction.atomic():
        offer = OrcidOffer.objects.select_for_update().select_related("work").get(pk=offer.pk)
        if offer.state != OrcidOffer.State.OPEN:
            raise OfferError("This work was already answered.")
        owned = Claim.objects.filter(
            user=by, record_id=offer.record_id, state=Claim.State.APPROVED
        ).exists()
        if offer.user_id != by.pk or not owned:
            raise OfferError("Only the owner of this record can move works onto it.")
        authorship = (
            Authorship.objects.filter(pk=offer.authorship_id).select_related("author").first()
        )
        if authorship is None or authorship.author_id == offer.record_id:
            _close(offer, OrcidOffer.State.ACCEPTED)
            return OfferOutcome(False, "This work is already on your record.")
        taken = (
            Claim.objects.filter(record_id=authorship.author_id, state=Claim.State.APPROVED)
            .exclude(user=by)
            .exists()
        )
        if taken:
            _close(offer, OrcidOffer.State.CONFLICT)
            return OfferOutcome(
                False,
                f"“{offer.work.title[:120]}” sits on a record another account has claimed: it "
                "was not moved, and an admin will look at it.",
            )
        try:
            move_authorships(
                authorship_ids=[authorship.pk],
                target=AuthorRecord.objects.get(pk=offer.record_id),
                by=by,
                reason=f"Listed on the owner's ORCID record {offer.orcid}, authenticated by "
                "signing in with ORCID; the owner accepted the move.",
                actor_label="The owner",
                constraint_source=IdentityConstraint.Source.ORCID,
            )
        except CorrectionError as error:
            raise OfferError(str(error)) from error
        _close(offer, OrcidOffer.State.ACCEPTED)
    return OfferOutcome(True, f"“{offer.work.title[:120]}” is now on your record.")


def decline_offer(offer: OrcidOffer, *, by) -> None:
    """Nothing moves, and the work is never offered again."""
    updated = OrcidOffer.objects.filter(pk=offer.pk, user=by, state=OrcidOffer.State.OPEN).update(
        state=OrcidOffer.State.DECLINED, decided_at=timezone.now()
    )
    if updated != 1:
        raise OfferError("This work was already answered.")


def _close(offer: OrcidOffer, state: str) -> None:
    offer.state = state
    offer.decided_at = timezone.now()
    offer.save(update_fields=["state", "decided_at"])


# --- Refreshing owners ---------------------------------------------------------------------


def sync_account(user_id: int, *, client: OrcidClient | None = None) -> str:
    """Re-read an owner's ORCID works: offer new matches, flag works that justified the claim
    and are no longer listed. Returns "synced", "drift", "gone", "error" or "skipped"."""
    claim = (
        Claim.objects.select_related("record", "user")
        .filter(user_id=user_id, state=Claim.State.APPROVED, orcid_authenticated=True)
        .first()
    )
    if client is None and not orcid_configured():
        return "skipped"
    if claim is None or authenticated_orcid(claim.user) != claim.orcid:
        return "skipped"  # no such owner, or the account no longer holds that iD
    now = timezone.now()
    try:
        person, works = _read(client or OrcidClient.from_settings(), claim.orcid)
    except OrcidNotFound as error:
        # Deprecated, deactivated or deleted: it lists nothing any more.
        _store_drift(claim, lost=list(claim.orcid_matched), check_error=str(error))
        return "gone"
    except OrcidError as error:
        log.warning("ORCID refresh of account %s failed: %s", user_id, error)
        return "error"
    comparison = compare_with_record(
        record=claim.record, user_id=user_id, person=person, works=works
    )
    arxiv_ids, _dois = listed_identifiers(works)
    still_listed = arxiv_ids | set(comparison.matched_ids)
    lost = [arxiv_id for arxiv_id in claim.orcid_matched if arxiv_id not in still_listed]
    _store_drift(claim, lost=lost, check={**comparison.to_json(), "checked_at": now.isoformat()})
    offer_moves(user_id=user_id, record=claim.record, comparison=comparison)
    return "drift" if lost else "synced"


def _store_drift(
    claim: Claim, *, lost: list[str], check: dict | None = None, check_error: str = ""
) -> None:
    fields: dict = {"orcid_drift": lost}
    if lost and not claim.orcid_drift:
        fields["orcid_drift_seen_at"] = timezone.now()
    elif not lost:
        fields["orcid_drift_seen_at"] = None
    if check is not None:
        fields["orcid_check"] = check
    elif check_error:
        fields["orcid_check"] = {**claim.orcid_check, "refresh_error": check_error}
    Claim.objects.filter(pk=claim.pk, state=Claim.State.APPROVED).update(**fields)


def due_refreshes() -> tuple[list[int], list[str]]:
    """Who the nightly refresh reads: owners who opted in (their approved claim has an
    authenticated iD), and pending claims whose check could not read ORCID. Nobody when the
    site does not use ORCID (any more)."""
    if not orcid_configured():
        return [], []
    owners = list(
        AccountSettings.objects.filter(
            orcid_refresh=True,
            user__claims__state=Claim.State.APPROVED,
            user__claims__orcid_authenticated=True,
        )
        .order_by("user_id")
        .values_list("user_id", flat=True)
        .distinct()
    )
    retry = [
        str(pk)
        for pk in Claim.objects.filter(
            state=Claim.State.PENDING, orcid_authenticated=True, orcid_check__has_key="error"
        )
        .order_by("created_at")
        .values_list("pk", flat=True)
    ]
    return owners, retry
