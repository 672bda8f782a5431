"""Direct collaboration: who may invite, the limits, answers, blocks, conversations, emails."""

import pytest
from django.core import mail
from django.urls import reverse

from profiles import collaboration
from profiles.models import Block, Conversation, Invitation, Message
from tests.accounts_helpers import claimed_record, eager_tasks, record_with_works
from tests.factories import UserFactory, WorkFactory, add_authors

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures(eager_tasks.__name__)]


def _invite(record, sender, **kwargs):
    return collaboration.send_invitation(
        record=record,
        sender=sender,
        subject=kwargs.pop("subject", "Shared interest"),
        message=kwargs.pop("message", "Would you like to work together?"),
        **kwargs,
    )


def test_a_verified_visitor_invites_the_owner_who_is_emailed(django_capture_on_commit_callbacks):
    record, owner, _ = claimed_record()
    sender = UserFactory(verified=True)
    with django_capture_on_commit_callbacks(execute=True):
        invitation = _invite(record, sender)
    assert (invitation.state, invitation.sender, invitation.record) == ("open", sender, record)
    assert [m.to for m in mail.outbox] == [[owner.email]]
    assert f"/invitations/{invitation.pk}/" in mail.outbox[0].body


@pytest.mark.parametrize(
    ("situation", "message"),
    [
        ("unclaimed", "Claim this author entity first"),
        ("closed", "not taking invitations"),
        ("unverified", "Verify your email"),
        ("owner", "your own record"),
    ],
)
def test_who_cannot_invite(situation, message):
    if situation == "unclaimed":
        record, sender = record_with_works(open_to_collaborate=True), UserFactory(verified=True)
    elif situation == "closed":
        record, _, _ = claimed_record(open_to_collaborate=False)
        sender = UserFactory(verified=True)
    elif situation == "unverified":
        record, _, _ = claimed_record()
        sender = UserFactory(verified=False)
    else:
        record, sender, _ = claimed_record()
    with pytest.raises(collaboration.CollaborationError, match=message):
        _invite(record, sender)
    assert Invitation.objects.count() == 0


def test_one_open_invitation_per_pair():
    record, _, _ = claimed_record()
    sender = UserFactory(verified=True)
    _invite(record, sender)
    with pytest.raises(collaboration.CollaborationError, match="already have an open invitation"):
        _invite(record, sender)
    assert Invitation.objects.count() == 1


def test_after_an_answer_the_sender_may_invite_again():
    record, owner, _ = claimed_record()
    sender = UserFactory(verified=True)
    collaboration.decline_invitation(_invite(record, sender), owner=owner)
    _invite(record, sender)
    assert Invitation.objects.filter(state="open").count() == 1


def test_at_most_ten_new_invitations_per_sender_per_day():
    sender = UserFactory(verified=True)
    records = [claimed_record()[0] for _ in range(11)]
    for record in records[:10]:
        _invite(record, sender)
    with pytest.raises(collaboration.DailyLimitReached, match="at most 10"):
        _invite(records[10], sender)
    assert Invitation.objects.filter(sender=sender).count() == 10


def test_the_daily_limit_answers_429_on_the_page(client):
    sender = UserFactory(verified=True)
    for _ in range(10):
        _invite(claimed_record()[0], sender)
    record, _, _ = claimed_record()
    client.force_login(sender)
    response = client.post(
        reverse("profiles:invite", args=[record.slug]), {"subject": "Hi", "message": "Hello"}
    )
    assert response.status_code == 429
    assert "at most 10 invitations a day" in response.content.decode()


def test_a_blocked_sender_cannot_invite_and_their_open_invitations_are_declined():
    record, owner, _ = claimed_record()
    sender = UserFactory(verified=True)
    invitation = _invite(record, sender)
    collaboration.block_sender(invitation, owner=owner)
    invitation.refresh_from_db()
    assert invitation.state == "declined"
    assert Block.objects.filter(owner=owner, blocked=sender).count() == 1
    with pytest.raises(collaboration.CollaborationError, match="not taking invitations from"):
        _invite(record, sender)


def test_the_work_must_be_one_of_the_records_works():
    record, _, _ = claimed_record()
    stranger_work = WorkFactory()
    with pytest.raises(collaboration.CollaborationError, match="one of this researcher"):
        _invite(record, UserFactory(verified=True), work=stranger_work)
    own_work = WorkFactory()
    add_authors(own_work, [record])
    invitation = _invite(record, UserFactory(verified=True), work=own_work)
    assert invitation.work == own_work


def test_messages_are_limited_to_2000_characters(client):
    record, _, _ = claimed_record()
    sender = UserFactory(verified=True)
    client.force_login(sender)
    response = client.post(
        reverse("profiles:invite", args=[record.slug]), {"subject": "Hi", "message": "x" * 2001}
    )
    assert response.status_code == 400
    assert Invitation.objects.count() == 0
    response = client.post(
        reverse("profiles:invite", args=[record.slug]), {"subject": "Hi", "message": "x" * 2000}
    )
    assert response.status_code == 302
    assert Invitation.objects.count() == 1


def test_accepting_opens_a_conversation_both_can_write_and_each_message_is_emailed(
    client, django_capture_on_commit_callbacks
):
    record, owner, _ = claimed_record()
    sender = UserFactory(verified=True)
    invitation = _invite(record, sender)

    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("profiles:invitation-accept", args=[invitation.pk]))
    conversation = Conversation.objects.get(invitation=invitation)
    assert response["Location"] == reverse("profiles:conversation", args=[conversation.pk])
    assert (conversation.owner, conversation.guest) == (owner, sender)
    assert [m.to for m in mail.outbox] == [[sender.email]]  # the answer
    mail.outbox.clear()

    url = reverse("profiles:conversation", args=[conversation.pk])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"body": "Happy to talk."})
    client.force_login(sender)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"body": "Great!"})

    assert list(Message.objects.values_list("author_id", "body")) == [
        (owner.pk, "Happy to talk."),
        (sender.pk, "Great!"),
    ]
    assert [m.to for m in mail.outbox] == [[sender.email], [owner.email]]
    html = client.get(reverse("profiles:conversation", args=[conversation.pk])).content.decode()
    assert "Happy to talk." in html and "Great!" in html


def test_answering_twice_changes_nothing():
    record, owner, _ = claimed_record()
    invitation = _invite(record, UserFactory(verified=True))
    first = collaboration.accept_invitation(invitation, owner=owner)
    assert collaboration.accept_invitation(invitation, owner=owner) == first
    with pytest.raises(collaboration.CollaborationError):
        collaboration.decline_invitation(invitation, owner=owner)
    assert Conversation.objects.count() == 1


def test_messages_are_plain_text_and_escaped(client):
    record, owner, _ = claimed_record()
    sender = UserFactory(verified=True)
    invitation = _invite(record, sender, message="<script>alert(1)</script>")
    conversation = collaboration.accept_invitation(invitation, owner=owner)
    collaboration.post_message(conversation, author=sender, body="<b>bold</b>\nline two")
    client.force_login(owner)
    html = client.get(reverse("profiles:conversation", args=[conversation.pk])).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;bold&lt;/b&gt;<br>line two" in html


def test_nobody_reads_a_conversation_they_are_not_in(client):
    record, owner, _ = claimed_record()
    conversation = collaboration.accept_invitation(
        _invite(record, UserFactory(verified=True)), owner=owner
    )
    client.force_login(UserFactory(verified=True, is_staff=True))
    assert client.get(reverse("profiles:conversation", args=[conversation.pk])).status_code == 404
    response = client.post(
        reverse("profiles:conversation", args=[conversation.pk]), {"body": "intrusion"}
    )
    assert response.status_code == 404
    assert Message.objects.count() == 0


def test_the_profile_page_shows_the_invitation_form_only_when_it_applies(client):
    record, owner, _ = claimed_record()
    sender = UserFactory(verified=True)
    client.force_login(sender)
    html = client.get(record.get_absolute_url()).content.decode()
    assert f'action="{reverse("profiles:invite", args=[record.slug])}"' in html
    assert "Send invitation" in html

    _invite(record, sender)
    html = client.get(record.get_absolute_url()).content.decode()
    assert "is waiting for an answer" in html
    assert "Send invitation" not in html

    client.force_login(owner)
    html = client.get(record.get_absolute_url()).content.decode()
    assert "Send invitation" not in html
    assert "This is your own record." in html


def test_the_inbox_lists_received_and_sent_invitations(client):
    record, owner, _ = claimed_record()
    sender = UserFactory(verified=True)
    _invite(record, sender, subject="Received subject")
    client.force_login(owner)
    assert "Received subject" in client.get(reverse("profiles:inbox")).content.decode()
    client.force_login(sender)
    html = client.get(reverse("profiles:inbox")).content.decode()
    assert "Received subject" in html
    assert "to " + record.display_name in html


def test_messages_are_rate_limited(client, one_ratelimit_window):
    record, owner, _ = claimed_record()
    conversation = collaboration.accept_invitation(
        _invite(record, UserFactory(verified=True)), owner=owner
    )
    client.force_login(owner)
    url = reverse("profiles:conversation", args=[conversation.pk])
    statuses = [client.post(url, {"body": f"message {n}"}).status_code for n in range(21)]
    assert statuses == [302] * 20 + [429]
    assert Message.objects.count() == 20
