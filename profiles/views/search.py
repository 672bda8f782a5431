"""The site search: researchers (each with what tells namesakes apart) and works."""

from __future__ import annotations

from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.views.decorators.http import require_safe

from bzpeer.lib.paging import page_number
from profiles.namesakes import distinguishers
from works import search as site_search
from works.catalogue_pages import shared_page
from works.listing import with_bylines

WORKS_PER_PAGE = 20
RESEARCHERS_PER_PAGE = 20
RESEARCHERS_ON_MIXED_RESULTS = 8


@require_safe
@shared_page("q", "type", "page")
def search(request: HttpRequest) -> TemplateResponse:
    query = site_search.clean_query(request.GET.get("q"))
    kind = request.GET.get("type")
    kind = kind if kind in {"researchers", "works"} else "all"
    page = page_number(request) if kind != "all" else 1
    context = {"query": query, "kind": kind, "page": page}
    if not query:
        return TemplateResponse(request, "search/results.html", context)

    if kind in {"all", "researchers"}:
        size = RESEARCHERS_PER_PAGE if kind == "researchers" else RESEARCHERS_ON_MIXED_RESULTS
        start = (page - 1) * size
        found = list(site_search.researchers(query)[start : start + size + 1])
        shown = found[:size]
        told_apart = distinguishers(shown)
        context["researchers"] = [(person, told_apart[person.pk]) for person in shown]
        context["more_researchers"] = len(found) > size
    if kind in {"all", "works"}:
        start = (page - 1) * WORKS_PER_PAGE
        found = list(site_search.works(query)[start : start + WORKS_PER_PAGE + 1])
        context["works"] = with_bylines(found[:WORKS_PER_PAGE])
        context["more_works"] = len(found) > WORKS_PER_PAGE
    return TemplateResponse(request, "search/results.html", context)
