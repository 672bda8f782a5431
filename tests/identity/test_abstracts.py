"""Abstracts reach the identity model only when it was trained on some.

The shipped model learnt from AMiner, which has none: its ``text_cos`` is a title similarity,
and an abstract would shift it where no label ever checked the shift.
"""

import dataclasses

from works import clustering
from works.identity.model import IdentityModel, default_model
from works.identity.signature import Signature

ABSTRACT = "We compute the spin susceptibility of frustrated kagome magnets with tensor networks."


def _row(number: int, abstract: str = ABSTRACT) -> dict:
    return {
        "signature_id": str(number),
        "paper_id": f"p{number}",
        "author": "Wei Wang",
        "coauthors": [],
        "title": ["Notes on lattices", "Protein folding in crowds", "Spin liquids"][number % 3],
        "abstract": abstract,
        "year": 2000 + number,
        "categories": ["cond-mat.str-el" if number % 2 else "q-bio.BM"],
    }


def test_the_shipped_model_was_trained_without_abstracts_and_says_so():
    assert default_model().reads_abstracts is False
    assert IdentityModel.from_dict(default_model().to_dict()).reads_abstracts is False


def test_a_model_file_without_the_key_is_one_that_never_read_abstracts():
    data = default_model().to_dict()
    del data["reads_abstracts"]
    assert IdentityModel.from_dict(data).reads_abstracts is False


def test_signatures_keep_their_abstract_only_for_a_model_that_reads_them(monkeypatch):
    (shipped,) = clustering._signatures_for([_row(1)])
    assert shipped.abstract == "" and shipped.abstract_tokens == ()
    assert shipped.title_tokens  # the title is still read

    reading = dataclasses.replace(default_model(), reads_abstracts=True)
    monkeypatch.setattr(clustering, "default_model", lambda: reading)
    (kept,) = clustering._signatures_for([_row(1)])
    assert kept.abstract_tokens == Signature.from_record(_row(1)).abstract_tokens
    assert "kagom" in " ".join(kept.abstract_tokens)


def test_the_rows_read_from_the_database_leave_abstracts_out(db):
    from tests.factories import AuthorRecordFactory, WorkFactory, add_authors

    work = WorkFactory(abstract="A long abstract about kagome magnets.")
    (signature,) = add_authors(work, [AuthorRecordFactory()])

    (row,) = clustering.labelled_rows([signature])

    assert row["abstract"] == ""
    assert row["title"] == work.title
