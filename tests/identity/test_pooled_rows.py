"""A merge round's pooled profiles get their rows from their members' rows.

Counting a large cluster's tokens, resolving its co-authors and numbering them again was most
of a merge round's cost (BlockVocabulary._pooled_rows_of). The rows made from the members' must be
the very rows counting gives: the same columns in the same order (the TF-IDF sums run in it)
and the same counts.
"""

import random

import numpy as np
import pytest

from tests.identity.test_features import _random_block
from works.identity.cluster import cluster_profiles
from works.identity.features import (
    BlockVocabulary,
    CoauthorResolver,
    _members_kept,
    merge_profiles,
    profile_of,
)
from works.identity.signature import Signature


def _counted(vocabulary: BlockVocabulary, profile) -> dict:
    """The profile's rows as counting its tokens gives them, in the same numbering."""
    return {
        field: vocabulary._row(field, tokens_of(profile, vocabulary.resolver))
        for field, tokens_of in BlockVocabulary.FIELDS.items()
    }


def _made_from_members(vocabulary: BlockVocabulary, profile) -> bool:
    """Would the vocabulary make the profile's rows from its members' (all of them known)?"""
    return _members_kept(vocabulary._rows, profile) is not None


def _assert_same_rows(made: dict, counted: dict) -> None:
    assert made.keys() == counted.keys()
    for field, (columns, counts) in counted.items():
        np.testing.assert_array_equal(made[field][0], columns, err_msg=field)
        np.testing.assert_array_equal(made[field][1], counts, err_msg=field)
        assert made[field][0].dtype == columns.dtype and made[field][1].dtype == counts.dtype


def _random_profiles(rng: random.Random, fewest: int, most: int, *, abstracts: bool) -> list:
    signatures = _random_block(rng, rng.randint(fewest, most))
    if not abstracts:
        for signature in signatures:
            signature.abstract_tokens = ()
    return [profile_of(s) for s in signatures]


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("abstracts", [True, False])
def test_rows_made_from_the_members_are_the_rows_counting_gives(seed, abstracts):
    rng = random.Random(seed)
    profiles = _random_profiles(rng, 30, 70, abstracts=abstracts)
    vocabulary = BlockVocabulary(CoauthorResolver(profiles))
    for profile in profiles:  # a block's first stage numbers every signature's tokens
        vocabulary.rows(profile)
    labels = np.arange(len(profiles)) % rng.randint(3, 9)
    kept: dict = {}
    made = 0
    for _round in range(3):
        pooled, _ = cluster_profiles(profiles, labels, kept)
        vocabulary.retain(pooled)  # as merge_clusters does before each round
        for profile in pooled:
            if _made_from_members(vocabulary, profile):
                made += 1
            _assert_same_rows(vocabulary.rows(profile), _counted(vocabulary, profile))
        labels = np.unique(labels // 2, return_inverse=True)[1]
    assert made  # the path under test ran


def test_a_pool_of_members_whose_rows_are_unknown_is_counted():
    profiles = [profile_of(s) for s in _random_block(random.Random(3), 12)]
    vocabulary = BlockVocabulary(CoauthorResolver(profiles))
    for profile in profiles[:6]:
        vocabulary.rows(profile)
    assert _made_from_members(vocabulary, merge_profiles(profiles[:2]))
    # a member whose rows the vocabulary never made: nothing to make the pool's from
    assert not _made_from_members(vocabulary, merge_profiles(profiles[4:10]))


def test_retaining_a_round_keeps_its_members_rows_and_forgets_superseded_pools():
    profiles = [profile_of(s) for s in _random_block(random.Random(5), 20)]
    vocabulary = BlockVocabulary(CoauthorResolver(profiles))
    for profile in profiles:
        vocabulary.rows(profile)
    first = merge_profiles(profiles[:8])
    vocabulary.rows(first)
    second = merge_profiles(profiles[:12])
    vocabulary.retain([second, *profiles[12:]])
    assert id(first) not in vocabulary._rows
    assert all(id(p) in vocabulary._rows for p in profiles)
    assert _made_from_members(vocabulary, second)


def _printed_block():
    """Co-authors printed so that resolving has work: a key with two first names ("Jian Li",
    "Jun Li") and an initial of it, common surnames with one and with two initials."""
    teams = [
        ["Jian Li", "Anna Alvarez"],
        ["Jun Li", "J. Li", "W. Zhang"],
        ["J. H. Wang", "Anna Alvarez", "Wei Zhang"],
        ["Jian Li", "J. H. Wang", "Boris Becker"],
        ["J. Li", "Carla Cruz"],
        ["Wang JH", "Jun Li", "Carla Cruz"],
    ]
    return [
        profile_of(
            Signature(
                signature_id=f"s{k}",
                paper_id=f"p{k}",
                author="Wei Wang",
                coauthors=tuple(team),
                title="Holographic entropy" if k % 2 else "Neural translation",
                categories=("hep-th",),
            )
        )
        for k, team in enumerate(teams)
    ]


def test_a_pool_resolves_its_coauthors_as_the_union_of_its_members():
    profiles = _printed_block()
    pools = [merge_profiles(profiles[:3]), merge_profiles(profiles[2:]), merge_profiles(profiles)]
    through_members = CoauthorResolver(profiles)
    for profile in profiles:
        through_members.resolve(profile)
    assert all(through_members._members_resolved(pool) is not None for pool in pools)
    by_sets = CoauthorResolver(profiles)  # knows no member: resolves the pools' own sets
    assert through_members.ambiguous  # the block has ambiguous keys to resolve
    for pool in pools:
        assert by_sets._members_resolved(pool) is None
        assert through_members.resolve(pool) == by_sets.resolve(pool)


def test_a_pool_puts_its_sets_and_token_lists_together_when_read():
    profiles = _printed_block()
    pool = merge_profiles(profiles)
    assert pool.coauthor_keys == frozenset().union(*(p.coauthor_keys for p in profiles))
    assert pool.coauthor_names == frozenset().union(*(p.coauthor_names for p in profiles))
    assert pool.coauthor_first_names == frozenset().union(
        *(p.coauthor_first_names for p in profiles)
    )
    assert pool.title_tokens == tuple(t for p in profiles for t in p.title_tokens)
    assert pool.where_tokens == tuple(t for p in profiles for t in p.where_tokens)
    assert pool.common_keys == frozenset().union(*(p.common_keys for p in profiles))
    assert pool.initialled_names == {"j wang|.jh"}
    assert pool.venues == frozenset() and pool.years == ()
    assert pool.size == len(profiles) and pool.paper_ids == {f"p{k}" for k in range(6)}
    assert merge_profiles([profiles[0]]) is profiles[0]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("abstracts", [True, False])
def test_a_rounds_pools_made_together_are_the_rows_made_one_by_one(seed, abstracts):
    rng = random.Random(seed)
    profiles = _random_profiles(rng, 30, 60, abstracts=abstracts)
    # Two vocabularies that have numbered the same first stage; some signatures left out, so
    # that a pool of them has to be counted, numbering its tokens in the middle of the round.
    together, one_by_one = (BlockVocabulary(CoauthorResolver(profiles)) for _ in range(2))
    unseen = set(rng.sample(range(len(profiles)), 5))
    for k, profile in enumerate(profiles):
        if k not in unseen:
            together.rows(profile)
            one_by_one.rows(profile)
    labels = np.array([rng.randrange(8) for _ in profiles])
    pooled, _ = cluster_profiles(profiles, labels)
    pooled = [*pooled, pooled[0]]  # a profile given twice is made once

    made = together.rows_of(pooled)

    expected = [one_by_one.rows(profile) for profile in pooled]
    assert together._ids == one_by_one._ids  # the same tokens numbered in the same order
    for rows, counted in zip(made, expected, strict=True):
        _assert_same_rows(rows, counted)
    assert made[0] is made[-1]
