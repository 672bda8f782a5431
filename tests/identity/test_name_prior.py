"""The name-commonness prior and the collaboration discount, with the shipped model."""

import itertools

import numpy as np

from works.identity import Signature, cluster_block, default_model
from works.identity.features import (
    COMMON,
    FEATURE_NAMES,
    name_commonness,
    profile_of,
    small_block_features,
)
from works.identity.names import parse_name

_numbers = itertools.count()


def sig(author, coauthors=(), categories=(), title="", year=2020):
    number = next(_numbers)
    return Signature(
        signature_id=f"s{number}",
        paper_id=f"p{number}",
        author=author,
        coauthors=tuple(coauthors),
        title=title,
        year=year,
        categories=tuple(categories),
    )


def feature(name, features):
    return features[:, FEATURE_NAMES.index(name)]


def test_a_rare_name_is_rare_only_where_its_count_is_known_and_small():
    del_maestro = parse_name("Adrian Del Maestro")

    assert name_commonness(del_maestro, 10) == np.log1p(10)
    assert name_commonness(del_maestro, None) == COMMON  # unknown: common, never rare
    assert name_commonness(del_maestro, 50_000) == COMMON
    # However few of them a corpus holds, a Wang is common.
    assert name_commonness(parse_name("Wei Wang"), 3) == COMMON


def test_a_rare_identical_full_name_in_one_field_is_one_person():
    # Four papers, no co-author and no title word in common, one field.
    papers = [
        sig(
            "Adrian Del Maestro",
            [coauthor],
            categories,
            title,
            year,
        )
        for coauthor, categories, title, year in [
            ("Ian Affleck", ["cond-mat.stat-mech"], "Interacting bosons in one dimension", 2010),
            ("Subir Sachdev", ["cond-mat.str-el"], "Thermal melting of density waves", 2006),
            ("Michel Gingras", ["cond-mat.mtrl-sci"], "Low temperature specific heat", 2004),
            ("Gila Gervais", ["cond-mat.mes-hall"], "A Luttinger liquid core in nanopores", 2011),
        ]
    ]

    assert cluster_block(papers) == [[s.signature_id for s in papers]]


def test_a_common_identical_name_with_disjoint_coauthors_and_fields_stays_two_people():
    physics = [
        sig("Wei Wang", ["Anna Alvarez"], ["hep-th"], f"Black hole entropy {k}") for k in range(3)
    ]
    language = [
        sig("Wei Wang", ["Carla Cruz"], ["cs.CL"], f"Machine translation {k}") for k in range(3)
    ]

    clusters = {frozenset(c) for c in cluster_block(physics + language)}

    assert clusters == {
        frozenset(s.signature_id for s in physics),
        frozenset(s.signature_id for s in language),
    }


def test_the_prior_is_for_identical_full_names_in_a_shared_field_only():
    signatures = [
        sig("Adrian Del Maestro", ["Subir Sachdev"], ["cond-mat.str-el"]),
        sig("Adrian Del Maestro", ["Ian Affleck"], ["cond-mat.stat-mech"]),
        sig("A. Del Maestro", ["Roger Melko"], ["cond-mat.str-el"]),
        sig("Adrian Del Maestro", ["Carla Cruz"], ["cs.CL"]),
    ]
    profiles = [profile_of(s, 10) for s in signatures]
    left, right, features, _ = small_block_features(profiles)
    pairs = list(zip(left.tolist(), right.tolist(), strict=True))
    rarity = dict(zip(pairs, feature("rare_full_name", features), strict=True))
    same_field = dict(zip(pairs, feature("rare_name_same_field", features), strict=True))

    assert rarity[(0, 1)] == same_field[(0, 1)] == np.float32(COMMON - np.log1p(10))
    assert rarity[(0, 2)] == same_field[(0, 2)] == 0.0  # an initial: evidence must do it
    assert rarity[(0, 3)] > 0.0
    assert same_field[(0, 3)] == 0.0  # cond-mat and cs.CL share nothing


def test_between_two_500_author_works_shared_coauthors_count_for_nothing():
    collaboration = [f"Member Number{k}" for k in range(499)]
    big = [
        sig("Wei Wang", collaboration, ["hep-ex"], f"Measurement {k}", 2015 + k) for k in range(2)
    ]
    small = [
        sig("Wei Wang", collaboration[:3], ["hep-ex"], f"Measurement {k}", 2015 + k)
        for k in range(2)
    ]
    model = default_model()
    big_features = small_block_features([profile_of(s) for s in big])[2]
    small_features = small_block_features([profile_of(s) for s in small])[2]

    assert feature("log_shared_coauthors", big_features).tolist() == [0.0]
    assert feature("coauthor_overlap", big_features).tolist() == [0.0]
    # Three shared co-authors on small papers are evidence; 499 on collaboration papers not.
    assert model.signatures.predict(big_features)[0] < model.signatures.predict(small_features)[0]


def test_a_small_papers_team_found_on_a_big_work_still_counts():
    team = [f"Member Number{k}" for k in range(9)]
    big = sig("Wei Wang", team + [f"Other Person{k}" for k in range(190)], ["cs.CL"])
    small = sig("Wei Wang", team, ["cs.CL"])

    features = small_block_features([profile_of(big), profile_of(small)])[2]

    assert feature("log_shared_coauthors", features).tolist() == [np.float32(np.log1p(9))]


def test_a_two_syllable_given_name_under_a_common_east_asian_surname_is_as_common_as_counted():
    from works.identity.names import is_common_name

    # One-syllable given names under the commonest surnames are worn by hundreds of thousands.
    assert is_common_name(parse_name("Wei Zhang"))
    assert is_common_name(parse_name("Z. Zhang"))
    assert is_common_name(parse_name("Thomas Taylor"))  # not East Asian: the surname decides
    # Two syllables spread over thousands of combinations: the corpus count says.
    assert not is_common_name(parse_name("Zhengyan Zhang"))
    assert not is_common_name(parse_name("Zheng-Yan Zhang"))
    assert not is_common_name(parse_name("Adrian Del Maestro"))
    assert name_commonness(parse_name("Zhengyan Zhang"), 12) == np.log1p(12)
    assert name_commonness(parse_name("Wei Zhang"), 12) == COMMON


def test_the_smaller_coauthor_count_is_read_on_a_log_scale():
    # A linear model would extrapolate a raw count of 118 far beyond the labelled data's 88.
    big = sig("Ann Lee", coauthors=[f"Person Number{n}" for n in range(118)], categories=["cs.CL"])
    bigger = sig(
        "Ann Lee", coauthors=[f"Other Person{n}" for n in range(200)], categories=["cs.CL"]
    )

    _, _, features, _ = small_block_features([profile_of(big), profile_of(bigger)])

    assert feature("min_coauthor_count", features)[0] == np.float32(np.log1p(118))
