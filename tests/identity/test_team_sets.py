"""A big paper's team is parsed once for all its authors: each author's co-author sets must be
what parsing the author's own list gives."""

import pytest

from works.identity.signature import _SHARED_TEAM_MIN, Signature, _coauthor_sets, _team

# "Jian Wangx" keys to "j wangx", which sorts between "j wang" and "j wang|jian": the printings
# of one key must be found as a whole, not as a run of similar strings.
TEAM = [
    "Jian Wang",
    "J. Wang",
    "Jun Wang",
    "Jian Wangx",
    "J. Wangx",
    "J. H. Wang",
    "Wang Jian",
    "DeepSeek-AI",
    "Anna Alvarez",
    "A. Alvarez",
    *[f"Member Number{k}" for k in range(_SHARED_TEAM_MIN)],
]


@pytest.mark.parametrize(
    "author", ["Jian Wang", "J. Wang", "Jian Wangx", "J. H. Wang", "Anna Alvarez", "DeepSeek-AI"]
)
def test_each_author_of_a_big_paper_gets_the_sets_of_its_own_co_author_list(author):
    coauthors = tuple(name for name in TEAM if name != author)
    signature = Signature("s", "p", author, coauthors=coauthors)
    assert len(coauthors) >= _SHARED_TEAM_MIN  # the shared-team path
    own = f"{signature.name.first_initial} {signature.name.surname}" if signature.name else None
    keys, names, first_names = _coauthor_sets(coauthors, own)
    assert signature.coauthor_keys == keys
    assert signature.coauthor_names == names
    assert signature.coauthor_first_names == first_names


def test_a_key_finds_every_printing_of_it_and_no_other():
    team = _team(frozenset(TEAM))
    assert team.names_of("j wang") == {n for n in team.names if n.partition("|")[0] == "j wang"}
    assert len(team.names_of("j wang")) >= 3
    assert all(n.startswith("j wangx") for n in team.names_of("j wangx"))
    assert team.first_names_of("j wang") == {p for p in team.first_names if p[0] == "j wang"}
    assert team.names_of("z nobody") == frozenset() == team.names_of(None)
