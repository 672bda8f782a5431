"""The account's own pages: settings (digests, blocks, claims) and deletion."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_http_methods

from profiles.account_deletion import delete_account
from profiles.accounts import settings_for, verified_email
from profiles.forms import DeleteAccountForm, DigestForm
from profiles.models import Block, Claim
from profiles.views.auth import login_required


def _settings_context(request: HttpRequest, **extra) -> dict:
    user = request.user
    return {
        "email": verified_email(user),
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


@require_http_methods(["GET", "POST"])
@login_required
def delete_my_account(request: HttpRequest):
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
