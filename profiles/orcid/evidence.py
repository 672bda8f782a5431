"""How far an ORCID record agrees with an author record, and when that is enough. Pure.

The rule: a claim is approved at once, without an admin, when all of these hold ("enough
agreement", issue 14):

1. The claim's iD is authenticated: the claimant signed in to ORCID with it. (The caller checks
   it: `Claim.orcid_authenticated`.)
2. Names agree: a name the ORCID record shows (given and family names, credit name, other
   names) is compatible with the record's display name or one of its printed variants. Names
   are compared by their `works.arxiv.names.name_key` tokens: the same family name, and given
   names that agree token by token, where an initial agrees with a name it starts ("Z. Zhang"
   and "Zhengyan Zhang") and two different full given names never agree; either name may be
   written family name first ("Zhang Zhengyan").
3. Works agree: at least MIN_MATCHING_WORKS (2) of the record's works are listed on the ORCID
   record by a third party, or its only work when the record has one. A work is listed when the
   ORCID record carries its arXiv id (any version, with or without a prefix, or the DOI arXiv
   registered for it) or one of its DOIs (case-insensitive, without https://doi.org/). By a
   third party: an ORCID member organisation put it there on its own (Crossref or DataCite
   auto-update, a publisher; `OrcidWork.asserted_by`), not the holder, who can type any arXiv id
   into their own record, nor a search-and-link wizard acting for them. Works the holder listed
   themselves are shown to admins but prove nothing: counting them would let anyone who names
   their ORCID record after a researcher and types in two of their arXiv ids own that
   researcher's record at L3.
4. No conflict: no work listed on the ORCID record has a signature compatible with the
   claimant's names on a record that another account has claimed.
5. The record is not flagged as possibly several people (one person cannot vouch for works
   that may be someone else's; it would stay at L0 anyway).

Two works, not one, because one shared work is what a namesake co-author or a mistyped
identifier produces; two independent ones rarely are. The approval itself still goes through
`profiles.claims`, which refuses a record already claimed, an account that owns a record and an
iD that backs another approved claim (the database's partial unique constraints).

Other records are searched for the ORCID record's works by arXiv id only (the works table's
unique key); a DOI matches the record's own works, whose DOIs are already in hand. Scanning the
whole works table for DOIs at every check would cost more than it finds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from profiles.orcid.documents import OrcidPerson, OrcidWork
from works.arxiv.names import name_key

MIN_MATCHING_WORKS = 2
# The comparison kept for admins lists at most this many works of each kind (with the counts):
# a prolific record's missing works would otherwise weigh hundreds of kilobytes on the claim.
LISTED_WORKS_CAP = 100
# Works named in a one-line reason.
REASON_WORKS_CAP = 5


# --- Names ---------------------------------------------------------------------------------


def _given_names_agree(first: list[str], second: list[str]) -> bool:
    if not first or not second:
        return False
    if "".join(first) == "".join(second):  # "Ji-Rong" and "Jirong"
        return True
    for one, other in zip(first, second, strict=False):
        if one == other:
            continue
        if len(one) == 1 and other.startswith(one):
            continue
        if len(other) == 1 and one.startswith(other):
            continue
        return False
    return True


def _readings(tokens: list[str]) -> list[tuple[str, list[str]]]:
    """(family name, given names): family name last, or first."""
    return [(tokens[-1], tokens[:-1]), (tokens[0], tokens[1:])]


def names_compatible(first: str, second: str) -> bool:
    """Whether two printed names can be one person's (see the module docstring, rule 2)."""
    one, other = name_key(first).split(), name_key(second).split()
    if len(one) < 2 or len(other) < 2:
        return False  # a family name alone says nothing
    return any(
        family == other_family and _given_names_agree(given, other_given)
        for family, given in _readings(one)
        for other_family, other_given in _readings(other)
    )


def any_compatible(names: Iterable[str], others: Iterable[str]) -> bool:
    others = list(others)
    return any(names_compatible(name, other) for name in names for other in others)


def family_names(names: Iterable[str]) -> set[str]:
    """Every token that can be a family name in these names: a cheap filter for signatures."""
    found: set[str] = set()
    for name in names:
        tokens = name_key(name).split()
        if len(tokens) >= 2:
            found |= {tokens[0], tokens[-1]}
    return found


# --- Works ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordWork:
    """A work of the author record."""

    arxiv_id: str
    title: str
    dois: tuple[str, ...] = ()


@dataclass(frozen=True)
class Signature:
    """A signature on a work the ORCID record lists, held by another author record."""

    authorship_id: int
    work_id: int
    arxiv_id: str
    title: str
    printed_name: str
    record_id: int
    record_slug: str
    record_name: str
    claimed_by_other: bool


@dataclass
class Comparison:
    orcid: str
    orcid_name: str
    record_name: str
    name_compatible: bool
    record_work_count: int
    orcid_work_count: int
    # The record's works the iD lists; "asserted_by" names the third party, "" for the holder.
    matched: list[dict] = field(default_factory=list)
    missing: list[dict] = field(default_factory=list)  # the record's works it does not list
    conflicting: list[dict] = field(default_factory=list)  # on records others have claimed
    # On other records, listed by a third party: offered to the owner to move.
    elsewhere: list[dict] = field(default_factory=list)
    ambiguous: int = 0  # on other works, but more than one signature could be the claimant's
    self_asserted_elsewhere: int = 0  # on other records, listed by the holder only: not offered
    not_found: int = 0  # listed on ORCID, not among BZPEER's works
    flagged_several: bool = False
    enough: bool = False
    reason: str = ""

    @property
    def confirmed(self) -> list[dict]:
        """The matched works a third party listed: the evidence that counts."""
        return [work for work in self.matched if work["asserted_by"]]

    @property
    def confirmed_ids(self) -> list[str]:
        return [work["arxiv_id"] for work in self.confirmed]

    @property
    def matched_ids(self) -> list[str]:
        return [work["arxiv_id"] for work in self.matched]

    def to_json(self) -> dict:
        def capped(works: list[dict]) -> list[dict]:
            return works[:LISTED_WORKS_CAP]

        return {
            "orcid": self.orcid,
            "orcid_name": self.orcid_name,
            "record_name": self.record_name,
            "name_compatible": self.name_compatible,
            "record_work_count": self.record_work_count,
            "orcid_work_count": self.orcid_work_count,
            "matched": capped(self.matched),
            "matched_count": len(self.matched),
            "confirmed_count": len(self.confirmed),
            "missing": capped(self.missing),
            "missing_count": len(self.missing),
            "conflicting": capped(self.conflicting),
            "elsewhere": capped(self.elsewhere),
            "ambiguous": self.ambiguous,
            "self_asserted_elsewhere": self.self_asserted_elsewhere,
            "not_found": self.not_found,
            "flagged_several": self.flagged_several,
            "enough": self.enough,
            "reason": self.reason,
        }


def _sources(works: Iterable[OrcidWork]) -> tuple[dict[str, str], dict[str, str]]:
    """Who listed each arXiv id and DOI: a third party's name when one did, else ''."""
    by_arxiv: dict[str, str] = {}
    by_doi: dict[str, str] = {}
    for work in works:
        for arxiv_id in work.arxiv_ids:
            by_arxiv[arxiv_id] = by_arxiv.get(arxiv_id) or work.asserted_by
        for doi in work.dois:
            by_doi[doi] = by_doi.get(doi) or work.asserted_by
    return by_arxiv, by_doi


def listed_identifiers(works: Iterable[OrcidWork]) -> tuple[set[str], set[str]]:
    """All arXiv ids and DOIs an ORCID record lists."""
    arxiv_ids: set[str] = set()
    dois: set[str] = set()
    for work in works:
        arxiv_ids |= work.arxiv_ids
        dois |= work.dois
    return arxiv_ids, dois


def compare(
    *,
    person: OrcidPerson,
    orcid_works: list[OrcidWork],
    record_names: list[str],
    record_works: list[RecordWork],
    signatures: list[Signature],
    flagged_several: bool = False,
) -> Comparison:
    """Compare an ORCID record with an author record; `signatures` are the signatures, on other
    records, of the works the ORCID record lists that BZPEER holds but this record does not."""
    by_arxiv, by_doi = _sources(orcid_works)
    claimant_names = [*person.names, *record_names]
    comparison = Comparison(
        orcid=person.orcid,
        orcid_name=person.display_name,
        record_name=record_names[0] if record_names else "",
        name_compatible=any_compatible(person.names, record_names),
        record_work_count=len(record_works),
        orcid_work_count=len(orcid_works),
        flagged_several=flagged_several,
    )
    for work in sorted(record_works, key=lambda w: w.arxiv_id):
        entry = {"arxiv_id": work.arxiv_id, "title": work.title[:300]}
        by_id = [by_arxiv[work.arxiv_id]] if work.arxiv_id in by_arxiv else []
        by_dois = [by_doi[doi] for doi in work.dois if doi in by_doi]
        if by_id or by_dois:
            comparison.matched.append(
                {
                    **entry,
                    "via": "arXiv id" if by_id else "DOI",
                    "asserted_by": next(filter(None, by_id + by_dois), ""),
                }
            )
        else:
            comparison.missing.append(entry)
    _place_other_works(comparison, signatures, claimant_names, by_arxiv)
    on_record = {work.arxiv_id for work in record_works}
    record_dois = {doi for work in record_works for doi in work.dois}
    found_elsewhere = {signature.arxiv_id for signature in signatures}
    comparison.not_found = sum(
        1
        for work in orcid_works
        if work.has_identifiers
        and not work.arxiv_ids & (on_record | found_elsewhere)
        and not work.dois & record_dois
    )
    comparison.enough, comparison.reason = agreement(comparison)
    return comparison


def _place_other_works(
    comparison: Comparison,
    signatures: list[Signature],
    claimant_names: list[str],
    by_arxiv: dict[str, str],
) -> None:
    """Each listed work held by other records: a conflict when a compatible signature sits on
    a record another account claimed (whoever listed it), an offer when exactly one compatible
    signature does not and a third party listed the work, and ambiguous when several namesakes
    sign one paper. A work only the holder listed is never offered: moving it would rest on
    their word alone."""
    by_work: dict[int, list[Signature]] = {}
    for signature in signatures:
        if any_compatible([signature.printed_name], claimant_names):
            by_work.setdefault(signature.work_id, []).append(signature)
    for candidates in sorted(by_work.values(), key=lambda found: found[0].arxiv_id):
        first = candidates[0]
        entry = {"arxiv_id": first.arxiv_id, "title": first.title[:300], "work_id": first.work_id}
        claimed = next((s for s in candidates if s.claimed_by_other), None)
        if claimed is not None:
            comparison.conflicting.append(
                {**entry, "record_slug": claimed.record_slug, "record_name": claimed.record_name}
            )
        elif len(candidates) > 1:
            comparison.ambiguous += 1
        elif not by_arxiv.get(first.arxiv_id):
            comparison.self_asserted_elsewhere += 1
        else:
            comparison.elsewhere.append(
                {
                    **entry,
                    "authorship_id": first.authorship_id,
                    "record_id": first.record_id,
                    "record_slug": first.record_slug,
                    "record_name": first.record_name,
                    "asserted_by": by_arxiv[first.arxiv_id],
                }
            )


def _arxiv_list(works: list[dict]) -> str:
    shown = ", ".join(f"arXiv:{work['arxiv_id']}" for work in works[:REASON_WORKS_CAP])
    more = len(works) - REASON_WORKS_CAP
    return f"{shown} and {more} more" if more > 0 else shown


def agreement(comparison: Comparison) -> tuple[bool, str]:
    """Whether the comparison is enough to approve at once, and the reason, in one sentence a
    claimant, an admin and a visitor can check."""
    confirmed, total = comparison.confirmed, comparison.record_work_count
    listed = len(comparison.matched)
    needed = 1 if total == 1 else MIN_MATCHING_WORKS
    works = f"work{'s' if total != 1 else ''}"
    against = []
    if comparison.flagged_several:
        against.append("the record is flagged as possibly several people")
    if not comparison.name_compatible:
        against.append(
            f"the ORCID record's name ({comparison.orcid_name or 'not public'}) is not "
            f"compatible with the record's ({comparison.record_name})"
        )
    if len(confirmed) < needed:
        by_holder = listed - len(confirmed)
        holder = (
            f" ({by_holder} more listed by the holder themselves, which proves nothing)"
            if by_holder
            else ""
        )
        against.append(
            f"a publisher or registry listed {len(confirmed)} of the record's {total} {works} "
            f"on the ORCID record{holder}, and {needed} {'is' if needed == 1 else 'are'} needed"
        )
    if comparison.conflicting:
        against.append(
            f"{len(comparison.conflicting)} work(s) it lists sit on records other accounts "
            f"have claimed ({_arxiv_list(comparison.conflicting)})"
        )
    if against:
        return False, "Not approved at once: " + "; ".join(against) + ". An admin decides."
    sources = ", ".join(sorted({work["asserted_by"] for work in confirmed}))
    return True, (
        f"The ORCID record {comparison.orcid}, authenticated by signing in with ORCID, lists "
        f"{len(confirmed)} of this record's {total} {works} ({_arxiv_list(confirmed)}), put "
        f"there by {sources}, not by its holder; its name ({comparison.orcid_name}) is "
        "compatible with the record's, and none of its works sits on a record another account "
        "has claimed."
    )
