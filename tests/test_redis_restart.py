"""Redis restarted while a Celery worker runs: no queued task is lost, pages keep serving.

Redis here is a private ``redis-server`` in a temporary folder, started as docker-compose
starts it (``--appendonly yes``), which the test stops and starts again; the shared Redis of
the other test processes is never touched. The worker is a real ``celery worker`` process on
this test's PostgreSQL database.

The restart happens while the worker is inside an import run (acknowledged late), blocked on
a request to the fake arXiv, with trust recomputes queued behind it: the broker had accepted
them, so they must all run once Redis is back, and the run must finish.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
import redis
from django.db import connection
from django.urls import reverse

from bzpeer.celery import app as celery_app
from bzpeer.lib.tasks import forget_broker_failures
from profiles.models import TrustSnapshot
from profiles.tasks import recompute_trust
from tests.fakearxiv import FakeArxiv
from tests.settings import celery_keyprefix
from tests.works.test_worker_e2e import OAI_FROM, wait_for, worker_database_url
from works import runs
from works.models import AuthorRecord, ImportRun

PROJECT_ROOT = Path(__file__).resolve().parents[1]
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def _why_skip() -> str | None:
    if connection.vendor != "postgresql":
        return (
            "the worker needs PostgreSQL: SQLite's test database lives in the test process's "
            "memory and cannot be shared with a worker process"
        )
    if not Path(REDIS_SERVER).exists():
        return "no redis-server binary to run a private Redis that the test may restart"
    return None


pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(_why_skip() is not None, reason=_why_skip() or ""),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrivateRedis:
    """redis-server on a free port, its append-only file in ``folder``; stop() and start()."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [
            REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
            "--dir", str(self.folder), "--appendonly", "yes", "--save", "",
        ]  # fmt: skip
        log = (self.folder / "redis.log").open("ab")
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        wait_for(lambda: self._answers(client), timeout=20, what="redis", log=self.folder)
        client.close()

    @staticmethod
    def _answers(client: redis.Redis) -> bool:
        try:
            return bool(client.ping())
        except redis.exceptions.ConnectionError:
            return False

    def stop(self) -> None:
        """SIGTERM, as ``docker compose restart`` sends: Redis writes its file and exits."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=20)


@pytest.fixture
def private_redis(tmp_path):
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


@contextlib.contextmanager
def publishing_to(broker_url: str, namespace: str):
    """Queue tasks on ``broker_url`` under ``namespace``, as the worker reads them."""
    conf = celery_app.conf
    saved = conf.broker_url, conf.broker_transport_options, conf.task_always_eager

    def drop_connections():
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    drop_connections()
    conf.broker_url = broker_url
    conf.broker_transport_options = {**saved[1], "global_keyprefix": celery_keyprefix(namespace)}
    conf.task_always_eager = False
    forget_broker_failures()
    try:
        yield
    finally:
        drop_connections()
        conf.broker_url, conf.broker_transport_options, conf.task_always_eager = saved
        forget_broker_failures()


def start_worker(
    redis_url: str, namespace: str, fake: FakeArxiv, log: Path, *, pool: str = "solo"
) -> subprocess.Popen:
    """``celery worker`` on the test database and ``redis_url``; ``pool="prefork"`` gives it
    one child process that runs the tasks (the one an out-of-memory kill would take)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.worker_settings",
        "DATABASE_URL": worker_database_url(),
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "BZPEER_TEST_NAMESPACE": namespace,
        "ARXIV_API_URL": fake.api_url,
        "ARXIV_OAI_URL": fake.oai_url,
        "ARXIV_REQUEST_INTERVAL": "0",
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    command = [
        sys.executable, "-m", "celery", "-A", "bzpeer", "worker", f"--pool={pool}",
        "--concurrency=1",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
        "-Q", "default,harvest,graph,trust", "--loglevel=INFO",
        "-n", f"restart-{uuid.uuid4().hex[:8]}@%h",
    ]  # fmt: skip
    with log.open("ab") as out:
        return subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )


def test_queued_tasks_survive_a_redis_restart_and_pages_serve_meanwhile(
    private_redis, tmp_path, client, settings, caplog
):
    namespace = f"restart-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "worker.log"
    released = threading.Event()
    with FakeArxiv() as fake:
        # The worker's request for page 2 waits until the test has restarted Redis.
        fake.call_next(lambda: released.wait(120), match="resumptionToken=fake-2")
        worker = start_worker(private_redis.url, namespace, fake, log)
        try:
            with publishing_to(private_redis.url, namespace):
                run = runs.start_run(source=ImportRun.Source.OAI, parameters=OAI_FROM, queue=True)
            wait_for(
                lambda: any(h.params.get("resumptionToken") == "fake-2" for h in fake.requests),
                timeout=60,
                what="the worker to ask for page 2",
                log=log,
            )
            # The worker is busy (one task at a time): these wait in Redis, accepted.
            people = list(AuthorRecord.objects.people().values_list("id", flat=True))
            TrustSnapshot.objects.all().delete()
            with publishing_to(private_redis.url, namespace):
                queued = [recompute_trust.delay(person).id for person in people]
            assert len(queued) == len(people) >= 5

            private_redis.stop()
            # Redis is down: pages are served, the cache answering "miss" (bzpeer/lib/cache.py).
            settings.CACHES = {
                "default": {
                    "BACKEND": "bzpeer.lib.cache.ForgivingRedisCache",
                    "LOCATION": private_redis.url,
                    "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
                }
            }
            caplog.set_level(logging.ERROR, logger="bzpeer.lib.cache")
            record = AuthorRecord.objects.people().order_by("id").first()
            for url in (reverse("profiles:home"), record.get_absolute_url(), reverse("healthz")):
                assert client.get(url).status_code == 200, url
            assert any("cache unreachable" in r.getMessage() for r in caplog.records)

            private_redis.start()
            released.set()
            wait_for(
                lambda: not ImportRun.objects.get(pk=run.pk).is_active,
                timeout=90,
                what="the run to finish",
                log=log,
            )
            wait_for(
                lambda: all(f"[{task_id}] succeeded" in log.read_text() for task_id in queued),
                timeout=90,
                what="every trust recompute queued before the restart",
                log=log,
            )
        finally:
            released.set()
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()

    run.refresh_from_db()
    assert (run.state, run.created_count) == (ImportRun.State.SUCCEEDED, 9), run.errors
    with_snapshot = set(TrustSnapshot.objects.values_list("record_id", flat=True))
    assert set(people) <= with_snapshot
