"""Accounts through allauth: sign up, verify, log in and out, lockout, reset, change, delete."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from graph.models import CollaborationEdge
from profiles import claims, follows, verification
from profiles.account_deletion import delete_account
from profiles.models import Claim, Follow, Invitation
from tests.accounts_helpers import claimed_record, eager_tasks, make_admin, record_with_works
from tests.factories import UserFactory
from works.models import AuthorRecord, RecordEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures(eager_tasks.__name__)]

PASSWORD = "correct horse battery"
REMOVED = "[removed: the account was deleted]"
User = get_user_model()


def _link(message) -> str:
    return re.search(r"https?://[^/\s]+(/\S+)", message.body).group(1)


def test_sign_up_sends_a_verification_link_that_verifies_the_email(client):
    response = client.post(
        reverse("account_signup"),
        {
            "email": "new@example.org",
            "password1": "a long new password",
            "password2": "a long new password",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(email="new@example.org")
    assert not EmailAddress.objects.get(user=user).verified
    assert len(mail.outbox) == 1

    confirm_path = _link(mail.outbox[0])
    page = client.get(confirm_path)
    assert page.status_code == 200
    assert "Confirm your email" in page.content.decode()
    client.post(confirm_path)
    assert EmailAddress.objects.get(user=user).verified


def test_account_pages_use_the_sites_layout(client):
    for name in ["account_login", "account_signup", "account_reset_password"]:
        html = client.get(reverse(name)).content.decode()
        assert 'class="site-header"' in html, name
        assert "site.css" in html
        assert 'class="account-form"' in html


def test_log_in_and_log_out(client):
    user = UserFactory(verified=True)
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/accounts/settings/").status_code == 200
    client.post(reverse("account_logout"))
    assert client.get("/accounts/settings/").status_code == 302


def test_repeated_failed_logins_lock_the_account_out_for_a_while(client):
    user = UserFactory(verified=True)
    for _ in range(5):
        response = client.post(reverse("account_login"), {"login": user.email, "password": "wrong"})
        assert response.status_code == 200
        assert "not correct" in response.content.decode()
    # Now even the right password is refused until the window passes.
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.status_code == 200
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_next_only_redirects_within_the_site(client):
    user = UserFactory(verified=True)
    response = client.post(
        reverse("account_login") + "?next=https://evil.example/phish",
        {"login": user.email, "password": PASSWORD, "next": "https://evil.example/phish"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
    client.logout()
    response = client.post(
        reverse("account_login"),
        {"login": user.email, "password": PASSWORD, "next": "/researchers/someone/"},
    )
    assert response["Location"] == "/researchers/someone/"


def test_login_next_refuses_scheme_relative_urls(client):
    user = UserFactory(verified=True)
    response = client.post(
        reverse("account_login"),
        {"login": user.email, "password": PASSWORD, "next": "//evil.example/"},
    )
    assert response["Location"] == "/"


def test_reset_a_forgotten_password(client):
    user = UserFactory(verified=True)
    client.post(reverse("account_reset_password"), {"email": user.email})
    assert len(mail.outbox) == 1
    reset_path = _link(mail.outbox[0])
    response = client.get(reset_path, follow=True)
    form_path = response.redirect_chain[-1][0] if response.redirect_chain else reset_path
    response = client.post(
        form_path, {"password1": "a brand new secret", "password2": "a brand new secret"}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a brand new secret")


def test_change_password(client):
    user = UserFactory(verified=True)
    client.force_login(user)
    response = client.post(
        reverse("account_change_password"),
        {
            "oldpassword": PASSWORD,
            "password1": "another long secret",
            "password2": "another long secret",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("another long secret")


def test_sign_ups_are_rate_limited_with_a_friendly_page(client):
    statuses = []
    for n in range(21):
        response = client.post(
            reverse("account_signup"),
            {
                "email": f"bulk{n}@example.org",
                "password1": "a long new password",
                "password2": "a long new password",
            },
        )
        statuses.append(response.status_code)
        client.logout()
    assert statuses[-1] == 429
    assert "Please slow down" in response.content.decode()
    assert User.objects.filter(email__startswith="bulk").count() == 20


# --- Deleting the account ------------------------------------------------------------------


def test_deleting_the_account_needs_the_password(client):
    user = UserFactory(verified=True)
    client.force_login(user)
    response = client.post(reverse("profiles:delete-account"), {"password": "wrong"})
    assert response.status_code == 400
    assert User.objects.filter(pk=user.pk).exists()


def test_deleting_the_account_removes_follows_invitations_and_releases_the_claim(client):
    admin = make_admin()
    user = UserFactory(verified=True)
    record, _, claim = claimed_record(owner=user, admin=admin)
    followed = record_with_works()
    follows.follow(user=user, record=followed)
    other_record, _, _ = claimed_record(admin=admin)
    from profiles.collaboration import send_invitation

    send_invitation(record=other_record, sender=user, subject="Hi", message="Hello")
    pending_elsewhere = record_with_works()
    Claim.objects.create(record=pending_elsewhere, user=user, email=user.email, email_verified=True)

    client.force_login(user)
    response = client.post(reverse("profiles:delete-account"), {"password": PASSWORD})

    assert response.status_code == 302
    assert not User.objects.filter(pk=user.pk).exists()
    assert Follow.objects.count() == 0
    assert AuthorRecord.objects.get(pk=followed.pk).follower_count == 0
    assert Invitation.objects.count() == 0
    assert Claim.objects.filter(record__in=[record, pending_elsewhere]).count() == 0
    record.refresh_from_db()
    assert (record.claim_state, record.verification_level) == ("unclaimed", 1)
    assert "_auth_user_id" not in client.session


def test_deleting_an_account_queues_trust_once_for_every_record_it_moved(
    django_capture_on_commit_callbacks, queued_trust
):
    user = UserFactory(verified=True)
    owned, _, _ = claimed_record(owner=user)
    close_coauthor = record_with_works()
    CollaborationEdge.objects.create(
        author=close_coauthor, coauthor=owned, weight=0.5, shared_works=1
    )
    followed = record_with_works()
    follows.follow(user=user, record=followed)
    pending_on = record_with_works()
    Claim.objects.create(record=pending_on, user=user, email=user.email, email_verified=True)
    verification.transition(pending_on, reason="A claim was submitted.")

    with django_capture_on_commit_callbacks(execute=True):
        delete_account(user=user)

    # The released claim (its record drops from L2, which moves its close collaborator's score),
    # the follow and the pending claim: one event, one recompute of each record.
    assert queued_trust == [sorted([owned.id, close_coauthor.id, followed.id, pending_on.id])]


def test_settings_page_lists_claims_and_digest(client):
    user = UserFactory(verified=True)
    record = record_with_works()
    claims.submit_claim(record=record, user=user, links=[], statement="me")
    client.force_login(user)
    html = client.get(reverse("profiles:settings")).content.decode()
    assert record.display_name in html
    assert 'name="digest"' in html
    assert "Delete my account" in html


@pytest.mark.parametrize(
    "url", ["/accounts/email/", "/accounts/password/change/", "/accounts/password/reset/done/"]
)
def test_allauths_own_pages_sit_in_the_sites_card(client, url):
    client.force_login(UserFactory(verified=True))
    html = client.get(url).content.decode()
    assert 'class="site-header"' in html
    assert html.count('class="panel account-panel"') == 1


def test_deleting_an_account_with_a_pending_claim_returns_the_record_to_unclaimed(client):
    record = record_with_works()
    user = UserFactory(verified=True)
    claims.submit_claim(record=record, user=user, links=[], statement="me")
    record.refresh_from_db()
    assert record.claim_state == "pending"
    client.force_login(user)
    client.post(reverse("profiles:delete-account"), {"password": PASSWORD})
    record.refresh_from_db()
    assert record.claim_state == "unclaimed"


# --- Deleting the account: the password check is throttled per account (issue 12, finding 7) --


def test_after_five_wrong_passwords_even_the_right_one_is_refused_for_a_while(client):
    user = UserFactory(verified=True)
    client.force_login(user)
    url = reverse("profiles:delete-account")
    wrong = [client.post(url, {"password": f"guess {n}"}).status_code for n in range(25)]
    assert wrong == [400] * 5 + [429] * 20
    response = client.post(url, {"password": PASSWORD})
    assert response.status_code == 429
    assert int(response["Retry-After"]) <= 15 * 60
    assert "wrong password" in response.content.decode()
    assert User.objects.filter(pk=user.pk).exists()


def test_the_deletion_throttle_counts_per_account(client):
    throttled = UserFactory(verified=True)
    client.force_login(throttled)
    for n in range(6):
        client.post(reverse("profiles:delete-account"), {"password": f"guess {n}"})
    other = UserFactory(verified=True)
    client.force_login(other)
    response = client.post(reverse("profiles:delete-account"), {"password": PASSWORD})
    assert response.status_code == 302
    assert not User.objects.filter(pk=other.pk).exists()


def test_the_right_password_within_five_tries_deletes_the_account(client):
    user = UserFactory(verified=True)
    client.force_login(user)
    url = reverse("profiles:delete-account")
    assert [client.post(url, {"password": f"guess {n}"}).status_code for n in range(4)] == [400] * 4
    assert client.post(url, {"password": PASSWORD}).status_code == 302
    assert not User.objects.filter(pk=user.pk).exists()


# --- Deleting the account: the owner's words leave the records' history ----------------------


@pytest.mark.parametrize("still_owner", [True, False])
def test_deleting_the_account_scrubs_the_owners_texts_from_the_history_but_keeps_the_events(
    client, still_owner
):
    admin = make_admin()
    user = UserFactory(verified=True)
    record, _, claim = claimed_record(owner=user, admin=admin, works=2)
    client.force_login(user)
    edit = reverse("profiles:edit", args=[record.slug])
    client.post(edit, {"description": "My personal words", "affiliation": "My secret lab"})
    client.post(edit, {"description": "Second thoughts", "affiliation": "My secret lab"})
    work = record.authorships.first().work
    client.post(reverse("profiles:not-mine", args=[record.slug, work.pk]))
    if not still_owner:
        claims.revoke_claim(claim, by=admin, reason="Not this person.")
    events_before = sorted(RecordEvent.objects.values_list("pk", "kind", "summary"))
    correction = RecordEvent.objects.get(record=record, kind="correction")

    delete_account(user=user)

    after = set(RecordEvent.objects.values_list("pk", "kind", "summary"))
    assert set(events_before) <= after
    edits = RecordEvent.objects.filter(record=record, kind="edit", data__has_key="changed")
    assert [e.data["changed"] for e in edits.order_by("created_at", "id")] == [
        {
            "description": ["", REMOVED],
            "owner_affiliation": ["", REMOVED],
            "open_to_collaborate": [True, False],
        },
        {"description": [REMOVED, REMOVED]},
    ]
    everything = repr(list(RecordEvent.objects.values_list("summary", "data")))
    assert "My personal words" not in everything
    assert "Second thoughts" not in everything
    assert "My secret lab" not in everything
    # What the history needs to undo a correction stays.
    assert RecordEvent.objects.get(pk=correction.pk).data == correction.data
