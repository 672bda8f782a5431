"""The site's URLs plus /bench/trivial/: the baseline a page's throughput is compared to.

The trivial view goes through the same middleware stack (sessions, CSRF, auth, htmx,
allauth, whitenoise) but touches neither the database nor a template, so
profile/trivial measures what the page itself costs.
"""

from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.http import require_safe


@require_safe
def trivial(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("bench/trivial/", trivial, name="bench-trivial"),
    path("", include("bzpeer.urls")),
]
