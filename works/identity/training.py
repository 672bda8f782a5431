"""Training and evaluation helpers shared by ``bench/identity_cv.py`` and
``bench/train_identity.py``. Not used at run time.

The learners (LightGBM, scikit-learn) are imported inside the functions that
need them, so importing this module costs nothing.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from works.identity.cluster import NEVER, cluster_probabilities
from works.identity.features import FEATURE_NAMES, BlockData, pair_features
from works.identity.signature import Signature

__all__ = [
    "PreparedBlock",
    "choose_threshold",
    "fit",
    "fit_lightgbm",
    "fit_logistic",
    "load_signatures",
    "prepare_blocks",
]

SEED = 20240601


def load_signatures(path: str | Path) -> list[Signature]:
    """Signatures of a labelled JSON-lines file (``shared/identity/README.md``)."""
    with open(path, encoding="utf-8") as stream:
        return [Signature.from_record(json.loads(line)) for line in stream if line.strip()]


@dataclass
class PreparedBlock:
    """One block's signatures, all-pairs features and labels, computed once."""

    key: str
    signatures: list[Signature]
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
        block = BlockData.build(sigs)
        left, right = np.triu_indices(len(sigs), 1)
        features = pair_features(block, left, right)
        truth = np.array([s.truth for s in sigs], dtype=object)
        vetoed = (features[:, 0] == 0) | (block.paper_ids[left] == block.paper_ids[right])
        prepared.append(
            PreparedBlock(
                key, sigs, left, right, features, truth[left] == truth[right], np.asarray(vetoed)
            )
        )
    return prepared


def training_matrix(blocks: Sequence[PreparedBlock]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features, labels, weights) of the pairs the model decides (vetoed pairs left out).

    Each block weighs as much as sqrt(its pairs): the biggest blocks would
    otherwise be nearly all the training signal.
    """
    features, labels, weights = [], [], []
    for block in blocks:
        keep = ~block.vetoed
        count = int(keep.sum())
        if count == 0:
            continue
        features.append(block.features[keep])
        labels.append(block.same_person[keep])
        weights.append(np.full(count, 1.0 / np.sqrt(count)))
    weight = np.concatenate(weights)
    return np.vstack(features), np.concatenate(labels), weight * len(weight) / weight.sum()


LIGHTGBM_PARAMS = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_data_in_leaf": 50,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "seed": SEED,
    "deterministic": True,
    "force_row_wise": True,
    "num_threads": 2,
    "verbosity": -1,
}


def fit_lightgbm(
    features: np.ndarray, labels: np.ndarray, weights: np.ndarray, *, rounds: int = 300
) -> dict[str, Any]:
    import lightgbm

    dataset = lightgbm.Dataset(features, labels.astype(np.float64), weight=weights)
    booster = lightgbm.train(LIGHTGBM_PARAMS, dataset, num_boost_round=rounds)
    return {
        "learner": "lightgbm",
        "feature_names": list(FEATURE_NAMES),
        "booster": booster.model_to_string(),
    }


def fit_logistic(features: np.ndarray, labels: np.ndarray, weights: np.ndarray) -> dict[str, Any]:
    from sklearn.linear_model import LogisticRegression

    from works.identity.model import logistic_features

    missing = np.isnan(features)
    indicators = [int(k) for k in np.flatnonzero(missing.any(axis=0))]
    fill = np.nan_to_num(np.nanmedian(np.where(missing, np.nan, features), axis=0)).tolist()
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


def cluster_prepared(
    block: PreparedBlock, predictions: np.ndarray, threshold: float
) -> dict[str, str]:
    """Signature id -> predicted cluster label for one prepared block."""
    labels = cluster_probabilities(
        block_probabilities(block, predictions), block.ids, threshold=threshold
    )
    return {sid: f"{block.key}#{label}" for sid, label in zip(block.ids, labels, strict=True)}


def fit(learner: str, features, labels, weights):
    """A :class:`PairModel` of ``learner`` (threshold still to be chosen: 0.5)."""
    from works.identity.model import PairModel

    trainer = fit_lightgbm if learner == "lightgbm" else fit_logistic
    params = trainer(features, labels, weights)
    params.update(threshold=0.5, cohesion_threshold=0.5)
    return PairModel.from_dict(params)


SELECTION_GRID = tuple(round(t, 2) for t in np.arange(0.2, 0.951, 0.05))
PRECISION_FLOOR = 0.95


def choose_threshold(blocks: Sequence[PreparedBlock], *, learner: str, folds: int = 3) -> float:
    """The average-linkage cut from out-of-fold predictions on ``blocks`` alone.

    Precision first: the best B3 F1 among cuts whose B3 precision reaches
    PRECISION_FLOOR; when none does, the most precise cut.
    """
    from sklearn.model_selection import GroupKFold

    from works.identity.metrics import b_cubed

    groups = np.arange(len(blocks))
    predicted: dict[float, dict[str, str]] = {t: {} for t in SELECTION_GRID}
    truth: dict[str, str] = {}
    for train_index, test_index in GroupKFold(n_splits=folds).split(groups, groups=groups):
        model = fit(learner, *training_matrix([blocks[k] for k in train_index]))
        for k in test_index:
            block = blocks[k]
            truth.update(block.truth())
            predictions = model.predict(block.features) if len(block.features) else []
            for t in SELECTION_GRID:
                predicted[t].update(cluster_prepared(block, predictions, t))
    scores = {t: b_cubed(predicted[t], truth) for t in SELECTION_GRID}
    precise = [t for t in SELECTION_GRID if scores[t].precision >= PRECISION_FLOOR]
    if precise:
        return max(precise, key=lambda t: (scores[t].f1, t))
    return max(SELECTION_GRID, key=lambda t: (scores[t].precision, t))
