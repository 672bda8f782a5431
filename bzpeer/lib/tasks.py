"""Queue Celery tasks without ever failing the request that queues them.

On the embedded default (no broker configured) Celery runs tasks eagerly, so
``enqueue`` simply runs the task in-process. With a broker, a broker that is
down or unreachable must not turn a saved follow or claim into a 500: the
failure is logged ("failed to queue <task name>") and swallowed. What was not
queued is caught up later: trust by the nightly sweep, import runs by
``works.resume_stale_runs`` (a queued run nobody picked up).
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from typing import Any

from celery import Task, current_app
from django.db import transaction
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

# What a broker that refuses connections, times out or drops them raises while
# publishing. OSError covers refused and reset sockets raised before kombu wraps
# them.
BROKER_ERRORS = (KombuOperationalError, RedisConnectionError, RedisTimeoutError, OSError)

# A broker that hangs costs a publish its socket time-out (seconds, see
# CELERY_BROKER_TRANSPORT_OPTIONS). After one failure this process stops trying
# for a while, so a request that queues several tasks, or the next hundred
# requests, do not each wait that long.
BROKER_RETRY_AFTER_SECONDS = 10.0

_lock = threading.Lock()
_broker_down_until: dict[str, float] = {}


def _broker_key(task: Task) -> str:
    conf = task.app.conf
    return str(conf.broker_write_url or conf.broker_url)


def _marked_down(key: str) -> bool:
    with _lock:
        return _broker_down_until.get(key, 0.0) > time.monotonic()


def _mark_down(key: str) -> None:
    with _lock:
        _broker_down_until[key] = time.monotonic() + BROKER_RETRY_AFTER_SECONDS


def forget_broker_failures() -> None:
    """Try the broker again on the next ``enqueue`` (tests; a broker known to be back)."""
    with _lock:
        _broker_down_until.clear()


def named_task(task: Task | str) -> Task:
    """The task itself, from a task or its registered name ("graph.rebuild_edges").

    Domain modules queue tasks by name: they never import a ``tasks`` module, which imports
    them, so the import graph stays acyclic (the layers contract in pyproject.toml).
    """
    if not isinstance(task, str):
        return task
    registry = current_app.tasks
    if task not in registry:
        # A task is registered when its module is imported. A worker imports every app's
        # tasks module as it starts (Celery's autodiscovery); a web process or a management
        # command never does, so the first look-up by name imports them the same way.
        current_app.loader.import_default_modules()
    return registry[task]


def enqueue(task: Task | str, *args: Any, countdown: float | None = None, **kwargs: Any) -> bool:
    """Queue ``task(*args, **kwargs)`` now; return whether it was queued (or ran eagerly).

    ``task`` is a task or its name. ``countdown`` delays the task on a real broker; eager mode
    runs it at once. Errors raised by an eager task propagate (they are bugs); broker errors
    do not.
    """
    task = named_task(task)
    # The plainest call that says it all (delay, or apply_async for a countdown),
    # so tests may stub either as they would without this helper.
    if countdown is None:
        publish = functools.partial(task.delay, *args, **kwargs)
    else:
        options: dict[str, Any] = {"args": list(args), "countdown": countdown}
        if kwargs:
            options["kwargs"] = kwargs
        publish = functools.partial(task.apply_async, **options)
    eager = task.app.conf.task_always_eager
    key = "" if eager else _broker_key(task)
    if not eager and _marked_down(key):
        log.error("failed to queue %s: the broker failed moments ago", task.name)
        return False
    try:
        # CELERY_TASK_PUBLISH_RETRY_POLICY keeps the publish retries short, so a
        # visitor does not wait for a broker that is not there.
        publish()
    except BROKER_ERRORS as error:
        if eager:
            raise  # an eager task's own error, not the broker's
        _mark_down(key)
        log.error("failed to queue %s: %s: %s", task.name, type(error).__name__, error)
        return False
    return True


def enqueue_on_commit(
    task: Task | str, *args: Any, countdown: float | None = None, **kwargs: Any
) -> None:
    """``enqueue`` once the current transaction commits (nothing if it rolls back).

    The task then never reads a row before it is visible to the worker.
    """
    transaction.on_commit(lambda: enqueue(task, *args, countdown=countdown, **kwargs))
