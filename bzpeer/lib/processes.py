"""Worker processes for parallel work on the database.

Forked from a fork server, never from the process asking for them: a child forked from that
process would share its database socket. The server is a fresh Python that set Django up once
(`forkserver_preload`), so a worker starts in milliseconds where a spawned one spent about
0.9 s of CPU importing Django, the apps and the identity model; a load or a day's increment
starts two of them, and the test suite about fifty pools.

The initializer must be importable before Django is set up, so it lives here, away from any
module that imports models.
"""

import itertools
import multiprocessing
import multiprocessing.forkserver
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

import django
from django.conf import settings
from django.db import connection
from threadpoolctl import threadpool_limits

T = TypeVar("T")
R = TypeVar("R")


def worker_context() -> multiprocessing.context.BaseContext:
    """The start method of every worker process: forked from this process's fork server.

    The server starts with the first pool and lives as long as this process, with the
    environment of that moment (DJANGO_SETTINGS_MODULE; a test's or a benchmark's database
    name is each pool's initializer argument, as with spawned workers).
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["bzpeer.lib.forkserver_preload"])
    return context


def warm_up() -> None:
    """Start this process's fork server now, without waiting for it: it sets Django up (about
    a second of CPU) on another core while this process does other work, instead of the
    first pool waiting for it."""
    worker_context()
    multiprocessing.forkserver.ensure_running()


def start_django(database_name: str | None = None) -> None:
    """Set Django up in a worker (the fork server did; again here when it could not), on the
    database the parent works on (a test database, a benchmark's) rather than the one the
    environment names. Its numerical libraries get one thread (:func:`one_blas_thread`)."""
    one_blas_thread()
    django.setup()
    if database_name:
        settings.DATABASES["default"]["NAME"] = database_name


def one_blas_thread() -> None:
    """This process's BLAS (OpenBLAS, under numpy and scipy) runs on one thread.

    For the processes that run side by side, as many as the machine has cores: pool workers
    and Celery's. OpenBLAS starts a thread per core in each of them, and with every core
    taken those threads wait for one, spinning. The 40 largest blocks of a 200,000-record
    first load clustered by two pool workers on 2 cores, five runs alternating with the tree
    before: median 48.1 s wall and 88.2 s CPU with OpenBLAS's threads, 42.8 s and 79.2 s on
    one (bench/README.md). Set at run time: the fork server loaded the library before any
    worker existed, so an environment variable would come too late.
    """
    threadpool_limits(limits=1, user_api="blas")


def parallel_map(
    function: Callable[[T], R],
    items: Iterable[T],
    workers: int,
    *,
    in_flight: int = 2,
    tasks_per_process: int | None = None,
) -> Iterator[R]:
    """``function`` over ``items`` in ``workers`` processes, results in input order.

    At most ``in_flight`` tasks per process are submitted at a time, so ``items`` may be a
    long generator: neither the tasks nor the results pile up in this process. Each process
    works on the database this one works on. With ``workers`` 0 everything runs here.

    With ``tasks_per_process``, fresh processes take over after every ``workers`` times that
    many tasks: what a long run's processes keep between tasks (caches, the allocator's
    free lists) then stays bounded. The executor's own ``max_tasks_per_child`` deadlocks on
    Python 3.11 (CPython gh-115634), so each such stretch gets an executor of its own.
    """
    if not workers:
        yield from map(function, items)
        return
    items = iter(items)
    stretch = workers * tasks_per_process if tasks_per_process else None
    while (first := next(items, _NONE_LEFT)) is not _NONE_LEFT:
        rest = itertools.islice(items, stretch - 1) if stretch else items
        yield from _in_processes(function, itertools.chain([first], rest), workers, in_flight)


_NONE_LEFT = object()


def _in_processes(
    function: Callable[[T], R], items: Iterator[T], workers: int, in_flight: int
) -> Iterator[R]:
    database_name = connection.settings_dict["NAME"]
    # An executor, not a Pool: a worker that cannot start breaks it at once (a Pool would
    # start replacements forever).
    with ProcessPoolExecutor(
        workers,
        mp_context=worker_context(),
        initializer=start_django,
        initargs=(database_name,),
    ) as executor:
        pending: deque = deque()
        for item in items:
            pending.append(executor.submit(function, item))
            if len(pending) >= workers * in_flight:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
