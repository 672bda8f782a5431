"""HTTP client for arXiv's query API (Atom) and OAI-PMH interface.

Every HTTP request, retries included, first waits its turn on a ``Spacing``
(``works.arxiv.ratelimit``), so the arXiv rate limit holds across all workers.
Transient failures are retried; arXiv's ``Retry-After`` is honoured (and
shared with every worker through ``Spacing.hold_off``). Parsing is delegated
to ``works.arxiv.parsers``; this module returns ``ParsedPage`` objects.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
import logging
import time
from collections.abc import Callable, Iterator, Sequence

import requests
from django.conf import settings  # read only by from_settings, when configured

from works.arxiv import parsers
from works.arxiv.ratelimit import default_spacing
from works.arxiv.records import ArxivApiError, ParsedPage

log = logging.getLogger(__name__)

API_PAGE_MAX = 2000  # results per call (arXiv user manual)
API_TOTAL_MAX = 30000  # results per query
DEFAULT_USER_AGENT = "BZPEER/0.1 (researcher profiles; metadata harvester)"

RETRY_AFTER_STATUSES = frozenset({429, 503})
BACKOFF_STATUSES = frozenset({500, 502, 504})


class ArxivHttpError(Exception):
    """arXiv answered with an HTTP status we do not retry (404, 403, a 400 that
    is not the API error feed, ...)."""

    def __init__(self, message: str, *, url: str, status: int | None):
        super().__init__(message)
        self.url = url
        self.status = status


class ArxivUnavailable(ArxivHttpError):
    """arXiv kept failing (5xx, 429, time-outs, dropped connections) until the
    retries ran out."""

    def __init__(self, message: str, *, url: str, status: int | None, attempts: int):
        super().__init__(message, url=url, status=status)
        self.attempts = attempts


def retry_after_seconds(value: str | None, *, default: float, cap: float) -> float:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date; clamped to [0, cap]."""
    if value is None or not value.strip():
        return min(default, cap)
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return min(default, cap)
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        seconds = (when - dt.datetime.now(dt.UTC)).total_seconds()
    if seconds != seconds:  # NaN
        return min(default, cap)
    return max(0.0, min(seconds, cap))


def _is_api_error_feed(body: bytes) -> bool:
    return b"/api/errors" in body and b"<feed" in body


class ArxivClient:
    """Rate-limited, retrying access to arXiv.

    ``max_retries`` is the number of retries after the first attempt, so a
    request is sent at most ``max_retries + 1`` times.
    """

    def __init__(
        self,
        api_url: str,
        oai_url: str,
        spacing,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = (5, 60),
        max_retries: int = 4,
        backoff: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
        user_agent: str = DEFAULT_USER_AGENT,
        *,
        retry_after_default: float = 30.0,
        retry_after_cap: float = 600.0,
    ):
        self.api_url = api_url
        self.oai_url = oai_url
        self.spacing = spacing
        self.session = session or requests.Session()
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.sleep = sleep
        self.user_agent = user_agent
        self.retry_after_default = retry_after_default
        self.retry_after_cap = retry_after_cap

    @classmethod
    def from_settings(cls, **kwargs) -> ArxivClient:
        """A client configured from Django settings and ``default_spacing()``."""
        kwargs.setdefault("user_agent", settings.ARXIV_USER_AGENT)
        return cls(settings.ARXIV_API_URL, settings.ARXIV_OAI_URL, default_spacing(), **kwargs)

    # ------------------------------------------------------------------ HTTP

    def fetch(self, url: str, params: dict | None = None) -> bytes:
        """GET ``url`` and return the body of a 200 answer.

        Raises ``ArxivApiError`` for the API's HTTP 400 error feed (no retry),
        ``ArxivUnavailable`` once retries are exhausted, ``ArxivHttpError`` for
        other non-retryable statuses.
        """
        headers = {"User-Agent": self.user_agent}
        attempt = 0
        while True:
            self.spacing.wait_turn()
            status: int | None = None
            try:
                resp = self.session.get(url, params=params, timeout=self.timeout, headers=headers)
            except (requests.ConnectionError, requests.Timeout) as exc:
                # ReadTimeout/ConnectTimeout and dropped connections alike.
                problem = f"{type(exc).__name__}: {exc}"
                delay = self.backoff * 2**attempt
            else:
                status = resp.status_code
                if status == 200:
                    return resp.content
                delay, problem = self._retry_delay(resp, attempt)
            attempt += 1
            if attempt > self.max_retries:
                raise self._gave_up(url, params, attempt, problem, status)
            log.warning(
                "arXiv request %s failed (%s); retry %d/%d in %.1fs",
                url,
                problem,
                attempt,
                self.max_retries,
                delay,
            )
            self.sleep(delay)

    def _retry_delay(self, resp: requests.Response, attempt: int) -> tuple[float, str]:
        """How long to wait before retrying a non-200 answer, and what went wrong.

        Raises for answers that no retry can change.
        """
        status = resp.status_code
        if status in RETRY_AFTER_STATUSES:
            delay = retry_after_seconds(
                resp.headers.get("Retry-After"),
                default=self.retry_after_default,
                cap=self.retry_after_cap,
            )
            # Everyone backs off, not only this worker.
            self.spacing.hold_off(delay)
            return delay, f"HTTP {status} (Retry-After {resp.headers.get('Retry-After')!r})"
        if status in BACKOFF_STATUSES:
            return self.backoff * 2**attempt, f"HTTP {status}"
        if status == 400 and _is_api_error_feed(resp.content):
            parsers.parse_atom(resp.content)  # raises ArxivApiError
            raise ArxivApiError(f"arXiv API error (HTTP 400) for {resp.url}")
        raise ArxivHttpError(
            f"arXiv answered HTTP {status} for {resp.url}; not retried",
            url=resp.url,
            status=status,
        )

    def _gave_up(
        self, url: str, params: dict | None, attempt: int, problem: str, status: int | None
    ) -> ArxivUnavailable:
        full = requests.Request("GET", url, params=params).prepare().url or url
        return ArxivUnavailable(
            f"arXiv unavailable: {full} failed {attempt} times "
            f"(last: {problem}); gave up after {self.max_retries} retries",
            url=full,
            status=status,
            attempts=attempt,
        )

    # ------------------------------------------------------------ query API

    def iter_query(
        self,
        *,
        query: str | None = None,
        ids: Sequence[str] | None = None,
        start: int = 0,
        page_size: int = 1000,
        max_results: int = API_TOTAL_MAX,
    ) -> Iterator[tuple[ParsedPage, int]]:
        """Page through the query API; yield ``(page, next_start)``.

        ``next_start`` is the offset to resume from after this page (what
        ``harvest_api`` checkpoints). Fetches results ``[start, start +
        max_results)``; ``page_size`` is capped at 2000 and ``max_results`` at
        30000. Stops at ``totalResults``. Records already yielded (same
        ``arxiv_id``) are dropped from later pages.

        Spurious empty pages: when the first page says ``totalResults`` 0, or
        any page has no entries although ``totalResults > start``, that page is
        requested once more; if it is still empty the iteration yields it and
        stops (it cannot make progress).
        """
        base = _query_params(query, ids)
        page_size = max(1, min(int(page_size), API_PAGE_MAX))
        limit = max(0, min(int(max_results), API_TOTAL_MAX))
        end = start + limit
        parse_atom = parsers.parse_atom
        seen: set[str] = set()
        offset = start
        first = True
        retried_at: int | None = None
        while offset < end:
            params = {**base, "start": offset, "max_results": min(page_size, end - offset)}
            page = parse_atom(self.fetch(self.api_url, params))
            total = page.total_results
            got = len(page.records) + len(page.errors)
            spurious = (first and total == 0) or (got == 0 and total is not None and total > offset)
            if spurious and retried_at != offset:
                log.warning(
                    "arXiv API: suspicious empty page (start=%d, totalResults=%s); retrying once",
                    offset,
                    total,
                )
                retried_at = offset
                continue
            first = False
            page = _without_seen(page, seen)
            offset += got
            yield page, offset
            if got == 0 or (total is not None and offset >= total):
                return

    def search(
        self,
        query: str,
        *,
        start: int = 0,
        page_size: int = 1000,
        max_results: int = API_TOTAL_MAX,
    ) -> Iterator[ParsedPage]:
        """``search_query`` pages, sorted by lastUpdatedDate ascending."""
        for page, _ in self.iter_query(
            query=query, start=start, page_size=page_size, max_results=max_results
        ):
            yield page

    def by_ids(
        self,
        ids: Sequence[str],
        *,
        start: int = 0,
        page_size: int = 1000,
        max_results: int = API_TOTAL_MAX,
    ) -> Iterator[ParsedPage]:
        """``id_list`` pages. One request URL holds the whole list: keep lists
        to a few hundred ids per call."""
        for page, _ in self.iter_query(
            ids=list(ids), start=start, page_size=page_size, max_results=max_results
        ):
            yield page

    # -------------------------------------------------------------- OAI-PMH

    def list_records(
        self,
        *,
        metadata_prefix: str = "arXivRaw",
        from_date: dt.date | None = None,
        until_date: dt.date | None = None,
        set_spec: str | None = None,
        resumption_token: str | None = None,
    ) -> Iterator[ParsedPage]:
        """OAI-PMH ListRecords, following resumption tokens to the last page.

        With ``resumption_token`` only ``verb`` + ``resumptionToken`` are sent
        (OAI-PMH forbids other arguments then). ``noRecordsMatch`` yields one
        empty page. Other OAI errors raise ``OaiError`` (from the parser).
        """
        parse_oai = parsers.parse_oai
        if resumption_token:
            params = {"verb": "ListRecords", "resumptionToken": resumption_token}
        else:
            params = {"verb": "ListRecords", "metadataPrefix": metadata_prefix}
            if from_date:
                params["from"] = from_date.isoformat()
            if until_date:
                params["until"] = until_date.isoformat()
            if set_spec:
                params["set"] = set_spec
        while True:
            page = parse_oai(self.fetch(self.oai_url, params))
            yield page
            if not page.resumption_token:
                return
            params = {"verb": "ListRecords", "resumptionToken": page.resumption_token}


def _query_params(query: str | None, ids: Sequence[str] | None) -> dict:
    """The query API's parameters that stay the same from page to page."""
    if not query and not ids:
        raise ValueError("give a query or ids")
    return {
        "search_query": query or "",
        "id_list": ",".join(ids or ()),
        "sortBy": "lastUpdatedDate",
        "sortOrder": "ascending",
    }


def _without_seen(page: ParsedPage, seen: set[str]) -> ParsedPage:
    """The page without records an earlier page yielded; ``seen`` takes in the rest."""
    fresh = [r for r in page.records if r.arxiv_id not in seen]
    seen.update(r.arxiv_id for r in fresh)
    if len(fresh) != len(page.records):
        page = dataclasses.replace(page, records=fresh)
    return page
