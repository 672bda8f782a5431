"""Research graph views: the inline slice, the explorer page and its JSON.

All three are public reads of public data and serve a cached graph (graph.cache), so a
researcher with thousands of works answers as fast as one with a single paper: one query for
the record, then the cache.
"""

from __future__ import annotations

import orjson
from django.http import Http404, HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.views.decorators.http import require_safe

from graph.cache import GRAPH_TIMEOUT, cached_graph, graph_key
from graph.ego import EXPLORER, INLINE
from graph.layout import layout
from profiles.models import AuthorRecord, SlugRedirect

# Browsers may reuse a graph for a minute; the server-side cache is invalidated on import.
BROWSER_CACHE_SECONDS = 60


def _person_or_redirect(
    request: HttpRequest, slug: str, view_name: str
) -> AuthorRecord | HttpResponsePermanentRedirect:
    """The person record at this slug, or a redirect when the slug moved in a merge."""
    record = AuthorRecord.objects.filter(slug=slug).first()
    if record is None:
        moved = SlugRedirect.objects.select_related("record").filter(old_slug=slug).first()
        if moved is None:
            raise Http404("No researcher at this address.")
        record = moved.record
    if record.merged_into_id:
        record = AuthorRecord.objects.filter(pk=record.merged_into_id).first() or record
    if not record.is_person:
        # Organisations ("DeepSeek-AI") have no person's graph or collaborators.
        raise Http404("Organisation records have no research graph.")
    if record.slug != slug:
        query = f"?{request.GET.urlencode()}" if request.GET else ""
        return HttpResponsePermanentRedirect(reverse(view_name, args=[record.slug]) + query)
    return record


def _lists(graph: dict) -> dict:
    nodes = [n for n in graph["nodes"] if n["id"] != graph["center"]]
    return {
        "people": [n for n in nodes if n["type"] == "person"],
        "works": [n for n in nodes if n["type"] == "work"],
        "topics": [n for n in nodes if n["type"] == "topic"],
        "institutions": [n for n in nodes if n["type"] == "institution"],
    }


@require_safe
def graph_slice(request: HttpRequest, slug: str):
    record = _person_or_redirect(request, slug, "graph:slice")
    if isinstance(record, HttpResponse):
        return record
    key = graph_key(record.pk, INLINE.name)
    graph = cached_graph(record, limits=INLINE, key=key)
    context = {
        "record": record,
        "graph": graph,
        # Computed only if the rendered slice is not in the fragment cache already.
        "drawing": SimpleLazyObject(lambda: layout(graph)),
        "graph_key": key,
        "graph_timeout": GRAPH_TIMEOUT,
        "truncated": graph["truncated"],
        **_lists(graph),
    }
    template = "graph/slice.html#graph-slice" if request.htmx else "graph/slice.html"
    return TemplateResponse(request, template, context)


@require_safe
def explorer(request: HttpRequest, slug: str):
    record = _person_or_redirect(request, slug, "graph:explorer")
    if isinstance(record, HttpResponse):
        return record
    graph = cached_graph(record, limits=EXPLORER)
    context = {"record": record, "graph": graph, "truncated": graph["truncated"], **_lists(graph)}
    return TemplateResponse(request, "graph/explorer.html", context)


@require_safe
def graph_json(request: HttpRequest, slug: str):
    """The ego-graph as JSON (schema in graph/README.md); ``?size=inline`` for the small one."""
    record = _person_or_redirect(request, slug, "graph:json")
    if isinstance(record, HttpResponse):
        return record
    limits = INLINE if request.GET.get("size") == "inline" else EXPLORER
    graph = cached_graph(record, limits=limits)
    response = HttpResponse(orjson.dumps(graph), content_type="application/json")
    response["Cache-Control"] = f"public, max-age={BROWSER_CACHE_SECONDS}"
    return response
