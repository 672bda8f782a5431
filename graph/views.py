"""Research graph views: the inline slice, the explorer page and its JSON."""

from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse

from profiles.models import AuthorRecord


def graph_slice(request, slug):
    record = get_object_or_404(AuthorRecord.objects.people(), slug=slug)
    return TemplateResponse(request, "graph/slice.html", {"record": record})


def explorer(request, slug):
    record = get_object_or_404(AuthorRecord.objects.people(), slug=slug)
    return TemplateResponse(request, "graph/explorer.html", {"record": record})


def graph_json(request, slug):
    record = get_object_or_404(AuthorRecord.objects.people(), slug=slug)
    return JsonResponse({"version": 1, "center": record.slug, "nodes": [], "edges": []})
