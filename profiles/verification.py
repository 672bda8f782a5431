"""The one transition function for a record's verification level and claim state.

`profiles.levels.derive` decides; this module gathers the facts from the database, stores the
result on the record and logs who changed it, when and why. Nothing else writes
`AuthorRecord.verification_level` or `AuthorRecord.claim_state` (the importer only creates
records at their starting level).
"""

from __future__ import annotations

import re

from django.db import transaction

from graph.models import CollaborationEdge
from graph.weights import CLOSE_WEIGHT_FLOOR
from profiles.levels import ClaimEvidence, ClaimState, Level, RecordFacts, derive
from profiles.models import Claim
from profiles.trust_queue import queue_trust_recompute
from works.models import AuthorRecord, Authorship, RecordEvent

# A domain written in an affiliation ("Tsinghua University, tsinghua.edu.cn" or an email
# "zz@mails.tsinghua.edu.cn"). Letters-only top-level domain of two or more characters, so
# abbreviations such as "Dept." or "U.S.A." are not mistaken for domains.
_DOMAIN = re.compile(
    r"(?<![\w.-])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}(?![\w-])", re.I
)


def affiliation_domains(affiliation: str) -> tuple[str, ...]:
    """Domains written in the record's affiliation text; none when it names none.

    Nothing is guessed from an institution's name (PRODUCT.md: institutions come only from the
    metadata): "Tsinghua University" gives no domain, so an institutional email cannot be
    matched against it and the claim stays at L2 unless an admin confirms an ORCID iD.
    """
    text = affiliation.replace("@", " ")
    found: list[str] = []
    for match in _DOMAIN.finditer(text):
        domain = match.group(0).lower().strip(".")
        if domain not in found:
            found.append(domain)
    return tuple(found)


def claim_evidence(claim: Claim, *, affiliation: str) -> ClaimEvidence:
    return ClaimEvidence(
        email_verified=claim.email_verified,
        email_domain=claim.email.rpartition("@")[2],
        affiliation_domains=affiliation_domains(affiliation),
        orcid=claim.orcid,
        orcid_confirmed_by_admin=claim.orcid_confirmed,
        orcid_authenticated=claim.orcid_authenticated,
        orcid_listed_works=len(claim.orcid_matched or ()),
    )


def record_facts(
    record: AuthorRecord,
    *,
    work_count: int,
    pending_claim: bool,
    approved_claim: Claim | None,
) -> RecordFacts:
    """The facts `derive` needs, from values gathered one record or one batch at a time.

    Every work is an arXiv record (API, OAI-PMH or the metadata snapshot), so a record with at
    least one work is built from a trusted public source.
    """
    return RecordFacts(
        is_person=record.kind == AuthorRecord.Kind.PERSON,
        trusted_source=work_count > 0,
        work_count=work_count,
        possibly_several_people=record.possibly_several_people,
        has_pending_claim=pending_claim,
        approved_claim=(
            claim_evidence(approved_claim, affiliation=record.affiliation)
            if approved_claim is not None
            else None
        ),
    )


def facts_for(record: AuthorRecord) -> RecordFacts:
    """Gather one record's facts: two queries (its distinct works, its open claims)."""
    work_count = Authorship.objects.filter(author=record).values("work_id").distinct().count()
    claims = list(
        Claim.objects.filter(
            record=record, state__in=[Claim.State.PENDING, Claim.State.APPROVED]
        ).only(
            "state",
            "email",
            "email_verified",
            "orcid",
            "orcid_confirmed",
            "orcid_authenticated",
            "orcid_matched",
        )
    )
    approved = next((c for c in claims if c.state == Claim.State.APPROVED), None)
    pending = any(c.state == Claim.State.PENDING for c in claims)
    return record_facts(
        record, work_count=work_count, pending_claim=pending, approved_claim=approved
    )


def transition(
    record: AuthorRecord,
    *,
    actor=None,
    reason: str,
    queue_trust: bool = True,
    data: dict | None = None,
) -> bool:
    """Re-derive the record's level and claim state; store and log them if they changed.

    Returns True when something changed. Callers: claim decisions (with the deciding admin as
    `actor` and their reason), corrections, account deletion, and trust recomputes that find a
    stale level. The row is locked while deciding so that two concurrent decisions cannot log
    the same change twice or overwrite each other's result.

    A change moves the trust of the record and of the records that count it as a close
    collaborator (their collaboration component depends on its level): `transition` queues
    their recompute, unless `queue_trust` is False because the caller queues once for its whole
    event (a claim decision, an account deletion) or is itself a recompute (which never queues
    another). `data` is added to the logged event's data (the works an ORCID check matched).
    """
    with transaction.atomic():
        locked = AuthorRecord.objects.select_for_update().get(pk=record.pk)
        level, claim_state, explanation = derive(facts_for(locked))
        old_level = Level(locked.verification_level)
        old_state = ClaimState(locked.claim_state)
        if level == old_level and claim_state == old_state:
            record.verification_level = locked.verification_level
            record.claim_state = locked.claim_state
            return False
        locked.verification_level = int(level)
        locked.claim_state = str(claim_state)
        locked.save(update_fields=["verification_level", "claim_state"])
        _log_transition(
            locked,
            actor=actor,
            reason=reason,
            explanation=explanation,
            old=(old_level, old_state),
            new=(level, claim_state),
            data=data,
        )
        record.verification_level = locked.verification_level
        record.claim_state = locked.claim_state
        if queue_trust:
            queue_trust_recompute(trust_dependents([record.pk]))
    return True


def _log_transition(
    record: AuthorRecord,
    *,
    actor,
    reason: str,
    explanation: str,
    old: tuple[Level, ClaimState],
    new: tuple[Level, ClaimState],
    data: dict | None = None,
) -> None:
    (old_level, old_state), (level, claim_state) = old, new
    changes = []
    if level != old_level:
        changes.append(f"Verification {old_level.name} → {level.name} ({level.label})")
    if claim_state != old_state:
        changes.append(f"{old_state.label} → {claim_state.label}")
    RecordEvent.objects.create(
        record=record,
        kind=RecordEvent.Kind.LEVEL if level != old_level else RecordEvent.Kind.CLAIM,
        summary=f"{'; '.join(changes)}. {reason}"[:500],
        actor=actor,
        data={
            "from": {"level": int(old_level), "claim_state": str(old_state)},
            "to": {"level": int(level), "claim_state": str(claim_state)},
            "reason": reason,
            "explanation": explanation,
            **(data or {}),
        },
    )


def trust_dependents(record_ids: list[int]) -> list[int]:
    """These records and the records that count one of them as a close collaborator: whose
    trust a change of their level moves."""
    return sorted({*record_ids, *records_counting_as_close(record_ids)})


def records_counting_as_close(record_ids: list[int]) -> list[int]:
    """Records that have one of these among their close collaborators."""
    return list(
        CollaborationEdge.objects.filter(
            coauthor_id__in=record_ids, weight__gte=CLOSE_WEIGHT_FLOOR
        ).values_list("author_id", flat=True)
    )
