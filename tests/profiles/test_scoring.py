import datetime
import json
import math
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from profiles.levels import ClaimState, Level
from profiles.scoring import (
    FORMULA_VERSION,
    REACHED_CAP,
    CollaboratorInput,
    EvidenceRow,
    FollowerInput,
    TrustInputs,
    TrustResult,
    WorkInput,
    band_for,
    community_points,
    log_points,
    scholarly_points,
    score,
)

CAPS = {"identity": 40, "scholarly_record": 30, "collaboration": 20, "community": 10}

SEED_WORKS = (
    WorkInput("2501.12948", "DeepSeek-R1: Incentivizing Reasoning Capability in LLMs via "
              "Reinforcement Learning", datetime.date(2025, 1, 22)),
    WorkInput("2512.24880", "mHC: Manifold-Constrained Hyper-Connections",
              datetime.date(2025, 12, 31)),
    WorkInput("2203.14101", "A Roadmap for Big Model", datetime.date(2022, 3, 26), withdrawn=True),
    WorkInput("2206.09355", "A Unified Understanding of Deep NLP Models for Text Classification",
              datetime.date(2022, 6, 19)),
    WorkInput("2109.11797", "CPT: Colorful Prompt Tuning for Pre-trained Vision-Language Models",
              datetime.date(2021, 9, 24)),
    WorkInput("2207.05280", "Effective Few-Shot Named Entity Linking by Meta-Learning",
              datetime.date(2022, 7, 12)),
    WorkInput("2105.13880", "Knowledge Inheritance for Pre-trained Language Models",
              datetime.date(2021, 5, 28)),
    WorkInput("2110.01786", "MoEfication: Transformer Feed-forward Layers are Mixtures of Experts",
              datetime.date(2021, 10, 5)),
    WorkInput("2205.11166", "Prompt Tuning for Discriminative Pre-trained Language Models",
              datetime.date(2022, 5, 23)),
)  # fmt: skip
SEED_COLLABORATORS = (
    CollaboratorInput("Zhiyuan Liu", "zhiyuan-liu", 0.90301, 7, 1),
    CollaboratorInput("Maosong Sun", "maosong-sun", 0.76010, 6, 1),
    CollaboratorInput("Yuan Yao", "yuan-yao", 0.33510, 3, 1),
    CollaboratorInput("Ao Zhang", "ao-zhang", 0.325, 2, 1),
)
SEED = TrustInputs(
    level=1,
    claim_state="unclaimed",
    works=SEED_WORKS,
    close_collaborators=SEED_COLLABORATORS,
    followers=(),
    level_reason="Built from arXiv, a trusted public source, with 9 works.",
    level_date=datetime.date(2026, 1, 5),
)


def points_of(result):
    return {component.key: component.points for component in result.components}


# Calibration -------------------------------------------------------------------------------


def test_seed_researcher_scores_21_emerging():
    result = score(SEED)
    assert (result.score, result.band) == (21, "Emerging")
    assert points_of(result) == {
        "identity": 10,
        "scholarly_record": 9,
        "collaboration": 2,
        "community": 0,
    }
    assert {c.key: c.cap for c in result.components} == CAPS
    assert result.formula_version == FORMULA_VERSION == "2026-12.1"


def test_seed_identity_evidence_and_how_to_raise():
    identity = score(SEED).component("identity")
    assert identity.evidence == [
        EvidenceRow(
            "Verification L1 (Public record): Built from arXiv, a trusted public source, "
            "with 9 works.",
            "arXiv",
            "2026-01-05",
        ),
        EvidenceRow("Claim state: Unclaimed author", "BZPEER", ""),
    ]
    assert identity.how_to_raise.startswith("Claim this record (L2) to add 15 points;")


def test_seed_scholarly_evidence_lists_every_counted_work_and_the_withdrawn_one():
    scholarly = score(SEED).component("scholarly_record")
    assert [row.what for row in scholarly.evidence] == [
        "arXiv:2512.24880 mHC: Manifold-Constrained Hyper-Connections",
        "arXiv:2501.12948 DeepSeek-R1: Incentivizing Reasoning Capability in LLMs via "
        "Reinforcement Learning",
        "arXiv:2207.05280 Effective Few-Shot Named Entity Linking by Meta-Learning",
        "arXiv:2206.09355 A Unified Understanding of Deep NLP Models for Text Classification",
        "arXiv:2205.11166 Prompt Tuning for Discriminative Pre-trained Language Models",
        "arXiv:2110.01786 MoEfication: Transformer Feed-forward Layers are Mixtures of Experts",
        "arXiv:2109.11797 CPT: Colorful Prompt Tuning for Pre-trained Vision-Language Models",
        "arXiv:2105.13880 Knowledge Inheritance for Pre-trained Language Models",
        "Not counted (withdrawn): arXiv:2203.14101 A Roadmap for Big Model",
    ]
    assert {row.source for row in scholarly.evidence} == {"arXiv"}
    assert scholarly.evidence[0].date == "2025-12-31"
    assert scholarly.how_to_raise == "1 more counted work would add a point."
    assert scholarly.explanation.startswith("8 works counted")


def test_seed_collaboration_and_community_evidence():
    result = score(SEED)
    assert [row.what for row in result.component("collaboration").evidence] == [
        "Zhiyuan Liu: 7 shared works, weight 0.903, L1 (Public record), +0.5",
        "Maosong Sun: 6 shared works, weight 0.760, L1 (Public record), +0.5",
        "Yuan Yao: 3 shared works, weight 0.335, L1 (Public record), +0.5",
        "Ao Zhang: 2 shared works, weight 0.325, L1 (Public record), +0.5",
    ]
    assert result.component("collaboration").how_to_raise.startswith(
        "2 more close collaborators at L1 would add a point;"
    )
    community = result.component("community")
    assert community.evidence == [EvidenceRow("0 followers with a verified email", "BZPEER", "")]
    assert community.how_to_raise == "1 more follower with a verified email would add a point."


# Examples ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("level", "points"), [(0, 0), (1, 10), (2, 25), (3, 40)])
def test_identity_points_follow_the_level(level, points):
    assert points_of(score(replace(SEED, level=level)))["identity"] == points


@pytest.mark.parametrize(
    ("count", "points"),
    [(0, 0), (1, 3), (2, 4), (3, 6), (8, 9), (9, 10), (99, 20), (998, 29), (999, 30), (10**6, 30)],
)
def test_scholarly_points_on_a_log_scale(count, points):
    assert scholarly_points(count) == points == min(30, math.floor(10 * math.log10(1 + count)))


@pytest.mark.parametrize(
    ("count", "points"), [(0, 0), (1, 1), (2, 2), (3, 3), (5, 3), (6, 4), (98, 9), (99, 10)]
)
def test_community_points_on_a_log_scale(count, points):
    assert community_points(count) == points


@given(st.integers(min_value=0, max_value=5000), st.sampled_from([(10, 30), (5, 10)]))
def test_integer_log_points_agree_with_the_float_formula_away_from_exact_powers(count, scale):
    per_decade, cap = scale
    exact = log_points(count, per_decade=per_decade, cap=cap)
    value = per_decade * math.log10(1 + count) if count else 0.0
    assert exact == min(cap, math.floor(value + 1e-9))


@pytest.mark.parametrize(
    ("value", "band"),
    [(0, "Emerging"), (24, "Emerging"), (25, "Developing"), (49, "Developing"),
     (50, "Established"), (74, "Established"), (75, "Trusted"), (100, "Trusted")],
)  # fmt: skip
def test_bands(value, band):
    assert band_for(value) == band


@pytest.mark.parametrize("value", [-1, 101])
def test_band_refuses_scores_out_of_range(value):
    with pytest.raises(ValueError):
        band_for(value)


def test_claimed_and_verified_collaborators_count_more():
    collaborators = tuple(
        CollaboratorInput(f"C{level}", f"c{level}", 0.5, 1, level) for level in (0, 1, 2, 3)
    )
    result = score(replace(SEED, close_collaborators=collaborators))
    assert points_of(result)["collaboration"] == 3  # 0.5 + 0.5 + 1 + 1.5 = 3.5


def test_disputed_works_are_listed_as_not_counted():
    works = (
        WorkInput("2101.00001", "Mine", datetime.date(2021, 1, 1)),
        WorkInput("2101.00002", "Not mine", None, disputed=True),
        WorkInput("2101.00003", "Gone and not mine", None, withdrawn=True, disputed=True),
    )
    scholarly = score(replace(SEED, works=works)).component("scholarly_record")
    assert scholarly.points == 3
    assert scholarly.evidence == [
        EvidenceRow("arXiv:2101.00001 Mine", "arXiv", "2021-01-01"),
        EvidenceRow("Not counted (disputed): arXiv:2101.00002 Not mine", "BZPEER", ""),
        EvidenceRow(
            "Not counted (withdrawn and disputed): arXiv:2101.00003 Gone and not mine",
            "arXiv",
            "",
        ),
    ]


def test_the_same_work_listed_twice_counts_once():
    work = SEED_WORKS[0]
    assert score(replace(SEED, works=(work, work))).component("scholarly_record").points == 3


def test_community_evidence_gives_counts_never_identities():
    followers = (
        FollowerInput(7, True, False, datetime.date(2026, 1, 1)),
        FollowerInput(7, True, False, datetime.date(2026, 1, 2)),
        FollowerInput(8, False, False, None),
        FollowerInput(9, True, True, None),
    )
    community = score(replace(SEED, followers=followers)).component("community")
    assert community.points == 1
    assert community.evidence == [
        EvidenceRow("1 follower with a verified email", "BZPEER", ""),
        EvidenceRow(
            "2 follows not counted (the owner's own, or without a verified email)", "BZPEER", ""
        ),
    ]


def test_every_component_says_reached_the_cap_at_its_cap():
    top = TrustInputs(
        level=3,
        claim_state="claimed",
        works=tuple(WorkInput(f"2101.{i:05d}", f"W{i}", None) for i in range(1000)),
        close_collaborators=tuple(
            CollaboratorInput(f"C{i}", f"c{i}", 1.0, 1, 3) for i in range(14)
        ),
        followers=tuple(FollowerInput(i, True, False, None) for i in range(99)),
    )
    result = score(top)
    assert (result.score, result.band) == (100, "Trusted")
    assert [c.how_to_raise for c in result.components] == [REACHED_CAP] * 4


@pytest.mark.parametrize(
    ("level", "state", "start"),
    [
        (0, "unclaimed", "L1 (built from an arXiv work, not flagged as several people) adds 10"),
        (1, "pending", "A claim is pending: its approval for an account with a verified email"),
        (1, "claimed", "The approved claim counts once the claiming account has a verified"),
        (2, "claimed", "Strong evidence (an institutional email on the affiliation's domain"),
    ],
)
def test_identity_how_to_raise_is_concrete(level, state, start):
    identity = score(replace(SEED, level=level, claim_state=state)).component("identity")
    assert identity.how_to_raise.startswith(start)


def test_inputs_refuse_unknown_levels_and_claim_states():
    with pytest.raises(ValueError):
        replace(SEED, level=4)
    with pytest.raises(ValueError):
        replace(SEED, claim_state="approved")
    with pytest.raises(ValueError):
        CollaboratorInput("X", "x", 1.0, 1, 7)


def test_inputs_normalise_to_enums_and_tuples():
    inputs = TrustInputs(level=2, claim_state="claimed", works=[], close_collaborators=[],
                         followers=[])  # fmt: skip
    assert inputs.level is Level.L2
    assert inputs.claim_state is ClaimState.CLAIMED
    assert inputs.works == ()


def test_result_json_round_trip_through_json_text():
    result = score(SEED)
    data = json.loads(json.dumps(result.to_json()))
    assert data["score"] == 21
    assert data["band"] == "Emerging"
    assert data["formula_version"] == FORMULA_VERSION
    assert [c["key"] for c in data["components"]] == list(CAPS)
    assert TrustResult.from_json(data) == result


# Properties --------------------------------------------------------------------------------

dates = st.none() | st.dates(datetime.date(1991, 1, 1), datetime.date(2030, 12, 31))
arxiv_ids = st.integers(min_value=0, max_value=60).map(lambda i: f"2101.{i:05d}")
works = st.builds(
    WorkInput,
    arxiv_id=arxiv_ids,
    title=st.text(max_size=20),
    date=dates,
    withdrawn=st.booleans(),
    disputed=st.booleans(),
)
counted_works = st.builds(WorkInput, arxiv_id=arxiv_ids, title=st.text(max_size=20), date=dates)
levels = st.integers(min_value=0, max_value=3)
collaborators = st.builds(
    CollaboratorInput,
    name=st.text(max_size=10),
    slug=st.integers(min_value=0, max_value=40).map(lambda i: f"person-{i}"),
    weight=st.floats(min_value=0.32, max_value=50, allow_nan=False),
    shared_works=st.integers(min_value=1, max_value=200),
    level=levels,
)
followers = st.builds(
    FollowerInput,
    account_id=st.integers(min_value=1, max_value=200),
    email_verified=st.booleans(),
    is_owner=st.booleans(),
    followed_on=dates,
)
counting_followers = st.builds(
    FollowerInput,
    account_id=st.integers(min_value=1, max_value=200),
    email_verified=st.just(True),
    is_owner=st.just(False),
    followed_on=dates,
)
trust_inputs = st.builds(
    TrustInputs,
    level=levels,
    claim_state=st.sampled_from(list(ClaimState)),
    works=st.lists(works, max_size=40).map(tuple),
    close_collaborators=st.lists(collaborators, max_size=30).map(tuple),
    followers=st.lists(followers, max_size=40).map(tuple),
    level_reason=st.text(max_size=30),
    level_source=st.sampled_from(["arXiv", "BZPEER"]),
    level_date=dates,
)


@given(trust_inputs)
def test_score_is_within_0_and_100_and_the_sum_of_its_components(inputs):
    result = score(inputs)
    assert 0 <= result.score <= 100
    assert result.score == sum(c.points for c in result.components)
    assert result.band == band_for(result.score)
    assert [c.key for c in result.components] == list(CAPS)


@given(trust_inputs)
def test_each_component_stays_within_its_cap(inputs):
    for component in score(inputs).components:
        assert component.cap == CAPS[component.key]
        assert 0 <= component.points <= component.cap
        assert component.how_to_raise
        assert (component.how_to_raise == REACHED_CAP) == (component.points == component.cap)


@given(trust_inputs, works)
def test_adding_a_work_never_lowers_the_score(inputs, work):
    after = replace(inputs, works=(*inputs.works, work))
    assert score(after).score >= score(inputs).score


@given(trust_inputs, collaborators)
def test_adding_a_close_collaborator_never_lowers_the_score(inputs, collaborator):
    after = replace(inputs, close_collaborators=(*inputs.close_collaborators, collaborator))
    assert score(after).score >= score(inputs).score


@given(trust_inputs, counting_followers)
def test_adding_a_counting_follower_never_lowers_the_score(inputs, follower):
    after = replace(inputs, followers=(*inputs.followers, follower))
    assert score(after).score >= score(inputs).score


@given(trust_inputs, levels)
def test_a_higher_verification_level_never_lowers_the_score(inputs, level):
    higher = replace(inputs, level=max(level, inputs.level))
    assert score(higher).score >= score(inputs).score


@given(trust_inputs, st.lists(works, max_size=10))
def test_withdrawn_and_disputed_works_add_nothing(inputs, extra):
    not_counted = tuple(work for work in extra if not work.counts)
    after = replace(inputs, works=(*inputs.works, *not_counted))
    assert points_of(score(after)) == points_of(score(inputs))


@given(trust_inputs, st.lists(followers, max_size=10))
def test_the_owners_follow_and_unverified_followers_add_nothing(inputs, extra):
    not_counting = tuple(f for f in extra if f.is_owner or not f.email_verified)
    after = replace(inputs, followers=(*inputs.followers, *not_counting))
    assert points_of(score(after)) == points_of(score(inputs))


@given(trust_inputs)
def test_inputs_survive_a_json_round_trip(inputs):
    data = json.loads(json.dumps(inputs.to_json()))
    assert TrustInputs.from_json(data) == inputs
    assert score(TrustInputs.from_json(data)) == score(inputs)


@given(trust_inputs)
def test_result_survives_a_json_round_trip(inputs):
    result = score(inputs)
    assert TrustResult.from_json(json.loads(json.dumps(result.to_json()))) == result


@given(trust_inputs)
def test_community_evidence_never_names_a_follower(inputs):
    community = score(inputs).component("community")
    assert all(row.what[0].isdigit() for row in community.evidence)
