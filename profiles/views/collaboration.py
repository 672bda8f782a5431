"""Direct collaboration: send an invitation, the owner's inbox, answers, conversations.

Objects are found through the current account (an invitation through the record it owns or the
invitation it sent, a conversation through its two participants), so a stranger who guesses a
UUID gets the same 404 as for one that does not exist.
"""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bzpeer.lib.ratelimit import ratelimit, too_many_requests
from profiles import collaboration
from profiles.forms import InvitationForm, MessageForm
from profiles.models import Block, Conversation, Invitation
from profiles.views.auth import login_required
from profiles.views.sections import identity_section
from works.models import AuthorRecord, Work
from works.records import record_from_slug


@require_http_methods(["GET", "POST"])
@login_required
@ratelimit("invitation", "20/h")
@record_from_slug("profiles:invite")
def invite(request: HttpRequest, record: AuthorRecord):
    context = identity_section(record, request.user)
    panel = context["collaboration"]
    form = InvitationForm(request.POST or None, work_choices=collaboration.work_choices(record))
    status = 200
    if request.method == "POST":
        status = 400
        if panel.reason:
            form.add_error(None, panel.reason)
        elif form.is_valid():
            work_id = form.cleaned_data["work"]
            try:
                collaboration.send_invitation(
                    record=record,
                    sender=request.user,
                    subject=form.cleaned_data["subject"],
                    message=form.cleaned_data["message"],
                    work=Work.objects.filter(pk=work_id).first() if work_id else None,
                )
            except collaboration.DailyLimitReached as error:
                return too_many_requests(
                    request, scope="invitation", retry_after=24 * 3600, message=str(error)
                )
            except collaboration.CollaborationError as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request, "Your invitation was sent. You will get an email when they answer."
                )
                return redirect(f"{record.get_absolute_url()}#identity")
    return TemplateResponse(
        request,
        "profiles/invitation_form.html",
        {"record": record, "form": form, **context},
        status=status,
    )


@require_GET
@login_required
def inbox(request: HttpRequest):
    user = request.user
    received = list(
        Invitation.objects.filter(recipient=user)
        .select_related("sender", "record", "work", "conversation")
        .order_by("-created_at")[:100]
    )
    sent = list(
        Invitation.objects.filter(sender=user)
        .select_related("record", "conversation")
        .order_by("-created_at")[:100]
    )
    conversations = list(
        Conversation.objects.filter(Q(owner=user) | Q(guest=user))
        .select_related("invitation__record", "owner", "guest", "claim")
        .order_by("-created_at")[:100]
    )
    return TemplateResponse(
        request,
        "profiles/inbox.html",
        {
            "open_received": [i for i in received if i.state == Invitation.State.OPEN],
            "answered_received": [i for i in received if i.state != Invitation.State.OPEN],
            "sent": sent,
            "conversations": conversations,
        },
    )


def _visible_invitation(request: HttpRequest, invitation_id) -> tuple[Invitation, bool]:
    """The invitation and whether the viewer is its recipient; 404 for anyone else (a later
    owner of the record included)."""
    owned = collaboration.invitation_for_recipient(invitation_id, request.user)
    if owned is not None:
        return owned, True
    sent = (
        Invitation.objects.filter(pk=invitation_id, sender=request.user)
        .select_related("record", "work", "sender")
        .first()
    )
    if sent is None:
        raise Http404("No such invitation.")
    return sent, False


@require_GET
@login_required
def invitation_detail(request: HttpRequest, invitation_id):
    invitation, is_owner = _visible_invitation(request, invitation_id)
    conversation = Conversation.objects.filter(invitation=invitation).first()
    return TemplateResponse(
        request,
        "profiles/invitation.html",
        {
            "invitation": invitation,
            "is_owner": is_owner,
            "can_answer": is_owner and collaboration.still_owns(invitation, request.user),
            "conversation": conversation,
            # Before accepting, the owner sees where the sender's verified address is, not
            # the address itself.
            "sender_domain": invitation.sender.email.rpartition("@")[2],
        },
    )


def _owner_invitation(request: HttpRequest, invitation_id) -> Invitation:
    invitation = collaboration.invitation_for_recipient(invitation_id, request.user)
    if invitation is None:
        # The sender of the invitation, or a later owner of the record, cannot answer it
        # either: same 404 as a stranger.
        raise Http404("No such invitation.")
    return invitation


@require_POST
@login_required
def accept_invitation(request: HttpRequest, invitation_id):
    invitation = _owner_invitation(request, invitation_id)
    try:
        conversation = collaboration.accept_invitation(invitation, owner=request.user)
    except collaboration.CollaborationError as error:
        messages.error(request, str(error))
        return redirect("profiles:invitation", invitation_id=invitation.pk)
    return redirect("profiles:conversation", conversation_id=conversation.pk)


@require_POST
@login_required
def decline_invitation(request: HttpRequest, invitation_id):
    invitation = _owner_invitation(request, invitation_id)
    try:
        collaboration.decline_invitation(invitation, owner=request.user)
    except collaboration.CollaborationError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "The invitation was declined.")
    return redirect("profiles:inbox")


@require_POST
@login_required
def block_sender(request: HttpRequest, invitation_id):
    invitation = _owner_invitation(request, invitation_id)
    try:
        collaboration.block_sender(invitation, owner=request.user)
    except collaboration.CollaborationError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "You will not receive invitations from this account any more.")
    return redirect("profiles:inbox")


@require_POST
@login_required
def unblock(request: HttpRequest, block_id: int):
    block = get_object_or_404(Block, pk=block_id, owner=request.user)
    block.delete()
    messages.success(request, "The account can send you invitations again.")
    return redirect("profiles:settings")


@require_http_methods(["GET", "POST"])
@login_required
@ratelimit("message", "20/10m")
def conversation(request: HttpRequest, conversation_id):
    found = collaboration.conversation_for(conversation_id, request.user)
    if found is None:
        raise Http404("No such conversation.")
    form = MessageForm(request.POST or None)
    status = 200
    if request.method == "POST" and not found.is_open:
        # Read-only once the owner's claim has ended: the page says so in place of the form.
        status = 403
    elif request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                collaboration.post_message(
                    found, author=request.user, body=form.cleaned_data["body"]
                )
            except collaboration.CollaborationError as error:
                form.add_error(None, str(error))
            else:
                return redirect(f"{request.path}#latest")
    return TemplateResponse(
        request,
        "profiles/conversation.html",
        {
            "conversation": found,
            "messages_list": list(
                found.messages.select_related("author").order_by("created_at", "id")
            ),
            "form": form,
            "other": found.guest if request.user.pk == found.owner_id else found.owner,
            # The owner speaks as the researcher only while their claim lasts.
            "owner_label": (
                found.invitation.record.display_name
                if found.is_open
                else collaboration.FORMER_OWNER_LABEL
            ),
            "closed_message": collaboration.CLOSED_MESSAGE,
        },
        status=status,
    )
