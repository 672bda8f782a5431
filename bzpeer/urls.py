from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("", include("works.urls")),
    path("", include("profiles.urls")),
    path("", include("graph.urls")),
]
