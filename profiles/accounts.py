"""Accounts: verified emails, per-account settings, the login guard for views, account deletion."""

from __future__ import annotations

import functools
from urllib.parse import urlencode, urlsplit

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect

from profiles.models import AccountSettings, Claim, Follow, Invitation
from profiles.trust_queue import queue_trust_recompute
from works.models import AuthorRecord


def verified_email(user) -> str | None:
    """The account's verified address (the primary one first), or None."""
    if not user.is_authenticated:
        return None
    return (
        EmailAddress.objects.filter(user=user, verified=True)
        .order_by("-primary", "id")
        .values_list("email", flat=True)
        .first()
    )


def settings_for(user) -> AccountSettings:
    account_settings, _ = AccountSettings.objects.get_or_create(user=user)
    return account_settings


def safe_next(request: HttpRequest, candidate: str | None) -> str | None:
    """The path and query of `candidate` when it points inside this site, else None."""
    if not candidate:
        return None
    if not url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return None
    parts = urlsplit(candidate)
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path


def _return_path(request: HttpRequest) -> str:
    """Where to come back after logging in.

    A GET comes back to itself. A POST (an htmx click, a form on a page) cannot be replayed
    after login, so it comes back to the page it was sent from.
    """
    if request.method == "GET" and not request.htmx:
        return request.get_full_path()
    current = request.headers.get("HX-Current-URL") or request.headers.get("Referer")
    return safe_next(request, current) or "/"


def login_required(view):
    """Like Django's, but an htmx request gets an HX-Redirect to the login page.

    Django's redirect would be followed by htmx itself and the login page swapped into a
    fragment; HX-Redirect makes the browser navigate to it instead.
    """

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        back = _return_path(request)
        if request.htmx:
            login = resolve_url(settings.LOGIN_URL)
            return HttpResponseClientRedirect(f"{login}?{urlencode({'next': back})}")
        return redirect_to_login(back)

    return wrapped


def owned_record(user) -> AuthorRecord | None:
    """The record this account has claimed (an account claims at most one)."""
    if not user.is_authenticated:
        return None
    return AuthorRecord.objects.filter(
        claims__user=user, claims__state=Claim.State.APPROVED
    ).first()


def delete_account(*, user) -> None:
    """Delete the account with everything that is only its own.

    Its follows, invitations and claims go; an approved claim is released first, through the
    claim transition, so the record returns to unclaimed and its history says so. Follower counts
    of the records it followed drop by one each, set-based.
    """
    from profiles.claims import release_claim
    from profiles.verification import transition

    with transaction.atomic():
        for claim in Claim.objects.filter(user=user, state=Claim.State.APPROVED):
            release_claim(claim, reason="The claimant deleted their account.")
        followed_ids = list(Follow.objects.filter(user=user).values_list("record_id", flat=True))
        Follow.objects.filter(user=user).delete()
        AuthorRecord.objects.filter(id__in=followed_ids, follower_count__gt=0).update(
            follower_count=F("follower_count") - 1
        )
        Invitation.objects.filter(sender=user).delete()
        pending_on = list(
            AuthorRecord.objects.filter(claims__user=user, claims__state=Claim.State.PENDING)
        )
        Claim.objects.filter(user=user).delete()
        for record in pending_on:
            # "Claim pending" goes away with the last pending claim.
            transition(record, actor=None, reason="A pending claim was withdrawn.")
        user.delete()
    if followed_ids:
        queue_trust_recompute(followed_ids)
