"""Copies of cached values in this process's memory, dropped as soon as any process says so.

Reading a value from Redis costs a round trip, which on a busy machine is most of what a
cached page costs (the Redis process has to get a CPU first). ``LocalCopies`` keeps the values
this process used lately, each with a tag (a record id), and listens on a Redis channel:
``drop(tags)`` drops them here and publishes the tags, and every process applies what was
published before it serves a copy. That costs a non-blocking read of the subscription's
socket, not a round trip. Redis writes a published message to the subscribers' sockets in the
same pass of its event loop as its answer to the publisher, in no set order, so the message
waits in every reader's socket moments after the writer's call returns: before any
request a person makes after their change, though not always before a read the same thread
makes at once (tests/test_local_copies.py).

A copy is served only while the subscription is known to be live: until this process has
subscribed (after a fork, at start), while Redis is unreachable, or after the connection
broke (messages may have been lost; every copy goes), ``get`` answers None and callers use
the shared cache. Copies also expire on their own, which bounds what a silently dead
connection could leave stale.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

import redis
from django.conf import settings
from django.core.cache import cache

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5.0
_EVERYTHING = "*"


@dataclass(frozen=True, slots=True)
class _Copy:
    value: object
    tag: str
    expires: float


class LocalCopies:
    def __init__(self, channel: str, *, size: int):
        self._channel_name = channel
        self._size = size
        self._copies: OrderedDict[Hashable, _Copy] = OrderedDict()
        self._lock = threading.RLock()
        self._pid: int | None = None
        self._client: redis.Redis | None = None
        self._pubsub = None
        self._retry_at = 0.0

    def get(self, key: Hashable):
        """The value kept under ``key``, or None (absent, expired, dropped, or not listening)."""
        with self._lock:
            if not self._listening():
                return None
            copy = self._copies.get(key)
            if copy is None:
                return None
            if copy.expires <= time.time():
                del self._copies[key]
                return None
            self._copies.move_to_end(key)
            return copy.value

    def put(self, key: Hashable, value, *, tag, expires: float) -> None:
        """Keep a value read or written now (``expires``: a ``time.time()``)."""
        with self._lock:
            if not self._listening():
                return
            self._copies[key] = _Copy(value, str(tag), expires)
            self._copies.move_to_end(key)
            while len(self._copies) > self._size:
                self._copies.popitem(last=False)

    def clear(self) -> None:
        """Drop this process's copies only."""
        with self._lock:
            self._copies.clear()

    def drop(self, tags: Iterable) -> None:
        """Drop the copies with these tags here and in every listening process."""
        self._drop_and_publish(",".join(str(tag) for tag in tags))

    def drop_everything(self) -> None:
        self._drop_and_publish(_EVERYTHING)

    def _drop_and_publish(self, message: str) -> None:
        if not message:
            return
        with self._lock:
            self._apply(message)
        client = self._redis()
        if client is None:
            return
        try:
            client.publish(self._channel(), message)
        except (redis.RedisError, OSError) as error:
            # Those who missed it keep their copies until they expire.
            log.error("could not publish dropped copies: %s: %s", type(error).__name__, error)

    # --- Listening -------------------------------------------------------------------------

    def _listening(self) -> bool:
        """Apply what other processes published; False when copies cannot be trusted."""
        if self._pid != os.getpid():
            self._reset()
        if self._pubsub is None and not self._subscribe():
            return False
        try:
            while (message := self._pubsub.get_message(timeout=0)) is not None:
                if message["type"] == "message":
                    self._apply(message["data"].decode())
        except (redis.RedisError, OSError, ValueError) as error:
            log.error("lost the dropped-copies channel: %s: %s", type(error).__name__, error)
            self._reset(retry_later=True)
            return False
        return True

    def _subscribe(self) -> bool:
        client = self._redis()
        if client is None or time.monotonic() < self._retry_at:
            return False
        try:
            pubsub = client.pubsub()
            pubsub.subscribe(self._channel())
            # Trust nothing before Redis has confirmed: a drop published earlier is lost.
            deadline = time.monotonic() + 2
            while time.monotonic() < deadline:
                message = pubsub.get_message(timeout=0.5)
                if message is not None and message["type"] == "subscribe":
                    self._copies.clear()
                    self._pubsub = pubsub
                    return True
            raise redis.TimeoutError("no subscription confirmed")
        except (redis.RedisError, OSError) as error:
            log.error("cannot listen for dropped copies: %s: %s", type(error).__name__, error)
            self._reset(retry_later=True)
            return False

    def _apply(self, message: str) -> None:
        if message == _EVERYTHING:
            self._copies.clear()
            return
        tags = set(message.split(","))
        for key in [key for key, copy in self._copies.items() if copy.tag in tags]:
            del self._copies[key]

    def _reset(self, *, retry_later: bool = False) -> None:
        self._copies.clear()
        if self._pubsub is not None and self._pid == os.getpid():
            with contextlib.suppress(redis.RedisError, OSError):
                self._pubsub.close()
        self._pubsub = None
        if self._pid != os.getpid():
            # A forked child must not share its parent's sockets.
            self._client = None
            self._pid = os.getpid()
        if retry_later:
            self._retry_at = time.monotonic() + RETRY_AFTER_SECONDS

    def _redis(self) -> redis.Redis | None:
        if not settings.REDIS_URL:
            return None
        if self._client is None or self._pid != os.getpid():
            if self._pid != os.getpid():
                self._reset()
            self._client = redis.Redis.from_url(
                settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=2
            )
        return self._client

    def _channel(self) -> str:
        # The cache's key prefix keeps test namespaces and sites sharing a Redis apart.
        return cache.make_key(self._channel_name)
