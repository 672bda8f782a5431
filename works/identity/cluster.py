"""From pairwise probabilities to people: constrained average-linkage clustering.

Within a block every pair of signatures gets P(same person) from the pairwise
model; clusters are then merged, best first, while the *average* probability
over all pairs across the two clusters stays at or above the model's
threshold. Average linkage needs many pairs to agree before two big clusters
join, which is what precision asks for; single linkage would chain two people
through one lucky pair.

Constraints, strongest first:

1. explicit must-link pairs (owner confirmations, admin merges) are merged
   before anything else and are never undone;
2. explicit cannot-link pairs ("not mine", admin splits) are never merged,
   even through third signatures; a cannot-link inside a must-link group is a
   contradiction and raises :class:`ConstraintConflict`;
3. two signatures on one paper, or with incompatible names ("Wei Wang" /
   "Wen Wang"), are never merged unless an explicit must-link says so.

Two stages: first signatures are clustered with the signature learner at a
strict cut (few, safe merges); then the resulting clusters are pooled into
profiles (all their co-authors, venues, words, years) and merged with the
cluster learner, round after round until nothing merges. Pooled evidence is what finds that a
prolific author's papers from 1995 and 2010 are one person when no pair of
them shares a co-author.

Blocks larger than ``DENSE_LIMIT`` are cut into exact components first (see
:mod:`works.identity.bigblock`) so that no block costs n² pairs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from works.identity.bigblock import component_labels
from works.identity.features import (
    SMALL_LIMIT,
    BlockData,
    BlockVocabulary,
    CoauthorResolver,
    Profile,
    merge_profiles,
    pair_scores,
    profile_of,
    small_block_features,
)
from works.identity.model import IdentityModel, PairModel, default_model
from works.identity.signature import Signature

__all__ = [
    "DENSE_LIMIT",
    "ConstraintConflict",
    "average_linkage",
    "cluster_block",
    "cluster_labels",
    "link_profiles",
    "merge_clusters",
    "probability_matrix",
]

# Above this many signatures a block is clustered through strong-evidence groups.
DENSE_LIMIT = 200
# Merge rounds of stage two, each on freshly pooled profiles, until nothing merges.
# Three rounds left clusters of one person apart whose pooled profiles the cluster
# learner scored above 0.99 (a round's average linkage is over the profiles pooled
# at its start, so a cluster that grew in it is only compared whole in the next).
MERGE_ROUNDS = 10
NEVER = -np.inf


class ConstraintConflict(ValueError):
    """Explicit must-link and cannot-link constraints contradict each other."""


class _UnionFind:
    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, item: int) -> int:
        while self.parent[item] != item:
            self.parent[item] = self.parent[self.parent[item]]
            item = self.parent[item]
        return item

    def union(self, a: int, b: int) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            self.parent[max(root_a, root_b)] = min(root_a, root_b)


def probability_matrix(
    block: BlockData, learner: PairModel, members: np.ndarray | None = None
) -> np.ndarray:
    """P(same person) between the block's profiles ``members`` (all by default),
    NEVER for vetoed pairs; rows and columns follow ``members``."""
    members = np.arange(len(block)) if members is None else np.asarray(members)
    n = len(members)
    probabilities = np.full((n, n), NEVER)
    if n < 2:
        return probabilities
    left, right = np.triu_indices(n, 1)
    predicted, vetoed = pair_scores(block, members[left], members[right], learner.predict)
    values = np.where(vetoed, NEVER, predicted)
    probabilities[left, right] = values
    probabilities[right, left] = values
    return probabilities


def average_linkage(sums: np.ndarray, weights: np.ndarray, threshold: float) -> np.ndarray:
    """Cluster labels by average linkage over weighted nodes.

    ``sums[a, b]`` is the sum of pair probabilities between the members of
    nodes a and b (NEVER forbids the merge, and stays NEVER after merges),
    ``weights[a]`` the node's number of signatures. Merging stops when the best
    average ``sums / (w_a * w_b)`` falls below ``threshold``. Each merge costs
    O(n): row maxima are cached and only rows that pointed at a merged node
    are rescanned.
    """
    return _average_linkage_in_place(np.array(sums, dtype=np.float64), weights, threshold)


def _average_linkage_in_place(sums: np.ndarray, weights: np.ndarray, threshold: float):
    """:func:`average_linkage` that uses ``sums`` (float64) as its working matrix: for a
    component of 3,000 profiles each n x n matrix is 72 MB, and a linking process's peak was
    five of them. The averages are not kept beside it: a row of them is computed again from
    ``sums`` when the row is rescanned (the same division, so the same bits and labels)."""
    n = len(weights)
    weights = np.array(weights, dtype=np.float64)
    np.fill_diagonal(sums, NEVER)
    best_col, best_val = _row_maxima(sums, weights, np.arange(n))
    labels = np.arange(n)
    alive = np.ones(n, dtype=bool)
    while n > 1:
        a = int(np.argmax(best_val))
        if not best_val[a] >= threshold:
            break
        b = int(best_col[a])
        a, b = min(a, b), max(a, b)
        labels[labels == b] = a
        _merge_rows(sums, weights, alive, a, b)
        rescan = alive & ((best_col == a) | (best_col == b))
        rescan[a] = True
        best_val[b], best_val[~alive] = NEVER, NEVER
        rows = np.flatnonzero(rescan)
        best_col[rows], best_val[rows] = _row_maxima(sums, weights, rows)
        to_a = sums[:, a] / (weights * weights[a])  # NEVER stays NEVER
        improved = alive & (to_a > best_val)
        best_col[improved] = a
        best_val[improved] = to_a[improved]
    return labels


def _row_maxima(sums: np.ndarray, weights: np.ndarray, rows: np.ndarray):
    """(column, value) of each of ``rows``' largest average ``sums / (w_row * w_col)``, the
    first one where several tie; a few rows' averages at a time."""
    columns = np.empty(len(rows), dtype=np.int64)
    values = np.empty(len(rows))
    for start in range(0, len(rows), _AVERAGE_ROWS):
        chunk = rows[start : start + _AVERAGE_ROWS]
        averages = sums[chunk]  # a copy: fancy indexing
        averages /= np.outer(weights[chunk], weights)
        best = np.argmax(averages, axis=1)
        columns[start : start + len(chunk)] = best
        values[start : start + len(chunk)] = averages[np.arange(len(chunk)), best]
    return columns, values


_AVERAGE_ROWS = 128


def _merge_rows(sums, weights, alive, a: int, b: int) -> None:
    sums[a] = sums[a] + sums[b]
    sums[:, a] = sums[a]
    sums[a, a] = NEVER
    weights[a] += weights[b]
    alive[b] = False
    sums[b] = NEVER
    sums[:, b] = NEVER


def _constraint_groups(
    ids: Sequence[str],
    must_link: Iterable[tuple[str, str]],
    cannot_link: Iterable[tuple[str, str]],
) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """(group index per signature from must-links, cannot-link index pairs)."""
    position = {sid: k for k, sid in enumerate(ids)}
    union = _UnionFind(len(ids))
    for a, b in must_link:
        if a in position and b in position:
            union.union(position[a], position[b])
    roots = [union.find(k) for k in range(len(ids))]
    renumber = {root: k for k, root in enumerate(dict.fromkeys(roots))}
    groups = np.array([renumber[r] for r in roots], dtype=np.int64)
    forbidden = []
    for a, b in cannot_link:
        if a in position and b in position:
            ga, gb = groups[position[a]], groups[position[b]]
            if ga == gb:
                raise ConstraintConflict(f"{a} and {b} are both must-linked and cannot-linked")
            forbidden.append((int(ga), int(gb)))
    return groups, forbidden


def cluster_probabilities(
    probabilities: np.ndarray,
    ids: Sequence[str],
    *,
    threshold: float,
    must_link: Iterable[tuple[str, str]] = (),
    cannot_link: Iterable[tuple[str, str]] = (),
    overwrite: bool = False,
) -> np.ndarray:
    """Labels for one block from its probability matrix and the constraints.

    ``overwrite``: the matrix (float64) is the caller's to lose, and serves as the linkage's
    working matrix instead of a copy.
    """
    groups, forbidden = _constraint_groups(ids, must_link, cannot_link)
    size = int(groups.max()) + 1 if len(groups) else 0
    if size == len(ids):
        # No must-link joined anything: every group is its signature (groups is
        # 0..n-1) and the sums below would be the probabilities themselves, so the
        # two n x n products (most of a mid-size block's linkage cost) are skipped.
        sums = probabilities if overwrite else np.array(probabilities, dtype=np.float64)
        weights = np.ones(size)
    else:
        sums, weights = _group_sums(probabilities, groups, size)
    for ga, gb in forbidden:
        sums[ga, gb] = sums[gb, ga] = NEVER
    group_labels = _average_linkage_in_place(sums, weights, threshold)
    return group_labels[groups]


def _group_sums(probabilities: np.ndarray, groups: np.ndarray, size: int):
    """(group x group sums of probabilities, NEVER where vetoed; signatures per group)."""
    membership = np.zeros((len(groups), size))
    membership[np.arange(len(groups)), groups] = 1.0
    never = np.isneginf(probabilities)
    finite = np.where(never, 0.0, probabilities)
    sums = membership.T @ finite @ membership
    # Same-paper and name vetoes inside a must-link group are overridden by it.
    vetoed = (membership.T @ never.astype(np.float64) @ membership) > 0
    sums[vetoed] = NEVER
    return sums, membership.sum(axis=0)


def link_profiles(
    profiles: Sequence[Profile],
    ids: Sequence[str],
    *,
    learner: PairModel,
    threshold: float,
    must_link: Sequence[tuple[str, str]] = (),
    cannot_link: Sequence[tuple[str, str]] = (),
    vocabulary: BlockVocabulary | None = None,
) -> np.ndarray:
    """Average linkage over ``profiles`` (ids name them in the constraints).

    All pairs up to DENSE_LIMIT profiles; above it, the exact decomposition of
    :mod:`works.identity.bigblock` into components that are each clustered
    with all their pairs. ``vocabulary``: the block's, when ``profiles`` pool its
    signatures (a merge round).
    """
    if len(profiles) <= SMALL_LIMIT:
        resolver = vocabulary.resolver if vocabulary else None
        return cluster_probabilities(
            _small_probabilities(profiles, learner, resolver),
            ids,
            threshold=threshold,
            must_link=must_link,
            cannot_link=cannot_link,
            overwrite=True,
        )
    block = BlockData.build(profiles, vocabulary)

    def cluster_matrix(members: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
        # Each caller builds the matrix for this call alone.
        return cluster_probabilities(
            probabilities,
            [ids[k] for k in members],
            threshold=threshold,
            must_link=must_link,
            cannot_link=cannot_link,
            overwrite=True,
        )

    if len(profiles) <= DENSE_LIMIT:
        everyone = np.arange(len(profiles))
        return cluster_matrix(everyone, probability_matrix(block, learner, everyone))

    position = {sid: k for k, sid in enumerate(ids)}

    def as_indexes(pairs):
        return [(position[a], position[b]) for a, b in pairs if a in position and b in position]

    return component_labels(
        block,
        learner,
        threshold,
        must=as_indexes(must_link),
        cannot=as_indexes(cannot_link),
        cluster_matrix=cluster_matrix,
        dense_limit=DENSE_LIMIT,
    )


def _small_probabilities(
    profiles: Sequence[Profile], learner: PairModel, resolver: CoauthorResolver | None = None
) -> np.ndarray:
    n = len(profiles)
    probabilities = np.full((n, n), NEVER)
    if n < 2:
        return probabilities
    left, right, features, vetoed = small_block_features(profiles, resolver)
    values = np.where(vetoed, NEVER, learner.predict(features))
    probabilities[left, right] = values
    probabilities[right, left] = values
    return probabilities


def cluster_profiles(
    profiles: Sequence[Profile],
    labels: np.ndarray,
    pooled: dict[tuple[int, ...], Profile] | None = None,
) -> tuple[list[Profile], np.ndarray]:
    """One pooled profile per cluster, and each item's cluster index (0..k-1).

    ``pooled`` holds the profiles pooled in the round before by their members' indexes,
    and is left holding this round's: a cluster the last round did not change is the same
    object again, with the token counts it cached.
    """
    _, index = np.unique(labels, return_inverse=True)
    members: list[list[int]] = [[] for _ in range(int(index.max()) + 1)] if len(index) else []
    for k, cluster in enumerate(index.tolist()):
        members[cluster].append(k)
    earlier = pooled.copy() if pooled is not None else {}
    if pooled is not None:
        pooled.clear()  # only this round's clusters are kept for the next
    out = []
    for cluster in members:
        key = tuple(cluster)
        profile = earlier.get(key)
        if profile is None:
            profile = merge_profiles([profiles[k] for k in cluster])
        if pooled is not None:
            pooled[key] = profile
        out.append(profile)
    return out, index


def merge_clusters(
    profiles: Sequence[Profile],
    labels: np.ndarray,
    *,
    learner: PairModel,
    threshold: float,
    forbidden: Sequence[tuple[int, int]] = (),
    rounds: int = MERGE_ROUNDS,
    vocabulary: BlockVocabulary | None = None,
) -> np.ndarray:
    """Stage two: merge first-stage clusters by comparing their pooled profiles.

    Each round pools every cluster into one profile, scores cluster pairs with
    the cluster learner and runs average linkage over the clusters; rounds
    repeat (with freshly pooled profiles) until nothing merges. ``forbidden``
    holds item index pairs that must stay apart. ``vocabulary``: the block's (by default
    worked out from ``profiles``), shared by every round.
    """
    vocabulary = vocabulary or BlockVocabulary(CoauthorResolver(profiles))
    labels = np.unique(labels, return_inverse=True)[1]
    kept: dict[tuple[int, ...], Profile] = {}
    for _ in range(rounds):
        pooled, index = cluster_profiles(profiles, labels, kept)
        if len(pooled) < 2:
            break
        vocabulary.retain(pooled)
        cannot = {(f"c{index[a]}", f"c{index[b]}") for a, b in forbidden}
        merged = link_profiles(
            pooled,
            [f"c{k}" for k in range(len(pooled))],
            learner=learner,
            threshold=threshold,
            cannot_link=sorted(cannot),
            vocabulary=vocabulary,
        )
        if len(np.unique(merged)) == len(pooled):
            break
        labels = np.unique(merged[index], return_inverse=True)[1]
    return labels


def cluster_labels(
    signatures: Sequence[Signature],
    model: IdentityModel,
    *,
    must_link: Iterable[tuple[str, str]] = (),
    cannot_link: Iterable[tuple[str, str]] = (),
    threshold: float | None = None,
    merge_threshold: float | None = None,
    name_count: int | None = None,
) -> np.ndarray:
    """Cluster index per signature (all must be persons): both stages.

    ``name_count`` is how many signatures the block holds in the whole corpus
    (the name's commonness); by default the signatures given are the block.
    """
    ids = [s.signature_id for s in signatures]
    must_link, cannot_link = list(must_link), list(cannot_link)
    count = len(signatures) if name_count is None else name_count
    profiles = [profile_of(s, count) for s in signatures]
    vocabulary = BlockVocabulary(CoauthorResolver(profiles))
    first = link_profiles(
        profiles,
        ids,
        learner=model.signatures,
        threshold=model.threshold if threshold is None else threshold,
        must_link=must_link,
        cannot_link=cannot_link,
        vocabulary=vocabulary,
    )
    position = {sid: k for k, sid in enumerate(ids)}
    forbidden = [
        (position[a], position[b]) for a, b in cannot_link if a in position and b in position
    ]
    return merge_clusters(
        profiles,
        first,
        learner=model.clusters,
        threshold=model.merge_threshold if merge_threshold is None else merge_threshold,
        forbidden=forbidden,
        vocabulary=vocabulary,
    )


def cluster_block(
    signatures: Sequence[Signature],
    *,
    must_link: Iterable[tuple[str, str]] = (),
    cannot_link: Iterable[tuple[str, str]] = (),
    model: IdentityModel | None = None,
    name_count: int | None = None,
) -> list[list[str]]:
    """The people in one block, as lists of signature ids (largest first).

    ``signatures`` should share a block key (:func:`works.identity.names.block_key`);
    signatures whose name is not a person come back as singletons.
    ``must_link``/``cannot_link`` are pairs of signature ids; pairs naming a
    signature outside this block are ignored. ``name_count``: the block's
    signatures in the whole corpus, when more than those given.
    """
    model = model or default_model()
    people = [s for s in signatures if s.name is not None]
    others = [[s.signature_id] for s in signatures if s.name is None]
    if len(people) == 1:  # most blocks of a corpus: nothing to decide
        return [[people[0].signature_id], *others]
    labels = cluster_labels(
        people, model, must_link=must_link, cannot_link=cannot_link, name_count=name_count
    )
    return _as_clusters(people, labels) + others


def _as_clusters(signatures: Sequence[Signature], labels: np.ndarray) -> list[list[str]]:
    clusters: dict[int, list[str]] = {}
    for signature, label in zip(signatures, labels, strict=True):
        clusters.setdefault(int(label), []).append(signature.signature_id)
    return sorted(clusters.values(), key=len, reverse=True)
