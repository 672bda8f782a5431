"""Average linkage over a graph of scored pairs: the dense linkage's partition, and its vetoes
between whole clusters."""

import numpy as np
import pytest

from works.identity.cluster import average_linkage
from works.identity.sparse_linkage import sparse_average_linkage


def _partition(labels) -> set[frozenset[int]]:
    groups: dict[int, set[int]] = {}
    for item, label in enumerate(labels):
        groups.setdefault(int(label), set()).add(item)
    return {frozenset(g) for g in groups.values()}


def _no_vetoes(n):
    return {"papers": [[f"p{k}"] for k in range(n)], "names": [[]] * n, "conflict": None}


@pytest.mark.parametrize("seed", range(12))
def test_the_partition_is_the_dense_linkages_over_the_same_pairs(seed):
    rng = np.random.default_rng(seed)
    n = 60
    left, right = np.triu_indices(n, 1)
    given = rng.random(len(left)) < 0.15
    left, right = left[given], right[given]
    values = rng.random(len(left)) ** 0.5  # many pairs above the threshold
    dense = np.zeros((n, n))
    dense[left, right] = dense[right, left] = values

    expected = average_linkage(dense, np.ones(n), 0.6)
    got = sparse_average_linkage(left, right, values, 0.6, **_no_vetoes(n))

    assert _partition(got) == _partition(expected)
    assert len(_partition(got)) < n  # the case merges something


def test_clusters_sharing_a_paper_never_merge_even_through_an_unscored_pair():
    # 0-1 and 2-3 join; 1-2 is strong, but 0 and 3 are on one paper (a pair never scored).
    left, right = np.array([0, 2, 1]), np.array([1, 3, 2])
    values = np.array([0.99, 0.99, 0.98])
    papers = [["p"], ["q"], ["r"], ["p"]]

    labels = sparse_average_linkage(
        left, right, values, 0.3, papers=papers, names=[[]] * 4, conflict=None
    )

    assert _partition(labels) == {frozenset({0, 1}), frozenset({2, 3})}


def test_conflicting_names_between_two_clusters_forbid_their_merge():
    names = [["stefan"], ["s"], ["sofia"]]

    def conflict(x, y):
        return len(x) > 1 and len(y) > 1 and x != y  # two different full first names

    labels = sparse_average_linkage(
        np.array([0, 1]),
        np.array([1, 2]),
        np.array([0.99, 0.98]),
        0.3,
        papers=[["a"], ["b"], ["c"]],
        names=names,
        conflict=conflict,
    )

    assert _partition(labels) == {frozenset({0, 1}), frozenset({2})}


def test_must_links_join_and_cannot_links_hold_through_other_members():
    # 0 and 1 must be one; 2 cannot join 1, so not 0 either, however strong 0-2 is. 3 joins
    # them at (0.99 + 0) / 2.
    labels = sparse_average_linkage(
        np.array([0, 0]),
        np.array([2, 3]),
        np.array([0.99, 0.99]),
        0.4,
        must=[(0, 1)],
        cannot=[(1, 2)],
        **_no_vetoes(4),
    )

    assert _partition(labels) == {frozenset({0, 1, 3}), frozenset({2})}
