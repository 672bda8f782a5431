"""End to end: a real Celery worker process, real Redis, real HTTP to the fake arXiv.

The test queues a harvest the way the admin does, a separate ``celery worker``
process runs it against the same PostgreSQL test database, and the test then
reads what the worker wrote: works, authorships, collaboration edges, trust
snapshots, the run itself, and the times at which the fake arXiv was called.

The worker gets a Redis namespace of its own on REDIS_URL (broker queues,
cache and the arXiv request slot; tests/settings.py), so tasks queued by other
tests, or by the other processes of a parallel run, never reach it and it
never takes theirs.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from bzpeer.celery import app as celery_app
from bzpeer.lib.tasks import forget_broker_failures
from graph.models import CollaborationEdge
from graph.weights import CLOSE_WEIGHT_FLOOR, MAX_AUTHORS_FOR_PAIRS
from profiles.models import TrustSnapshot
from tests.fakearxiv import OAI_LAST_PAGE, OAI_PAGE_1, FakeArxiv, fixture
from tests.settings import celery_keyprefix
from tests.support import delete_redis_namespace
from works import runs
from works.arxiv import parsers
from works.models import AuthorRecord, Authorship, ImportRun, Work
from works.rows import signature

PROJECT_ROOT = Path(__file__).resolve().parents[2]
REQUEST_INTERVAL = 0.5
# Arrival times are taken by the fake server's thread in this process, which a loaded
# parallel run (three test processes on two cores) can schedule late: a request recorded
# 55 ms late made two arrivals spaced 0.3 s apart look 0.245 s apart in
# tests/works/test_client.py. Unspaced requests would arrive milliseconds apart, so the
# checks below still tell them apart.
CLOCK_SLACK = 0.15
QUEUES = ("default", "harvest", "graph", "trust", "email")
OAI_FROM = {"from": "2014-10-01"}


def _why_skip() -> str | None:
    if not settings.REDIS_URL:
        return "REDIS_URL is unset: the worker test needs a real Redis broker"
    if connection.vendor != "postgresql":
        return (
            "the worker test needs PostgreSQL: SQLite's test database lives in the test "
            "process's memory and cannot be shared with a worker process"
        )
    return None


pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(_why_skip() is not None, reason=_why_skip() or ""),
]


# ------------------------------------------------------------------ helpers


def worker_database_url() -> str:
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "127.0.0.1"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{credentials}@{host}{port}/{db['NAME']}"


def wait_for(condition: Callable[[], bool], *, timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-4000:] if log.exists() else "(no worker log)"
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{tail}")


class Worker:
    """``celery -A bzpeer worker`` in a subprocess, with the test's database and fakes."""

    def __init__(self, *, namespace: str, fake: FakeArxiv, log: Path):
        self.namespace = namespace
        self.fake = fake
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self) -> Worker:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.worker_settings",
            "DATABASE_URL": worker_database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_BROKER_URL": settings.REDIS_URL,
            "BZPEER_TEST_NAMESPACE": self.namespace,
            "ARXIV_API_URL": self.fake.api_url,
            "ARXIV_OAI_URL": self.fake.oai_url,
            "ARXIV_REQUEST_INTERVAL": str(REQUEST_INTERVAL),
            "PYTHONPATH": str(PROJECT_ROOT),
        }
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "bzpeer",
            "worker",
            "--pool=solo",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-Q",
            ",".join(QUEUES),
            "--loglevel=INFO",
            "-n",
            f"e2e-{uuid.uuid4().hex[:8]}@%h",
        ]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                command, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        return self

    def kill(self) -> None:
        """SIGKILL: no warm shutdown, no acknowledgement, nothing cleaned up."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()


@contextlib.contextmanager
def publishing_to(namespace: str):
    """Make this process queue tasks in the worker's ``namespace`` instead of running them."""
    conf = celery_app.conf
    saved = conf.broker_url, conf.broker_transport_options, conf.task_always_eager

    def drop_connections():
        # What Celery itself does after a fork: the next publish builds its pools
        # from the current broker settings (kombu keeps one pool per broker).
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    drop_connections()
    conf.broker_url = settings.REDIS_URL
    conf.broker_transport_options = {
        **saved[1],
        "global_keyprefix": celery_keyprefix(namespace),
    }
    conf.task_always_eager = False
    forget_broker_failures()
    try:
        yield
    finally:
        drop_connections()
        conf.broker_url, conf.broker_transport_options, conf.task_always_eager = saved


@pytest.fixture
def worker_namespace():
    """The worker's namespace: this test process's own, with "-e2e" after it."""
    namespace = f"{settings.TEST_NAMESPACE}-e2e"
    client = redis.Redis.from_url(settings.REDIS_URL)
    # Only the worker's own keys: leftovers of an aborted earlier run would
    # otherwise be delivered to the new worker.
    delete_redis_namespace(client, namespace)
    yield namespace
    delete_redis_namespace(client, namespace)
    client.close()


@pytest.fixture
def fake_arxiv_server():
    with FakeArxiv() as fake:
        yield fake


@pytest.fixture
def start_worker(worker_namespace, fake_arxiv_server, tmp_path):
    started: list[Worker] = []

    def start() -> Worker:
        worker = Worker(
            namespace=worker_namespace, fake=fake_arxiv_server, log=tmp_path / "worker.log"
        )
        started.append(worker.start())
        return worker

    yield start
    for worker in started:
        worker.stop()


def expected_authorships() -> set[tuple[str, int, str]]:
    """(arxiv id, position, printed name) as the importer resolves the two fixture pages."""
    expected = set()
    for name in (OAI_PAGE_1, OAI_LAST_PAGE):
        for record in parsers.parse_oai(fixture(name)).records:
            signatures = [s for s in map(signature, record.authors) if s is not None]
            for position, author in enumerate(signatures):
                expected.add((record.arxiv_id, position, author.printed_name))
    return expected


def expected_edges() -> dict[tuple[int, int], tuple[float, int]]:
    """Newman weights from the stored authorships, pair by pair, in plain Python."""
    people_by_work: dict[int, set[int]] = defaultdict(set)
    for work_id, author_id in Authorship.objects.filter(
        author__kind=AuthorRecord.Kind.PERSON
    ).values_list("work_id", "author_id"):
        people_by_work[work_id].add(author_id)
    sizes = dict(Work.objects.values_list("id", "person_author_count"))
    edges: dict[tuple[int, int], list] = defaultdict(lambda: [0.0, 0])
    for work_id, people in people_by_work.items():
        n = sizes[work_id]
        if not 2 <= n <= MAX_AUTHORS_FOR_PAIRS:
            continue
        for a in people:
            for b in people - {a}:
                edges[(a, b)][0] += 1 / (n - 1)
                edges[(a, b)][1] += 1
    return {pair: (round(weight, 9), shared) for pair, (weight, shared) in edges.items()}


def stored_edges() -> dict[tuple[int, int], tuple[float, int]]:
    return {
        (a, b): (round(weight, 9), shared)
        for a, b, weight, shared in CollaborationEdge.objects.values_list(
            "author_id", "coauthor_id", "weight", "shared_works"
        )
    }


def every_person_has_a_current_trust_snapshot() -> bool:
    people = AuthorRecord.objects.filter(kind=AuthorRecord.Kind.PERSON, authorships__isnull=False)
    return not people.exclude(trust_snapshots__isnull=False).exists()


def assert_spaced(times: list[float], *, at_least: float) -> None:
    gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
    assert gaps and min(gaps) >= at_least - CLOCK_SLACK, gaps


def finished(run: ImportRun) -> Callable[[], bool]:
    return lambda: not ImportRun.objects.get(pk=run.pk).is_active


# -------------------------------------------------------------------- tests


def test_a_queued_harvest_runs_on_a_real_worker(start_worker, worker_namespace, fake_arxiv_server):
    fake = fake_arxiv_server
    # arXiv's flow control: the first OAI request is turned away for a second.
    fake.fail_next(503, retry_after="1", match="/oai")
    worker = start_worker()

    with publishing_to(worker_namespace):
        run = runs.start_run(source=ImportRun.Source.OAI, parameters=OAI_FROM, queue=True)
    assert run.state == ImportRun.State.QUEUED and run.errors == []

    wait_for(finished(run), timeout=90, what="the harvest run to finish", log=worker.log)
    run.refresh_from_db()
    assert run.state == ImportRun.State.SUCCEEDED, run.errors
    assert (run.created_count, run.updated_count, run.unchanged_count, run.error_count) == (
        9,
        0,
        0,
        0,
    )
    assert run.resumption_token == "" and run.response_date is not None

    # Works and authorships, exactly as the importer resolves the fixtures.
    assert Work.objects.count() == 9
    stored = set(Authorship.objects.values_list("work__arxiv_id", "position", "printed_name"))
    assert stored == expected_authorships()

    # Requests: the 503, then the same request again after Retry-After, then
    # page 2; never closer together than the configured interval.
    oai = [hit for hit in fake.requests if hit.path == "/oai"]
    assert [hit.params.get("resumptionToken") for hit in oai] == [None, None, "fake-2"]
    assert oai[1].t - oai[0].t >= 1.0 - CLOCK_SLACK  # Retry-After: 1
    assert_spaced([hit.t for hit in fake.requests], at_least=REQUEST_INTERVAL)

    # Edges (graph.rebuild_edges) and trust (profiles.recompute_trust) follow on
    # their own queues once each page commits.
    wait_for(
        lambda: stored_edges() == expected_edges() and bool(stored_edges()),
        timeout=60,
        what="collaboration edges",
        log=worker.log,
    )
    wait_for(
        every_person_has_a_current_trust_snapshot,
        timeout=60,
        what="a trust snapshot for every imported person",
        log=worker.log,
    )
    for record in AuthorRecord.objects.filter(kind=AuthorRecord.Kind.PERSON):
        snapshot = TrustSnapshot.objects.filter(record=record).latest()
        works = set(record.authorships.values_list("work__arxiv_id", flat=True))
        assert {w["arxiv_id"] for w in snapshot.inputs["works"]} == works, record.slug
        close = set(
            CollaborationEdge.objects.filter(
                author=record, weight__gte=CLOSE_WEIGHT_FLOOR
            ).values_list("coauthor__slug", flat=True)
        )
        assert {c["slug"] for c in snapshot.inputs["close_collaborators"]} == close, record.slug


def test_a_worker_killed_mid_harvest_is_resumed_from_its_checkpoint(
    start_worker, worker_namespace, fake_arxiv_server
):
    fake = fake_arxiv_server
    # Page 2 takes its time: long enough to kill the worker while it waits.
    fake.slow_next(30, match="resumptionToken=fake-2")
    first = start_worker()
    with publishing_to(worker_namespace):
        run = runs.start_run(source=ImportRun.Source.OAI, parameters=OAI_FROM, queue=True)

    wait_for(
        lambda: any(h.params.get("resumptionToken") == "fake-2" for h in fake.requests),
        timeout=60,
        what="the worker to ask for page 2",
        log=first.log,
    )
    first.kill()
    run.refresh_from_db()
    assert run.state == ImportRun.State.RUNNING  # nobody told the database
    assert (run.resumption_token, run.created_count) == ("fake-2", 6)
    assert Work.objects.count() == 6

    # Half an hour without a heartbeat later, the beat sweep queues it again.
    ImportRun.objects.filter(pk=run.pk).update(
        heartbeat_at=timezone.now() - runs.STALE_AFTER - timezone.timedelta(seconds=1)
    )
    second = start_worker()
    with publishing_to(worker_namespace):
        assert runs.resume_stale_runs() == [run.pk]
    wait_for(finished(run), timeout=90, what="the resumed run to finish", log=second.log)

    run.refresh_from_db()
    assert run.state == ImportRun.State.SUCCEEDED, run.errors
    assert (run.created_count, run.updated_count, run.unchanged_count) == (9, 0, 0)
    assert Work.objects.count() == 9
    stored = set(Authorship.objects.values_list("work__arxiv_id", "position", "printed_name"))
    assert stored == expected_authorships()
    # Resumed from the token: page 1 was asked for once in all.
    first_pages = [h for h in fake.requests if h.path == "/oai" and "from" in h.params]
    assert len(first_pages) == 1
