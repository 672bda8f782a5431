"""Accounts, hardened: password rules, sign-up without enumeration, the admin's login behind
allauth's lockout, and client addresses behind a trusted proxy (hardening issue, findings 1, 5,
6 and 8)."""

import pytest
from django.contrib.auth import get_user_model
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
