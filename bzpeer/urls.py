from django.contrib import admin
from django.urls import include, path

from bzpeer.views import healthz

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("accounts/", include("allauth.urls")),
    path("", include("works.urls")),
    path("", include("profiles.urls")),
    path("", include("graph.urls")),
]
