"""Big blocks' pairs in chunks: the same products and probabilities, in bounded memory.

A million-record load's largest block (6,576 signatures, a tenth of them on papers of
hundreds of authors) has about a million candidate pairs. Copying every pair's co-author rows
at once, then the learner's float64 copies of every pair's features, took 7.4 GB in one
linking process. Both are now taken in chunks; nothing they compute may change.
"""

import random

import numpy as np
import pytest
from scipy import sparse

from tests.identity.test_collaboration_costs import _block
from works.identity import features, model
from works.identity.features import FEATURE_NAMES, _row_dot, _rows_times_rows, pair_features
from works.identity.model import default_model


def _random_rows(seed: int) -> tuple:
    """A sparse matrix with rows of 0 to 300 entries (a collaboration's are long), and pairs."""
    rng = np.random.default_rng(seed)
    rows, columns = 80, 1000
    entries = [rng.choice(columns, size=rng.integers(0, 300), replace=False) for _ in range(rows)]
    matrix = np.zeros((rows, columns))
    for row, present in enumerate(entries):
        matrix[row, present] = rng.random(len(present))
    left = rng.integers(0, rows, size=200)
    right = rng.integers(0, rows, size=200)
    return sparse.csr_matrix(matrix), left, right


def _chunk_sizes(monkeypatch) -> list[int]:
    """The number of pairs of each chunk _row_dot takes, as it takes them."""
    sizes: list[int] = []

    def counted(matrix, left, right):
        sizes.append(len(left))
        return _rows_times_rows(matrix, left, right)

    monkeypatch.setattr(features, "_rows_times_rows", counted)
    return sizes


@pytest.mark.parametrize("seed", range(3))
def test_row_products_in_chunks_are_the_products_taken_at_once_to_the_last_bit(seed, monkeypatch):
    matrix, left, right = _random_rows(seed)
    at_once = _rows_times_rows(matrix, left, right)
    monkeypatch.setattr(features, "ROW_DOT_CHUNK_ENTRIES", 1500)
    chunks = _chunk_sizes(monkeypatch)

    chunked = _row_dot(matrix, left, right)

    assert len(chunks) > 10 and sum(chunks) == len(left) and min(chunks) > 0
    assert chunked.dtype == at_once.dtype
    np.testing.assert_array_equal(chunked, at_once)


def test_a_pair_alone_above_the_chunk_size_is_a_chunk_of_its_own(monkeypatch):
    matrix, left, right = _random_rows(5)
    monkeypatch.setattr(features, "ROW_DOT_CHUNK_ENTRIES", 10)
    chunks = _chunk_sizes(monkeypatch)

    np.testing.assert_array_equal(
        _row_dot(matrix, left, right), _rows_times_rows(matrix, left, right)
    )
    assert max(chunks) <= 2  # only pairs of near-empty rows may share one


def test_a_blocks_features_row_by_row_in_chunks_are_the_features_at_once(monkeypatch):
    block = _block(60, 3)
    left, right = np.triu_indices(len(block), 1)
    left, right = left[::20], right[::20]  # fewer than eight pairs a profile: row by row
    at_once = pair_features(block, left, right)
    monkeypatch.setattr(features, "ROW_DOT_CHUNK_ENTRIES", 200)

    np.testing.assert_array_equal(pair_features(block, left, right), at_once)


@pytest.mark.parametrize("learner", ["signatures", "clusters"])
def test_probabilities_predicted_in_chunks_are_those_predicted_at_once(learner, monkeypatch):
    rng = random.Random(9)
    rows = np.array(
        [[rng.choice([np.nan, rng.random() * 4]) for _ in FEATURE_NAMES] for _ in range(1000)],
        dtype=np.float32,
    )
    pair_model = getattr(default_model(), learner)
    at_once = pair_model.predict(rows)
    monkeypatch.setattr(model, "PREDICT_CHUNK_ROWS", 64)
    predicted = []
    logistic = model._logistic_predict

    def counted(params, rows):
        predicted.append(len(rows))
        return logistic(params, rows)

    monkeypatch.setattr(model, "_logistic_predict", counted)

    chunked = pair_model.predict(rows)

    assert predicted == [64] * 15 + [40]
    assert chunked.shape == at_once.shape == (1000,)
    np.testing.assert_array_equal(chunked, at_once)
