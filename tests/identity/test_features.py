"""Pair features: the plain-dict path for small blocks equals the sparse path."""

import random
from collections import Counter
from dataclasses import fields

import numpy as np
import pytest
from scipy import sparse

from works.identity import features
from works.identity.cluster import cluster_profiles
from works.identity.features import (
    FEATURE_NAMES,
    BlockData,
    BlockVocabulary,
    CoauthorResolver,
    Profile,
    _binary,
    _binary_dot,
    _binary_weights,
    _dense_enough,
    _dot,
    _gram,
    _sorted_unique,
    _tfidf,
    _weights,
    computed_once,
    name_commonness,
    pair_features,
    profile_of,
    resolve_coauthors,
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


def test_small_and_sparse_paths_agree_with_and_without_abstracts():
    # Without any abstract the small path takes the title's weights for the text.
    with_abstract = [
        Signature(**{**vars_of(s), "abstract": "Entropy bounds for holographic black holes"})
        if s.signature_id == "s1"
        else s
        for s in _signatures()
    ]
    profiles = [profile_of(s) for s in with_abstract]
    _assert_paths_agree(profiles)
    text = FEATURE_NAMES.index("text_cos")
    title = FEATURE_NAMES.index("title_cos")
    _, _, features, _ = small_block_features(profiles)
    assert not np.allclose(features[:, text], features[:, title], equal_nan=True)
    _, _, plain, _ = small_block_features([profile_of(s) for s in _signatures()])
    np.testing.assert_array_equal(plain[:, text], plain[:, title])


def vars_of(signature: Signature) -> dict:
    fields = ("signature_id", "paper_id", "author", "coauthors", "title", "year")
    more = ("categories", "venue", "affiliations")
    return {name: getattr(signature, name) for name in (*fields, *more)}


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


def _tfidf_reference(token_lists):
    """The scipy chain ``_tfidf`` replaced: its result must be reproduced bit for bit."""
    vocabulary, indptr, indices, data = {}, [0], [], []
    for tokens in token_lists:
        counts = {}
        for token in tokens:
            column = vocabulary.setdefault(token, len(vocabulary))
            counts[column] = counts.get(column, 0.0) + 1.0
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


def _random_token_lists(rng, rows, vocabulary):
    words = [f"w{k}" for k in range(vocabulary)]
    return [
        [words[k] for k in rng.integers(vocabulary, size=int(rng.integers(0, 40)))]
        for _ in range(rows)
    ]


@pytest.mark.parametrize("seed", range(40))
def test_tfidf_reproduces_the_scipy_chain_bit_for_bit(seed):
    rng = np.random.default_rng(seed)
    token_lists = _random_token_lists(rng, int(rng.integers(1, 120)), int(rng.integers(1, 300)))
    if seed % 4 == 0:
        # Rows listing new words before old ones: the one case where scipy sums a
        # row's squares in the other order.
        token_lists = [["a"], ["b", "a"], ["c", "b"], [], ["d", "c", "a"]]
    if seed == 1:
        token_lists = [[], []]  # a field no profile has
    fast, reference = _tfidf(token_lists), _tfidf_reference(token_lists)
    assert (fast.indptr == reference.indptr).all()
    assert (fast.indices == reference.indices).all()
    assert fast.data.tobytes() == reference.data.tobytes()


def test_tfidf_sums_a_row_in_the_order_scipy_does():
    # Many terms of very different size make a row's sum depend on its order.
    token_lists = [["x"] * 7 + [f"r{k}" for k in range(30)]]
    token_lists += [[f"r{k}" for k in range(29, -1, -1)] + ["x"] * 7 for _ in range(3)]
    fast, reference = _tfidf(token_lists), _tfidf_reference(token_lists)
    assert fast.data.tobytes() == reference.data.tobytes()


def test_tfidf_sums_rows_scipy_leaves_sorted_in_that_order():
    # Every row lists later words first: scipy then sums each row back to front.
    token_lists = [[f"r{j}" for j in range(k, -1, -1) for _ in range(j % 7 + 1)] for k in range(40)]
    fast, reference = _tfidf(token_lists), _tfidf_reference(token_lists)
    assert fast.data.tobytes() == reference.data.tobytes()


def test_coauthor_weights_without_dicts_are_the_dict_weights_bit_for_bit():
    # The small path weighs co-authors as an IDF and a norm per row (_binary_weights), not
    # as a dict per row; each dot product must be what the dicts gave, to the last bit.
    rng = np.random.default_rng(5)
    vocabulary = [f"c{k}" for k in range(300)]
    rows = [
        sorted(set(rng.choice(vocabulary, int(rng.integers(0, 150))).tolist())) for _ in range(40)
    ]
    idf, norms = _binary_weights(rows)
    dicts = _weights([dict.fromkeys(row, 1) for row in rows])
    fields = [
        {"coauthor_list": row, "coauthors": set(row), "coauthor_norm": norm, "coauthor_idf": idf}
        for row, norm in zip(rows, norms, strict=True)
    ]
    for a in range(len(rows)):
        for b in range(len(rows)):
            assert _binary_dot(fields[a], fields[b]) == _dot(dicts[a], dicts[b])


def _random_block(rng, size):
    names = ["Wei Wang", "W. Wang", "Wang Wei", "Wei-Wei Wang", "Wen Wang"]
    people = ["Anna Alvarez", "Boris Becker", "Carla Cruz", "Dmitri Dorn", "J. Li", "Jian Li"]
    words = ["entropy", "holographic", "black", "hole", "neural", "translation", "graph", "model"]
    categories = ["hep-th", "cs.CL", "math.CO", "gr-qc", ""]
    return [
        Signature(
            signature_id=f"s{k}",
            paper_id=f"p{rng.randrange(size)}",
            author=rng.choice(names),
            coauthors=tuple(rng.sample(people, rng.randint(0, 4))),
            title=" ".join(rng.choices(words, k=rng.randint(0, 6))),
            abstract=" ".join(rng.choices(words, k=rng.randint(0, 12))),
            year=rng.choice([None, 2015, 2018, 2021]),
            categories=tuple({rng.choice(categories) for _ in range(2)} - {""}),
            venue=rng.choice(["", "ACL", "JHEP"]),
            affiliations=tuple(rng.sample(["Tsinghua Univ", "MIT", "CERN"], rng.randint(0, 2))),
        )
        for k in range(size)
    ]


def _token_matrices(pooled):
    """The block's matrices as token lists give them (the _tfidf path, which the tests above
    hold to scipy's chain)."""
    coauthors = resolve_coauthors(pooled)
    return {
        "coauthors": _binary(coauthors),
        "coauthors_tfidf": _tfidf(coauthors),
        "where": _tfidf([p.where_tokens for p in pooled]),
        "venues": _binary([sorted(p.venues) for p in pooled]),
        "title": _tfidf([p.title_tokens for p in pooled]),
        "title_binary": _binary([p.title_tokens for p in pooled]),
        "abstract": _tfidf([p.abstract_tokens for p in pooled]),
        "text": _tfidf([p.title_tokens + p.abstract_tokens for p in pooled]),
        "affiliation": _tfidf([p.affiliation_tokens for p in pooled]),
        "papers": _binary([sorted(p.paper_ids) for p in pooled]),
    }


@pytest.mark.parametrize("seed", range(6))
def test_merge_rounds_sharing_the_block_vocabulary_build_the_matrices_token_lists_give(seed):
    # Every merge round builds its matrices from the rows the block's vocabulary keeps (tokens
    # numbered once over the signatures, each pooled profile's row kept while no round changes
    # it); token lists number the pooled profiles' tokens anew. Whatever the numbering, every
    # dot product of two rows, and so every pair's features, must be the same, bit for bit.
    rng = random.Random(seed)
    profiles = [profile_of(s) for s in _random_block(rng, rng.randint(26, 60))]
    vocabulary = BlockVocabulary(CoauthorResolver(profiles))
    labels = np.arange(len(profiles))
    kept: dict = {}
    for _round in range(3):
        pooled, _ = cluster_profiles(profiles, labels, kept)
        shared = BlockData.build(pooled, vocabulary)
        for field, expected in _token_matrices(pooled).items():
            np.testing.assert_array_equal(
                (getattr(shared, field) @ getattr(shared, field).T).toarray(),
                (expected @ expected.T).toarray(),
                err_msg=field,
            )
        left, right = np.triu_indices(len(pooled), 1)
        np.testing.assert_array_equal(
            pair_features(shared, left, right),
            pair_features(BlockData.build(pooled), left, right),
        )
        # the next round pools these clusters further, as merge rounds do
        labels = np.unique(labels // 2 if _round % 2 else labels % 7, return_inverse=True)[1]


def _pooled_pair(shared_words: int, shared_coauthors: int, papers: int):
    """Two clusters of ``papers`` signatures of one name that share ``shared_words`` title
    words and ``shared_coauthors`` co-authors between them, each word and co-author once."""
    words = [f"w{k}x" for k in range(shared_words)]
    coauthors = [f"Ann Coauthor{k}" for k in range(shared_coauthors)]
    profiles = []
    for side in ("a", "b"):
        signatures = [
            Signature(
                signature_id=f"{side}{k}",
                paper_id=f"{side}{k}",
                author="Wei Wang",
                coauthors=tuple(coauthors[k::papers]) or (f"Own Person{side}{k}",),
                title=" ".join([*words[k::papers], f"{side}{k}unique"]),
            )
            for k in range(papers)
        ]
        profiles.extend(profile_of(s) for s in signatures)
    labels = np.repeat([0, 1], papers)
    pooled, _ = cluster_profiles(profiles, labels)
    return pooled


@pytest.mark.parametrize("small", [True, False])
def test_shared_counts_enter_as_logs_and_their_ratios_as_counts(small):
    # Clusters share more as they grow: a raw count let a pool's size stand in for evidence.
    pooled = _pooled_pair(shared_words=12, shared_coauthors=5, papers=4)
    if small:
        features = small_block_features(pooled)[2][0]
    else:
        features = pair_features(BlockData.build(pooled), np.array([0]), np.array([1]))[0]

    def value(name):
        return float(features[FEATURE_NAMES.index(name)])

    assert value("log_title_shared") == pytest.approx(np.log1p(12), rel=1e-6)
    assert value("log_shared_coauthors") == pytest.approx(np.log1p(5), rel=1e-6)
    # The ratios are of the counts: 5 shared out of 5 on each side (and no one else).
    assert value("coauthor_jaccard") == pytest.approx(1.0)
    assert value("coauthor_overlap") == pytest.approx(1.0)


def test_one_shared_coauthor_or_word_moves_the_features_more_than_the_tenth():
    def logs(words, coauthors):
        features = small_block_features(_pooled_pair(words, coauthors, papers=2))[2][0]
        names = ("log_title_shared", "log_shared_coauthors")
        return [features[FEATURE_NAMES.index(name)] for name in names]

    none, one, nine, ten = logs(0, 0), logs(1, 1), logs(9, 9), logs(10, 10)
    assert none == [0.0, 0.0]
    for column in range(2):
        assert one[column] - none[column] > 5 * (ten[column] - nine[column]) > 0


def test_a_signatures_profile_is_the_dataclass_its_fields_make():
    """profile_of sets the frozen dataclass's fields all at once: the profile it makes
    equals one made through the dataclass's own __init__, field for field."""
    for signature in _signatures():
        made = profile_of(signature, name_count=40)
        values = {f.name: getattr(made, f.name) for f in fields(Profile)}
        assert made == Profile(**values)
        assert values["size"] == 1
        assert made.names == frozenset([signature.name])
        assert made.commonness == name_commonness(signature.name, 40)
        with pytest.raises(AttributeError):
            made.size = 2  # still frozen


def test_a_profiles_counts_are_worked_out_once_and_kept():
    class Counted:
        calls = 0

        @computed_once
        def value(self):
            Counted.calls += 1
            return ["worked out"]

    one = Counted()
    assert one.value is one.value
    assert Counted.calls == 1
    assert Counted().value == ["worked out"] and Counted.calls == 2
    assert isinstance(Profile.__dict__["title_counts"], computed_once)

    profile = profile_of(_signatures()[0])
    assert profile.title_counts is profile.title_counts
    assert profile.title_counts == Counter(profile.title_tokens)


@pytest.mark.parametrize("runs", [0, 1, 7])
def test_a_pools_united_columns_are_numpys_unique_of_its_members_runs(runs):
    rng = np.random.default_rng(runs)
    pieces = [np.sort(rng.choice(50, rng.integers(0, 20), replace=False)) for _ in range(runs)]
    values = np.concatenate([np.zeros(0, np.int64), *pieces])

    assert np.array_equal(_sorted_unique(values), np.unique(values))
    shuffled = rng.permutation(values)
    assert np.array_equal(_sorted_unique(shuffled), np.unique(values))


def _rows_with_share(share: float, rows: int = 300, columns: int = 40) -> sparse.csr_matrix:
    rng = np.random.default_rng(4)
    return sparse.csr_matrix(
        np.where(rng.random((rows, columns)) < share, rng.random((rows, columns)), 0.0)
    )


def test_rows_sharing_most_columns_give_a_dense_gram_within_rounding_of_the_sparse_one():
    matrix = _rows_with_share(0.3)

    assert _dense_enough(matrix)
    np.testing.assert_allclose(_gram(matrix), _gram(matrix, dense=False), rtol=0, atol=1e-12)


def test_sparse_rows_or_too_many_entries_keep_the_sparse_product(monkeypatch):
    assert not _dense_enough(_rows_with_share(0.01))
    monkeypatch.setattr(features, "DENSE_GRAM_ENTRIES", 300 * 40 - 1)
    assert not _dense_enough(_rows_with_share(0.3))


def test_a_pools_name_level_is_the_least_over_every_pair_of_their_printed_names():
    printed = ["Wei Wang", "W. Wang", "Wang Wei", "W. X. Wang", "Wei-Xin Wang", "Wei X. Wang"]
    printed += ["W. Wang", "Wei Wang", "Wen Wang", "DeepSeek-AI"]
    rng = random.Random(4)
    signatures = [
        Signature(signature_id=f"s{k}", paper_id=f"p{k}", author=rng.choice(printed))
        for k in range(60)
    ]
    singles = [profile_of(s) for s in signatures]
    # Pools of one to three signatures: profiles of one to several names, as merge rounds make.
    profiles, start = [], 0
    while start < len(singles):
        size = rng.choice([1, 1, 1, 2, 3])
        profiles.append(features.merge_profiles(singles[start : start + size]))
        start += size
    block = BlockData.build(profiles)
    left, right = np.triu_indices(len(profiles), 1)

    levels = features.name_levels(block, left, right)

    def least(a, b):
        if not a.names or not b.names:
            return features.NAME_CONFLICT
        return min(features.name_compatibility(x, y) for x in a.names for y in b.names)

    expected = [least(profiles[i], profiles[j]) for i, j in zip(left, right, strict=True)]
    assert levels.tolist() == expected
    assert block.name_variants.shape[1] > 2  # pools of several names were compared
    assert len(set(expected)) > 2
