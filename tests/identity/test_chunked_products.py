"""Big blocks' pairs in chunks: the same products and probabilities, in bounded memory.

A million-record load's largest block (6,576 signatures, a tenth of them on papers of
hundreds of authors) has about a million candidate pairs. Copying every pair's co-author rows
at once, then the learner's float64 copies of every pair's features, took 7.4 GB in one
linking process. Both are now taken in chunks, and so are the pairs whose features are made
and scored together (pair_scores); nothing they compute may change.
"""

import random

import numpy as np
import pytest
from scipy import sparse

from tests.identity.test_collaboration_costs import _block
from works.identity import bigblock, features, model
from works.identity.features import (
    FEATURE_NAMES,
    _row_dot,
    _rows_times_rows,
    pair_features,
    pair_scores,
    vetoed_pairs,
)
from works.identity.model import default_model
from works.identity.names import NAME_CONFLICT


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


def _scored_at_once(block, left, right, learner):
    at_once = pair_features(block, left, right)
    return learner.predict(at_once), vetoed_pairs(block, left, right, levels=at_once[:, 0])


def _scored_chunks(monkeypatch, size: int) -> list[int]:
    """The number of pairs of each chunk whose features pair_scores makes, as it makes them."""
    monkeypatch.setattr(features, "SCORED_PAIRS_CHUNK", size)
    sizes: list[int] = []
    made = features.pair_features

    def counted(block, left, right):
        sizes.append(len(left))
        return made(block, left, right)

    monkeypatch.setattr(features, "pair_features", counted)
    return sizes


@pytest.mark.parametrize("gram_limit", [3000, 10])
def test_pairs_scored_in_chunks_are_those_scored_at_once_to_the_last_bit(gram_limit, monkeypatch):
    # Row by row: fewer than eight pairs a profile, or (gram_limit 10) a block too big for a
    # Gram matrix, as a million-record load's largest blocks are.
    monkeypatch.setattr(features, "GRAM_LIMIT", gram_limit)
    block = _block(60, 5)
    learner = default_model().signatures
    left, right = np.triu_indices(len(block), 1)
    if gram_limit == 3000:
        left, right = left[::5], right[::5]
    assert not features._through_gram(block.papers, left)
    predicted, vetoed = _scored_at_once(block, left, right, learner)
    named = features.name_levels(block, left, right) != NAME_CONFLICT
    chunks = _scored_chunks(monkeypatch, 100)

    chunked, chunked_vetoed = pair_scores(block, left, right, learner.predict)

    # The pairs of conflicting names are vetoed without their features being made.
    assert 0 < named.sum() < len(left)
    assert chunks == [100] * (named.sum() // 100) + [named.sum() % 100]
    np.testing.assert_array_equal(chunked[named], predicted[named])
    np.testing.assert_array_equal(chunked_vetoed, vetoed)
    assert chunked_vetoed[~named].all()


def test_pairs_that_read_a_gram_matrix_are_scored_at_once(monkeypatch):
    # Chunks would each build the block's Gram matrices again, or take the row-by-row path.
    block = _block(60, 6)
    learner = default_model().clusters
    left, right = np.triu_indices(len(block), 1)
    assert features._through_gram(block.papers, left)
    predicted, vetoed = _scored_at_once(block, left, right, learner)
    chunks = _scored_chunks(monkeypatch, 100)

    scored, scored_vetoed = pair_scores(block, left, right, learner.predict)

    assert chunks == [len(left)]
    np.testing.assert_array_equal(scored, predicted)
    np.testing.assert_array_equal(scored_vetoed, vetoed)


@pytest.mark.parametrize("seed", range(2))
def test_nearest_neighbours_found_in_smaller_chunks_of_rows_are_the_same(seed, monkeypatch):
    # Each chunk of rows holds its similarities to every profile densely: 512 rows of the
    # largest block took 27 MB an array, and several at once.
    block = _block(60, seed)
    monkeypatch.setattr(bigblock, "ROWS_PER_CHUNK", 512)
    whole = bigblock._neighbour_pairs(block, 5)
    monkeypatch.setattr(bigblock, "ROWS_PER_CHUNK", 7)

    chunked = bigblock._neighbour_pairs(block, 5)

    np.testing.assert_array_equal(chunked[0], whole[0])
    np.testing.assert_array_equal(chunked[1], whole[1])
