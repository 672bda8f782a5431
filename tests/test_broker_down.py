"""Without a broker the site keeps working: pages serve, follows and claims save.

The Celery app is pointed at a Redis port where nothing listens, with eager
mode off, as on a production machine whose Redis is down. What would have
been queued is logged as "failed to queue <task>"; the visitor never sees a 500.
"""

from __future__ import annotations

import logging
import time

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.urls import reverse

from bzpeer.celery import app as celery_app
from bzpeer.lib import tasks as task_helpers
from profiles import claims
from profiles.models import Claim, Follow
from profiles.tasks import recompute_trust
from tests.factories import UserFactory
from works import runs
from works.models import ImportRun

REFUSING_BROKER = "redis://127.0.0.1:1/0"

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker_down(caplog):
    conf = celery_app.conf
    saved = conf.broker_url, conf.task_always_eager

    def drop_connections():
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    drop_connections()
    conf.broker_url, conf.task_always_eager = REFUSING_BROKER, False
    task_helpers.forget_broker_failures()
    caplog.set_level(logging.ERROR, logger="bzpeer.lib.tasks")
    yield caplog
    drop_connections()
    conf.broker_url, conf.task_always_eager = saved
    task_helpers.forget_broker_failures()


def failed_to_queue(caplog) -> list[str]:
    return [
        record.getMessage().split(":")[0]
        for record in caplog.records
        if record.name == "bzpeer.lib.tasks"
    ]


def test_enqueue_logs_and_carries_on_when_the_broker_refuses(broker_down):
    started = time.monotonic()
    assert task_helpers.enqueue(recompute_trust, 1, countdown=30) is False
    # the next call does not even try for a while: a page queueing several
    # tasks pays for the failure once
    assert task_helpers.enqueue(recompute_trust, 2) is False
    assert time.monotonic() - started < 2
    assert failed_to_queue(broker_down) == [
        "failed to queue profiles.recompute_trust",
        "failed to queue profiles.recompute_trust",
    ]
    assert "Connection refused" in broker_down.records[0].getMessage()


def test_enqueue_on_commit_waits_for_the_commit_and_queues_nothing_on_rollback(
    broker_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        task_helpers.enqueue_on_commit(recompute_trust, 1)
    assert len(callbacks) == 1
    assert failed_to_queue(broker_down) == ["failed to queue profiles.recompute_trust"]

    broker_down.clear()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                task_helpers.enqueue_on_commit(recompute_trust, 2)
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
    assert callbacks == []
    assert failed_to_queue(broker_down) == []


def test_pages_serve(broker_down, client, demo):
    for url in (
        reverse("profiles:home"),
        demo.get_absolute_url(),
        reverse("profiles:trust", args=[demo.slug]),
        reverse("profiles:search") + "?q=zhang",
        reverse("healthz"),
    ):
        assert client.get(url).status_code == 200, url


def test_a_follow_saves_and_its_trust_recompute_is_logged(
    broker_down, client, demo, django_capture_on_commit_callbacks
):
    follower = UserFactory(verified=True)
    client.force_login(follower)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("profiles:follow", args=[demo.slug]))
    assert response.status_code == 302
    assert Follow.objects.filter(user=follower, record=demo).exists()
    assert "failed to queue profiles.recompute_trust" in failed_to_queue(broker_down)


def test_a_claim_saves_and_its_decision_email_is_logged(
    broker_down, client, demo, django_capture_on_commit_callbacks
):
    claimant = UserFactory(verified=True)
    client.force_login(claimant)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("profiles:claim", args=[demo.slug]),
            {"orcid": "", "links": "", "statement": "This is me."},
        )
    assert response.status_code == 302
    claim = Claim.objects.get(user=claimant, record=demo)
    assert claim.state == Claim.State.PENDING

    admin = UserFactory(is_staff=True, is_superuser=True)
    with django_capture_on_commit_callbacks(execute=True):
        claims.approve_claim(claim, by=admin, reason="Checked the email domain.")
    claim.refresh_from_db()
    assert claim.state == Claim.State.APPROVED
    assert "failed to queue profiles.send_claim_decision" in failed_to_queue(broker_down)


def test_a_harvest_queued_while_the_broker_is_down_waits_with_a_note(
    broker_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        run = runs.start_run(
            source=ImportRun.Source.API_IDS, parameters={"ids": "1605.08386"}, queue=True
        )
    run.refresh_from_db()
    assert run.state == ImportRun.State.QUEUED  # resume_stale_runs picks it up later
    assert "could not reach the task queue" in run.errors[-1]
    assert failed_to_queue(broker_down) == ["failed to queue works.run_import"]


@pytest.mark.django_db(transaction=True)
def test_import_arxiv_queue_says_the_run_was_not_queued(broker_down):
    # transaction=True: the command runs in autocommit, as it does for real, so the
    # run is handed to the (refusing) broker before the command reports.
    with pytest.raises(CommandError, match=r"run #\d+ created but not queued: .*task queue"):
        call_command("import_arxiv", "--ids", "1605.08386", "--queue")
    assert ImportRun.objects.get().state == ImportRun.State.QUEUED


# --- Redis down altogether: the cache (same server) is unreachable too ----------------------


@pytest.fixture
def redis_down(broker_down, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "bzpeer.lib.cache.ForgivingRedisCache",
            "LOCATION": REFUSING_BROKER,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    from django.core.cache import cache

    cache._cache._down_until = 0.0  # a fresh client for each test
    yield broker_down


def test_an_unreachable_cache_answers_like_an_empty_one(redis_down):
    from django.core.cache import cache

    started = time.monotonic()
    assert cache.get("k", "fallback") == "fallback"
    assert cache.add("k", 1) is False
    cache.set("k", 1)
    assert cache.get_many(["a", "b"]) == {}
    assert cache.get_or_set("k", lambda: "computed") == "computed"
    with pytest.raises(ValueError):
        cache.incr("k")
    assert cache.delete("k") is False
    assert time.monotonic() - started < 2
    assert any(
        "cache unreachable" in record.getMessage()
        for record in redis_down.records
        if record.name == "bzpeer.lib.cache"
    )


def test_pages_serve_and_follows_save_with_redis_down(
    redis_down, client, demo, django_capture_on_commit_callbacks
):
    assert client.get(demo.get_absolute_url()).status_code == 200
    assert client.get(reverse("profiles:search") + "?q=zhang").status_code == 200
    follower = UserFactory(verified=True)
    client.force_login(follower)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("profiles:follow", args=[demo.slug]))
    assert response.status_code == 302
    assert Follow.objects.filter(user=follower, record=demo).exists()
