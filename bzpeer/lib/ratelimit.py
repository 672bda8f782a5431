"""A small fixed-window rate limiter over Django's cache, for cheap actions people can abuse.

Why not django-ratelimit: it is unmaintained, and what we need fits in a page. Each window is
one cache key (`rl:<scope>:<who>:<window number>`); `cache.add` creates it and `cache.incr` counts
atomically, on Redis and on the local-memory cache alike. A fixed window lets a burst of twice
the limit through at a window's edge, which is fine for abuse limits (they stop floods, not
single clicks).

Usage in a view, after the login check so anonymous visitors get a login redirect, not a 429::

    @require_POST
    @login_required
    @ratelimit("follow", "30/m")
    def follow(request, slug): ...
"""

from __future__ import annotations

import functools
import ipaddress
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.template.response import TemplateResponse

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

# What a visitor reads when a limit is hit, per scope; the page says when to try again.
MESSAGES = {
    "follow": "You are following and unfollowing very quickly.",
    "claim": "You have submitted several claims in a short time.",
    "invitation": "You have sent many invitations in a short time.",
    "message": "You are sending messages very quickly.",
    "signup": "Too many accounts were created from your network recently.",
}


@dataclass(frozen=True)
class Rate:
    limit: int
    period: int  # seconds

    @classmethod
    def parse(cls, text: str) -> Rate:
        """`"30/m"`, `"5/10m"`, `"10/d"`: a count per an optional multiple of s, m, h or d."""
        try:
            count, per = text.split("/")
            unit = per[-1]
            multiple = int(per[:-1]) if per[:-1] else 1
            rate = cls(limit=int(count), period=multiple * _PERIODS[unit])
        except (ValueError, KeyError, IndexError) as error:
            raise ValueError(f"Bad rate {text!r}: expected e.g. '30/m' or '5/10m'") from error
        if rate.limit < 1 or rate.period < 1:
            raise ValueError(f"Bad rate {text!r}: count and period must be positive")
        return rate


@dataclass(frozen=True)
class Outcome:
    allowed: bool
    count: int
    retry_after: int  # seconds until the current window ends


def hit(scope: str, who: str, rate: Rate | str, *, now: float | None = None) -> Outcome:
    """Count one action by `who` in `scope`; allowed while the window's count is in the limit."""
    if isinstance(rate, str):
        rate = Rate.parse(rate)
    now = time.time() if now is None else now
    window = int(now // rate.period)
    key = f"rl:{scope}:{who}:{rate.period}:{window}"
    # Keep the key a little longer than its window so a clock skew between web
    # processes cannot reset a count early.
    cache.add(key, 0, timeout=rate.period + 5)
    try:
        count = cache.incr(key)
    except ValueError:
        # The key expired between add and incr: this is the first hit of a fresh window.
        cache.add(key, 1, timeout=rate.period + 5)
        count = 1
    retry_after = max(1, int((window + 1) * rate.period - now))
    return Outcome(allowed=count <= rate.limit, count=count, retry_after=retry_after)


def reset(scope: str, who: str, rate: Rate | str, *, now: float | None = None) -> None:
    if isinstance(rate, str):
        rate = Rate.parse(rate)
    now = time.time() if now is None else now
    cache.delete(f"rl:{scope}:{who}:{rate.period}:{int(now // rate.period)}")


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or the one our outermost proxy saw.

    Behind `settings.TRUSTED_PROXY_COUNT` proxies that each append the address they saw to
    X-Forwarded-For, the client is the count-th entry from the right; entries further left were
    written by the client itself and are never read. A header shorter than the count, or an
    entry that is no address, means the request did not come through our proxies: REMOTE_ADDR.
    """
    count = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    if count and len(forwarded) >= count:
        try:
            return str(ipaddress.ip_address(forwarded[-count].strip()))
        except ValueError:
            pass
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def who_is(request: HttpRequest) -> str:
    """Signed-in accounts are counted per account, anonymous visitors per address."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{client_ip(request)}"


def too_many_requests(
    request: HttpRequest, *, scope: str, retry_after: int, message: str | None = None
) -> TemplateResponse:
    """HTTP 429 with a friendly page, or only its message fragment for an htmx request."""
    template = "429.html#rate-limited" if getattr(request, "htmx", False) else "429.html"
    response = TemplateResponse(
        request,
        template,
        {
            "rate_limit_message": message
            or MESSAGES.get(scope, "You are doing this very quickly."),
            "retry_after_minutes": max(1, -(-retry_after // 60)),
        },
        status=429,
    )
    response["Retry-After"] = str(retry_after)
    if getattr(request, "htmx", False):
        # htmx ignores error responses unless told otherwise; the fragment is
        # swapped into the element the request aimed at, replacing the button.
        response["HX-Reswap"] = "innerHTML"
    return response


def ratelimit(scope: str, rate: str, *, methods: tuple[str, ...] = ("POST",)):
    """Decorate a view: past `rate` per account (or address), answer 429 instead of running it."""
    parsed = Rate.parse(rate)

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method in methods:
                outcome = hit(scope, who_is(request), parsed)
                if not outcome.allowed:
                    return too_many_requests(request, scope=scope, retry_after=outcome.retry_after)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
