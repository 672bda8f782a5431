"""Big blocks: the decomposition never lets one strong pair chain people together."""

import numpy as np

from tests.identity.test_collaboration_costs import _block
from works.identity import Signature, bigblock
from works.identity.bigblock import candidate_pairs, component_labels
from works.identity.cluster import cluster_probabilities
from works.identity.features import (
    FEATURE_NAMES,
    BlockData,
    merge_profiles,
    vetoed_pairs,
    vetoed_within,
)

SHARED = FEATURE_NAMES.index("log_shared_coauthors")


class SharedCoauthorLearner:
    """P = 0.995 for a pair sharing a co-author, 0 otherwise."""

    def predict(self, features):
        return np.where(features[:, SHARED] > 0, 0.995, 0.0)


def _component_labels(block: BlockData, threshold: float):
    """A block's labels as a big block gets them, with components of more than two profiles
    clustered over their candidate pairs."""
    return component_labels(
        block,
        SharedCoauthorLearner(),
        threshold,
        must=[],
        cluster_matrix=lambda members, matrix: cluster_probabilities(
            matrix, [str(k) for k in members], threshold=threshold
        ),
        dense_limit=2,
    )


def test_a_component_too_big_even_at_the_strictest_cut_is_not_kept_whole():
    # a-b share Ann Archer, b-c share Cid Cole: strong links, but a and c share nothing.
    signatures = [
        Signature("a", "p1", "Ivo Quell", coauthors=("Ann Archer",), title="x"),
        Signature("b", "p2", "Ivo Quell", coauthors=("Ann Archer", "Cid Cole"), title="x"),
        Signature("c", "p3", "Ivo Quell", coauthors=("Cid Cole",), title="x"),
    ]
    block = BlockData.build(signatures)

    labels = _component_labels(block, 0.9)

    # Average linkage: a and b join; c's average with them is (0.995 + 0) / 2.
    assert labels[0] == labels[1] != labels[2]


def test_a_mid_size_component_never_joins_names_whose_pair_is_no_candidate():
    # Stefan and Sofia share nothing (not even a word): their pair is no candidate, and
    # counted as 0 it let the average of {Stefan, S.} against Sofia reach the threshold.
    signatures = [
        Signature("a", "p1", "Stefan Quell", coauthors=("Ann Archer",), title="alpha"),
        Signature("b", "p2", "S. Quell", coauthors=("Ann Archer", "Cid Cole"), title="beta"),
        Signature("c", "p3", "Sofia Quell", coauthors=("Cid Cole",), title="gamma"),
    ]
    block = BlockData.build(signatures)
    left, right = candidate_pairs(block)
    assert (0, 2) not in set(zip(left.tolist(), right.tolist(), strict=True))

    labels = _component_labels(block, 0.4)

    assert labels[0] != labels[2]
    assert labels[1] in (labels[0], labels[2])


def test_the_vetoes_of_every_pair_of_members_are_those_of_each_pair():
    block = _block(40, 3)
    pooled = [merge_profiles(block.profiles[k : k + 3]) for k in range(0, 40, 3)]
    for data in (block, BlockData.build(pooled + block.profiles[:10])):
        members = np.arange(len(data))[::-1]  # in another order than the block's
        left, right = np.meshgrid(members, members, indexing="ij")

        within = vetoed_within(data, members)

        expected = vetoed_pairs(data, left.ravel(), right.ravel()).reshape(within.shape)
        np.testing.assert_array_equal(within, expected)
        assert within.any() and not within.all()


def test_a_component_too_big_for_its_matrix_keeps_different_first_names_apart(monkeypatch):
    # Stefan and Sofia share no co-author, but each shares one with "S. Quell": a chain
    # that keeps them in one component at every edge threshold.
    signatures = [
        Signature("a1", "p1", "Stefan Quell", coauthors=("Ann Archer",), title="x"),
        Signature("a2", "p2", "Stefan Quell", coauthors=("Ann Archer",), title="x"),
        Signature("b", "p3", "S. Quell", coauthors=("Ann Archer", "Cid Cole"), title="x"),
        Signature("c1", "p4", "Sofia Quell", coauthors=("Cid Cole",), title="x"),
        Signature("c2", "p5", "Sofia Quell", coauthors=("Cid Cole",), title="x"),
    ]
    block = BlockData.build(signatures)
    monkeypatch.setattr(bigblock, "SPARSE_LIMIT", 3)

    labels = _component_labels(block, 0.9)

    stefan, initial, sofia = {labels[0], labels[1]}, labels[2], {labels[3], labels[4]}
    assert len(stefan) == 1 and len(sofia) == 1  # each person's two papers join
    assert stefan != sofia  # and the two people stay two
    assert initial in stefan | sofia  # the initial goes with one of them
