"""Every view that changes something, tried by the owner, another member, staff and anonymous.

Each row says what each of the cast gets: the status code (and, for anonymous visitors, a login
redirect that comes back). Then CSRF on every POST, htmx login redirects, and ids nobody can guess.
"""

from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import reverse

from profiles import claims, collaboration
from profiles.models import Block
from tests.accounts_helpers import claimed_record, eager_tasks, make_admin, record_with_works
from tests.factories import UserFactory
from works.models import Authorship

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures(eager_tasks.__name__)]

LOGIN = "/accounts/login/"


@dataclass
class World:
    record: object
    owner: object
    member: object
    staff: object
    sender: object
    unclaimed: object
    work_id: int
    claim: object  # the member's pending claim on `unclaimed`
    invitation: object
    conversation: object
    block: object


@pytest.fixture
def world():
    admin = make_admin()
    record, owner, _ = claimed_record(admin=admin, works=2)
    member = UserFactory(verified=True)
    staff = UserFactory(verified=True, is_staff=True)
    sender = UserFactory(verified=True)
    unclaimed = record_with_works()
    claim = claims.submit_claim(record=unclaimed, user=member, links=[], statement="me")
    invitation = collaboration.send_invitation(
        record=record, sender=sender, subject="Hello", message="Work together?"
    )
    second = collaboration.send_invitation(
        record=record, sender=UserFactory(verified=True), subject="Another", message="Hi"
    )
    conversation = collaboration.accept_invitation(second, owner=owner)
    block = Block.objects.create(owner=owner, blocked=UserFactory())
    work_id = Authorship.objects.filter(author=record).values_list("work_id", flat=True).first()
    return World(
        record=record,
        owner=owner,
        member=member,
        staff=staff,
        sender=sender,
        unclaimed=unclaimed,
        work_id=work_id,
        claim=claim,
        invitation=invitation,
        conversation=conversation,
        block=block,
    )


# (name, url builder, POST data, expected status for owner, member, staff)
# "owner" is the record's owner; "member" another signed-in account (the member's own pending
# claim is on another record); "staff" a staff account that is neither. Anonymous visitors
# always get a login redirect.
CAST = [
    ("follow", lambda w: reverse("profiles:follow", args=[w.record.slug]), {}, 403, 302, 302),
    ("unfollow", lambda w: reverse("profiles:unfollow", args=[w.record.slug]), {}, 302, 302, 302),
    (
        "claim a claimed record",
        lambda w: reverse("profiles:claim", args=[w.record.slug]),
        {"statement": "mine"},
        400,
        400,
        400,
    ),
    (
        "withdraw the member's claim",
        lambda w: reverse("profiles:claim-withdraw", args=[w.claim.pk]),
        {},
        404,
        302,
        404,
    ),
    (
        "edit",
        lambda w: reverse("profiles:edit", args=[w.record.slug]),
        {"description": "hijacked", "affiliation": ""},
        302,
        403,
        403,
    ),
    (
        "not mine",
        lambda w: reverse("profiles:not-mine", args=[w.record.slug, w.work_id]),
        {},
        302,
        403,
        403,
    ),
    (
        "invite",
        lambda w: reverse("profiles:invite", args=[w.record.slug]),
        {"subject": "Hi", "message": "Hello"},
        400,
        302,
        302,
    ),
    (
        "accept",
        lambda w: reverse("profiles:invitation-accept", args=[w.invitation.pk]),
        {},
        302,
        404,
        404,
    ),
    (
        "decline",
        lambda w: reverse("profiles:invitation-decline", args=[w.invitation.pk]),
        {},
        302,
        404,
        404,
    ),
    (
        "block",
        lambda w: reverse("profiles:invitation-block", args=[w.invitation.pk]),
        {},
        302,
        404,
        404,
    ),
    (
        "write in a conversation",
        lambda w: reverse("profiles:conversation", args=[w.conversation.pk]),
        {"body": "hello"},
        302,
        404,
        404,
    ),
    ("unblock", lambda w: reverse("profiles:unblock", args=[w.block.pk]), {}, 302, 404, 404),
    (
        "settings",
        lambda w: reverse("profiles:settings"),
        {"digest": "daily"},
        302,
        302,
        302,
    ),
]
IDS = [row[0] for row in CAST]


@pytest.mark.parametrize(("name", "url", "data", "owner", "member", "staff"), CAST, ids=IDS)
@pytest.mark.parametrize("who", ["owner", "member", "staff"])
def test_each_signed_in_account_gets_exactly_what_it_should(
    client, world, who, name, url, data, owner, member, staff
):
    client.force_login(getattr(world, who))
    response = client.post(url(world), data)
    expected = {"owner": owner, "member": member, "staff": staff}[who]
    assert response.status_code == expected, response.content.decode()[:500]
    if expected == 302:
        assert not response["Location"].startswith(LOGIN)


@pytest.mark.parametrize(("name", "url", "data", "owner", "member", "staff"), CAST, ids=IDS)
def test_anonymous_visitors_are_sent_to_log_in(
    client, world, name, url, data, owner, member, staff
):
    response = client.post(url(world), data)
    assert response.status_code == 302
    assert response["Location"].startswith(f"{LOGIN}?next=")


def test_the_sender_cannot_answer_their_own_invitation(client, world):
    client.force_login(world.sender)
    for name in ("profiles:invitation-accept", "profiles:invitation-decline"):
        assert client.post(reverse(name, args=[world.invitation.pk])).status_code == 404
    world.invitation.refresh_from_db()
    assert world.invitation.state == "open"


def test_refused_changes_change_nothing(client, world):
    client.force_login(world.member)
    client.post(reverse("profiles:edit", args=[world.record.slug]), {"description": "hijacked"})
    client.post(reverse("profiles:not-mine", args=[world.record.slug, world.work_id]))
    world.record.refresh_from_db()
    assert world.record.description == ""
    assert Authorship.objects.filter(author=world.record).count() == 2


@pytest.mark.parametrize(
    "url",
    [
        lambda w: reverse("profiles:follow", args=[w.record.slug]),
        lambda w: reverse("profiles:not-mine", args=[w.record.slug, w.work_id]),
        lambda w: reverse("profiles:invitation-accept", args=[w.invitation.pk]),
        lambda w: reverse("profiles:claim-withdraw", args=[w.claim.pk]),
    ],
    ids=["follow", "not-mine", "accept", "withdraw"],
)
def test_mutations_refuse_get(client, world, url):
    client.force_login(world.owner)
    assert client.get(url(world)).status_code == 405


# --- CSRF ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "url", "data", "owner", "member", "staff"), CAST, ids=IDS)
def test_every_post_needs_the_csrf_token(world, name, url, data, owner, member, staff):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.owner)
    assert client.post(url(world), data).status_code == 403


def test_a_post_with_the_csrf_token_goes_through(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.member)
    page = client.get(world.record.get_absolute_url())
    token = page.cookies["csrftoken"].value
    response = client.post(
        reverse("profiles:follow", args=[world.record.slug]), {"csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302


def test_the_htmx_header_carries_the_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.member)
    html = client.get(world.record.get_absolute_url()).content.decode()
    assert 'hx-headers=\'{"X-CSRFToken": "' in html
    token = client.cookies["csrftoken"].value
    response = client.post(
        reverse("profiles:follow", args=[world.record.slug]),
        HTTP_HX_REQUEST="true",
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 200


# --- htmx and login ------------------------------------------------------------------------


def test_an_htmx_request_that_needs_login_gets_hx_redirect_back_to_the_page(client, world):
    page = f"http://testserver{world.record.get_absolute_url()}"
    response = client.post(
        reverse("profiles:follow", args=[world.record.slug]),
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL=page,
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"{LOGIN}?next=%2Fresearchers%2F{world.record.slug}%2F"
    assert response.content == b""


def test_an_htmx_login_redirect_never_points_off_site(client, world):
    response = client.post(
        reverse("profiles:follow", args=[world.record.slug]),
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="https://evil.example/phish",
    )
    assert response["HX-Redirect"] == f"{LOGIN}?next=%2F"


# --- Ids nobody can guess ------------------------------------------------------------------


def test_claims_invitations_and_conversations_are_addressed_by_uuid(world):
    import uuid

    for obj in (world.claim, world.invitation, world.conversation):
        assert isinstance(obj.pk, uuid.UUID)


def test_a_random_uuid_and_someone_elses_object_look_the_same(client, world):
    import uuid

    client.force_login(world.member)
    for name, pk in [
        ("profiles:invitation", world.invitation.pk),
        ("profiles:conversation", world.conversation.pk),
    ]:
        theirs = client.get(reverse(name, args=[pk]))
        random = client.get(reverse(name, args=[uuid.uuid4()]))
        assert theirs.status_code == random.status_code == 404
