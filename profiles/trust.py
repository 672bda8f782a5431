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

import datetime
import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import orjson
from allauth.account.models import EmailAddress
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from graph.models import CollaborationEdge
from graph.weights import CLOSE_COLLABORATOR_THRESHOLD
from profiles import scoring
from profiles.levels import ClaimState, Level, derive
from profiles.models import AuthorRecord, Claim, Follow, TrustSnapshot
from profiles.verification import record_facts
from works.models import Authorship

BATCH_SIZE = 2000
# Same tolerance as graph.weights.is_close: a pair summing to exactly the threshold must not
# fall below it by float rounding.
CLOSE_MIN_WEIGHT = CLOSE_COLLABORATOR_THRESHOLD - 1e-9
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


def fingerprint(inputs_json: dict, result_json: dict) -> str:
    """A hash of what a snapshot says; the computation time is deliberately left out."""
    payload = orjson.dumps(
        {"inputs": inputs_json, "result": result_json}, option=orjson.OPT_SORT_KEYS
    )
    return hashlib.sha256(payload).hexdigest()


def _date(value: datetime.datetime | None) -> datetime.date | None:
    return value.date() if value is not None else None


def _latest_snapshot_fingerprint():
    return Subquery(
        TrustSnapshot.objects.filter(record=OuterRef("pk"))
        .order_by("-computed_at", "-id")
        .values("fingerprint")[:1]
    )


def _gather(ids: list[int]):
    """Everything the formula needs for a batch of records: five queries."""
    records = list(
        AuthorRecord.objects.people()
        .live()
        .filter(id__in=ids)
        .only(
            "id",
            "kind",
            "affiliation",
            "verification_level",
            "claim_state",
            "possibly_several_people",
        )
        .annotate(latest_fingerprint=_latest_snapshot_fingerprint())
        .order_by("id")
    )
    ids = [record.id for record in records]
    works: dict[int, dict[str, scoring.WorkInput]] = defaultdict(dict)
    for author_id, arxiv_id, title, submitted, withdrawn in Authorship.objects.filter(
        author_id__in=ids
    ).values_list(
        "author_id", "work__arxiv_id", "work__title", "work__submitted", "work__withdrawn"
    ):
        works[author_id][arxiv_id] = scoring.WorkInput(
            arxiv_id=arxiv_id, title=title, date=_date(submitted), withdrawn=withdrawn
        )
    collaborators: dict[int, list[scoring.CollaboratorInput]] = defaultdict(list)
    for author_id, name, slug, weight, shared_works, level in (
        CollaborationEdge.objects.filter(
            author_id__in=ids, weight__gte=CLOSE_MIN_WEIGHT, coauthor__kind=AuthorRecord.Kind.PERSON
        )
        .order_by("author_id", "-weight", "coauthor__slug")
        .values_list(
            "author_id",
            "coauthor__display_name",
            "coauthor__slug",
            "weight",
            "shared_works",
            "coauthor__verification_level",
        )
    ):
        collaborators[author_id].append(
            scoring.CollaboratorInput(
                name=name,
                slug=slug,
                weight=round(weight, 6),
                shared_works=shared_works,
                level=level,
            )
        )
    claims: dict[int, list[Claim]] = defaultdict(list)
    for claim in Claim.objects.filter(
        record_id__in=ids, state__in=[Claim.State.PENDING, Claim.State.APPROVED]
    ).only(
        "record_id",
        "user_id",
        "state",
        "email",
        "email_verified",
        "orcid",
        "orcid_confirmed",
        "decided_at",
    ):
        claims[claim.record_id].append(claim)
    followers: dict[int, list[tuple[int, bool, datetime.datetime]]] = defaultdict(list)
    for record_id, user_id, verified, created_at in (
        Follow.objects.filter(record_id__in=ids)
        .annotate(
            verified=Exists(EmailAddress.objects.filter(user_id=OuterRef("user_id"), verified=True))
        )
        .order_by("record_id", "user_id")
        .values_list("record_id", "user_id", "verified", "created_at")
    ):
        followers[record_id].append((user_id, verified, created_at))
    return records, works, collaborators, claims, followers


def _level_evidence(
    record: AuthorRecord, *, approved: Claim | None, works: Iterable[scoring.WorkInput]
) -> tuple[str, datetime.date | None]:
    """Where the level's evidence comes from and since when, for the identity component."""
    level = Level(record.verification_level)
    if level >= Level.L2 and approved is not None:
        return "BZPEER claim review", _date(approved.decided_at)
    if record.possibly_several_people:
        return "BZPEER", None
    dates = [work.date for work in works if work.date is not None]
    return "arXiv", min(dates) if dates else None


def _recompute_batch(ids: list[int], *, now: datetime.datetime) -> RecomputeStats:
    from profiles.verification import transition

    stats = RecomputeStats()
    records, works, collaborators, claims, followers = _gather(ids)
    snapshots = []
    for record in records:
        record_claims = claims.get(record.id, [])
        approved = next((c for c in record_claims if c.state == Claim.State.APPROVED), None)
        pending = any(c.state == Claim.State.PENDING for c in record_claims)
        record_works = works.get(record.id, {})
        level, claim_state, level_reason = derive(
            record_facts(
                record, work_count=len(record_works), pending_claim=pending, approved_claim=approved
            )
        )
        if level != record.verification_level or claim_state != record.claim_state:
            # An event changed the facts without going through the transition function.
            transition(record, reason="Trust recompute found the stored level out of date.")
            stats.levels_healed += 1
        owner_id = approved.user_id if approved is not None else None
        source, level_date = _level_evidence(record, approved=approved, works=record_works.values())
        inputs = scoring.TrustInputs(
            level=record.verification_level,
            claim_state=record.claim_state,
            level_reason=level_reason,
            level_source=source,
            level_date=level_date,
            works=tuple(sorted(record_works.values(), key=lambda work: work.arxiv_id)),
            close_collaborators=tuple(collaborators.get(record.id, ())),
            followers=tuple(
                scoring.FollowerInput(
                    account_id=user_id,
                    email_verified=verified,
                    is_owner=user_id == owner_id,
                    followed_on=_date(created_at),
                )
                for user_id, verified, created_at in followers.get(record.id, ())
            ),
        )
        result = scoring.score(inputs)
        inputs_json = inputs.to_json()
        result_json = result.to_json()
        digest = fingerprint(inputs_json, result_json)
        stats.records += 1
        if digest == record.latest_fingerprint:
            stats.unchanged += 1
            continue
        snapshots.append(
            TrustSnapshot(
                record_id=record.id,
                score=result.score,
                band=result.band,
                level=int(inputs.level),
                claim_state=str(inputs.claim_state),
                inputs=inputs_json,
                components=result_json["components"],
                formula_version=result.formula_version,
                fingerprint=digest,
                computed_at=now,
            )
        )
    TrustSnapshot.objects.bulk_create(snapshots, batch_size=500)
    stats.written = len(snapshots)
    return stats


def _batches(ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def recompute(*, author_ids: Iterable[int], batch_size: int = BATCH_SIZE) -> RecomputeStats:
    """Recompute these records' trust; organisations and merged records are skipped."""
    stats = RecomputeStats()
    now = timezone.now()
    for batch in _batches(sorted(set(author_ids)), batch_size):
        stats.add(_recompute_batch(batch, now=now))
    return stats


def recompute_all(
    *,
    batch_size: int = BATCH_SIZE,
    on_batch: Callable[[RecomputeStats], None] | None = None,
) -> RecomputeStats:
    """Recompute every live person record, walking ids in order (keyset, no OFFSET)."""
    stats = RecomputeStats()
    now = timezone.now()
    people = AuthorRecord.objects.people().live().order_by("id")
    last_id = 0
    while True:
        batch = list(people.filter(id__gt=last_id).values_list("id", flat=True)[:batch_size])
        if not batch:
            break
        batch_stats = _recompute_batch(batch, now=now)
        stats.add(batch_stats)
        if on_batch is not None:
            on_batch(batch_stats)
        last_id = batch[-1]
    return stats


def people_count() -> int:
    return AuthorRecord.objects.people().live().count()


# Reading -----------------------------------------------------------------------------------


def latest_snapshot(record: AuthorRecord) -> TrustSnapshot | None:
    return TrustSnapshot.objects.filter(record=record).order_by("-computed_at", "-id").first()


def page_context(record: AuthorRecord) -> dict:
    """What the profile page's trust panel needs: one query, whatever the history's length."""
    # The panel shows the score and band only; a prolific record's inputs and evidence
    # weigh over a megabyte of JSON, which would dominate the profile page's time.
    snapshot = (
        TrustSnapshot.objects.filter(record=record)
        .defer("inputs", "components")
        .order_by("-computed_at", "-id")
        .first()
        if record.is_person
        else None
    )
    return {
        "trust_snapshot": snapshot,
        "trust_level": Level(record.verification_level),
        "trust_claim_state": ClaimState(record.claim_state),
        "close_collaborator_threshold": CLOSE_COLLABORATOR_THRESHOLD,
    }


def history(record: AuthorRecord, *, limit: int = HISTORY_LIMIT) -> list[TrustSnapshot]:
    """The latest `limit` snapshots, oldest first, without their (large) inputs and evidence."""
    rows = list(
        TrustSnapshot.objects.filter(record=record)
        .order_by("-computed_at", "-id")
        .only("id", "score", "band", "level", "computed_at")[:limit]
    )
    rows.reverse()
    return rows
