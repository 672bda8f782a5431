"""Worker processes (bzpeer.lib.processes): forked from a server that has Django set up."""

import os

from django.apps import apps

from bzpeer.lib.processes import parallel_map, worker_context


def _what_the_worker_has(_item) -> tuple[bool, int]:
    return apps.ready, os.getppid()


def test_a_worker_starts_with_django_set_up_without_an_initializer():
    # No initializer here: only the fork server's preload can have set the apps up.
    with worker_context().Pool(1) as pool:
        ready, parent = pool.apply(_what_the_worker_has, (None,))

    assert ready
    # Forked from the server, not from this process and the database socket it holds.
    assert parent != os.getpid()


def test_parallel_map_gives_results_in_input_order_from_its_workers():
    results = list(parallel_map(abs, [-3, 1, -2, 5, -4], workers=2))

    assert results == [3, 1, 2, 5, 4]
