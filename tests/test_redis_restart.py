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

import logging
import threading
import uuid

import pytest
from django.urls import reverse

from profiles.models import TrustSnapshot
from profiles.tasks import recompute_trust
from tests.fakearxiv import FakeArxiv
from tests.faults import PrivateRedis, publishing_to, start_worker, stop_worker, why_no_worker
from tests.works.test_worker_e2e import OAI_FROM, wait_for
from works import runs
from works.models import AuthorRecord, ImportRun

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
            stop_worker(worker)

    run.refresh_from_db()
    assert (run.state, run.created_count) == (ImportRun.State.SUCCEEDED, 9), run.errors
    with_snapshot = set(TrustSnapshot.objects.values_list("record_id", flat=True))
    assert set(people) <= with_snapshot
