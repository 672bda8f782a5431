"""FORMULA_VERSION moves with the formula's output, and only then.

Snapshots are fingerprinted with FORMULA_VERSION (profiles.trust), not with the formula's
source: a reformatted comment rewrites nothing, and a changed output rewrites every snapshot
only if the version was bumped. This test holds that promise. It scores a fixed set of cases
(levels.derive, then scoring.score) and compares them with the table recorded in
tests/fixtures/trust_formula_table.json under the version it names.

After bumping FORMULA_VERSION (or adding or editing a case), re-record the table:

    RECORD_FORMULA_TABLE=1 .venv/bin/python -m pytest -q tests/profiles/test_formula_version.py

Recording refuses to write outputs that changed while the version did not.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from profiles.levels import ClaimEvidence, RecordFacts, derive
from profiles.scoring import (
    FORMULA_VERSION,
    CollaboratorInput,
    FollowerInput,
    OrcidInput,
    TrustInputs,
    WorkInput,
    score,
)

TABLE = Path(__file__).resolve().parent.parent / "fixtures" / "trust_formula_table.json"
RECORD = os.environ.get("RECORD_FORMULA_TABLE") == "1"
RE_RECORD = (
    "RECORD_FORMULA_TABLE=1 .venv/bin/python -m pytest -q tests/profiles/test_formula_version.py"
)


@dataclass(frozen=True)
class Case:
    """A record's facts (for its level) and the rest of its trust inputs."""

    facts: RecordFacts
    works: tuple[WorkInput, ...] = ()
    collaborators: tuple[CollaboratorInput, ...] = ()
    followers: tuple[FollowerInput, ...] = ()
    level_source: str = "arXiv"
    level_date: dt.date | None = dt.date(2024, 3, 1)
    orcid: OrcidInput | None = None


def works(count: int, *, withdrawn: int = 0, disputed: int = 0, start: int = 0) -> tuple:
    """`count` distinct works, the first ones withdrawn or disputed as asked."""
    return tuple(
        WorkInput(
            arxiv_id=f"2401.{start + n:05d}",
            title=f"Work {start + n}",
            date=dt.date(2024, 1, 1) + dt.timedelta(days=n),
            withdrawn=n < withdrawn,
            disputed=withdrawn <= n < withdrawn + disputed,
        )
        for n in range(count)
    )


def collaborators(*levels: int) -> tuple:
    return tuple(
        CollaboratorInput(
            name=f"Co-author {n}",
            slug=f"co-author-{n}",
            weight=round(1 / (n + 2), 6),
            shared_works=n + 1,
            level=level,
        )
        for n, level in enumerate(levels)
    )


def followers(verified: int, *, unverified: int = 0, owner: bool = False) -> tuple:
    rows = [FollowerInput(n, True, False, dt.date(2025, 1, 1)) for n in range(verified)]
    rows += [FollowerInput(1000 + n, False, False, None) for n in range(unverified)]
    if owner:
        rows.append(FollowerInput(9999, True, True, dt.date(2025, 2, 1)))
    return tuple(rows)


def person(work_count: int, **facts) -> RecordFacts:
    return RecordFacts(
        is_person=True, trusted_source=work_count > 0, work_count=work_count, **facts
    )


def claim(email_domain: str = "gmail.com", **evidence) -> ClaimEvidence:
    return ClaimEvidence(
        **{
            "email_verified": True,
            "email_domain": email_domain,
            "affiliation_domains": ("tsinghua.edu.cn",),
            "orcid": "",
            "orcid_confirmed_by_admin": False,
            **evidence,
        }
    )


CASES = {
    "names only, no work": Case(person(0), level_date=None),
    "one work": Case(person(1), works(1)),
    "the demo researcher: 8 of 9 works, 4 close collaborators at L1": Case(
        person(9), works(9, withdrawn=1), collaborators(1, 1, 1, 1)
    ),
    "a disputed work, and a work listed twice": Case(
        person(3), works(3, disputed=1) + works(1, start=2)
    ),
    "claim pending": Case(person(2, has_pending_claim=True), works(2)),
    "approved claim, email not verified": Case(
        person(4, approved_claim=claim(email_verified=False)), works(4)
    ),
    "approved claim, webmail": Case(
        person(12, approved_claim=claim()),
        works(12),
        collaborators(2, 3, 0),
        followers(3, unverified=2, owner=True),
        level_source="BZPEER claim review",
    ),
    "approved claim, institutional email": Case(
        person(30, approved_claim=claim("mails.tsinghua.edu.cn")),
        works(30),
        collaborators(3, 3, 3),
        followers(9),
        level_source="BZPEER claim review",
    ),
    "approved claim, ORCID confirmed by an admin": Case(
        person(5, approved_claim=claim(orcid="0000-0002-1825-0097", orcid_confirmed_by_admin=True)),
        works(5),
        level_source="BZPEER claim review",
    ),
    "approved at once: an authenticated ORCID iD listing 3 works": Case(
        person(
            5,
            approved_claim=claim(
                orcid="0000-0002-1825-0097", orcid_authenticated=True, orcid_listed_works=3
            ),
        ),
        works(5),
        level_source="ORCID, checked by BZPEER",
        orcid=OrcidInput(
            orcid="0000-0002-1825-0097",
            matched=("2401.00000", "2401.00001", "2401.00002"),
            approved_at_once=True,
            reason="The ORCID record 0000-0002-1825-0097 lists 3 of this record's 5 works.",
        ),
    ),
    "approved by an admin: an authenticated ORCID iD listing none of the works": Case(
        person(
            5,
            approved_claim=claim(
                orcid="0000-0002-1825-0097", orcid_authenticated=True, orcid_listed_works=0
            ),
        ),
        works(5),
        level_source="BZPEER claim review",
    ),
    "approved claim, unconfirmed ORCID": Case(
        person(5, approved_claim=claim(orcid="0000-0002-1825-0097")), works(5)
    ),
    "flagged as several people": Case(
        person(7, possibly_several_people=True), works(7), level_source="BZPEER", level_date=None
    ),
    "flagged, with an approved claim": Case(
        person(7, possibly_several_people=True, approved_claim=claim()),
        works(7),
        level_source="BZPEER",
        level_date=None,
    ),
    "organisation": Case(
        RecordFacts(is_person=False, trusted_source=True, work_count=40), works(40)
    ),
    "every component at its cap": Case(
        person(1100, approved_claim=claim("tsinghua.edu.cn")),
        works(1100, withdrawn=3),
        collaborators(*[1, 2, 3] * 10),
        followers(120, unverified=5, owner=True),
        level_source="BZPEER claim review",
    ),
    "a collaborator listed twice at two levels": Case(
        person(2),
        works(2),
        collaborators(1, 2) + (dataclasses.replace(collaborators(3)[0], slug="co-author-0"),),
    ),
}


def inputs_digest(case: Case) -> str:
    return _digest(
        {
            "facts": dataclasses.asdict(case.facts),
            "inputs": TrustInputs(
                level=0,
                claim_state="unclaimed",
                works=case.works,
                close_collaborators=case.collaborators,
                followers=case.followers,
                level_source=case.level_source,
                level_date=case.level_date,
                orcid=case.orcid,
            ).to_json(),
        }
    )


def outcome(case: Case) -> dict:
    """What the formula makes of the case: the level, then the score and its explanation."""
    level, claim_state, level_reason = derive(case.facts)
    result = score(
        TrustInputs(
            level=level,
            claim_state=claim_state,
            level_reason=level_reason,
            level_source=case.level_source,
            level_date=case.level_date,
            works=case.works,
            close_collaborators=case.collaborators,
            followers=case.followers,
            orcid=case.orcid,
        )
    )
    explained = result.to_json()
    del explained["formula_version"]
    return {
        "inputs_sha256": inputs_digest(case),
        "level": int(level),
        "claim_state": str(claim_state),
        "level_reason": level_reason,
        "score": result.score,
        "band": result.band,
        "components": {component.key: component.points for component in result.components},
        # Evidence rows, explanations and "how to raise it": the wording a snapshot stores.
        "explanation_sha256": _digest(explained),
    }


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def test_scoring_and_level_output_change_only_with_a_new_formula_version():
    table = json.loads(TABLE.read_text()) if TABLE.exists() else {"cases": {}}
    recorded_version, recorded = table.get("formula_version"), table["cases"]
    current = {name: outcome(case) for name, case in CASES.items()}
    # A case whose inputs are new or were edited has nothing to compare with yet.
    comparable = {
        name: recorded[name]
        for name in current
        if name in recorded and recorded[name]["inputs_sha256"] == current[name]["inputs_sha256"]
    }
    changed = sorted(name for name, expected in comparable.items() if current[name] != expected)
    if changed and recorded_version == FORMULA_VERSION:
        pytest.fail(
            f"The formula's output changed for {changed} but FORMULA_VERSION is still "
            f"{FORMULA_VERSION!r}, the version this table was recorded with: bump FORMULA_VERSION "
            f"in profiles/scoring.py (the next sweep rewrites every snapshot), then re-record "
            f"with `{RE_RECORD}`.",
            pytrace=False,
        )
    if RECORD:
        TABLE.write_text(
            json.dumps(
                {"formula_version": FORMULA_VERSION, "cases": current}, indent=2, sort_keys=True
            )
            + "\n"
        )
        return
    assert recorded_version == FORMULA_VERSION, (
        f"FORMULA_VERSION is {FORMULA_VERSION!r} but the table was recorded with "
        f"{recorded_version!r}: re-record it with `{RE_RECORD}`."
    )
    assert current == recorded, f"Cases were added, edited or removed: re-record (`{RE_RECORD}`)."
