"""Paths and small helpers shared by test modules (importable as ``support``)."""

from pathlib import Path

from celery._state import _set_task_join_will_block

TESTS = Path(__file__).resolve().parent
FIXTURES = TESTS / "fixtures" / "arxiv"
DEMO_FILE = TESTS.parent / "works" / "demo" / "zhengyan-zhang.arxivraw.xml"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def wait_until(page, expression: str, arg=None, *, timeout_ms: int = 20_000) -> None:
    """Wait until a JavaScript expression (or function of `arg`) is true in the page.

    Playwright's own page.wait_for_function runs its predicate through eval(), which the site's
    Content-Security-Policy refuses; page.evaluate goes through the DevTools protocol instead.
    """
    import time

    deadline = time.monotonic() + timeout_ms / 1000
    while not page.evaluate(expression, arg):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout_ms} ms: {expression}")
        page.wait_for_timeout(100)


def delete_redis_namespace(client, namespace: str) -> int:
    """Delete every key under ``namespace:`` with the redis-py ``client``; return how many.

    What the suite does instead of FLUSHDB: the processes of a parallel run share one Redis
    database, each under its own namespace (tests/settings.py), and flushing the database
    would take the other processes' cache entries and queued tasks with it.
    """
    deleted = 0
    batch: list[bytes] = []
    for key in client.scan_iter(match=f"{namespace}:*", count=1000):
        batch.append(key)
        if len(batch) == 1000:
            deleted += client.unlink(*batch)
            batch.clear()
    if batch:
        deleted += client.unlink(*batch)
    return deleted


def leave_any_task() -> None:
    """Clear Celery's "inside a task" flag, which threads share and can leave set.

    It is one global: an eager task sets it and restores, on leaving, what it saw on entry.
    When two threads (a live server's requests) run eager tasks and the first to start is
    the first to finish, the second restores "inside", and every later EagerResult.get() in
    the process raises "Never call result.get() within a task!".
    """
    _set_task_join_will_block(False)
