"""Clustering quality against labels: B-cubed and pairwise precision/recall/F1.

B-cubed is averaged over signatures: for signature s with predicted cluster
P(s) and true cluster T(s), precision(s) = |P(s) ∩ T(s)| / |P(s)| and
recall(s) = |P(s) ∩ T(s)| / |T(s)|; F1 is the harmonic mean of the two
averages. Pairwise counts unordered pairs put together: precision = pairs
together in both / pairs together in the prediction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping
from dataclasses import dataclass

from works.arxiv.names import name_key

__all__ = ["Scores", "b_cubed", "name_key_baseline", "pairwise"]


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float

    def __str__(self) -> str:
        return f"P {self.precision:.3f} R {self.recall:.3f} F1 {self.f1:.3f}"


def _f1(precision: float, recall: float) -> float:
    total = precision + recall
    return 2 * precision * recall / total if total else 0.0


def b_cubed(predicted: Mapping[str, Hashable], truth: Mapping[str, Hashable]) -> Scores:
    """B-cubed over the signatures of ``truth`` (signature id -> label)."""
    both = Counter((predicted[s], truth[s]) for s in truth)
    predicted_sizes = Counter(predicted[s] for s in truth)
    true_sizes = Counter(truth.values())
    precision = recall = 0.0
    for (p, t), overlap in both.items():
        precision += overlap * overlap / predicted_sizes[p]
        recall += overlap * overlap / true_sizes[t]
    n = len(truth)
    if not n:
        return Scores(0.0, 0.0, 0.0)
    return Scores(precision / n, recall / n, _f1(precision / n, recall / n))


def _pairs(counts: Counter) -> int:
    return sum(c * (c - 1) // 2 for c in counts.values())


def pairwise(predicted: Mapping[str, Hashable], truth: Mapping[str, Hashable]) -> Scores:
    """Pairwise precision/recall/F1 (1.0 when a side has no pairs at all)."""
    together_both = _pairs(Counter((predicted[s], truth[s]) for s in truth))
    together_predicted = _pairs(Counter(predicted[s] for s in truth))
    together_true = _pairs(Counter(truth.values()))
    precision = together_both / together_predicted if together_predicted else 1.0
    recall = together_both / together_true if together_true else 1.0
    return Scores(precision, recall, _f1(precision, recall))


def name_key_baseline(authors: Mapping[str, str]) -> dict[str, str]:
    """What BZPEER did before: one record per normalised full name (signature -> key)."""
    return {sid: name_key(author) for sid, author in authors.items()}
