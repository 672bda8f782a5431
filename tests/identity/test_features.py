"""Pair features: the plain-dict path for small blocks equals the sparse path."""

import numpy as np

from works.identity.cluster import cluster_profiles
from works.identity.features import (
    FEATURE_NAMES,
    BlockData,
    pair_features,
    profile_of,
    small_block_features,
    vetoed_pairs,
)
from works.identity.signature import Signature


def _signatures():
    rows = [
        ("Wei Wang", ["Anna Alvarez", "Boris Becker"], "hep-th", "Holographic entropy", 2015, ""),
        ("W. Wang", ["Anna Alvarez"], "hep-th", "Entropy of black holes", 2016, "Tsinghua Univ"),
        ("Wei Wang", ["Carla Cruz"], "cs.CL", "Neural translation", 2020, ""),
        ("Wen Wang", [], "", "Graph theory", None, "MIT"),
        ("Wang Wei", ["Carla Cruz", "Dmitri Dorn"], "cs.CL", "Language models", 2021, ""),
    ]
    return [
        Signature(
            signature_id=f"s{k}",
            paper_id="shared" if k in (0, 2) else f"p{k}",
            author=author,
            coauthors=tuple(coauthors),
            title=title,
            year=year,
            categories=(category,) if category else (),
            venue="ACL" if category == "cs.CL" else "",
            affiliations=(affiliation,) if affiliation else (),
        )
        for k, (author, coauthors, category, title, year, affiliation) in enumerate(rows)
    ]


def _assert_paths_agree(profiles):
    block = BlockData.build(profiles)
    left, right = np.triu_indices(len(profiles), 1)
    sparse_features = pair_features(block, left, right)
    _, _, small_features, small_vetoed = small_block_features(profiles)
    assert sparse_features.shape == (len(left), len(FEATURE_NAMES))
    np.testing.assert_allclose(small_features, sparse_features, rtol=1e-6, equal_nan=True)
    assert (small_vetoed == vetoed_pairs(block, left, right)).all()


def test_small_and_sparse_paths_agree_on_signatures():
    _assert_paths_agree([profile_of(s) for s in _signatures()])


def test_small_and_sparse_paths_agree_on_pooled_clusters():
    profiles = [profile_of(s) for s in _signatures()]
    pooled, _ = cluster_profiles(profiles, np.array([0, 0, 1, 2, 1]))
    _assert_paths_agree(pooled)


def test_same_paper_and_incompatible_names_are_vetoed():
    profiles = [profile_of(s) for s in _signatures()]
    _, _, features, vetoed = small_block_features(profiles)
    left, right = np.triu_indices(len(profiles), 1)
    vetoed_pairs_found = {
        (int(a), int(b)) for a, b, v in zip(left, right, vetoed, strict=True) if v
    }
    # s0/s2 share a paper; Wen Wang (s3) conflicts with every Wei Wang, not with "W. Wang"
    assert vetoed_pairs_found == {(0, 2), (0, 3), (2, 3), (3, 4)}
