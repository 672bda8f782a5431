"""Import runs against the fake arXiv: checkpoints, crashes, resumption, the command."""

from __future__ import annotations

import contextlib
import datetime as dt
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from works import runs
from works.arxiv.client import ArxivUnavailable
from works.models import AuthorRecord, Authorship, ImportRun, Work, WorkTopic, WorkVersion

pytestmark = pytest.mark.django_db

PAGE_1_IDS = {"0704.0471", "0704.0716", "0704.0874", "0704.1109", "0704.1114", "0704.1586"}
PAGE_2_IDS = {"1412.8323", "1507.07790", "1607.01710"}
OAI_FROM = {"from": "2014-10-01"}
UTC = dt.UTC


class WorkerKilled(BaseException):
    """Stands for SIGKILL: not an Exception, so nothing in the run catches it."""


class Rollback(Exception):
    pass


def database_state() -> dict:
    """Everything an import writes, by natural keys (ids differ between runs)."""

    def rows(queryset, *fields):
        return sorted(json.dumps(row, default=str) for row in queryset.values_list(*fields))

    return {
        "works": rows(
            Work.objects,
            *("arxiv_id", "version", "title", "abstract", "content_hash", "kind", "year"),
            *("person_author_count", "author_count", "primary_topic__code", "withdrawn"),
        ),
        "authorships": rows(
            Authorship.objects,
            *("work__arxiv_id", "position", "author__slug", "printed_name", "affiliation"),
        ),
        "records": rows(
            AuthorRecord.objects, "slug", "name_key", "display_name", "kind", "variants"
        ),
        "topics": rows(
            WorkTopic.objects, "work__arxiv_id", "topic__code", "is_primary", "position"
        ),
        "versions": rows(WorkVersion.objects, "work__arxiv_id", "number", "submitted", "size_kb"),
    }


def run_outcome(run: ImportRun) -> dict:
    run.refresh_from_db()
    return {
        "state": run.state,
        "counts": (run.created_count, run.updated_count, run.unchanged_count, run.error_count),
        "resumption_token": run.resumption_token,
        "checkpoint_datestamp": run.checkpoint_datestamp,
        "response_date": run.response_date,
        "total_expected": run.total_expected,
    }


def oai_params(fake) -> list[dict]:
    return [hit.params for hit in fake.requests if hit.path == "/oai"]


# ------------------------------------------------------------------ OAI-PMH


def test_oai_run_follows_the_token_and_records_counts_and_checkpoint(fake_arxiv):
    run = runs.start_run(source=ImportRun.Source.OAI, parameters=OAI_FROM, queue=False)

    assert run.state == ImportRun.State.SUCCEEDED
    assert set(Work.objects.values_list("arxiv_id", flat=True)) == PAGE_1_IDS | PAGE_2_IDS
    assert (run.created_count, run.updated_count, run.unchanged_count, run.error_count) == (
        9,
        0,
        0,
        0,
    )
    assert run.processed == 9
    # the server's time at the start of the harvest: the next harvest's "from"
    assert run.response_date == dt.datetime(2015, 1, 6, 20, 49, 59, tzinfo=UTC)
    assert run.checkpoint_datestamp == dt.date(2017, 12, 14)
    assert run.total_expected == 58011  # completeListSize of the first page
    assert run.resumption_token == ""
    assert run.started_at <= run.finished_at
    assert oai_params(fake_arxiv) == [
        {"verb": "ListRecords", "metadataPrefix": "arXivRaw", "from": "2014-10-01"},
        {"verb": "ListRecords", "resumptionToken": "fake-2"},
    ]


def test_rerunning_the_same_harvest_changes_nothing(fake_arxiv):
    runs.start_run(source=ImportRun.Source.OAI, parameters=OAI_FROM, queue=False)
    before = database_state()

    again = runs.start_run(source=ImportRun.Source.OAI, parameters=OAI_FROM, queue=False)

    assert again.state == ImportRun.State.SUCCEEDED
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 9)
    assert database_state() == before


def test_a_run_killed_halfway_resumes_to_the_state_of_an_uninterrupted_run(fake_arxiv, monkeypatch):
    # The uninterrupted run, measured and then rolled back.
    with contextlib.suppress(Rollback), transaction.atomic():
        whole = runs.start_run(source=ImportRun.Source.OAI, parameters=OAI_FROM, queue=False)
        expected_state, expected_outcome = database_state(), run_outcome(whole)
        raise Rollback
    assert Work.objects.count() == 0 and ImportRun.objects.count() == 0
    assert len(expected_state["works"]) == 9

    # The worker dies while writing page 2: its records are in the transaction,
    # the checkpoint is not yet written.
    real_import = runs.import_records
    calls = []

    def import_then_die(items, **kwargs):
        calls.append(1)
        stats = real_import(items, **kwargs)
        if len(calls) == 2:
            raise WorkerKilled
        return stats

    monkeypatch.setattr(runs, "import_records", import_then_die)
    with pytest.raises(WorkerKilled):
        runs.start_run(source=ImportRun.Source.OAI, parameters=OAI_FROM, queue=False)
    killed = ImportRun.objects.get()
    assert killed.state == ImportRun.State.RUNNING
    assert killed.resumption_token == "fake-2"  # page 1 committed with its checkpoint
    assert (killed.created_count, killed.unchanged_count) == (6, 0)
    # page 2 was rolled back with its transaction: nothing half-written
    assert set(Work.objects.values_list("arxiv_id", flat=True)) == PAGE_1_IDS

    # Nobody hears from the dead worker for longer than STALE_AFTER; the run is
    # started again (by the sweep, a redelivered message or the admin).
    monkeypatch.setattr(runs, "import_records", real_import)
    ImportRun.objects.filter(pk=killed.pk).update(
        heartbeat_at=timezone.now() - runs.STALE_AFTER - dt.timedelta(seconds=1)
    )
    requests_before = len(fake_arxiv.requests)
    assert runs.execute_run(killed) is True

    assert database_state() == expected_state
    assert run_outcome(killed) == expected_outcome
    # it went on from the checkpoint: page 1 was not fetched again
    assert [h.params for h in fake_arxiv.requests[requests_before:]] == [
        {"verb": "ListRecords", "resumptionToken": "fake-2"}
    ]


def test_a_run_still_running_elsewhere_is_not_started_twice(fake_arxiv):
    run = ImportRun.objects.create(
        source=ImportRun.Source.OAI,
        parameters=runs.clean_parameters(ImportRun.Source.OAI, OAI_FROM),
        state=ImportRun.State.RUNNING,
        heartbeat_at=timezone.now() - dt.timedelta(minutes=5),
    )
    assert runs.execute_run(run) is False
    assert fake_arxiv.requests == []
    run.refresh_from_db()
    assert run.state == ImportRun.State.RUNNING


@pytest.mark.parametrize("state", ["succeeded", "failed", "cancelled"])
def test_a_finished_run_is_not_executed_again(fake_arxiv, state):
    run = ImportRun.objects.create(source=ImportRun.Source.OAI, parameters=OAI_FROM, state=state)
    assert runs.execute_run(run) is False
    assert fake_arxiv.requests == []


def test_an_expired_resumption_token_restarts_from_the_from_date(fake_arxiv):
    run = ImportRun.objects.create(
        source=ImportRun.Source.OAI,
        parameters=runs.clean_parameters(ImportRun.Source.OAI, OAI_FROM),
        resumption_token="expired-token",
    )
    assert runs.execute_run(run) is True

    run.refresh_from_db()
    assert run.state == ImportRun.State.SUCCEEDED
    assert set(Work.objects.values_list("arxiv_id", flat=True)) == PAGE_1_IDS | PAGE_2_IDS
    assert oai_params(fake_arxiv) == [
        {"verb": "ListRecords", "resumptionToken": "expired-token"},
        {"verb": "ListRecords", "metadataPrefix": "arXivRaw", "from": "2014-10-01"},
        {"verb": "ListRecords", "resumptionToken": "fake-2"},
    ]


def test_no_records_match_is_a_successful_empty_harvest(fake_arxiv):
    run = runs.start_run(
        source=ImportRun.Source.OAI,
        parameters={"from": "2014-10-01", "set": "moo"},
        queue=False,
    )
    assert run.state == ImportRun.State.SUCCEEDED
    assert run.processed == 0
    assert Work.objects.count() == 0
    assert oai_params(fake_arxiv) == [
        {"verb": "ListRecords", "metadataPrefix": "arXivRaw", "from": "2014-10-01", "set": "moo"}
    ]


def test_until_and_set_and_prefix_are_sent(fake_arxiv):
    runs.start_run(
        source=ImportRun.Source.OAI,
        parameters={
            "from": "2017-12-01",
            "until": "2017-12-31",
            "set": "physics:hep-th",
            "metadata_prefix": "arXiv",
        },
        queue=False,
    )
    assert oai_params(fake_arxiv)[0] == {
        "verb": "ListRecords",
        "metadataPrefix": "arXiv",
        "from": "2017-12-01",
        "until": "2017-12-31",
        "set": "physics:hep-th",
    }


def test_an_oai_run_without_a_date_starts_from_the_last_successful_harvest(fake_arxiv):
    ImportRun.objects.create(
        source=ImportRun.Source.OAI,
        state=ImportRun.State.SUCCEEDED,
        response_date=dt.datetime(2024, 5, 30, 21, 0, tzinfo=UTC),
    )
    ImportRun.objects.create(  # newer, but failed: does not count
        source=ImportRun.Source.OAI,
        state=ImportRun.State.FAILED,
        response_date=dt.datetime(2024, 6, 2, 21, 0, tzinfo=UTC),
    )
    run = runs.start_run(source=ImportRun.Source.OAI, parameters={}, queue=False)
    assert run.parameters["from"] == "2024-05-30"
    assert oai_params(fake_arxiv)[0]["from"] == "2024-05-30"


def test_the_first_oai_run_without_a_date_looks_one_day_back(fake_arxiv):
    run = runs.start_run(source=ImportRun.Source.OAI, parameters={}, queue=False)
    yesterday = (timezone.now() - dt.timedelta(days=1)).date()
    assert run.parameters["from"] == yesterday.isoformat()


# --------------------------------------------------------------- query API


def test_an_id_list_run_imports_the_ids(fake_arxiv):
    run = runs.start_run(
        source=ImportRun.Source.API_IDS, parameters={"ids": "1605.08386"}, queue=False
    )
    assert run.state == ImportRun.State.SUCCEEDED
    assert list(Work.objects.values_list("arxiv_id", flat=True)) == ["1605.08386"]
    assert (run.created_count, run.total_expected, run.checkpoint_offset) == (1, 1, 1)
    assert fake_arxiv.requests[0].params["id_list"] == "1605.08386"


def test_a_query_run_pages_and_checkpoints_its_offset(fake_arxiv):
    run = runs.start_run(
        source=ImportRun.Source.API_QUERY,
        parameters={"query": "testing", "max_results": 20},
        queue=False,
    )
    assert run.state == ImportRun.State.SUCCEEDED
    assert run.created_count == 20 and Work.objects.count() == 20
    assert (run.checkpoint_offset, run.total_expected) == (20, 20)
    assert [h.params["start"] for h in fake_arxiv.requests] == ["0", "10"]


def test_a_query_run_resumes_from_its_offset(fake_arxiv):
    run = ImportRun.objects.create(
        source=ImportRun.Source.API_QUERY,
        parameters={"query": "testing", "max_results": 20},
        checkpoint_offset=10,
        created_count=10,
    )
    runs.execute_run(run)
    run.refresh_from_db()
    assert run.state == ImportRun.State.SUCCEEDED
    assert [h.params["start"] for h in fake_arxiv.requests] == ["10"]
    assert (run.created_count, Work.objects.count()) == (20, 10)


# --------------------------------------------------------------- failures


def test_arxiv_down_fails_the_run_with_the_reason(fake_arxiv):
    fake_arxiv.fail_next(503, retry_after="0", times=5)
    run = runs.start_run(source=ImportRun.Source.OAI, parameters=OAI_FROM, queue=False)
    assert run.state == ImportRun.State.FAILED
    assert run.finished_at is not None
    assert "arXiv unavailable" in run.errors[-1] and "HTTP 503" in run.errors[-1]
    assert Work.objects.count() == 0


def test_arxiv_down_mid_harvest_keeps_the_checkpoint_for_a_retry(fake_arxiv):
    fake_arxiv.fail_next(503, retry_after="0", times=5, match="resumptionToken=fake-2")
    run = ImportRun.objects.create(
        source=ImportRun.Source.OAI,
        parameters=runs.clean_parameters(ImportRun.Source.OAI, OAI_FROM),
    )
    with pytest.raises(ArxivUnavailable):
        runs.execute_run(run, retry_transient=True)
    run.refresh_from_db()
    assert run.state == ImportRun.State.QUEUED  # ready for the task's retry
    assert (run.resumption_token, run.created_count) == ("fake-2", 6)
    assert "will be retried" in run.errors[-1]

    assert runs.execute_run(run) is True
    run.refresh_from_db()
    assert run.state == ImportRun.State.SUCCEEDED
    assert run.created_count == 9 and Work.objects.count() == 9


def test_a_record_error_is_counted_and_the_rest_lands(fake_arxiv, monkeypatch):
    from works.arxiv.records import RecordError

    real_import = runs.import_records

    def with_a_bad_record(items, **kwargs):
        return real_import([RecordError(where="line 3", reason="no title"), *items], **kwargs)

    monkeypatch.setattr(runs, "import_records", with_a_bad_record)
    run = runs.start_run(
        source=ImportRun.Source.API_IDS, parameters={"ids": "1605.08386"}, queue=False
    )
    assert run.state == ImportRun.State.SUCCEEDED
    assert (run.created_count, run.error_count) == (1, 1)
    assert run.errors == ["line 3: no title"]


def test_cancelling_a_running_run_stops_it_before_the_next_page(fake_arxiv):
    def cancel_after_first_page(run):
        runs.cancel_run(ImportRun.objects.get(pk=run.pk))

    run = runs.start_run(
        source=ImportRun.Source.OAI,
        parameters=OAI_FROM,
        queue=False,
        on_progress=cancel_after_first_page,
    )
    assert run.state == ImportRun.State.CANCELLED
    # page 2 was fetched but its transaction saw the cancellation and rolled back
    assert set(Work.objects.values_list("arxiv_id", flat=True)) == PAGE_1_IDS
    assert run.created_count == 6
    assert run.errors[-1].endswith("cancelled")


def test_resuming_a_failed_run_continues_from_its_checkpoint(
    fake_arxiv, eager_tasks, django_capture_on_commit_callbacks
):
    run = ImportRun.objects.create(
        source=ImportRun.Source.OAI,
        parameters=runs.clean_parameters(ImportRun.Source.OAI, OAI_FROM),
        state=ImportRun.State.FAILED,
        resumption_token="fake-2",
        created_count=6,
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert runs.resume_run(run) is True  # queued on commit (here: run eagerly)
    run.refresh_from_db()
    assert run.state == ImportRun.State.SUCCEEDED
    assert run.created_count == 9
    assert [h.params for h in fake_arxiv.requests] == [
        {"verb": "ListRecords", "resumptionToken": "fake-2"}
    ]


def test_a_succeeded_run_cannot_be_resumed(fake_arxiv):
    run = ImportRun.objects.create(source=ImportRun.Source.OAI, state=ImportRun.State.SUCCEEDED)
    assert runs.resume_run(run) is False
    assert fake_arxiv.requests == []


def test_the_sweep_queues_abandoned_runs_again(
    fake_arxiv, eager_tasks, django_capture_on_commit_callbacks
):
    long_ago = timezone.now() - runs.STALE_AFTER - dt.timedelta(minutes=1)
    params = runs.clean_parameters(ImportRun.Source.OAI, OAI_FROM)
    dead = ImportRun.objects.create(
        source=ImportRun.Source.OAI,
        parameters=params,
        state=ImportRun.State.RUNNING,
        heartbeat_at=long_ago,
    )
    lost = ImportRun.objects.create(
        source=ImportRun.Source.API_IDS, parameters={"ids": ["1605.08386"]}
    )
    ImportRun.objects.filter(pk=lost.pk).update(created_at=long_ago)
    alive = ImportRun.objects.create(
        source=ImportRun.Source.OAI,
        parameters=params,
        state=ImportRun.State.RUNNING,
        heartbeat_at=timezone.now(),
    )

    with django_capture_on_commit_callbacks(execute=True):
        resumed = runs.resume_stale_runs()

    assert sorted(resumed) == sorted([dead.pk, lost.pk])
    states = dict(ImportRun.objects.values_list("pk", "state"))
    assert states == {
        dead.pk: ImportRun.State.SUCCEEDED,
        lost.pk: ImportRun.State.SUCCEEDED,
        alive.pk: ImportRun.State.RUNNING,
    }


# --------------------------------------------------------------- parameters


@pytest.mark.parametrize(
    ("source", "parameters", "message"),
    [
        ("api-query", {"query": "  "}, "give a query"),
        ("api-query", {"query": "x", "max_results": 0}, "between 1 and 30,000"),
        ("api-ids", {"ids": "abc 1605.08386"}, "not an arXiv id: abc"),
        ("api-ids", {"ids": ""}, "at least one arXiv id"),
        ("oai", {"from": "2024-13-01"}, "from must be a date"),
        ("oai", {"from": "2024-06-02", "until": "2024-06-01"}, "after the until date"),
        ("oai", {"set": "cs; DROP"}, "not an OAI set"),
        ("oai", {"metadata_prefix": "oai_dc"}, "metadata prefix must be one of"),
        ("file", {}, "cannot be started here"),
    ],
)
def test_bad_parameters_are_refused_with_one_clear_line(source, parameters, message):
    with pytest.raises(runs.InvalidRunParameters, match=message):
        runs.start_run(source=source, parameters=parameters, queue=False)
    assert ImportRun.objects.count() == 0


def test_parameters_are_normalised():
    assert runs.clean_parameters(
        "api-ids", {"ids": "arXiv:1605.08386, 2104.12255v1\n1605.08386"}
    ) == {"ids": ["1605.08386", "2104.12255v1"]}
    assert runs.clean_parameters("oai", {"from": dt.date(2024, 1, 2), "set": "physics:hep-th"}) == {
        "from": "2024-01-02",
        "until": None,
        "set": "physics:hep-th",
        "metadata_prefix": "arXivRaw",
    }
    assert runs.author_query(' Zhengyan  "Zhang" ') == 'au:"Zhengyan Zhang"'


# ------------------------------------------------------------------ command


def test_import_arxiv_oai_runs_in_process_and_prints_the_run(fake_arxiv, capsys):
    call_command("import_arxiv", "--oai", "--from", "2014-10-01")
    out = capsys.readouterr()
    run = ImportRun.objects.get()
    assert run.state == ImportRun.State.SUCCEEDED
    assert run.parameters == {
        "from": "2014-10-01",
        "until": None,
        "set": None,
        "metadata_prefix": "arXivRaw",
    }
    assert out.out.strip() == (
        f"run #{run.pk} succeeded: 9 records: 9 created, 0 updated, 0 unchanged, 0 errors"
    )
    assert f"run #{run.pk}: 6 of about 58,011 records" in out.err


def test_import_arxiv_ids_and_query(fake_arxiv):
    call_command("import_arxiv", "--ids", "1605.08386")
    call_command("import_arxiv", "--query", "testing", "--max-results", "10")
    assert ImportRun.objects.filter(state=ImportRun.State.SUCCEEDED).count() == 2
    assert Work.objects.count() == 11


def test_import_arxiv_queue_on_the_embedded_default_runs_eagerly(
    fake_arxiv, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_arxiv", "--ids", "1605.08386", "--queue")
    assert ImportRun.objects.get().state == ImportRun.State.SUCCEEDED


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--query", "x", "--oai"], "only one of --query, --ids and --oai"),
        (["--query", "x", "--from", "2024-01-01"], "--from, --until and --set go with --oai"),
        (["--ids", "abc"], "not an arXiv id: abc"),
        (["--queue"], "--queue needs --query, --ids or --oai"),
        (["some.xml", "--oai"], "either files or --query/--ids/--oai"),
        (["--oai", "--from", "yesterday"], "from must be a date like"),
    ],
)
def test_import_arxiv_refuses_bad_input_with_one_line(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("import_arxiv", *args)


def test_import_arxiv_exits_non_zero_when_the_run_fails(fake_arxiv):
    fake_arxiv.fail_next(503, retry_after="0", times=5)
    with pytest.raises(CommandError, match=r"run #\d+ failed: 0 records.*arXiv unavailable"):
        call_command("import_arxiv", "--ids", "1605.08386")
