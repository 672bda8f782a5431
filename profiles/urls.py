from django.urls import path

from profiles.views import pages

app_name = "profiles"

urlpatterns = [
    path("", pages.home, name="home"),
    path("researchers/<slug:slug>/", pages.researcher_detail, name="detail"),
]

# Trust ("Why this score?" and the score-history chart).
from profiles.views import trust  # noqa: E402

urlpatterns += [
    path("researchers/<slug:slug>/trust/", trust.why, name="trust"),
    path("researchers/<slug:slug>/trust/history.svg", trust.history_svg, name="trust-history"),
]
