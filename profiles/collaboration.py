"""Direct collaboration: invitations to a record's owner, conversations, blocks.

Rules (PRODUCT.md, issue 5): only claimed records whose owner is open to collaborate take
invitations; the sender is signed in with a verified email, is not the owner and is not blocked by
the owner; one open invitation per sender and record (a database constraint); at most
`DAILY_INVITATION_LIMIT` new invitations per sender in 24 hours, counted in the database so the
limit survives a cache flush. Only the two people in a conversation can read or write it.

An invitation is bound to its recipient, the record's owner when it was sent: only that account
reads it, and only while it still owns the record does it answer it. Whoever owns the record
later never sees it (issue 12); when a claim ends, its open invitations are closed
(`profiles.claims`).
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from bzpeer.lib.mail import send_templated_email, site_url
from bzpeer.lib.tasks import enqueue_on_commit
from bzpeer.lib.text import is_control
from profiles.accounts import verified_email
from profiles.limits import MAX_MESSAGE_LENGTH
from profiles.models import Block, Claim, Conversation, Invitation, Message
from works.models import AuthorRecord, Authorship, Work

DAILY_INVITATION_LIMIT = 10
FORMER_OWNER_LABEL = "the record’s former owner"
CLOSED_MESSAGE = (
    "This conversation is closed: the claim through which the record’s owner accepted the "
    "invitation has ended, so no new messages can be sent."
)
# The invitation form offers the record's newest works to point at; a prolific author's
# thousands of works would make the select list useless and the page slow.
WORK_CHOICES_LIMIT = 50


class CollaborationError(Exception):
    """An invitation or message that is not allowed; the message is shown to the sender."""


class DailyLimitReached(CollaborationError):
    pass


def owner_of(record: AuthorRecord):
    """The account that owns the record through an approved claim, or None."""
    claim = (
        Claim.objects.filter(record=record, state=Claim.State.APPROVED)
        .select_related("user")
        .first()
    )
    return claim.user if claim else None


def why_cannot_invite(
    *, record: AuthorRecord, sender, owner_id: int | None, email: str | None
) -> str:
    if record.claim_state != AuthorRecord.ClaimState.CLAIMED or owner_id is None:
        return "Claim this author entity first to unlock direct invitations."
    if not record.open_to_collaborate:
        return "The owner of this record is not taking invitations at the moment."
    if not sender.is_authenticated:
        return "Log in to send an invitation."
    if sender.pk == owner_id:
        return "This is your own record."
    if not email:
        return "Verify your email address to send invitations."
    return ""


def work_choices(record: AuthorRecord) -> list[tuple[int, str]]:
    works = (
        Work.objects.filter(id__in=Authorship.objects.filter(author=record).values("work_id"))
        .order_by("-year", "-id")
        .values_list("id", "title", "year")[:WORK_CHOICES_LIMIT]
    )
    return [(pk, f"{title[:120]} ({year})" if year else title[:120]) for pk, title, year in works]


def send_invitation(
    *, record: AuthorRecord, sender, subject: str, message: str, work: Work | None = None
) -> Invitation:
    owner = owner_of(record)
    reason = why_cannot_invite(
        record=record,
        sender=sender,
        owner_id=owner.pk if owner else None,
        email=verified_email(sender),
    )
    if reason:
        raise CollaborationError(reason)
    if Block.objects.filter(owner=owner, blocked=sender).exists():
        # Said plainly but without naming the block, which would invite workarounds.
        raise CollaborationError("This researcher is not taking invitations from your account.")
    if len(message) > MAX_MESSAGE_LENGTH:
        raise CollaborationError(f"Keep the message under {MAX_MESSAGE_LENGTH} characters.")
    if any(is_control(character) for character in subject):
        # The subject is written into the notice email's body: one line, always.
        raise CollaborationError(
            "Write the subject on one line, without line breaks, tabs or other control characters."
        )
    if work is not None and not Authorship.objects.filter(author=record, work=work).exists():
        raise CollaborationError("Choose one of this researcher's works.")
    since = timezone.now() - dt.timedelta(days=1)
    if (
        Invitation.objects.filter(sender=sender, created_at__gte=since).count()
        >= DAILY_INVITATION_LIMIT
    ):
        raise DailyLimitReached(
            f"You can send at most {DAILY_INVITATION_LIMIT} invitations a day. "
            "Please try again tomorrow."
        )
    try:
        with transaction.atomic():
            invitation = Invitation.objects.create(
                sender=sender,
                record=record,
                recipient=owner,
                subject=subject,
                message=message,
                work=work,
            )
    except IntegrityError as error:
        raise CollaborationError(
            "You already have an open invitation to this researcher; wait for their answer."
        ) from error
    enqueue_on_commit("profiles.send_invitation_notice", str(invitation.pk))
    return invitation


def invitation_for_recipient(invitation_id, user) -> Invitation | None:
    """The invitation if it was sent to `user`, else None (whoever owns its record now)."""
    if not user.is_authenticated:
        return None
    return (
        Invitation.objects.filter(pk=invitation_id, recipient=user)
        .select_related("record", "sender", "work")
        .first()
    )


def _recipients_claim(invitation: Invitation, user) -> Claim | None:
    """The approved claim through which `user`, the invitation's recipient, owns its record."""
    if not user.is_authenticated or invitation.recipient_id != user.pk:
        return None
    return Claim.objects.filter(
        record_id=invitation.record_id, user=user, state=Claim.State.APPROVED
    ).first()


def still_owns(invitation: Invitation, user) -> bool:
    """Whether `user` is the invitation's recipient and still owns its record."""
    return _recipients_claim(invitation, user) is not None


def _claim_to_answer(invitation: Invitation, owner) -> Claim:
    """The claim the recipient answers through; CollaborationError when they may not answer."""
    if invitation.recipient_id != owner.pk:
        raise CollaborationError("This invitation was not sent to you.")
    claim = _recipients_claim(invitation, owner)
    if claim is None:
        raise CollaborationError(
            "You no longer own this record, so this invitation can no longer be answered."
        )
    return claim


def _close(invitation: Invitation, state: str) -> bool:
    """Conditional UPDATE: an invitation is answered once, whatever the clicks."""
    return (
        Invitation.objects.filter(pk=invitation.pk, state=Invitation.State.OPEN).update(
            state=state, decided_at=timezone.now()
        )
        == 1
    )


def accept_invitation(invitation: Invitation, *, owner) -> Conversation:
    claim = _claim_to_answer(invitation, owner)
    with transaction.atomic():
        if not _close(invitation, Invitation.State.ACCEPTED):
            existing = Conversation.objects.filter(invitation=invitation).first()
            if existing is not None:
                return existing
            raise CollaborationError("This invitation was already answered.")
        conversation = Conversation.objects.create(
            invitation=invitation, owner=owner, guest=invitation.sender, claim=claim
        )
    enqueue_on_commit("profiles.send_invitation_answer", str(invitation.pk))
    return conversation


def decline_invitation(invitation: Invitation, *, owner) -> None:
    _claim_to_answer(invitation, owner)
    if not _close(invitation, Invitation.State.DECLINED):
        raise CollaborationError("This invitation was already answered.")
    enqueue_on_commit("profiles.send_invitation_answer", str(invitation.pk))


def block_sender(invitation: Invitation, *, owner) -> None:
    """Block the sender: their open invitations to this owner are declined, silently."""
    if invitation.recipient_id != owner.pk:
        raise CollaborationError("This invitation was not sent to you.")
    with transaction.atomic():
        Block.objects.get_or_create(owner=owner, blocked=invitation.sender)
        Invitation.objects.filter(
            sender=invitation.sender, recipient=owner, state=Invitation.State.OPEN
        ).update(state=Invitation.State.DECLINED, decided_at=timezone.now())


def conversation_for(conversation_id, user) -> Conversation | None:
    """The conversation when `user` is in it; None otherwise, so that others get a 404."""
    if not user.is_authenticated:
        return None
    conversation = (
        Conversation.objects.filter(pk=conversation_id)
        .select_related("invitation__record", "owner", "guest", "claim")
        .first()
    )
    if conversation is None or not conversation.has_participant(user):
        return None
    return conversation


def post_message(conversation: Conversation, *, author, body: str) -> Message:
    if not conversation.has_participant(author):
        raise CollaborationError("You are not in this conversation.")
    if not conversation.is_open:
        raise CollaborationError(CLOSED_MESSAGE)
    body = body.strip()
    if not body:
        raise CollaborationError("Write a message first.")
    if len(body) > MAX_MESSAGE_LENGTH:
        raise CollaborationError(f"Keep messages under {MAX_MESSAGE_LENGTH} characters.")
    message = Message.objects.create(conversation=conversation, author=author, body=body)
    enqueue_on_commit("profiles.send_message_notice", message.pk)
    return message


# --- Emails -------------------------------------------------------------------------------


def _address(user) -> str | None:
    return verified_email(user) if user is not None and user.is_active else None


def email_invitation_notice(invitation_id) -> None:
    """Tell the invitation's recipient that it is waiting, while they still own the record."""
    invitation = (
        Invitation.objects.select_related("record", "recipient").filter(pk=invitation_id).first()
    )
    if invitation is None or invitation.state != Invitation.State.OPEN:
        return
    if invitation.recipient is None or not still_owns(invitation, invitation.recipient):
        return
    address = _address(invitation.recipient)
    if address:
        send_templated_email(
            to=[address],
            template="profiles/email/invitation_notice",
            context={
                "invitation": invitation,
                "invitation_url": site_url(f"/invitations/{invitation.pk}/"),
            },
        )


def email_invitation_answer(invitation_id) -> None:
    """Tell the sender that the owner accepted or declined."""
    invitation = (
        Invitation.objects.select_related("record", "sender").filter(pk=invitation_id).first()
    )
    if invitation is None or invitation.state == Invitation.State.OPEN:
        return
    address = _address(invitation.sender)
    conversation = Conversation.objects.filter(invitation=invitation).first()
    if address:
        send_templated_email(
            to=[address],
            template="profiles/email/invitation_answer",
            context={
                "invitation": invitation,
                "conversation_url": site_url(f"/conversations/{conversation.pk}/")
                if conversation
                else "",
            },
        )


def email_message_notice(message_id: int) -> None:
    """Tell the other participant that a message arrived (the message itself stays on the site)."""
    message = (
        Message.objects.select_related("conversation__invitation__record", "conversation")
        .filter(pk=message_id)
        .first()
    )
    if message is None:
        return
    conversation = message.conversation
    recipient_id = (
        conversation.guest_id
        if message.author_id == conversation.owner_id
        else conversation.owner_id
    )
    address = _address(get_user_model().objects.filter(pk=recipient_id).first())
    if address:
        send_templated_email(
            to=[address],
            template="profiles/email/message_notice",
            context={
                "message": message,
                "record": conversation.invitation.record,
                "conversation_url": site_url(f"/conversations/{conversation.pk}/"),
            },
        )
