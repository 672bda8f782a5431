"""Co-authors read as stored when their rows were written (Authorship.coauthor_name) give a
signature the very sets that parsing their printed names gives."""

import json
from pathlib import Path

import pytest

from works.identity.names import coauthor_name
from works.identity.signature import _SHARED_TEAM_MIN, Signature

SNAPSHOT = (
    Path(__file__).resolve().parents[1] / "fixtures" / "arxiv" / "kaggle_snapshot_first200.jsonl"
)
# Printings that take every branch of coauthor_name: a full first name, initials of a common
# surname ("j wang|.jh"), a bare key, an organisation, junk, LaTeX, name order.
NAMES = [
    "Jian Wang",
    "J. Wang",
    "J. H. Wang",
    "Wang JH",
    "Wang Jian",
    "Mukesh K. Mohania",
    "M. Mohania",
    "DeepSeek-AI",
    "ATLAS Collaboration",
    "et al.",
    "Zh\\`engyan Zhang",
    "Zhang, Zhengyan",
    "Hong (Iris) Xie",
    "J. Smith (MIT)",
    "Plato",
]


def _both(author: str, coauthors: list[str]) -> tuple[Signature, Signature]:
    stored = tuple(coauthor_name(name) or "" for name in coauthors)
    printed = Signature("s", "p", author, coauthors=tuple(coauthors))
    kept = Signature("s", "p", author, coauthors=tuple(coauthors), stored_coauthor_names=stored)
    return printed, kept


def _sets(signature: Signature) -> tuple:
    return (
        signature.coauthor_keys,
        signature.coauthor_names,
        signature.coauthor_first_names,
    )


SMALL_TEAM = ["Mukesh K. Mohania", "J. H. Wang", "DeepSeek-AI", "Jian Wang"]
BIG_TEAM = [*NAMES, *(f"Member Number{k}" for k in range(_SHARED_TEAM_MIN))]


@pytest.mark.parametrize("author", ["Jian Wang", "J. Wang", "Mukesh Mohania", "DeepSeek-AI"])
@pytest.mark.parametrize("team", [SMALL_TEAM, BIG_TEAM], ids=["own list", "shared team"])
def test_stored_names_give_the_sets_parsing_gives(author, team):
    printed, kept = _both(author, team)

    assert _sets(kept) == _sets(printed)
    assert any(_sets(printed))


def test_stored_names_of_real_arxiv_records_give_the_sets_parsing_gives():
    records = [json.loads(line) for line in SNAPSHOT.read_text().splitlines()]
    compared = 0
    for record in records:
        team = [
            f"{forenames} {surname}".strip() for surname, forenames, *_ in record["authors_parsed"]
        ]
        team += [name.strip() for name in record["authors"].split(",")]
        for place, author in enumerate(team):
            printed, kept = _both(author, team[:place] + team[place + 1 :])
            assert _sets(kept) == _sets(printed), (record["id"], author)
            compared += 1
    assert compared > 1000


def test_a_row_with_stored_names_parses_none_of_its_co_authors(monkeypatch):
    from works.identity import signature as module

    parse = module.coauthor_parts

    def only_the_author(name):
        assert name == "Zhengyan Zhang", f"{name!r} parsed"
        return parse(name)

    monkeypatch.setattr(module, "coauthor_parts", only_the_author)
    row = {
        "signature_id": "1",
        "author": "Zhengyan Zhang",
        "coauthors": ["Maosong Sun", "Z. Liu", "DeepSeek-AI"],
        "coauthor_names": ["m sun|maosong", "z liu", ""],
    }
    kept = Signature.from_record(row)

    assert kept.coauthor_keys == {"m sun", "z liu"}
    assert kept.coauthor_names == {"m sun|maosong", "z liu"}
    assert kept.coauthor_first_names == {("m sun", "maosong")}
    # a row without them (a labelled file) parses its co-authors, as before
    del row["coauthor_names"]
    with pytest.raises(AssertionError, match="parsed"):
        Signature.from_record(row)


def test_rows_read_from_the_database_carry_the_stored_names_when_the_whole_team_has_them(db):
    from tests.factories import AuthorRecordFactory, WorkFactory, add_authors
    from works import clustering
    from works.models import Authorship

    names = ["Zhengyan Zhang", "Maosong Sun", "Z. Liu"]
    work = WorkFactory()
    signatures = add_authors(work, [AuthorRecordFactory(display_name=name) for name in names])
    team = Authorship.objects.filter(work=work)
    for signature in signatures:
        team.filter(pk=signature.pk).update(coauthor_name=coauthor_name(signature.printed_name))

    rows = clustering.labelled_rows(signatures)

    assert list(rows[0]["coauthor_names"]) == ["m sun|maosong", "z liu"]
    assert list(rows[2]["coauthor_names"]) == ["z zhang|zhengyan", "m sun|maosong"]
    parsed = [Signature.from_record({**row, "coauthor_names": None}) for row in rows]
    assert [_sets(s) for s in clustering._signatures_for(rows)] == [_sets(s) for s in parsed]
    # one row written before the names were kept: the team is parsed
    team.filter(pk=signatures[1].pk).update(coauthor_name=None)
    assert all(row["coauthor_names"] is None for row in clustering.labelled_rows(signatures))
