"""Signature.from_record reads a labelled line's fields as what they mean, however printed."""

import pytest

from works.identity.signature import Signature


def _signature(**fields) -> Signature:
    return Signature.from_record({"signature_id": 7, "author": "Wei Wang", **fields})


@pytest.mark.parametrize(
    ("printed", "year"), [(2019, 2019), ("2019", 2019), (2019.0, 2019), ("n/a", None), ("", None)]
)
def test_a_year_is_a_number_or_unknown(printed, year):
    assert _signature(year=printed).year == year


@pytest.mark.parametrize(("printed", "position"), [(3, 3), ("3", 3), (None, -1), ("first", -1)])
def test_a_position_is_a_number_or_unknown(printed, position):
    assert _signature(position=printed).position == position


def test_categories_printed_as_arxiv_prints_them_are_split():
    assert _signature(categories="hep-th gr-qc").categories == ("hep-th", "gr-qc")
    assert _signature(categories=["hep-th", "gr-qc"]).categories == ("hep-th", "gr-qc")


def test_one_name_or_affiliation_given_as_a_string_is_one_item_not_its_letters():
    signature = _signature(coauthors="Erin Evans", affiliations="CERN, Geneva")

    assert signature.coauthors == ("Erin Evans",)
    assert signature.coauthor_keys == frozenset({"e evans"})
    assert signature.affiliations == ("CERN, Geneva",)


def test_ids_printed_as_numbers_are_text():
    signature = _signature(paper_id=12)

    assert (signature.signature_id, signature.paper_id) == ("7", "12")
