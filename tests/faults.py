"""Helpers for the fault tests: a private Redis to restart, a Celery worker to kill, a
second connection to the test's PostgreSQL database (to terminate or lock what a job uses).

Nothing here touches the shared Redis or PostgreSQL servers beyond this process's own test
database: Redis restarts happen on a ``redis-server`` of the test's own, on a free port.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import redis
from django.db import connection

from bzpeer.celery import app as celery_app
from bzpeer.lib.tasks import forget_broker_failures
from graph.models import CollaborationEdge
from tests.fakearxiv import FakeArxiv
from tests.settings import celery_keyprefix
from tests.works.test_worker_e2e import wait_for, worker_database_url
from works.models import AuthorRecord

PROJECT_ROOT = Path(__file__).resolve().parents[1]
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def why_no_worker() -> str | None:
    if connection.vendor != "postgresql":
        return (
            "the worker needs PostgreSQL: SQLite's test database lives in the test process's "
            "memory and cannot be shared with a worker process"
        )
    if not Path(REDIS_SERVER).exists():
        return "no redis-server binary to run a private Redis that the test may restart"
    return None


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
        log = self.folder / "redis.log"
        with log.open("ab") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        wait_for(lambda: self._answers(client), timeout=20, what="redis", log=log)
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


def stop_worker(worker: subprocess.Popen) -> None:
    """A warm shutdown (SIGTERM), or SIGKILL if it takes longer than 20 seconds."""
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def other_connection() -> psycopg.Connection:
    """A session of its own on the test database, beside Django's (to terminate or lock)."""
    db = connection.settings_dict
    return psycopg.connect(
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"] or None,
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
    )


def edges_and_counts() -> tuple[dict, dict]:
    """Every edge and every close-collaborator count, by slugs (ids differ between runs)."""
    edges = {
        (a, b): (round(weight, 9), shared, year)
        for a, b, weight, shared, year in CollaborationEdge.objects.values_list(
            "author__slug", "coauthor__slug", "weight", "shared_works", "latest_year"
        )
    }
    counts = dict(AuthorRecord.objects.values_list("slug", "close_collaborator_count"))
    return edges, counts
