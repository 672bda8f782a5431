"""Site-wide views that belong to no app."""

import logging
import sys

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_safe
from django.views.defaults import server_error as default_server_error

from bzpeer.lib.unavailable import database_unavailable, unavailable_page

log = logging.getLogger(__name__)


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """200 "ok" when the database answers, 503 otherwise (load balancers, docker-compose).

    Redis is deliberately not checked: without it the site still serves pages
    (tasks that fail to queue are logged), so a broker outage must not take
    every web container out of rotation.
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        log.error("health check: the database does not answer: %s", error)
        return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a 503 "temporarily unavailable" while the database is down, else the 500.

    The last stop of every exception, wherever it was raised (a view, a template, the session
    or authentication middleware), so one check covers every page. Django calls it inside the
    ``except`` block, hence ``sys.exc_info()``.
    """
    if database_unavailable(sys.exc_info()[1]):
        return unavailable_page()
    return default_server_error(request)


@never_cache
def admin_login(request: HttpRequest) -> HttpResponse:
    """The admin's login page hands over to allauth's, and never checks a password itself.

    Django admin's own login form had no limit on failed attempts (55 wrong passwords, then the
    right one, got in) and took an email as a username; allauth's login locks an address and an
    account out after repeated failures (ACCOUNT_RATE_LIMITS["login_failed"]). A POST here is
    answered like a GET: it is redirected, its credentials unread.
    """
    next_url = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = reverse("admin:index")
    if not request.user.is_authenticated:
        return HttpResponseRedirect(f"{reverse('account_login')}?{urlencode({'next': next_url})}")
    if request.user.is_active and request.user.is_staff:
        return HttpResponseRedirect(next_url)
    # Signed in without the staff flag: sending them to the login page again would loop.
    return TemplateResponse(request, "admin_not_staff.html", status=403)


# Pages that are private, personal or actions: crawlers have nothing to read there. Wildcards
# are understood by the major crawlers (RFC 9309).
ROBOTS_DISALLOW = (
    "/admin/",
    "/accounts/",
    "/following/",
    "/inbox/",
    "/invitations/",
    "/conversations/",
    "/claims/",
    "/blocks/",
    "/search/",
    "/api/",
    "/researchers/*/claim/",
    "/researchers/*/edit/",
    "/researchers/*/invite/",
    "/researchers/*/follow/",
    "/researchers/*/unfollow/",
    "/researchers/*/works/*/not-mine/",
)


@require_safe
@cache_control(public=True, max_age=24 * 60 * 60)
def robots_txt(request: HttpRequest) -> HttpResponse:
    lines = ["User-agent: *", "Allow: /api/v1/docs"]
    lines += [f"Disallow: {path}" for path in ROBOTS_DISALLOW]
    lines += ["", f"Sitemap: {request.build_absolute_uri(reverse('sitemap-index'))}", ""]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")
