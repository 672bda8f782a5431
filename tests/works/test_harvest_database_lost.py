"""PostgreSQL goes away in the middle of a harvest: the run fails cleanly and resumes.

The harvest runs in this process against the fake arXiv. While it asks for page 2, the fake's
handler terminates the run's PostgreSQL backend from another connection, as a database
restart does. Page 2's transaction then fails: the run must say so in one line, keep page 1
and its checkpoint, and once resumed end with exactly the rows and counts of a run that was
never interrupted.
"""

from __future__ import annotations

import contextlib

import pytest
from django.db import connection, transaction

from tests.faults import other_connection
from tests.works.test_runs import OAI_FROM, PAGE_1_IDS, database_state, run_outcome
from works import runs
from works.models import ImportRun, Work

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="terminating a database backend needs PostgreSQL (SQLite has no server)",
    ),
]


class Rollback(Exception):
    pass


def terminate_backend(pid: int) -> None:
    """What a restart does to the connection: pg_terminate_backend from another session."""
    with other_connection() as other:
        (terminated,) = other.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()
    assert terminated


def test_a_harvest_that_loses_its_database_fails_cleanly_and_resumes_to_the_same_state(
    fake_arxiv, eager_tasks
):
    # The uninterrupted run, measured and then rolled back.
    with contextlib.suppress(Rollback), transaction.atomic():
        whole = runs.start_run(source=ImportRun.Source.OAI, parameters=OAI_FROM, queue=False)
        expected_state, expected_outcome = database_state(), run_outcome(whole)
        raise Rollback
    assert Work.objects.count() == 0 and len(expected_state["works"]) == 9

    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    fake_arxiv.call_next(lambda: terminate_backend(pid), match="resumptionToken=fake-2")
    run = runs.start_run(source=ImportRun.Source.OAI, parameters=OAI_FROM, queue=False)

    assert connection.connection.info.backend_pid != pid  # it reconnected to say so
    assert run.state == ImportRun.State.FAILED
    assert run.errors[-1].endswith(
        "lost the database connection (OperationalError: terminating connection due to "
        "administrator command); resume it to continue from its checkpoint"
    )
    # Page 1 stands with its checkpoint; page 2 rolled back whole.
    assert (run.resumption_token, run.created_count) == ("fake-2", 6)
    assert set(Work.objects.values_list("arxiv_id", flat=True)) == PAGE_1_IDS

    requests_before = len(fake_arxiv.requests)
    assert runs.resume_run(run) is True  # queued; eager tasks run it here

    assert database_state() == expected_state
    assert run_outcome(run) == expected_outcome
    assert [hit.params for hit in fake_arxiv.requests[requests_before:]] == [
        {"verb": "ListRecords", "resumptionToken": "fake-2"}
    ]


def test_a_worker_that_loses_its_database_puts_the_run_back_in_the_queue(fake_arxiv):
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    fake_arxiv.call_next(lambda: terminate_backend(pid), match="resumptionToken=fake-2")
    run = ImportRun.objects.create(source=ImportRun.Source.OAI, parameters=OAI_FROM)

    with pytest.raises(runs.DATABASE_LOST):
        runs.execute_run(run, retry_transient=True)

    run.refresh_from_db()
    assert run.state == ImportRun.State.QUEUED  # the task's retry claims it again
    assert run.errors[-1].endswith("; the run will be retried from its checkpoint")
    assert run.resumption_token == "fake-2"
    assert runs.execute_run(run) is True
    run.refresh_from_db()
    assert (run.state, run.created_count) == (ImportRun.State.SUCCEEDED, 9)
