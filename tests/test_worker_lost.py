"""A worker's pool process killed (SIGKILL) in the middle of an edge rebuild: the task is
handed back to the queue and the next attempt writes exactly the edges of an uninterrupted run.

The rebuild is held at a known point without timing anything: the test locks the edge table,
so the task's first query waits on the lock; the test kills the pool process there, as the
out-of-memory killer would, and releases the lock once the task has been delivered again.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable

import psycopg
import pytest

from graph.models import CollaborationEdge
from graph.services import rebuild_all_edges
from graph.tasks import rebuild_edges
from tests.fakearxiv import FakeArxiv
from tests.faults import (
    PrivateRedis,
    edges_and_counts,
    other_connection,
    publishing_to,
    start_worker,
    stop_worker,
    why_no_worker,
)
from tests.support import DEMO_FILE
from tests.works.test_worker_e2e import wait_for
from works.models import AuthorRecord
from works.services import import_stream

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(why_no_worker() is not None, reason=why_no_worker() or ""),
]


@pytest.fixture
def private_redis(tmp_path):
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def sessions_waiting_on_a_lock(monitor: psycopg.Connection) -> Callable[[], list[int]]:
    def waiting() -> list[int]:
        return [
            pid
            for (pid,) in monitor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' ORDER BY backend_start"
            ).fetchall()
        ]

    return waiting


def pool_children(worker: subprocess.Popen) -> list[int]:
    found = subprocess.run(
        ["pgrep", "-P", str(worker.pid)], capture_output=True, text=True, check=False
    )
    return [int(pid) for pid in found.stdout.split()]


def test_an_edge_rebuild_whose_pool_process_is_killed_is_delivered_again(private_redis, tmp_path):
    namespace = f"lost-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "worker.log"
    with FakeArxiv() as fake, other_connection() as locker, other_connection() as monitor:
        monitor.autocommit = True
        waiting = sessions_waiting_on_a_lock(monitor)
        # Started first: it boots while the corpus is imported here.
        worker = start_worker(private_redis.url, namespace, fake, log, pool="prefork")
        try:
            with DEMO_FILE.open("rb") as stream:
                import_stream(stream, source_label="Demo data")
            rebuild_all_edges()
            uninterrupted = edges_and_counts()
            people = list(AuthorRecord.objects.people().values_list("id", flat=True))
            CollaborationEdge.objects.all().delete()
            AuthorRecord.objects.update(close_collaborator_count=0)

            locker.execute(f"LOCK TABLE {CollaborationEdge._meta.db_table} IN EXCLUSIVE MODE")
            with publishing_to(private_redis.url, namespace):
                task_id = rebuild_edges.delay(people).id
            wait_for(lambda: len(waiting()) == 1, timeout=60, what="the rebuild", log=log)
            [child] = pool_children(worker)
            subprocess.run(["kill", "-KILL", str(child)], check=True)
            # Handed back at once (reject_on_worker_lost) and taken by a new pool process,
            # which waits on the same lock as its killed predecessor's session.
            wait_for(lambda: len(waiting()) == 2, timeout=60, what="the new attempt", log=log)
            assert pool_children(worker) not in ([], [child])
            locker.rollback()
            wait_for(
                lambda: f"[{task_id}] succeeded" in log.read_text(),
                timeout=60,
                what="the task to succeed",
                log=log,
            )
        finally:
            stop_worker(worker)

    assert "WorkerLostError" in log.read_text()
    assert edges_and_counts() == uninterrupted
