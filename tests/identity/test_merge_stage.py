"""Stage two: merge rounds (works.identity.cluster.merge_clusters)."""

import numpy as np

from works.identity.cluster import merge_clusters
from works.identity.features import FEATURE_NAMES, profile_of
from works.identity.signature import Signature

_MIN_SIZE = FEATURE_NAMES.index("log_min_size")
_MAX_SIZE = FEATURE_NAMES.index("log_max_size")


class EqualSizesLearner:
    """P = 0.99 between clusters of equal size, 0 otherwise: each round can only
    double a cluster that the previous round made."""

    def predict(self, features):
        return np.where(features[:, _MIN_SIZE] == features[:, _MAX_SIZE], 0.99, 0.0)


def test_merge_rounds_go_on_until_nothing_merges():
    profiles = [
        profile_of(Signature(signature_id=f"s{k}", paper_id=f"p{k}", author="Ada Lovelace"))
        for k in range(16)
    ]
    # stage-one clusters of 1, 1, 2, 4 and 8 signatures: 1+1, then 2+2, 4+4, 8+8
    first = np.array([0, 1, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4])
    learner = EqualSizesLearner()
    three = merge_clusters(profiles, first, learner=learner, threshold=0.9, rounds=3)
    assert len(set(three.tolist())) == 2
    labels = merge_clusters(profiles, first, learner=learner, threshold=0.9)
    assert set(labels.tolist()) == {0}
