"""Trust snapshots: gather inputs set-based, score them, store a snapshot only on change.

`profiles.scoring` is the formula (pure); this module feeds it from the database. Inputs are
gathered for a batch of records at once, in a fixed number of queries per batch whatever its
size (records with their latest fingerprint, works, close-collaborator edges, followers,
claims), so the nightly sweep over 300,000 records costs a few hundred queries, not a million.

Choices made here:
- Disputed works: an owner's "not mine" correction moves the authorship off the record (onto a
  record that name resolution never picks), so a disputed work is simply not among the record's
  works any more. No work is sent to the formula with `disputed=True` for now; the flag stays in
  the formula for a later "disputed but not yet moved" state.
- Close collaborators are the materialised `graph.models.CollaborationEdge` rows at or above
  `graph.weights.CLOSE_COLLABORATOR_THRESHOLD`, the same rows that feed the record's
  `close_collaborator_count` and the graph, so the three numbers cannot disagree.
- Weights are rounded to 6 decimals in the inputs: an edge rebuild that sums the same 1/(n-1)
  terms in another order must not look like a change and write a new snapshot.
- Level and claim state are read from the record (kept there by
  `profiles.verification.transition`); if the facts gathered here derive something else (an
  event that missed its transition), the recompute calls `transition` to heal it first.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import orjson
from allauth.account.models import EmailAddress
from django.db import connection, connections, transaction
from django.db.models import Exists, F, Lookup, OuterRef, Q, Subquery
from django.db.models.functions import TruncDate
from django.utils import timezone

from graph.models import CollaborationEdge
from graph.weights import CLOSE_WEIGHT_FLOOR
from profiles import page_cache, scoring
from profiles.levels import Level, derive
from profiles.models import Claim, Follow, TrustSnapshot
from profiles.verification import record_facts, transition
from works.models import AuthorRecord, Authorship

BATCH_SIZE = 2000
# graph.weights.is_close as a SQL bound: a pair summing to exactly the threshold must not fall
# below it by float rounding.
CLOSE_MIN_WEIGHT = CLOSE_WEIGHT_FLOOR
# Databases on which recompute_all reads the next batch in a thread while scoring this one.
# SQLite (the embedded mode) has one small database file and no server to overlap with.
READ_AHEAD_VENDORS = frozenset({"postgresql"})
# The history chart shows at most this many snapshots (the latest ones): a bounded query and a
# readable chart however long a record has existed.
HISTORY_LIMIT = 60


@dataclass
class RecomputeStats:
    records: int = 0
    written: int = 0
    unchanged: int = 0
    levels_healed: int = 0

    def add(self, other: RecomputeStats) -> None:
        self.records += other.records
        self.written += other.written
        self.unchanged += other.unchanged
        self.levels_healed += other.levels_healed


def _dumps(value) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


# A snapshot's result (score, band, components, evidence wording) is a pure function of its
# inputs and of the formula, which FORMULA_VERSION names: hashing the inputs with it fingerprints
# the result as well, so an unchanged record is recognised without scoring it. The version is
# bumped by hand whenever the output changes for some input (tests/profiles/test_formula_version
# fails otherwise), and the next sweep then rewrites every snapshot. Editing a comment or
# reformatting scoring.py or levels.py changes nothing.
_FORMULA_IDENTITY = scoring.FORMULA_VERSION.encode()


def fingerprint(rest_json: bytes, works_digest: str) -> str:
    """The hash of a snapshot's inputs and its formula; the computation time is left out.

    The inputs come in two parts: everything but the works (`rest_json`), and the hash of the
    works list, so that a record whose works did not change can be fingerprinted from the
    `works_digest` stored on its latest snapshot, without reading its works again.
    """
    return hashlib.sha256(
        b"\x1e".join([_FORMULA_IDENTITY, rest_json, works_digest.encode()])
    ).hexdigest()


def _works_digest(works_json: bytes) -> str:
    return hashlib.sha256(works_json).hexdigest()


def _date(value: datetime.datetime | None) -> datetime.date | None:
    return value.date() if value is not None else None


def _latest_snapshot(field: str):
    return Subquery(
        TrustSnapshot.objects.filter(record=OuterRef("pk"))
        .order_by("-computed_at", "-id")
        .values(field)[:1]
    )


class _AnyOf(Lookup):
    """`field = ANY(%s)`: the ids as one array parameter (PostgreSQL).

    psycopg binds parameters on the client: an IN list of 30,000 co-author ids is 30,000
    placeholders that psycopg re-parses and Django prepares one by one, which took most of a
    nightly batch's Python time. One array parameter keeps the query text constant. It goes
    as the array's text, which PostgreSQL parses: psycopg's list dumper checks every element
    in Python (28 ms for a batch's 25,000 co-authors, under the GIL the scoring thread needs).
    """

    lookup_name = "trust_any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        ids = "{" + ",".join(map(str, map(int, self.rhs))) + "}"
        return f"{lhs} = ANY(%s::bigint[])", [*lhs_params, ids]


def _among(field: str, ids: list[int]) -> tuple:
    """Filter arguments for `field IN ids` (sorted ids), plus the range the ids span.

    The range is redundant for correctness but gives PostgreSQL's planner a row estimate it can
    trust: with a bare 2,000-value IN list on a 12-million-row edge table it expected millions
    of rows, chose a parallel sequential scan and spent a second compiling it with JIT.
    """
    bounds = Q(**{f"{field}__gte": ids[0], f"{field}__lte": ids[-1]})
    if connection.vendor == "postgresql":
        return bounds, _AnyOf(F(field), ids)
    return bounds, Q(**{f"{field}__in": ids})


@dataclass
class _RecordRow:
    """The fields of a record the recompute reads; lighter than 2,000 model instances a batch."""

    id: int
    kind: str
    affiliation: str
    verification_level: int
    claim_state: str
    possibly_several_people: bool
    work_count: int
    works_changed_at: datetime.datetime | None
    created_at: datetime.datetime
    latest_fingerprint: str | None
    latest_works_digest: str | None
    latest_computed_at: datetime.datetime | None

    @property
    def works_unchanged_since_snapshot(self) -> bool:
        """Whether the latest snapshot's works are still the record's works.

        The importer and the corrections stamp `works_changed_at` whenever a record's works
        change. A snapshot's `computed_at` is the start of its recompute, before it read
        anything, so a change committed while that recompute ran is stamped earlier and still
        counts as after it only if stamped after the start; an import that was stamped before
        the start and committed during the read queues its own recompute once committed
        (graph.tasks -> queue_trust_recompute), which re-reads the works in full.
        """
        return bool(
            self.latest_fingerprint
            and self.latest_works_digest
            and self.works_changed_at is not None
            and self.latest_computed_at is not None
            and self.works_changed_at <= self.latest_computed_at
        )


@dataclass
class _Changed:
    """A record whose fingerprint changed: its full inputs, ready to score."""

    record_id: int
    inputs: dict
    fingerprint: str
    works_digest: str


@dataclass
class _Batch:
    """A gathered batch: the records that need a new snapshot, and what was found unchanged."""

    stats: RecomputeStats
    changed: list[_Changed]


class _WorksReader:
    """Reads records' works; in a sweep that needs most of them, a chunk of batches at once.

    Per batch, a record's works are one index lookup each into the works table: 26,000 random
    reads for 2,000 records, about 2 s on the bench machine whose works table (with abstracts)
    is far larger than PostgreSQL's buffers. When a sweep needs the works of most records (the
    first sweep, a formula change, the weekly full sweep), one range query per
    CHUNK_BATCHES batches lets PostgreSQL hash-join a sequential scan of the works table
    instead, several times cheaper per record. Nightly sweeps need few records' works and
    stay with per-batch lookups.
    """

    CHUNK_BATCHES = 15
    # Memory for that hash join (the works table's ids, titles, dates): one big query a chunk,
    # on the sweep's own connection, inside its own transaction (SET LOCAL).
    CHUNK_WORK_MEM = "192MB"

    def __init__(self, *, chunked: bool):
        self.chunked = chunked
        # The author ids whose works are in `self.chunk`, each served once.
        self.chunk_from, self.chunk_until = 0, -1
        self.chunk: dict[int, dict[str, dict]] = {}

    def works(self, needed: list[int], *, batch_ids: list[int]) -> dict[int, dict[str, dict]]:
        if not needed:
            return {}
        in_chunk = self.chunk_from <= needed[0] and needed[-1] <= self.chunk_until
        if self.chunked and not in_chunk and len(needed) * 2 >= len(batch_ids):
            span = batch_ids[-1] - batch_ids[0] + 1
            self._read_chunk(needed[0], needed[0] + span * self.CHUNK_BATCHES)
            in_chunk = True
        if in_chunk:
            return {author_id: self.chunk.pop(author_id, {}) for author_id in needed}
        return self._read(Authorship.objects.filter(*_among("author_id", needed)))

    def _read_chunk(self, low: int, high: int) -> None:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL work_mem = '{self.CHUNK_WORK_MEM}'")
            self.chunk = self._read(
                Authorship.objects.filter(author_id__gte=low, author_id__lte=high)
            )
        self.chunk_from, self.chunk_until = low, high

    @staticmethod
    def _read(authorships) -> dict[int, dict[str, dict]]:
        works = defaultdict(dict)
        for author_id, arxiv_id, title, submitted_on, withdrawn in (
            # No ORDER BY: the default orderings would sort 30,000 rows by year and title.
            authorships.order_by()
            # A date, not a timestamp: the formula needs no more, and dates load several times
            # faster than time-zone-aware timestamps.
            .values_list(
                "author_id",
                "work__arxiv_id",
                "work__title",
                TruncDate("work__submitted"),
                "work__withdrawn",
            )
        ):
            # Keyed by arXiv id: a record printed twice on one paper has the work once.
            works[author_id][arxiv_id] = {
                "arxiv_id": arxiv_id,
                "title": title,
                "date": submitted_on.isoformat() if submitted_on is not None else None,
                "withdrawn": withdrawn,
                # See the module docstring: "not mine" moves the authorship away instead.
                "disputed": False,
            }
        return works


def _gather(
    ids: list[int], *, works_reader: _WorksReader | None = None, full: bool = True
) -> _Batch:
    """Find the batch's records whose fingerprint changed, with their full inputs.

    Five queries for every batch (records with their latest snapshot's fingerprint, close
    edges, their co-authors, claims, followers), and one for works: with `full`, every
    record's; otherwise only those whose works changed since their latest snapshot, or whose
    fingerprint from the stored works digest does not match.
    """
    works_reader = works_reader or _WorksReader(chunked=False)
    stats = RecomputeStats()
    records = _read_records(ids)
    if not records:
        return _Batch(stats, [])
    ids = [record.id for record in records]
    facts = _BatchFacts.read(ids)
    stats.records = len(records)
    needing_works = []
    for record in records:
        if not full and _unchanged_by_stored_digest(record, facts):
            stats.unchanged += 1
        else:
            needing_works.append(record)
    works = works_reader.works([record.id for record in needing_works], batch_ids=ids)
    changed = []
    for record in needing_works:
        found = _changed_inputs(record, works.get(record.id, {}), facts, stats)
        if found is not None:
            changed.append(found)
    return _Batch(stats, changed)


def _read_records(ids: list[int]) -> list[_RecordRow]:
    """The batch's live person records, each with its latest snapshot's fingerprint: one query."""
    return [
        _RecordRow(*row)
        for row in AuthorRecord.objects.people()
        .live()
        .filter(*_among("id", ids))
        .annotate(
            latest_fingerprint=_latest_snapshot("fingerprint"),
            latest_works_digest=_latest_snapshot("works_digest"),
            latest_computed_at=_latest_snapshot("computed_at"),
        )
        .order_by("id")
        .values_list(
            "id",
            "kind",
            "affiliation",
            "verification_level",
            "claim_state",
            "possibly_several_people",
            "work_count",
            "works_changed_at",
            "created_at",
            "latest_fingerprint",
            "latest_works_digest",
            "latest_computed_at",
        )
    ]


def _unchanged_by_stored_digest(record: _RecordRow, facts: _BatchFacts) -> bool:
    """Whether the record's fingerprint, taken with its latest snapshot's works digest instead
    of its works, still matches: then its works need not be read at all."""
    if not record.works_unchanged_since_snapshot:
        return False
    # The work counter stands in for the works until they are read; a counter that drifted
    # from the authorships only costs this record a read of its works.
    rest, agrees = facts.rest_of_inputs(record, record.work_count)
    return agrees and (
        fingerprint(_dumps(rest), record.latest_works_digest) == record.latest_fingerprint
    )


def _changed_inputs(
    record: _RecordRow, record_works: dict[str, dict], facts: _BatchFacts, stats: RecomputeStats
) -> _Changed | None:
    """The record's full inputs when its fingerprint changed (None, counted, when it did not),
    after healing a stored level that its facts contradict."""
    rest, agrees = facts.rest_of_inputs(record, len(record_works))
    if not agrees:
        # An event changed the facts without going through the transition function.
        _heal_level(record)
        stats.levels_healed += 1
        rest, _ = facts.rest_of_inputs(record, len(record_works))
    works_list = [record_works[arxiv_id] for arxiv_id in sorted(record_works)]
    works_digest = _works_digest(_dumps(works_list))
    digest = fingerprint(_dumps(rest), works_digest)
    if digest == record.latest_fingerprint:
        stats.unchanged += 1
        return None
    return _Changed(record.id, {**rest, "works": works_list}, digest, works_digest)


@dataclass
class _BatchFacts:
    """A batch's inputs but its records and works, by record id: read in four queries."""

    collaborators: dict[int, list[dict]]
    claims: dict[int, list[Claim]]
    followers: dict[int, list[tuple[int, bool, datetime.datetime]]]

    @classmethod
    def read(cls, ids: list[int]) -> _BatchFacts:
        return cls(
            collaborators=_close_collaborators(ids),
            claims=_open_claims(ids),
            followers=_followers(ids),
        )

    def rest_of_inputs(self, record: _RecordRow, work_count: int) -> tuple[dict, bool]:
        """The inputs but the works, and whether the stored level and claim state agree."""
        record_claims = self.claims.get(record.id, [])
        approved = next((c for c in record_claims if c.state == Claim.State.APPROVED), None)
        pending = any(c.state == Claim.State.PENDING for c in record_claims)
        level, claim_state, level_reason = derive(
            record_facts(
                record, work_count=work_count, pending_claim=pending, approved_claim=approved
            )
        )
        agrees = level == record.verification_level and claim_state == record.claim_state
        owner_id = approved.user_id if approved is not None else None
        source, level_date = _level_evidence(record, approved=approved)
        # With the works added, exactly TrustInputs.to_json()'s shape (a test holds the two
        # together): built directly, the formula's dataclasses are made only for the records
        # that changed.
        return {
            **_orcid_input(approved),
            "level": int(record.verification_level),
            "claim_state": str(record.claim_state),
            "level_reason": level_reason,
            "level_source": source,
            "level_date": level_date,
            "close_collaborators": self.collaborators.get(record.id, []),
            "followers": [
                {
                    "account_id": user_id,
                    "email_verified": verified,
                    "is_owner": user_id == owner_id,
                    "followed_on": created_at.date().isoformat(),
                }
                for user_id, verified, created_at in self.followers.get(record.id, ())
            ],
        }, agrees


def _orcid_input(approved: Claim | None) -> dict:
    """The approved claim's ORCID evidence, as TrustInputs.to_json() writes it ({} for none).

    The reason is shown only for a claim BZPEER approved itself: an admin's reason is theirs
    and the claimant's, never public (profiles.claims)."""
    if approved is None or not approved.orcid_authenticated or not approved.orcid_matched:
        return {}
    return {
        "orcid": {
            "orcid": approved.orcid,
            "matched": sorted(approved.orcid_matched),
            "approved_at_once": approved.auto_approved,
            "reason": approved.reason if approved.auto_approved else "",
        }
    }


def _open_claims(ids: list[int]) -> dict[int, list[Claim]]:
    """Each record's pending and approved claims, with the fields the level needs: one query."""
    claims = defaultdict(list)
    for claim in (
        Claim.objects.filter(
            *_among("record_id", ids), state__in=[Claim.State.PENDING, Claim.State.APPROVED]
        )
        .order_by()
        .only(
            "record_id",
            "user_id",
            "state",
            "email",
            "email_verified",
            "orcid",
            "orcid_confirmed",
            "orcid_authenticated",
            "orcid_matched",
            "auto_approved",
            "reason",
            "decided_at",
        )
    ):
        claims[claim.record_id].append(claim)
    return claims


def _followers(ids: list[int]) -> dict[int, list[tuple[int, bool, datetime.datetime]]]:
    """Each record's followers as (account id, has a verified email, followed at): one query."""
    followers = defaultdict(list)
    for record_id, user_id, verified, created_at in (
        Follow.objects.filter(*_among("record_id", ids))
        .annotate(
            verified=Exists(EmailAddress.objects.filter(user_id=OuterRef("user_id"), verified=True))
        )
        .order_by("record_id", "user_id")
        .values_list("record_id", "user_id", "verified", "created_at")
    ):
        followers[record_id].append((user_id, verified, created_at))
    return followers


def _close_collaborators(ids: list[int]) -> dict[int, list[dict]]:
    """Each record's close collaborators (persons only), strongest first: two queries.

    Close edges first, then their co-authors in a second query: joining the record table
    inside the edge query made PostgreSQL hash the whole record table for every batch.
    """
    edges = list(
        CollaborationEdge.objects.filter(*_among("author_id", ids), weight__gte=CLOSE_MIN_WEIGHT)
        .order_by()
        .values_list("author_id", "coauthor_id", "weight", "shared_works")
    )
    coauthor_ids = sorted({coauthor_id for _, coauthor_id, _, _ in edges})
    coauthors = (
        {
            row[0]: row[1:]
            for row in AuthorRecord.objects.people()
            .filter(*_among("id", coauthor_ids))
            .order_by()
            .values_list("id", "display_name", "slug", "verification_level")
        }
        if coauthor_ids
        else {}
    )
    collaborators = defaultdict(list)
    for author_id, coauthor_id, weight, shared_works in edges:
        coauthor = coauthors.get(coauthor_id)
        if coauthor is None:  # an organisation: never a close collaborator
            continue
        name, slug, level = coauthor
        collaborators[author_id].append(
            {
                "name": name,
                "slug": slug,
                "weight": round(weight, 6),
                "shared_works": shared_works,
                "level": level,
            }
        )
    for record_collaborators in collaborators.values():
        record_collaborators.sort(key=lambda c: (-c["weight"], c["slug"]))
    return collaborators


def _level_evidence(record: _RecordRow, *, approved: Claim | None) -> tuple[str, str | None]:
    """Where the level's evidence comes from and since when (ISO date), for the identity.

    L0/L1 are dated by when BZPEER built the record from arXiv, not by its works, so that this
    part of the inputs is known before the works are read.
    """
    if record.verification_level >= Level.L2 and approved is not None:
        decided = _date(approved.decided_at)
        source = "ORCID, checked by BZPEER" if approved.auto_approved else "BZPEER claim review"
        return source, decided.isoformat() if decided else None
    if record.possibly_several_people:
        return "BZPEER", None
    return "arXiv", record.created_at.date().isoformat()


def _heal_level(record: _RecordRow) -> None:
    """Run the transition function for a record whose stored level is out of date.

    It queues no recompute: a recompute never queues another. This record is being scored now
    with the healed level; the records that count it as a close collaborator read its new level
    at their next recompute (the nightly sweep at the latest), as they would have after any
    event that missed its transition.
    """
    instance = AuthorRecord.objects.get(pk=record.id)
    transition(
        instance, reason="Trust recompute found the stored level out of date.", queue_trust=False
    )
    record.verification_level = instance.verification_level
    record.claim_state = instance.claim_state


def _recompute_batch(batch: _Batch, *, now: datetime.datetime) -> RecomputeStats:
    """Score a gathered batch and insert its new snapshots."""
    stats, rows = _score_batch(batch, now=now)
    _insert_snapshots(rows)
    return stats


def _score_batch(
    batch: _Batch, *, now: datetime.datetime
) -> tuple[RecomputeStats, list[_SnapshotRow]]:
    """Score the batch's changed records: their new snapshots, not yet inserted."""
    rows = []
    for changed in batch.changed:
        result = scoring.score(scoring.TrustInputs.from_json(changed.inputs))
        rows.append(
            _SnapshotRow(
                record_id=changed.record_id,
                score=result.score,
                band=result.band,
                level=changed.inputs["level"],
                claim_state=changed.inputs["claim_state"],
                inputs=_dumps(changed.inputs),
                components=_dumps([component.to_json() for component in result.components]),
                formula_version=result.formula_version,
                fingerprint=changed.fingerprint,
                works_digest=changed.works_digest,
                computed_at=now,
            )
        )
    batch.stats.written = len(rows)
    return batch.stats, rows


@dataclass(frozen=True)
class _SnapshotRow:
    """A snapshot ready to insert, its JSON already serialised."""

    record_id: int
    score: int
    band: str
    level: int
    claim_state: str
    inputs: bytes
    components: bytes
    formula_version: str
    fingerprint: str
    works_digest: str
    computed_at: datetime.datetime


_SNAPSHOT_COLUMNS = [field.name for field in dataclasses.fields(_SnapshotRow)]


def _insert_snapshots(rows: list[_SnapshotRow]) -> None:
    """Insert new snapshots: COPY on PostgreSQL, bulk_create elsewhere.

    A sweep writes hundreds of thousands of rows of several KB of JSON. bulk_create would send
    them as arrays that psycopg escapes element by element in Python (90 s of 190 s in a
    profile of 20,000 records); COPY streams the JSON text as it is.
    """
    if not rows:
        return
    _write_snapshots(rows)
    # Neither COPY nor bulk_create sends post_save, and the profile pages show the scores.
    # After the write: outside a transaction (the sweep's writer thread) it is committed.
    page_cache.forget(row.record_id for row in rows)


def _write_snapshots(rows: list[_SnapshotRow]) -> None:
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(TrustSnapshot._meta.db_table)
        columns = ", ".join(
            connection.ops.quote_name(TrustSnapshot._meta.get_field(name).column)
            for name in _SNAPSHOT_COLUMNS
        )
        with (
            connection.cursor() as cursor,
            cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(
                    [
                        value.decode() if isinstance(value, bytes) else value
                        for value in dataclasses.astuple(row)
                    ]
                )
        return
    TrustSnapshot.objects.bulk_create(
        [
            TrustSnapshot(
                **{
                    name: orjson.loads(value) if name in ("inputs", "components") else value
                    for name, value in dataclasses.asdict(row).items()
                }
            )
            for row in rows
        ],
        batch_size=500,
    )


def _batches(ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def recompute(*, author_ids: Iterable[int], batch_size: int = BATCH_SIZE) -> RecomputeStats:
    """Recompute these records' trust, reading all their inputs; organisations and merged
    records are skipped. Called after events, so the works are always read afresh."""
    stats = RecomputeStats()
    now = timezone.now()
    for batch in _batches(sorted(set(author_ids)), batch_size):
        stats.add(_recompute_batch(_gather(batch), now=now))
    return stats


def recompute_all(
    *,
    batch_size: int = BATCH_SIZE,
    full: bool = False,
    on_batch: Callable[[RecomputeStats], None] | None = None,
) -> RecomputeStats:
    """Recompute every live person record, walking ids in order (keyset, no OFFSET).

    Without `full`, a record whose works did not change since its latest snapshot is
    fingerprinted from that snapshot's works digest, without reading its works (most of the
    cost); `full` reads everything (the weekly sweep, after a suspected missed event).

    On PostgreSQL outside a transaction (the nightly task, the command) the work is spread over
    three threads: one reads batch n+1, this one scores batch n, one writes batch n-1. Reading
    and writing mostly wait on PostgreSQL, scoring is Python, so the sweep takes about the
    longest of the three instead of their sum. The threads have their own connections and
    so cannot see a caller's uncommitted rows, hence the autocommit condition. Batches hold
    distinct records, so their order of writing does not matter.
    """
    stats = RecomputeStats()
    now = timezone.now()

    def count(batch_stats: RecomputeStats) -> None:
        stats.add(batch_stats)
        if on_batch is not None:
            on_batch(batch_stats)

    if connection.vendor not in READ_AHEAD_VENDORS or connection.in_atomic_block:
        for gathered in _gathered_in_turn(batch_size, full=full):
            count(_recompute_batch(gathered, now=now))
        return stats
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="trust-write") as writer:
        writing = None
        try:
            for gathered in _gathered_ahead(batch_size, full=full):
                batch_stats, rows = _score_batch(gathered, now=now)
                if writing is not None:
                    writing.result()  # at most one batch waits in memory to be written
                writing = writer.submit(_insert_snapshots, rows)
                count(batch_stats)
            if writing is not None:
                writing.result()
        finally:
            writer.submit(connections.close_all).result()
    return stats


def _next_ids(last_id: int, batch_size: int) -> list[int]:
    return list(
        AuthorRecord.objects.people()
        .live()
        .filter(id__gt=last_id)
        .order_by("id")
        .values_list("id", flat=True)[:batch_size]
    )


def _gathered_in_turn(batch_size: int, *, full: bool) -> Iterator[_Batch]:
    last_id = 0
    while ids := _next_ids(last_id, batch_size):
        yield _gather(ids, full=full)
        last_id = ids[-1]


def _gathered_ahead(batch_size: int, *, full: bool) -> Iterator[_Batch]:
    """Like _gathered_in_turn, but batch n+1 is read in a thread while batch n is scored.

    Only for autocommit callers on PostgreSQL (see recompute_all). A record healed by batch n
    that is a close collaborator of a record in batch n+1 may be read at its old level, as may
    one in an earlier batch: the next sweep corrects that (a heal queues no recompute).
    """
    works_reader = _WorksReader(chunked=True)

    def read(last_id: int) -> tuple[list[int], _Batch | None]:
        ids = _next_ids(last_id, batch_size)
        return ids, _gather(ids, works_reader=works_reader, full=full) if ids else None

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="trust-read") as reader:
        try:
            pending = reader.submit(read, 0)
            while True:
                ids, gathered = pending.result()
                if not ids:
                    break
                pending = reader.submit(read, ids[-1])
                yield gathered
        finally:
            reader.submit(connections.close_all).result()


def people_count() -> int:
    return AuthorRecord.objects.people().live().count()


# Reading -----------------------------------------------------------------------------------


# The record and its latest trust snapshot's id: all a visitor served the shared profile page
# (and the API's researcher detail) costs. Raw SQL because this is the hot path: the ORM spent
# longer compiling the equivalent annotate(Subquery(...)) than PostgreSQL spent answering it.
RECORD_WITH_LATEST_SNAPSHOT_SQL = f"""
    SELECT record.*,
           (SELECT snapshot.id FROM {TrustSnapshot._meta.db_table} snapshot
             WHERE snapshot.record_id = record.id
             ORDER BY snapshot.computed_at DESC, snapshot.id DESC
             LIMIT 1) AS latest_snapshot_id
    FROM {AuthorRecord._meta.db_table} record
    WHERE record.slug = %s
"""


def record_with_latest_snapshot(slug: str) -> AuthorRecord | None:
    """The record at exactly this slug, with ``latest_snapshot_id`` (None when never scored)."""
    return next(iter(AuthorRecord.objects.raw(RECORD_WITH_LATEST_SNAPSHOT_SQL, [slug])), None)


def latest_snapshot(record: AuthorRecord, *, without: tuple[str, ...] = ()) -> TrustSnapshot | None:
    """The record's newest snapshot; `without` defers JSON fields the caller does not show."""
    return (
        TrustSnapshot.objects.filter(record=record)
        .defer(*without)
        .order_by("-computed_at", "-id")
        .first()
    )


def history(record: AuthorRecord, *, limit: int = HISTORY_LIMIT) -> list[TrustSnapshot]:
    """The latest `limit` snapshots, oldest first, without their (large) inputs and evidence."""
    rows = list(
        TrustSnapshot.objects.filter(record=record)
        .order_by("-computed_at", "-id")
        .only("id", "score", "band", "level", "computed_at")[:limit]
    )
    rows.reverse()
    return rows
