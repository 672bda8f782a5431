"""Signing in with ORCID and connecting it: allauth's whole OAuth flow against the fake ORCID.

Without ORCID configured (no client id and secret) nothing of it shows and its addresses answer
404; everything else works as before.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from profiles.accounts import authenticated_orcid
from tests.accounts_helpers import eager_tasks
from tests.factories import UserFactory
from tests.fakeorcid import FakeRecord

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures(eager_tasks.__name__)]

ORCID = "0000-0002-1825-0097"
OTHER_ORCID = "0000-0001-5109-3700"
LOGIN = "/accounts/orcid/login/"
CALLBACK = "/accounts/orcid/login/callback/"


@pytest.fixture
def orcid(fake_orcid):
    fake_orcid.add_record(FakeRecord(ORCID, "Josiah", "Carberry"))
    fake_orcid.add_record(FakeRecord(OTHER_ORCID, "Sofia", "Garcia", email="sofia@example.org"))
    fake_orcid.sign_in_as = ORCID
    return fake_orcid


def start(client: Client, **data) -> str:
    """Press an ORCID button: the address at ORCID the browser is sent to."""
    response = client.post(LOGIN, {"process": "login", **data})
    assert response.status_code == 302, response.content.decode()[:300]
    return response["Location"]


def at_orcid(authorize_url: str) -> str:
    """What ORCID does with the browser: back to our callback (path and query)."""
    answer = requests.get(authorize_url, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    assert back.netloc == "testserver"
    return f"{back.path}?{back.query}"


def sign_in(client: Client, **data):
    return client.get(at_orcid(start(client, **data)))


def logged_in_user_id(client: Client):
    return client.session.get("_auth_user_id")


# --- Without configuration ---------------------------------------------------------------


def test_without_orcid_configured_no_page_offers_it_and_its_addresses_are_absent(client):
    for url in ("/accounts/login/", "/accounts/signup/"):
        response = client.get(url)
        assert response.status_code == 200
        assert b"ORCID" not in response.content
    assert client.get(LOGIN).status_code == 404
    assert client.post(LOGIN, {"process": "login"}).status_code == 404
    assert client.get(f"{CALLBACK}?code=x&state=y").status_code == 404

    client.force_login(UserFactory(verified=True))
    settings_page = client.get(reverse("profiles:settings"))
    assert settings_page.status_code == 200
    assert b'id="orcid"' not in settings_page.content


def test_without_orcid_configured_the_policy_lets_forms_post_only_here(client):
    policy = client.get("/accounts/login/")["Content-Security-Policy"]
    directives = {part.strip().split(" ", 1)[0]: part.strip() for part in policy.split(";")}
    assert directives["form-action"] == "form-action 'self'"


# --- With configuration -------------------------------------------------------------------


def test_the_login_and_signup_pages_offer_orcid(client, orcid):
    for url, label in (
        ("/accounts/login/", b"Sign in with ORCID"),
        ("/accounts/signup/", b"Sign up with ORCID"),
    ):
        html = client.get(url).content
        assert label in html
        assert f'action="{LOGIN}"'.encode() in html


def test_the_button_sends_the_browser_to_orcid_with_a_state(client, orcid):
    authorize = urlsplit(start(client))
    params = {key: values[0] for key, values in parse_qs(authorize.query).items()}

    assert f"{authorize.scheme}://{authorize.netloc}{authorize.path}" == (
        f"{orcid.base_url}/oauth/authorize"
    )
    assert params["client_id"] == orcid.client_id
    assert params["scope"] == "/authenticate"
    assert params["response_type"] == "code"
    assert params["redirect_uri"] == f"http://testserver{CALLBACK}"
    assert len(params["state"]) >= 12


def test_starting_needs_a_post(client, orcid):
    # A GET only shows a page with a button: nobody can start a flow for someone with a link.
    response = client.get(LOGIN)
    assert response.status_code == 200
    assert b"Continue to ORCID" in response.content
    assert not orcid.requests


def test_connecting_authenticates_the_id_for_the_account(client, orcid):
    user = UserFactory(verified=True)
    client.force_login(user)

    response = sign_in(client, process="connect", next="/accounts/settings/#orcid")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/settings/#orcid"
    account = SocialAccount.objects.get()
    assert (account.user, account.provider, account.uid) == (user, "orcid", ORCID)
    assert authenticated_orcid(user) == ORCID
    # The iD came with the token; the public record only added the names.
    token_calls = [hit for hit in orcid.requests if hit.path == "/oauth/token"]
    assert len(token_calls) == 1
    assert token_calls[0].form["client_secret"] == orcid.client_secret
    assert account.extra_data["person"]["name"]["family-name"]["value"] == "Carberry"

    page = client.get(response["Location"]).content.decode()
    assert "Authenticated" in page
    assert ORCID in page


def test_signing_in_with_a_connected_id_logs_in_to_its_account(client, orcid):
    user = UserFactory(verified=True)
    SocialAccount.objects.create(user=user, provider="orcid", uid=ORCID)

    response = sign_in(client)

    assert response.status_code == 302
    assert logged_in_user_id(client) == str(user.pk)


def test_a_new_visitor_without_a_public_email_is_asked_for_one_and_verifies_it(client, orcid):
    response = sign_in(client)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/3rdparty/signup/"
    form = client.get(response["Location"])
    assert ORCID in form.content.decode()

    done = client.post("/accounts/3rdparty/signup/", {"email": "josiah@example.org"})

    assert done.status_code == 302
    assert done["Location"] == "/accounts/confirm-email/"
    account = SocialAccount.objects.get(uid=ORCID)
    assert account.user.email == "josiah@example.org"
    assert not account.user.emailaddress_set.filter(verified=True).exists()
    assert [m.to for m in mail.outbox] == [["josiah@example.org"]]
    assert logged_in_user_id(client) is None  # until the email is verified


def test_a_new_visitor_with_a_public_email_gets_an_account_that_verifies_it(client, orcid):
    orcid.sign_in_as = OTHER_ORCID

    response = sign_in(client)

    assert response.status_code == 302
    account = SocialAccount.objects.get(uid=OTHER_ORCID)
    assert account.user.email == "sofia@example.org"
    assert [m.to for m in mail.outbox] == [["sofia@example.org"]]


def test_a_forged_callback_fails_and_changes_nothing(client, orcid):
    client.force_login(UserFactory(verified=True))
    start(client, process="connect")

    response = client.get(f"{CALLBACK}?code=stolen-code&state=forged-state")

    assert response.status_code == 401
    assert b"Signing in with ORCID failed" in response.content
    assert not SocialAccount.objects.exists()
    assert not [hit for hit in orcid.requests if hit.path == "/oauth/token"]


def test_a_callback_meant_for_another_browser_fails(orcid):
    victim, attacker = Client(), Client()
    victim.force_login(UserFactory(verified=True))
    # The attacker signs in to ORCID and hands the victim their callback (login CSRF).
    callback = at_orcid(start(attacker, process="connect"))

    response = victim.get(callback)

    assert response.status_code == 401
    assert b"Signing in with ORCID failed" in response.content
    assert not SocialAccount.objects.exists()


def test_a_state_is_used_once(client, orcid):
    user = UserFactory(verified=True)
    client.force_login(user)
    callback = at_orcid(start(client, process="connect"))
    client.get(callback)

    again = client.get(callback)

    assert again.status_code == 401
    assert b"Signing in with ORCID failed" in again.content
    assert SocialAccount.objects.count() == 1


def test_an_id_cannot_be_attached_to_two_accounts(client, orcid):
    first, second = UserFactory(verified=True), UserFactory(verified=True)
    SocialAccount.objects.create(user=first, provider="orcid", uid=ORCID)
    client.force_login(second)

    response = sign_in(client, process="connect", next="/accounts/settings/")

    assert response.status_code == 302
    assert list(SocialAccount.objects.values_list("user_id", "uid")) == [(first.pk, ORCID)]
    assert authenticated_orcid(second) is None
    messages = [m.message for m in response.wsgi_request._messages]
    assert any("already connected to a different account" in m for m in messages)


def test_the_database_refuses_one_id_on_two_accounts():
    from django.db import IntegrityError, transaction

    SocialAccount.objects.create(user=UserFactory(), provider="orcid", uid=ORCID)
    with pytest.raises(IntegrityError), transaction.atomic():
        SocialAccount.objects.create(user=UserFactory(), provider="orcid", uid=ORCID)


def test_an_account_holds_one_id(client, orcid):
    user = UserFactory(verified=True)
    SocialAccount.objects.create(user=user, provider="orcid", uid=OTHER_ORCID)
    client.force_login(user)

    response = sign_in(client, process="connect")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/settings/#orcid"
    assert list(SocialAccount.objects.values_list("uid", flat=True)) == [OTHER_ORCID]


def test_a_refusal_at_orcid_changes_nothing(client, orcid):
    orcid.deny_next()

    response = sign_in(client)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/3rdparty/login/cancelled/"
    assert not SocialAccount.objects.exists()


def test_a_token_orcid_refuses_changes_nothing(client, orcid, settings):
    settings.ORCID_CLIENT_SECRET = "a-wrong-secret"

    response = sign_in(client)

    assert b"Signing in with ORCID failed" in response.content
    assert not SocialAccount.objects.exists()


def test_signing_in_does_not_depend_on_the_public_api(client, orcid):
    orcid.fail_next(503, retry_after="0", times=5, match="/record")
    user = UserFactory(verified=True)
    client.force_login(user)

    response = sign_in(client, process="connect")

    assert response.status_code == 302
    assert authenticated_orcid(user) == ORCID


def test_an_anonymous_connect_attaches_nothing(client, orcid):
    response = sign_in(client, process="connect")

    assert response.status_code == 302
    assert not SocialAccount.objects.exists()
    assert logged_in_user_id(client) is None


def test_admins_read_connections_but_cannot_attach_an_id_by_hand(client):
    from tests.accounts_helpers import make_admin

    user = UserFactory(verified=True)
    account = SocialAccount.objects.create(user=user, provider="orcid", uid=ORCID)
    client.force_login(make_admin())

    page = client.get(reverse("admin:socialaccount_socialaccount_change", args=[account.pk]))
    assert page.status_code == 200
    assert b'name="uid"' not in page.content
    assert client.get(reverse("admin:socialaccount_socialaccount_add")).status_code == 403
    index = client.get(reverse("admin:index")).content.decode()
    assert "Social applications" not in index
    assert "Social application tokens" not in index


def test_a_new_visitor_giving_someone_elses_email_learns_nothing_and_gets_nothing(client, orcid):
    victim = UserFactory(verified=True, email="victim@example.org")
    response = sign_in(client)

    done = client.post(response["Location"], {"email": "victim@example.org"})

    # The same answer as for a new address (no enumeration), and no iD on anybody's account.
    assert done.status_code == 302
    assert done["Location"] == "/accounts/confirm-email/"
    assert not SocialAccount.objects.filter(user=victim).exists()
    assert authenticated_orcid(victim) is None
    assert logged_in_user_id(client) is None
    assert not SocialAccount.objects.exists()
    assert get_user_model().objects.count() == 1
    # The address's owner hears that someone tried to sign up with it.
    assert [m.to for m in mail.outbox] == [["victim@example.org"]]
