"""Clustering a block too big for all pairs (``DENSE_LIMIT`` profiles and more).

Average linkage at threshold t can only join two clusters when at least one
pair between them has P >= t (an average never exceeds its maximum). So the
clusters of a block are unions inside the connected components of the graph
of pairs with P >= t, and a big block can be cut into those components and
each clustered exactly, with all its pairs, on its own.

The components need the pairs with P >= t, found without scoring all pairs:
candidates are pairs that share a co-author, and each profile's nearest
neighbours by a pooled TF-IDF of its words, venues/categories, affiliations and
co-authors (but not the co-authors two collaboration profiles share: no evidence for
``pair_features`` either). A pair outside the candidates is taken as below t; that is the one
approximation, and it can only split a person, never join two.

A component still bigger than ``DENSE_LIMIT`` is cut again with a stricter edge
threshold; one that stays too big at 0.99 is clustered by average linkage over
its candidate pairs alone, the others counting as 0 (which, again, can only
split): keeping it whole would be single linkage, where one strong pair chains
two people. Beyond ``SPARSE_LIMIT`` profiles that linkage runs over the pairs as a
graph (:mod:`works.identity.sparse_linkage`), with the vetoes checked between whole
clusters: a million-record load's "greco s" block made one component of 6,255
signatures at 0.99, which was kept whole, "Stefan Greco" and "Sofia A. Greco" in one record.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from works.identity.features import BlockData, compatibility, pair_scores, vetoed_within
from works.identity.names import NAME_CONFLICT
from works.identity.sparse_linkage import sparse_average_linkage

__all__ = ["candidate_pairs", "component_labels"]

NEIGHBOURS = 10
# A co-author key shared by more profiles than this ("y zhang") proposes too many
# pairs to be a useful candidate source; it still counts as a feature.
MAX_COAUTHOR_FREQUENCY = 300
# Rows whose similarities to every profile are held densely at once: for a million-record
# load's largest block (6,576 profiles), 512 rows took 27 MB an array, several arrays at once,
# and set its linking process's peak; 128 rows cost no measurable time.
ROWS_PER_CHUNK = 128
# Above this many profiles an n x n matrix of a component is too big to hold: it is clustered
# as a graph of its candidate pairs.
SPARSE_LIMIT = 3000


def _coauthor_pairs(block: BlockData) -> sparse.coo_matrix:
    coauthors = block.coauthors
    frequency = np.bincount(coauthors.indices, minlength=coauthors.shape[1])
    keep = sparse.diags((frequency <= MAX_COAUTHOR_FREQUENCY).astype(np.float64))
    filtered = sparse.csr_matrix(coauthors @ keep)
    return sparse.triu(filtered @ filtered.T, k=1).tocoo()


def _neighbour_pairs(block: BlockData, neighbours: int) -> tuple[np.ndarray, np.ndarray]:
    n = len(block)
    k = min(neighbours, n - 1)
    lefts, rights = [], []
    similarities = (
        _similarities(block)
        if np.count_nonzero(block.collaboration_only) < 2
        else _similarities_apart_from_collaborations(block)
    )
    for start, similarity in similarities:
        rows = np.arange(similarity.shape[0])
        similarity[rows, rows + start] = -1.0
        nearest = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
        found = similarity[rows[:, None], nearest] > 0
        lefts.append(np.repeat(rows + start, k)[found.ravel()])
        rights.append(nearest.ravel()[found.ravel()])
    return np.concatenate(lefts), np.concatenate(rights)


def _similarities(block: BlockData) -> Iterator[tuple[int, np.ndarray]]:
    """(first row, dense similarities of ROWS_PER_CHUNK rows to every row), chunk by chunk:
    the pooled TF-IDF of words, venues/categories, affiliations and co-authors."""
    pooled = sparse.hstack(
        [block.text, 0.7 * block.where, 0.5 * block.affiliation, block.coauthors_tfidf]
    ).tocsr()
    transposed = pooled.T.tocsc()
    for start in range(0, len(block), ROWS_PER_CHUNK):
        yield start, (pooled[start : start + ROWS_PER_CHUNK] @ transposed).toarray()


def _similarities_apart_from_collaborations(block: BlockData) -> Iterator[tuple[int, np.ndarray]]:
    """:func:`_similarities` without what two collaboration profiles share of their co-authors.

    That share is no evidence (``pair_features`` gives such pairs none), and it is what costs:
    the members of one 3,000-author team share every co-author column, and the chunks were
    dense products of 3,000-entry rows. Co-authors still count between a collaboration's
    profile and any other. (The sums run in another order than the pooled product's.)
    """
    words = sparse.hstack([block.text, 0.7 * block.where, 0.5 * block.affiliation]).tocsr()
    words_transposed = words.T.tocsc()
    coauthors = block.coauthors_tfidf
    collaboration = block.collaboration_only
    others = np.flatnonzero(~collaboration)
    to_everyone = coauthors.T.tocsc()
    to_others = coauthors[others].T.tocsc()
    for start in range(0, len(block), ROWS_PER_CHUNK):
        chunk = np.arange(start, min(start + ROWS_PER_CHUNK, len(block)))
        similarity = (words[chunk] @ words_transposed).toarray()
        apart = collaboration[chunk]
        if not apart.all():
            similarity[~apart] += (coauthors[chunk[~apart]] @ to_everyone).toarray()
        if apart.any() and len(others):
            similarity[np.ix_(apart, others)] += (coauthors[chunk[apart]] @ to_others).toarray()
        yield start, similarity


def candidate_pairs(
    block: BlockData, neighbours: int = NEIGHBOURS
) -> tuple[np.ndarray, np.ndarray]:
    """(left, right) with left < right: pairs sharing a co-author, and nearest neighbours."""
    shared = _coauthor_pairs(block)
    near_left, near_right = _neighbour_pairs(block, neighbours)
    left = np.concatenate([shared.row, np.minimum(near_left, near_right)]).astype(np.int64)
    right = np.concatenate([shared.col, np.maximum(near_left, near_right)]).astype(np.int64)
    # One integer per pair sorts as the pairs do (right < n), and np.unique of integers is
    # several times quicker than of rows (axis=0 sorts them as opaque records).
    n = max(len(block), 1)
    left, right = np.divmod(np.unique(left * n + right), n)
    distinct = left != right
    return left[distinct], right[distinct]


def _components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    graph = sparse.coo_matrix((np.ones(len(left)), (left, right)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def component_labels(
    block: BlockData,
    learner,
    threshold: float,
    *,
    must: Sequence[tuple[int, int]],
    cannot: Sequence[tuple[int, int]] = (),
    cluster_matrix,
    dense_limit: int,
) -> np.ndarray:
    """Labels for a big block: components of the P >= threshold graph, each clustered
    by ``cluster_matrix(members, probabilities)`` with all its pairs scored (those beyond
    SPARSE_LIMIT over their candidate pairs, with ``must`` and ``cannot`` as index pairs)."""
    n = len(block)
    left, right = candidate_pairs(block)
    predicted, vetoed = pair_scores(block, left, right, learner.predict)
    probabilities = np.where(vetoed, 0.0, predicted)
    must_left = np.array([a for a, _ in must], dtype=np.int64)
    must_right = np.array([b for _, b in must], dtype=np.int64)
    parts: list[np.ndarray] = []
    pending = [(np.arange(n), threshold)]
    while pending:
        members, edge_threshold = pending.pop()
        inside = np.zeros(n, dtype=bool)
        inside[members] = True
        strong = (probabilities >= edge_threshold) & inside[left] & inside[right]
        component = _components(
            n,
            np.concatenate([left[strong], must_left]),
            np.concatenate([right[strong], must_right]),
        )[members]
        for value in np.unique(component):
            part = members[component == value]
            if len(part) > dense_limit and edge_threshold < 0.99:
                pending.append((part, min(0.99, edge_threshold + 0.05)))
            else:
                parts.append(part)
    candidates = (left, right, np.where(vetoed, -np.inf, probabilities))
    graph = _Graph(block, threshold, candidates, must, cannot)
    return _cluster_parts(block, learner, parts, cluster_matrix, dense_limit, graph)


class _Graph:
    """A block's candidate pairs and constraints, for the parts too big for all their pairs."""

    def __init__(self, block, threshold, candidates, must, cannot):
        self.block, self.threshold, self.candidates = block, threshold, candidates
        self.must, self.cannot = must, cannot

    def inside(self, part: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The part's candidate pairs, numbered within it, and their values."""
        left, right, values = self.candidates
        local = np.full(len(self.block), -1)
        local[part] = np.arange(len(part))
        inside = (local[left] >= 0) & (local[right] >= 0)
        return local[left[inside]], local[right[inside]], values[inside]

    def linkage(self, part: np.ndarray) -> np.ndarray:
        """Average linkage over the part's candidate pairs as a graph."""
        i, j, values = self.inside(part)
        finite = np.isfinite(values)  # vetoes are checked between whole clusters
        local = {k: n for n, k in enumerate(part.tolist())}

        def within(pairs):
            return [(local[a], local[b]) for a, b in pairs if a in local and b in local]

        profiles = [self.block.profiles[k] for k in part.tolist()]
        return sparse_average_linkage(
            i[finite],
            j[finite],
            values[finite],
            self.threshold,
            papers=[p.paper_ids for p in profiles],
            names=[p.names for p in profiles],
            conflict=lambda x, y: compatibility(x, y) == NAME_CONFLICT,
            must=within(self.must),
            cannot=within(self.cannot),
        )


def _candidate_matrix(part: np.ndarray, graph: _Graph) -> np.ndarray:
    """A too-big part's probabilities: its candidate pairs, 0 for every other pair, and
    NEVER for every vetoed pair, candidate or not (as a part clustered with all its pairs
    has them): a 0 between "Stefan Greco" and "Sofia Greco" could let an average join them."""
    i, j, values = graph.inside(part)
    matrix = np.zeros((len(part), len(part)))
    matrix[i, j] = matrix[j, i] = values
    matrix[vetoed_within(graph.block, part)] = -np.inf
    np.fill_diagonal(matrix, -np.inf)
    return matrix


def _cluster_parts(block, learner, parts, cluster_matrix, dense_limit, graph) -> np.ndarray:
    """All pairs inside every part scored in one batch, then each part clustered."""
    labels = np.full(len(block), -1, dtype=np.int64)
    scored = [p for p in parts if 1 < len(p) <= dense_limit]
    local = [np.triu_indices(len(p), 1) for p in scored]
    if scored:
        left = np.concatenate([p[i] for p, (i, _) in zip(scored, local, strict=True)])
        right = np.concatenate([p[j] for p, (_, j) in zip(scored, local, strict=True)])
        predicted, vetoed = pair_scores(block, left, right, learner.predict)
        values = np.where(vetoed, -np.inf, predicted)
        offsets = np.cumsum([0] + [len(i) for i, _ in local])
    next_label = 0
    for part in parts:
        if len(part) == 1:
            part_labels = np.zeros(1, dtype=np.int64)
        elif len(part) > SPARSE_LIMIT:
            part_labels = graph.linkage(part)
        elif len(part) > dense_limit:
            part_labels = cluster_matrix(part, _candidate_matrix(part, graph))
        else:
            k = _position(scored, part)
            i, j = local[k]
            matrix = np.full((len(part), len(part)), -np.inf)
            matrix[i, j] = matrix[j, i] = values[offsets[k] : offsets[k + 1]]
            part_labels = cluster_matrix(part, matrix)
        labels[part] = part_labels + next_label
        next_label += int(part_labels.max()) + 1
    return labels


def _position(scored: list[np.ndarray], part: np.ndarray) -> int:
    for k, candidate in enumerate(scored):
        if candidate is part:
            return k
    raise ValueError("part not scored")
