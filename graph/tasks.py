"""Graph tasks: thin and named, taking ids. The work happens in graph.services."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from bzpeer.lib.tasks import enqueue_on_commit
from graph import cache as graph_cache
from graph import services

# Record ids per task: an import of a 100,000-work harvest touches hundreds of thousands of
# records; each task stays within its time limit and a failure retries only its slice.
EDGE_TASK_CHUNK = 5_000


@shared_task(
    name="graph.rebuild_edges",
    # Two overlapping rebuilds on PostgreSQL can still deadlock on an edge row; the loser
    # simply runs again.
    autoretry_for=(OperationalError,),
    retry_backoff=5,
    max_retries=3,
    soft_time_limit=300,
    time_limit=360,
)
def rebuild_edges(author_ids: list[int]) -> int:
    """Rebuild the edges of records an import touched, then what depends on them."""
    changed = services.rebuild_edges_for(author_ids=author_ids)
    # The touched records' works changed even when their edges did not (a new title, a new
    # topic), so their graphs are stale too; so is their trust score (the work count).
    affected = sorted(set(author_ids) | changed)
    graph_cache.bump_versions(affected)
    queue_trust_for(affected)
    return len(changed)


def queue_trust_for(author_ids: list[int]) -> None:
    # Imported here: profiles.tasks imports the trust engine, which reads graph models.
    from profiles.trust_queue import queue_trust_recompute

    queue_trust_recompute(author_ids)


def queue_edges_rebuild(author_ids: list[int]) -> None:
    """Queue the edge rebuild for these records once the import commits."""
    ids = sorted(set(author_ids))
    for start in range(0, len(ids), EDGE_TASK_CHUNK):
        enqueue_on_commit(rebuild_edges, ids[start : start + EDGE_TASK_CHUNK])
