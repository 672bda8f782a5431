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
import os
import select
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
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


def start_django(database_name: str | None = None, parent_pid: int | None = None) -> None:
    """Set Django up in a worker (the fork server did; again here when it could not), on the
    database the parent works on (a test database, a benchmark's) rather than the one the
    environment names. Its numerical libraries get one thread (:func:`one_blas_thread`), and
    it ends with ``parent_pid`` (:func:`exit_with`)."""
    if parent_pid:
        exit_with(parent_pid)
    one_blas_thread()
    django.setup()
    if database_name:
        settings.DATABASES["default"]["NAME"] = database_name


def exit_with(parent_pid: int) -> None:
    """End this worker as soon as ``parent_pid``, the process it works for, ends.

    A worker's own parent is the fork server, and nothing else tells it that the process it
    works for was killed: each worker holds the write ends of its pool's queues and of the
    server's liveness pipe, so no read ever meets its end, and the workers, the server and
    its resource tracker wait for ever (a killed first load left its linking processes
    holding hundreds of MB). A thread waits on the parent's pidfd and ends the process at
    once: what it was doing belongs to a run that was stopped, and a run can be re-run.
    """
    try:
        parent = os.pidfd_open(parent_pid)
    except ProcessLookupError:
        os._exit(1)  # gone before this worker started
    except (AttributeError, OSError):
        return  # no pidfd (Linux before 5.3, another system): the old behaviour

    def wait_for_parent() -> None:
        select.select([parent], [], [])  # readable once the parent has ended
        os._exit(1)

    threading.Thread(target=wait_for_parent, name="exit-with-parent", daemon=True).start()


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
    heavy: Callable[[T], bool] | None = None,
    alone: Callable[[T], bool] | None = None,
) -> Iterator[R]:
    """``function`` over ``items`` in ``workers`` processes, results in input order.

    At most ``in_flight`` tasks per process are submitted at a time, so ``items`` may be a
    long generator: neither the tasks nor the results pile up in this process. Each process
    works on the database this one works on. With ``workers`` 0 everything runs here.

    With ``tasks_per_process``, fresh processes take over after every ``workers`` times that
    many tasks: what a long run's processes keep between tasks (caches, the allocator's
    free lists) then stays bounded. The executor's own ``max_tasks_per_child`` deadlocks on
    Python 3.11 (CPython gh-115634), so each such stretch gets an executor of its own.

    ``heavy`` marks the tasks that need so much memory that two of them must never run at
    once (a first load's largest identity blocks): one waits for the other, and the tasks
    behind it go to the free processes meanwhile (read up to LOOKAHEAD tasks per process
    ahead, their results held until it is their turn).

    ``alone`` marks the tasks that need so much memory that nothing else may hold any beside
    them (a first load's very largest blocks): the processes before them finish and exit, the
    task runs in a fresh process of its own, and fresh processes go on after it.
    """
    if not workers:
        yield from map(function, items)
        return
    items = _Peekable(items)
    is_alone = alone or (lambda _item: False)
    stretch = workers * tasks_per_process if tasks_per_process else None
    while (first := items.peek()) is not _NONE_LEFT:
        if is_alone(first):
            yield from _in_processes(function, iter([next(items)]), 1, 1, None)
            continue
        together = itertools.islice(items.until(is_alone), stretch)
        yield from _in_processes(function, together, workers, in_flight, heavy)


_NONE_LEFT = object()


class _Peekable:
    """An iterator whose next item can be looked at without taking it."""

    def __init__(self, items: Iterable):
        self.items = iter(items)
        self.ahead = _UNREAD  # the item looked at and not yet taken

    def __iter__(self):
        return self

    def __next__(self):
        item = self.peek()
        if item is _NONE_LEFT:
            raise StopIteration
        self.ahead = _UNREAD
        return item

    def peek(self):
        if self.ahead is _UNREAD:
            self.ahead = next(self.items, _NONE_LEFT)
        return self.ahead

    def until(self, stop: Callable) -> Iterator:
        """The items before the first one ``stop`` is true of, which stays to be taken."""
        while (item := self.peek()) is not _NONE_LEFT and not stop(item):
            yield next(self)


_UNREAD = object()


# Tasks read ahead of the oldest result still to give, per process: room for the light tasks
# that keep the other processes busy while a heavy one waits for its turn.
LOOKAHEAD = 16


def _in_processes(
    function: Callable[[T], R],
    items: Iterator[T],
    workers: int,
    in_flight: int,
    heavy: Callable[[T], bool] | None,
) -> Iterator[R]:
    database_name = connection.settings_dict["NAME"]
    # An executor, not a Pool: a worker that cannot start breaks it at once (a Pool would
    # start replacements forever).
    with ProcessPoolExecutor(
        workers,
        mp_context=worker_context(),
        initializer=start_django,
        initargs=(database_name, os.getpid()),
    ) as executor:
        queue = _TaskQueue(executor, function, heavy, workers * in_flight, workers * LOOKAHEAD)
        while (result := queue.next_result(items)) is not _NONE_LEFT:
            yield result


class _TaskQueue:
    """Tasks submitted in input order, except that a heavy task waits while another heavy
    one is unfinished and the light tasks after it go first; results given in input order."""

    def __init__(self, executor, function, heavy, running_limit: int, lookahead: int):
        self.executor = executor
        self.function = function
        self.heavy = heavy or (lambda _item: False)
        self.running_limit = running_limit
        self.lookahead = lookahead
        self.submitted: dict[int, Future] = {}
        self.held: deque[tuple[int, object]] = deque()  # heavy tasks waiting for their turn
        self.heavy_unfinished: Future | None = None
        self.read = 0  # tasks read from the input so far
        self.given = 0  # results given so far
        self.exhausted = False

    def next_result(self, items: Iterator):
        while True:
            self._submit_what_fits(items)
            if self.given == self.read and self.exhausted:
                return _NONE_LEFT
            oldest = self.submitted.get(self.given)
            if oldest is not None and oldest.done():
                del self.submitted[self.given]
                self.given += 1
                return oldest.result()
            wait(self._running(), return_when=FIRST_COMPLETED)

    def _running(self) -> list[Future]:
        return [future for future in self.submitted.values() if not future.done()]

    def _submit_what_fits(self, items: Iterator) -> None:
        if self.heavy_unfinished is not None and self.heavy_unfinished.done():
            self.heavy_unfinished = None
        if self.held and self.heavy_unfinished is None:
            self._submit(*self.held.popleft(), heavy=True)
        while (
            not self.exhausted
            and len(self._running()) < self.running_limit
            and self.read - self.given < self.lookahead
        ):
            item = next(items, _NONE_LEFT)
            if item is _NONE_LEFT:
                self.exhausted = True
                return
            index, self.read = self.read, self.read + 1
            if not self.heavy(item):
                self._submit(index, item, heavy=False)
            elif self.heavy_unfinished is None and not self.held:
                self._submit(index, item, heavy=True)
            else:
                self.held.append((index, item))

    def _submit(self, index: int, item, *, heavy: bool) -> None:
        future = self.executor.submit(self.function, item)
        self.submitted[index] = future
        if heavy:
            self.heavy_unfinished = future
