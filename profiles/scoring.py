"""The trust score: inputs in, score, band and explained components out (PRODUCT.md).

Pure: no Django imports, no database. A recompute gathers `TrustInputs` from the database,
calls `score()` and stores both (`TrustInputs.to_json()`, `TrustResult.to_json()`) with
`FORMULA_VERSION` in a trust snapshot, so any past snapshot can be re-explained and re-scored.

Formula (version 2026-12.1), a sum of four capped components:
- identity, up to 40: L0 0, L1 10, L2 25, L3 40.
- scholarly_record, up to 30: n = distinct works neither withdrawn nor disputed,
  floor(10 * log10(1 + n)).
- collaboration, up to 20: each close collaborator gives 0.5 at L0/L1, 1 at L2, 1.5 at L3;
  the floor of the sum.
- community, up to 10: n = distinct accounts following with a verified email, never the owner,
  floor(5 * log10(1 + n)).
Bands: 0-24 Emerging, 25-49 Developing, 50-74 Established, 75-100 Trusted.
Calibration (the seed researcher): L1, 8 counted works of 9, 4 close collaborators at L1, no
followers: 10 + 9 + 2 + 0 = 21, Emerging.

Why it is hard to game and monotone: every component only grows with its inputs; works,
collaborators and followers are deduplicated (arXiv id, slug, account id), so listing the same
thing twice adds nothing; the log scales make each extra work or follower worth less; the
floors are computed in integers (10^k <= (1 + n)^10), so no float rounding can move a
threshold.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from profiles.levels import ClaimState, Level

# Bump by hand whenever score() or levels.derive() gives a different output (points, band,
# level, wording) for some input: stored snapshots are fingerprinted with this version, not with
# the code, so the next sweep rewrites them only when it changes. tests/profiles/
# test_formula_version.py holds a recorded table of inputs and outputs and fails when the
# outputs change under the version they were recorded with.
FORMULA_VERSION = "2026-12.1"

IDENTITY_CAP = 40
SCHOLARLY_CAP = 30
COLLABORATION_CAP = 20
COMMUNITY_CAP = 10

IDENTITY_POINTS = {Level.L0: 0, Level.L1: 10, Level.L2: 25, Level.L3: 40}
# Collaboration is counted in half points so that the sum and its floor stay exact integers.
COLLABORATOR_HALF_POINTS = {Level.L0: 1, Level.L1: 1, Level.L2: 2, Level.L3: 3}

BANDS = ((75, "Trusted"), (50, "Established"), (25, "Developing"), (0, "Emerging"))

REACHED_CAP = "Reached the cap."


# Inputs ------------------------------------------------------------------------------------

_LEVEL_BY_VALUE = {int(level): level for level in Level}


def _as_level(value: int) -> Level:
    """Level(value) without EnumType.__call__ for the common plain int (a sweep makes millions)."""
    if type(value) is Level:
        return value
    level = _LEVEL_BY_VALUE.get(value) if type(value) is int else None
    return level if level is not None else Level(value)


def _date_to_json(value: datetime.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _date_from_json(value: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if value else None


@dataclass(frozen=True)
class WorkInput:
    arxiv_id: str
    title: str
    date: datetime.date | None
    withdrawn: bool = False
    disputed: bool = False

    @property
    def counts(self) -> bool:
        return not (self.withdrawn or self.disputed)


@dataclass(frozen=True)
class CollaboratorInput:
    name: str
    slug: str
    weight: float  # summed Newman weight of the pair (graph.weights)
    shared_works: int
    level: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "level", _as_level(self.level))


@dataclass(frozen=True)
class FollowerInput:
    account_id: int
    email_verified: bool
    is_owner: bool
    followed_on: datetime.date | None

    @property
    def counts(self) -> bool:
        return self.email_verified and not self.is_owner


@dataclass(frozen=True)
class OrcidInput:
    """The approved claim's ORCID evidence: an iD authenticated by signing in with ORCID, the
    record's works its public record listed, and, when BZPEER approved the claim at once, why."""

    orcid: str
    matched: tuple[str, ...]  # arXiv ids
    approved_at_once: bool = False
    reason: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "matched", tuple(self.matched))

    def to_json(self) -> dict[str, Any]:
        return {
            "orcid": self.orcid,
            "matched": list(self.matched),
            "approved_at_once": self.approved_at_once,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class TrustInputs:
    level: int
    claim_state: str
    works: tuple[WorkInput, ...]
    close_collaborators: tuple[CollaboratorInput, ...]
    followers: tuple[FollowerInput, ...]
    level_reason: str = ""
    level_source: str = "arXiv"
    level_date: datetime.date | None = None
    orcid: OrcidInput | None = None

    def __post_init__(self) -> None:
        # Normalise so that inputs built from lists or plain values compare equal to stored ones,
        # and refuse a level or claim state the product does not know.
        object.__setattr__(self, "level", _as_level(self.level))
        object.__setattr__(self, "claim_state", ClaimState(self.claim_state))
        object.__setattr__(self, "works", tuple(self.works))
        object.__setattr__(self, "close_collaborators", tuple(self.close_collaborators))
        object.__setattr__(self, "followers", tuple(self.followers))

    def to_json(self) -> dict[str, Any]:
        # "orcid" only when there is ORCID evidence: the inputs of every other record keep the
        # shape (and fingerprint) they had before ORCID evidence existed.
        orcid = {"orcid": self.orcid.to_json()} if self.orcid is not None else {}
        return {
            **orcid,
            "level": int(self.level),
            "claim_state": str(self.claim_state),
            "level_reason": self.level_reason,
            "level_source": self.level_source,
            "level_date": _date_to_json(self.level_date),
            "works": [
                {
                    "arxiv_id": work.arxiv_id,
                    "title": work.title,
                    "date": _date_to_json(work.date),
                    "withdrawn": work.withdrawn,
                    "disputed": work.disputed,
                }
                for work in self.works
            ],
            "close_collaborators": [
                {
                    "name": collaborator.name,
                    "slug": collaborator.slug,
                    "weight": collaborator.weight,
                    "shared_works": collaborator.shared_works,
                    "level": int(collaborator.level),
                }
                for collaborator in self.close_collaborators
            ],
            "followers": [
                {
                    "account_id": follower.account_id,
                    "email_verified": follower.email_verified,
                    "is_owner": follower.is_owner,
                    "followed_on": _date_to_json(follower.followed_on),
                }
                for follower in self.followers
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrustInputs:
        return cls(
            level=data["level"],
            claim_state=data["claim_state"],
            level_reason=data.get("level_reason", ""),
            level_source=data.get("level_source", "arXiv"),
            level_date=_date_from_json(data.get("level_date")),
            orcid=OrcidInput(**data["orcid"]) if data.get("orcid") else None,
            works=tuple(
                WorkInput(
                    arxiv_id=work["arxiv_id"],
                    title=work["title"],
                    date=_date_from_json(work.get("date")),
                    withdrawn=work.get("withdrawn", False),
                    disputed=work.get("disputed", False),
                )
                for work in data.get("works", ())
            ),
            close_collaborators=tuple(
                CollaboratorInput(
                    name=collaborator["name"],
                    slug=collaborator["slug"],
                    weight=collaborator["weight"],
                    shared_works=collaborator["shared_works"],
                    level=collaborator["level"],
                )
                for collaborator in data.get("close_collaborators", ())
            ),
            followers=tuple(
                FollowerInput(
                    account_id=follower["account_id"],
                    email_verified=follower["email_verified"],
                    is_owner=follower["is_owner"],
                    followed_on=_date_from_json(follower.get("followed_on")),
                )
                for follower in data.get("followers", ())
            ),
        )


# Output ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvidenceRow:
    what: str
    source: str
    date: str  # ISO date, or "" when the source gives none

    def to_json(self) -> dict[str, str]:
        return {"what": self.what, "source": self.source, "date": self.date}


@dataclass(frozen=True)
class Component:
    key: str
    label: str
    points: int
    cap: int
    evidence: list[EvidenceRow] = field(default_factory=list)
    how_to_raise: str = ""
    explanation: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "points": self.points,
            "cap": self.cap,
            "evidence": [row.to_json() for row in self.evidence],
            "how_to_raise": self.how_to_raise,
            "explanation": self.explanation,
        }


@dataclass(frozen=True)
class TrustResult:
    score: int
    band: str
    components: list[Component]
    formula_version: str

    def component(self, key: str) -> Component:
        return next(component for component in self.components if component.key == key)

    def to_json(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "band": self.band,
            "formula_version": self.formula_version,
            "components": [component.to_json() for component in self.components],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrustResult:
        return cls(
            score=data["score"],
            band=data["band"],
            formula_version=data["formula_version"],
            components=[
                Component(
                    key=component["key"],
                    label=component["label"],
                    points=component["points"],
                    cap=component["cap"],
                    evidence=[EvidenceRow(**row) for row in component["evidence"]],
                    how_to_raise=component["how_to_raise"],
                    explanation=component["explanation"],
                )
                for component in data["components"]
            ],
        )


# Formula -----------------------------------------------------------------------------------


def band_for(score: int) -> str:
    if not 0 <= score <= 100:
        raise ValueError(f"A trust score is between 0 and 100, not {score}.")
    return next(name for floor, name in BANDS if score >= floor)


def log_points(count: int, *, per_decade: int, cap: int) -> int:
    """min(cap, floor(per_decade * log10(1 + count))), computed exactly in integers.

    floor(p * log10(1 + n)) is the largest k with 10^k <= (1 + n)^p.
    """
    if count <= 0:
        return 0
    power = (1 + count) ** per_decade
    points = 0
    while points < cap and 10 ** (points + 1) <= power:
        points += 1
    return points


def scholarly_points(counted_works: int) -> int:
    return log_points(counted_works, per_decade=10, cap=SCHOLARLY_CAP)


def community_points(counted_followers: int) -> int:
    return log_points(counted_followers, per_decade=5, cap=COMMUNITY_CAP)


def _more_needed(count: int, *, per_decade: int, cap: int) -> int | None:
    """How many more items raise the points by one; None at the cap.

    Below the cap the next point is at most about a quarter of `count` away, so counting up is
    cheap.
    """
    current = log_points(count, per_decade=per_decade, cap=cap)
    if current >= cap:
        return None
    extra = 1
    while log_points(count + extra, per_decade=per_decade, cap=cap) == current:
        extra += 1
    return extra


def _plural(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count} {singular if count == 1 else (plural or singular + 's')}"


def _identity(inputs: TrustInputs) -> Component:
    level = Level(inputs.level)
    points = IDENTITY_POINTS[level]
    claim_state = ClaimState(inputs.claim_state)
    evidence = [
        EvidenceRow(
            what=f"Verification {level.name} ({level.label})"
            + (f": {inputs.level_reason}" if inputs.level_reason else ""),
            source=inputs.level_source,
            date=_date_to_json(inputs.level_date) or "",
        ),
        EvidenceRow(what=f"Claim state: {claim_state.label}", source="BZPEER", date=""),
        *_orcid_evidence(inputs),
    ]
    to_l2 = IDENTITY_POINTS[Level.L2] - points
    to_l3 = IDENTITY_POINTS[Level.L3] - points
    strong = (
        "an institutional email on the affiliation's domain, an ORCID iD confirmed by an admin, "
        "or an ORCID iD you sign in with whose public record lists works of this record"
    )
    if level is Level.L3:
        how = REACHED_CAP
    elif level is Level.L2:
        how = f"Strong evidence ({strong}) would reach L3 and add {to_l3} points."
    elif claim_state is ClaimState.PENDING:
        how = (
            f"A claim is pending: its approval for an account with a verified email (L2) would add "
            f"{to_l2} points; with strong evidence ({strong}), L3 adds {to_l3}."
        )
    elif claim_state is ClaimState.CLAIMED:
        how = (
            f"The approved claim counts once the claiming account has a verified email and the "
            f"record is not flagged as several people: L2 adds {to_l2} points; with strong "
            f"evidence ({strong}), L3 adds {to_l3}."
        )
    elif level is Level.L1:
        how = (
            f"Claim this record (L2) to add {to_l2} points; with strong evidence ({strong}), "
            f"L3 adds {to_l3}."
        )
    else:
        how = (
            f"L1 (built from an arXiv work, not flagged as several people) adds "
            f"{IDENTITY_POINTS[Level.L1]} points; an approved claim (L2) adds {to_l2}."
        )
    return Component(
        key="identity",
        label="Identity",
        points=points,
        cap=IDENTITY_CAP,
        evidence=evidence,
        how_to_raise=how,
        explanation="Follows the verification level: L0 0, L1 10, L2 25, L3 40 points.",
    )


ORCID_WORKS_SHOWN = 10


def _orcid_evidence(inputs: TrustInputs) -> list[EvidenceRow]:
    orcid = inputs.orcid
    if orcid is None:
        return []
    date = _date_to_json(inputs.level_date) or ""
    listed = ", ".join(f"arXiv:{arxiv_id}" for arxiv_id in orcid.matched[:ORCID_WORKS_SHOWN])
    if len(orcid.matched) > ORCID_WORKS_SHOWN:
        listed += f" and {len(orcid.matched) - ORCID_WORKS_SHOWN} more"
    rows = [
        EvidenceRow(
            what=f"ORCID iD {orcid.orcid}, authenticated by signing in with ORCID: its public "
            f"record lists {_plural(len(orcid.matched), 'work')} of this record ({listed})",
            source="ORCID",
            date=date,
        )
    ]
    if orcid.approved_at_once:
        rows.append(
            EvidenceRow(
                what=f"Claim approved at once, without an admin: {orcid.reason}",
                source="BZPEER ORCID check",
                date=date,
            )
        )
    return rows


def _scholarly_record(inputs: TrustInputs) -> Component:
    counted: dict[str, WorkInput] = {}
    for work in inputs.works:
        if work.counts:
            counted.setdefault(work.arxiv_id, work)
    not_counted: dict[str, WorkInput] = {}
    for work in inputs.works:
        if not work.counts and work.arxiv_id not in counted:
            not_counted.setdefault(work.arxiv_id, work)

    def newest_first(works: dict[str, WorkInput]) -> list[WorkInput]:
        by_id = sorted(works.values(), key=lambda work: work.arxiv_id)
        return sorted(by_id, key=lambda work: work.date or datetime.date.min, reverse=True)

    evidence = [
        EvidenceRow(
            what=f"arXiv:{work.arxiv_id} {work.title}",
            source="arXiv",
            date=_date_to_json(work.date) or "",
        )
        for work in newest_first(counted)
    ]
    for work in newest_first(not_counted):
        reasons = [
            reason
            for reason, applies in (("withdrawn", work.withdrawn), ("disputed", work.disputed))
            if applies
        ]
        evidence.append(
            EvidenceRow(
                what=f"Not counted ({' and '.join(reasons)}): arXiv:{work.arxiv_id} {work.title}",
                source="arXiv" if work.withdrawn else "BZPEER",
                date=_date_to_json(work.date) or "",
            )
        )
    count = len(counted)
    points = scholarly_points(count)
    needed = _more_needed(count, per_decade=10, cap=SCHOLARLY_CAP)
    how = (
        REACHED_CAP
        if needed is None
        else f"{_plural(needed, 'more counted work')} would add a point."
    )
    return Component(
        key="scholarly_record",
        label="Scholarly record",
        points=points,
        cap=SCHOLARLY_CAP,
        evidence=evidence,
        how_to_raise=how,
        explanation=(
            f"{_plural(count, 'work')} counted, neither withdrawn nor disputed: "
            f"floor(10 x log10(1 + {count})) = {points}, up to {SCHOLARLY_CAP}."
        ),
    )


def _collaboration(inputs: TrustInputs) -> Component:
    strongest: dict[str, CollaboratorInput] = {}
    for collaborator in inputs.close_collaborators:
        known = strongest.get(collaborator.slug)
        if known is None or collaborator.level > known.level:
            strongest[collaborator.slug] = collaborator
    # c.level is already a Level (CollaboratorInput.__post_init__): no Level(...) calls here,
    # which cost a microsecond each and ran four times per collaborator in the nightly sweep.
    half_points = sum(COLLABORATOR_HALF_POINTS[c.level] for c in strongest.values())
    points = min(COLLABORATION_CAP, half_points // 2)
    evidence = [
        EvidenceRow(
            what=(
                f"{c.name}: {_plural(c.shared_works, 'shared work')}, weight {c.weight:.3f}, "
                f"{c.level.name} ({c.level.label}), "
                f"+{COLLABORATOR_HALF_POINTS[c.level] / 2:g}"
            ),
            source="arXiv co-authorship",
            date="",
        )
        for c in sorted(strongest.values(), key=lambda c: (-c.weight, c.name, c.slug))
    ]
    if points >= COLLABORATION_CAP:
        how = REACHED_CAP
    else:
        needed = 2 - half_points % 2
        how = (
            f"{_plural(needed, 'more close collaborator')} at L1 would add a point; "
            "claimed collaborators count 1 point each and verified ones 1.5."
        )
        unclaimed = sum(1 for c in strongest.values() if c.level <= Level.L1)
        if unclaimed:
            how += (
                f" {_plural(unclaimed, 'close collaborator is', 'close collaborators are')} "
                "not claimed yet."
            )
    return Component(
        key="collaboration",
        label="Collaboration",
        points=points,
        cap=COLLABORATION_CAP,
        evidence=evidence,
        how_to_raise=how,
        explanation=(
            f"{_plural(len(strongest), 'close collaborator')} (co-authors above the Newman "
            "weight threshold): 0.5 point each at L0/L1, 1 at L2, 1.5 at L3; "
            f"the sum rounded down, up to {COLLABORATION_CAP}."
        ),
    )


def _community(inputs: TrustInputs) -> Component:
    counted = {f.account_id for f in inputs.followers if f.counts}
    not_counted = {f.account_id for f in inputs.followers if not f.counts} - counted
    count = len(counted)
    points = community_points(count)
    evidence = [
        EvidenceRow(
            what=f"{_plural(count, 'follower')} with a verified email", source="BZPEER", date=""
        )
    ]
    if not_counted:
        evidence.append(
            EvidenceRow(
                what=(
                    f"{_plural(len(not_counted), 'follow')} not counted "
                    "(the owner's own, or without a verified email)"
                ),
                source="BZPEER",
                date="",
            )
        )
    needed = _more_needed(count, per_decade=5, cap=COMMUNITY_CAP)
    how = (
        REACHED_CAP
        if needed is None
        else f"{_plural(needed, 'more follower')} with a verified email would add a point."
    )
    return Component(
        key="community",
        label="Community",
        points=points,
        cap=COMMUNITY_CAP,
        evidence=evidence,
        how_to_raise=how,
        explanation=(
            f"{_plural(count, 'follower')} counted (verified email, never the owner): "
            f"floor(5 x log10(1 + {count})) = {points}, up to {COMMUNITY_CAP}."
        ),
    )


def score(inputs: TrustInputs) -> TrustResult:
    components = [
        _identity(inputs),
        _scholarly_record(inputs),
        _collaboration(inputs),
        _community(inputs),
    ]
    total = sum(component.points for component in components)
    return TrustResult(
        score=total,
        band=band_for(total),
        components=components,
        formula_version=FORMULA_VERSION,
    )
