"""Linkage shortcuts give the labels of the general path, exactly."""

import numpy as np
import pytest

from works.identity.cluster import NEVER, _group_sums, average_linkage, cluster_probabilities


def _random_probabilities(rng, n):
    values = rng.random((n, n))
    values = np.triu(values, 1) + np.triu(values, 1).T
    vetoed = np.triu(rng.random((n, n)) < 0.1, 1)
    values[vetoed | vetoed.T] = NEVER
    np.fill_diagonal(values, NEVER)
    return values


@pytest.mark.parametrize("seed", range(20))
def test_without_must_links_labels_equal_the_group_sum_path(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 60))
    probabilities = _random_probabilities(rng, n)
    ids = [f"s{k}" for k in range(n)]
    cannot = [("s0", "s1")] if seed % 2 else []
    threshold = float(rng.choice([0.3, 0.5, 0.7]))

    fast = cluster_probabilities(probabilities, ids, threshold=threshold, cannot_link=cannot)

    sums, weights = _group_sums(probabilities, np.arange(n), n)
    for a, b in cannot:
        i, j = ids.index(a), ids.index(b)
        sums[i, j] = sums[j, i] = NEVER
    assert (fast == average_linkage(sums, weights, threshold)).all()
    assert len(np.unique(fast)) < n  # the thresholds above do merge something here
    if cannot:
        assert fast[0] != fast[1]


def test_must_links_still_take_the_group_sum_path():
    probabilities = np.full((3, 3), NEVER)
    labels = cluster_probabilities(
        probabilities, ["a", "b", "c"], threshold=0.9, must_link=[("a", "c")]
    )
    assert labels[0] == labels[2] != labels[1]
