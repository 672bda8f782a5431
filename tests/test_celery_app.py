"""The Celery app's configuration: queues, routes, serialisation and the beat schedule."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from celery.schedules import crontab
from support import leave_any_task

from bzpeer.celery import app

PROJECT_APPS = {"works", "graph", "profiles"}


@pytest.fixture(scope="module")
def registered() -> dict:
    app.loader.import_default_modules()  # what a worker does at start-up
    return {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}


def test_every_beat_entry_names_a_registered_task(registered):
    assert set(app.conf.beat_schedule) == {
        "daily-oai-harvest",
        "resume-stale-imports",
        "nightly-trust-sweep",
        "nightly-counter-reconciliation",
        "nightly-reclustering",
        "follow-digests",
        "orcid-refresh",
    }
    missing = {
        entry_name: entry["task"]
        for entry_name, entry in app.conf.beat_schedule.items()
        if entry["task"] not in registered
    }
    assert missing == {}


def test_the_beat_schedule_runs_at_the_documented_times():
    schedule = {name: entry["schedule"] for name, entry in app.conf.beat_schedule.items()}
    assert schedule["daily-oai-harvest"] == crontab(hour=5, minute=0)
    assert schedule["nightly-trust-sweep"] == crontab(hour=3, minute=30)
    assert schedule["nightly-counter-reconciliation"] == crontab(hour=4, minute=30)
    assert schedule["follow-digests"] == crontab(hour=7, minute=0)
    assert schedule["nightly-reclustering"] == crontab(hour=2, minute=30)
    assert schedule["orcid-refresh"] == crontab(hour=6, minute=0)
    assert schedule["resume-stale-imports"] == crontab(minute="*/15")


def test_tasks_are_named_after_their_app_and_have_time_limits(registered):
    assert registered, "no project task registered"
    for name, task in registered.items():
        assert name.split(".")[0] in PROJECT_APPS, name
        soft = task.soft_time_limit or app.conf.task_soft_time_limit
        hard = task.time_limit or app.conf.task_time_limit
        assert soft and hard and soft < hard, name


@pytest.mark.parametrize(
    ("task_name", "queue"),
    [
        ("works.run_import", "harvest"),
        ("works.harvest_oai_incremental", "harvest"),
        ("works.cluster_block", "identity"),
        ("works.cluster_blocks", "identity"),
        ("graph.rebuild_edges", "graph"),
        ("profiles.recompute_trust", "trust"),
        ("profiles.recompute_all_trust", "trust"),
        ("profiles.send_digests", "email"),
        ("profiles.reconcile_counters", "default"),
        ("profiles.orcid_check_claim", "orcid"),
        ("profiles.orcid_sync_account", "orcid"),
        ("profiles.orcid_refresh_all", "orcid"),
        ("something.else", "default"),
    ],
)
def test_tasks_go_to_their_queue(task_name, queue):
    assert app.amqp.router.route({}, task_name)["queue"].name == queue


def test_queues_and_serialisation():
    assert {q.name for q in app.conf.task_queues} == {
        "default",
        "harvest",
        "graph",
        "trust",
        "email",
        "identity",
        "orcid",
    }
    assert app.conf.task_serializer == "json"
    assert app.conf.result_serializer == "json"
    assert app.conf.accept_content == ["json"]
    # one message at a time per worker process: a harvest never sits behind another
    assert app.conf.worker_prefetch_multiplier == 1


# A web process (gunicorn, runserver) imports views and workflows, never a tasks module: the
# workflows queue tasks by name. The name must still find its task there.
FRESH_PROCESS_QUEUES_BY_NAME = """
import sys
import django

django.setup()
from bzpeer.lib.tasks import named_task

assert "profiles.tasks" not in sys.modules
print(named_task("profiles.send_claim_decision").name)
"""


def test_a_task_named_in_a_process_that_imported_no_tasks_module_is_found():
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS_QUEUES_BY_NAME],
        cwd=root,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert (result.returncode, result.stdout.strip()) == (0, "profiles.send_claim_decision"), (
        result.stderr
    )


def test_idempotent_tasks_are_acknowledged_once_done_within_the_visibility_timeout(registered):
    from django.conf import settings

    late = {name for name, task in registered.items() if task.acks_late}
    assert late == {
        "works.run_import",
        "works.resume_stale_runs",
        "works.cluster_block",
        "works.cluster_blocks",
        "graph.rebuild_edges",
        "profiles.recompute_trust",
        "profiles.recompute_trust_batch",
    }
    # A task still running when its message becomes visible again would run twice at once.
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert all(registered[name].time_limit < visibility for name in late)
    # A pool process killed mid-task (out of memory, SIGKILL) hands these back at once.
    assert {name for name, task in registered.items() if task.reject_on_worker_lost} == {
        "graph.rebuild_edges",
        "profiles.recompute_trust",
        "profiles.recompute_trust_batch",
    }


def test_threads_running_eager_tasks_can_leave_the_process_inside_a_task_and_tests_leave_it():
    # The first thread in is the first out: it restores "outside", then the second
    # restores the "inside" it saw on entry.
    from celery import Celery
    from celery._state import task_join_will_block

    eager = Celery(set_as_current=False)
    eager.conf.task_always_eager = True
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()

    @eager.task
    def first():
        first_in.set()
        second_in.wait(5)  # both inside at once

    @eager.task
    def second():
        second_in.set()
        first_out.wait(5)

    one = threading.Thread(target=lambda: (first.delay(), first_out.set()))
    two = threading.Thread(target=lambda: (first_in.wait(5), second.delay()))
    one.start()
    two.start()
    one.join()
    two.join()
    assert task_join_will_block()

    leave_any_task()
    assert not task_join_will_block()
