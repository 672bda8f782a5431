"""Worker processes (bzpeer.lib.processes): forked from a server that has Django set up."""

import contextlib
import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from celery.signals import worker_process_init
from django.apps import apps
from django.conf import settings
from threadpoolctl import threadpool_info, threadpool_limits

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


def _blas_threads(_item=None) -> int:
    return max(info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas")


def test_a_pool_worker_runs_blas_on_one_thread_and_leaves_its_parent_as_it_was():
    parent_threads = _blas_threads()

    assert list(parallel_map(_blas_threads, [None], workers=1)) == [1]
    assert _blas_threads() == parent_threads


def test_a_celery_worker_child_runs_blas_on_one_thread():
    before = _blas_threads()
    try:
        worker_process_init.send(sender=None)  # what a prefork child sends when it starts

        assert _blas_threads() == 1
    finally:
        threadpool_limits(limits=before, user_api="blas")


def _item_and_process(item: int) -> tuple[int, int]:
    return item, os.getpid()


def test_parallel_map_hands_over_to_fresh_processes_after_their_share_of_tasks():
    results = list(parallel_map(_item_and_process, range(9), workers=2, tasks_per_process=2))

    assert [item for item, _ in results] == list(range(9))
    # Stretches of 2 x 2 tasks (items 0-3, 4-7, 8), each in processes of its own.
    processes_by_stretch = [{pid for item, pid in results if item // 4 == k} for k in range(3)]
    for k, processes in enumerate(processes_by_stretch):
        others = set().union(*processes_by_stretch[:k], *processes_by_stretch[k + 1 :])
        assert processes and not processes & others
        assert os.getpid() not in processes


def _timed(task: tuple[str, float]) -> tuple[str, float, float]:
    kind, seconds = task
    started = time.monotonic()
    time.sleep(seconds)
    return kind, started, time.monotonic()


def _is_heavy(task: tuple[str, float]) -> bool:
    return task[0] == "heavy"


def test_two_heavy_tasks_never_run_at_once_and_light_ones_fill_the_wait():
    tasks = [("heavy", 0.4), ("heavy", 0.4), ("heavy", 0.4)] + [("light", 0.05)] * 12

    results = list(parallel_map(_timed, tasks, workers=2, heavy=_is_heavy))

    assert [kind for kind, _, _ in results] == [kind for kind, _ in tasks]  # input order
    heavy = sorted((start, end) for kind, start, end in results if kind == "heavy")
    for (_, end), (next_start, _) in itertools.pairwise(heavy):
        assert next_start >= end
    # The light tasks, read after all three heavy ones, ran beside the first of them.
    first_end = heavy[0][1]
    assert any(start < first_end for kind, start, _ in results if kind == "light")


def _kind_span_and_process(task: tuple) -> tuple[str, float, float, int]:
    """(kind, start, end, process) of a timed task. A task carrying a directory (the first
    light ones) also waits, up to 10 s, until a task of another process has started: on a busy
    machine the second process can start after the first has run all five alone, and whether
    two ran at once must not depend on that."""
    kind, seconds, *partners = task
    started = time.monotonic()
    if partners:
        folder = Path(partners[0])
        (folder / str(os.getpid())).touch()
        while len(list(folder.iterdir())) < 2 and time.monotonic() < started + 10:
            time.sleep(0.01)
    time.sleep(seconds)
    return kind, started, time.monotonic(), os.getpid()


def test_a_task_marked_alone_runs_with_no_other_task_and_in_a_process_of_its_own(tmp_path):
    tasks = [("light", 0.05, str(tmp_path))] * 5 + [("alone", 0.2)] + [("light", 0.05)] * 5
    tasks += [("alone", 0.2), ("alone", 0.2), ("light", 0.05)]

    results = list(
        parallel_map(
            _kind_span_and_process, tasks, workers=2, alone=lambda task: task[0] == "alone"
        )
    )

    assert [kind for kind, *_ in results] == [kind for kind, *_ in tasks]  # input order
    alone = [(start, end, pid) for kind, start, end, pid in results if kind == "alone"]
    others = [(start, end, pid) for kind, start, end, pid in results if kind != "alone"]
    for start, end, pid in alone:
        # Nothing ran beside it, and no process that ran anything else was alive then: a
        # process of its own (a process id is reused only long after its process ended).
        assert not any(s < end and start < e for s, e, _ in others)
        assert pid not in {p for _, _, p in others}
        assert [p for _, _, p in alone].count(pid) == 1
    # The light tasks on either side of the first alone task still ran two at a time.
    assert any(
        s < e2 and s2 < e for (s, e, _), (s2, e2, _) in itertools.combinations(others[:5], 2)
    )


def test_tasks_marked_alone_keep_the_stretches_of_fresh_processes():
    items = [0, 1, 2, "alone", 3, 4, 5, 6, 7]

    results = list(
        parallel_map(
            _item_and_process,
            items,
            workers=2,
            tasks_per_process=2,
            alone=lambda item: item == "alone",
        )
    )

    assert [item for item, _ in results] == items
    by_item = dict(results)
    # Items 0-2 before it, then stretches of 2 x 2 tasks (3-6) and the rest (7).
    assert {by_item[0], by_item[1], by_item[2]}.isdisjoint({by_item[3], by_item["alone"]})
    assert {by_item[3], by_item[6]}.isdisjoint({by_item[7]})


def test_without_heavy_tasks_the_queue_runs_each_task_once_in_order():
    results = list(parallel_map(_item_and_process, range(50), workers=3, in_flight=1))

    assert [item for item, _ in results] == list(range(50))


def _fail_on_three(item: int) -> int:
    if item == 3:
        raise ValueError("three")
    return item


def test_a_failed_task_raises_when_its_turn_comes():
    results = parallel_map(_fail_on_three, range(6), workers=2, heavy=lambda item: item % 2 == 1)

    assert [next(results) for _ in range(3)] == [0, 1, 2]
    with pytest.raises(ValueError, match="three"):
        next(results)


_FORK_SERVERS_AFTER = """
import os, sys
from bzpeer.lib import processes
if sys.argv[1] == "warm":
    processes.warm_up()
servers = []
for entry in filter(str.isdigit, os.listdir("/proc")):
    try:
        with open(f"/proc/{entry}/stat") as stat, open(f"/proc/{entry}/cmdline", "rb") as cmd:
            parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            command = cmd.read()
    except OSError:
        continue  # gone meanwhile
    if parent == os.getpid() and b"forkserver" in command:
        servers.append(entry)
print(len(servers))
"""


def _fork_servers_after(step: str) -> int:
    """Fork servers a fresh Python has as children after ``step`` (this one may already
    have its own, from an earlier test)."""
    done = subprocess.run(
        [sys.executable, "-c", _FORK_SERVERS_AFTER, step],
        capture_output=True,
        text=True,
        check=True,
        cwd=settings.BASE_DIR,
    )
    return int(done.stdout)


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads /proc (Linux)")
def test_warming_up_starts_the_fork_server_before_any_pool():
    assert _fork_servers_after("nothing") == 0
    assert _fork_servers_after("warm") == 1


_KILLED_WHILE_WORKING = """
import os, sys, time
from pathlib import Path

import django


def note_and_wait(folder):
    Path(folder, str(os.getpid())).touch()
    time.sleep(120)


if __name__ == "__main__":
    django.setup()
    from bzpeer.lib.processes import parallel_map

    list(parallel_map(note_and_wait, [sys.argv[1]] * 4, workers=2))
"""


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False  # ended and reaped


@pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="needs pidfd_open (Linux 5.3+)")
def test_workers_end_with_the_process_they_work_for_when_it_is_killed(tmp_path):
    script = tmp_path / "killed_while_working.py"
    script.write_text(_KILLED_WHILE_WORKING)
    started = tmp_path / "started"
    started.mkdir()
    environment = {**os.environ, "PYTHONPATH": str(settings.BASE_DIR)}
    # Its stderr kept aside: the killed loader's resource tracker reports the semaphores
    # it was not told to clean up.
    errors = tmp_path / "stderr"
    with errors.open("w") as stderr:
        loader = subprocess.Popen(
            [sys.executable, str(script), str(started)], env=environment, stderr=stderr
        )
    try:
        deadline = time.monotonic() + 60
        while len(os.listdir(started)) < 2:
            assert loader.poll() is None, errors.read_text()
            assert time.monotonic() < deadline, "the workers never started"
            time.sleep(0.05)
        workers = [int(name) for name in os.listdir(started)]

        loader.kill()  # SIGKILL, as the OOM killer or an operator stops it: no cleanup
        loader.wait()

        deadline = time.monotonic() + 10
        while any(map(_running, workers)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(map(_running, workers)), "workers outlived the killed loader"
    finally:
        loader.kill()
        for name in os.listdir(started):
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(name), signal.SIGKILL)
