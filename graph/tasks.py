"""Graph tasks: thin and named, taking ids. The work happens in graph.services."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from graph import cache as graph_cache
from graph import services
from graph.models import CollaborationEdge
from graph.signals import edges_changed


@shared_task(
    name="graph.rebuild_edges",
    # Recomputed from the authorships, so running it twice is harmless; acknowledged only once
    # done, so a worker killed (or a pool process lost) mid-rebuild leaves the message to be
    # delivered again. Acked on arrival, it was lost, and with it the import's edges.
    acks_late=True,
    reject_on_worker_lost=True,
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
    edges_changed.send(sender=CollaborationEdge, record_ids=affected)
    return len(changed)
