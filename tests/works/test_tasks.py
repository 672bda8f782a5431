"""The import tasks, called directly (the worker end to end is in test_worker_e2e.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from celery.exceptions import Retry, SoftTimeLimitExceeded
from django.db import OperationalError
from django.utils import timezone

from works import runs, tasks
from works.arxiv.client import ArxivUnavailable
from works.models import ImportRun, Work

pytestmark = pytest.mark.django_db

OAI_PARAMETERS = {"from": "2014-10-01", "until": None, "set": None, "metadata_prefix": "arXivRaw"}


def queued_run(**fields) -> ImportRun:
    return ImportRun.objects.create(
        source=ImportRun.Source.OAI, parameters=OAI_PARAMETERS, **fields
    )


def test_run_import_returns_quietly_when_the_run_is_gone(fake_arxiv):
    assert tasks.run_import.apply(args=[987654]).get() is None
    assert fake_arxiv.requests == []


@pytest.mark.parametrize("state", ["succeeded", "failed", "cancelled"])
def test_run_import_leaves_a_finished_run_alone(fake_arxiv, state):
    run = queued_run(state=state)
    tasks.run_import.apply(args=[run.pk]).get()
    run.refresh_from_db()
    assert run.state == state
    assert fake_arxiv.requests == []


def test_run_import_executes_a_queued_run(fake_arxiv):
    run = queued_run()
    tasks.run_import.apply(args=[run.pk]).get()
    run.refresh_from_db()
    assert run.state == ImportRun.State.SUCCEEDED
    assert (run.created_count, Work.objects.count()) == (9, 9)


def test_run_import_retries_arxiv_outages_with_backoff_on_a_worker(fake_arxiv, monkeypatch):
    fake_arxiv.fail_next(503, retry_after="0", times=5)
    run = queued_run()
    retried = {}

    def fake_retry(*, exc, countdown):
        retried.update(exc=exc, countdown=countdown)
        return Retry(exc=exc, when=countdown)

    monkeypatch.setattr(tasks.run_import, "retry", fake_retry)
    # as a worker would run it: not eager, second attempt
    tasks.run_import.push_request(retries=1, is_eager=False)
    try:
        with pytest.raises(Retry):
            tasks.run_import.run(run.pk)
    finally:
        tasks.run_import.pop_request()

    assert isinstance(retried["exc"], ArxivUnavailable)
    assert retried["countdown"] == 120  # 60 s doubled once
    run.refresh_from_db()
    assert run.state == ImportRun.State.QUEUED  # ready for the retry, checkpoint kept


def test_run_import_retries_while_the_database_is_unreachable(fake_arxiv, monkeypatch):
    run = queued_run()
    retried = {}

    def fake_retry(*, exc, countdown):
        retried.update(exc=exc, countdown=countdown)
        return Retry(exc=exc, when=countdown)

    def database_gone(*args, **kwargs):
        raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")

    monkeypatch.setattr(tasks.run_import, "retry", fake_retry)
    # The database is away before the task can even read its run.
    monkeypatch.setattr(tasks.ImportRun.objects, "filter", database_gone)
    tasks.run_import.push_request(retries=0, is_eager=False)
    try:
        with pytest.raises(Retry):
            tasks.run_import.run(run.pk)
    finally:
        tasks.run_import.pop_request()

    assert isinstance(retried["exc"], OperationalError)
    assert retried["countdown"] == 60
    assert fake_arxiv.requests == []


def test_a_run_whose_database_stays_away_is_left_to_the_stale_sweep(
    fake_arxiv, monkeypatch, caplog
):
    run = queued_run()

    def database_gone(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(runs, "_harvest", database_gone)
    monkeypatch.setattr(runs, "_release", database_gone)  # nothing can be written either
    with pytest.raises(OperationalError):
        runs.execute_run(run, retry_transient=True)

    run.refresh_from_db()
    assert run.state == ImportRun.State.RUNNING  # its heartbeat goes stale: the sweep's
    assert "still unreachable; left to the stale sweep" in caplog.text


def test_run_import_gives_up_after_the_last_retry(fake_arxiv):
    fake_arxiv.fail_next(503, retry_after="0", times=5)
    run = queued_run()
    tasks.run_import.push_request(retries=tasks.RUN_MAX_RETRIES, is_eager=False)
    try:
        tasks.run_import.run(run.pk)
    finally:
        tasks.run_import.pop_request()
    run.refresh_from_db()
    assert run.state == ImportRun.State.FAILED
    assert "arXiv unavailable" in run.errors[-1]


def test_run_import_eagerly_fails_instead_of_retrying_at_once(fake_arxiv):
    fake_arxiv.fail_next(503, retry_after="0", times=5)
    run = queued_run()
    tasks.run_import.apply(args=[run.pk]).get()
    run.refresh_from_db()
    assert run.state == ImportRun.State.FAILED
    assert len(fake_arxiv.requests) == 5  # the client's own retries, nothing more


def test_a_soft_time_limit_continues_the_run_in_a_new_task(fake_arxiv, monkeypatch):
    run = queued_run()
    real_import = runs.import_records

    def slow_second_page(items, **kwargs):
        if ImportRun.objects.get(pk=run.pk).created_count:
            raise SoftTimeLimitExceeded
        return real_import(items, **kwargs)

    continued = []
    monkeypatch.setattr(runs, "import_records", slow_second_page)
    monkeypatch.setattr(tasks, "enqueue", lambda task, *args: continued.append((task, args)))
    tasks.run_import.apply(args=[run.pk]).get()

    run.refresh_from_db()
    assert run.state == ImportRun.State.QUEUED
    assert (run.resumption_token, run.created_count) == ("fake-2", 6)
    assert continued == [(tasks.run_import, (run.pk,))]


def test_the_daily_harvest_starts_from_the_last_successful_one(
    fake_arxiv, eager_tasks, django_capture_on_commit_callbacks
):
    ImportRun.objects.create(
        source=ImportRun.Source.OAI,
        state=ImportRun.State.SUCCEEDED,
        response_date=dt.datetime(2014, 10, 1, 21, 0, tzinfo=dt.UTC),
    )
    with django_capture_on_commit_callbacks(execute=True):
        run_id = tasks.harvest_oai_incremental.apply().get()

    run = ImportRun.objects.get(pk=run_id)
    assert run.parameters["from"] == "2014-10-01"
    assert run.state == ImportRun.State.SUCCEEDED
    assert run.requested_by is None
    assert fake_arxiv.requests[0].params["from"] == "2014-10-01"


def test_the_daily_harvest_does_not_overlap_an_active_one(fake_arxiv):
    queued_run(state=ImportRun.State.RUNNING, heartbeat_at=timezone.now())
    assert tasks.harvest_oai_incremental.apply().get() is None
    assert ImportRun.objects.count() == 1


def test_resume_stale_runs_task_returns_the_run_ids(fake_arxiv):
    long_ago = timezone.now() - runs.STALE_AFTER - dt.timedelta(minutes=1)
    run = queued_run(state=ImportRun.State.RUNNING, heartbeat_at=long_ago)
    assert tasks.resume_stale_runs.apply().get() == [run.pk]


def test_import_tasks_are_named_routed_and_limited():
    from bzpeer.celery import app

    run_import = app.tasks["works.run_import"]
    assert run_import.acks_late is True
    assert (run_import.soft_time_limit, run_import.time_limit) == (7200, 7500)
    # below the broker's visibility timeout, or a running import would be redelivered
    visibility = app.conf.broker_transport_options["visibility_timeout"]
    assert run_import.time_limit < visibility
    for name in ("works.run_import", "works.harvest_oai_incremental", "works.resume_stale_runs"):
        assert app.amqp.router.route({}, name)["queue"].name == "harvest"
        assert app.tasks[name].soft_time_limit is not None
