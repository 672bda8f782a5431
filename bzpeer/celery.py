"""The Celery app. Queues, routes, worker behaviour and the beat schedule live here.

Everything else (broker URL, JSON serialisation, default time limits, eager
mode on the embedded default) comes from the CELERY_* names in
bzpeer/settings.py. Tasks are named ``app.verb`` and live in each app's
``tasks.py``; they take ids, not objects.
"""

import os

from celery import Celery
from celery.schedules import crontab
from celery.signals import worker_process_init
from kombu import Queue

from bzpeer.lib.processes import one_blas_thread

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bzpeer.settings")

app = Celery("bzpeer")
app.config_from_object("django.conf:settings", namespace="CELERY")

# One queue per kind of work, so a long harvest never delays a trust recompute
# or an email, and each can get its own workers (README, "Deployment").
app.conf.task_queues = [
    Queue("default"),
    Queue("harvest"),
    Queue("graph"),
    Queue("trust"),
    Queue("email"),
    Queue("identity"),
    # ORCID's public API: claim checks and owners' refreshes, apart from everything else so
    # that a slow ORCID (Retry-After) never holds up trust or emails.
    Queue("orcid"),
]
app.conf.task_default_queue = "default"
app.conf.task_routes = {
    # Exact names before patterns: name blocks are clustered on their own queue, so that every
    # worker of every machine can take them in parallel while harvests keep theirs.
    "works.cluster_block": {"queue": "identity"},
    "works.cluster_blocks": {"queue": "identity"},
    "works.*": {"queue": "harvest"},
    "graph.*": {"queue": "graph"},
    "profiles.recompute_*": {"queue": "trust"},
    "profiles.send_*": {"queue": "email"},
    "profiles.orcid_*": {"queue": "orcid"},
}
# acks_late tasks (works.run_import) keep running through a broker blip: their
# message comes back after the visibility timeout and finds the run finished
# (runs are claimed with a conditional UPDATE), which beats killing a
# half-done harvest. Celery 6 will default to True; say what we want.
app.conf.worker_cancel_long_running_tasks_on_connection_loss = False


@worker_process_init.connect(dispatch_uid="bzpeer.celery.one_blas_thread")
def _one_blas_thread(**_) -> None:
    # A prefork worker runs its children side by side (docker-compose: --concurrency 2 on a
    # 2-core machine), and identity tasks are numerical: see one_blas_thread.
    one_blas_thread()


app.conf.beat_schedule = {
    # Daily OAI-PMH harvest. arXiv makes the day's metadata available over
    # OAI-PMH by about 22:00 US Eastern, Sunday to Thursday; 05:00 UTC is after
    # that in every season. The run starts from the last successful harvest's
    # server date, so a missed day is caught up by the next one.
    "daily-oai-harvest": {
        "task": "works.harvest_oai_incremental",
        "schedule": crontab(hour=5, minute=0),
    },
    # Import runs whose worker died (no heartbeat for 30 minutes) or whose
    # message was lost while the broker was down continue from their checkpoint.
    "resume-stale-imports": {
        "task": "works.resume_stale_runs",
        "schedule": crontab(minute="*/15"),
    },
    # The day's new signatures were linked one by one as they arrived; at night every block
    # they fell in is clustered again from scratch (one task per block on the identity queue),
    # so that evidence that arrived later (a paper joining two of a person's records) counts.
    "nightly-reclustering": {
        "task": "works.recluster_recent_blocks",
        "schedule": crontab(hour=2, minute=30),
    },
    # Nightly trust sweep: every score drifts as others claim records and gain
    # followers; one full recompute a night keeps every snapshot current even
    # if an event was missed (or failed to queue while the broker was down).
    "nightly-trust-sweep": {
        "task": "profiles.recompute_all_trust",
        "schedule": crontab(hour=3, minute=30),
    },
    # Counters (works, topics, followers, close collaborators, latest affiliation) recounted
    # from the rows: events keep them current, this repairs what a missed event left (a user
    # deleted from the admin, a task lost while the broker was down). After the trust sweep,
    # before the harvest; on the default queue.
    "nightly-counter-reconciliation": {
        "task": "profiles.reconcile_counters",
        "schedule": crontab(hour=4, minute=30),
    },
    # Follow digests: daily ones go out every morning; the task itself also
    # sends the weekly ones on Mondays, so one entry covers both frequencies.
    "follow-digests": {
        "task": "profiles.send_digests",
        "schedule": crontab(hour=7, minute=0),
    },
    # Owners who opted in get their ORCID works re-read: new offers of works on other records,
    # and a flag for admins when the iD no longer lists works that justified a claim. Pending
    # claims whose check could not read ORCID are checked again. Before the digests.
    "orcid-refresh": {
        "task": "profiles.orcid_refresh_all",
        "schedule": crontab(hour=6, minute=0),
    },
}

app.autodiscover_tasks()
