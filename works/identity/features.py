"""Pairwise features between signatures of one block, vectorised with sparse matrices.

:class:`BlockData` turns a block's signatures into sparse TF-IDF matrices (one per
field) once; :func:`pair_features` then computes every feature for arrays of
index pairs, so all pairs of a 1,000-signature block cost a few sparse row
products, not a Python loop per pair. Missing fields give NaN, which the
model reads as "unknown" (a missing-value indicator, or LightGBM's missing branch), never as
"different".

IDF weights come from the block itself: a co-author or a word that half the
block shares says little about who is who in that block.

Name commonness (``name_commonness``, ``rare_full_name``): how many signatures
share the block in the corpus the clustering runs on (the labelled file, or the
database), as ``log1p``. A rare full name printed identically is strong evidence
that a common one is not. Two things keep the estimate honest: a surname among
the most frequent East Asian surnames is always taken as common (a small
corpus cannot show that "Wei Wang" is shared by thousands), and a profile whose
count is unknown is taken as common, never as rare.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain, filterfalse, pairwise
from operator import itemgetter

import numpy as np
from scipy import sparse

from works.identity.names import (
    NAME_CONFLICT,
    NAME_FULL_EQUAL,
    NameParts,
    is_common_name,
    is_common_surname,
    name_compatibility,
)
from works.identity.signature import Signature

__all__ = [
    "FEATURE_NAMES",
    "BlockData",
    "BlockVocabulary",
    "CoauthorResolver",
    "PooledProfile",
    "Profile",
    "merge_profiles",
    "name_commonness",
    "name_levels",
    "pair_features",
    "pair_scores",
    "profile_of",
    "resolve_coauthors",
    "vetoed_pairs",
    "vetoed_within",
]

FEATURE_NAMES = (
    "name_level",
    "initials_involved",
    "log_shared_coauthors",
    "coauthor_jaccard",
    "coauthor_idf_cos",
    "min_coauthor_count",
    "where_cos",
    "venue_shared",
    "title_cos",
    "log_title_shared",
    "abstract_cos",
    "text_cos",
    "affiliation_cos",
    "year_gap",
    "log_min_size",
    "log_max_size",
    "coauthor_overlap",
    "venue_overlap",
    "name_commonness",
    "rare_full_name",
    "rare_name_same_field",
)

# A name with this many signatures in the corpus counts as common: the prior
# for identical full names fades out towards it. It is also the floor for
# surnames known to be common (above every AMiner block, 306 signatures).
COMMON_NAME_COUNT = 1000
COMMON = float(np.log1p(COMMON_NAME_COUNT))


# log1p of every count a name can have, worked out once: numpy's call on one number cost
# more than the rest of making a signature's profile.
_COMMONNESS = [float(np.log1p(count)) for count in range(COMMON_NAME_COUNT + 1)]


def name_commonness(name: NameParts | None, count: int | None) -> float:
    """log1p(signatures sharing the block), COMMON when unknown or a common surname."""
    if count is None or name is None or is_common_name(name):
        return COMMON
    return _COMMONNESS[min(max(count, 1), COMMON_NAME_COUNT)]


class computed_once:
    """functools.cached_property without its lock. On Python 3.11 every first read of one
    takes a lock (3.12 dropped it), and linking reads several per member of every record of
    a block: 5 % of a day's linking went into the lock and its bookkeeping. Profiles are
    never shared between threads, so computing one twice could only waste time."""

    def __init__(self, function: Callable):
        self.function = function
        self.__doc__ = function.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        # A non-data descriptor: once in the instance's __dict__, the value is read from
        # there without calling this again.
        value = instance.__dict__[self.name] = self.function(instance)
        return value


@dataclass(frozen=True)
class Profile:
    """What is known about one signature, or about a cluster of them (fields pooled).

    Clustering compares signatures first and then clusters through the same
    features, so a cluster of twenty papers brings all its co-authors, venues
    and words to the comparison.
    """

    names: frozenset[NameParts]
    # Co-authors as works.identity.names.coauthor_name gives them; compared after
    # resolve_coauthors. The same split in two: their keys, and (key, first name) for
    # those printed with a full first name. Kept apart so that resolving a block's
    # co-authors is set algebra, not a pass over every name: linking resolves the same
    # members against every new group of their block, and a member of a 1,000-author
    # paper brings a thousand co-authors each time.
    coauthor_names: frozenset[str]
    coauthor_keys: frozenset[str]
    coauthor_first_names: frozenset[tuple[str, str]]
    where_tokens: tuple[str, ...]
    venues: frozenset[str]
    title_tokens: tuple[str, ...]
    abstract_tokens: tuple[str, ...]
    affiliation_tokens: tuple[str, ...]
    years: tuple[int, ...]
    paper_ids: frozenset[str]
    size: int = 1
    commonness: float = COMMON
    # Every signature is on a collaboration paper (Signature.on_collaboration_paper).
    collaboration_only: bool = False

    # Token counts, counted once per profile: linking scores one new signature against the
    # sampled members of several records, and each call weighs every member's tokens again.
    @computed_once
    def where_counts(self) -> Counter:
        return Counter(self.where_tokens)

    @computed_once
    def title_counts(self) -> Counter:
        return Counter(self.title_tokens)

    @computed_once
    def title_set(self) -> frozenset[str]:
        return frozenset(self.title_tokens)

    @computed_once
    def abstract_counts(self) -> Counter:
        return Counter(self.abstract_tokens)

    @computed_once
    def text_counts(self) -> Counter:
        return Counter(self.title_tokens + self.abstract_tokens)

    @computed_once
    def affiliation_counts(self) -> Counter:
        return Counter(self.affiliation_tokens)

    @computed_once
    def common_keys(self) -> frozenset[str]:
        """The co-author keys whose surname millions wear (see resolve_coauthors)."""
        return frozenset(filter(_is_common_key, self.coauthor_keys))

    @computed_once
    def initialled_names(self) -> frozenset[str]:
        """Co-authors of a common surname printed with several initials ("j wang|.jh")."""
        return frozenset(name for name in self.coauthor_names if "|." in name)

    @computed_once
    def sorted_keys(self) -> tuple[str, ...]:
        """The co-author keys, sorted (see _sorted_keys)."""
        return tuple(sorted(self.coauthor_keys))


def profile_of(signature: Signature, name_count: int | None = None) -> Profile:
    """``name_count``: signatures in the signature's block in the whole corpus (None: unknown)."""
    venue = signature.venue.casefold().strip()
    # Every field set at once, as the frozen dataclass's __init__ would set them one by one
    # through object.__setattr__: 0.6 us a profile instead of 3.3, and linking profiles
    # every member of every record of a block.
    profile = object.__new__(Profile)
    profile.__dict__.update(
        names=frozenset([signature.name]) if signature.name else frozenset(),
        coauthor_names=signature.coauthor_names,
        coauthor_keys=signature.coauthor_keys,
        coauthor_first_names=signature.coauthor_first_names,
        where_tokens=signature.where_tokens,
        venues=frozenset([venue]) if venue else frozenset(),
        title_tokens=signature.title_tokens,
        abstract_tokens=signature.abstract_tokens,
        affiliation_tokens=signature.affiliation_tokens,
        years=(signature.year,) if signature.year else (),
        paper_ids=frozenset([signature.paper_id]),
        size=1,
        commonness=name_commonness(signature.name, name_count),
        collaboration_only=signature.on_collaboration_paper,
    )
    return profile


def merge_profiles(profiles: Sequence[Profile]) -> Profile:
    """One profile pooling several (sets united, token lists concatenated)."""
    if len(profiles) == 1:
        return profiles[0]
    return PooledProfile.of(profiles)


def _union_of_members(field: str) -> computed_once:
    """A pool's ``field``: the union of its members' (read once, when first asked for)."""
    return computed_once(lambda pool: frozenset().union(*[getattr(p, field) for p in pool.members]))


def _members_in_turn(field: str) -> computed_once:
    """A pool's ``field``: its members' one after another (read once, when first asked for)."""
    return computed_once(
        lambda pool: tuple(chain.from_iterable(getattr(p, field) for p in pool.members))
    )


class PooledProfile(Profile):
    """Several profiles pooled. Its co-author sets and token lists are put together from its
    members when first read: a merge round reads a pool's rows and resolved co-authors, which
    come from its members' (BlockVocabulary.rows, CoauthorResolver.resolve), and uniting a
    cluster of collaboration members' co-authors cost thousands of entries a pool and a round.
    """

    members: tuple[Profile, ...]

    @classmethod
    def of(cls, profiles: Sequence[Profile]) -> PooledProfile:
        pooled = cls.__new__(cls)
        # Field by field, leaving out the fields read lazily below (frozen: through __dict__).
        pooled.__dict__.update(
            members=tuple(profiles),
            names=frozenset(chain.from_iterable(p.names for p in profiles)),
            venues=frozenset(chain.from_iterable(p.venues for p in profiles)),
            years=tuple(chain.from_iterable(p.years for p in profiles)),
            paper_ids=frozenset(chain.from_iterable(p.paper_ids for p in profiles)),
            size=sum(p.size for p in profiles),
            commonness=max(p.commonness for p in profiles),
            collaboration_only=all(p.collaboration_only for p in profiles),
            # What resolving co-authors reads of a pool is the union of what its members
            # give (each member's kept by its profile): set unions, not a test of every key.
            common_keys=frozenset().union(*(p.common_keys for p in profiles)),
            initialled_names=frozenset().union(*(p.initialled_names for p in profiles)),
        )
        return pooled

    coauthor_names = _union_of_members("coauthor_names")
    coauthor_keys = _union_of_members("coauthor_keys")
    coauthor_first_names = _union_of_members("coauthor_first_names")
    where_tokens = _members_in_turn("where_tokens")
    title_tokens = _members_in_turn("title_tokens")
    abstract_tokens = _members_in_turn("abstract_tokens")
    affiliation_tokens = _members_in_turn("affiliation_tokens")


@dataclass
class BlockData:
    """One block's profiles as arrays and sparse matrices (see module docstring)."""

    profiles: list[Profile]
    # Each profile's name variants as ids, padded with an id that is fully compatible with
    # everything (a profile without a person's name has one id, incompatible with all);
    # name_floor[p, w] is the least NAME_* level between p's variants and variant w;
    # name_counts[p] is how many of p's ids are not padding.
    name_variants: np.ndarray
    name_floor: np.ndarray
    name_counts: np.ndarray
    initials_only: np.ndarray  # every name of the profile is initials only
    coauthors: sparse.csr_matrix  # binary
    coauthors_tfidf: sparse.csr_matrix
    coauthor_counts: np.ndarray
    where: sparse.csr_matrix
    venues: sparse.csr_matrix  # binary
    title: sparse.csr_matrix
    title_binary: sparse.csr_matrix
    abstract: sparse.csr_matrix
    text: sparse.csr_matrix
    affiliation: sparse.csr_matrix
    papers: sparse.csr_matrix  # binary
    year_min: np.ndarray  # NaN when unknown
    year_max: np.ndarray
    sizes: np.ndarray
    commonness: np.ndarray
    collaboration_only: np.ndarray

    @classmethod
    def build(
        cls, items: Sequence[Signature | Profile], vocabulary: BlockVocabulary | None = None
    ) -> BlockData:
        """``vocabulary``: the block's, when ``items`` pool its signatures (a merge round)."""
        profiles = [p if isinstance(p, Profile) else profile_of(p) for p in items]
        vocabulary = vocabulary or BlockVocabulary(CoauthorResolver(profiles))
        rows = vocabulary.rows_of(profiles)
        years = [p.years for p in profiles]

        def matrix(field: str, *, binary: bool = False) -> sparse.csr_matrix:
            return vocabulary.matrix(field, [row[field] for row in rows], binary=binary)

        coauthors = matrix("coauthors", binary=True)
        return cls(
            profiles=profiles,
            **_name_variants(profiles),
            initials_only=np.array([all(n.initials_only for n in p.names) for p in profiles]),
            coauthors=coauthors,
            coauthors_tfidf=matrix("coauthors"),
            coauthor_counts=np.diff(coauthors.indptr).astype(np.float64),
            where=matrix("where"),
            venues=matrix("venues", binary=True),
            title=matrix("title"),
            title_binary=matrix("title", binary=True),
            abstract=matrix("abstract"),
            text=matrix("text"),
            affiliation=matrix("affiliation"),
            papers=matrix("papers", binary=True),
            year_min=np.array([min(y) if y else np.nan for y in years], dtype=np.float64),
            year_max=np.array([max(y) if y else np.nan for y in years], dtype=np.float64),
            sizes=np.array([p.size for p in profiles], dtype=np.float64),
            commonness=np.array([p.commonness for p in profiles], dtype=np.float64),
            collaboration_only=np.array([p.collaboration_only for p in profiles], dtype=bool),
        )

    def __len__(self) -> int:
        return len(self.profiles)


def resolve_coauthors(
    profiles: Sequence[Profile], resolver: CoauthorResolver | None = None
) -> list[list[str]]:
    """Each profile's co-authors (sorted) as the tokens two profiles must share.

    A co-author is its key ("j wang") unless the profiles compared print that key
    with two or more different first names ("Jian Wang", "Jun Wang"): then each
    printing keeps its first name ("j wang|jian"), and an initial ("J. Wang") its
    key, which no full name then matches. "J. Smith" and "John Smith" stay one
    co-author as long as no "James Smith" is in sight; two people who only seemed to
    share a co-author through a key collision no longer do. A key whose surname millions
    wear (``names.is_common_surname``) is always ambiguous, and a single initial there
    matches nothing: two namesakes' "J. Wang"s are no evidence; "J. H. Wang" keeps its
    initials ("j wang|.jh") and matches only itself.

    ``resolver``: the block's, when ``profiles`` pool its signatures (a merge round).
    """
    resolver = resolver or CoauthorResolver(profiles)
    return [resolver.resolve(p) for p in profiles]


class CoauthorResolver:
    """What :func:`resolve_coauthors` reads of the whole block, worked out once.

    Which keys are ambiguous depends on the union of the block's printings, and pooling
    signatures into clusters leaves every union as it was: each merge round of a block
    resolves its pooled profiles against the same sets, and a cluster no round changed
    (the same pooled object) keeps its resolved list.
    """

    def __init__(self, profiles: Sequence[Profile]):
        # Each distinct (key, first name) once, however many profiles print it: a key with
        # two of them is ambiguous. Then set algebra per profile: its unambiguous keys, and
        # its printings of the ambiguous ones.
        printed = frozenset().union(*(p.coauthor_first_names for p in profiles))
        by_key = Counter(map(itemgetter(0), printed))
        ambiguous = {key for key, names in by_key.items() if names > 1}
        common = frozenset().union(*(p.common_keys for p in profiles))
        ambiguous |= common
        names = {f"{key}|{first}" for key, first in printed if key in ambiguous}
        names |= ambiguous - common  # printed with an initial: the bare key
        # a common key printed with several initials keeps them all ("j wang|.jh")
        names.update(chain.from_iterable(p.initialled_names for p in profiles))
        self.ambiguous = frozenset(ambiguous)
        self.ambiguous_names = frozenset(names)
        # By id: pooled profiles are compared by identity, never by their (large) value;
        # each is held here so that its id is not reused.
        self._resolved: dict[int, tuple[Profile, list[str]]] = {}

    def resolve(self, profile: Profile) -> list[str]:
        kept = self._resolved.get(id(profile))
        if kept is not None:
            return kept[1]
        members = self._members_resolved(profile)
        if members is not None:
            # Resolving is set algebra against the block's sets: a pool resolves to the
            # union of what its members resolve to.
            resolved = sorted(set().union(*members))
        elif self.ambiguous.isdisjoint(profile.coauthor_keys):
            resolved = _sorted_keys(profile)
        else:
            names = profile.coauthor_names & self.ambiguous_names
            resolved = _sorted_keys(profile, self.ambiguous, names)
        self._resolved[id(profile)] = (profile, resolved)
        return resolved

    def _members_resolved(self, profile: Profile) -> list[list[str]] | None:
        return _members_kept(self._resolved, profile)

    def retain(self, profiles: Sequence[Profile]) -> None:
        """Forget every profile but these (the clusters of the round under way) and what
        they pool."""
        self._resolved = _retained(self._resolved, _with_members(profiles))


class BlockVocabulary:
    """A block's tokens numbered once, and each profile's rows of the block's matrices kept.

    Every merge round builds the block's matrices again over its pooled profiles; pooling
    keeps every token of the block, so the columns stay those of the signatures (numbered in
    order of first appearance, as :func:`_tfidf` numbers them), and a cluster no round
    changed brings the rows it brought before. Each row keeps its entries in the order
    :func:`_tfidf` gives them: the sums of the TF-IDF weights run in that order.
    """

    # field -> the profile's tokens (or token counts) that fill its row
    FIELDS: dict[str, Callable[[Profile, CoauthorResolver], Sequence[str] | Mapping]] = {
        "coauthors": lambda p, resolver: resolver.resolve(p),
        "where": lambda p, _: p.where_counts,
        "venues": lambda p, _: sorted(p.venues),
        "title": lambda p, _: p.title_counts,
        "abstract": lambda p, _: p.abstract_counts,
        "text": lambda p, _: p.text_counts,
        "affiliation": lambda p, _: p.affiliation_counts,
        "papers": lambda p, _: sorted(p.paper_ids),
    }

    # The fields whose tokens come sorted (the others in order of first appearance, counted).
    SORTED = frozenset(["coauthors", "venues", "papers"])

    def __init__(self, resolver: CoauthorResolver):
        self.resolver = resolver
        self._ids: dict[str, dict[str, int]] = {field: {} for field in self.FIELDS}
        # By id, each profile held so that its id is not reused (as CoauthorResolver).
        self._rows: dict[int, tuple[Profile, dict]] = {}
        # Per sorted field, its columns ranked by their tokens, worked out again when the
        # field has gained tokens (_ranks_of).
        self._ranks: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def rows(self, profile: Profile) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per field, the profile's (columns, counts)."""
        return self.rows_of([profile])[0]

    def rows_of(self, profiles: Sequence[Profile]) -> list[dict[str, tuple]]:
        """:meth:`rows` of each profile. The new pools among them (a merge round's changed
        clusters) get theirs made together, field by field (:meth:`_pooled_rows_of`): made
        pool by pool, most of the cost was numpy's per call, eight fields times the pools."""
        new = {id(p): p for p in profiles if id(p) not in self._rows}
        pools, made_of = [], []
        # In the profiles' order: tokens new to the block get the numbers that making the
        # rows one profile at a time gives them (the pools' other rows number nothing).
        for profile in new.values():
            member_rows = _members_kept(self._rows, profile)
            if member_rows is None:
                self._rows[id(profile)] = (profile, self._counted_rows(profile))
            else:
                pools.append(profile)
                made_of.append((member_rows, self._own_text_row(profile)))
        for profile, rows in zip(pools, self._pooled_rows_of(made_of), strict=True):
            self._rows[id(profile)] = (profile, rows)
        return [self._rows[id(p)][1] for p in profiles]

    def _counted_rows(self, profile: Profile) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        return {
            field: self._row(field, tokens_of(profile, self.resolver))
            for field, tokens_of in self.FIELDS.items()
        }

    def _row(self, field: str, tokens: Sequence[str] | Mapping) -> tuple[np.ndarray, np.ndarray]:
        ids = self._ids[field]
        columns = np.fromiter(
            [ids.setdefault(token, len(ids)) for token in tokens], np.int64, len(tokens)
        )
        counts = tokens.values() if isinstance(tokens, Mapping) else [1] * len(tokens)
        return columns, np.fromiter(counts, np.float64, len(tokens))

    def _own_text_row(self, pool: PooledProfile) -> tuple[np.ndarray, np.ndarray] | None:
        """A pool's text row counted from its tokens when a member has an abstract (title +
        abstract of the pool is not the members' texts one after another), else None."""
        if not any(m.abstract_tokens for m in pool.members):
            return None
        return self._row("text", self.FIELDS["text"](pool, self.resolver))

    def _pooled_rows_of(self, pools: list[tuple[list[dict], tuple | None]]) -> list[dict]:
        """Pooled profiles' rows made from their members' rows, as their tokens would give
        them; each pool given as (its members' rows, its own text row or None). Numbers no
        token.

        A merge round pools each changed cluster again from its signatures: counting the
        tokens of a large cluster, resolving its co-authors and numbering them again was most
        of a round's cost, while its members' rows are known. Pooling concatenates token
        lists and unites sets, so a counted field's row is the members' columns in order of
        first appearance with their counts summed, and a sorted field's is the union of the
        members' columns in sorted order (co-authors resolve member by member: the resolver's
        sets are the block's)."""
        made: list[dict] = [{} for _ in pools]
        texts = {k: text for k, (_, text) in enumerate(pools) if text is not None}
        for k, text in texts.items():
            made[k]["text"] = text
        for field in self.FIELDS:
            wanted = [k for k in range(len(pools)) if field != "text" or k not in texts]
            parts = [[row[field] for row in pools[k][0]] for k in wanted]
            rows = self._united(field, parts) if field in self.SORTED else _first_appearances(parts)
            for k, row in zip(wanted, rows, strict=True):
                made[k][field] = row
        return [{field: rows[field] for field in self.FIELDS} for rows in made]

    def _united(self, field: str, pools: list[list[tuple[np.ndarray, np.ndarray]]]) -> list:
        """Per pool (its members' rows), the union of their columns ranked by their tokens."""
        ranks, by_rank = self._ranks_of(field)
        owners, columns = _owned(pools)
        width = max(len(ranks), 1)
        united = _sorted_unique(owners * width + ranks[columns])
        return [
            (by_rank[keys % width], np.ones(len(keys)))
            for keys in _split_by_owner(united, united // width, len(pools))
        ]

    def _ranks_of(self, field: str) -> tuple[np.ndarray, np.ndarray]:
        """(each column's place among the field's tokens sorted, the columns in that order)."""
        ids = self._ids[field]
        kept = self._ranks.get(field)
        if kept is None or len(kept[0]) != len(ids):
            tokens = list(ids)  # in order of their ids
            by_rank = np.array(sorted(range(len(tokens)), key=tokens.__getitem__), dtype=np.int64)
            ranks = np.empty(len(tokens), dtype=np.int64)
            ranks[by_rank] = np.arange(len(tokens))
            kept = self._ranks[field] = (ranks, by_rank)
        return kept

    def retain(self, profiles: Sequence[Profile]) -> None:
        """Forget every profile but these (the clusters of the round under way) and what they
        pool: a large block's superseded clusters would otherwise hold their rows to its end,
        and the members' rows make the next rounds' pooled rows."""
        self._rows = _retained(self._rows, _with_members(profiles))
        self.resolver.retain(profiles)

    def matrix(
        self, field: str, rows: Sequence[tuple[np.ndarray, np.ndarray]], *, binary: bool = False
    ) -> sparse.csr_matrix:
        """:func:`_tfidf` (or :func:`_binary`) of these rows of ``field``."""
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum([len(columns) for columns, _ in rows], out=indptr[1:])
        columns = np.concatenate([c for c, _ in rows]) if rows else np.zeros(0, np.int64)
        if binary:
            values = np.ones(len(columns))
        else:
            values = np.concatenate([v for _, v in rows]) if rows else np.zeros(0)
        shape = (len(rows), max(len(self._ids[field]), 1))
        if not binary:
            values = _normalised(values, columns, indptr, shape)
        return sparse.csr_matrix((values, columns, indptr), shape=shape)


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """np.unique of runs that each come sorted (a pool's members' rows, ranked), sorted by
    numpy's stable sort: Timsort merges the runs, where np.unique's quicksort starts afresh
    (15 times quicker on 1,000 runs of 300)."""
    ordered = np.sort(values, kind="stable")
    if len(ordered) < 2:
        return ordered
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))]


def _retained(kept: dict[int, tuple], profiles: Sequence[Profile]) -> dict[int, tuple]:
    return {id(p): kept[id(p)] for p in profiles if id(p) in kept}


def _members_kept(kept: dict[int, tuple], profile: Profile) -> list | None:
    """What ``kept`` (by id, as ``(profile, value)``) holds for each member of a pooled
    profile; None when the profile pools nothing or a member's value is not kept."""
    if not isinstance(profile, PooledProfile):
        return None
    values = [kept.get(id(member)) for member in profile.members]
    return None if None in values else [value for _, value in values]


def _with_members(profiles: Sequence[Profile]) -> list[Profile]:
    """The profiles and what the pooled ones pool."""
    members = [m for p in profiles if isinstance(p, PooledProfile) for m in p.members]
    return [*profiles, *members]


def _owned(pools: list[list[tuple[np.ndarray, np.ndarray]]]) -> tuple[np.ndarray, np.ndarray]:
    """(pool index of each entry, columns) of every pool's rows one after another."""
    sizes = [sum(len(columns) for columns, _ in parts) for parts in pools]
    columns = [c for parts in pools for c, _ in parts]
    return (
        np.repeat(np.arange(len(pools), dtype=np.int64), sizes),
        np.concatenate(columns).astype(np.int64, copy=False) if columns else np.zeros(0, np.int64),
    )


def _split_by_owner(values: np.ndarray, owners: np.ndarray, count: int) -> list[np.ndarray]:
    """``values`` cut into each owner's, for owners sorted 0..count-1."""
    bounds = np.searchsorted(owners, np.arange(count + 1))
    return [values[start:end] for start, end in pairwise(bounds.tolist())]


def _first_appearances(pools: list[list[tuple[np.ndarray, np.ndarray]]]) -> list:
    """Per pool (its members' rows), (columns, counts) of the rows one after another: each
    column where it first appears, its counts summed (whole numbers: the sums are exact in any
    order)."""
    owners, columns = _owned(pools)
    counts = [n for parts in pools for _, n in parts]
    counts = np.concatenate(counts) if counts else np.zeros(0)
    width = int(columns.max(initial=0)) + 1
    keys = owners * width + columns
    unique, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    summed = np.bincount(inverse, weights=counts, minlength=len(unique))
    # Pools' entries come one pool after another, so first appearances sort by pool too.
    order = np.argsort(first)
    unique, summed = unique[order], summed[order].astype(np.float64, copy=False)
    owner = unique // width
    return list(
        zip(
            _split_by_owner(unique % width, owner, len(pools)),
            _split_by_owner(summed, owner, len(pools)),
            strict=True,
        )
    )


@lru_cache(maxsize=200_000)
def _is_common_key(key: str) -> bool:
    return is_common_surname(key.partition(" ")[2])


# A profile with at least this many co-authors keeps its keys sorted (Profile.sorted_keys):
# linking resolves the same members' co-authors for every new group of their block.
_SORTED_KEYS_MIN = 64


def _sorted_keys(profile: Profile, without=frozenset(), names=frozenset()) -> list[str]:
    """sorted((profile's co-author keys - without) | names)."""
    if len(profile.coauthor_keys) < _SORTED_KEYS_MIN:
        return sorted((profile.coauthor_keys - without) | names)
    # Two sorted runs: the sort merges them.
    return sorted([*filterfalse(without.__contains__, profile.sorted_keys), *sorted(names)])


def _name_variants(profiles: Sequence[Profile]) -> dict[str, np.ndarray]:
    variants: dict[NameParts, int] = {}
    rows = [
        [variants.setdefault(n, len(variants)) for n in sorted(p.names, key=repr)] for p in profiles
    ]
    width = max((len(r) for r in rows), default=1) or 1
    padding = len(variants)  # compatible with everything, at the top level
    ids = np.full((len(profiles), width), padding, dtype=np.int64)
    for k, row in enumerate(rows):
        ids[k, : len(row)] = row
        if not row:
            ids[k, 0] = padding + 1  # no person name: incompatible with everything
    parts = list(variants)
    table = np.full((len(parts) + 2, len(parts) + 2), NAME_FULL_EQUAL, dtype=np.int8)
    table[len(parts) + 1, :] = table[:, len(parts) + 1] = NAME_CONFLICT
    for a, first in enumerate(parts):
        for b in range(a, len(parts)):
            table[a, b] = table[b, a] = compatibility(first, parts[b])
    # Each profile's least level against every variant: a pair's level is then the least of
    # one row's entries at the other profile's variants, one pass per variant of the wider
    # profile instead of one per pair of variants (a merge round's pools print a name many
    # ways, and the passes over every pair were most of a large block's time).
    floor = table[ids[:, 0]]
    for i in range(1, width):
        np.minimum(floor, table[ids[:, i]], out=floor)
    counts = np.maximum(np.array([len(r) for r in rows], dtype=np.int64), 1)
    return {"name_variants": ids, "name_floor": floor, "name_counts": counts}


@lru_cache(maxsize=1_000_000)
def compatibility(a: NameParts, b: NameParts) -> int:
    """:func:`~works.identity.names.name_compatibility`, cached: a block's name variants
    meet again in every merge round."""
    return name_compatibility(a, b)


# Up to this many profiles, many pairs are served from the full Gram matrix
# (one sparse product) rather than from row-by-row products.
GRAM_LIMIT = 3000


# Row-by-row products copy out the rows of their pairs: in chunks of pairs holding about this
# many stored entries between them. A million-record load's largest block (6,576 signatures,
# a tenth on papers of hundreds of authors) copied its candidate pairs' co-author rows all at
# once, 7.4 GB; chunks give the same products (each row's sum is its own), bit for bit, in the
# same time (chunks of 1M or 4M entries alike; the smaller ones hold 55 MB less).
ROW_DOT_CHUNK_ENTRIES = 1_000_000


# A Gram matrix is taken as a dense product (BLAS) when at least this share of the matrix's
# entries are stored and it holds at most DENSE_GRAM_ENTRIES of them densely (64 MB).
DENSE_GRAM_SHARE = 0.05
DENSE_GRAM_ENTRIES = 8_000_000


def _row_dot(
    matrix: sparse.csr_matrix, left: np.ndarray, right: np.ndarray, *, dense_gram: bool = True
) -> np.ndarray:
    """Dot products of rows left[k] and right[k]. ``dense_gram=False``: the Gram path stays
    sparse, whose products are the row-by-row path's to the last bit."""
    if _through_gram(matrix, left):
        return _gram(matrix, dense=dense_gram)[left, right]
    entries = np.diff(matrix.indptr)
    ends = np.cumsum(entries[left] + entries[right])
    if not len(ends) or ends[-1] <= ROW_DOT_CHUNK_ENTRIES:
        return _rows_times_rows(matrix, left, right)
    cuts = np.searchsorted(ends, np.arange(ROW_DOT_CHUNK_ENTRIES, ends[-1], ROW_DOT_CHUNK_ENTRIES))
    bounds = [0, *np.unique(cuts[cuts > 0]).tolist(), len(left)]
    return np.concatenate(
        [
            _rows_times_rows(matrix, left[start:end], right[start:end])
            for start, end in pairwise(bounds)
        ]
    )


def _rows_times_rows(matrix: sparse.csr_matrix, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Dot products of rows left[k] and right[k], as
    ``matrix[left].multiply(matrix[right]).sum(axis=1)`` gives them, to the last bit.

    That expression copies both rows of every pair and walks them whole: a collaboration
    paper's 1,000 co-authors against a profile of five, for every such pair (two fifths of
    a million-record load's largest block). Here each entry of the shorter row is looked up
    in the other (a binary search over every entry's row-and-column key). The products come
    in the order scipy's product leaves them (:func:`_scipy_order`), zeros dropped as it drops
    them, and each pair's are summed by ``np.add.reduceat`` as scipy sums a row.
    """
    indptr, data = matrix.indptr, matrix.data
    lengths = np.diff(indptr)
    swap = lengths[left] > lengths[right]
    looked_up = int(np.where(swap, lengths[right], lengths[left]).sum())
    walked = int(lengths[left].sum() + lengths[right].sum())
    # Lookups pay off where rows of very different lengths meet; building the index sorts
    # every entry, which pays off once the pairs walk as many entries.
    index = None
    if walked >= _LOOKUP_GAIN * looked_up:
        index = _EntryIndex.of(matrix, build=walked >= matrix.nnz)
    if index is None:
        return np.asarray(matrix[left].multiply(matrix[right]).sum(axis=1)).ravel()
    short, long = np.where(swap, right, left), np.where(swap, left, right)
    counts = lengths[short]
    out = np.zeros(len(left))
    total = int(counts.sum())
    if not total:
        return out
    pair = np.repeat(np.arange(len(short)), counts)
    run_starts = np.cumsum(counts) - counts
    short_at = np.arange(total) - np.repeat(run_starts - indptr[short], counts)
    long_at = index.find(long[pair], matrix.indices[short_at])
    hit = long_at >= 0
    pair, short_at, long_at = pair[hit], short_at[hit], long_at[hit]
    left_at = np.where(swap[pair], long_at, short_at)
    canonical = index.sorted_rows[left].all() and index.sorted_rows[right].all()
    order = _scipy_order(pair, left_at, canonical)
    pair = pair[order]
    products = data[short_at[order]] * data[long_at[order]]  # a * b is b * a, to the bit
    kept = products != 0
    products, pair = products[kept], pair[kept]
    if len(pair):
        starts = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]])
        out[pair[starts]] = np.add.reduceat(products, starts)
    return out


# How many more entries the pairs' rows must hold than their shorter rows for lookups to
# beat scipy's walk over both rows.
_LOOKUP_GAIN = 4


def _scipy_order(pair: np.ndarray, left_at: np.ndarray, canonical: bool) -> np.ndarray:
    """The order in which scipy's element-wise product leaves a pair's products: by pair,
    then, when every row it multiplies has its columns sorted, by the left row's entries in
    their order (its merge of sorted rows), and otherwise in their reverse order (its
    general path pushes the left row's columns on a linked list and reads it back)."""
    return np.lexsort((left_at if canonical else -left_at, pair))


class _EntryIndex:
    """Where each (row, column) of a CSR matrix is stored, for binary search: a block's
    features read each matrix in many chunks of pairs, so it is built once and kept on the
    matrix (which nothing changes once built)."""

    def __init__(self, matrix: sparse.csr_matrix):
        indptr, indices = matrix.indptr, matrix.indices
        keys = np.repeat(np.arange(matrix.shape[0], dtype=np.int64), np.diff(indptr))
        keys = keys * matrix.shape[1] + indices
        self.width = matrix.shape[1]
        # Positions as 4-byte integers: this index lives as long as the block's matrices, in
        # the linking processes whose memory is a first load's peak.
        fits = len(keys) < 2**31
        self.positions = np.argsort(keys, kind="stable").astype(np.int32 if fits else np.int64)
        self.keys = keys[self.positions]
        self.duplicates = bool((np.diff(self.keys) == 0).any())
        # Rows whose columns strictly increase, as scipy's canonical format asks.
        rising = np.r_[True, indices[1:] > indices[:-1]]
        filled = np.flatnonzero(np.diff(indptr))
        rising[indptr[filled]] = True  # a row's first entry
        self.sorted_rows = np.ones(matrix.shape[0], dtype=bool)
        if len(filled):
            self.sorted_rows[filled] = np.logical_and.reduceat(rising, indptr[filled])

    @classmethod
    def of(cls, matrix: sparse.csr_matrix, *, build: bool) -> _EntryIndex | None:
        """The matrix's index, built if ``build`` and not yet there; None without one, and
        where the products would not be scipy's to the bit (repeated entries, which scipy
        adds up first; other than float64 values)."""
        if matrix.dtype != np.float64:
            return None
        index = matrix.__dict__.get("_entry_index")
        if index is None and build:
            index = matrix.__dict__["_entry_index"] = cls(matrix)
        return None if index is None or index.duplicates else index

    def find(self, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
        """Where each (row, column) is stored; -1 where it is not."""
        wanted = rows * self.width + columns
        if not len(self.keys):
            return np.full(len(wanted), -1)
        found = np.minimum(np.searchsorted(self.keys, wanted), len(self.keys) - 1)
        return np.where(self.keys[found] == wanted, self.positions[found], -1)


def _through_gram(matrix: sparse.csr_matrix, left: np.ndarray) -> bool:
    """Whether :func:`_row_dot` reads these pairs from the Gram matrix (else row by row)."""
    n = matrix.shape[0]
    return n <= GRAM_LIMIT and len(left) > 8 * n


def _gram(matrix: sparse.csr_matrix, *, dense: bool = True) -> np.ndarray:
    """``matrix @ matrix.T``. A sparse product costs per pair of entries sharing a column, so
    for rows that share most of their columns (words of one field, categories) the dense
    product is several times cheaper: in a 200,000-record first load's 40 largest blocks,
    the 1,700 Gram matrices at 5 % or more took 8.0 s sparse and 1.5 s dense (that corpus
    draws its words from 140; a real block's abstracts share fewer columns and mostly keep
    the sparse product). The sums then run in BLAS's order, within 1e-15 of the sparse ones."""
    if dense and _dense_enough(matrix):
        values = matrix.toarray()
        return values @ values.T
    return (matrix @ matrix.T).toarray()


def _dense_enough(matrix: sparse.csr_matrix) -> bool:
    rows, columns = matrix.shape
    return matrix.nnz >= DENSE_GRAM_SHARE * rows * columns and rows * columns <= DENSE_GRAM_ENTRIES


def _has_rows(matrix: sparse.csr_matrix) -> np.ndarray:
    return np.diff(matrix.indptr) > 0


def _masked(values: np.ndarray, present: np.ndarray) -> np.ndarray:
    return np.where(present, values, np.nan)


def name_levels(block: BlockData, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """The least compatible NAME_* level between the names of each pair."""
    variants, floor = block.name_variants, block.name_floor
    level = floor[left, variants[right, 0]]
    counts = block.name_counts[right]
    for j in range(1, variants.shape[1]):
        # Padding is compatible with everything: only the pairs whose right side has a j-th
        # variant can go lower.
        pairs = np.flatnonzero(counts > j)
        level[pairs] = np.minimum(level[pairs], floor[left[pairs], variants[right[pairs], j]])
    return level.astype(np.float64)


def vetoed_pairs(block: BlockData, left: np.ndarray, right: np.ndarray, levels=None):
    """Pairs never merged: a shared paper, or incompatible names."""
    if levels is None:
        levels = name_levels(block, left, right)
    return (levels == NAME_CONFLICT) | (_row_dot(block.papers, left, right) > 0)


def vetoed_within(block: BlockData, members: np.ndarray) -> np.ndarray:
    """:func:`vetoed_pairs` of every pair of ``members``, as a square boolean matrix (the
    diagonal included: a profile shares its own papers)."""
    variants, floor = block.name_variants[members], block.name_floor[members]
    levels = floor[:, variants[:, 0]]
    counts = block.name_counts[members]
    for j in range(1, variants.shape[1]):
        wider = np.flatnonzero(counts > j)
        levels[:, wider] = np.minimum(levels[:, wider], floor[:, variants[wider, j]])
    vetoed = levels == NAME_CONFLICT
    papers = block.papers[members]
    shared = (papers @ papers.T).tocoo()
    vetoed[shared.row, shared.col] = True
    return vetoed


def pair_features(block: BlockData, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Feature matrix (len(left) x len(FEATURE_NAMES)) for pairs (left[k], right[k])."""
    left = np.asarray(left, dtype=np.int64)
    right = np.asarray(right, dtype=np.int64)
    out = np.empty((len(left), len(FEATURE_NAMES)), dtype=np.float32)
    out[:, 0] = name_levels(block, left, right)
    out[:, 1] = block.initials_only[left] | block.initials_only[right]
    collaborations = block.collaboration_only[left] & block.collaboration_only[right]
    shared = _coauthor_dot(block.coauthors, left, right, block.collaboration_only)
    counts_l, counts_r = block.coauthor_counts[left], block.coauthor_counts[right]
    union = counts_l + counts_r - shared
    # Counts of shared things enter as logs: pooled clusters share more of everything as they
    # grow, and a raw count let size stand in for evidence (one shared title word or
    # co-author against none still moves the log most). The ratios below take the counts.
    out[:, 2] = np.log1p(shared)
    out[:, 3] = np.divide(shared, union, out=np.zeros_like(shared), where=union > 0)
    out[:, 4] = _coauthor_dot(block.coauthors_tfidf, left, right, block.collaboration_only)
    out[:, 5] = np.log1p(np.minimum(counts_l, counts_r))
    # where and venues are each read twice below: one product each.
    where = _row_dot(block.where, left, right)
    _cosine(out, 6, block.where, left, right, dots=where)
    has_venue = _has_rows(block.venues)
    shared_venues = _row_dot(block.venues, left, right)
    out[:, 7] = _masked(shared_venues > 0, has_venue[left] & has_venue[right])
    _cosine(out, 8, block.title, left, right)
    out[:, 9] = _masked(np.log1p(_row_dot(block.title_binary, left, right)), ~np.isnan(out[:, 8]))
    _cosine(out, 10, block.abstract, left, right)
    _cosine(out, 11, block.text, left, right)
    _cosine(out, 12, block.affiliation, left, right)
    gap = np.maximum(block.year_min[left], block.year_min[right]) - np.minimum(
        block.year_max[left], block.year_max[right]
    )
    out[:, 13] = np.maximum(gap, 0.0)
    sizes_l, sizes_r = block.sizes[left], block.sizes[right]
    out[:, 14] = np.log1p(np.minimum(sizes_l, sizes_r))
    out[:, 15] = np.log1p(np.maximum(sizes_l, sizes_r))
    # Shares of the smaller side: a small cluster whose every co-author is in the
    # big one is strong evidence that Jaccard (diluted by the big one) hides.
    fewer = np.minimum(counts_l, counts_r)
    out[:, 16] = _masked(np.divide(shared, np.maximum(fewer, 1)), fewer > 0)
    venues = np.asarray(block.venues.sum(axis=1)).ravel()
    fewer_venues = np.minimum(venues[left], venues[right])
    out[:, 17] = _masked(shared_venues / np.maximum(fewer_venues, 1), fewer_venues > 0)
    commonness = np.maximum(block.commonness[left], block.commonness[right])
    out[:, 18] = commonness
    out[:, 19] = _rare_full_name(out[:, 0], commonness)
    out[:, 20] = np.where(where > 0, out[:, 19], 0.0)
    out[np.ix_(collaborations, _COAUTHOR_EVIDENCE)] = 0.0
    return out


# Pairs whose features pair_scores makes and scores together. A million-record load's largest
# block (6,576 profiles) scored about a million candidate pairs at once: their features (87 MB)
# and the temporaries that made them (about 160 MB more) were most of its linking process's
# peak.
SCORED_PAIRS_CHUNK = 1 << 17


def pair_scores(
    block: BlockData,
    left: np.ndarray,
    right: np.ndarray,
    predict: Callable[[np.ndarray], np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """(``predict`` of the pairs' :func:`pair_features`, :func:`vetoed_pairs`); 0 for the
    pairs of conflicting names, vetoed whatever their features say.

    Their features are not made: a million-record load's largest blocks print a first
    initial with many first names, and 69 % of the candidate pairs of "greco s" were
    "Stefan Greco" against "Sofia A. Greco" sharing a co-author. The others are made chunk by
    chunk: row-by-row products, each row's sum its own, so the same values to the last bit
    whichever pairs come together. Where all pairs at once read a Gram matrix (many pairs of
    a block of at most GRAM_LIMIT profiles), they are made at once, all of them: a subset
    could fall back to row-by-row products, summed in another order.
    """
    left = np.asarray(left, dtype=np.int64)
    right = np.asarray(right, dtype=np.int64)
    # Every matrix of the block has a row per profile: any of them tells the path.
    if _through_gram(block.papers, left):
        return _scored(block, left, right, predict)
    named = np.flatnonzero(name_levels(block, left, right) != NAME_CONFLICT)
    predicted, vetoed = np.zeros(len(left)), np.ones(len(left), dtype=bool)
    for start in range(0, len(named), SCORED_PAIRS_CHUNK):
        chunk = named[start : start + SCORED_PAIRS_CHUNK]
        predicted[chunk], vetoed[chunk] = _scored(block, left[chunk], right[chunk], predict)
    return predicted, vetoed


def _scored(block: BlockData, left: np.ndarray, right: np.ndarray, predict) -> tuple:
    features = pair_features(block, left, right)
    return predict(features), vetoed_pairs(block, left, right, levels=features[:, 0])


def _coauthor_dot(
    matrix: sparse.csr_matrix, left: np.ndarray, right: np.ndarray, collaboration_only: np.ndarray
) -> np.ndarray:
    """:func:`_row_dot` of the co-author rows, 0 for pairs of two collaboration profiles.

    Their co-author evidence is 0 whatever they share (pair_features), and it is what costs:
    the members of one 3,000-author team share every column, so the block's Gram matrix was
    a dense product of 3,000-entry rows. Each value computed is the one :func:`_row_dot`
    gives with its Gram matrix kept sparse (as here), to the last bit: the same path, and a
    Gram entry is summed over its left row's entries in their order however many rows the
    product holds.
    """
    collaborations = collaboration_only[left] & collaboration_only[right]
    if not collaborations.any():
        return _row_dot(matrix, left, right, dense_gram=False)
    out = np.zeros(len(left))
    wanted = np.flatnonzero(~collaborations)
    if not len(wanted):
        return out
    if not _through_gram(matrix, left):  # row by row, each product as _row_dot's
        out[wanted] = _row_dot(matrix, left[wanted], right[wanted])
        return out
    # _row_dot's Gram matrix, only where wanted: apart, the pairs whose left profile is not a
    # collaboration's (its few co-authors against any right row), and the others (a
    # collaboration's row against right rows that are not).
    from_collaboration = collaboration_only[left[wanted]]
    for part in (wanted[~from_collaboration], wanted[from_collaboration]):
        if not len(part):
            continue
        rows, row_of = np.unique(left[part], return_inverse=True)
        columns, column_of = np.unique(right[part], return_inverse=True)
        gram = (matrix[rows] @ matrix[columns].T).toarray()
        out[part] = gram[row_of, column_of]
    return out


# Shared co-authors (count, Jaccard, IDF cosine, share of the smaller side): no evidence
# between two collaboration papers (see works.identity.signature.MAX_COUNTED_AUTHORS).
_COAUTHOR_EVIDENCE = [
    FEATURE_NAMES.index(name)
    for name in ("log_shared_coauthors", "coauthor_jaccard", "coauthor_idf_cos", "coauthor_overlap")
]


def _rare_full_name(levels, commonness):
    """How far below common a name is, for pairs printing the same full given names.

    Only identical full names get it: an initial ("A. Del Maestro") must still
    find its evidence in co-authors and topics. ``rare_name_same_field`` keeps it
    only for pairs sharing a field or venue token: a linear model cannot make
    "rare and in the same field" out of two separate features, and within a
    rare name's block the IDF of the field they share is low (everyone shares it),
    so ``where_cos`` alone undersells it.
    """
    return np.where(levels == NAME_FULL_EQUAL, np.maximum(COMMON - commonness, 0.0), 0.0)


def _cosine(out: np.ndarray, column: int, matrix, left, right, dots=None) -> None:
    present = _has_rows(matrix)
    dots = _row_dot(matrix, left, right) if dots is None else dots
    out[:, column] = _masked(dots, present[left] & present[right])


def _tfidf(token_lists: Sequence[Sequence[str]], *, binary: bool = False) -> sparse.csr_matrix:
    """Rows L2-normalised TF-IDF (IDF from these rows); empty rows stay zero.

    The token-list form of what :class:`BlockVocabulary` builds for a block, which the
    tests hold to it (and this to scipy's chain).
    """
    vocabulary: dict[str, int] = {}
    indptr, indices, data = [0], [], []
    for tokens in token_lists:
        # Counter keeps first-occurrence order, so columns and entries come in the
        # order a token-by-token loop gives them (the sums below depend on it).
        counts = dict.fromkeys(tokens, 1.0) if binary else Counter(tokens)
        indices.extend([vocabulary.setdefault(token, len(vocabulary)) for token in counts])
        data.extend(counts.values())
        indptr.append(len(indices))
    shape = (len(token_lists), max(len(vocabulary), 1))
    values = np.asarray(data, dtype=np.float64)
    columns = np.asarray(indices, dtype=np.int64)
    if not binary:
        values = _normalised(values, columns, np.asarray(indptr, dtype=np.int64), shape)
    return sparse.csr_matrix((values, columns, indptr), shape=shape)


def _normalised(counts, columns, indptr, shape) -> np.ndarray:
    """TF-IDF weights of CSR entries, L2-normalised per row, bit for bit what scipy's
    ``counts @ diags(idf)``, ``sqrt(m.multiply(m).sum(axis=1))`` and
    ``diags(1 / norms) @ m`` give (each of their entries is one product, and the row
    sums run in the order scipy's kernels leave the entries in; the reference chain
    is kept and compared bit for bit in tests/identity/test_features.py). Five
    scipy operations cost about a millisecond of overhead per matrix, ten matrices
    per mid-size block and merge round."""
    document_frequency = np.bincount(columns, minlength=shape[1])
    idf = np.log((1.0 + shape[0]) / (1.0 + document_frequency)) + 1.0
    weighted = counts * idf[columns]
    lengths = np.diff(indptr)
    rows = np.repeat(np.arange(shape[0]), lengths)
    squares = weighted * weighted
    same_row = rows[1:] == rows[:-1]
    if np.all(columns[:-1][same_row] > columns[1:][same_row]):
        # The product with diags(idf) lists each row's entries in reverse; when that
        # leaves every row sorted, scipy's elementwise product keeps that order.
        ends = indptr[1:][rows]
        squares = squares[indptr[:-1][rows] + ends - 1 - np.arange(len(rows))]
    sums = np.zeros(shape[0])
    nonempty = np.flatnonzero(lengths)
    if len(nonempty):
        sums[nonempty] = np.add.reduceat(squares, indptr[nonempty])
    norms = np.sqrt(sums)
    norms[norms == 0] = 1.0
    return (1.0 / norms)[rows] * weighted


def _binary(token_lists: Sequence[Sequence[str]]) -> sparse.csr_matrix:
    return _tfidf(token_lists, binary=True)


# --------------------------------------------------------------------------
# Small blocks: the same features with plain dicts. Most blocks of a corpus
# hold a handful of signatures, where building ten sparse matrices costs
# a hundred times more than the arithmetic.
# --------------------------------------------------------------------------

SMALL_LIMIT = 24


def _weights(counted: Sequence[Mapping[str, int]]) -> list[dict[str, float]]:
    """Per row {token: L2-normalised TF-IDF}, IDF from these rows (as :func:`_tfidf`), from
    each row's token counts."""
    frequency = Counter(chain.from_iterable(counted))  # rows holding each token
    rows = len(counted)
    # math, not numpy: on scalars numpy's call overhead was most of a small block's cost.
    # One logarithm per document frequency (at most one per row), not per token.
    by_frequency = {f: math.log((1.0 + rows) / (1.0 + f)) + 1.0 for f in set(frequency.values())}
    idf = {t: by_frequency[f] for t, f in frequency.items()}
    out = []
    for counts in counted:
        weighted = {t: c * idf[t] for t, c in counts.items()}
        norm = math.sqrt(sum([w * w for w in weighted.values()])) or 1.0
        out.append({t: w / norm for t, w in weighted.items()})
    return out


def _binary_weights(rows: Sequence[Sequence[str]]) -> tuple[dict[str, float], list[float]]:
    """(IDF, each row's norm) of rows of distinct tokens: :func:`_weights` of their counts
    (all 1) without the per-row dicts. A pooled collaboration member brings thousands of
    co-authors, of which a comparison reads the few the other side shares
    (:func:`_binary_dot`)."""
    frequency = Counter(chain.from_iterable(rows))
    count = len(rows)
    by_frequency = {f: math.log((1.0 + count) / (1.0 + f)) + 1.0 for f in set(frequency.values())}
    idf = {t: by_frequency[f] for t, f in frequency.items()}
    # 1 * idf is idf: the same squares, summed in the same order, as _weights.
    norms = [math.sqrt(sum([idf[t] * idf[t] for t in row])) or 1.0 for row in rows]
    return idf, norms


def _binary_dot(fa: dict, fb: dict) -> float:
    """:func:`_dot` of two rows of :func:`_binary_weights`, bit for bit: each weight is
    idf / norm, and the smaller row is walked in its order."""
    a, b = fa, fb
    if len(a["coauthor_list"]) > len(b["coauthor_list"]):
        a, b = b, a
    idf, norm_a, norm_b = a["coauthor_idf"], a["coauthor_norm"], b["coauthor_norm"]
    shared = b["coauthors"]
    return sum([(idf[t] / norm_a) * (idf[t] / norm_b) for t in a["coauthor_list"] if t in shared])


def _dot(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    # A list, not a generator: the same products summed in the same order, faster.
    return sum([w * b[t] for t, w in a.items() if t in b])


def _cos_or_nan(a: dict[str, float], b: dict[str, float]) -> float:
    return _dot(a, b) if a and b else np.nan


def _overlap(shared: float, fewer: float) -> float:
    return shared / max(fewer, 1.0) if fewer > 0 else np.nan


def _small_fields(
    profiles: Sequence[Profile], resolver: CoauthorResolver | None = None
) -> list[dict]:
    """Per profile: its TF-IDF dicts, and what every pair would otherwise recompute."""
    coauthors = resolve_coauthors(profiles, resolver)
    title = _weights([p.title_counts for p in profiles])
    if any(p.abstract_tokens for p in profiles):
        abstract = _weights([p.abstract_counts for p in profiles])
        text = _weights([p.text_counts for p in profiles])
    else:
        # Without abstracts the text is the title: the same rows give the same weights.
        abstract, text = [{}] * len(profiles), title
    idf, norms = _binary_weights(coauthors)
    fields = {
        "coauthors": [set(c) for c in coauthors],
        # Resolved per comparison (resolve_coauthors), so weighed here, not on the profile.
        "coauthor_list": coauthors,
        "coauthor_norm": norms,
        "where": _weights([p.where_counts for p in profiles]),
        "title": title,
        "title_set": [p.title_set for p in profiles],
        "abstract": abstract,
        "text": text,
        "affiliation": _weights([p.affiliation_counts for p in profiles]),
    }
    per_profile = [{k: v[i] for k, v in fields.items()} for i in range(len(profiles))]
    for profile, own in zip(profiles, per_profile, strict=True):
        own["coauthor_idf"] = idf
        own["initials_only"] = all(n.initials_only for n in profile.names)
        own["years"] = (min(profile.years), max(profile.years)) if profile.years else None
        # log1p is monotonic: log1p(min(sizes)) is the smaller of the two logs, bit for bit.
        own["log_size"] = np.log1p(profile.size)
    return per_profile


def _rarity(level, commonness: float) -> float:
    """:func:`_rare_full_name` for one pair, without numpy's scalar overhead."""
    return max(COMMON - commonness, 0.0) if level == NAME_FULL_EQUAL else 0.0


def _small_pair(a: Profile, b: Profile, fa: dict, fb: dict) -> list[float]:
    level = min((compatibility(x, y) for x in a.names for y in b.names), default=NAME_CONFLICT)
    # Two collaboration profiles get no co-author evidence (below): their thousands of
    # co-authors are not compared.
    collaborations = a.collaboration_only and b.collaboration_only
    shared = 0.0 if collaborations else float(len(fa["coauthors"] & fb["coauthors"]))
    count_a, count_b = len(fa["coauthors"]), len(fb["coauthors"])
    union = count_a + count_b - shared
    title = _cos_or_nan(fa["title"], fb["title"])
    shared_venues = float(len(a.venues & b.venues))
    fewer_venues = min(len(a.venues), len(b.venues))
    years_a, years_b = fa["years"], fb["years"]
    gap = np.nan
    if years_a and years_b:
        gap = max(0.0, max(years_a[0], years_b[0]) - min(years_a[1], years_b[1]))
    commonness = max(a.commonness, b.commonness)
    rarity = _rarity(level, commonness)
    where = _cos_or_nan(fa["where"], fb["where"])
    # Without abstracts a profile's text is its title (the same dict): the same dot product.
    text = title if fa["text"] is fa["title"] and fb["text"] is fb["title"] else None
    row = [
        level,
        fa["initials_only"] or fb["initials_only"],
        math.log1p(shared),  # counts as logs, as pair_features gives them
        shared / union if union > 0 else 0.0,
        0.0 if collaborations else _binary_dot(fa, fb),
        math.log1p(min(count_a, count_b)),
        where,
        float(shared_venues > 0) if fewer_venues else np.nan,
        title,
        math.log1p(len(fa["title_set"] & fb["title_set"])) if not math.isnan(title) else np.nan,
        _cos_or_nan(fa["abstract"], fb["abstract"]),
        _cos_or_nan(fa["text"], fb["text"]) if text is None else text,
        _cos_or_nan(fa["affiliation"], fb["affiliation"]),
        gap,
        min(fa["log_size"], fb["log_size"]),
        max(fa["log_size"], fb["log_size"]),
        _overlap(shared, min(count_a, count_b)),
        _overlap(shared_venues, fewer_venues),
        commonness,
        rarity,
        # where > 0 is the dot product's sign (NaN, no "where" on one side, is not > 0).
        rarity if where > 0 else 0.0,
    ]
    if collaborations:
        for column in _COAUTHOR_EVIDENCE:
            row[column] = 0.0
    return row


def small_block_features(
    profiles: Sequence[Profile], resolver: CoauthorResolver | None = None
) -> tuple[np.ndarray, ...]:
    """(left, right, features, vetoed) for all pairs of a small block, as
    :func:`pair_features` and :func:`vetoed_pairs` would give them."""
    per_profile = _small_fields(profiles, resolver)
    left, right = np.triu_indices(len(profiles), 1)
    rows = [
        _small_pair(profiles[i], profiles[j], per_profile[i], per_profile[j])
        for i, j in zip(left.tolist(), right.tolist(), strict=True)
    ]
    features = np.array(rows, dtype=np.float32).reshape(len(left), len(FEATURE_NAMES))
    vetoed = np.array(
        [
            not profiles[i].paper_ids.isdisjoint(profiles[j].paper_ids)
            for i, j in zip(left.tolist(), right.tolist(), strict=True)
        ],
        dtype=bool,
    )
    return left, right, features, vetoed | (features[:, 0] == NAME_CONFLICT)


def profile_pair_features(
    profiles: Sequence[Profile], left: np.ndarray, right: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(features, vetoed) for the given pairs of ``profiles``, by whichever path is
    cheaper: plain dicts for few profiles or few pairs per profile (linking one
    new signature to a shortlist), sparse matrices otherwise."""
    if len(profiles) > SMALL_LIMIT and len(left) > 4 * len(profiles):
        block = BlockData.build(profiles)
        features = pair_features(block, left, right)
        return features, vetoed_pairs(block, left, right, levels=features[:, 0])
    per_profile = _small_fields(profiles)
    pairs = list(zip(np.asarray(left).tolist(), np.asarray(right).tolist(), strict=True))
    rows = [_small_pair(profiles[i], profiles[j], per_profile[i], per_profile[j]) for i, j in pairs]
    features = np.array(rows, dtype=np.float32).reshape(len(pairs), len(FEATURE_NAMES))
    shared_paper = np.array(
        [not profiles[i].paper_ids.isdisjoint(profiles[j].paper_ids) for i, j in pairs], dtype=bool
    )
    return features, shared_paper | (features[:, 0] == NAME_CONFLICT)
