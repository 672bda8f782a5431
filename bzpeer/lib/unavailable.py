"""The answer while the database is down: a plain 503 with Retry-After, never a 500.

PostgreSQL restarting (a minor-version upgrade, a fail-over) takes tens of seconds. Every
page that reads a row meanwhile raises ``OperationalError`` (connection refused, or the
connection was terminated under it) or ``InterfaceError`` (a pooled connection already
closed). Those are not bugs of the page: the visitor gets "temporarily unavailable, try
again shortly" and the load balancer a status that says the same. Other database errors
(an integrity error, bad SQL) stay 500s: they are bugs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template import loader

log = logging.getLogger(__name__)

# Long enough for a database restart, short enough that a reader does not give up.
RETRY_AFTER_SECONDS = 30
DETAIL = "The site is temporarily unavailable: its database is restarting. Try again shortly."


def database_unavailable(error: BaseException | None) -> bool:
    """Whether ``error`` (or what it was raised from) says the database cannot be reached."""
    while error is not None:
        if isinstance(error, OperationalError | InterfaceError):
            return True
        error = error.__cause__ or error.__context__
    return False


def unavailable_page() -> HttpResponse:
    """The HTML page, rendered without a request: nothing in it may touch the database."""
    response = HttpResponse(loader.get_template("503.html").render(), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """A view or its template that meets a database that is down answers the 503 page here.

    Logged in one line: a restart would otherwise log a full traceback for every request.
    What is raised outside views (a middleware reading the session) reaches handler500
    (``bzpeer.views.server_error``), which answers the same page.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not database_unavailable(exception):
            return None
        first_line = (str(exception).strip().splitlines() or [""])[0]
        log.error(
            "database unavailable on %s: %s: %s", request.path, type(exception).__name__, first_line
        )
        return unavailable_page()
