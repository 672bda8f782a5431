"""The signature: one author position on one work, with what identity needs precomputed.

Pure, no Django. :meth:`Signature.from_record` reads the labelled JSON-lines
format of ``shared/identity/README.md`` (the ``cluster`` field, when present,
is kept apart in :attr:`Signature.truth` and never read by clustering).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import InitVar, dataclass, field
from functools import lru_cache

from works.identity.names import (
    NameParts,
    coauthor_parts,
    coauthor_parts_of_name,
    parse_name,
    parts_as_coauthor,
)

__all__ = ["MAX_COUNTED_AUTHORS", "Signature", "text_tokens", "where_tokens"]

# A work with more authors than this is a collaboration paper: between two of them
# shared co-authors say nothing about who is who (two namesakes in one collaboration
# share hundreds), so pairs of such signatures get no co-author evidence
# (works.identity.features). Against a small paper they still count: the small
# paper's team found on the big one is that team.
MAX_COUNTED_AUTHORS = 100

_WORD_RE = re.compile(r"[a-z0-9]+")
_DIGITS_RE = re.compile(r"\d+")
# Words that say nothing about a topic, a venue or a place of work.
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "for",
        "and",
        "or",
        "in",
        "on",
        "at",
        "to",
        "by",
        "with",
        "from",
        "into",
        "via",
        "using",
        "based",
        "towards",
        "toward",
        "its",
        "their",
        "our",
        "we",
        "is",
        "are",
        "be",
        "as",
        "this",
        "that",
        "these",
        "those",
        "new",
        "novel",
        "approach",
        "study",
        "analysis",
        "method",
        "methods",
        "paper",
        "results",
        "result",
        "use",
        "case",
        "some",
        "two",
        "one",
        "non",
        "under",
        "over",
        "between",
        "university",
        "univ",
        "dept",
        "department",
        "school",
        "college",
        "institute",
        "inst",
        "laboratory",
        "lab",
        "labs",
        "faculty",
        "center",
        "centre",
        "research",
        "science",
        "sciences",
        "national",
        "state",
        "key",
        "engineering",
        "technology",
        "road",
        "street",
        "china",
        "usa",
        "ieee",
        "acm",
        "proceedings",
        "proc",
        "international",
        "intl",
        "conference",
        "conf",
        "journal",
        "transactions",
        "trans",
        "symposium",
        "workshop",
        "annual",
        "letters",
        "review",
    ]
)


def _fold(text: str) -> str:
    if text.isascii():  # most abstracts: nothing to decompose, and a char-by-char pass saved
        return text.casefold()
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).casefold()


def _stem(word: str) -> str:
    """Plural and simple suffix folding: "networks" = "network", "queries" = "query"."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def text_tokens(text: str) -> tuple[str, ...]:
    """Content words of a title, abstract or affiliation, folded and stemmed."""
    words = _WORD_RE.findall(_fold(text or ""))
    return tuple(filter(None, map(_content_word, words)))


@lru_cache(maxsize=1 << 16)
def short_text_tokens(text: str) -> tuple[str, ...]:
    """:func:`text_tokens` of a title or an affiliation, cached: every author of a work
    is a signature carrying its title, and linking reads each block's members again."""
    return text_tokens(text)


@lru_cache(maxsize=1 << 18)
def _content_word(word: str) -> str:
    """The word stemmed, or "" when it is no content word. Cached: a 1 KB abstract
    holds 150 words, nearly all seen before, and the checks cost more than a lookup."""
    if len(word) > 2 and word not in _STOPWORDS and not word.isdigit():
        return _stem(word)
    return ""


@lru_cache(maxsize=100_000)
def _venue_tokens(venue: str) -> tuple[str, ...]:
    folded = _DIGITS_RE.sub(" ", _fold(venue)).strip()
    if not folded:
        return ()
    whole = "venue:" + " ".join(_WORD_RE.findall(folded))
    return (whole, *("vw:" + w for w in text_tokens(folded)))


def where_tokens(venue: str, categories: Iterable[str]) -> tuple[str, ...]:
    """Where it was published / what field, as one token set.

    A venue ("ICDE 2005") and arXiv categories ("cs.DB") are two views of one
    signal: the venue gives its whole name (year dropped) and its words, a
    category gives its code and its archive ("cs.db", "arch:cs").
    """
    tokens = list(_venue_tokens(venue or ""))
    for category in categories:
        code = category.strip().casefold()
        if code:
            tokens.append("cat:" + code)
            tokens.append("arch:" + code.split(".")[0].split("-")[0])
    return tuple(dict.fromkeys(tokens))


def _name_key(name: str) -> str:
    """The key of a co-author printing ("j wang|jian" -> "j wang")."""
    return name.partition("|")[0]


def _coauthor_sets(
    coauthors: Iterable[str], own: str | None, parts_of=coauthor_parts
) -> tuple[frozenset, ...]:
    """(keys, names, first names) of the co-authors, without the author's own key.
    ``parts_of``: :func:`~works.identity.names.coauthor_parts` of printed names, or
    :func:`~works.identity.names.coauthor_parts_of_name` of names as co-authors."""
    # One (cached) parse or one split of a stored name per name, then three columns by zip().
    columns = tuple(zip(*map(parts_of, coauthors), strict=True)) or ((), (), ())
    keys, names, first_names = map(set, columns)
    names.discard(None)
    first_names.discard(None)
    if own is not None and own in keys:  # a co-author shares the author's own key
        names = {n for n in names if _name_key(n) != own}
        first_names = {pair for pair in first_names if pair[0] != own}
    keys.discard(own)
    keys.discard(None)
    return frozenset(keys), frozenset(names), frozenset(first_names)


# Papers with at least this many co-authors share their team's parsed names among their
# authors (Signature.__post_init__): each author of a 1,000-author paper has 999 co-authors,
# and linking builds every member of a touched block.
_SHARED_TEAM_MIN = 32


@dataclass(frozen=True)
class _Team:
    """A paper's printed names parsed as co-authors.

    ``names`` and ``first_names`` are also kept sorted by their key, so that an author's own
    key finds its printings by bisection: a dict from each key to its printings cost about a
    megabyte a 3,000-name team, and the last teams parsed are kept (``_team``).
    """

    keys: frozenset[str]
    names: frozenset[str]
    first_names: frozenset[tuple[str, str]]
    names_by_key: tuple[str, ...]
    first_names_by_key: tuple[tuple[str, str], ...]

    def names_of(self, key: str | None) -> frozenset[str]:
        """The printings of ``key`` among ``names`` ("j wang", "j wang|jian", ...)."""
        return _with_key(self.names_by_key, key, _name_key)

    def first_names_of(self, key: str | None) -> frozenset[tuple[str, str]]:
        return _with_key(self.first_names_by_key, key, _first_name_key)


def _first_name_key(pair: tuple[str, str]) -> str:
    return pair[0]


def _with_key(items: tuple, key: str | None, key_of) -> frozenset:
    if key is None:  # the author is no person: nothing of the team is theirs
        return frozenset()
    start = bisect_left(items, key, key=key_of)
    return frozenset(items[start : bisect_right(items, key, lo=start, key=key_of)])


@lru_cache(maxsize=256)
def _team(printed: frozenset[str], parts_of=coauthor_parts) -> _Team:
    keys, names, first_names = _coauthor_sets(printed, None, parts_of)
    return _Team(
        keys=keys,
        names=names,
        first_names=first_names,
        names_by_key=tuple(sorted(names, key=_name_key)),
        first_names_by_key=tuple(sorted(first_names, key=_first_name_key)),
    )


@dataclass
class Signature:
    """One author position on one work, as printed, plus parsed and normalised parts.

    ``name`` is None when the printed name is not one person (see
    :func:`works.identity.names.parse_name`); such signatures are never clustered.
    ``coauthor_keys`` are the other authors as "first-initial surname",
    ``coauthor_names`` the same with the first given name when printed in full
    (:func:`works.identity.names.coauthor_name`), ``coauthor_first_names`` those
    first names as (key, first name) pairs; the
    token tuples are folded, stemmed content words.
    """

    signature_id: str
    paper_id: str
    author: str
    position: int = -1
    coauthors: tuple[str, ...] = ()
    title: str = ""
    abstract: str = ""
    year: int | None = None
    venue: str = ""
    categories: tuple[str, ...] = ()
    affiliations: tuple[str, ...] = ()
    truth: str | None = field(default=None, compare=False, repr=False)
    # The co-authors as works.identity.names.coauthor_name gives them ("" for none), in the
    # order of ``coauthors``, when the rows were stored with them: then none is parsed. Read
    # once, not kept (a collaboration paper's signature would hold its team twice).
    stored_coauthor_names: InitVar[Sequence[str] | None] = None
    name: NameParts | None = field(init=False, compare=False)
    coauthor_keys: frozenset[str] = field(init=False, compare=False, repr=False)
    coauthor_names: frozenset[str] = field(init=False, compare=False, repr=False)
    # (key, first name) of the co-authors printed with a full first name
    coauthor_first_names: frozenset[tuple[str, str]] = field(init=False, compare=False, repr=False)
    title_tokens: tuple[str, ...] = field(init=False, compare=False, repr=False)
    abstract_tokens: tuple[str, ...] = field(init=False, compare=False, repr=False)
    where_tokens: tuple[str, ...] = field(init=False, compare=False, repr=False)
    affiliation_tokens: tuple[str, ...] = field(init=False, compare=False, repr=False)

    def __post_init__(self, stored_coauthor_names: Sequence[str] | None) -> None:
        self.coauthors = tuple(self.coauthors)
        self.categories = tuple(self.categories)
        self.affiliations = tuple(self.affiliations)
        self.name = parse_name(self.author)
        own = f"{self.name.first_initial} {self.name.surname}" if self.name else None
        coauthors, author, parts_of = self.coauthors, self.author, coauthor_parts
        if stored_coauthor_names is not None:
            # Parsed when the rows were written: a 1,000-author team was parsed again in every
            # linking process that met one of its authors.
            coauthors, parts_of = tuple(stored_coauthor_names), coauthor_parts_of_name
            author = parts_as_coauthor(self.name)[1] or ""  # the author's own, parsed above
        if len(coauthors) >= _SHARED_TEAM_MIN:
            # The paper's team is worked out once, for all of its authors: one team's other
            # authors are the team without the author, and the author's own key goes anyway.
            team = _team(frozenset(coauthors).union((author,)), parts_of)
            self.coauthor_keys = team.keys - {own}
            self.coauthor_names = team.names - team.names_of(own)
            self.coauthor_first_names = team.first_names - team.first_names_of(own)
        else:
            (
                self.coauthor_keys,
                self.coauthor_names,
                self.coauthor_first_names,
            ) = _coauthor_sets(coauthors, own, parts_of)
        self.title_tokens = short_text_tokens(self.title)
        self.abstract_tokens = text_tokens(self.abstract)
        self.where_tokens = where_tokens(self.venue, self.categories)
        self.affiliation_tokens = tuple(
            dict.fromkeys(t for a in self.affiliations for t in short_text_tokens(a))
        )

    @property
    def on_collaboration_paper(self) -> bool:
        return len(self.coauthors) >= MAX_COUNTED_AUTHORS

    @property
    def block_key(self) -> str | None:
        return self.name.block_key if self.name else None

    @classmethod
    def from_record(cls, record: Mapping, *, abstracts: bool = True) -> Signature:
        """A signature from one line of the labelled JSON-lines format.

        ``abstracts=False`` leaves the abstract out, for a model that never read one
        (``IdentityModel.reads_abstracts``).
        """
        return cls(
            signature_id=str(record["signature_id"]),
            paper_id=str(record.get("paper_id") or record["signature_id"]),
            author=str(record.get("author") or ""),
            position=_integer(record.get("position"), -1),
            coauthors=_items(record.get("coauthors")),
            title=str(record.get("title") or ""),
            abstract=str(record.get("abstract") or "") if abstracts else "",
            year=_integer(record.get("year"), None),
            venue=str(record.get("venue") or ""),
            # arXiv's own metadata prints a paper's categories as one string, "hep-th gr-qc".
            categories=_items(record.get("categories"), split=True),
            affiliations=_items(record.get("affiliations")),
            truth=record.get("cluster"),
            stored_coauthor_names=record.get("coauthor_names"),
        )


# Labelled files come from many sources: a year printed "2019" or 2019.0, a list field given as
# one string. Read as what they mean rather than failing a whole evaluation on one line.


def _integer(value, default):
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        return int(float(value))
    except (TypeError, ValueError, OverflowError):
        return default


def _items(value, *, split: bool = False) -> tuple:
    if not value:
        return ()
    if isinstance(value, str):
        return tuple(value.split()) if split else (value,)
    return tuple(value)
