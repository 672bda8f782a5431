"""Pairwise features between signatures of one block, vectorised with sparse matrices.

:class:`BlockData` turns a block's signatures into sparse TF-IDF matrices (one per
field) once; :func:`pair_features` then computes every feature for arrays of
index pairs, so all pairs of a 1,000-signature block cost a few sparse row
products, not a Python loop per pair. Missing fields give NaN, which the
model reads as "unknown" (LightGBM's missing-value branch), never as "different".

IDF weights come from the block itself: a co-author or a word that half the
block shares says little about who is who in that block.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from works.identity.names import NAME_CONFLICT, name_compatibility
from works.identity.signature import Signature

__all__ = ["FEATURE_NAMES", "BlockData", "pair_features"]

FEATURE_NAMES = (
    "name_level",
    "initials_involved",
    "shared_coauthors",
    "coauthor_jaccard",
    "coauthor_idf_cos",
    "min_coauthor_count",
    "where_cos",
    "venue_equal",
    "title_cos",
    "title_shared",
    "abstract_cos",
    "text_cos",
    "affiliation_cos",
    "year_gap",
    "log_block_size",
    "log_name_count",
)


def _tfidf(token_lists: Sequence[Sequence[str]], *, binary: bool = False) -> sparse.csr_matrix:
    """Rows L2-normalised TF-IDF (IDF from these rows); empty rows stay zero."""
    vocabulary: dict[str, int] = {}
    indptr, indices, data = [0], [], []
    for tokens in token_lists:
        counts: dict[int, float] = {}
        for token in tokens:
            column = vocabulary.setdefault(token, len(vocabulary))
            counts[column] = 1.0 if binary else counts.get(column, 0.0) + 1.0
        indices.extend(counts)
        data.extend(counts.values())
        indptr.append(len(indices))
    shape = (len(token_lists), max(len(vocabulary), 1))
    matrix = sparse.csr_matrix(
        (np.asarray(data, dtype=np.float64), np.asarray(indices, dtype=np.int64), indptr),
        shape=shape,
    )
    document_frequency = np.bincount(matrix.indices, minlength=shape[1])
    idf = np.log((1.0 + shape[0]) / (1.0 + document_frequency)) + 1.0
    matrix = matrix @ sparse.diags(idf)
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ matrix)


def _binary(token_lists: Sequence[Sequence[str]]) -> sparse.csr_matrix:
    matrix = _tfidf(token_lists, binary=True)
    matrix.data[:] = 1.0
    return matrix


@dataclass
class BlockData:
    """One block's signatures as arrays and sparse matrices (see module docstring)."""

    signatures: list[Signature]
    coauthors: sparse.csr_matrix  # binary
    coauthors_tfidf: sparse.csr_matrix
    where: sparse.csr_matrix
    venue_ids: np.ndarray  # -1 when no venue
    title: sparse.csr_matrix
    title_binary: sparse.csr_matrix
    abstract: sparse.csr_matrix
    text: sparse.csr_matrix
    affiliation: sparse.csr_matrix
    years: np.ndarray  # NaN when unknown
    coauthor_counts: np.ndarray
    name_variant: np.ndarray  # index into name_levels
    name_levels: np.ndarray  # variant x variant NAME_* levels
    initials_only: np.ndarray
    name_counts: np.ndarray  # signatures in the block printing a compatible full name
    paper_ids: np.ndarray

    @classmethod
    def build(cls, signatures: Sequence[Signature]) -> BlockData:
        sigs = list(signatures)
        variants: dict = {}
        variant_of = np.array([variants.setdefault(s.name, len(variants)) for s in sigs])
        parts = list(variants)
        levels = np.array(
            [
                [name_compatibility(a, b) if a and b else NAME_CONFLICT for b in parts]
                for a in parts
            ],
            dtype=np.float64,
        ).reshape(len(parts), len(parts))
        venues: dict[str, int] = {}
        venue_ids = np.array(
            [
                venues.setdefault(s.venue.casefold().strip(), len(venues)) if s.venue else -1
                for s in sigs
            ]
        )
        return cls(
            signatures=sigs,
            coauthors=_binary([sorted(s.coauthor_keys) for s in sigs]),
            coauthors_tfidf=_tfidf([sorted(s.coauthor_keys) for s in sigs]),
            where=_tfidf([s.where_tokens for s in sigs]),
            venue_ids=venue_ids,
            title=_tfidf([s.title_tokens for s in sigs]),
            title_binary=_binary([s.title_tokens for s in sigs]),
            abstract=_tfidf([s.abstract_tokens for s in sigs]),
            text=_tfidf([s.title_tokens + s.abstract_tokens for s in sigs]),
            affiliation=_tfidf([s.affiliation_tokens for s in sigs]),
            years=np.array([s.year if s.year else np.nan for s in sigs], dtype=np.float64),
            coauthor_counts=np.array([len(s.coauthor_keys) for s in sigs], dtype=np.float64),
            name_variant=variant_of,
            name_levels=levels,
            initials_only=np.array([bool(s.name and s.name.initials_only) for s in sigs]),
            name_counts=_name_counts(variant_of, levels),
            paper_ids=np.array([s.paper_id for s in sigs], dtype=object),
        )

    def __len__(self) -> int:
        return len(self.signatures)


def _name_counts(variant_of: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Per signature: how many block signatures print a name at least as close as
    NAME_FIRST_EQUAL to it (itself included) — the commonness of *this* name."""
    per_variant = np.bincount(variant_of, minlength=len(levels)).astype(np.float64)
    close = (levels >= 3).astype(np.float64)
    np.fill_diagonal(close, 1.0)
    return (close @ per_variant)[variant_of]


def _row_dot(matrix: sparse.csr_matrix, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    return np.asarray(matrix[left].multiply(matrix[right]).sum(axis=1)).ravel()


def _has_rows(matrix: sparse.csr_matrix) -> np.ndarray:
    return np.diff(matrix.indptr) > 0


def _masked(values: np.ndarray, present: np.ndarray) -> np.ndarray:
    return np.where(present, values, np.nan)


def pair_features(block: BlockData, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Feature matrix (len(left) x len(FEATURE_NAMES)) for pairs (left[k], right[k])."""
    left = np.asarray(left, dtype=np.int64)
    right = np.asarray(right, dtype=np.int64)
    out = np.empty((len(left), len(FEATURE_NAMES)), dtype=np.float32)
    out[:, 0] = block.name_levels[block.name_variant[left], block.name_variant[right]]
    out[:, 1] = block.initials_only[left] | block.initials_only[right]
    shared = _row_dot(block.coauthors, left, right)
    counts_l, counts_r = block.coauthor_counts[left], block.coauthor_counts[right]
    union = counts_l + counts_r - shared
    out[:, 2] = shared
    out[:, 3] = np.divide(shared, union, out=np.zeros_like(shared), where=union > 0)
    out[:, 4] = _row_dot(block.coauthors_tfidf, left, right)
    out[:, 5] = np.minimum(counts_l, counts_r)
    _cosine(out, 6, block.where, left, right)
    has_venue = (block.venue_ids[left] >= 0) & (block.venue_ids[right] >= 0)
    out[:, 7] = _masked(block.venue_ids[left] == block.venue_ids[right], has_venue)
    _cosine(out, 8, block.title, left, right)
    out[:, 9] = _masked(_row_dot(block.title_binary, left, right), ~np.isnan(out[:, 8]))
    _cosine(out, 10, block.abstract, left, right)
    _cosine(out, 11, block.text, left, right)
    _cosine(out, 12, block.affiliation, left, right)
    out[:, 13] = np.abs(block.years[left] - block.years[right])
    out[:, 14] = np.log1p(len(block))
    out[:, 15] = np.log1p(np.maximum(block.name_counts[left], block.name_counts[right]))
    return out


def _cosine(out: np.ndarray, column: int, matrix, left, right) -> None:
    present = _has_rows(matrix)
    out[:, column] = _masked(_row_dot(matrix, left, right), present[left] & present[right])
