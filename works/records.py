"""The one rule for "the record at this address", used by every view that takes a record slug.

A slug leads to the record that has it; a record merged into another leads on to the survivor,
following chains of merges; an old slug (kept by ``SlugRedirect`` after a merge or a rename)
leads to its record the same way. Anything else is a 404. A view reached through anything but
the survivor's own slug redirects there permanently: 301 for GET and HEAD, 308 (the method and
body kept) for the rest, so an htmx POST to a stale address still lands on the right record.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
)
from django.http.response import HttpResponseRedirectBase
from django.urls import reverse

from works.models import AuthorRecord, SlugRedirect

# A chain of merges (A into B, B into C) is followed this far; a cycle, which only a broken
# admin edit could make, ends in a 404 instead of a loop.
MAX_MERGE_HOPS = 10


class HttpResponsePermanentRedirectKeepMethod(HttpResponseRedirectBase):
    status_code = 308


def surviving(record: AuthorRecord | None) -> AuthorRecord | None:
    """The record at the end of ``record``'s chain of merges (itself when not merged)."""
    seen: set[int] = set()
    while record is not None and record.merged_into_id:
        if record.pk in seen or len(seen) >= MAX_MERGE_HOPS:
            return None
        seen.add(record.pk)
        record = AuthorRecord.objects.filter(pk=record.merged_into_id).first()
    return record


def resolve_slug(slug: str, *, found: AuthorRecord | None = None) -> AuthorRecord | None:
    """The live record a slug leads to, or None.

    ``found`` is the record a view already loaded by this exact slug (a hot path may load it
    with more columns in one query); it is only looked up again when absent or merged.
    """
    record = found if found is not None else AuthorRecord.objects.filter(slug=slug).first()
    if record is None:
        moved = SlugRedirect.objects.select_related("record").filter(old_slug=slug).first()
        record = moved.record if moved else None
    return surviving(record)


def record_from_slug(
    view_name: str,
    *,
    people_only: bool = True,
    load: Callable[[str], AuthorRecord | None] | None = None,
):
    """Decorate a view taking ``slug`` so that it receives ``record`` instead.

    ``view_name`` is the view's URL name, for the redirect to the survivor's address.
    ``people_only`` makes organisation records a 404 (they have no person pages).
    ``load`` loads the record by exact slug when the view needs more than the model's columns.
    """

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request: HttpRequest, slug: str, *args, **kwargs) -> HttpResponse:
            found = load(slug) if load else None
            record = found if found is not None and not found.merged_into_id else None
            if record is None:
                record = resolve_slug(slug, found=found)
            if record is None or (people_only and not record.is_person):
                raise Http404("No researcher with this address.")
            if record.slug != slug:
                return redirect_to_record(request, view_name, record, kwargs)
            return view(request, record, *args, **kwargs)

        return wrapped

    return decorator


def redirect_to_record(
    request: HttpRequest, view_name: str, record: AuthorRecord, kwargs: dict
) -> HttpResponse:
    url = reverse(view_name, kwargs={"slug": record.slug, **kwargs})
    query = request.META.get("QUERY_STRING", "")
    if query:
        url = f"{url}?{query}"
    if request.method in ("GET", "HEAD"):
        return HttpResponsePermanentRedirect(url)
    return HttpResponsePermanentRedirectKeepMethod(url)
