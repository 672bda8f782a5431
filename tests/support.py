"""Paths and small helpers shared by test modules (importable as ``support``)."""

from pathlib import Path

TESTS = Path(__file__).resolve().parent
FIXTURES = TESTS / "fixtures" / "arxiv"
DEMO_FILE = TESTS.parent / "works" / "demo" / "zhengyan-zhang.arxivraw.xml"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


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
