"""Deciding claims in Django admin: the pending queue, the evidence, bulk actions with a reason."""

import pytest
from django.core import mail
from django.urls import reverse

from profiles import claims
from profiles.models import Claim
from tests.accounts_helpers import eager_tasks, make_admin, record_with_works
from tests.factories import UserFactory
from works.models import RecordEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures(eager_tasks.__name__)]

CHANGELIST = "admin:profiles_claim_changelist"


def _pending(**record_kwargs):
    record = record_with_works(**record_kwargs)
    user = UserFactory(verified=True)
    claim = claims.submit_claim(
        record=record,
        user=user,
        orcid="0000-0002-1825-0097",
        links=["https://example.org/people/me", "https://evil.example/<script>"],
        statement="I wrote <em>these</em>.",
    )
    return claim


def test_the_changelist_shows_pending_claims_by_default(client):
    pending = _pending()
    decided = _pending()
    claims.reject_claim(decided, by=make_admin(), reason="no")
    client.force_login(make_admin())
    html = client.get(reverse(CHANGELIST)).content.decode()
    assert str(pending.record) in html
    assert str(decided.record) not in html
    html = client.get(reverse(CHANGELIST) + "?state=all").content.decode()
    assert str(decided.record) in html


def test_the_claim_page_shows_the_evidence_escaped(client):
    claim = _pending(affiliation="Dept. of CS, tsinghua.edu.cn")
    client.force_login(make_admin())
    html = client.get(reverse("admin:profiles_claim_change", args=[claim.pk])).content.decode()
    assert claim.email in html
    assert "0000-0002-1825-0097" in html
    assert "checksum valid" in html
    assert 'href="https://example.org/people/me"' in html
    assert "<script>" not in html.split("<body")[1].replace("<script src", "")
    assert "I wrote &lt;em&gt;these&lt;/em&gt;." in html
    assert "tsinghua.edu.cn" in html
    assert "does not match: approval gives L2" in html


def test_approving_through_the_action_asks_for_a_reason_first(
    client, django_capture_on_commit_callbacks
):
    claim = _pending()
    admin = make_admin()
    client.force_login(admin)
    data = {"action": "approve", "_selected_action": [str(claim.pk)]}

    page = client.post(reverse(CHANGELIST), data)
    assert page.status_code == 200
    assert 'name="reason"' in page.content.decode()
    claim.refresh_from_db()
    assert claim.state == "pending"

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse(CHANGELIST),
            {**data, "apply": "1", "reason": "Lab page confirms", "orcid_confirmed": "on"},
        )
    assert response.status_code == 302
    claim.refresh_from_db()
    claim.record.refresh_from_db()
    assert (claim.state, claim.decided_by, claim.reason, claim.orcid_confirmed) == (
        "approved",
        admin,
        "Lab page confirms",
        True,
    )
    assert claim.record.verification_level == 3
    assert [m.to for m in mail.outbox] == [[claim.email]]


def test_bulk_reject_with_one_reason(client):
    first, second = _pending(), _pending()
    client.force_login(make_admin())
    client.post(
        reverse(CHANGELIST),
        {
            "action": "reject",
            "_selected_action": [str(first.pk), str(second.pk)],
            "apply": "1",
            "reason": "No evidence",
        },
    )
    assert set(Claim.objects.values_list("state", "reason")) == {("rejected", "No evidence")}


def test_an_admin_cannot_approve_their_own_claim_in_admin(client):
    admin = make_admin()
    record = record_with_works()
    claim = claims.submit_claim(record=record, user=admin, links=[], statement="me")
    client.force_login(admin)
    response = client.post(
        reverse(CHANGELIST),
        {"action": "approve", "_selected_action": [str(claim.pk)], "apply": "1", "reason": "me"},
        follow=True,
    )
    assert "own claim" in response.content.decode()
    claim.refresh_from_db()
    assert claim.state == "pending"


def test_an_admin_revokes_an_approved_claim(client):
    claim = _pending()
    claims.approve_claim(claim, by=make_admin(), reason="ok")
    client.force_login(make_admin())
    client.post(
        reverse(CHANGELIST) + "?state=approved",
        {"action": "revoke", "_selected_action": [str(claim.pk)], "apply": "1", "reason": "Fraud"},
    )
    claim.refresh_from_db()
    claim.record.refresh_from_db()
    assert (claim.state, claim.record.claim_state) == ("revoked", "unclaimed")
    assert RecordEvent.objects.filter(record=claim.record, actor__isnull=False).count() >= 2


def test_claims_cannot_be_added_or_deleted_in_admin(client):
    claim = _pending()
    client.force_login(make_admin())
    assert client.get(reverse("admin:profiles_claim_add")).status_code == 403
    assert client.get(reverse("admin:profiles_claim_delete", args=[claim.pk])).status_code == 403


def test_non_staff_accounts_never_reach_the_admin(client):
    claim = _pending()
    client.force_login(UserFactory(verified=True))
    response = client.post(
        reverse(CHANGELIST),
        {"action": "approve", "_selected_action": [str(claim.pk)], "apply": "1", "reason": "x"},
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    claim.refresh_from_db()
    assert claim.state == "pending"
