"""Verification levels and claim states, derived from a record's data (PRODUCT.md).

Pure: no Django imports. `derive()` is the one place that turns the facts about an author
record (where it came from, conflicts, claims and their evidence) into the public level, the
claim state and a sentence a visitor can check. Models, services and the trust score all call it
rather than re-implementing the rules.

Decisions that PRODUCT.md leaves open, made here:
- An approved claim without a verified email stays at the public level (L0 or L1): L2 is "an
  approved claim by an account with a verified email", and L3 builds on L2, so an admin-confirmed
  ORCID iD alone does not lift a claim whose account has no verified email.
- A record flagged "may be several people" stays at L0 even with an approved claim: one person
  cannot vouch for works that may belong to others. The claim state still reads "Claimed"; an
  admin splits the record (Corrections) and the flag goes away.
- An approved claim lifts a person record to L2/L3 even when the record itself is L0 because it
  was assembled from names only: the claim, not the source, is the evidence at those levels.
- Organisations ("DeepSeek-AI") are not people: they get no level beyond L1 and cannot be
  claimed, so their claim state is always "unclaimed" whatever claim rows exist.
- Only a verified email's domain can count as institutional, and never a webmail domain, even if
  a bad affiliation domain lists one.
- An ORCID iD authenticated by signing in with ORCID is strong evidence when its public record
  listed at least one of the record's works when the claim was checked (PRODUCT.md, L3), whether
  BZPEER approved the claim at once or an admin did. Listed by a third party (a publisher or
  registry), not typed in by the holder: see profiles.orcid.evidence. Works the iD stops listing
  later do not lower the level by themselves: an admin sees the drift and decides
  (profiles.orcid.checks).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum, StrEnum


class Level(IntEnum):
    L0 = 0
    L1 = 1
    L2 = 2
    L3 = 3

    @property
    def label(self) -> str:
        return _LEVEL_LABELS[self]


_LEVEL_LABELS = {
    Level.L0: "Unverified",
    Level.L1: "Public record",
    Level.L2: "Claimed",
    Level.L3: "Verified identity",
}


class ClaimState(StrEnum):
    UNCLAIMED = "unclaimed"
    PENDING = "pending"
    CLAIMED = "claimed"

    @property
    def label(self) -> str:
        return _CLAIM_STATE_LABELS[self]


_CLAIM_STATE_LABELS = {
    ClaimState.UNCLAIMED: "Unclaimed author",
    ClaimState.PENDING: "Claim pending",
    ClaimState.CLAIMED: "Claimed",
}


@dataclass(frozen=True)
class ClaimEvidence:
    """What the approved claim's account showed. `email_domain` is the domain of its email."""

    email_verified: bool
    email_domain: str
    affiliation_domains: tuple[str, ...]
    orcid: str
    orcid_confirmed_by_admin: bool
    # The iD was authenticated by signing in with ORCID, and a third party had listed this many
    # of the record's works on its public record when the claim was checked.
    orcid_authenticated: bool = False
    orcid_listed_works: int = 0


@dataclass(frozen=True)
class RecordFacts:
    is_person: bool
    trusted_source: bool  # imported from arXiv
    work_count: int
    possibly_several_people: bool = False  # a conflict flag
    has_pending_claim: bool = False
    approved_claim: ClaimEvidence | None = None


# Never institutional, whatever an affiliation's metadata says: anyone can open an account there.
WEBMAIL_DOMAINS = frozenset(
    {
        "126.com",
        "163.com",
        "aol.com",
        "gmail.com",
        "gmx.de",
        "googlemail.com",
        "hotmail.com",
        "icloud.com",
        "live.com",
        "mail.ru",
        "outlook.com",
        "proton.me",
        "protonmail.com",
        "qq.com",
        "yahoo.com",
        "yandex.ru",
    }
)


def _clean_domain(domain: str) -> str:
    return domain.strip().strip(".").lower()


def email_domain_matches(email_domain: str, affiliation_domains: tuple[str, ...]) -> bool:
    """True when the email's domain is an affiliation's domain or one of its subdomains.

    `mails.tsinghua.edu.cn` matches `tsinghua.edu.cn`; `nottsinghua.edu.cn` does not.
    """
    email = _clean_domain(email_domain)
    if not email or email in WEBMAIL_DOMAINS:
        return False
    for affiliation in affiliation_domains:
        domain = _clean_domain(affiliation)
        if "." not in domain or domain in WEBMAIL_DOMAINS:
            continue
        if email == domain or email.endswith("." + domain):
            return True
    return False


def _public_level(facts: RecordFacts) -> tuple[Level, str]:
    if facts.possibly_several_people:
        return Level.L0, "Flagged: this record may be several people."
    if not facts.trusted_source or facts.work_count <= 0:
        return Level.L0, "Assembled from author names only, not yet tied to an arXiv work."
    works = "work" if facts.work_count == 1 else "works"
    return Level.L1, f"Built from arXiv, a trusted public source, with {facts.work_count} {works}."


def derive(facts: RecordFacts) -> tuple[Level, ClaimState, str]:
    """Return the record's verification level, claim state and a reason a visitor can read."""
    public_level, public_reason = _public_level(facts)

    if not facts.is_person:
        return (
            public_level,
            ClaimState.UNCLAIMED,
            f"{public_reason} Organisation authors cannot be claimed.",
        )

    claim = facts.approved_claim
    if claim is None:
        state = ClaimState.PENDING if facts.has_pending_claim else ClaimState.UNCLAIMED
        reason = public_reason
        if state is ClaimState.PENDING:
            reason += " A claim is waiting for an admin's decision."
        return public_level, state, reason

    if facts.possibly_several_people:
        return (
            Level.L0,
            ClaimState.CLAIMED,
            f"{public_reason} The approved claim cannot vouch for works that may belong to "
            "others until the record is split.",
        )
    if not claim.email_verified:
        return (
            public_level,
            ClaimState.CLAIMED,
            f"{public_reason} The approved claim's account has no verified email yet, "
            "so the record stays at its public level.",
        )

    strong: list[str] = []
    if email_domain_matches(claim.email_domain, claim.affiliation_domains):
        strong.append(
            f"an institutional email on {_clean_domain(claim.email_domain)}, "
            "an affiliation's domain"
        )
    orcid = normalise_orcid(claim.orcid)
    if claim.orcid_confirmed_by_admin and orcid is not None:
        strong.append(f"the ORCID iD {orcid}, confirmed by an admin")
    elif claim.orcid_authenticated and claim.orcid_listed_works > 0 and orcid is not None:
        works = "work" if claim.orcid_listed_works == 1 else "works"
        strong.append(
            f"the ORCID iD {orcid}, authenticated by signing in with ORCID, whose public record "
            f"lists {claim.orcid_listed_works} {works} of this record"
        )
    if strong:
        return (
            Level.L3,
            ClaimState.CLAIMED,
            "Approved claim by an account with a verified email, with "
            + " and ".join(strong)
            + ".",
        )
    return Level.L2, ClaimState.CLAIMED, "Approved claim by an account with a verified email."


# [0-9], not \d: \d also matches other scripts' digits, which int() would accept.
_ORCID_FORMAT = re.compile(r"[0-9]{4}-[0-9]{4}-[0-9]{4}-[0-9]{3}[0-9X]")
_ORCID_PREFIXES = ("https://orcid.org/", "http://orcid.org/", "orcid.org/")


def _orcid_check_character(digits: str) -> str:
    """ISO 7064 MOD 11-2 check character of the 15 base digits."""
    total = 0
    for digit in digits:
        total = (total + int(digit)) * 2
    result = (12 - total % 11) % 11
    return "X" if result == 10 else str(result)


def orcid_is_valid(orcid: str) -> bool:
    """True for a bare iD in its canonical form (`0000-0002-1825-0097`) with a right checksum."""
    if not _ORCID_FORMAT.fullmatch(orcid):
        return False
    digits = orcid.replace("-", "")
    return _orcid_check_character(digits[:15]) == digits[15]


def normalise_orcid(value: str) -> str | None:
    """The canonical iD from what people paste (URL prefix, spaces, lower-case x), or None."""
    candidate = value.strip()
    lowered = candidate.lower()
    for prefix in _ORCID_PREFIXES:
        if lowered.startswith(prefix):
            candidate = candidate[len(prefix) :]
            break
    candidate = candidate.strip().upper()
    return candidate if orcid_is_valid(candidate) else None
