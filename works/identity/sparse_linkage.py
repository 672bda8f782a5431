"""Average linkage over a graph of scored pairs, for a component too big for n x n matrices.

:func:`works.identity.cluster.average_linkage` holds every pair of a component in a dense
matrix, which stops being possible at a few thousand profiles (a million-record load's
"greco s" block made one component of 6,255 signatures even at an edge threshold of 0.99:
"Stefan Greco" and "Sofia A. Greco" chained through "S. Greco"). Here the same linkage runs
over the scored (candidate) pairs alone, every other pair counting as 0, as the candidate
matrix of a mid-size component counts it, so it can only split what all pairs would join.

Vetoes are checked on the two clusters a merge would join, not stored per pair: a shared
paper or a pair of conflicting names anywhere between them forbids it, whether or not that
pair was a candidate, as in a component clustered with all its pairs. A veto found holds for
every later cluster containing either side (papers and names only accumulate), so the pair
is dropped once found. Must-links are merged first, whatever they join (as the dense path's
groups override vetoes inside them); cannot-links are never crossed.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Hashable, Sequence

import numpy as np

__all__ = ["sparse_average_linkage"]


class _Clusters:
    """Clusters as union-find roots, each with the sums of its scored pairs to its neighbours
    and what its vetoes need (papers, names, signatures it must stay apart from)."""

    def __init__(self, papers, names, cannot):
        n = len(papers)
        self.parent = list(range(n))
        self.size = [1] * n
        self.sums: list[dict[int, float] | None] = [{} for _ in range(n)]
        self.papers = [set(p) for p in papers]
        self.names = [set(v) for v in names]
        self.members = [{k} for k in range(n)]
        self.cannot: list[set[int]] = [set() for _ in range(n)]
        for a, b in cannot:
            self.cannot[a].add(b)
            self.cannot[b].add(a)

    def root(self, item: int) -> int:
        parent = self.parent
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    def add_pair(self, a: int, b: int, value: float) -> None:
        total = self.sums[a].get(b, 0.0) + value
        self.sums[a][b] = self.sums[b][a] = total

    def average(self, a: int, b: int) -> float | None:
        total = self.sums[a].get(b)
        return None if total is None else total / (self.size[a] * self.size[b])

    def apart(self, a: int, b: int, conflict: Callable[[Hashable, Hashable], bool]) -> bool:
        small, large = sorted((a, b), key=lambda k: len(self.members[k]))
        if self.cannot[small] & self.members[large] or self.cannot[large] & self.members[small]:
            return True
        if not self.papers[a].isdisjoint(self.papers[b]):
            return True
        return any(conflict(x, y) for x in self.names[a] for y in self.names[b])

    def drop_pair(self, a: int, b: int) -> None:
        self.sums[a].pop(b, None)
        self.sums[b].pop(a, None)

    def merge(self, a: int, b: int) -> tuple[int, list[int]]:
        """Join two roots; (the surviving root, the neighbours whose sums changed)."""
        if len(self.sums[a]) < len(self.sums[b]):
            a, b = b, a
        self.parent[b] = a
        self.size[a] += self.size[b]
        kept, gone = self.sums[a], self.sums[b]
        kept.pop(b, None)
        changed = []
        for neighbour, value in gone.items():
            if neighbour == a:
                continue
            theirs = self.sums[neighbour]
            del theirs[b]
            total = kept.get(neighbour, 0.0) + value
            kept[neighbour] = theirs[a] = total
            changed.append(neighbour)
        self.sums[b] = None
        for field in (self.papers, self.names, self.members, self.cannot):
            if len(field[a]) < len(field[b]):
                field[a], field[b] = field[b], field[a]
            field[a] |= field[b]
            field[b] = set()
        return a, changed


def sparse_average_linkage(
    left: np.ndarray,
    right: np.ndarray,
    values: np.ndarray,
    threshold: float,
    *,
    papers: Sequence[Sequence[Hashable]],
    names: Sequence[Sequence[Hashable]],
    conflict: Callable[[Hashable, Hashable], bool],
    must: Sequence[tuple[int, int]] = (),
    cannot: Sequence[tuple[int, int]] = (),
) -> np.ndarray:
    """Cluster labels (0..k-1) of ``len(papers)`` profiles by average linkage at
    ``threshold`` over the pairs (left[k], right[k]) scored values[k] (finite; pairs not given
    count as 0). ``papers`` and ``names`` are each profile's papers and name variants;
    ``conflict(x, y)`` tells two name variants that are never one person."""
    clusters = _Clusters(papers, names, cannot)
    for a, b, value in zip(left.tolist(), right.tolist(), values.tolist(), strict=True):
        if a != b:
            clusters.add_pair(a, b, value)
    for a, b in must:
        a, b = clusters.root(a), clusters.root(b)
        if a != b:
            clusters.merge(a, b)
    heap = []
    for a, sums in enumerate(clusters.sums):
        if sums is None:
            continue
        for b in sums:
            if a < b:
                average = clusters.average(a, b)
                if average >= threshold:
                    heap.append((-average, a, b))
    heapq.heapify(heap)
    while heap:
        negative, a, b = heapq.heappop(heap)
        if clusters.parent[a] != a or clusters.parent[b] != b:
            continue  # one side merged since: its survivor's pairs were pushed anew
        average = clusters.average(a, b)
        if average is None:
            continue  # vetoed since
        if average != -negative:  # the clusters' sizes grew since this was pushed
            if average >= threshold:
                heapq.heappush(heap, (-average, a, b))
            continue
        if clusters.apart(a, b, conflict):
            clusters.drop_pair(a, b)
            continue
        survivor, changed = clusters.merge(a, b)
        for neighbour in changed:
            average = clusters.average(survivor, neighbour)
            if average >= threshold:
                low, high = min(survivor, neighbour), max(survivor, neighbour)
                heapq.heappush(heap, (-average, low, high))
    roots = [clusters.root(k) for k in range(len(papers))]
    return np.unique(roots, return_inverse=True)[1].astype(np.int64)
