"""Pages that every visitor without a session sees alike, kept under one generation token.

For pages that read much of the catalogue (a work page, search results, a graph slice):
unlike a profile page (profiles/page_cache.py), no one record's token can guard them, so one
generation token guards them all and the writes that could change any of them replace it
(works/catalogue_pages.py says which). A visit is then a lookup in the worker's memory
(bzpeer/lib/local_copies.py), or on a worker's first visit two cache reads: no query.

Like the profile page cache they need a cache every process shares (``PAGE_CACHE_SHARED``:
Redis), or a write in one process could not reach what another stored; without one the pages
are always rendered.
"""

from __future__ import annotations

import functools
import hashlib
import random
import time
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

from bzpeer.lib.local_copies import LocalCopies

# How long a stored page may show what changed without the generation moving (what no
# signal reports: a row updated in place by hand).
SHARED_PAGE_SECONDS = 60
# Longer than any page, so a token outlives the pages stored under it.
TOKEN_SECONDS = 24 * 60 * 60
# Search queries are many: a bounded number of pages per process (about 15 MB).
LOCAL_PAGES = 256
# django.contrib.messages' cookie storage: a pending message makes the page personal.
MESSAGES_COOKIE = "messages"
# Headers a stored page keeps; the middleware adds the rest on the way out, hit or miss.
_KEPT_HEADERS = ("Content-Type", "Cache-Control")


def stored_page_seconds(longest: float) -> float:
    """How long a page stored now lives: up to ``longest``, down to three quarters of it.

    Pages rendered together (a deploy, a warm-up, the first visits after a big import)
    would otherwise expire together, and every worker would render them again at once.
    """
    return longest * random.uniform(0.75, 1.0)


def shareable(request: HttpRequest, *, htmx: bool = False, params: Collection[str] = ()) -> bool:
    """Whether this visitor gets the page shared by every visitor without a session.

    ``htmx``: the view's htmx answer is public too (a partial every visitor gets alike).
    ``params``: the query parameters the view reads. An address with any other is rendered
    for its visitor alone: the page shows its full path (the login link's ?next=), and one
    entry per made-up parameter would let anyone fill the cache.
    """
    return not (
        (request.htmx and not htmx)
        or settings.SESSION_COOKIE_NAME in request.COOKIES
        or MESSAGES_COOKIE in request.COOKIES
        or not set(request.GET).issubset(params)
    )


@dataclass(frozen=True, slots=True)
class _Stored:
    content: bytes
    headers: dict[str, str]
    generation: str
    expires: float

    def response(self) -> HttpResponse:
        response = HttpResponse(self.content)
        for name, value in self.headers.items():
            response[name] = value
        return response


class VisitorPages:
    def __init__(self, name: str):
        self._prefix = name
        self._generation_key = f"{name}:generation"
        self._local = LocalCopies(f"{name}:dropped", size=LOCAL_PAGES)
        # Whether this process stored a page (in the cache or its memory) since it last
        # replaced the generation.
        self._stored_since_replaced = False

    def cached(self, request: HttpRequest) -> HttpResponse | None:
        """The stored page for this address while the generation is unchanged."""
        key = self._key(request)
        stored = self._local.get(key)
        if stored is None:
            found = cache.get_many([key, self._generation_key])
            stored = found.get(key)
            if stored is None or found.get(self._generation_key) != stored.generation:
                return None
            self._local.put(key, stored, tag="page", expires=stored.expires)
            self._stored_since_replaced = True
        return stored.response()

    def generation(self) -> str:
        """The token a page rendered now is stored under: read it before rendering, so that a
        write during the render leaves the page stale, not the cache."""
        current = cache.get(self._generation_key)
        if current is None:
            cache.add(self._generation_key, new_token(), TOKEN_SECONDS)
            current = cache.get(self._generation_key)
        return current

    def store(self, request: HttpRequest, generation: str, response: HttpResponse) -> None:
        if (
            response.status_code != 200
            or response.streaming
            or response.cookies
            # A page that asked for a CSRF token belongs to this visitor alone.
            or request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        ):
            return
        if not getattr(response, "is_rendered", True):
            response.render()
        headers = {name: response[name] for name in _KEPT_HEADERS if name in response}
        seconds = stored_page_seconds(SHARED_PAGE_SECONDS)
        stored = _Stored(response.content, headers, generation, time.time() + seconds)
        key = self._key(request)
        cache.set(key, stored, int(seconds) + 1)
        self._local.put(key, stored, tag="page", expires=stored.expires)
        self._stored_since_replaced = True

    def forget(self) -> None:
        """Make every stored page stale: now, and again when the transaction commits (a page
        rendered from the old rows in between went under a token already gone).

        Inside a transaction the token is replaced at once only the first time, and again only
        when this process stored a page since: other processes cannot see the uncommitted
        rows, so what they store meanwhile goes at the commit. An import saves thousands of
        rows in one transaction; this keeps them from costing a cache write each.
        """
        connection = transaction.get_connection()
        if not connection.in_atomic_block:
            self._replace()
            return
        if not any(hook == self._replace for _, hook, _ in connection.run_on_commit):
            self._replace()
            transaction.on_commit(self._replace)
        elif self._stored_since_replaced:
            self._replace()

    def clear_local(self) -> None:
        """Forget the pages kept in this process's memory (the test suite, between tests)."""
        self._local.clear()

    def _replace(self) -> None:
        self._stored_since_replaced = False
        cache.set(self._generation_key, new_token(), TOKEN_SECONDS)
        self._local.drop_everything()

    def _key(self, request: HttpRequest) -> str:
        # The host: JSON-LD holds absolute addresses. The full path: the query and page number.
        # htmx asks the same address for a partial.
        htmx = f"{request.htmx.target}" if request.htmx else "-"
        address = f"{request.get_host()}{request.get_full_path()}|{htmx}"
        digest = hashlib.blake2b(address.encode(), digest_size=16).hexdigest()
        return f"{self._prefix}:page:v1:{digest}"


def shared_with_visitors(
    pages: VisitorPages, *, htmx: bool = False, params: Collection[str] = ()
) -> Callable:
    """Serve the view's answer to visitors without a session from ``pages``; ``params``: the
    query parameters the view reads (see ``shareable``)."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not settings.PAGE_CACHE_SHARED or not shareable(request, htmx=htmx, params=params):
                return varies(view(request, *args, **kwargs))
            hit = pages.cached(request)
            if hit is not None:
                return varies(hit)
            generation = pages.generation()
            response = view(request, *args, **kwargs)
            pages.store(request, generation, response)
            return varies(response)

        return wrapper

    return decorate


def varies(response: HttpResponse) -> HttpResponse:
    """Signed-in visitors get their own page, and htmx asks the same address for a partial."""
    patch_vary_headers(response, ["Cookie", "HX-Request", "HX-Target"])
    return response


def new_token() -> str:
    # Random, not a counter: a token evicted and minted again never matches an old page.
    return uuid.uuid4().hex[:12]
