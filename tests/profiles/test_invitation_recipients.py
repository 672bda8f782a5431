"""Invitations belong to the account they were sent to, not to whoever owns the record later.

Issue 12, finding 2: after the owner deletes the account (or is revoked) and someone else's claim
is approved, the new owner's inbox and `/invitations/<id>/` showed the old invitations.
"""

import datetime as dt
import importlib

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from profiles import claims, collaboration
from profiles.account_deletion import delete_account
from profiles.models import Claim, Conversation, Invitation
from tests.accounts_helpers import claimed_record, eager_tasks, make_admin
from tests.factories import UserFactory
from works.models import RecordEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures(eager_tasks.__name__)]


def _invite(record, sender, subject):
    return collaboration.send_invitation(
        record=record, sender=sender, subject=subject, message=f"The text of {subject}."
    )


def _old_owner_leaves(how: str, *, owner, claim, admin) -> None:
    if how == "deleted":
        delete_account(user=owner)
    else:
        claims.revoke_claim(claim, by=admin, reason="Not this person.")


def _next_owner_claims(record, admin):
    new_owner = UserFactory(verified=True)
    claim = claims.submit_claim(record=record, user=new_owner, links=[], statement="Me.")
    claims.approve_claim(claim, by=admin, reason="Checked.")
    return new_owner


@pytest.mark.parametrize("how", ["deleted", "revoked"])
def test_invitations_to_a_former_owner_never_reach_the_next_owner(client, how):
    admin = make_admin()
    record, old_owner, old_claim = claimed_record(admin=admin)
    sender = UserFactory(verified=True)
    answered = _invite(record, sender, "Answered before")
    collaboration.decline_invitation(answered, owner=old_owner)
    waiting = _invite(record, UserFactory(verified=True), "Still waiting")
    accepted = _invite(record, UserFactory(verified=True), "Accepted before")
    collaboration.accept_invitation(accepted, owner=old_owner)

    _old_owner_leaves(how, owner=old_owner, claim=old_claim, admin=admin)
    new_owner = _next_owner_claims(record, admin)

    client.force_login(new_owner)
    html = client.get(reverse("profiles:inbox")).content.decode()
    for subject in ("Answered before", "Still waiting", "Accepted before"):
        assert subject not in html
    for invitation in (answered, waiting, accepted):
        assert client.get(reverse("profiles:invitation", args=[invitation.pk])).status_code == 404
        for action in ("invitation-accept", "invitation-decline", "invitation-block"):
            response = client.post(reverse(f"profiles:{action}", args=[invitation.pk]))
            assert response.status_code == 404
    waiting.refresh_from_db()
    # The invitation to the owner who is gone was closed when the claim ended.
    assert waiting.state == "declined"
    assert Conversation.objects.filter(owner=new_owner).count() == 0


def test_the_new_owner_sees_only_what_was_sent_to_them(client):
    admin = make_admin()
    record, old_owner, old_claim = claimed_record(admin=admin)
    _invite(record, UserFactory(verified=True), "To the old owner")
    claims.revoke_claim(old_claim, by=admin, reason="Wrong person.")
    new_owner = _next_owner_claims(record, admin)
    record.refresh_from_db()
    record.open_to_collaborate = True
    record.save(update_fields=["open_to_collaborate"])
    mine = _invite(record, UserFactory(verified=True), "To the new owner")

    assert mine.recipient == new_owner
    client.force_login(new_owner)
    html = client.get(reverse("profiles:inbox")).content.decode()
    assert "To the new owner" in html
    assert "To the old owner" not in html
    assert client.get(reverse("profiles:invitation", args=[mine.pk])).status_code == 200


def test_a_revoked_owner_keeps_reading_what_was_sent_to_them_but_cannot_answer(client):
    admin = make_admin()
    record, owner, claim = claimed_record(admin=admin)
    invitation = _invite(record, UserFactory(verified=True), "Sent while you owned it")
    claims.revoke_claim(claim, by=admin, reason="Wrong person.")
    # Reopened by hand: the answer paths check ownership, not only the state.
    Invitation.objects.filter(pk=invitation.pk).update(state=Invitation.State.OPEN)

    client.force_login(owner)
    assert "Sent while you owned it" in client.get(reverse("profiles:inbox")).content.decode()
    assert client.get(reverse("profiles:invitation", args=[invitation.pk])).status_code == 200
    client.post(reverse("profiles:invitation-accept", args=[invitation.pk]))
    assert Conversation.objects.count() == 0
    invitation.refresh_from_db()
    assert invitation.state == "open"
    with pytest.raises(collaboration.CollaborationError, match="no longer own"):
        collaboration.accept_invitation(invitation, owner=owner)


def test_a_queued_notice_never_goes_to_a_later_owner(mailoutbox):
    admin = make_admin()
    record, _, old_claim = claimed_record(admin=admin)
    invitation = _invite(record, UserFactory(verified=True), "Queued notice")
    # The owner changes before the queued notice runs (and the invitation is reopened by hand:
    # the notice checks the recipient, not only the state).
    claims.revoke_claim(old_claim, by=admin, reason="Wrong person.")
    _next_owner_claims(record, admin)
    Invitation.objects.filter(pk=invitation.pk).update(state=Invitation.State.OPEN)
    mailoutbox.clear()
    collaboration.email_invitation_notice(invitation.pk)
    assert mailoutbox == []


# --- The migration that binds existing invitations -----------------------------------------


def _fill_recipients():
    migration = importlib.import_module("profiles.migrations.0007_invitation_recipient")
    migration.fill_recipients(apps, None)


def _at(invitation, when):
    Invitation.objects.filter(pk=invitation.pk).update(created_at=when, recipient=None)


def test_the_migration_binds_existing_invitations_where_the_owner_at_the_time_is_known():
    admin = make_admin()
    now = timezone.now()
    record, owner, claim = claimed_record(admin=admin)
    Claim.objects.filter(pk=claim.pk).update(
        created_at=now - dt.timedelta(days=10), decided_at=now - dt.timedelta(days=9)
    )
    current = _invite(record, UserFactory(verified=True), "To the current owner")
    _at(current, now - dt.timedelta(days=5))
    before_any_owner = _invite(record, UserFactory(verified=True), "Before the approval")
    _at(before_any_owner, now - dt.timedelta(days=9, hours=12))
    accepted = _invite(record, UserFactory(verified=True), "Accepted")
    conversation = collaboration.accept_invitation(accepted, owner=owner)
    _at(accepted, now - dt.timedelta(days=4))

    _fill_recipients()

    recipients = dict(Invitation.objects.values_list("subject", "recipient_id"))
    assert recipients == {
        "To the current owner": owner.pk,
        "Before the approval": None,
        "Accepted": conversation.owner_id,
    }


def test_the_migration_binds_to_a_revoked_owner_only_when_nobody_else_can_have_owned_it():
    admin = make_admin()
    now = timezone.now()
    record, revoked_owner, revoked = claimed_record(admin=admin)
    claims.revoke_claim(revoked, by=admin, reason="Wrong person.")
    Claim.objects.filter(pk=revoked.pk).update(
        created_at=now - dt.timedelta(days=20), decided_at=now - dt.timedelta(days=10)
    )
    to_revoked = _invite_unchecked(record, "To the revoked owner")
    _at(to_revoked, now - dt.timedelta(days=15))

    # A second record: its owner deleted the account (the claim row is gone, only the history
    # says an owner left), then someone whose claim was pending since before took it, and was
    # revoked in turn. That one never owned it when the invitation was sent.
    other, gone_owner, _ = claimed_record(admin=admin)
    late = UserFactory(verified=True)
    late_claim = Claim.objects.create(
        record=other, user=late, email=late.email, email_verified=True
    )
    delete_account(user=gone_owner)
    RecordEvent.objects.filter(record=other).update(created_at=now - dt.timedelta(days=12))
    Claim.objects.filter(pk=late_claim.pk).update(
        state=Claim.State.REVOKED,
        created_at=now - dt.timedelta(days=20),
        decided_at=now - dt.timedelta(days=10),
    )
    to_gone = _invite_unchecked(other, "To the deleted owner")
    _at(to_gone, now - dt.timedelta(days=15))

    _fill_recipients()

    recipients = dict(Invitation.objects.values_list("subject", "recipient_id"))
    assert recipients == {"To the revoked owner": revoked_owner.pk, "To the deleted owner": None}


def _invite_unchecked(record, subject):
    return Invitation.objects.create(
        sender=UserFactory(verified=True), record=record, subject=subject, message="Hello."
    )
