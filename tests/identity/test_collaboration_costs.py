"""Collaboration papers: what two members of one big team share costs nothing and decides nothing.

Pairs of collaboration profiles get no co-author evidence (``pair_features``), so the
products of their thousands of shared co-author columns are skipped. Every feature must stay
what computing them all gave, to the last bit, and the big-block candidates must still come
from co-authors wherever one side is not a collaboration's.
"""

import dataclasses
import random

import numpy as np
import pytest

from works.identity import Signature
from works.identity.bigblock import (
    _neighbour_pairs,
    _similarities,
    _similarities_apart_from_collaborations,
)
from works.identity.features import (
    FEATURE_NAMES,
    BlockData,
    _coauthor_dot,
    _row_dot,
    pair_features,
    small_block_features,
)

TEAM = [f"Member Number{k}" for k in range(150)]
WORDS = ["muon", "jet", "trigger", "lattice", "spin", "graph", "kernel", "decay"]
EVIDENCE = [
    FEATURE_NAMES.index(name)
    for name in ("log_shared_coauthors", "coauthor_jaccard", "coauthor_idf_cos", "coauthor_overlap")
]


def _block(size: int, seed: int) -> BlockData:
    """Members of one 151-author team (every co-author shared) among small papers, some of
    whose co-authors are on the team."""
    rng = random.Random(seed)
    signatures = []
    for k in range(size):
        if rng.random() < 0.4:
            coauthors = tuple(TEAM[: rng.randint(120, 150)])
        else:
            coauthors = tuple(rng.sample(TEAM[:10], 2)) + (f"Other Person{k}",)
        signatures.append(
            Signature(
                f"s{k}",
                f"p{k}",
                rng.choice(["Yu Wang", "Y. Wang", "Yan Wang"]),
                coauthors=coauthors,
                title=" ".join(rng.choices(WORDS, k=5)),
                categories=(rng.choice(["hep-ex", "hep-ph"]),),
                year=2010 + k % 10,
            )
        )
    block = BlockData.build(signatures)
    assert block.collaboration_only.sum() >= 2 and not block.collaboration_only.all()
    return block


def _every_product_then_zeroed(block: BlockData, left, right) -> np.ndarray:
    """What pair_features gave before: every co-author product, then collaboration pairs'
    evidence set to 0."""
    nobody = dataclasses.replace(block, collaboration_only=np.zeros(len(block), dtype=bool))
    features = pair_features(nobody, left, right)
    both = block.collaboration_only[left] & block.collaboration_only[right]
    features[np.ix_(both, EVIDENCE)] = 0.0
    return features


@pytest.mark.parametrize("seed", range(3))
def test_all_pairs_of_a_block_keep_every_feature_to_the_last_bit(seed):
    # All pairs: the Gram matrix path.
    block = _block(60, seed)
    left, right = np.triu_indices(len(block), 1)
    np.testing.assert_array_equal(
        pair_features(block, left, right), _every_product_then_zeroed(block, left, right)
    )


def test_a_few_pairs_keep_every_feature_to_the_last_bit():
    # Fewer pairs than eight per profile: the row-by-row path.
    block = _block(60, 7)
    left, right = np.array([0, 1, 2, 3, 5, 8]), np.array([10, 20, 30, 40, 50, 59])
    np.testing.assert_array_equal(
        pair_features(block, left, right), _every_product_then_zeroed(block, left, right)
    )


@pytest.mark.parametrize("seed", range(3))
def test_a_small_block_keeps_every_feature_to_the_last_bit(seed):
    # The plain-dict path of blocks of up to 24 profiles skips the same comparisons.
    profiles = _block(20, seed).profiles
    both = np.array([p.collaboration_only for p in profiles])
    assert both.sum() >= 2 and not both.all()
    left, right, features, vetoed = small_block_features(profiles)
    nobody = [dataclasses.replace(p, collaboration_only=False) for p in profiles]
    every_left, every_right, every, every_vetoed = small_block_features(nobody)
    every[np.ix_(both[left] & both[right], EVIDENCE)] = 0.0
    np.testing.assert_array_equal(left, every_left)
    np.testing.assert_array_equal(right, every_right)
    np.testing.assert_array_equal(features, every)
    np.testing.assert_array_equal(vetoed, every_vetoed)


@pytest.mark.parametrize("pairs", ["all", "few"])
def test_each_co_author_product_computed_is_the_one_every_product_gave_in_double(pairs):
    # The features are single precision; the products themselves must match in double too.
    block = _block(60, 4)
    left, right = np.triu_indices(len(block), 1)
    if pairs == "few":
        left, right = left[::400], right[::400]
    both = block.collaboration_only[left] & block.collaboration_only[right]
    assert both.any() and not both.all()
    for matrix in (block.coauthors, block.coauthors_tfidf):
        skipped = _coauthor_dot(matrix, left, right, block.collaboration_only)
        every = _row_dot(matrix, left, right, dense_gram=False)
        np.testing.assert_array_equal(skipped[~both], every[~both])
        assert (skipped[both] == 0).all() and (every[both] > 0).all()


def test_a_collaboration_member_still_shares_co_authors_with_a_small_paper():
    block = _block(60, 1)
    member = int(np.flatnonzero(block.collaboration_only)[0])
    small = int(np.flatnonzero(~block.collaboration_only)[0])
    features = pair_features(block, np.array([member]), np.array([small]))
    assert features[0, FEATURE_NAMES.index("log_shared_coauthors")] == np.float32(np.log1p(2))


def test_neighbours_leave_out_only_what_two_collaboration_members_share_of_their_team():
    block = _block(80, 2)
    whole = np.vstack([chunk for _, chunk in _similarities(block)])
    apart = np.vstack([chunk for _, chunk in _similarities_apart_from_collaborations(block)])
    both = np.outer(block.collaboration_only, block.collaboration_only)
    np.testing.assert_allclose(apart[~both], whole[~both], rtol=1e-12)
    # Between two members, words, categories and affiliations only.
    words_only = dataclasses.replace(block, coauthors_tfidf=block.coauthors_tfidf * 0)
    words = np.vstack([chunk for _, chunk in _similarities(words_only)])
    np.testing.assert_allclose(apart[both], words[both], rtol=1e-12)
    assert (whole[both] > words[both] + 0.1).any()


def test_two_team_members_with_nothing_but_their_team_in_common_are_no_neighbours():
    # Same team, no word, category or year in common: only what the features ignore.
    signatures = [
        Signature("a", "p1", "Yu Wang", coauthors=tuple(TEAM), title="muon trigger"),
        Signature("b", "p2", "Yu Wang", coauthors=tuple(TEAM), title="lattice spin"),
        Signature("c", "p3", "Yu Wang", coauthors=(TEAM[0], "Ann Archer"), title="graph kernel"),
    ]
    left, right = _neighbour_pairs(BlockData.build(signatures), 2)
    pairs = {tuple(sorted(pair)) for pair in zip(left.tolist(), right.tolist(), strict=True)}
    assert (0, 1) not in pairs
    assert {(0, 2), (1, 2)} <= pairs
