"""Row products by lookup: scipy's products of row pairs, to the last bit, without walking
both rows of every pair (a collaboration's 1,000 co-authors against a profile of five)."""

import numpy as np
import pytest
from scipy import sparse

from works.identity.features import _rows_times_rows


def _scipy_products(matrix, left, right) -> np.ndarray:
    return np.asarray(matrix[left].multiply(matrix[right]).sum(axis=1)).ravel()


def _rows(rng, *, shuffled: float, zeros: bool = False):
    """A matrix whose rows hold 0-8 entries, a tenth of them 50-400 (a collaboration's), with
    the given share of rows stored with their columns out of order, as the block's
    vocabulary leaves them."""
    n, width = int(rng.integers(20, 300)), 400
    lengths = np.where(rng.random(n) < 0.1, rng.integers(50, width, n), rng.integers(0, 9, n))
    rows = []
    for length in lengths:
        columns = np.sort(rng.choice(width, size=int(length), replace=False))
        if rng.random() < shuffled:
            rng.shuffle(columns)
        rows.append(columns)
    indptr = np.r_[0, np.cumsum([len(r) for r in rows])]
    values = rng.random(int(indptr[-1])) ** 3
    if zeros:
        values[rng.random(len(values)) < 0.05] = 0.0  # stored zeros: scipy drops their products
    return sparse.csr_matrix((values, np.concatenate(rows), indptr), shape=(n, width))


@pytest.mark.parametrize("shuffled", [0.0, 0.2, 1.0])
@pytest.mark.parametrize("seed", range(8))
def test_lookups_give_scipys_products_to_the_last_bit(seed, shuffled):
    rng = np.random.default_rng(seed)
    matrix = _rows(rng, shuffled=shuffled, zeros=seed % 3 == 0)
    left = rng.integers(0, matrix.shape[0], 3000)
    right = rng.integers(0, matrix.shape[0], 3000)
    right[:100] = left[:100]  # a row with itself

    products = _rows_times_rows(matrix, left, right)

    # The lookup path was taken (its index is kept on the matrix), and its sums are scipy's:
    # the order of each pair's products decides the last bits, and rows out of order are
    # summed in another order than sorted ones.
    assert "_entry_index" in matrix.__dict__
    assert np.array_equal(products, _scipy_products(matrix, left, right))


def test_rows_of_like_lengths_keep_scipys_walk():
    matrix = sparse.random(200, 300, density=0.05, format="csr", random_state=1)
    rng = np.random.default_rng(1)
    left, right = rng.integers(0, 200, 500), rng.integers(0, 200, 500)

    products = _rows_times_rows(matrix, left, right)

    assert "_entry_index" not in matrix.__dict__
    assert np.array_equal(products, _scipy_products(matrix, left, right))


def test_pairs_without_shared_columns_are_zero():
    matrix = sparse.csr_matrix(
        (np.ones(103), np.r_[np.arange(100), [200, 201, 202]], [0, 100, 103]), shape=(2, 300)
    )

    products = _rows_times_rows(matrix, np.array([0, 1, 1]), np.array([1, 0, 1]))

    assert "_entry_index" in matrix.__dict__  # the long row against the short: lookups
    assert products.tolist() == [0.0, 0.0, 3.0]
