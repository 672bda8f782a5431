"""A record's public history: what changed, who did it (by role), and when."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET

from profiles.models import Claim
from works.models import AuthorRecord, RecordEvent
from works.records import record_from_slug

EVENTS_PER_PAGE = 25


def actor_label(event: RecordEvent, *, owner_ids: set[int]) -> str:
    """Who did it, by role: the history is public and accounts' addresses are not."""
    if event.actor_id is None:
        return "BZPEER" if event.kind == RecordEvent.Kind.IMPORT else "System"
    if event.actor.is_staff:
        return "An admin"
    if event.actor_id in owner_ids:
        return "The owner"
    return "A signed-in account"


@require_GET
# Organisations have a history too (imports, merges).
@record_from_slug("profiles:history", people_only=False)
def record_history(request: HttpRequest, record: AuthorRecord):
    events = (
        RecordEvent.objects.filter(record=record)
        .select_related("actor")
        .only("kind", "summary", "created_at", "actor_id", "actor__is_staff", "record_id", "data")
        .order_by("-created_at", "-id")
    )
    page = Paginator(events, EVENTS_PER_PAGE).get_page(request.GET.get("page"))
    # Owners past and present: "the owner" is whoever held an approved claim when they acted.
    owner_ids = set(
        Claim.objects.filter(
            record=record, state__in=[Claim.State.APPROVED, Claim.State.REVOKED]
        ).values_list("user_id", flat=True)
    )
    rows = [(event, actor_label(event, owner_ids=owner_ids)) for event in page.object_list]
    return TemplateResponse(
        request, "profiles/history.html", {"record": record, "page_obj": page, "rows": rows}
    )
