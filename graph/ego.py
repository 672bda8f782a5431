"""The ego-graph of a researcher: the bounded picture behind the slice and the explorer.

``build_graph`` returns the JSON document described in graph/README.md (schema version
``SCHEMA_VERSION``). Its cost does not depend on how many works or co-authors the researcher has:
six queries, each bounded by a limit —

1. the strongest co-authors: the first rows of the ``(author, -weight)`` edge index;
2. the edges among those co-authors;
3. the researcher's latest works (``Limits.candidate_works`` of them, the last rows of the
   ``(author, work)`` index), with the researcher's affiliation on each;
4. which of the shown co-authors are on those works;
5. the topics of those works;

and the choice of works, topics and institutions is made in Python over those bounded rows.
Topics and institutions are therefore weighted over the most recent works, which is also what
"the researcher in context" should mean for someone with decades of papers.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass

from django.db.models import F, Subquery
from django.urls import reverse

from graph.models import CollaborationEdge
from graph.weights import is_close
from works.models import AuthorRecord, Authorship, Work, WorkTopic, topic_url

SCHEMA = "bzpeer.graph"
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Limits:
    name: str
    people: int
    works: int
    topics: int
    institutions: int
    # Edges among co-authors and between co-authors and works: without a cap, fifty people on
    # fifty large papers would give 2,500 lines nobody can read.
    person_links: int
    work_links: int
    candidate_works: int = 300


INLINE = Limits(
    name="inline", people=12, works=10, topics=6, institutions=4, person_links=24, work_links=60
)
EXPLORER = Limits(
    name="explorer",
    people=50,
    works=50,
    topics=20,
    institutions=20,
    person_links=150,
    work_links=400,
)


def person_id(slug: str) -> str:
    return f"person:{slug}"


def work_id(arxiv_id: str) -> str:
    return f"work:{arxiv_id}"


def topic_id(code: str) -> str:
    return f"topic:{code}"


def institution_id(name: str) -> str:
    # Hashed so the id is the same in every graph that shows the institution (the explorer
    # merges graphs by node id) without putting a long free-text string in it.
    digest = hashlib.sha1(name.casefold().encode("utf-8"), usedforsecurity=False).hexdigest()
    return f"institution:{digest[:12]}"


def _normalise_affiliation(text: str) -> str:
    return " ".join(text.split())


def select_works(
    candidates: list[tuple[int, frozenset[int]]], people_order: list[int], *, limit: int
) -> list[int]:
    """Pick the works to show from candidates (most recent first, each with its co-authors).

    A third of the places go to the most recent works (what the researcher does now), then one
    shared work per co-author, strongest co-author first (why they are in the picture), then the
    works that connect most of the shown co-authors, then recency again.
    """
    chosen: list[int] = []
    taken: set[int] = set()

    def take(work: int) -> None:
        chosen.append(work)
        taken.add(work)

    for work, _ in candidates[: max(1, limit // 3)]:
        take(work)
    covered = {person for work, people in candidates if work in taken for person in people}
    for person in people_order:
        if len(chosen) >= limit:
            break
        if person in covered:
            continue
        for work, people in candidates:
            if work not in taken and person in people:
                take(work)
                covered |= people
                break
    recency = {work: index for index, (work, _) in enumerate(candidates)}
    connected = sorted(
        (c for c in candidates if c[0] not in taken and c[1]),
        key=lambda c: (-len(c[1]), recency[c[0]]),
    )
    for work, _ in connected + [c for c in candidates if not c[1]]:
        if len(chosen) >= limit:
            break
        if work not in taken:
            take(work)
    return sorted(chosen[:limit], key=recency.__getitem__)


def build_graph(record: AuthorRecord, *, limits: Limits = INLINE) -> dict:
    """The ego-graph of a person record as a JSON-ready dict (see graph/README.md)."""
    center = person_id(record.slug)
    coauthors = _strongest_coauthors(record, limits)
    among = _edges_among_coauthors(coauthors, limits)
    recent = _recent_works(record, coauthors, limits)
    chosen = select_works(
        [(pk, frozenset(recent.coauthors_on.get(pk, ()))) for pk in recent.works],
        coauthors.order,
        limit=limits.works,
    )
    work_nodes, work_edges = _work_nodes_and_edges(center, recent, chosen, coauthors, limits)
    topic_nodes, topic_edges, topics_truncated = _topic_nodes_and_edges(
        center, recent, chosen, limits
    )
    institution_nodes, institution_edges, institutions_truncated = _institution_nodes_and_edges(
        record, center, recent, coauthors, limits
    )
    return {
        "schema": SCHEMA,
        "version": SCHEMA_VERSION,
        "center": center,
        "variant": limits.name,
        "limits": {
            "people": limits.people,
            "works": limits.works,
            "topics": limits.topics,
            "institutions": limits.institutions,
        },
        "truncated": {
            "people": coauthors.truncated,
            "works": len(recent.works) > len(chosen) or record.work_count > len(recent.works),
            "topics": topics_truncated,
            "institutions": institutions_truncated,
        },
        "nodes": [
            _center_node(record, center),
            *_coauthor_nodes(coauthors),
            *work_nodes,
            *topic_nodes,
            *institution_nodes,
        ],
        "edges": [
            *_coauthor_edges(center, coauthors),
            *among,
            *work_edges,
            *topic_edges,
            *institution_edges,
        ],
    }


def _edge(source: str, target: str, kind: str, weight: float, **extra) -> dict:
    return {
        "id": f"{kind}:{source}|{target}",
        "source": source,
        "target": target,
        "type": kind,
        "weight": round(weight, 4),
        **extra,
    }


def _center_node(record: AuthorRecord, center: str) -> dict:
    return {
        "id": center,
        "type": "person",
        "role": "center",
        "label": record.display_name,
        "url": record.get_absolute_url(),
        "graph_url": reverse("graph:json", args=[record.slug]),
        "affiliation": record.affiliation,
        "work_count": record.work_count,
        "close_collaborator_count": record.close_collaborator_count,
    }


@dataclass(frozen=True)
class _Coauthors:
    """The co-authors shown, strongest first, and the node id of each."""

    edges: list[CollaborationEdge]  # from the researcher, strongest first
    truncated: bool  # the researcher has more co-authors than shown
    node_of: dict[int, str]  # record id -> node id

    @property
    def order(self) -> list[int]:
        return [edge.coauthor_id for edge in self.edges]

    @property
    def records(self) -> dict[int, AuthorRecord]:
        return {edge.coauthor_id: edge.coauthor for edge in self.edges}


def _strongest_coauthors(record: AuthorRecord, limits: Limits) -> _Coauthors:
    """Query 1: the first rows of the (author, -weight) index."""
    # One more than shown, to know whether there are more.
    strongest = list(
        CollaborationEdge.objects.filter(author=record)
        .order_by("-weight", "coauthor_id")
        .select_related("coauthor")
        .only(
            "weight",
            "shared_works",
            "latest_year",
            "coauthor__slug",
            "coauthor__display_name",
            "coauthor__affiliation",
        )[: limits.people + 1]
    )
    shown = strongest[: limits.people]
    return _Coauthors(
        edges=shown,
        truncated=len(strongest) > limits.people,
        node_of={edge.coauthor_id: person_id(edge.coauthor.slug) for edge in shown},
    )


def _coauthor_nodes(coauthors: _Coauthors) -> list[dict]:
    return [
        {
            "id": coauthors.node_of[edge.coauthor_id],
            "type": "person",
            "role": "coauthor",
            "label": edge.coauthor.display_name,
            "url": edge.coauthor.get_absolute_url(),
            "graph_url": reverse("graph:json", args=[edge.coauthor.slug]),
            "affiliation": edge.coauthor.affiliation,
            "weight": round(edge.weight, 4),
            "shared_works": edge.shared_works,
            "latest_year": edge.latest_year,
            "close": is_close(edge.weight),
        }
        for edge in coauthors.edges
    ]


def _coauthor_edges(center: str, coauthors: _Coauthors) -> list[dict]:
    return [
        _edge(
            center,
            coauthors.node_of[edge.coauthor_id],
            "coauthor",
            edge.weight,
            shared_works=edge.shared_works,
        )
        for edge in coauthors.edges
    ]


def _edges_among_coauthors(coauthors: _Coauthors, limits: Limits) -> list[dict]:
    """Query 2: the edges among the shown co-authors, strongest first.

    Asked even for a single co-author (it finds nothing) so that the query count never depends
    on the researcher.
    """
    if not coauthors.edges:
        return []
    people = coauthors.order
    among = (
        CollaborationEdge.objects.filter(
            author_id__in=people,
            coauthor_id__in=people,
            author_id__lt=F("coauthor_id"),
        )
        .order_by("-weight", "author_id", "coauthor_id")
        .values_list("author_id", "coauthor_id", "weight", "shared_works")[: limits.person_links]
    )
    return [
        _edge(
            coauthors.node_of[author_pk],
            coauthors.node_of[coauthor_pk],
            "coauthor",
            weight,
            shared_works=shared,
        )
        for author_pk, coauthor_pk, weight, shared in among
    ]


@dataclass(frozen=True)
class _RecentWorks:
    """The researcher's latest works: the candidates for the picture."""

    works: dict[int, Work]  # by id, most recent first
    own_affiliations: Counter[str]  # the researcher's affiliation on them, normalised
    coauthors_on: dict[int, set[int]]  # work id -> the shown co-authors on it


def _recent_works(record: AuthorRecord, coauthors: _Coauthors, limits: Limits) -> _RecentWorks:
    """Queries 3 and 4: the latest works, then which shown co-authors are on them.

    The window is the last rows of the (author, work) index, the works imported last, so that
    its cost does not grow with the researcher's work count; within it, works are ordered by
    year. Imports run oldest first (a snapshot is in arXiv id order, harvests add what is new),
    so the window holds the newest works in practice.
    """
    window = (
        Authorship.objects.filter(author=record)
        .order_by("-work_id")
        .values("work_id")[: limits.candidate_works]
    )
    recent = list(
        Authorship.objects.filter(author=record, work_id__in=Subquery(window))
        .select_related("work")
        .only(
            "affiliation",
            "work__arxiv_id",
            "work__title",
            "work__year",
            "work__kind",
            "work__author_count",
            "work__person_author_count",
            "work__journal_ref",
        )
        .order_by(F("work__year").desc(nulls_last=True), "-work_id")[: limits.candidate_works]
    )
    works = {}
    own_affiliations: Counter[str] = Counter()
    for authorship in recent:
        works.setdefault(authorship.work_id, authorship.work)
        if authorship.affiliation.strip():
            own_affiliations[_normalise_affiliation(authorship.affiliation)] += 1
    return _RecentWorks(
        works=works,
        own_affiliations=own_affiliations,
        coauthors_on=_coauthors_on(list(works), coauthors),
    )


def _coauthors_on(work_ids: list[int], coauthors: _Coauthors) -> dict[int, set[int]]:
    on_work: dict[int, set[int]] = defaultdict(set)
    if not (coauthors.edges and work_ids):
        return on_work
    # order_by(): Authorship's default ordering would join works only to sort.
    for work_pk, author_pk in (
        Authorship.objects.filter(work_id__in=work_ids, author_id__in=coauthors.order)
        .order_by()
        .values_list("work_id", "author_id")
    ):
        on_work[work_pk].add(author_pk)
    return on_work


def _work_nodes_and_edges(
    center: str, recent: _RecentWorks, chosen: list[int], coauthors: _Coauthors, limits: Limits
) -> tuple[list[dict], list[dict]]:
    """The chosen works' nodes; edges from the researcher, then from the co-authors on them."""
    nodes, own_edges = [], []
    rank = {pk: i for i, pk in enumerate(coauthors.order)}
    work_links = []
    for pk in chosen:
        work = recent.works[pk]
        node = work_id(work.arxiv_id)
        nodes.append(
            {
                "id": node,
                "type": "work",
                "kind": work.kind,
                "label": work.title,
                "year": work.year,
                "venue": work.venue,
                "authors": work.author_count,
                "url": work.get_absolute_url(),
                "arxiv_url": work.abs_url,
            }
        )
        own_edges.append(_edge(center, node, "authored", 1.0))
        for author_pk in recent.coauthors_on.get(pk, ()):
            work_links.append((rank[author_pk], node, coauthors.node_of[author_pk]))
    # The strongest co-authors' links are kept when there are too many to draw.
    coauthor_edges = [
        _edge(person, node, "authored", 1.0)
        for _, node, person in sorted(work_links)[: limits.work_links]
    ]
    return nodes, own_edges + coauthor_edges


def _topic_nodes_and_edges(
    center: str, recent: _RecentWorks, chosen: list[int], limits: Limits
) -> tuple[list[dict], list[dict], bool]:
    """Query 5: the topics of the recent works, with whether some were left out.

    Each work counts once for each of its topics, its primary topic once more.
    """
    candidate_ids = list(recent.works)
    topic_rows = (
        WorkTopic.objects.filter(work_id__in=candidate_ids)
        .values_list("work_id", "is_primary", "topic__code", "topic__name")
        .order_by()
        if candidate_ids
        else []
    )
    topic_works: Counter[str] = Counter()
    topic_primary: Counter[str] = Counter()
    topic_names: dict[str, str] = {}
    primary_topic_of: dict[int, str] = {}
    for work_pk, is_primary, code, name in topic_rows:
        topic_works[code] += 1
        topic_names[code] = name
        if is_primary:
            topic_primary[code] += 1
            primary_topic_of[work_pk] = code
    ranked_topics = sorted(topic_works, key=lambda c: (-(topic_works[c] + topic_primary[c]), c))
    shown_topics = ranked_topics[: limits.topics]
    nodes = [
        {
            "id": topic_id(code),
            "type": "topic",
            "label": topic_names[code],
            "code": code,
            "works": topic_works[code],
            "primary_works": topic_primary[code],
            "url": topic_url(code),
        }
        for code in shown_topics
    ]
    edges = [
        _edge(center, topic_id(code), "topic", topic_works[code] + topic_primary[code])
        for code in shown_topics
    ]
    shown_topic_set = set(shown_topics)
    for pk in chosen:
        code = primary_topic_of.get(pk)
        if code in shown_topic_set:
            edges.append(_edge(work_id(recent.works[pk].arxiv_id), topic_id(code), "topic", 1.0))
    return nodes, edges, len(ranked_topics) > len(shown_topics)


def _institution_nodes_and_edges(
    record: AuthorRecord,
    center: str,
    recent: _RecentWorks,
    coauthors: _Coauthors,
    limits: Limits,
) -> tuple[list[dict], list[dict], bool]:
    """Institution nodes and affiliation edges, and whether some institutions were left out.

    Only affiliations present in the metadata, never guessed; the researcher's own come first.
    """
    members: dict[str, list[str]] = defaultdict(list)
    display: dict[str, str] = {}
    own = [name for name, _ in recent.own_affiliations.most_common()]
    if record.affiliation.strip():
        own.insert(0, _normalise_affiliation(record.affiliation))
    for name in dict.fromkeys(own):
        display.setdefault(name.casefold(), name)
        members[name.casefold()].append(center)
    people = coauthors.records
    for pk in coauthors.order:
        affiliation = _normalise_affiliation(people[pk].affiliation)
        if affiliation:
            display.setdefault(affiliation.casefold(), affiliation)
            members[affiliation.casefold()].append(coauthors.node_of[pk])
    ranked_institutions = sorted(
        members, key=lambda key: (center not in members[key], -len(members[key]), key)
    )
    nodes, edges = [], []
    for key in ranked_institutions[: limits.institutions]:
        node = institution_id(key)
        nodes.append(
            {
                "id": node,
                "type": "institution",
                "label": display[key],
                "people": len(members[key]),
                "url": None,
            }
        )
        edges.extend(_edge(member, node, "affiliation", 1.0) for member in members[key])
    return nodes, edges, len(ranked_institutions) > limits.institutions
