"""Site-wide views that belong to no app."""

import logging

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_safe

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
