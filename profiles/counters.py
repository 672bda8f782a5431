"""Reconciling the records' denormalised counters with the rows they count.

`work_count`, `topic_count` and `affiliation` (works.changes), `follower_count`
(profiles.follows) and `close_collaborator_count` (graph.services) move with the events that
change them. An event that never ran leaves a counter wrong until the next event on the same
record: a user deleted from the admin or the shell (their follows go by cascade, the counter
stays), a task lost while the broker was down, a row edited by hand. The nightly
reconciliation recounts every record from the rows, in ranges of ids, with the same set-based
functions the events use, and reports how many values it fixed per counter.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Max, Min

from graph import cache as graph_cache
from graph.services import refresh_close_collaborator_counts
from profiles.follows import recount_followers
from works.changes import refresh_record_counts
from works.models import AuthorRecord

log = logging.getLogger(__name__)

COUNTERS = (
    "work_count",
    "topic_count",
    "affiliation",
    "follower_count",
    "close_collaborator_count",
)
# Shown in a record's cached graph (its node's works and close collaborators).
_IN_GRAPHS = ("work_count", "close_collaborator_count")
# Ids per range: each range is one short transaction of a few set-based statements, and its
# before/after values (a few hundred kilobytes) are all it holds in memory.
CHUNK_SIZE = 5000


@dataclass
class ReconcileResult:
    records: int = 0
    fixed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))

    @property
    def total(self) -> int:
        return sum(self.fixed.values())

    def summary(self) -> str:
        counts = ", ".join(f"{name} {n:,}" for name, n in self.fixed.items())
        return f"{self.records:,} record(s) checked; values fixed: {counts}."


def record_id_span() -> int:
    """How many ids the reconciliation walks through (for a progress bar)."""
    bounds = AuthorRecord.objects.aggregate(low=Min("id"), high=Max("id"))
    return 0 if bounds["low"] is None else bounds["high"] - bounds["low"] + 1


def reconcile_counters(
    *, chunk_size: int = CHUNK_SIZE, progress: Callable[[int], None] | None = None
) -> ReconcileResult:
    """Recount every record's counters from the rows; return how many values were wrong.

    A value counts as fixed when it differs before and after its range's recount. The
    recount writes only counters (never `works_changed_at`, which keys the pages' caches and
    the trust sweep: nothing about the works changed); the profile page's cache is keyed by the
    record's columns, so a fixed counter shows at once, and the graphs of records whose
    numbers moved are invalidated.
    """
    bounds = AuthorRecord.objects.aggregate(low=Min("id"), high=Max("id"))
    result = ReconcileResult()
    if bounds["low"] is None:
        return result
    for start in range(bounds["low"], bounds["high"] + 1, chunk_size):
        stop = min(start + chunk_size, bounds["high"] + 1)
        _reconcile_range(start, stop, result)
        if progress:
            progress(stop - start)
    for name, fixed in result.fixed.items():
        log.info("reconcile_counters: %s fixed on %d record(s)", name, fixed)
    return result


def _reconcile_range(start: int, stop: int, result: ReconcileResult) -> None:
    with transaction.atomic():
        before = _values(start, stop)
        if not before:
            return
        ids = sorted(before)
        refresh_record_counts(ids)
        recount_followers(ids)
        refresh_close_collaborator_counts(author_ids=ids)
        after = _values(start, stop)
    moved_in_graphs = []
    for record_id, old in before.items():
        new = after.get(record_id, old)
        for name, old_value, new_value in zip(COUNTERS, old, new, strict=True):
            if old_value != new_value:
                result.fixed[name] += 1
                if name in _IN_GRAPHS:
                    moved_in_graphs.append(record_id)
    result.records += len(before)
    if moved_in_graphs:
        graph_cache.bump_versions(sorted(set(moved_in_graphs)))


def _values(start: int, stop: int) -> dict[int, tuple]:
    return {
        record_id: values
        for record_id, *values in AuthorRecord.objects.filter(id__gte=start, id__lt=stop)
        .order_by("id")
        .values_list("id", *COUNTERS)
    }
