"""Request spacing for arXiv: one request every N seconds, for everyone.

arXiv's Terms of Use count "one request every 3 seconds" across every machine
we control, so a per-process ``sleep(3)`` is not enough once several Celery
workers harvest at once. ``RedisSpacing`` keeps the next free slot in Redis and
reserves slots atomically with a Lua script, using Redis' own clock, so every
process on every machine shares one queue of slots. ``LocalSpacing`` does the
same with a lock inside one process, for the embedded default (no Redis).

``ArxivClient`` calls ``wait_turn()`` before every HTTP request (retries
included) and ``hold_off(seconds)`` when arXiv answers ``Retry-After``, so the
pause applies to every worker, not only the one that got the 503.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

import redis
from django.conf import settings  # read only by default_spacing, when configured

DEFAULT_KEY = "bzpeer:arxiv:next-slot"

# KEYS[1] = slot key, ARGV[1] = interval (s). Uses Redis TIME so that clock
# skew between machines does not matter. Returns {slot, now} as strings (a Lua
# number would be truncated to an integer on the way out).
_RESERVE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval = tonumber(ARGV[1])
local stored = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
local slot = now
if stored > slot then slot = stored end
local nxt = slot + interval
local ttl = math.ceil((nxt - now) * 1000) + 60000
redis.call('SET', KEYS[1], string.format('%.6f', nxt), 'PX', ttl)
return {string.format('%.6f', slot), string.format('%.6f', now)}
"""

# KEYS[1] = slot key, ARGV[1] = seconds. Pushes the next free slot to at least
# now + seconds (never pulls it earlier). Returns the stored next slot.
_HOLD_OFF_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local target = now + tonumber(ARGV[1])
local stored = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if target > stored then
  local ttl = math.ceil((target - now) * 1000) + 60000
  redis.call('SET', KEYS[1], string.format('%.6f', target), 'PX', ttl)
  stored = target
end
return string.format('%.6f', stored)
"""


class Spacing(Protocol):
    interval: float

    def wait_turn(self) -> float:
        """Block until this caller may send one request; return seconds slept."""
        ...

    def hold_off(self, seconds: float) -> None:
        """Make nobody's next slot start earlier than ``seconds`` from now."""
        ...


class RedisSpacing:
    """Slots shared through one Redis key by every process on every machine."""

    def __init__(
        self,
        redis_client,
        key: str = DEFAULT_KEY,
        interval: float = 3.0,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if interval < 0:
            raise ValueError("interval must be >= 0")
        self.redis = redis_client
        self.key = key
        self.interval = float(interval)
        self._sleep = sleep
        self._reserve = redis_client.register_script(_RESERVE_LUA)
        self._hold_off = redis_client.register_script(_HOLD_OFF_LUA)

    def reserve(self) -> tuple[float, float]:
        """Atomically take the next slot; return ``(slot, now)`` on Redis' clock."""
        slot, now = self._reserve(keys=[self.key], args=[repr(self.interval)])
        return float(slot), float(now)

    def wait_turn(self) -> float:
        slot, now = self.reserve()
        delay = max(0.0, slot - now)
        if delay > 0:
            self._sleep(delay)
        return delay

    def hold_off(self, seconds: float) -> None:
        if seconds > 0:
            self._hold_off(keys=[self.key], args=[repr(float(seconds))])

    def __repr__(self) -> str:
        return f"RedisSpacing(key={self.key!r}, interval={self.interval})"


class LocalSpacing:
    """Slots shared by the threads of one process (``time.monotonic`` clock)."""

    def __init__(self, interval: float = 3.0, *, sleep: Callable[[float], None] = time.sleep):
        if interval < 0:
            raise ValueError("interval must be >= 0")
        self.interval = float(interval)
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next = 0.0

    def reserve(self) -> tuple[float, float]:
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self.interval
            return slot, now

    def wait_turn(self) -> float:
        slot, now = self.reserve()
        delay = max(0.0, slot - now)
        if delay > 0:
            self._sleep(delay)
        return delay

    def hold_off(self, seconds: float) -> None:
        if seconds > 0:
            with self._lock:
                self._next = max(self._next, time.monotonic() + seconds)

    def __repr__(self) -> str:
        return f"LocalSpacing(interval={self.interval})"


_default_lock = threading.Lock()
_defaults: dict[tuple, Spacing] = {}


def default_spacing() -> Spacing:
    """The process-wide spacing from settings (shared by every client in the process).

    ``REDIS_URL`` set → ``RedisSpacing`` on that Redis (key from the optional
    ``ARXIV_RATE_LIMIT_KEY`` setting); otherwise a ``LocalSpacing``. The
    interval is ``ARXIV_REQUEST_INTERVAL``. If Redis is configured but down,
    ``wait_turn`` raises (redis.ConnectionError) rather than silently dropping
    to per-process spacing, which would break the cross-machine limit.
    """
    interval = float(settings.ARXIV_REQUEST_INTERVAL)
    url = getattr(settings, "REDIS_URL", "") or ""
    key = getattr(settings, "ARXIV_RATE_LIMIT_KEY", DEFAULT_KEY)
    cache_key = (url, key, interval)
    with _default_lock:
        spacing = _defaults.get(cache_key)
        if spacing is None:
            if url:
                spacing = RedisSpacing(redis.Redis.from_url(url), key=key, interval=interval)
            else:
                spacing = LocalSpacing(interval)
            _defaults[cache_key] = spacing
        return spacing
