"""Clustering scenarios with the shipped model (works.identity.cluster_block, link, cohesion)."""

import itertools

import pytest

from works.identity import ConstraintConflict, Signature, cluster_block, cohesion, link

_numbers = itertools.count()


def sig(author, coauthors=(), categories=(), title="", year=2020, paper=None, sid=None):
    number = next(_numbers)
    return Signature(
        signature_id=sid or f"s{number}",
        paper_id=paper or f"p{number}",
        author=author,
        coauthors=tuple(coauthors),
        title=title,
        year=year,
        categories=tuple(categories),
    )


def as_sets(clusters):
    return {frozenset(c) for c in clusters}


def two_wei_wangs():
    physics = [
        sig(
            "Wei Wang",
            ["Anna Alvarez", "Boris Becker"],
            ["hep-th"],
            f"Holographic entanglement entropy of black holes part {k}",
            2015 + k,
            sid=f"hep{k}",
        )
        for k in range(4)
    ]
    language = [
        sig(
            "Wei Wang",
            ["Carla Cruz", "Dmitri Dorn"],
            ["cs.CL"],
            f"Neural machine translation with pretrained language models {k}",
            2019 + k,
            sid=f"nlp{k}",
        )
        for k in range(4)
    ]
    return physics, language


def test_two_wei_wangs_with_different_coauthors_and_fields_are_two_people():
    physics, language = two_wei_wangs()
    clusters = cluster_block(physics + language)
    assert as_sets(clusters) == {
        frozenset(s.signature_id for s in physics),
        frozenset(s.signature_id for s in language),
    }


def test_two_wei_wangs_on_one_paper_are_two_people():
    first = sig("Wei Wang", ["Wei Wang", "Anna Alvarez"], ["hep-th"], "Strings", paper="p", sid="a")
    second = sig(
        "Wei Wang", ["Wei Wang", "Anna Alvarez"], ["hep-th"], "Strings", paper="p", sid="b"
    )
    assert as_sets(cluster_block([first, second])) == {frozenset({"a"}), frozenset({"b"})}


def test_zhengyan_zhang_printed_several_ways_with_a_shared_coauthor_is_one_person():
    printings = ["Zhengyan Zhang", "Zhang Zhengyan", "Zheng-Yan Zhang", "ZhengYan Zhang"]
    signatures = [
        sig(
            printed,
            ["Maosong Sun", "Zhiyuan Liu"],
            ["cs.CL"],
            f"Knowledge enhanced pretrained language models study {k}",
            2019 + k,
            sid=f"z{k}",
        )
        for k, printed in enumerate(printings)
    ]
    assert as_sets(cluster_block(signatures)) == {frozenset({"z0", "z1", "z2", "z3"})}


def test_an_initial_without_shared_evidence_is_not_joined():
    full = [
        sig("Zhengyan Zhang", ["Maosong Sun"], ["cs.CL"], "Pretrained language models", 2021)
        for _ in range(3)
    ]
    initial = sig("Z. Zhang", ["Olga Orlova"], ["math.AG"], "Moduli of curves", 1998, sid="init")
    clusters = cluster_block([*full, initial])
    assert frozenset({"init"}) in as_sets(clusters)


def test_not_a_person_comes_back_alone():
    people = [sig("ATLAS Collaboration", sid="org"), sig("et al.", sid="etal")]
    assert as_sets(cluster_block(people)) == {frozenset({"org"}), frozenset({"etal"})}


def test_must_link_is_obeyed_without_any_evidence():
    physics, language = two_wei_wangs()
    clusters = cluster_block(physics + language, must_link=[("hep0", "nlp0")])
    together = next(c for c in clusters if "hep0" in c)
    assert "nlp0" in together


def test_must_link_overrides_incompatible_names():
    william = sig("William Smith", ["Ann Lee"], ["hep-th"], "Branes", sid="william")
    bill = sig("Bill Smith", ["Ann Lee"], ["hep-th"], "Branes", sid="bill")
    assert as_sets(cluster_block([william, bill])) == {frozenset({"william"}), frozenset({"bill"})}
    assert as_sets(cluster_block([william, bill], must_link=[("bill", "william")])) == {
        frozenset({"william", "bill"})
    }


def test_cannot_link_is_obeyed_even_through_a_third_signature():
    physics, _ = two_wei_wangs()
    clusters = cluster_block(physics, cannot_link=[("hep0", "hep3")])
    home = {s: next(k for k, c in enumerate(clusters) if s in c) for s in ("hep0", "hep3")}
    assert home["hep0"] != home["hep3"]


def test_contradicting_constraints_raise():
    physics, _ = two_wei_wangs()
    with pytest.raises(ConstraintConflict):
        cluster_block(
            physics, must_link=[("hep0", "hep1"), ("hep1", "hep2")], cannot_link=[("hep0", "hep2")]
        )


def test_link_sends_a_new_paper_to_the_person_with_its_coauthors():
    physics, language = two_wei_wangs()
    existing = {"physics": physics, "language": language}
    new_physics = sig(
        "W. Wang", ["Anna Alvarez", "Boris Becker"], ["hep-th"], "Holographic entropy", 2020,
        sid="new-hep",
    )  # fmt: skip
    stranger = sig("Wei Wang", ["Xavier Xu"], ["q-bio.GN"], "Genome assembly", 2001, sid="new-bio")
    result = link([new_physics, stranger], existing)
    assert result.assignments == {"new-hep": "physics"}
    assert result.new_clusters == [["new-bio"]]


def test_link_obeys_not_mine():
    physics, language = two_wei_wangs()
    new_physics = sig(
        "Wei Wang", ["Anna Alvarez", "Boris Becker"], ["hep-th"], "Holographic entropy", 2020,
        sid="new-hep",
    )  # fmt: skip
    result = link(
        [new_physics],
        {"physics": physics, "language": language},
        cannot_link=[("new-hep", "hep2")],
    )
    assert result.assignments == {}
    assert result.new_clusters == [["new-hep"]]


def test_link_obeys_an_owner_confirmation():
    physics, language = two_wei_wangs()
    unrelated = sig("Wei Wang", ["Xavier Xu"], ["q-bio.GN"], "Genome assembly", 2001, sid="mine")
    result = link(
        [unrelated], {"physics": physics, "language": language}, must_link=[("nlp1", "mine")]
    )
    assert result.assignments == {"mine": "language"}


def test_cohesion_flags_a_record_of_two_people_and_not_a_coherent_one():
    physics, language = two_wei_wangs()
    assert cohesion(physics + language).possibly_several_people
    coherent = cohesion(physics)
    assert not coherent.possibly_several_people
    assert coherent.parts == (4,)
