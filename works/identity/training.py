"""Training and evaluation helpers shared by ``bench/identity_cv.py`` and
``bench/train_identity.py``. Not used at run time.

The learners (LightGBM, scikit-learn) are imported inside the functions that
need them, so importing this module costs nothing.
"""

from __future__ import annotations

import json
import warnings
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from works.identity.cluster import NEVER, cluster_probabilities, cluster_profiles, merge_clusters
from works.identity.features import (
    FEATURE_NAMES,
    BlockData,
    Profile,
    pair_features,
    profile_of,
    vetoed_pairs,
)
from works.identity.metrics import b_cubed
from works.identity.model import IdentityModel, PairModel, logistic_features
from works.identity.signature import Signature

__all__ = [
    "PreparedBlock",
    "fit",
    "train_model",
    "fit_lightgbm",
    "fit_logistic",
    "load_signatures",
    "prepare_blocks",
    "rare_name_signatures",
]

SEED = 20240601


def load_signatures(path: str | Path) -> list[Signature]:
    """Signatures of a labelled JSON-lines file (``shared/identity/README.md``)."""
    with open(path, encoding="utf-8-sig") as stream:
        return [Signature.from_record(json.loads(line)) for line in stream if line.strip()]


@dataclass
class PreparedBlock:
    """One block's signatures, all-pairs features and labels, computed once."""

    key: str
    signatures: list[Signature]
    profiles: list[Profile]
    left: np.ndarray
    right: np.ndarray
    features: np.ndarray
    same_person: np.ndarray  # bool per pair, from the labels
    vetoed: np.ndarray  # same paper or incompatible names: never merged

    @property
    def ids(self) -> list[str]:
        return [s.signature_id for s in self.signatures]

    def truth(self) -> dict[str, str]:
        return {s.signature_id: s.truth for s in self.signatures}


def group_by_block(signatures: Iterable[Signature]) -> dict[str, list[Signature]]:
    blocks: dict[str, list[Signature]] = defaultdict(list)
    for signature in signatures:
        blocks[signature.block_key or f"not-a-person:{signature.signature_id}"].append(signature)
    return dict(blocks)


def prepare_blocks(signatures: Iterable[Signature]) -> list[PreparedBlock]:
    prepared = []
    for key, sigs in sorted(group_by_block(signatures).items()):
        profiles = [profile_of(s, len(sigs)) for s in sigs]
        block = BlockData.build(profiles)
        left, right = np.triu_indices(len(sigs), 1)
        features = pair_features(block, left, right)
        truth = np.array([s.truth for s in sigs], dtype=object)
        vetoed = vetoed_pairs(block, left, right, levels=features[:, 0])
        prepared.append(
            PreparedBlock(
                key, sigs, profiles, left, right, features, truth[left] == truth[right], vetoed
            )
        )
    return prepared


# --------------------------------------------------------------------------
# Rare names. Every AMiner block is a name chosen for being shared by several
# people, so the file alone teaches that an identical full name means little.
# On arXiv most names are rare. Synthetic blocks show the learners rare names:
# the people of the training blocks, renamed to invented names that no other
# block has, their evidence (co-authors, words, venues, years) untouched. An
# invented name is given to one person mostly and sometimes to two or three:
# that share is the assumption the prior rests on (a rare name still has
# namesakes now and then), and it is what keeps identical rare names from
# merging on no evidence at all.
# --------------------------------------------------------------------------

RARE_NAME_PEOPLE = {1: 0.9, 2: 0.08, 3: 0.02}
# One invented given name per initial: none is a surname or pinyin-like.
_INVENTED_GIVEN = [
    "Anselm",
    "Berit",
    "Corvin",
    "Dorian",
    "Elke",
    "Fenna",
    "Gideon",
    "Hallam",
    "Ivor",
    "Jorund",
    "Kasimir",
    "Linnea",
    "Mattias",
    "Nerys",
    "Oswin",
    "Perrin",
    "Quillon",
    "Rosalind",
    "Soren",
    "Tamsin",
    "Ulric",
    "Vesna",
    "Wendel",
    "Xaver",
    "Yorick",
    "Zelda",
]
_SURNAME_STEMS = ("Varn", "Quell", "Brask", "Thorv", "Kelm", "Drev", "Morsk", "Plin")


def _invented_surname(number: int) -> str:
    letters = ""
    while True:
        number, rest = divmod(number, 26)
        letters += "abcdefghijklmnopqrstuvwxyz"[rest]
        if number == 0:
            break
    return _SURNAME_STEMS[len(letters) % len(_SURNAME_STEMS)] + letters + "ov"


def rare_name_signatures(
    signatures: Iterable[Signature], *, seed: int = SEED, start: int = 0
) -> list[Signature]:
    """The labelled people of ``signatures`` under invented rare names (see above).

    Each person keeps all their signatures; printings with a full given name
    get the invented full name, printings with initials its initial. Names are
    numbered from ``start`` so that separate calls never share a name.
    """
    people: dict[str, list[Signature]] = defaultdict(list)
    for signature in signatures:
        if signature.name is not None and signature.truth is not None:
            people[signature.truth].append(signature)
    sampler = np.random.default_rng(seed)
    order = [sorted(people)[k] for k in sampler.permutation(len(people))]
    sizes, shares = list(RARE_NAME_PEOPLE), list(RARE_NAME_PEOPLE.values())
    renamed: list[Signature] = []
    taken, number = 0, start
    while taken < len(order):
        group = order[taken : taken + int(sampler.choice(sizes, p=shares))]
        taken += len(group)
        given = _INVENTED_GIVEN[number % len(_INVENTED_GIVEN)]
        surname = _invented_surname(number)
        for truth in group:
            for signature in people[truth]:
                printed = f"{given if signature.name.first_name else given[0] + '.'} {surname}"
                renamed.append(
                    replace(
                        signature,
                        signature_id=f"rare{number}:{signature.signature_id}",
                        author=printed,
                    )
                )
        number += 1
    return renamed


MAX_PAIRS_PER_BLOCK = 4000


def training_matrix(
    blocks: Sequence[PreparedBlock], *, max_pairs: int = MAX_PAIRS_PER_BLOCK
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features, labels, weights) of the pairs the model decides (vetoed pairs left out).

    A block gives at most ``max_pairs`` pairs (a seeded sample) and weighs as
    much as sqrt(its pairs): the biggest blocks would otherwise be nearly all
    the training signal, and training time grows with them.
    """
    features, labels, weights = [], [], []
    sampler = np.random.default_rng(SEED)
    for block in blocks:
        keep = np.flatnonzero(~block.vetoed)
        count = len(keep)
        if count == 0:
            continue
        if count > max_pairs:
            keep = np.sort(sampler.choice(keep, max_pairs, replace=False))
        features.append(block.features[keep])
        labels.append(block.same_person[keep])
        weights.append(np.full(len(keep), np.sqrt(count) / len(keep)))
    weight = np.concatenate(weights)
    return np.vstack(features), np.concatenate(labels), weight * len(weight) / weight.sum()


LIGHTGBM_PARAMS = {
    "objective": "binary",
    "learning_rate": 0.1,
    "num_leaves": 31,
    "max_bin": 63,
    "min_data_in_leaf": 50,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "seed": SEED,
    "deterministic": True,
    "force_row_wise": True,
    "num_threads": 1,
    "verbosity": -1,
}


def fit_lightgbm(
    features: np.ndarray, labels: np.ndarray, weights: np.ndarray, *, rounds: int = 150
) -> dict[str, Any]:
    import lightgbm  # lazily: see the module docstring

    dataset = lightgbm.Dataset(features, labels.astype(np.float64), weight=weights)
    booster = lightgbm.train(LIGHTGBM_PARAMS, dataset, num_boost_round=rounds)
    return {
        "learner": "lightgbm",
        "feature_names": list(FEATURE_NAMES),
        "booster": booster.model_to_string(),
    }


def fit_logistic(features: np.ndarray, labels: np.ndarray, weights: np.ndarray) -> dict[str, Any]:
    from sklearn.linear_model import LogisticRegression  # lazily: see the module docstring

    missing = np.isnan(features)
    indicators = [int(k) for k in np.flatnonzero(missing.any(axis=0))]
    with warnings.catch_warnings():  # a feature missing everywhere (abstracts) fills with 0
        warnings.simplefilter("ignore", RuntimeWarning)
        fill = np.nan_to_num(np.nanmedian(features, axis=0)).tolist()
    params: dict[str, Any] = {"fill": fill, "indicators": indicators}
    raw = np.hstack([np.where(missing, np.asarray(fill), features), missing[:, indicators]])
    params["mean"] = raw.mean(axis=0).tolist()
    params["scale"] = np.where(raw.std(axis=0) > 0, raw.std(axis=0), 1.0).tolist()
    design = logistic_features(params, features)
    learner = LogisticRegression(C=1.0, max_iter=2000, random_state=SEED)
    learner.fit(design, labels, sample_weight=weights)
    params.update(
        learner="logistic",
        feature_names=list(FEATURE_NAMES),
        coef=learner.coef_[0].tolist(),
        intercept=float(learner.intercept_[0]),
    )
    return params


def block_probabilities(block: PreparedBlock, predictions: np.ndarray) -> np.ndarray:
    """The n x n matrix :func:`cluster_probabilities` takes, from pair predictions."""
    n = len(block.signatures)
    matrix = np.full((n, n), NEVER)
    values = np.where(block.vetoed, NEVER, predictions)
    matrix[block.left, block.right] = values
    matrix[block.right, block.left] = values
    return matrix


def first_stage(block: PreparedBlock, learner, threshold: float) -> np.ndarray:
    predictions = learner.predict(block.features) if len(block.features) else np.zeros(0)
    return cluster_probabilities(
        block_probabilities(block, predictions), block.ids, threshold=threshold
    )


def fit(learner: str, features, labels, weights):
    """A :class:`PairModel` of ``learner``."""
    trainer = fit_lightgbm if learner == "lightgbm" else fit_logistic
    return PairModel.from_dict(trainer(features, labels, weights))


def _majority(labels: Sequence[str]) -> str:
    values, counts = np.unique(np.asarray(labels, dtype=object).astype(str), return_counts=True)
    return str(values[np.argmax(counts)])


def cluster_pair_matrix(block: PreparedBlock, first_labels: np.ndarray):
    """Stage-two training rows of one block: (features, same person, weights)."""
    pooled, index = cluster_profiles(block.profiles, first_labels)
    if len(pooled) < 2:
        return None
    truths = [[] for _ in pooled]
    for signature, k in zip(block.signatures, index, strict=True):
        truths[k].append(signature.truth)
    majority = np.array([_majority(t) for t in truths], dtype=object)
    data = BlockData.build(pooled)
    left, right = np.triu_indices(len(pooled), 1)
    features = pair_features(data, left, right)
    keep = ~vetoed_pairs(data, left, right, levels=features[:, 0])
    # A wrong merge of two big clusters costs B-cubed precision on all their
    # signatures: pairs weigh by the geometric mean of the cluster sizes.
    sizes = data.sizes
    weights = np.sqrt(sizes[left] * sizes[right])[keep]
    return features[keep], (majority[left] == majority[right])[keep], weights


def stage_two_matrix(blocks, first_labels):
    features, labels, weights = [], [], []
    for block, labels_one in zip(blocks, first_labels, strict=True):
        rows = cluster_pair_matrix(block, labels_one)
        if rows is None or not len(rows[0]):
            continue
        features.append(rows[0])
        labels.append(rows[1])
        weights.append(rows[2] / rows[2].sum() * np.sqrt(len(rows[1])))
    weight = np.concatenate(weights)
    return np.vstack(features), np.concatenate(labels), weight * len(weight) / weight.sum()


def cluster_prepared(block: PreparedBlock, model, threshold=None, merge_threshold=None):
    """Signature id -> predicted cluster label for one prepared block, both stages."""
    first = first_stage(
        block, model.signatures, model.threshold if threshold is None else threshold
    )
    labels = merge_clusters(
        block.profiles,
        first,
        learner=model.clusters,
        threshold=model.merge_threshold if merge_threshold is None else merge_threshold,
    )
    return {sid: f"{block.key}#{label}" for sid, label in zip(block.ids, labels, strict=True)}


SELECTION_GRID = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.97)
PRECISION_FLOOR = 0.95
FIRST_STAGE_THRESHOLD = 0.9
# cohesion() re-clusters with the merge threshold raised by this much.
COHESION_MARGIN = 0.02


def _inner_folds(blocks, folds: int):
    from sklearn.model_selection import GroupKFold  # lazily: see the module docstring

    groups = np.arange(len(blocks))
    return list(GroupKFold(n_splits=folds).split(groups, groups=groups))


def _f_half(score) -> float:
    """F0.5: precision weighs twice as much as recall."""
    total = 0.25 * score.precision + score.recall
    return 1.25 * score.precision * score.recall / total if total else 0.0


def choose(scores: dict) -> float:
    """Precision first: the best B3 F1 among cuts reaching PRECISION_FLOOR; when no
    cut reaches it, the best F0.5 (not simply the most precise cut, which would
    give away any amount of recall for a last point of precision)."""
    precise = [t for t, s in scores.items() if s.precision >= PRECISION_FLOOR]
    if precise:
        return max(precise, key=lambda t: (scores[t].f1, t))
    return max(scores, key=lambda t: (_f_half(scores[t]), t))


def _with_rare_names(blocks, splits, rare_names: bool):
    """``blocks`` plus each inner fold's rare-name blocks, and the splits over both."""
    if not rare_names:
        return blocks, splits
    fold_of = np.zeros(len(blocks), dtype=np.int64)
    start = 0
    for fold, (_, test_index) in enumerate(splits):
        fold_of[test_index] = fold
        people = [s for k in test_index for s in blocks[k].signatures]
        extra = prepare_blocks(rare_name_signatures(people, seed=SEED + fold, start=start))
        start += len(extra)
        blocks += extra
        fold_of = np.concatenate([fold_of, np.full(len(extra), fold)])
    everything = np.arange(len(blocks))
    return blocks, [
        (everything[fold_of != fold], everything[fold_of == fold]) for fold in range(len(splits))
    ]


def train_model(
    blocks: Sequence[PreparedBlock],
    *,
    learner: str = "lightgbm",
    threshold: float = FIRST_STAGE_THRESHOLD,
    inner_folds: int = 3,
    rare_names: bool = True,
):
    """Both learners and the merge threshold, from ``blocks`` alone.

    The cluster learner is trained on first-stage clusters that the signature
    learner made on blocks it had not seen (inner folds), so it learns from
    clusters as imperfect as the ones it will meet. The merge threshold is
    chosen the same way, out of fold. With ``rare_names`` both learners also
    learn from rare-name blocks made of the training blocks' people, each inner
    fold's from its own blocks (so the inner folds stay apart).
    """
    real = len(blocks)
    reads_abstracts = any(s.abstract for block in blocks for s in block.signatures)
    blocks, splits = _with_rare_names(list(blocks), _inner_folds(blocks, inner_folds), rare_names)
    signatures_learner = fit(learner, *training_matrix(blocks))
    first_labels: list = [None] * len(blocks)
    for train_index, test_index in splits:
        inner = fit(learner, *training_matrix([blocks[k] for k in train_index]))
        for k in test_index:
            first_labels[k] = first_stage(blocks[k], inner, threshold)
    predicted = {t: {} for t in SELECTION_GRID}
    truth: dict[str, str] = {}
    for train_index, test_index in splits:
        inner = fit(
            learner,
            *stage_two_matrix(
                [blocks[k] for k in train_index], [first_labels[k] for k in train_index]
            ),
        )
        # The merge threshold is chosen on the real blocks only: precision first on
        # names known to be shared.
        for k in test_index[test_index < real]:
            block = blocks[k]
            truth.update(block.truth())
            for t in SELECTION_GRID:
                labels = merge_clusters(block.profiles, first_labels[k], learner=inner, threshold=t)
                predicted[t].update(
                    {sid: f"{block.key}#{x}" for sid, x in zip(block.ids, labels, strict=True)}
                )
    scores = {t: b_cubed(predicted[t], truth) for t in SELECTION_GRID}
    merge_threshold = choose(scores)
    clusters_learner = fit(learner, *stage_two_matrix(blocks, first_labels))
    return IdentityModel(
        signatures=signatures_learner,
        clusters=clusters_learner,
        threshold=threshold,
        merge_threshold=merge_threshold,
        cohesion_threshold=min(0.99, merge_threshold + COHESION_MARGIN),
        reads_abstracts=reads_abstracts,
    ), scores
