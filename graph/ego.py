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
from works.models import AuthorRecord, Authorship, WorkTopic, topic_url

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
    nodes: list[dict] = []
    edges: list[dict] = []

    def add_edge(source: str, target: str, kind: str, weight: float, **extra) -> None:
        edges.append(
            {
                "id": f"{kind}:{source}|{target}",
                "source": source,
                "target": target,
                "type": kind,
                "weight": round(weight, 4),
                **extra,
            }
        )

    nodes.append(
        {
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
    )

    # 1. The strongest co-authors (one more than shown, to know whether there are more).
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
    people_truncated = len(strongest) > limits.people
    strongest = strongest[: limits.people]
    people = {edge.coauthor_id: edge.coauthor for edge in strongest}
    node_of_person = {pk: person_id(person.slug) for pk, person in people.items()}
    for edge in strongest:
        coauthor = edge.coauthor
        nodes.append(
            {
                "id": node_of_person[coauthor.pk],
                "type": "person",
                "role": "coauthor",
                "label": coauthor.display_name,
                "url": coauthor.get_absolute_url(),
                "graph_url": reverse("graph:json", args=[coauthor.slug]),
                "affiliation": coauthor.affiliation,
                "weight": round(edge.weight, 4),
                "shared_works": edge.shared_works,
                "latest_year": edge.latest_year,
                "close": is_close(edge.weight),
            }
        )
        add_edge(
            center,
            node_of_person[coauthor.pk],
            "coauthor",
            edge.weight,
            shared_works=edge.shared_works,
        )

    # 2. Edges among the shown co-authors, strongest first. Asked even for a single co-author
    # (it finds nothing) so that the query count never depends on the researcher.
    if people:
        among = (
            CollaborationEdge.objects.filter(
                author_id__in=list(people),
                coauthor_id__in=list(people),
                author_id__lt=F("coauthor_id"),
            )
            .order_by("-weight", "author_id", "coauthor_id")
            .values_list("author_id", "coauthor_id", "weight", "shared_works")[
                : limits.person_links
            ]
        )
        for author_pk, coauthor_pk, weight, shared in among:
            add_edge(
                node_of_person[author_pk],
                node_of_person[coauthor_pk],
                "coauthor",
                weight,
                shared_works=shared,
            )

    # 3. The researcher's latest works, with their affiliation on each. The window is the last
    # rows of the (author, work) index, the works imported last, so that its cost does not
    # grow with the researcher's work count; within it, works are ordered by year. Imports
    # run oldest first (a snapshot is in arXiv id order, harvests add what is new), so the
    # window holds the newest works in practice.
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
    candidate_ids = list(works)

    # 4. Which shown co-authors are on those works.
    on_work: dict[int, set[int]] = defaultdict(set)
    if people and candidate_ids:
        # order_by(): Authorship's default ordering would join works only to sort.
        for work_pk, author_pk in (
            Authorship.objects.filter(work_id__in=candidate_ids, author_id__in=list(people))
            .order_by()
            .values_list("work_id", "author_id")
        ):
            on_work[work_pk].add(author_pk)

    people_order = [edge.coauthor_id for edge in strongest]
    chosen = select_works(
        [(pk, frozenset(on_work.get(pk, ()))) for pk in candidate_ids],
        people_order,
        limit=limits.works,
    )
    rank = {pk: i for i, pk in enumerate(people_order)}
    work_links = []
    for pk in chosen:
        work = works[pk]
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
        add_edge(center, node, "authored", 1.0)
        for author_pk in on_work.get(pk, ()):
            work_links.append((rank[author_pk], node, node_of_person[author_pk]))
    # The strongest co-authors' links are kept when there are too many to draw.
    for _, node, person in sorted(work_links)[: limits.work_links]:
        add_edge(person, node, "authored", 1.0)

    # 5. Topics of the recent works: each work counts once, its primary topic once more.
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
    for code in shown_topics:
        node = topic_id(code)
        nodes.append(
            {
                "id": node,
                "type": "topic",
                "label": topic_names[code],
                "code": code,
                "works": topic_works[code],
                "primary_works": topic_primary[code],
                "url": topic_url(code),
            }
        )
        add_edge(center, node, "topic", topic_works[code] + topic_primary[code])
    shown_topic_set = set(shown_topics)
    for pk in chosen:
        code = primary_topic_of.get(pk)
        if code in shown_topic_set:
            add_edge(work_id(works[pk].arxiv_id), topic_id(code), "topic", 1.0)

    # Institutions: only affiliations present in the metadata, never guessed.
    members: dict[str, list[str]] = defaultdict(list)
    display: dict[str, str] = {}
    own = [name for name, _ in own_affiliations.most_common()]
    if record.affiliation.strip():
        own.insert(0, _normalise_affiliation(record.affiliation))
    for name in dict.fromkeys(own):
        display.setdefault(name.casefold(), name)
        members[name.casefold()].append(center)
    for pk in people_order:
        affiliation = _normalise_affiliation(people[pk].affiliation)
        if affiliation:
            display.setdefault(affiliation.casefold(), affiliation)
            members[affiliation.casefold()].append(node_of_person[pk])
    ranked_institutions = sorted(
        members, key=lambda key: (center not in members[key], -len(members[key]), key)
    )
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
        for member in members[key]:
            add_edge(member, node, "affiliation", 1.0)

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
            "people": people_truncated,
            "works": len(candidate_ids) > len(chosen) or record.work_count > len(candidate_ids),
            "topics": len(ranked_topics) > len(shown_topics),
            "institutions": len(ranked_institutions) > limits.institutions,
        },
        "nodes": nodes,
        "edges": edges,
    }
