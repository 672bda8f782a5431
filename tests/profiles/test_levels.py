from itertools import product

import pytest
from hypothesis import given
from hypothesis import strategies as st

from profiles.levels import (
    ClaimEvidence,
    ClaimState,
    Level,
    RecordFacts,
    derive,
    email_domain_matches,
    normalise_orcid,
    orcid_is_valid,
)

VALID_ORCID = "0000-0002-1825-0097"
AFFILIATIONS = ("tsinghua.edu.cn", "deepseek.com")


def evidence(*, verified=True, domain="example.org", orcid="", confirmed=False):
    return ClaimEvidence(
        email_verified=verified,
        email_domain=domain,
        affiliation_domains=AFFILIATIONS,
        orcid=orcid,
        orcid_confirmed_by_admin=confirmed,
    )


# Each approved claim's evidence, with the level it earns a person record that is not flagged:
# None means "stays at the public level".
CLAIMS = {
    "no approved claim": (None, None),
    "unverified email": (evidence(verified=False), None),
    "unverified institutional email": (evidence(verified=False, domain="tsinghua.edu.cn"), None),
    "unverified email, confirmed ORCID": (
        evidence(verified=False, orcid=VALID_ORCID, confirmed=True),
        None,
    ),
    "verified email": (evidence(), Level.L2),
    "verified webmail": (evidence(domain="gmail.com"), Level.L2),
    "verified email, unconfirmed ORCID": (evidence(orcid=VALID_ORCID), Level.L2),
    "verified email, confirmed invalid ORCID": (
        evidence(orcid="0000-0002-1825-0098", confirmed=True),
        Level.L2,
    ),
    "verified look-alike domain": (evidence(domain="nottsinghua.edu.cn"), Level.L2),
    "verified institutional email": (evidence(domain="tsinghua.edu.cn"), Level.L3),
    "verified institutional subdomain": (evidence(domain="mails.Tsinghua.edu.cn"), Level.L3),
    "verified email, confirmed ORCID": (
        evidence(orcid=f"https://orcid.org/{VALID_ORCID}", confirmed=True),
        Level.L3,
    ),
    "verified institutional email, confirmed ORCID": (
        evidence(domain="deepseek.com", orcid=VALID_ORCID, confirmed=True),
        Level.L3,
    ),
}

COMBINATIONS = list(
    product(
        [True, False],  # is_person
        [True, False],  # trusted_source
        [0, 1, 9],  # work_count
        [False, True],  # possibly_several_people
        [False, True],  # has_pending_claim
        CLAIMS,
    )
)


@pytest.mark.parametrize(
    ("is_person", "trusted", "works", "several", "pending", "claim"), COMBINATIONS
)
def test_derive_every_combination_of_record_claim_and_evidence(
    is_person, trusted, works, several, pending, claim
):
    approved, claim_level = CLAIMS[claim]
    facts = RecordFacts(
        is_person=is_person,
        trusted_source=trusted,
        work_count=works,
        possibly_several_people=several,
        has_pending_claim=pending,
        approved_claim=approved,
    )
    public = Level.L1 if trusted and works >= 1 and not several else Level.L0
    if not is_person:
        expected = (public, ClaimState.UNCLAIMED)
    elif approved is not None:
        level = public if several or claim_level is None else claim_level
        expected = (level, ClaimState.CLAIMED)
    elif pending:
        expected = (public, ClaimState.PENDING)
    else:
        expected = (public, ClaimState.UNCLAIMED)

    level, state, reason = derive(facts)

    assert (level, state) == expected
    assert type(level) is Level
    assert type(state) is ClaimState
    assert reason.endswith(".")


def test_seed_record_is_a_public_record_unclaimed():
    facts = RecordFacts(is_person=True, trusted_source=True, work_count=9)
    assert derive(facts) == (
        Level.L1,
        ClaimState.UNCLAIMED,
        "Built from arXiv, a trusted public source, with 9 works.",
    )


def test_reasons_name_the_evidence_a_visitor_can_check():
    facts = RecordFacts(
        is_person=True,
        trusted_source=True,
        work_count=1,
        approved_claim=evidence(
            domain="mails.tsinghua.edu.cn", orcid="0000-0002-1825-0097", confirmed=True
        ),
    )
    assert derive(facts) == (
        Level.L3,
        ClaimState.CLAIMED,
        "Approved claim by an account with a verified email, with an institutional email on "
        "mails.tsinghua.edu.cn, an affiliation's domain and the ORCID iD 0000-0002-1825-0097, "
        "confirmed by an admin.",
    )
    several = RecordFacts(
        is_person=True,
        trusted_source=True,
        work_count=3,
        possibly_several_people=True,
        has_pending_claim=True,
    )
    assert derive(several) == (
        Level.L0,
        ClaimState.PENDING,
        "Flagged: this record may be several people. A claim is waiting for an admin's decision.",
    )


def test_organisations_cannot_be_claimed_and_stop_at_l1():
    facts = RecordFacts(
        is_person=False,
        trusted_source=True,
        work_count=2,
        has_pending_claim=True,
        approved_claim=evidence(domain="deepseek.com", orcid=VALID_ORCID, confirmed=True),
    )
    level, state, reason = derive(facts)
    assert (level, state) == (Level.L1, ClaimState.UNCLAIMED)
    assert reason.endswith("Organisation authors cannot be claimed.")


def test_labels():
    assert [level.label for level in Level] == [
        "Unverified",
        "Public record",
        "Claimed",
        "Verified identity",
    ]
    assert [state.label for state in ClaimState] == ["Unclaimed author", "Claim pending", "Claimed"]
    assert [str(state) for state in ClaimState] == ["unclaimed", "pending", "claimed"]
    assert [int(level) for level in Level] == [0, 1, 2, 3]


@pytest.mark.parametrize(
    ("domain", "matches"),
    [
        ("tsinghua.edu.cn", True),
        ("TSINGHUA.EDU.CN.", True),
        ("mails.tsinghua.edu.cn", True),
        ("nottsinghua.edu.cn", False),
        ("tsinghua.edu.cn.evil.com", False),
        ("edu.cn", False),
        ("", False),
        ("gmail.com", False),
    ],
)
def test_email_domain_matches_an_affiliation_or_its_subdomain(domain, matches):
    assert email_domain_matches(domain, AFFILIATIONS) is matches


def test_webmail_and_bare_suffixes_never_count_as_institutional():
    assert not email_domain_matches("gmail.com", ("gmail.com",))
    assert not email_domain_matches("cn", ("cn",))


@pytest.mark.parametrize(
    "orcid", ["0000-0002-1825-0097", "0000-0001-5109-3700", "0000-0002-1694-233X"]
)
def test_valid_orcids(orcid):
    assert orcid_is_valid(orcid)
    assert normalise_orcid(orcid) == orcid
    assert normalise_orcid(f"https://orcid.org/{orcid}") == orcid
    assert normalise_orcid(f"  http://orcid.org/{orcid.lower()} ") == orcid


@pytest.mark.parametrize(
    "orcid",
    [
        "0000-0002-1825-0098",  # checksum
        "0000-0001-5109-3701",  # checksum
        "0000-0002-1694-2330",  # checksum: should be X
        "0000-0002-1825-009",  # too short
        "0000-0002-1825-00970",  # too long
        "0000000218250097",  # no hyphens
        "0000-0002-1825-0O97",  # letter O
        "X000-0002-1825-0097",  # X only as the check character
        "0000-0002-1694-233x",  # lower-case x is not canonical
        "٠٠٠٠-0002-1825-0097",  # Arabic-Indic digits
        "",
    ],
)
def test_invalid_orcids(orcid):
    assert not orcid_is_valid(orcid)


@pytest.mark.parametrize(
    "value", ["", "https://orcid.org/", "https://example.org/0000-0002-1825-0097", "not an id"]
)
def test_normalise_orcid_refuses_what_is_not_an_orcid(value):
    assert normalise_orcid(value) is None


@given(st.lists(st.integers(min_value=0, max_value=9), min_size=15, max_size=15))
def test_exactly_one_check_character_is_valid(digits):
    base = "".join(map(str, digits))
    valid = [
        check
        for check in "0123456789X"
        if orcid_is_valid(f"{base[:4]}-{base[4:8]}-{base[8:12]}-{base[12:]}{check}")
    ]
    assert len(valid) == 1
