"""Worker processes for parallel work on the database (spawned: a forked child would share the
parent's database socket).

The initializer must be importable before Django is set up, so it lives here, away from any
module that imports models.
"""

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

import django
from django.conf import settings
from django.db import connection

T = TypeVar("T")
R = TypeVar("R")


def start_django(database_name: str | None = None) -> None:
    """Set Django up in a spawned worker, on the database the parent works on (a test database,
    a benchmark's) rather than the one the environment names."""
    django.setup()
    if database_name:
        settings.DATABASES["default"]["NAME"] = database_name


def parallel_map(
    function: Callable[[T], R], items: Iterable[T], workers: int, *, in_flight: int = 2
) -> Iterator[R]:
    """``function`` over ``items`` in ``workers`` spawned processes, results in input order.

    At most ``in_flight`` tasks per process are submitted at a time, so ``items`` may be a
    long generator: neither the tasks nor the results pile up in this process. Each process
    works on the database this one works on. With ``workers`` 0 everything runs here.
    """
    if not workers:
        yield from map(function, items)
        return
    database_name = connection.settings_dict["NAME"]
    # An executor, not a Pool: a worker that cannot start breaks it at once (a Pool would
    # start replacements forever).
    with ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
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
