from django.contrib import admin
from django.urls import include, path

from bzpeer.views import admin_login, healthz

urlpatterns = [
    # Before the admin's own URLs: its login goes through allauth's, which has a lockout.
    path("admin/login/", admin_login, name="admin-login"),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("accounts/", include("allauth.urls")),
    path("", include("works.urls")),
    path("", include("profiles.urls")),
    path("", include("graph.urls")),
]
