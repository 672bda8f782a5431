"""Follow and unfollow (one click, htmx or not) and the Following page."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET, require_POST

from bzpeer.lib.ratelimit import MESSAGES, hit, too_many_requests, who_is
from profiles import follows
from profiles.views.auth import login_required
from profiles.views.sections import follow_section
from works.models import AuthorRecord
from works.records import record_from_slug

# Generous for a person, tight for a script flipping a follow to move a trust score.
FOLLOW_RATE = "30/m"


def _answer(
    request: HttpRequest,
    record: AuthorRecord,
    *,
    status: int = 200,
    message: str = "",
    following: bool | None = None,
):
    if request.htmx:
        context = {
            "record": record,
            **follow_section(record, request.user, following=following),
            "follow_message": message,
        }
        return TemplateResponse(
            request, "profiles/_follow.html#follow-panel", context, status=status
        )
    return redirect(f"{record.get_absolute_url()}#actions")


def _toggle(request: HttpRequest, record: AuthorRecord, *, action, now_following: bool):
    outcome = hit("follow", who_is(request), FOLLOW_RATE)
    if not outcome.allowed:
        if request.htmx:
            message = f"{MESSAGES['follow']} Please wait a minute."
            return _answer(request, record, status=429, message=message)
        return too_many_requests(request, scope="follow", retry_after=outcome.retry_after)
    try:
        action(user=request.user, record=record)
    except follows.FollowError as error:
        raise PermissionDenied(str(error)) from error
    return _answer(request, record, following=now_following)


@require_POST
@login_required
@record_from_slug("profiles:follow")
def follow(request: HttpRequest, record: AuthorRecord):
    return _toggle(request, record, action=follows.follow, now_following=True)


@require_POST
@login_required
@record_from_slug("profiles:unfollow")
def unfollow(request: HttpRequest, record: AuthorRecord):
    return _toggle(request, record, action=follows.unfollow, now_following=False)


@require_GET
@login_required
def following(request: HttpRequest):
    try:
        page = max(1, min(int(request.GET.get("page", "1")), 10_000))
    except ValueError:
        page = 1
    rows, has_next, seen_at = follows.following_page(user=request.user, page=page)
    return TemplateResponse(
        request,
        "profiles/following.html",
        {
            "rows": rows,
            "page": page,
            "next_page": page + 1 if has_next else None,
            "previous_page": page - 1 if page > 1 else None,
            "seen_at": seen_at,
        },
    )
