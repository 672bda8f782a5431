from django.urls import path, re_path

from works import exports, feeds, views

app_name = "works"

# Citation formats in addresses: works.bib, works.ris, works.csl.json (exports.FORMATS).
_FORMAT = r"(?P<fmt>bib|ris|csl\.json)"

urlpatterns = [
    # Before the work page: <path:> is greedy, and old-style arXiv ids contain a slash.
    re_path(rf"^works/(?P<arxiv_id>.+)/cite\.{_FORMAT}$", exports.work_citation, name="cite"),
    # <path:> because old-style arXiv ids contain a slash (hep-th/9901001).
    path("works/<path:arxiv_id>/", views.work_detail, name="detail"),
    path("topics/<path:code>/feed.atom", feeds.topic_feed, name="topic-feed"),
    # <path:> too: a topic stored before codes were checked may hold one (works.models.topic_url).
    path("topics/<path:code>/", views.topic_detail, name="topic"),
    re_path(
        rf"^researchers/(?P<slug>[-a-zA-Z0-9_]+)/works\.{_FORMAT}$",
        exports.researcher_citations,
        name="researcher-citations",
    ),
    path("researchers/<slug:slug>/feed.atom", feeds.researcher_feed, name="researcher-feed"),
]
