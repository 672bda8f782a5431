"""Who is who in the database: signatures linked to records, blocks clustered again.

An author record is a cluster of signatures (works.identity decides which, from the evidence
arXiv gives). This module is the database side:

* :func:`link_signatures` is what every import calls for its new signatures: each joins the
  existing record the evidence points to, or a new record (works.identity.link). Nothing that
  exists is re-clustered; it is cheap enough for a day's harvest.
* :func:`recluster_blocks` clusters blocks again from scratch (``cluster_authors``, the
  identity queue), keeping each record's id and slug with the cluster that holds most of its
  signatures, and setting ``possibly_several_people`` where the model's confidence is low.
* :func:`cluster_labelled` is the same clustering on labelled rows: ``evaluate_identity`` runs it
  on files, the importer through :func:`link_signatures`.

People's corrections (works.models.IdentityConstraint) are obeyed everywhere: a must-link keeps
a signature with its record, a cannot-link keeps it off. Every change of records ends in
works.changes.authorships_changed, the one way down.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from bzpeer.lib.processes import parallel_map
from works.arxiv import names
from works.changes import authorships_changed
from works.identity.cluster import cluster_block
from works.identity.incremental import cohesion, link
from works.identity.model import default_model
from works.identity.names import parse_name
from works.identity.sharing import TASK_SIGNATURES, grouped_blocks, least_loaded
from works.identity.signature import Signature
from works.models import (
    AuthorRecord,
    Authorship,
    IdentityConstraint,
    RecordEvent,
    Work,
    WorkTopic,
)
from works.resolution import free_slugs
from works.rows import MAX_NAME_LENGTH, slug_base
from works.signals import records_merged

# Signature ids per query when loading features: bounds the IN lists and the memory.
LOAD_CHUNK = 5000
# Taken by a transaction before it creates records (see create_records).
RECORDS_LOCK = 0x627A_7065_6572  # "bzpeer"
# Pending signatures from which linking an import's batch is worth worker processes (the rows
# of the blocks travel to them and back, and a record whose members span two tasks' blocks is
# read in both; a day's increment links about 11,000).
PARALLEL_LINKING_SIGNATURES = 3000
# Block tasks a clustering process takes before fresh ones take over, in runs of hundreds of
# tasks (a first load's linking, cluster_authors --all): its name caches and freed memory
# grew by about 0.7 MB a task, from 230 to 400 MB a process over a 200,000-record load.
TASKS_PER_PROCESS = 20
# Clusters below this many signatures are not checked for cohesion: two papers cannot say
# much about being several people.
COHESION_MIN_SIGNATURES = 4

Pairs = list[tuple[str, str]]


# -- what a signature looks like to the model ---------------------------------------------------


def labelled_rows(signatures: Iterable[Authorship | Member | Pending]) -> list[dict]:
    """Signatures in the labelled JSON-lines format of the identity data (without ``cluster``),
    with what the model reads: co-authors, title, abstract (when the model reads abstracts),
    year, categories, affiliation.

    Three queries per LOAD_CHUNK signatures. ``signatures`` need ``id``, ``work_id``,
    ``position``, ``printed_name`` and ``affiliation``.
    """
    signatures = list(signatures)
    rows: list[dict] = []
    for start in range(0, len(signatures), LOAD_CHUNK):
        rows += _labelled_chunk(signatures[start : start + LOAD_CHUNK])
    return rows


def _labelled_chunk(signatures: list[Authorship]) -> list[dict]:
    work_ids = {s.work_id for s in signatures}
    # A model that never read an abstract gets none (IdentityModel.reads_abstracts): a block's
    # members' abstracts were most of the rows' memory and of the bytes read.
    fields = ("id", "title", "abstract", "year")
    if not default_model().reads_abstracts:
        fields = ("id", "title", "year")
    works = {w["id"]: w for w in Work.objects.filter(id__in=work_ids).values(*fields)}
    categories: dict[int, list[str]] = defaultdict(list)
    for work_id, code in (
        WorkTopic.objects.filter(work_id__in=work_ids)
        .order_by("work_id", "position")
        .values_list("work_id", "topic__code")
    ):
        categories[work_id].append(code)
    teams: dict[int, list[str]] = defaultdict(list)
    # The same names as co-authors, as stored when written (None where a row predates that)
    kept_names: dict[int, list[str | None]] = defaultdict(list)
    places: dict[int, dict[int, int]] = defaultdict(dict)  # work → position → place in team
    for work_id, position, printed, coauthor_name in (
        Authorship.objects.filter(work_id__in=work_ids)
        .order_by("work_id", "position")
        .values_list("work_id", "position", "printed_name", "coauthor_name")
    ):
        places[work_id][position] = len(teams[work_id])
        teams[work_id].append(printed)
        kept_names[work_id].append(coauthor_name)
    stored = {work_id for work_id, names in kept_names.items() if None not in names}
    return [
        {
            "signature_id": str(s.id),
            "paper_id": str(s.work_id),
            "author": s.printed_name,
            "position": s.position,
            "coauthors": Coauthors(teams[s.work_id], places[s.work_id][s.position]),
            "coauthor_names": Coauthors(kept_names[s.work_id], places[s.work_id][s.position])
            if s.work_id in stored
            else None,
            "title": works[s.work_id]["title"],
            "abstract": works[s.work_id].get("abstract", ""),
            "year": works[s.work_id]["year"],
            "venue": "",
            "categories": categories[s.work_id],
            "affiliations": [s.affiliation] if s.affiliation else [],
        }
        for s in signatures
    ]


class Coauthors(Sequence[str]):
    """A work's printed names without one author's, as a row's ``coauthors`` (or its names as
    co-authors, as its ``coauthor_names``), without a copy per row: each author of a
    1,000-author work is a row, and rows are pickled to the linking processes, which then
    receive the work's names once per task rather than once per row."""

    __slots__ = ("team", "place")

    def __init__(self, team: Sequence[str], place: int):
        self.team, self.place = team, place

    def _names(self) -> list[str]:
        return [*self.team[: self.place], *self.team[self.place + 1 :]]

    def __len__(self) -> int:
        return len(self.team) - 1

    def __getitem__(self, index):
        return self._names()[index]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __eq__(self, other) -> bool:
        return list(self) == list(other)


def _signatures_for(rows: Iterable[Mapping]) -> list[Signature]:
    abstracts = default_model().reads_abstracts
    return [Signature.from_record(row, abstracts=abstracts) for row in rows]


# -- the clustering every path shares ------------------------------------------------------------


def cluster_labelled(
    rows: Sequence[Mapping],
    *,
    existing: Mapping[str, Sequence[Mapping]] | None = None,
    must_link: Pairs = (),
    cannot_link: Pairs = (),
) -> dict[str, str]:
    """Signature id → cluster id for new labelled rows, given the clusters that exist.

    A new signature joins an existing cluster (its id) or a new one (``"new:N"``). With no
    existing clusters this clusters the rows from scratch, block by block: what
    ``evaluate_identity`` measures is exactly what an import into an empty site does.
    """
    existing_signatures = {
        cid: _signatures_for(members) for cid, members in (existing or {}).items()
    }
    result = link(
        _signatures_for(rows),
        existing_signatures,
        must_link=must_link,
        cannot_link=cannot_link,
    )
    assigned = dict(result.assignments)
    for n, cluster in enumerate(result.new_clusters):
        for signature_id in cluster:
            assigned[signature_id] = f"new:{n}"
    return assigned


# -- constraints -----------------------------------------------------------------------------------


@dataclass
class Constraints:
    """People's corrections for a set of signatures, as the model reads them."""

    must: dict[int, int] = field(default_factory=dict)  # signature id → record it belongs to
    cannot: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))

    @classmethod
    def load(cls, signature_ids: Iterable[int]) -> Constraints:
        constraints = cls()
        rows = (
            IdentityConstraint.objects.filter(signature_id__in=list(signature_ids))
            # The latest word wins: "not mine" after an owner's confirmation, a move after it.
            .order_by("created_at", "id")
            .values_list("signature_id", "record_id", "kind", "record__merged_into_id")
        )
        for signature_id, record_id, kind, merged_into in rows:
            # A constraint on a record merged away holds for the record that absorbed it.
            record_id = merged_into or record_id
            if kind == IdentityConstraint.Kind.MUST_LINK:
                constraints.must[signature_id] = record_id
                constraints.cannot[signature_id].discard(record_id)
            else:
                constraints.cannot[signature_id].add(record_id)
                if constraints.must.get(signature_id) == record_id:
                    del constraints.must[signature_id]
        return constraints

    def only(self, signature_ids: Iterable[int]) -> Constraints:
        """The corrections on these signatures alone."""
        ids = set(signature_ids)
        return Constraints(
            must={s: r for s, r in self.must.items() if s in ids},
            cannot=defaultdict(set, {s: r for s, r in self.cannot.items() if s in ids}),
        )

    def pairs(self, members_of: Mapping[int, Sequence[int]]) -> tuple[Pairs, Pairs]:
        """(must-link, cannot-link) signature pairs, given each record's current members.

        A must-link ties the signature to the record's other members it is must-linked to, and
        to one of its current members; a cannot-link keeps it from every current member.
        """
        must: Pairs = []
        anchors: dict[int, int] = {}
        for signature_id, record_id in sorted(self.must.items()):
            anchor = anchors.setdefault(record_id, signature_id)
            if anchor != signature_id:
                must.append((str(signature_id), str(anchor)))
            for member in members_of.get(record_id, ())[:1]:
                if member != signature_id:
                    must.append((str(signature_id), str(member)))
        cannot: Pairs = [
            (str(signature_id), str(member))
            for signature_id, records in self.cannot.items()
            for record_id in records
            for member in members_of.get(record_id, ())
            if member != signature_id
        ]
        return must, cannot


# -- linking new signatures (every import) --------------------------------------------------------


@dataclass
class NewRecord:
    signature_ids: list[int]
    display_name: str


def link_signatures(signature_ids: Iterable[int], *, workers: int = 0) -> set[int]:
    """Give each new person signature a record: an existing one the evidence points to, or a
    new one. Returns the ids of the records that gained signatures. ``workers``: processes the
    model's work may be spread over when there is much of it (see plan_links)."""
    plan = plan_links(Authorship.objects.filter(id__in=list(signature_ids)), workers=workers)
    return apply_links(plan) if plan else set()


class Member(NamedTuple):
    """A signature already on a record, as linking reads it."""

    id: int
    work_id: int
    position: int
    printed_name: str
    affiliation: str
    author_id: int


class Pending(NamedTuple):
    """A signature waiting for its record, as linking reads it."""

    id: int
    work_id: int
    position: int
    printed_name: str
    affiliation: str
    block_key: str


@dataclass
class LinkPlan:
    """Where each pending signature goes (works.identity.link), before anything is written.
    Tuples, not model instances: a first load's plans come back from worker processes, and
    pickling a task's Authorship instances there, then unpickling them in the loader, cost
    both sides (a fifth of the loader's CPU at a 200,000-record load)."""

    pending: list[Pending]  # in order of appearance (work, position)
    assigned: dict[str, str]  # signature id → record id, or "new:N"


def plan_links(signatures: QuerySet[Authorship], *, workers: int = 0) -> LinkPlan | None:
    """The links of those ``signatures`` that are people's and have no record yet, against
    the records of their blocks; None when there is none. Reads, writes nothing.

    With ``workers`` and at least PARALLEL_LINKING_SIGNATURES pending signatures, the blocks
    are shared out to that many processes. The model decides each block alone, so the plan is
    the same (its new groups only named differently); this process reads and writes.
    """
    pending = [
        Pending(*row)
        for row in signatures.filter(author__isnull=True)
        .exclude(block_key="")
        # New records are numbered (slugs) in the order their first signatures appear.
        .order_by("work_id", "position")
        .values_list(*Pending._fields)
    ]
    if not pending:
        return None
    blocks = {s.block_key for s in pending}
    # Tuples, not model instances: a day's touched blocks hold about 90,000 members.
    members = [
        Member(*row)
        for row in Authorship.objects.filter(
            block_key__in=blocks, author__isnull=False, author__merged_into__isnull=True
        )
        .order_by("work_id", "position")
        .values_list(*Member._fields)
    ]
    members_of: dict[int, list[int]] = defaultdict(list)
    for member in members:
        members_of[member.author_id].append(member.id)
    constraints = Constraints.load([s.id for s in pending])
    must, cannot = constraints.pairs(members_of)
    member_rows = {int(row["signature_id"]): row for row in labelled_rows(members)}
    existing = {
        str(record_id): [member_rows[m] for m in ids] for record_id, ids in members_of.items()
    }
    rows = labelled_rows(pending)
    if workers > 1 and len(pending) >= PARALLEL_LINKING_SIGNATURES:
        tasks = _parallel_link_tasks(rows, existing, must, cannot, workers)
        assigned = {}
        for n, task_assigned in enumerate(parallel_map(_link_task, tasks, workers)):
            # "new:3" of two tasks are two different people.
            assigned |= {
                s: f"new:{n}:{c[4:]}" if c.startswith("new:") else c
                for s, c in task_assigned.items()
            }
    else:
        assigned = cluster_labelled(rows, existing=existing, must_link=must, cannot_link=cannot)
    return LinkPlan(pending=pending, assigned=assigned)


def _parallel_link_tasks(rows, existing, must, cannot, workers) -> list[tuple]:
    """cluster_labelled's arguments for about two tasks per worker, whole blocks each (the
    model's blocks, from the printed names), largest first into the least loaded task. A record
    goes to every task holding a block of one of its members: the model reads it only in the
    block most of its members are in."""
    size: Counter = Counter(_model_block(row) for row in rows)
    size.update(_model_block(row) for members in existing.values() for row in members)
    parts = 2 * workers
    task_of = least_loaded(size.most_common(), parts)
    task_rows: list[list[dict]] = [[] for _ in range(parts)]
    for row in rows:
        task_rows[task_of[_model_block(row)]].append(row)
    task_records: list[dict[str, Sequence[Mapping]]] = [{} for _ in range(parts)]
    for record, members in existing.items():
        for n in {task_of[_model_block(row)] for row in members}:
            task_records[n][record] = members
    return [(task_rows[n], task_records[n], must, cannot) for n in range(parts) if task_rows[n]]


def _model_block(row: Mapping) -> str | None:
    name = parse_name(row.get("author") or "")
    return name.block_key if name else None


def _link_task(task: tuple) -> dict[str, str]:
    """One task of plan_links, in a worker process."""
    rows, existing, must, cannot = task
    return cluster_labelled(rows, existing=existing, must_link=must, cannot_link=cannot)


def apply_links(plan: LinkPlan) -> set[int]:
    """Write a plan: new records created, signatures pointed at theirs; the records' ids."""
    to_record: dict[int, list[int]] = defaultdict(list)
    new_groups: dict[str, list[Pending]] = defaultdict(list)
    for signature in plan.pending:
        cluster = plan.assigned.get(str(signature.id))
        if cluster is None or cluster.startswith("new:"):
            new_groups[cluster or f"alone:{signature.id}"].append(signature)
        else:
            to_record[int(cluster)].append(signature.id)
    created = create_records([_new_record(group) for group in new_groups.values()])
    for record_id, group in zip(created, new_groups.values(), strict=True):
        to_record[record_id] += [s.id for s in group]
    _set_authors({s: record_id for record_id, ids in to_record.items() for s in ids})
    return set(to_record)


def _set_authors(author_of: Mapping[int, int], chunk: int = 1000) -> None:
    """Point signatures at their records in one statement (PostgreSQL) or a thousand per
    statement (a statement per record made a first load wait on thousands of round trips)."""
    ids = sorted(author_of)
    if connection.vendor == "postgresql":
        # One statement joined on two arrays: a CASE of a thousand arms is read for every row.
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Authorship._meta.db_table} AS a SET author_id = v.author "
                "FROM unnest(%s::bigint[], %s::bigint[]) AS v(id, author) WHERE a.id = v.id",
                [ids, [author_of[i] for i in ids]],
            )
        return
    for start in range(0, len(ids), chunk):
        Authorship.objects.bulk_update(
            [Authorship(id=i, author_id=author_of[i]) for i in ids[start : start + chunk]],
            ["author"],
        )


def _new_record(signatures: Sequence[Pending]) -> NewRecord:
    return NewRecord(
        signature_ids=[s.id for s in signatures],
        display_name=display_name_for([s.printed_name for s in signatures]),
    )


def display_name_for(printed_names: Sequence[str]) -> str:
    """The name a record shows: its most frequent printing in natural order, preferring full
    given names to initials ("Zhengyan Zhang" over "Z. Zhang"), the given name first ("Zhengyan
    Zhang" over "Zhang Zhengyan") and, on a tie, the printing with more to it (accents)."""
    natural = [
        names.display_name(names.author_from_printed(printed))[:MAX_NAME_LENGTH]
        for printed in printed_names
    ]
    counts = Counter(natural)

    def preference(name: str) -> tuple:
        parts = parse_name(name)
        surname_last = bool(parts) and names.name_key(name).replace(" ", "").endswith(parts.surname)
        full = not names.is_initials_only(name)
        return (full, surname_last, counts[name], len(name.encode()), name)

    return max(counts, key=preference)


def create_records(new_records: Sequence[NewRecord]) -> list[int]:
    """Person records for new clusters, with free slugs; their ids, in order."""
    if not new_records:
        return []
    if connection.vendor == "postgresql":
        # Held to the commit: free_slugs only sees committed records, and two transactions in
        # parallel may want one slug ("Garcia-Lopez" and "Garcia Lopez").
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [RECORDS_LOCK])
    keys = [f"new-{n}" for n in range(len(new_records))]
    slugs = free_slugs(
        {key: slug_base(r.display_name) for key, r in zip(keys, new_records, strict=True)}
    )
    records = AuthorRecord.objects.bulk_create(
        [
            AuthorRecord(
                slug=slugs[key],
                display_name=record.display_name,
                name_key=names.name_key(record.display_name)[:MAX_NAME_LENGTH],
                search_key=names.order_free_key(record.display_name)[:MAX_NAME_LENGTH],
                kind=AuthorRecord.Kind.PERSON,
                # Built from a trusted public source with a work: L1.
                verification_level=1,
                variants=[],
            )
            for key, record in zip(keys, new_records, strict=True)
        ],
        batch_size=1000,
    )
    if all(r.pk for r in records):
        return [r.pk for r in records]
    by_slug = dict(AuthorRecord.objects.filter(slug__in=slugs.values()).values_list("slug", "id"))
    return [by_slug[slugs[key]] for key in keys]  # SQLite before 3.35 gives no ids back


# -- clustering a block again ----------------------------------------------------------------------


def blocks_to_cluster() -> tuple[dict[str, int], int]:
    """The blocks worth clustering again with their sizes, largest first, and how many were
    left out: a lone signature already on a record, with no correction on it, can only
    cluster to itself. On arXiv most blocks are such lone names."""
    blocks = (
        Authorship.objects.exclude(block_key="")
        .values("block_key")
        .annotate(
            size=Count("id", distinct=True),
            unlinked=Count("id", filter=Q(author__isnull=True), distinct=True),
            constrained=Count("identity_constraints", distinct=True),
        )
        # Largest first: parallel runs end sooner.
        .order_by("-size", "block_key")
    )
    sizes, settled = {}, 0
    for row in blocks:
        if row["size"] == 1 and not row["unlinked"] and not row["constrained"]:
            settled += 1
        else:
            sizes[row["block_key"]] = row["size"]
    return sizes, settled


@dataclass
class BlockOutcome:
    """What clustering one block again changed."""

    signatures: int = 0
    created: int = 0
    split: int = 0
    merged: int = 0
    unchanged: int = 0
    changed_record_ids: set[int] = field(default_factory=set)

    def as_summary(self) -> dict:
        return {
            "signatures": self.signatures,
            "created": self.created,
            "split": self.split,
            "merged": self.merged,
            "unchanged": self.unchanged,
        }

    def add(self, other: BlockOutcome) -> None:
        self.signatures += other.signatures
        self.created += other.created
        self.split += other.split
        self.merged += other.merged
        self.unchanged += other.unchanged
        self.changed_record_ids |= other.changed_record_ids


def recent_block_sizes(*, since) -> dict[str, int]:
    """The blocks of the signatures on works imported or changed since then, with their sizes,
    largest first."""
    recent = (
        Authorship.objects.filter(work__changed_at__gte=since)
        .exclude(block_key="")
        .values("block_key")
    )
    blocks = (
        Authorship.objects.filter(block_key__in=recent)
        .values("block_key")
        .annotate(size=Count("id"))
        .order_by("-size", "block_key")
    )
    return {row["block_key"]: row["size"] for row in blocks}


def block_tasks(sizes: Mapping[str, int], limit: int = TASK_SIGNATURES) -> list[list[str]]:
    """:func:`grouped_blocks` of a block → size mapping, as a list."""
    return list(grouped_blocks(sizes.items(), limit))


def recluster_block(block_key: str) -> BlockOutcome:
    """Cluster every signature of one block from scratch and apply the result."""
    return recluster_blocks([block_key])


def recluster_blocks(block_keys: Sequence[str]) -> BlockOutcome:
    """Cluster each of these blocks from scratch and apply the results, in one transaction.

    Each block is clustered and planned alone, as if it were the only one; the blocks are read,
    written and committed together. Most blocks hold two or three signatures, and a
    transaction with its dozen queries each cost more than clustering them.
    """
    with transaction.atomic():
        signatures = list(
            Authorship.objects.select_for_update(of=("self",))
            .filter(block_key__in=list(block_keys))
            .only(
                "id", "work_id", "position", "printed_name", "affiliation", "author_id", "block_key"
            )
            .order_by("id")
        )
        if not signatures:
            return BlockOutcome()
        current = {s.id: s.author_id for s in signatures}
        constraints = Constraints.load(current)
        # Built once, read by the clustering and again by the cohesion check.
        model_signatures = dict(
            zip(current, _signatures_for(labelled_rows(signatures)), strict=True)
        )
        by_block: dict[str, list[int]] = defaultdict(list)
        for signature in signatures:
            by_block[signature.block_key].append(signature.id)
        plan = ClusterPlan.combine(
            [
                _plan_block(ids, current, constraints.only(ids), model_signatures)
                for ids in by_block.values()
            ]
        )
        outcome = _apply_plan(plan, {s.id: s for s in signatures}, current)
        outcome.changed_record_ids |= _mark_cohesion(plan, model_signatures)
        outcome.signatures = len(signatures)
        authorships_changed(outcome.changed_record_ids)
        return outcome


def _plan_block(
    ids: list[int],
    current: Mapping[int, int | None],
    constraints: Constraints,
    model_signatures: Mapping[int, Signature],
) -> ClusterPlan:
    """One block clustered from scratch, and each cluster's record."""
    block_current = {i: current[i] for i in ids}
    members_of: dict[int, list[int]] = defaultdict(list)
    for signature_id, record_id in block_current.items():
        if record_id is not None:
            members_of[record_id].append(signature_id)
    must, cannot = constraints.pairs(members_of)
    clusters = [
        [int(i) for i in cluster]
        for cluster in cluster_block(
            [model_signatures[i] for i in ids], must_link=must, cannot_link=cannot
        )
    ]
    plan = plan_records(clusters, block_current, constraints.must, constraints.cannot)
    plan.name_counts = [len(ids)] * len(clusters)
    return plan


@dataclass
class ClusterPlan:
    """Each cluster's record (an existing id, or None for a new record)."""

    clusters: list[list[int]]
    records: list[int | None]
    emptied: dict[int, int]  # record left with no cluster → record that took most of it
    # Each cluster's block size: how common its name is, for the cohesion check.
    name_counts: list[int] = field(default_factory=list)

    @classmethod
    def combine(cls, plans: Sequence[ClusterPlan]) -> ClusterPlan:
        """Several blocks' plans as one. A record with signatures in two blocks (an admin's
        merge of two printings) is merged away only if no block kept it."""
        combined = cls(clusters=[], records=[], emptied={})
        for plan in plans:
            combined.clusters += plan.clusters
            combined.records += plan.records
            combined.name_counts += plan.name_counts
            combined.emptied.update(plan.emptied)
        kept = set(combined.records)
        combined.emptied = {r: s for r, s in combined.emptied.items() if r not in kept}
        return combined


def plan_records(
    clusters: list[list[int]],
    current: Mapping[int, int | None],
    must: Mapping[int, int],
    cannot: Mapping[int, set[int]],
) -> ClusterPlan:
    """Keep each record with the cluster that holds most of its signatures (a cluster holding
    a signature must-linked to a record keeps that record first); the rest get new records."""
    records: list[int | None] = [None] * len(clusters)
    taken: set[int] = set()
    for index, cluster in enumerate(clusters):
        forced = {must[s] for s in cluster if s in must}
        if len(forced) == 1 and (record := forced.pop()) not in taken:
            records[index] = record
            taken.add(record)
    overlaps = Counter(
        (index, current[s])
        for index, cluster in enumerate(clusters)
        for s in cluster
        if current.get(s) is not None
    )
    for (index, record), _ in sorted(overlaps.items(), key=lambda item: (-item[1], item[0])):
        excluded = any(record in cannot.get(s, ()) for s in clusters[index])
        if records[index] is None and record not in taken and not excluded:
            records[index] = record
            taken.add(record)
    emptied = {}
    for record in {r for r in current.values() if r is not None} - taken:
        went = Counter(
            records[index]
            for index, cluster in enumerate(clusters)
            for s in cluster
            if current.get(s) == record
        )
        survivor = went.most_common(1)[0][0] if went else None
        if survivor is not None:
            emptied[record] = survivor
    return ClusterPlan(clusters=clusters, records=records, emptied=emptied)


def _apply_plan(
    plan: ClusterPlan, by_id: Mapping[int, Authorship], current: Mapping[int, int | None]
) -> BlockOutcome:
    outcome = BlockOutcome()
    new_indexes = [i for i, record in enumerate(plan.records) if record is None]
    created = create_records(
        [_new_record([by_id[s] for s in plan.clusters[i]]) for i in new_indexes]
    )
    for index, record_id in zip(new_indexes, created, strict=True):
        plan.records[index] = record_id
    outcome.created = len(created)
    moved_from: dict[int, set[int]] = defaultdict(set)
    author_of: dict[int, int] = {}
    for cluster, record_id in zip(plan.clusters, plan.records, strict=True):
        movers = [s for s in cluster if current.get(s) != record_id]
        if movers:
            author_of.update(dict.fromkeys(movers, record_id))
            outcome.changed_record_ids.add(record_id)
            for s in movers:
                if current.get(s) is not None:
                    moved_from[current[s]].add(record_id)
                    outcome.changed_record_ids.add(current[s])
    _set_authors(author_of)
    _note_reclustering(plan, moved_from, created, outcome)
    return outcome


def _note_reclustering(
    plan: ClusterPlan, moved_from: dict[int, set[int]], created: list[int], outcome: BlockOutcome
) -> None:
    """Record events: records split off, records merged away (their slugs now redirect)."""
    now = timezone.now()
    events = []
    for record_id, survivor in plan.emptied.items():
        AuthorRecord.objects.filter(pk=record_id).update(merged_into_id=survivor)
        events.append(
            RecordEvent(
                record_id=record_id,
                kind=RecordEvent.Kind.MERGE,
                summary="Re-clustering found this record's works belong to another person's "
                "record; this address now leads there.",
                data={"action": "recluster-merge", "into": survivor},
                created_at=now,
            )
        )
    outcome.merged = len(plan.emptied)
    kept_records = set(plan.records) - set(created)
    for record_id in kept_records:
        if moved_from.get(record_id, set()) - {record_id}:
            outcome.split += 1
            events.append(
                RecordEvent(
                    record_id=record_id,
                    kind=RecordEvent.Kind.CORRECTION,
                    summary="Re-clustering moved some works to another person's record: the "
                    "evidence (co-authors, topics, years) says they are someone else's.",
                    data={"action": "recluster-split", "to": sorted(moved_from[record_id])},
                    created_at=now,
                )
            )
        elif record_id not in outcome.changed_record_ids:
            outcome.unchanged += 1
    events += [
        RecordEvent(
            record_id=record_id,
            kind=RecordEvent.Kind.IMPORT,
            summary="Created by re-clustering: these works belong to a person without a record.",
            data={"action": "recluster-create"},
            created_at=now,
        )
        for record_id in created
    ]
    RecordEvent.objects.bulk_create(events)
    if plan.emptied:
        # Their followers (and anything else above that hangs on a record) follow the person.
        records_merged.send(sender=AuthorRecord, merged=dict(plan.emptied))


def _mark_cohesion(plan: ClusterPlan, model_signatures: Mapping[int, Signature]) -> set[int]:
    """Flag the records whose signatures the model only holds together by borderline merges
    (works.identity.incremental.cohesion); the records whose flag changed."""
    flagged, clear = [], []
    for cluster, record_id, name_count in zip(
        plan.clusters, plan.records, plan.name_counts, strict=True
    ):
        several = len(cluster) >= COHESION_MIN_SIGNATURES and (
            cohesion(
                [model_signatures[s] for s in cluster], name_count=name_count
            ).possibly_several_people
        )
        (flagged if several else clear).append(record_id)
    changed = set(
        AuthorRecord.objects.filter(pk__in=flagged, possibly_several_people=False).values_list(
            "pk", flat=True
        )
    ) | set(
        AuthorRecord.objects.filter(pk__in=clear, possibly_several_people=True).values_list(
            "pk", flat=True
        )
    )
    AuthorRecord.objects.filter(pk__in=flagged).update(possibly_several_people=True)
    AuthorRecord.objects.filter(pk__in=clear).update(possibly_several_people=False)
    return changed
