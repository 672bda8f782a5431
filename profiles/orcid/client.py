"""A polite client for ORCID's public API v3.0 (`/{orcid}/record`, `/{orcid}/works`).

Polite as the arXiv client is (works.arxiv.client): every request waits its turn on a spacing
shared by every worker (ORCID allows 24 requests a second per address; ORCID_REQUEST_INTERVAL
keeps us far below), has a connect and a read time-out, and is retried with exponential backoff
on a dropped connection, a time-out or a 5xx; a 429 or 503 waits what its Retry-After says
(capped) and makes every worker wait as long. What is not worth retrying fails at once with a
named error: 401/403 (ORCID refused us), 404/409/410 (no such iD, or deprecated or deactivated),
a body over `max_bytes` (refused before it is read), and JSON that is malformed or not the
documented shape.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import orjson
import redis
import requests
from django.conf import settings  # read only by from_settings and orcid_spacing

from profiles.orcid.documents import (
    OrcidDocumentError,
    OrcidPerson,
    OrcidWork,
    parse_person,
    parse_works,
)
from works.arxiv.client import BACKOFF_STATUSES, RETRY_AFTER_STATUSES, retry_after_seconds
from works.arxiv.ratelimit import LocalSpacing, RedisSpacing

log = logging.getLogger(__name__)

# A works summary of a researcher with a thousand works is about 3 MB of JSON: 8 MB is ample,
# and bounds what one answer can cost a worker's memory.
MAX_BODY_BYTES = 8 * 1024 * 1024
GONE_STATUSES = frozenset({404, 409, 410})
SPACING_KEY = "bzpeer:orcid:next-slot"
# ORCID's v3.0 JSON; "application/json" answers the same document.
ACCEPT = "application/vnd.orcid+json"


class OrcidError(Exception):
    """Reading ORCID failed; the message says how, for logs and the admin's comparison."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status


class OrcidNotFound(OrcidError):
    """404, 409 or 410: the iD does not exist, or its record is deprecated or deactivated."""


class OrcidRefused(OrcidError):
    """401, 403 or another 4xx: ORCID refuses the request; retrying would not help."""


class OrcidUnavailable(OrcidError):
    """Time-outs, dropped connections, 5xx or 429 until the retries ran out."""


class OrcidBadResponse(OrcidError):
    """A 200 whose body is too large, not JSON, or not the documented document."""


_spacings: dict[tuple, Any] = {}


def orcid_spacing():
    """The process-wide spacing of ORCID requests: in Redis when REDIS_URL is set, so that every
    worker shares it; in this process otherwise."""
    interval = float(settings.ORCID_REQUEST_INTERVAL)
    url = settings.REDIS_URL or ""
    key = (url, interval)
    if key not in _spacings:
        _spacings[key] = (
            RedisSpacing(redis.Redis.from_url(url), key=SPACING_KEY, interval=interval)
            if url
            else LocalSpacing(interval)
        )
    return _spacings[key]


class OrcidClient:
    """Reads public ORCID records. ``max_retries`` retries follow the first attempt."""

    def __init__(
        self,
        api_url: str,
        *,
        spacing=None,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = (5, 20),
        max_retries: int = 3,
        backoff: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        user_agent: str = "BZPEER",
        max_bytes: int = MAX_BODY_BYTES,
        retry_after_default: float = 5.0,
        retry_after_cap: float = 30.0,
    ):
        self.api_url = api_url.rstrip("/")
        self.spacing = spacing
        self.session = session or requests.Session()
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.sleep = sleep
        self.user_agent = user_agent
        self.max_bytes = max_bytes
        self.retry_after_default = retry_after_default
        self.retry_after_cap = retry_after_cap

    @classmethod
    def from_settings(cls, **kwargs) -> OrcidClient:
        kwargs.setdefault("spacing", orcid_spacing())
        kwargs.setdefault("user_agent", settings.ORCID_USER_AGENT)
        return cls(settings.ORCID_API_URL, **kwargs)

    # --------------------------------------------------------------------- reading

    def record(self, orcid: str) -> dict:
        """The public record as ORCID sends it."""
        return self.fetch_json(f"/{orcid}/record")

    def person(self, orcid: str) -> OrcidPerson:
        return _parsed(parse_person, self.record(orcid), orcid=orcid)

    def works(self, orcid: str) -> list[OrcidWork]:
        return _parsed(parse_works, self.fetch_json(f"/{orcid}/works"))

    # ------------------------------------------------------------------------ HTTP

    def fetch_json(self, path: str) -> Any:
        """GET ``api_url + path`` and return its JSON, or raise an ``OrcidError``."""
        url = f"{self.api_url}{path}"
        attempt = 0
        while True:
            if self.spacing is not None:
                self.spacing.wait_turn()
            status: int | None = None
            try:
                with self.session.get(
                    url,
                    headers={"Accept": ACCEPT, "User-Agent": self.user_agent},
                    timeout=self.timeout,
                    stream=True,
                ) as response:
                    status = response.status_code
                    if status == 200:
                        return _json(self._read(response, url), url)
                    delay, problem = self._failure(response, url, attempt)
            except (requests.ConnectionError, requests.Timeout) as error:
                delay, problem = self.backoff * 2**attempt, f"{type(error).__name__}: {error}"
            attempt += 1
            if attempt > self.max_retries:
                raise OrcidUnavailable(
                    f"ORCID unavailable: {url} failed {attempt} times (last: {problem})",
                    status=status,
                )
            log.warning(
                "ORCID request %s failed (%s); retry %d/%d in %.1fs",
                url,
                problem,
                attempt,
                self.max_retries,
                delay,
            )
            self.sleep(delay)

    def _failure(self, response: requests.Response, url: str, attempt: int) -> tuple[float, str]:
        """How long to wait before retrying a failed answer, and what failed; raises when the
        answer is not worth a retry."""
        status = response.status_code
        if status in RETRY_AFTER_STATUSES:
            header = response.headers.get("Retry-After")
            delay = retry_after_seconds(
                header, default=self.retry_after_default, cap=self.retry_after_cap
            )
            if self.spacing is not None:
                self.spacing.hold_off(delay)  # every worker waits, not only this one
            return delay, f"HTTP {status} (Retry-After {header!r})"
        if status in BACKOFF_STATUSES:
            return self.backoff * 2**attempt, f"HTTP {status}"
        if status in GONE_STATUSES:
            raise OrcidNotFound(
                f"ORCID answered HTTP {status} for {url}: no such iD, or its record is "
                "deprecated or deactivated",
                status=status,
            )
        raise OrcidRefused(f"ORCID answered HTTP {status} for {url}; not retried", status=status)

    def _read(self, response: requests.Response, url: str) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise OrcidBadResponse(
                f"ORCID's answer for {url} is {int(declared):,} bytes, over the "
                f"{self.max_bytes:,}-byte limit"
            )
        body = bytearray()
        for chunk in response.iter_content(chunk_size=65536):
            body += chunk
            if len(body) > self.max_bytes:
                raise OrcidBadResponse(
                    f"ORCID's answer for {url} is over the {self.max_bytes:,}-byte limit"
                )
        return bytes(body)


def _json(body: bytes, url: str) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise OrcidBadResponse(f"ORCID's answer for {url} is not JSON: {error}") from None


def _parsed(parse, document, **kwargs):
    try:
        return parse(document, **kwargs)
    except OrcidDocumentError as error:
        raise OrcidBadResponse(f"ORCID's answer is not the documented shape: {error}") from None
