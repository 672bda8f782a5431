"""Signing in from a view: the login guard and where to come back to afterwards."""

from __future__ import annotations

import functools
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect


def safe_next(request: HttpRequest, candidate: str | None) -> str | None:
    """The path and query of `candidate` when it points inside this site, else None."""
    if not candidate:
        return None
    if not url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return None
    parts = urlsplit(candidate)
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path


def _return_path(request: HttpRequest) -> str:
    """Where to come back after logging in.

    A GET comes back to itself. A POST (an htmx click, a form on a page) cannot be replayed
    after login, so it comes back to the page it was sent from.
    """
    if request.method == "GET" and not request.htmx:
        return request.get_full_path()
    current = request.headers.get("HX-Current-URL") or request.headers.get("Referer")
    return safe_next(request, current) or "/"


def login_required(view):
    """Like Django's, but an htmx request gets an HX-Redirect to the login page.

    Django's redirect would be followed by htmx itself and the login page swapped into a
    fragment; HX-Redirect makes the browser navigate to it instead.
    """

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        back = _return_path(request)
        if request.htmx:
            login = resolve_url(settings.LOGIN_URL)
            return HttpResponseClientRedirect(f"{login}?{urlencode({'next': back})}")
        return redirect_to_login(back)

    return wrapped
