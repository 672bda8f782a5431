"""Copies kept in a process's memory, dropped when any process says so (over Redis)."""

import time

import pytest
from django.conf import settings

from bzpeer.lib.local_copies import LocalCopies

needs_redis = pytest.mark.skipif(
    not settings.REDIS_URL, reason="the copies listen on a Redis channel"
)


def _later() -> float:
    return time.time() + 60


def _dropped_soon(copies: LocalCopies, key: str) -> bool:
    """Redis answers the publisher and writes to subscribers in the same pass of its event
    loop, in no set order: on a loaded machine the drop can reach the reader a moment after the
    writer's call returned (a CI run read the copy once more). Within two seconds it must."""
    deadline = time.monotonic() + 2
    while copies.get(key) is not None:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.001)
    return True


@needs_redis
def test_a_drop_in_another_process_reaches_the_reader_at_once():
    reader, writer = LocalCopies("test:copies", size=10), LocalCopies("test:copies", size=10)
    reader.put("page", "<html>1</html>", tag=7, expires=_later())
    reader.put("other", "<html>2</html>", tag=8, expires=_later())
    assert reader.get("page") == "<html>1</html>"

    writer.drop([7])

    assert _dropped_soon(reader, "page")
    assert reader.get("other") == "<html>2</html>"
    writer.drop_everything()
    assert _dropped_soon(reader, "other")


@needs_redis
def test_copies_expire_and_the_oldest_make_room():
    copies = LocalCopies("test:copies", size=2)
    copies.put("stale", "x", tag=1, expires=time.time() - 1)
    assert copies.get("stale") is None
    for key in ("a", "b", "c"):
        copies.put(key, key, tag=1, expires=_later())
    assert [copies.get(key) for key in ("a", "b", "c")] == [None, "b", "c"]


def test_without_redis_nothing_is_kept(settings):
    settings.REDIS_URL = ""
    copies = LocalCopies("test:copies", size=10)
    copies.put("page", "x", tag=1, expires=_later())
    assert copies.get("page") is None
