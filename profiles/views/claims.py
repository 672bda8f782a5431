"""Claiming a record, withdrawing a claim, and the owner's powers: edits and "not mine"."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from bzpeer.lib.ratelimit import ratelimit
from profiles import claims, corrections
from profiles.accounts import authenticated_orcid, verified_email
from profiles.forms import ClaimForm, OwnerEditForm
from profiles.models import Claim, OrcidOffer
from profiles.orcid import checks as orcid_checks
from profiles.orcid.config import profile_url
from profiles.orcid.evidence import MIN_MATCHING_WORKS
from profiles.views.auth import login_required
from profiles.views.sections import identity_section
from works.models import AuthorRecord, Authorship, RecordEvent, Work
from works.records import record_from_slug


def _require_owner(request: HttpRequest, record: AuthorRecord) -> None:
    """403 unless the signed-in account owns the record."""
    if not Claim.objects.filter(
        record=record, user=request.user, state=Claim.State.APPROVED
    ).exists():
        raise PermissionDenied("Only the owner of this record can change it.")


@require_http_methods(["GET", "POST"])
@login_required
# Counts every POST, including forms sent back with an error: ten a day is plenty for a person.
@ratelimit("claim", "10/d")
@record_from_slug("profiles:claim")
def claim_record(request: HttpRequest, record: AuthorRecord):
    context = identity_section(record, request.user)
    panel = context["claim_panel"]
    orcid = authenticated_orcid(request.user)
    form = ClaimForm(request.POST or None, authenticated_orcid=orcid)
    if request.method == "POST" and panel.can_claim and form.is_valid():
        try:
            claim = claims.submit_claim(
                record=record,
                user=request.user,
                orcid=orcid or form.cleaned_data["orcid"],
                orcid_authenticated=bool(orcid),
                links=form.cleaned_data["links"],
                statement=form.cleaned_data["statement"],
            )
        except claims.ClaimError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _claim_sent_message(claim))
            return redirect(f"{record.get_absolute_url()}#identity")
    return TemplateResponse(
        request,
        "profiles/claim.html",
        {
            "record": record,
            "form": form,
            "email": verified_email(request.user),
            "orcid": orcid,
            "orcid_url": profile_url(orcid) if orcid else "",
            "orcid_needed": 1 if record.work_count == 1 else MIN_MATCHING_WORKS,
            **context,
        },
        status=400 if request.method == "POST" else 200,
    )


def _claim_sent_message(claim: Claim) -> str:
    # With eager tasks (or a quick worker) the ORCID check has already run.
    claim.refresh_from_db(fields=["state", "orcid_check"])
    if claim.state == Claim.State.APPROVED:
        return (
            "Your claim was approved at once: your ORCID record lists works of this record. "
            "It is yours now: edit it from your record's page."
        )
    if claim.orcid_authenticated and claim.orcid_check.get("reason"):
        return f"Your claim was sent. {claim.orcid_check['reason']}"
    if claim.orcid_authenticated:
        return (
            "Your claim was sent. We are comparing the works on your ORCID record with this "
            "record: if they agree, it is approved within minutes; otherwise an admin reviews "
            "it and we email you the decision."
        )
    return "Your claim was sent. An admin will review it; we will email you the decision."


@require_POST
@login_required
def withdraw_claim(request: HttpRequest, claim_id):
    claim = get_object_or_404(
        Claim.objects.select_related("record"), pk=claim_id, user=request.user
    )
    try:
        claims.withdraw_claim(claim, by=request.user)
    except claims.ClaimError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Your claim was withdrawn.")
    return redirect(f"{claim.record.get_absolute_url()}#identity")


@require_http_methods(["GET", "POST"])
@login_required
@record_from_slug("profiles:edit")
def edit_record(request: HttpRequest, record: AuthorRecord):
    _require_owner(request, record)
    form = OwnerEditForm(request.POST or None, instance=record)
    if request.method == "POST" and form.is_valid():
        _save_owner_edit(record, form, actor=request.user)
        messages.success(request, "Your record was updated.")
        return redirect(record.get_absolute_url())
    works = (
        Authorship.objects.filter(author=record)
        .select_related("work")
        .only("work__id", "work__arxiv_id", "work__title", "work__year")
        .order_by("-work__year", "-work_id")
    )
    offers = list(
        OrcidOffer.objects.filter(
            user=request.user,
            record=record,
            state__in=[OrcidOffer.State.OPEN, OrcidOffer.State.CONFLICT],
        )
        .select_related("work", "source")
        .order_by("state", "-work__year", "work_id")
    )
    return TemplateResponse(
        request,
        "profiles/edit.html",
        {
            "record": record,
            "form": form,
            "authorships": works,
            "orcid_offers": [o for o in offers if o.state == OrcidOffer.State.OPEN],
            "orcid_conflicts": [o for o in offers if o.state == OrcidOffer.State.CONFLICT],
        },
        status=400 if request.method == "POST" else 200,
    )


def _owners_offer(request: HttpRequest, record: AuthorRecord, offer_id: int) -> OrcidOffer:
    """The owner's open offer on their record (403 for anyone else, 404 for no such offer)."""
    _require_owner(request, record)
    return get_object_or_404(
        OrcidOffer.objects.select_related("work"),
        pk=offer_id,
        user=request.user,
        record=record,
        state=OrcidOffer.State.OPEN,
    )


@require_POST
@login_required
@record_from_slug("profiles:orcid-offer-accept")
def accept_orcid_offer(request: HttpRequest, record: AuthorRecord, offer_id: int):
    offer = _owners_offer(request, record, offer_id)
    try:
        outcome = orcid_checks.accept_offer(offer, by=request.user)
    except orcid_checks.OfferError as error:
        messages.error(request, str(error))
    else:
        (messages.success if outcome.moved else messages.warning)(request, outcome.message)
    return redirect(reverse("profiles:edit", args=[record.slug]) + "#orcid-offers")


@require_POST
@login_required
@record_from_slug("profiles:orcid-offer-decline")
def decline_orcid_offer(request: HttpRequest, record: AuthorRecord, offer_id: int):
    offer = _owners_offer(request, record, offer_id)
    try:
        orcid_checks.decline_offer(offer, by=request.user)
    except orcid_checks.OfferError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, f"“{offer.work.title[:120]}” stays where it is; it will not be offered again."
        )
    return redirect(reverse("profiles:edit", args=[record.slug]) + "#orcid-offers")


_LABELS = {
    "description": "description",
    "owner_affiliation": "affiliation",
    "open_to_collaborate": "collaboration setting",
}


def _save_owner_edit(record: AuthorRecord, form: OwnerEditForm, *, actor) -> None:
    # A ModelForm writes the new values onto the instance while validating: the old ones are
    # the form's initial data.
    before = {
        "description": form.initial.get("description", ""),
        "owner_affiliation": form.fields["affiliation"].initial or "",
        "open_to_collaborate": bool(form.initial.get("open_to_collaborate")),
    }
    record.description = form.cleaned_data["description"]
    record.open_to_collaborate = form.cleaned_data["open_to_collaborate"]
    record.owner_affiliation = form.cleaned_data["affiliation"].strip()
    changed = [name for name in _LABELS if getattr(record, name) != before[name]]
    if not changed:
        return
    with transaction.atomic():
        record.save(update_fields=changed)
        RecordEvent.objects.create(
            record=record,
            kind=RecordEvent.Kind.EDIT,
            summary="The owner changed the " + ", ".join(_LABELS[n] for n in changed) + ".",
            actor=actor,
            data={"changed": {n: [before[n], getattr(record, n)] for n in changed}},
        )


@require_POST
@login_required
@record_from_slug("profiles:not-mine")
def not_mine(request: HttpRequest, record: AuthorRecord, work_id: int):
    _require_owner(request, record)
    work = get_object_or_404(Work.objects.filter(authorships__author=record).distinct(), pk=work_id)
    try:
        split = corrections.mark_not_mine(record=record, work=work, by=request.user)
    except corrections.CorrectionError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            f"“{work.title[:120]}” is no longer on your record; "
            f"it moved to {split.get_absolute_url()}.",
        )
    return redirect("profiles:edit", slug=record.slug)
