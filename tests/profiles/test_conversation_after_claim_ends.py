"""A conversation speaks for the record only while the owner's claim lasts.

Issue 12, finding 3: a revoked owner kept posting in conversations, shown as the researcher.
"""

import datetime as dt
import importlib

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from profiles import claims, collaboration
from profiles.models import Claim, Conversation, Message
from tests.accounts_helpers import claimed_record, eager_tasks, make_admin
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures(eager_tasks.__name__)]

CLOSED = "This conversation is closed"


def _conversation(record, owner):
    guest = UserFactory(verified=True)
    invitation = collaboration.send_invitation(
        record=record, sender=guest, subject="Working together", message="Shall we?"
    )
    return collaboration.accept_invitation(invitation, owner=owner), guest


def test_while_the_claim_lasts_the_owner_speaks_as_the_researcher(client):
    record, owner, _ = claimed_record()
    conversation, guest = _conversation(record, owner)
    collaboration.post_message(conversation, author=owner, body="Happy to.")
    client.force_login(guest)
    html = client.get(reverse("profiles:conversation", args=[conversation.pk])).content.decode()
    assert f"Between you and {record.display_name}." in html
    assert f"{record.display_name} · " in html
    assert 'name="body"' in html
    assert CLOSED not in html


def test_once_the_owners_claim_is_revoked_nobody_posts_and_nobody_is_shown_as_the_researcher(
    client,
):
    admin = make_admin()
    record, owner, claim = claimed_record(admin=admin)
    conversation, guest = _conversation(record, owner)
    collaboration.post_message(conversation, author=owner, body="Written as the owner.")
    claims.revoke_claim(claim, by=admin, reason="Not this person.")
    url = reverse("profiles:conversation", args=[conversation.pk])

    for user in (owner, guest):
        client.force_login(user)
        response = client.post(url, {"body": "Still here?"})
        assert response.status_code == 403
        assert CLOSED in response.content.decode()
        with pytest.raises(collaboration.CollaborationError, match=CLOSED):
            collaboration.post_message(
                Conversation.objects.get(pk=conversation.pk), author=user, body="Direct."
            )
    assert list(Message.objects.values_list("body", flat=True)) == ["Written as the owner."]

    client.force_login(guest)
    html = client.get(url).content.decode()
    assert CLOSED in html
    assert 'name="body"' not in html
    assert "Written as the owner." in html
    assert f"Between you and {record.display_name}" not in html
    assert f"{record.display_name} · " not in html
    assert "the record’s former owner" in html
    inbox = client.get(reverse("profiles:inbox")).content.decode()
    assert f"with {record.display_name}" not in inbox


def test_a_new_claim_by_the_same_account_does_not_reopen_an_old_conversation():
    admin = make_admin()
    record, owner, claim = claimed_record(admin=admin)
    conversation, _ = _conversation(record, owner)
    claims.revoke_claim(claim, by=admin, reason="Evidence withdrawn.")
    again = claims.submit_claim(record=record, user=owner, links=[], statement="Me again.")
    claims.approve_claim(again, by=admin, reason="New evidence.")
    conversation = Conversation.objects.get(pk=conversation.pk)
    assert not conversation.is_open
    with pytest.raises(collaboration.CollaborationError, match=CLOSED):
        collaboration.post_message(conversation, author=owner, body="Back.")


def test_the_migration_binds_conversations_to_the_claim_active_when_they_opened():
    admin = make_admin()
    now = timezone.now()
    record, owner, claim = claimed_record(admin=admin)
    Claim.objects.filter(pk=claim.pk).update(decided_at=now - dt.timedelta(days=3))
    current, _ = _conversation(record, owner)
    revoked_record, revoked_owner, revoked_claim = claimed_record(admin=admin)
    ended, _ = _conversation(revoked_record, revoked_owner)
    claims.revoke_claim(revoked_claim, by=admin, reason="Wrong person.")
    Conversation.objects.update(claim=None)

    migration = importlib.import_module("profiles.migrations.0008_conversation_claim")
    migration.fill_claims(apps, None)

    assert dict(Conversation.objects.values_list("pk", "claim_id")) == {
        current.pk: claim.pk,
        ended.pk: revoked_claim.pk,
    }
    assert Conversation.objects.get(pk=current.pk).is_open
    assert not Conversation.objects.get(pk=ended.pk).is_open
