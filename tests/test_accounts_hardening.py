"""Accounts, hardened: password rules, sign-up without enumeration, the admin's login behind
allauth's lockout, and client addresses behind a trusted proxy (hardening issue, findings 1, 5,
6 and 8)."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.accounts_helpers import eager_tasks
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures(eager_tasks.__name__)]

PASSWORD = "correct horse battery"
User = get_user_model()


def _sign_up(client, email: str, password: str = "a long new password"):
    return client.post(
        reverse("account_signup"), {"email": email, "password1": password, "password2": password}
    )


# --- Finding 5: password rules ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("password", "too common"),
        ("123456", "too short"),
        ("12345678901", "entirely numeric"),
        ("short1!", "too short"),
        ("newcomer@example.org", "too similar"),
    ],
)
def test_weak_passwords_are_refused_at_sign_up(client, password, reason):
    response = _sign_up(client, "newcomer@example.org", password)

    assert response.status_code == 200
    assert reason in response.content.decode()
    assert not User.objects.filter(email="newcomer@example.org").exists()


def test_a_weak_new_password_is_refused_on_change(client):
    user = UserFactory(verified=True)
    client.force_login(user)

    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": "password", "password2": "password"},
    )

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


# --- Finding 6: sign-up says nothing about which addresses are registered ---------------------


def _page_after_sign_up(email: str) -> tuple[int, str, str]:
    client = Client()
    response = _sign_up(client, email)
    page = client.get(response["Location"])
    # The page repeats the address typed; everything else must be identical.
    return response.status_code, response["Location"], page.content.decode().replace(email, "@")


def test_signing_up_with_a_registered_email_looks_exactly_like_a_new_sign_up():
    owner = UserFactory(verified=True, email="known@example.org")

    known = _page_after_sign_up("known@example.org")
    known_mail = list(mail.outbox)
    mail.outbox.clear()
    new = _page_after_sign_up("new@example.org")

    assert known == new
    assert known[0] == 302
    assert "Verify your email" in known[2]
    assert "already" not in known[2]
    # The owner of the known address is told, by email, that someone tried; no second account.
    assert [(m.to, m.subject) for m in known_mail] == [
        (["known@example.org"], "[testserver] Account Already Exists")
    ]
    assert list(User.objects.filter(email="known@example.org")) == [owner]
    assert [m.to for m in mail.outbox] == [["new@example.org"]]


def test_a_new_account_logs_in_only_once_its_email_is_verified(client):
    _sign_up(client, "fresh@example.org")
    assert "_auth_user_id" not in client.session
    response = client.post(
        reverse("account_login"), {"login": "fresh@example.org", "password": "a long new password"}
    )
    assert "_auth_user_id" not in client.session
    assert response["Location"] == reverse("account_email_verification_sent")

    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+)", mail.outbox[-1].body)
    client.post(link.group(1))

    assert EmailAddress.objects.get(email="fresh@example.org").verified
    assert client.session["_auth_user_id"] == str(User.objects.get(email="fresh@example.org").pk)


# --- Finding 1: the admin's login goes through allauth's, with its lockout --------------------


def _staff():
    return UserFactory(verified=True, is_staff=True, is_superuser=True)


def test_the_admin_login_form_checks_no_password_however_often_it_is_posted(client):
    staff = _staff()
    for login in [staff.username, staff.email] * 28:
        response = client.post(reverse("admin:login"), {"username": login, "password": "wrong"})
        assert response.status_code == 302
    for login in [staff.username, staff.email]:
        response = client.post(
            reverse("admin:login") + "?next=/admin/", {"username": login, "password": PASSWORD}
        )
        assert response["Location"] == "/accounts/login/?next=%2Fadmin%2F"

    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302


def test_staff_reach_the_admin_through_allauths_login(client):
    staff = _staff()

    to_admin_login = client.get("/admin/works/work/")
    assert to_admin_login["Location"] == "/admin/login/?next=/admin/works/work/"
    to_login = client.get(to_admin_login["Location"])
    assert to_login["Location"] == "/accounts/login/?next=%2Fadmin%2Fworks%2Fwork%2F"
    assert client.get(to_login["Location"]).status_code == 200
    logged_in = client.post(
        to_login["Location"],
        {"login": staff.email, "password": PASSWORD, "next": "/admin/works/work/"},
    )

    assert logged_in["Location"] == "/admin/works/work/"
    assert client.get("/admin/works/work/").status_code == 200
    assert client.get("/admin/login/")["Location"] == "/admin/"


def test_failed_admin_logins_lock_the_staff_account_out(client):
    staff = _staff()
    login_url = client.get("/admin/login/?next=/admin/")["Location"]
    for _ in range(5):
        client.post(login_url, {"login": staff.email, "password": "wrong", "next": "/admin/"})

    response = client.post(login_url, {"login": staff.email, "password": PASSWORD})

    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_signed_in_member_without_staff_rights_is_told_so_without_a_loop(client):
    client.force_login(UserFactory(verified=True, email="member@example.org"))

    assert client.get("/admin/")["Location"] == "/admin/login/?next=/admin/"
    response = client.get("/admin/login/?next=/admin/")

    assert response.status_code == 403
    assert "member@example.org, which is not a staff account" in response.content.decode()


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/", "javascript:1"])
def test_the_admin_login_never_forwards_to_another_site(client, next_url):
    response = client.get("/admin/login/", {"next": next_url})

    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2F"


def test_a_superuser_from_createsuperuser_verifies_the_email_once_then_reaches_the_admin(client):
    User.objects.create_superuser("root", "root@example.org", PASSWORD)
    login_url = client.get("/admin/login/?next=/admin/")["Location"]

    response = client.post(
        login_url, {"login": "root@example.org", "password": PASSWORD, "next": "/admin/"}
    )
    assert response["Location"] == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+)", mail.outbox[-1].body)
    client.post(link.group(1))

    assert client.get("/admin/").status_code == 200


# --- Finding 8: the client's address behind the TLS proxy ------------------------------------


def _failed_logins_then_right_ones(addresses: list[str]) -> list[bool]:
    """14 failed logins over 7 accounts, each from its own forwarded address; then each
    account's right password from yet another. Which accounts got in?"""
    users = [UserFactory(verified=True) for _ in range(7)]
    tried = iter(addresses)
    for user in users:
        for _ in range(2):
            Client(HTTP_X_FORWARDED_FOR=next(tried)).post(
                reverse("account_login"), {"login": user.email, "password": "wrong"}
            )
    logged_in = []
    for user in users:
        client = Client(HTTP_X_FORWARDED_FOR=next(tried))
        client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
        logged_in.append("_auth_user_id" in client.session)
    return logged_in


ADDRESSES = [f"198.51.100.{n}" for n in range(1, 22)]


def test_behind_a_trusted_proxy_each_client_has_its_own_failed_login_count(settings):
    settings.TRUSTED_PROXY_COUNT = settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1

    # The proxy appends the address it saw; what the client wrote before it is ignored.
    spoofed = [f"10.0.0.1, {address}" for address in ADDRESSES]

    assert _failed_logins_then_right_ones(spoofed) == [True] * 7


def test_without_a_trusted_proxy_forwarded_addresses_are_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0

    # Every request comes from the test client's one REMOTE_ADDR: its failures add up, and the
    # address is locked out from the 11th on, whatever X-Forwarded-For claims.
    assert _failed_logins_then_right_ones(ADDRESSES) == [False] * 7


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        (0, "203.0.113.9", "127.0.0.1"),
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "10.9.9.9, 203.0.113.9", "203.0.113.9"),
        (1, " 2001:db8::1 ", "2001:db8::1"),
        (2, "10.9.9.9, 203.0.113.9, 192.0.2.1", "203.0.113.9"),
        (2, "203.0.113.9", "127.0.0.1"),
        (1, "", "127.0.0.1"),
        (1, "not-an-address", "127.0.0.1"),
        (1, None, "127.0.0.1"),
    ],
)
def test_the_client_address_is_the_one_our_outermost_proxy_saw(
    settings, rf, count, forwarded, expected
):
    from allauth.account.adapter import get_adapter

    from bzpeer.lib.ratelimit import client_ip, who_is

    settings.TRUSTED_PROXY_COUNT = settings.ALLAUTH_TRUSTED_PROXY_COUNT = count
    headers = {} if forwarded is None else {"HTTP_X_FORWARDED_FOR": forwarded}
    request = rf.get("/", REMOTE_ADDR="127.0.0.1", **headers)

    assert client_ip(request) == expected
    assert get_adapter(request).get_client_ip(request) == expected
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    assert who_is(request) == f"ip:{expected}"
