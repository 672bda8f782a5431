"""B-cubed and pairwise scores on hand-made labels (works.identity.metrics)."""

import pytest

from works.identity.metrics import b_cubed, name_key_baseline, pairwise

TRUTH = {"1": "a", "2": "a", "3": "a", "4": "b", "5": "b"}


def test_perfect_clustering_scores_one():
    assert b_cubed(TRUTH, TRUTH).f1 == 1.0
    assert pairwise(TRUTH, TRUTH).f1 == 1.0


def test_one_signature_moved_by_hand():
    # predicted {1,2} {3,4,5}; true {1,2,3} {4,5}
    predicted = {"1": "x", "2": "x", "3": "y", "4": "y", "5": "y"}
    b3 = b_cubed(predicted, TRUTH)
    # precision: 1, 1, 1/3, 2/3, 2/3 -> 11/15; recall: 2/3, 2/3, 1/3, 1, 1 -> 11/15
    assert b3.precision == pytest.approx(11 / 15)
    assert b3.recall == pytest.approx(11 / 15)
    assert b3.f1 == pytest.approx(11 / 15)
    # predicted pairs 12 34 35 45, true pairs 12 13 23 45: both 12 45
    pair = pairwise(predicted, TRUTH)
    assert (pair.precision, pair.recall) == (0.5, 0.5)


def test_everything_in_one_cluster():
    predicted = dict.fromkeys(TRUTH, "all")
    b3 = b_cubed(predicted, TRUTH)
    # precision: 3/5 for a's three, 2/5 for b's two -> (9/5 + 4/5) / 5 = 13/25
    assert b3.precision == pytest.approx(13 / 25)
    assert b3.recall == 1.0
    assert b3.f1 == pytest.approx(2 * 0.52 / 1.52)
    assert pairwise(predicted, TRUTH).precision == pytest.approx(4 / 10)


def test_all_singletons():
    predicted = {s: s for s in TRUTH}
    b3 = b_cubed(predicted, TRUTH)
    assert b3.precision == 1.0
    # recall: 1/3 three times, 1/2 twice -> 2/5
    assert b3.recall == pytest.approx(2 / 5)
    assert pairwise(predicted, TRUTH).recall == 0.0


def test_name_key_baseline_puts_spellings_of_one_key_together():
    authors = {"1": "Zhang, Zhengyan", "2": "Zhengyan ZHANG", "3": "Z. Zhang"}
    baseline = name_key_baseline(authors)
    assert baseline["1"] == baseline["2"] == "zhengyan zhang"
    assert baseline["3"] == "z zhang"


def test_the_merge_threshold_can_be_stricter_than_095_when_that_cut_misses_precision():
    from works.identity.metrics import Scores
    from works.identity.training import SELECTION_GRID, choose

    assert max(SELECTION_GRID) > 0.95
    scores = {
        0.9: Scores(precision=0.92, recall=0.85, f1=0.883),
        0.95: Scores(precision=0.949, recall=0.81, f1=0.874),
        0.97: Scores(precision=0.958, recall=0.79, f1=0.866),
    }
    assert choose(scores) == 0.97
