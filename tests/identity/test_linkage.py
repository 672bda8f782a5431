"""Linkage shortcuts give the labels of the general path, exactly."""

import tracemalloc

import numpy as np
import pytest

from works.identity.cluster import (
    NEVER,
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


def _linkage_with_an_averages_matrix(sums, weights, threshold):
    """Average linkage as it was before the averages were computed from the sums on demand:
    an n x n matrix of averages kept beside the sums, updated on every merge."""
    sums, weights = sums.copy(), weights.astype(np.float64)
    n = len(weights)
    np.fill_diagonal(sums, NEVER)
    linkage = sums / np.outer(weights, weights)
    best_col = np.argmax(linkage, axis=1)
    best_val = linkage[np.arange(n), best_col]
    labels, alive = np.arange(n), np.ones(n, dtype=bool)
    while n > 1:
        a = int(np.argmax(best_val))
        if not best_val[a] >= threshold:
            break
        b = int(best_col[a])
        a, b = min(a, b), max(a, b)
        labels[labels == b] = a
        sums[a] = sums[a] + sums[b]
        sums[:, a] = sums[a]
        sums[a, a] = NEVER
        weights[a] += weights[b]
        alive[b] = False
        sums[b] = sums[:, b] = NEVER
        linkage[a] = np.where(alive, sums[a] / (weights[a] * weights), NEVER)
        linkage[a, a] = NEVER
        linkage[:, a] = linkage[a]
        linkage[b] = linkage[:, b] = NEVER
        rescan = alive & ((best_col == a) | (best_col == b))
        rescan[a] = True
        best_val[b], best_val[~alive] = NEVER, NEVER
        rows = np.flatnonzero(rescan)
        best_col[rows] = np.argmax(linkage[rows], axis=1)
        best_val[rows] = linkage[rows, best_col[rows]]
        improved = alive & (linkage[:, a] > best_val)
        best_col[improved] = a
        best_val[improved] = linkage[improved, a]
    return labels


@pytest.mark.parametrize("seed", range(12))
def test_averages_from_the_sums_give_the_labels_of_a_kept_averages_matrix(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 700))  # up to several chunks of rows
    weights = rng.integers(1, 6, n)
    sums = _random_probabilities(rng, n) * np.outer(weights, weights)
    # Ties, which the first maximum breaks: both ways must pick the same one.
    sums[sums > 0.9 * sums.max()] = np.round(sums[sums > 0.9 * sums.max()], 1)
    threshold = float(rng.choice([0.3, 0.5, 0.8]))

    labels = average_linkage(sums, weights, threshold)

    assert (labels == _linkage_with_an_averages_matrix(sums, weights, threshold)).all()
    assert len(np.unique(labels)) < n


def test_linkage_over_a_given_up_matrix_holds_no_second_matrix():
    n = 1000
    probabilities = _random_probabilities(np.random.default_rng(5), n)
    ids = [f"s{k}" for k in range(n)]
    tracemalloc.start()
    try:
        cluster_probabilities(probabilities, ids, threshold=0.9, overwrite=True)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    # A chunk of rows' averages (2 MB); not a matrix of averages (8 MB) as it took before,
    # nor the two copies of the probabilities and the full outer product before that.
    assert peak < 0.5 * n * n * 8
