"""The comparison of an ORCID record with an author record, and the rule for instant approval."""

from __future__ import annotations

import pytest

from profiles.orcid.documents import OrcidPerson, OrcidWork
from profiles.orcid.evidence import (
    LISTED_WORKS_CAP,
    RecordWork,
    Signature,
    compare,
    family_names,
    names_compatible,
)

ORCID = "0000-0002-1825-0097"
PERSON = OrcidPerson(orcid=ORCID, given_names="Zhengyan", family_name="Zhang")


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Zhengyan Zhang", "Z. Zhang"),
        ("Zhengyan Zhang", "Zhang Zhengyan"),
        ("Zhengyan Zhang", "Zhang, Zhengyan"),
        ("Ji-Rong Wen", "Jirong Wen"),
        ("Ji-Rong Wen", "J.-R. Wen"),
        ("José Müller", "Jose Muller"),
        ("Floris van der Tak", "F. van der Tak"),
        ("John Adam Smith", "John Smith"),
        ("J. Smith", "John A. Smith"),
    ],
)
def test_compatible_names(one, other):
    assert names_compatible(one, other)
    assert names_compatible(other, one)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("John Smith", "James Smith"),  # two different full given names never agree
        ("Wei Wang", "Wei Zhang"),
        ("Z. Zhang", "Y. Zhang"),
        ("Zhang", "Zhengyan Zhang"),  # a family name alone says nothing
        ("Adam Smith", "John Adam Smith"),
        ("", "Zhengyan Zhang"),
    ],
)
def test_incompatible_names(one, other):
    assert not names_compatible(one, other)


def test_family_names_cover_both_orders():
    assert family_names(["Zhengyan Zhang", "Zhang"]) == {"zhengyan", "zhang"}


def _works(*ids: str) -> list[RecordWork]:
    return [RecordWork(arxiv_id=i, title=f"Work {i}", dois=(f"10.1000/{i}",)) for i in ids]


def _listed(*ids: str, dois: tuple[str, ...] = (), by: str = "Crossref") -> list[OrcidWork]:
    """ORCID works listing these ids, put there by `by` ("" for the holder themselves)."""
    works = [OrcidWork(f"On ORCID {i}", frozenset({i}), frozenset(), asserted_by=by) for i in ids]
    works += [OrcidWork(f"DOI {d}", frozenset(), frozenset({d}), asserted_by=by) for d in dois]
    return works


def _signature(arxiv_id: str, name: str, *, claimed=False, record_id=50, work_id=None):
    return Signature(
        authorship_id=record_id * 100,
        work_id=work_id or int(arxiv_id.replace(".", "")[-5:]),
        arxiv_id=arxiv_id,
        title=f"Elsewhere {arxiv_id}",
        printed_name=name,
        record_id=record_id,
        record_slug=f"record-{record_id}",
        record_name=name,
        claimed_by_other=claimed,
    )


def _compare(record_works, orcid_works, signatures=(), **kwargs):
    return compare(
        person=kwargs.pop("person", PERSON),
        orcid_works=orcid_works,
        record_names=kwargs.pop("record_names", ["Zhengyan Zhang", "Z. Zhang"]),
        record_works=record_works,
        signatures=list(signatures),
        **kwargs,
    )


def test_two_matching_works_and_a_compatible_name_are_enough():
    comparison = _compare(
        _works("2101.00001", "2101.00002", "2101.00003"),
        _listed("2101.00001", dois=("10.1000/2101.00003",)),
    )

    assert comparison.enough
    assert comparison.matched == [
        {
            "arxiv_id": "2101.00001",
            "title": "Work 2101.00001",
            "via": "arXiv id",
            "asserted_by": "Crossref",
        },
        {
            "arxiv_id": "2101.00003",
            "title": "Work 2101.00003",
            "via": "DOI",
            "asserted_by": "Crossref",
        },
    ]
    assert comparison.missing == [{"arxiv_id": "2101.00002", "title": "Work 2101.00002"}]
    assert comparison.reason == (
        f"The ORCID record {ORCID}, authenticated by signing in with ORCID, lists 2 of this "
        "record's 3 works (arXiv:2101.00001, arXiv:2101.00003), put there by Crossref, not by "
        "its holder; its name (Zhengyan Zhang) is compatible with the record's, and none of its "
        "works sits on a record another account has claimed."
    )


def test_works_the_holder_listed_themselves_prove_nothing():
    comparison = _compare(
        _works("2101.00001", "2101.00002", "2101.00003"),
        _listed("2101.00001", "2101.00002", by="") + _listed("2101.00003", by="DataCite"),
    )

    assert not comparison.enough
    assert comparison.matched_ids == ["2101.00001", "2101.00002", "2101.00003"]
    assert comparison.confirmed_ids == ["2101.00003"]
    assert comparison.reason == (
        "Not approved at once: a publisher or registry listed 1 of the record's 3 works on the "
        "ORCID record (2 more listed by the holder themselves, which proves nothing), and 2 are "
        "needed. An admin decides."
    )


def test_a_work_listed_by_the_holder_and_by_a_registry_counts():
    comparison = _compare(
        _works("2101.00001", "2101.00002"),
        _listed("2101.00001", "2101.00002", by="") + _listed("2101.00001", "2101.00002"),
    )

    assert comparison.enough
    assert comparison.confirmed_ids == ["2101.00001", "2101.00002"]


def test_one_matching_work_of_several_is_not_enough():
    comparison = _compare(_works("2101.00001", "2101.00002"), _listed("2101.00001"))

    assert not comparison.enough
    assert comparison.reason == (
        "Not approved at once: a publisher or registry listed 1 of the record's 2 works on the "
        "ORCID record, and 2 are needed. An admin decides."
    )


def test_the_only_work_of_a_record_is_enough():
    comparison = _compare(_works("2101.00001"), _listed("2101.00001"))

    assert comparison.enough
    assert comparison.confirmed_ids == ["2101.00001"]


def test_no_matching_work_is_not_enough():
    comparison = _compare(_works("2101.00001"), _listed("2201.00009"))

    assert not comparison.enough
    assert comparison.not_found == 1


def test_an_incompatible_name_is_not_enough():
    comparison = _compare(
        _works("2101.00001", "2101.00002"),
        _listed("2101.00001", "2101.00002"),
        person=OrcidPerson(orcid=ORCID, given_names="Wei", family_name="Wang"),
    )

    assert not comparison.enough
    assert "the ORCID record's name (Wei Wang) is not compatible with the record's" in (
        comparison.reason
    )


def test_a_hidden_name_is_not_enough():
    comparison = _compare(
        _works("2101.00001", "2101.00002"),
        _listed("2101.00001", "2101.00002"),
        person=OrcidPerson(orcid=ORCID),
    )

    assert not comparison.enough
    assert "(not public)" in comparison.reason


def test_a_record_flagged_as_several_people_is_not_enough():
    comparison = _compare(
        _works("2101.00001", "2101.00002"),
        _listed("2101.00001", "2101.00002"),
        flagged_several=True,
    )

    assert not comparison.enough
    assert "flagged as possibly several people" in comparison.reason


def test_a_listed_work_on_a_record_another_account_claimed_is_a_conflict():
    comparison = _compare(
        _works("2101.00001", "2101.00002"),
        _listed("2101.00001", "2101.00002", "2201.00005"),
        [_signature("2201.00005", "Z. Zhang", claimed=True)],
    )

    assert not comparison.enough
    assert comparison.conflicting == [
        {
            "arxiv_id": "2201.00005",
            "title": "Elsewhere 2201.00005",
            "work_id": 5,
            "record_slug": "record-50",
            "record_name": "Z. Zhang",
        }
    ]
    assert "1 work(s) it lists sit on records other accounts have claimed (arXiv:2201.00005)" in (
        comparison.reason
    )


def test_works_on_other_unclaimed_records_are_offered_when_one_signature_fits():
    comparison = _compare(
        _works("2101.00001", "2101.00002"),
        _listed("2101.00001", "2101.00002", "2201.00005", "2201.00006", "2201.00007")
        + _listed("2201.00008", by=""),
        [
            _signature("2201.00005", "Zhengyan Zhang", record_id=51),
            # A co-author who shares the family name only: not the claimant.
            _signature("2201.00005", "Yu Zhang", record_id=52),
            # Two namesakes on one paper: nobody can tell which is the claimant.
            _signature("2201.00006", "Z. Zhang", record_id=53),
            _signature("2201.00006", "Zhengyan Zhang", record_id=54),
            # A signature that cannot be the claimant's at all.
            _signature("2201.00007", "Wei Wang", record_id=55),
            # Only the holder listed it: never offered.
            _signature("2201.00008", "Zhengyan Zhang", record_id=56),
        ],
    )

    assert comparison.enough
    assert [(w["arxiv_id"], w["record_id"]) for w in comparison.elsewhere] == [("2201.00005", 51)]
    assert comparison.ambiguous == 1
    assert comparison.self_asserted_elsewhere == 1
    assert comparison.conflicting == []


def test_the_stored_comparison_is_capped_but_counts_everything():
    ids = [f"2101.{n:05d}" for n in range(LISTED_WORKS_CAP + 20)]
    stored = _compare(_works(*ids), _listed()).to_json()

    assert len(stored["missing"]) == LISTED_WORKS_CAP
    assert stored["missing_count"] == LISTED_WORKS_CAP + 20
    assert stored["enough"] is False
