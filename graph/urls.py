from django.urls import path

from graph import views

app_name = "graph"

urlpatterns = [
    path("researchers/<slug:slug>/graph/slice/", views.graph_slice, name="slice"),
    path("researchers/<slug:slug>/graph/", views.explorer, name="explorer"),
    path("researchers/<slug:slug>/graph.json", views.graph_json, name="json"),
]
