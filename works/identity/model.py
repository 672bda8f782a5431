"""The pairwise model: P(two signatures of one block are one person | features).

Two learners share one file format (JSON, shipped as ``pairwise_model.json``
beside this module, written by ``bench/train_identity.py``):

* ``"lightgbm"``: the booster's text model under ``"booster"`` (read by
  LightGBM, which then is a run-time dependency);
* ``"logistic"``: standardised logistic regression, pure numpy: ``"coef"``,
  ``"intercept"``, ``"mean"``, ``"scale"``, ``"fill"`` (the value a missing
  feature takes) and missing-value indicator columns for ``"indicators"``.

Both carry ``"feature_names"`` (checked against :data:`FEATURE_NAMES`),
``"threshold"`` (the average-linkage cut) and ``"cohesion_threshold"``.
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

__all__ = ["DEFAULT_MODEL_PATH", "PairModel", "default_model"]

DEFAULT_MODEL_PATH = Path(__file__).with_name("pairwise_model.json")


@dataclass
class PairModel:
    """A loaded pairwise model and the clustering thresholds trained with it."""

    learner: str
    threshold: float
    cohesion_threshold: float
    params: dict[str, Any] = field(repr=False)
    _booster: Any = field(default=None, repr=False)

    def predict(self, features: np.ndarray) -> np.ndarray:
        """P(same person) for each row of a ``pair_features`` matrix."""
        if len(features) == 0:
            return np.zeros(0)
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
        return cls(
            learner=data["learner"],
            threshold=float(data["threshold"]),
            cohesion_threshold=float(data.get("cohesion_threshold", data["threshold"])),
            params=data,
        )

    @classmethod
    def load(cls, path: str | Path) -> PairModel:
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
def default_model() -> PairModel:
    """The shipped model (``pairwise_model.json``), loaded once."""
    return PairModel.load(DEFAULT_MODEL_PATH)
