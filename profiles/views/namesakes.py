"""The page listing the researchers who share a name, with what tells them apart."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.views.decorators.http import require_safe

from profiles.namesakes import distinguishers, namesakes
from works.models import AuthorRecord
from works.records import record_from_slug

NAMESAKES_PER_PAGE = 50


@require_safe
@record_from_slug("profiles:namesakes")
def namesakes_page(request: HttpRequest, record: AuthorRecord) -> TemplateResponse:
    page = Paginator(namesakes(record), NAMESAKES_PER_PAGE).get_page(request.GET.get("page"))
    people = list(page.object_list)
    told_apart = distinguishers(people)
    context = {
        "record": record,
        "page_obj": page,
        "people": [(person, told_apart[person.pk]) for person in people],
    }
    return TemplateResponse(request, "profiles/namesakes.html", context)
