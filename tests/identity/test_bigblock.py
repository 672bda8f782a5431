"""Big blocks: the decomposition never lets one strong pair chain people together."""

import numpy as np

from works.identity import Signature
from works.identity.bigblock import component_labels
from works.identity.cluster import cluster_probabilities
from works.identity.features import FEATURE_NAMES, BlockData

SHARED = FEATURE_NAMES.index("log_shared_coauthors")


class SharedCoauthorLearner:
    """P = 0.995 for a pair sharing a co-author, 0 otherwise."""

    def predict(self, features):
        return np.where(features[:, SHARED] > 0, 0.995, 0.0)


def test_a_component_too_big_even_at_the_strictest_cut_is_not_kept_whole():
    # a-b share Ann Archer, b-c share Cid Cole: strong links, but a and c share nothing.
    signatures = [
        Signature("a", "p1", "Ivo Quell", coauthors=("Ann Archer",), title="x"),
        Signature("b", "p2", "Ivo Quell", coauthors=("Ann Archer", "Cid Cole"), title="x"),
        Signature("c", "p3", "Ivo Quell", coauthors=("Cid Cole",), title="x"),
    ]
    block = BlockData.build(signatures)

    labels = component_labels(
        block,
        SharedCoauthorLearner(),
        0.9,
        must=[],
        cluster_matrix=lambda members, matrix: cluster_probabilities(
            matrix, [str(k) for k in members], threshold=0.9
        ),
        dense_limit=2,
    )

    # Average linkage: a and b join; c's average with them is (0.995 + 0) / 2.
    assert labels[0] == labels[1] != labels[2]
