r"""The pairwise models: P(two signatures, or two clusters, of one block are one person).

:class:`IdentityModel` holds two :class:`PairModel`\ s that share the features of
:mod:`works.identity.features`: ``signatures`` compares single signatures (the
first, precise clustering stage) and ``clusters`` compares the pooled profiles
of the clusters that stage made (the merging stage). It is shipped as
``pairwise_model.json`` beside this module, written by ``bench/train_identity.py``.

Two learners share one format:

* ``"lightgbm"``: the booster's text model under ``"booster"`` (read by
  LightGBM, which then is a run-time dependency);
* ``"logistic"``: standardised logistic regression, pure numpy: ``"coef"``,
  ``"intercept"``, ``"mean"``, ``"scale"``, ``"fill"`` (the value a missing
  feature takes) and missing-value indicator columns for ``"indicators"``.

Each carries ``"feature_names"`` (checked against :data:`FEATURE_NAMES`). The
file adds ``"threshold"`` (stage one's average-linkage cut), ``"merge_threshold"``
(stage two's), ``"cohesion_threshold"`` (see :func:`works.identity.cohesion`) and
``"reads_abstracts"`` (whether signatures keep their abstracts for this model).
No training happens at run time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from works.identity.features import FEATURE_NAMES

__all__ = ["DEFAULT_MODEL_PATH", "IdentityModel", "PairModel", "default_model"]

DEFAULT_MODEL_PATH = Path(__file__).with_name("pairwise_model.json")


# Rows predicted at a time: the logistic learner's input is several float64 copies of its rows
# (filled, indicators, standardised), about 260 MB each for the million candidate pairs of a
# million-record load's largest block. 2**14 rows rather than 2**16: a 1,000-signature block's
# linking process peaked at 243 MB instead of 262, in the same CPU time.
PREDICT_CHUNK_ROWS = 1 << 14


@dataclass
class PairModel:
    """One loaded pairwise learner."""

    learner: str
    params: dict[str, Any] = field(repr=False)
    _booster: Any = field(default=None, repr=False)

    def predict(self, features: np.ndarray) -> np.ndarray:
        """P(same person) for each row of a ``pair_features`` matrix."""
        if len(features) == 0:
            return np.zeros(0)
        if len(features) > PREDICT_CHUNK_ROWS:
            return np.concatenate(
                [
                    self.predict(features[start : start + PREDICT_CHUNK_ROWS])
                    for start in range(0, len(features), PREDICT_CHUNK_ROWS)
                ]
            )
        if self.learner == "lightgbm":
            return self._lightgbm().predict(features, num_threads=1)
        return _logistic_predict(self.params, features)

    def _lightgbm(self):
        if self._booster is None:
            import lightgbm  # only this learner needs it

            self._booster = lightgbm.Booster(model_str=self.params["booster"])
        return self._booster

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PairModel:
        if tuple(data["feature_names"]) != FEATURE_NAMES:
            raise ValueError("model was trained on other features; retrain it")
        return cls(learner=data["learner"], params=data)


@dataclass
class IdentityModel:
    """The two pairwise learners and the thresholds chosen with them."""

    signatures: PairModel
    clusters: PairModel
    threshold: float
    merge_threshold: float
    cohesion_threshold: float
    # Whether the training data had abstracts. Without them the learners never saw an abstract:
    # ``text_cos`` was learnt as a title similarity, and an abstract would shift it (same-field
    # abstracts share words) where no label ever checked the shift; such a model reads titles.
    reads_abstracts: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": 1,
            "threshold": self.threshold,
            "merge_threshold": self.merge_threshold,
            "cohesion_threshold": self.cohesion_threshold,
            "reads_abstracts": self.reads_abstracts,
            "signatures": self.signatures.params,
            "clusters": self.clusters.params,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IdentityModel:
        return cls(
            signatures=PairModel.from_dict(data["signatures"]),
            clusters=PairModel.from_dict(data["clusters"]),
            threshold=float(data["threshold"]),
            merge_threshold=float(data["merge_threshold"]),
            cohesion_threshold=float(data["cohesion_threshold"]),
            reads_abstracts=bool(data.get("reads_abstracts", False)),
        )

    @classmethod
    def load(cls, path: str | Path) -> IdentityModel:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def logistic_features(params: dict[str, Any], features: np.ndarray) -> np.ndarray:
    """Impute, add missing indicators, standardise: the logistic model's input."""
    missing = np.isnan(features)
    filled = np.where(missing, np.asarray(params["fill"]), features)
    indicators = missing[:, params["indicators"]].astype(np.float64)
    design = np.hstack([filled, indicators])
    return (design - np.asarray(params["mean"])) / np.asarray(params["scale"])


def _logistic_predict(params: dict[str, Any], features: np.ndarray) -> np.ndarray:
    design = logistic_features(params, features)
    logits = design @ np.asarray(params["coef"]) + float(params["intercept"])
    return 1.0 / (1.0 + np.exp(-logits))


@lru_cache(maxsize=1)
def default_model() -> IdentityModel:
    """The shipped model (``pairwise_model.json``), loaded once."""
    return IdentityModel.load(DEFAULT_MODEL_PATH)
