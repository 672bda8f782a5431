"""The account's own pages: settings (digests, blocks, claims) and deletion."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from bzpeer.lib.ratelimit import hit, too_many_requests
from profiles.account_deletion import delete_account
from profiles.accounts import authenticated_orcid, settings_for, verified_email
from profiles.forms import DeleteAccountForm, DigestForm, OrcidRefreshForm
from profiles.models import Block, Claim
from profiles.orcid.config import profile_url
from profiles.views.auth import login_required

# Password checks before deleting an account, per account: someone who found a signed-in
# session cannot guess their way to deleting it (issue 12). Every POST counts, not only the
# failures: the right password ends the account, so the count is the failures and at most one
# success, and the password is not even checked past the limit.
DELETE_ACCOUNT_RATE = "5/15m"
DELETE_ACCOUNT_THROTTLED = (
    "A wrong password was typed several times, so deleting this account is paused for a while."
)


def _settings_context(request: HttpRequest, **extra) -> dict:
    user = request.user
    orcid = authenticated_orcid(user)
    return {
        "email": verified_email(user),
        "orcid": orcid,
        "orcid_url": profile_url(orcid) if orcid else "",
        "orcid_form": OrcidRefreshForm(instance=settings_for(user)) if orcid else None,
        "claims": list(
            Claim.objects.filter(user=user).select_related("record").order_by("-created_at")
        ),
        "blocks": list(
            Block.objects.filter(owner=user).select_related("blocked").order_by("-created_at")
        ),
        **extra,
    }


@require_http_methods(["GET", "POST"])
@login_required
def account_settings(request: HttpRequest):
    account = settings_for(request.user)
    form = DigestForm(request.POST or None, instance=account)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Your email digest setting was saved.")
        return redirect("profiles:settings")
    return TemplateResponse(
        request,
        "profiles/settings.html",
        _settings_context(request, form=form, delete_form=DeleteAccountForm(user=request.user)),
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@login_required
def orcid_refresh_setting(request: HttpRequest):
    """The owner's choice to have their ORCID works re-read every night."""
    if authenticated_orcid(request.user) is None:
        messages.error(request, "Connect your ORCID iD first.")
        return redirect(reverse("profiles:settings") + "#orcid")
    form = OrcidRefreshForm(request.POST, instance=settings_for(request.user))
    if form.is_valid():
        form.save()
        messages.success(
            request,
            "Your ORCID record will be checked every night."
            if form.cleaned_data["orcid_refresh"]
            else "Your ORCID record will no longer be checked every night.",
        )
    return redirect(reverse("profiles:settings") + "#orcid")


@require_http_methods(["GET", "POST"])
@login_required
def delete_my_account(request: HttpRequest):
    if request.method == "POST":
        attempt = hit("delete-account", f"user:{request.user.pk}", DELETE_ACCOUNT_RATE)
        if not attempt.allowed:
            return too_many_requests(
                request,
                scope="delete-account",
                retry_after=attempt.retry_after,
                message=DELETE_ACCOUNT_THROTTLED,
            )
    form = DeleteAccountForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        user = request.user
        logout(request)
        delete_account(user=user)
        messages.success(request, "Your account was deleted.")
        return redirect("/")
    return TemplateResponse(
        request,
        "profiles/delete_account.html",
        {"delete_form": form},
        status=400 if request.method == "POST" else 200,
    )
