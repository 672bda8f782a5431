"""Import tasks: thin and named, taking run ids. The work happens in works.runs.

``works.*`` tasks go to the ``harvest`` queue (bzpeer/celery.py). One harvest
worker is enough: arXiv allows one request every few seconds across all of
them (works.arxiv.ratelimit keeps that promise if there are more).
``works.cluster_blocks`` (clustering some name blocks, about two thousand signatures) goes to
the ``identity`` queue: blocks are independent, so every worker of every machine can take them
in parallel.
"""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from bzpeer.lib.tasks import enqueue
from works import clustering, runs
from works.arxiv.client import ArxivUnavailable
from works.models import ImportRun

# arXiv down for longer than the client's own retries (about half a minute):
# try again after 1, 2, 4, 8 then 16 minutes, then give up and mark the run failed.
RUN_MAX_RETRIES = 5
RETRY_BASE_SECONDS = 60


def retry_delay(retries: int) -> int:
    return RETRY_BASE_SECONDS * 2**retries


@shared_task(
    name="works.run_import",
    bind=True,
    # Idempotent by construction (pages are upserts committed with their
    # checkpoint; the run is claimed with a conditional UPDATE), so a message
    # redelivered after a worker died is safe to run again.
    acks_late=True,
    max_retries=RUN_MAX_RETRIES,
    # Long harvests continue in a fresh task from their checkpoint at the soft
    # limit; both limits stay below the broker's visibility timeout (3 h).
    soft_time_limit=2 * 3600,
    time_limit=2 * 3600 + 300,
)
def run_import(self, run_id: int) -> None:
    # Eagerly (embedded default) a retry would run at once, hammering arXiv:
    # the run fails instead and can be resumed from the admin.
    retry_transient = not self.request.is_eager and self.request.retries < self.max_retries
    try:
        run = ImportRun.objects.filter(pk=run_id).first()
        if run is None or not run.is_active:
            return
        runs.execute_run(run, retry_transient=retry_transient)
    except (ArxivUnavailable, OperationalError, InterfaceError) as error:
        # arXiv down, or the database restarting: the run waits, queued at its checkpoint.
        if not retry_transient:
            raise
        raise self.retry(exc=error, countdown=retry_delay(self.request.retries)) from None
    except SoftTimeLimitExceeded:
        enqueue(run_import, run_id)


@shared_task(name="works.harvest_oai_incremental", soft_time_limit=60, time_limit=90)
def harvest_oai_incremental() -> int | None:
    """The daily OAI-PMH harvest (beat): a run from the last successful one's date."""
    run = runs.start_incremental_harvest()
    return run.pk if run is not None else None


@shared_task(name="works.resume_stale_runs", soft_time_limit=60, time_limit=90, acks_late=True)
def resume_stale_runs() -> list[int]:
    """Queue again the runs whose worker died or whose message never arrived (beat)."""
    return runs.resume_stale_runs()


_CLUSTERING = {
    # Idempotent: clustering a block again from scratch ends in the same records.
    "acks_late": True,
    "autoretry_for": (OperationalError,),  # two tasks' writes deadlocking on a shared record
    "retry_backoff": 5,
    "max_retries": 3,
    "soft_time_limit": 600,
    "time_limit": 660,
}


@shared_task(name="works.cluster_blocks", **_CLUSTERING)
def cluster_blocks(block_keys: list[str]) -> dict:
    """Cluster some name blocks again, in one transaction (works.clustering.recluster_blocks)."""
    return clustering.recluster_blocks(block_keys).as_summary()


# Kept for the messages queued by a release that sent one block per task.
@shared_task(name="works.cluster_block", **_CLUSTERING)
def cluster_block(block_key: str) -> dict:
    """Cluster one name block again (works.clustering.recluster_block)."""
    return clustering.recluster_block(block_key).as_summary()


@shared_task(name="works.recluster_recent_blocks", soft_time_limit=300, time_limit=360)
def recluster_recent_blocks(hours: int = 26) -> int:
    """Queue the re-clustering of every block a recently changed work's signature sits in
    (beat, nightly; 26 hours so a late night leaves no gap), in tasks of about two thousand
    signatures; the blocks queued."""
    sizes = clustering.recent_block_sizes(since=timezone.now() - dt.timedelta(hours=hours))
    for task in clustering.block_tasks(sizes):
        enqueue(cluster_blocks, task)
    return len(sizes)
