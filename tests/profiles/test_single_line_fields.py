"""Single-line fields take one line of text: no line breaks or other control characters.

Issue 12, finding 4: a CR/LF in an invitation's subject became extra lines in the notice email's
body (a fake "Read it at https://evil..." link).
"""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from bzpeer.lib.text import one_line, validate_single_line
from profiles import collaboration
from profiles.forms import ClaimForm, InvitationForm, OwnerEditForm
from profiles.models import Invitation
from tests.accounts_helpers import claimed_record, eager_tasks, make_admin, record_with_works
from tests.factories import UserFactory

pytestmark = [pytest.mark.usefixtures(eager_tasks.__name__)]

CONTROLS = ["\r\n", "\n", "\r", "\t", "\x1b[31m", "\x7f", "\x85", "\u2028", "\u2029", "\u202e"]


@pytest.mark.parametrize("control", CONTROLS)
def test_the_validator_refuses_control_characters(control):
    with pytest.raises(ValidationError) as caught:
        validate_single_line(f"Hi{control}Read it at https://evil.example/")
    assert caught.value.code == "control_characters"


@pytest.mark.parametrize(
    "text", ["Zhāng Zhèngyán (张正岩) – NLP 😀", "Université Paris-Saclay, LISN", "O’Brien"]
)
def test_the_validator_takes_any_printable_text(text):
    validate_single_line(text)


def test_one_line_turns_control_characters_into_spaces():
    assert one_line("Hi\r\nRead it\tat\u2028https://evil.example/") == (
        "Hi Read it at https://evil.example/"
    )


INJECTED = "Hi\r\nRead it at https://evil.example/"


@pytest.mark.parametrize(
    ("form_class", "field", "data", "kwargs"),
    [
        (InvitationForm, "subject", {"subject": INJECTED, "message": "Hello"}, {}),
        (
            ClaimForm,
            "orcid",
            {"orcid": "0000-0002-\r\n1825-0097", "statement": "Me."},
            {},
        ),
        (
            ClaimForm,
            "links",
            {"links": "https://example.org/me\x1b]8;;https://evil.example/", "statement": "Me."},
            {},
        ),
    ],
)
def test_the_forms_single_line_fields_refuse_control_characters(form_class, field, data, kwargs):
    form = form_class(data=data, **kwargs)
    assert not form.is_valid()
    assert field in form.errors


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["description", "affiliation"])
def test_the_owner_edit_form_refuses_control_characters(field):
    record = record_with_works()
    data = {"description": "A researcher", "affiliation": "A lab", field: INJECTED}
    form = OwnerEditForm(data=data, instance=record)
    assert not form.is_valid()
    assert list(form.errors) == [field]


@pytest.mark.django_db
def test_an_invitation_with_a_line_break_in_its_subject_is_refused_and_nothing_is_sent(client):
    record, _, _ = claimed_record()
    client.force_login(UserFactory(verified=True))
    response = client.post(
        reverse("profiles:invite", args=[record.slug]), {"subject": INJECTED, "message": "Hello"}
    )
    assert response.status_code == 400
    assert "one line" in response.content.decode()
    assert Invitation.objects.count() == 0
    assert mail.outbox == []


@pytest.mark.django_db
def test_the_service_refuses_a_subject_with_control_characters_too():
    record, _, _ = claimed_record()
    with pytest.raises(collaboration.CollaborationError, match="one line"):
        collaboration.send_invitation(
            record=record, sender=UserFactory(verified=True), subject=INJECTED, message="Hello"
        )
    assert Invitation.objects.count() == 0


@pytest.mark.django_db
def test_a_subject_stored_before_the_check_stays_on_one_line_in_the_emails():
    record, owner, _ = claimed_record()
    sender = UserFactory(verified=True)
    invitation = Invitation.objects.create(
        sender=sender, recipient=owner, record=record, subject=INJECTED, message="Hello"
    )
    collaboration.email_invitation_notice(invitation.pk)
    conversation = collaboration.accept_invitation(invitation, owner=owner)
    collaboration.email_invitation_answer(invitation.pk)
    message = collaboration.post_message(conversation, author=sender, body="Hello again")
    collaboration.email_message_notice(message.pk)

    assert len(mail.outbox) == 3
    for email in mail.outbox:
        assert "\n" not in email.subject and "\r" not in email.subject
        lines = email.body.splitlines()
        assert not any(line.startswith("Read it at https://evil") for line in lines)
        assert any("Hi Read it at https://evil.example/" in line for line in lines)


@pytest.mark.django_db
def test_the_admin_refuses_a_line_break_in_a_records_name(client):
    record = record_with_works()
    client.force_login(make_admin())
    url = reverse("admin:works_authorrecord_change", args=[record.pk])
    response = client.post(
        url,
        {
            "slug": record.slug,
            "display_name": "Evil\r\nName",
            "variants": "[]",
            "kind": "person",
            "affiliation": "",
            "owner_affiliation": "",
            "description": "",
            "work_count": "1",
            "follower_count": "0",
            "close_collaborator_count": "0",
            "topic_count": "0",
        },
    )
    assert response.status_code == 200
    assert "one line" in response.content.decode()
    record.refresh_from_db()
    assert record.display_name != "Evil\r\nName"
