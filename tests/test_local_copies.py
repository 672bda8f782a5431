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


@needs_redis
def test_a_drop_in_another_process_is_seen_before_the_next_read():
    reader, writer = LocalCopies("test:copies", size=10), LocalCopies("test:copies", size=10)
    reader.put("page", "<html>1</html>", tag=7, expires=_later())
    reader.put("other", "<html>2</html>", tag=8, expires=_later())
    assert reader.get("page") == "<html>1</html>"

    writer.drop([7])

    assert reader.get("page") is None
    assert reader.get("other") == "<html>2</html>"
    writer.drop_everything()
    assert reader.get("other") is None


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
