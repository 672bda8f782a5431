from django.conf import settings
from django.contrib import admin
from django.contrib.sitemaps import views as sitemap_views
from django.urls import include, path

from bzpeer.lib.api import OpenDataAPI
from bzpeer.lib.apidocs import ServerRenderedDocs
from bzpeer.lib.ratelimit import Rate
from bzpeer.views import admin_login, healthz, robots_txt
from graph.api import router as graph_router
from profiles.api import router as researchers_router
from works.api import router as works_router
from works.sitemaps import SITEMAPS

# The read API (README, "Read API"): each app serves its own part; the order of the routers is
# the order of the documentation.
api = OpenDataAPI(
    title="BZPEER read API",
    version="1.0.0",
    description=(
        "Researcher profiles built from public arXiv records, as JSON: researchers (search, "
        "detail with the trust score and its components, works), works, topics and research "
        "graphs. Read-only, no key, CC0."
    ),
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url="/docs",
    docs=ServerRenderedDocs("api/docs.html", rate_limit=Rate.parse(settings.API_RATE_LIMIT)),
)
api.add_router("", researchers_router)
api.add_router("", graph_router)
api.add_router("", works_router)

# A database that is down answers 503 with Retry-After rather than a 500 (bzpeer/lib/unavailable).
handler500 = "bzpeer.views.server_error"

urlpatterns = [
    # Before the admin's own URLs: its login goes through allauth's, which has a lockout.
    path("admin/login/", admin_login, name="admin-login"),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("api/v1/", api.urls),
    path("robots.txt", robots_txt, name="robots"),
    path(
        "sitemap.xml",
        sitemap_views.index,
        {"sitemaps": SITEMAPS, "sitemap_url_name": "sitemap-section"},
        name="sitemap-index",
    ),
    path(
        "sitemap-<section>.xml",
        sitemap_views.sitemap,
        {"sitemaps": SITEMAPS},
        name="sitemap-section",
    ),
    path("accounts/", include("allauth.urls")),
    path("", include("works.urls")),
    path("", include("profiles.urls")),
    path("", include("graph.urls")),
]
