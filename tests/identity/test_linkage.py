"""Linkage shortcuts give the labels of the general path, exactly."""

import tracemalloc

import numpy as np
import pytest

from works.identity.cluster import (
    NEVER,
    _averages,
    _group_sums,
    average_linkage,
    cluster_probabilities,
)


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


def test_a_matrix_is_only_overwritten_when_the_caller_gives_it_up():
    rng = np.random.default_rng(7)
    probabilities = _random_probabilities(rng, 120)
    kept = probabilities.copy()
    ids = [f"s{k}" for k in range(120)]

    labels = cluster_probabilities(probabilities, ids, threshold=0.5)
    assert np.array_equal(probabilities, kept)

    given_up = cluster_probabilities(probabilities, ids, threshold=0.5, overwrite=True)
    assert (given_up == labels).all()
    assert not np.array_equal(probabilities, kept)  # it served as the working matrix


def test_averages_are_the_same_bits_as_dividing_by_the_outer_product():
    rng = np.random.default_rng(3)
    sums = rng.random((600, 600)) * 40  # more rows than one chunk of _averages
    weights = rng.integers(1, 50, 600).astype(np.float64)

    assert np.array_equal(_averages(sums, weights), sums / np.outer(weights, weights))


def test_linkage_over_a_given_up_matrix_holds_one_more_matrix_at_most():
    n = 1000
    probabilities = _random_probabilities(np.random.default_rng(5), n)
    ids = [f"s{k}" for k in range(n)]
    tracemalloc.start()
    try:
        cluster_probabilities(probabilities, ids, threshold=0.9, overwrite=True)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    # The averages matrix (8 MB) and a chunk's outer product; not the two copies of the
    # probabilities and the full outer product it took before.
    assert peak < 1.5 * n * n * 8
