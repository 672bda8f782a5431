"""The Celery app. Queues, time limits and the beat schedule live here."""

import os

from celery import Celery
from celery.schedules import crontab
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bzpeer.settings")

app = Celery("bzpeer")
app.config_from_object("django.conf:settings", namespace="CELERY")

app.conf.task_queues = [Queue("default"), Queue("harvest"), Queue("graph"), Queue("trust"), Queue("email")]
app.conf.task_default_queue = "default"
app.conf.task_routes = {
    "works.*": {"queue": "harvest"},
    "graph.*": {"queue": "graph"},
    "profiles.recompute_*": {"queue": "trust"},
    "profiles.send_*": {"queue": "email"},
}

app.conf.beat_schedule = {
    # arXiv announces new metadata around 22:30 US Eastern, Sunday to Thursday;
    # harvesting at 05:00 UTC picks up the night's announcements once a day.
    "daily-oai-harvest": {
        "task": "works.harvest_oai_incremental",
        "schedule": crontab(hour=5, minute=0),
    },
    # Every score drifts as others claim records and gain followers; one full
    # sweep a night keeps every snapshot current even if an event was missed.
    "nightly-trust-sweep": {
        "task": "profiles.recompute_all_trust",
        "schedule": crontab(hour=3, minute=30),
    },
    # Daily digests go out every morning; the task itself also sends the weekly
    # ones on Mondays, so one entry covers both frequencies.
    "follow-digests": {
        "task": "profiles.send_digests",
        "schedule": crontab(hour=7, minute=0),
    },
}

app.autodiscover_tasks()
