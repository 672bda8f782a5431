from django.urls import path

from works import views

app_name = "works"

urlpatterns = [
    # <path:> because old-style arXiv ids contain a slash (hep-th/9901001).
    path("works/<path:arxiv_id>/", views.work_detail, name="detail"),
    # <path:> too: a topic stored before codes were checked may hold one (works.models.topic_url).
    path("topics/<path:code>/", views.topic_detail, name="topic"),
]
