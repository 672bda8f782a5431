"""A Redis cache that behaves like an empty cache while Redis is unreachable.

Redis is both the Celery broker and the cache. When it goes away, pages must
keep serving (PRODUCT: the site works without it), so a cache call that cannot
reach Redis is logged and answered as a miss: ``get`` returns the default,
``add`` says the key was not added, ``incr`` raises ``ValueError`` as for a
missing key. Cached pages are then computed every time, rate limits let
requests through (a count that cannot be stored cannot be exceeded) and the
trust debounce queues every event; all of that stops when Redis is back.
After one failure the process skips Redis for a few seconds, so a page that
reads the cache ten times does not wait for ten connection time-outs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
RETRY_AFTER_SECONDS = 5.0


def _missing_key():
    raise ValueError("the cache is unreachable")


class ForgivingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._lock = threading.Lock()
        self._down_until = 0.0
        self._clients: dict[int, Any] = {}

    def get_client(self, key=None, *, write=False):
        # Django builds a client per call, and redis-py's constructor fills its table of reply
        # callbacks each time (about 0.2 ms, most of a cached page's cost). A client only
        # borrows connections from its pool, which is thread- and fork-safe: one per pool.
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients.setdefault(id(pool), self._client(connection_pool=pool))
        return client

    def _call(self, method: str, on_miss: Callable[[], Any], *args):
        """``super().method(*args)``, or ``on_miss()`` when Redis cannot be reached."""
        with self._lock:
            skip = self._down_until > time.monotonic()
        if not skip:
            try:
                return getattr(super(), method)(*args)
            except UNREACHABLE as error:
                with self._lock:
                    self._down_until = time.monotonic() + RETRY_AFTER_SECONDS
                log.error(
                    "cache unreachable, treated as empty: %s: %s", type(error).__name__, error
                )
        return on_miss()

    def add(self, key, value, timeout):
        return self._call("add", lambda: False, key, value, timeout)

    def get(self, key, default):
        return self._call("get", lambda: default, key, default)

    def set(self, key, value, timeout):
        return self._call("set", lambda: None, key, value, timeout)

    def touch(self, key, timeout):
        return self._call("touch", lambda: False, key, timeout)

    def delete(self, key):
        return self._call("delete", lambda: False, key)

    def get_many(self, keys):
        return self._call("get_many", dict, keys)

    def has_key(self, key):
        return self._call("has_key", lambda: False, key)

    def incr(self, key, delta):
        # What Django raises for a missing key; callers already handle it.
        return self._call("incr", _missing_key, key, delta)

    def set_many(self, data, timeout):
        return self._call("set_many", list, data, timeout)

    def delete_many(self, keys):
        return self._call("delete_many", lambda: None, keys)

    def clear(self):
        return self._call("clear", lambda: False)


class ForgivingRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ForgivingRedisCacheClient
