"""Claims: evidence, every transition, the constraints, the race, the page and the emails."""

import os
import threading

import pytest
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from graph.models import CollaborationEdge
from profiles import claims
from profiles.models import Claim
from profiles.views.sections import identity_section
from tests.accounts_helpers import claimed_record, eager_tasks, make_admin, record_with_works
from tests.factories import UserFactory
from works.models import AuthorRecord, RecordEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures(eager_tasks.__name__)]


def _claim(record, user, **kwargs):
    return claims.submit_claim(
        record=record, user=user, links=kwargs.pop("links", []), statement="Mine.", **kwargs
    )


def test_submitting_a_claim_makes_the_record_pending_and_logs_it():
    record = record_with_works()
    user = UserFactory(verified=True)

    claim = _claim(record, user, orcid="0000-0002-1825-0097", links=["https://example.org/me"])

    record.refresh_from_db()
    assert record.claim_state == "pending"
    assert record.verification_level == 1
    assert (claim.state, claim.email, claim.email_verified) == ("pending", user.email, True)
    assert claim.orcid == "0000-0002-1825-0097"
    assert claim.links == ["https://example.org/me"]
    assert list(RecordEvent.objects.filter(record=record).values_list("kind", flat=True)) == [
        "claim"
    ]


def test_a_claim_needs_a_verified_email():
    record = record_with_works()
    with pytest.raises(claims.ClaimError, match="Verify your email"):
        _claim(record, UserFactory(verified=False))
    assert Claim.objects.count() == 0


def test_organisations_cannot_be_claimed():
    record = record_with_works(kind=AuthorRecord.Kind.ORGANISATION)
    with pytest.raises(claims.ClaimError, match="Organisation"):
        _claim(record, UserFactory(verified=True))


def test_one_pending_claim_per_account_at_a_time():
    user = UserFactory(verified=True)
    _claim(record_with_works(), user)
    with pytest.raises(claims.ClaimError, match="already have a claim waiting"):
        _claim(record_with_works(), user)


def test_approving_gives_l2_and_emails_the_claimant(django_capture_on_commit_callbacks):
    record = record_with_works()
    user = UserFactory(verified=True)
    admin = make_admin()
    claim = _claim(record, user)

    with django_capture_on_commit_callbacks(execute=True):
        claims.approve_claim(claim, by=admin, reason="The lab page lists them.")

    record.refresh_from_db()
    claim.refresh_from_db()
    assert (record.claim_state, record.verification_level) == ("claimed", 2)
    assert (claim.state, claim.decided_by, claim.reason) == (
        "approved",
        admin,
        "The lab page lists them.",
    )
    assert [m.to for m in mail.outbox] == [[user.email]]
    assert "approved" in mail.outbox[0].subject
    assert "The lab page lists them." in mail.outbox[0].body
    summaries = list(RecordEvent.objects.filter(record=record).values_list("summary", flat=True))
    assert any("approved by an admin" in s for s in summaries)
    # The public history never shows the admin's private reason.
    assert not any("lab page" in s for s in summaries)


def test_a_decision_queues_trust_once_for_the_record_and_who_counts_it_as_close(
    django_capture_on_commit_callbacks, queued_trust
):
    record, close_coauthor, other_coauthor = (record_with_works() for _ in range(3))
    CollaborationEdge.objects.bulk_create(
        [
            CollaborationEdge(author=close_coauthor, coauthor=record, weight=0.5, shared_works=1),
            CollaborationEdge(author=other_coauthor, coauthor=record, weight=0.01, shared_works=1),
        ]
    )
    claim = _claim(record, UserFactory(verified=True))

    with django_capture_on_commit_callbacks(execute=True):
        claims.approve_claim(claim, by=make_admin(), reason="The lab page lists them.")

    # The level moved (L1 to L2): the record and its close collaborator's score, in one event.
    assert queued_trust == [sorted([record.id, close_coauthor.id])]


def test_a_decision_that_leaves_the_level_queues_the_records_trust_once(
    django_capture_on_commit_callbacks, queued_trust
):
    record = record_with_works()
    first, _ = (_claim(record, UserFactory(verified=True)) for _ in range(2))

    with django_capture_on_commit_callbacks(execute=True):
        claims.reject_claim(first, by=make_admin(), reason="Not this person.")

    assert queued_trust == [[record.id]]


def test_an_institutional_email_on_the_affiliation_domain_gives_l3():
    record = record_with_works(affiliation="Tsinghua University, tsinghua.edu.cn")
    user = UserFactory(verified=True, email="zz@mails.tsinghua.edu.cn")
    claims.approve_claim(_claim(record, user), by=make_admin(), reason="ok")
    record.refresh_from_db()
    assert record.verification_level == 3


def test_an_orcid_confirmed_by_the_admin_gives_l3_and_unconfirmed_gives_l2():
    admin = make_admin()
    confirmed = record_with_works()
    unconfirmed = record_with_works()
    claims.approve_claim(
        _claim(confirmed, UserFactory(verified=True), orcid="0000-0002-1825-0097"),
        by=admin,
        reason="ORCID checked",
        orcid_confirmed=True,
    )
    # Another person's iD: one ORCID iD backs at most one approved claim.
    claims.approve_claim(
        _claim(unconfirmed, UserFactory(verified=True), orcid="0000-0001-5109-3700"),
        by=admin,
        reason="ok",
    )
    confirmed.refresh_from_db()
    unconfirmed.refresh_from_db()
    assert (confirmed.verification_level, unconfirmed.verification_level) == (3, 2)


def test_rejecting_returns_the_record_to_unclaimed(django_capture_on_commit_callbacks):
    record = record_with_works()
    user = UserFactory(verified=True)
    claim = _claim(record, user)
    with django_capture_on_commit_callbacks(execute=True):
        claims.reject_claim(claim, by=make_admin(), reason="No evidence.")
    record.refresh_from_db()
    claim.refresh_from_db()
    assert (record.claim_state, record.verification_level, claim.state) == (
        "unclaimed",
        1,
        "rejected",
    )
    assert "rejected" in mail.outbox[0].subject


def test_rejecting_one_of_two_pending_claims_keeps_the_record_pending_and_logs_it():
    record = record_with_works()
    first = _claim(record, UserFactory(verified=True))
    _claim(record, UserFactory(verified=True))
    claims.reject_claim(first, by=make_admin(), reason="no")
    record.refresh_from_db()
    assert record.claim_state == "pending"
    assert RecordEvent.objects.filter(
        record=record, summary="A claim was rejected by an admin."
    ).exists()


def test_revoking_returns_the_record_to_unclaimed_and_clears_the_owners_settings():
    record, owner, claim = claimed_record()
    record.description = "My words"
    record.owner_affiliation = "My lab"
    record.save()
    claims.revoke_claim(claim, by=make_admin(), reason="Impersonation.")
    record.refresh_from_db()
    claim.refresh_from_db()
    assert claim.state == "revoked"
    assert (record.claim_state, record.verification_level) == ("unclaimed", 1)
    assert (record.description, record.owner_affiliation, record.open_to_collaborate) == (
        "",
        "",
        False,
    )


def test_the_claimant_can_withdraw_a_pending_claim_and_nobody_else_can():
    record = record_with_works()
    user = UserFactory(verified=True)
    claim = _claim(record, user)
    with pytest.raises(claims.ClaimError):
        claims.withdraw_claim(claim, by=UserFactory())
    claims.withdraw_claim(claim, by=user)
    claim.refresh_from_db()
    record.refresh_from_db()
    assert (claim.state, record.claim_state) == ("withdrawn", "unclaimed")


@pytest.mark.parametrize(
    ("start", "action"),
    [
        ("approved", "approve"),
        ("approved", "reject"),
        ("rejected", "approve"),
        ("rejected", "revoke"),
        ("pending", "revoke"),
        ("revoked", "approve"),
        ("withdrawn", "approve"),
    ],
)
def test_illegal_transitions_are_refused_and_change_nothing(start, action):
    record = record_with_works()
    claim = _claim(record, UserFactory(verified=True))
    Claim.objects.filter(pk=claim.pk).update(state=start)
    claim.refresh_from_db()
    decide = {
        "approve": claims.approve_claim,
        "reject": claims.reject_claim,
        "revoke": claims.revoke_claim,
    }[action]
    with pytest.raises(claims.ClaimError):
        decide(claim, by=make_admin(), reason="x")
    claim.refresh_from_db()
    assert claim.state == start


def test_nobody_approves_their_own_claim():
    admin = make_admin()
    record = record_with_works()
    claim = _claim(record, admin)
    with pytest.raises(claims.ClaimError, match="own claim"):
        claims.approve_claim(claim, by=admin, reason="It is me")
    claim.refresh_from_db()
    assert claim.state == "pending"


def test_a_second_approval_for_the_same_record_is_refused_by_the_constraint():
    record = record_with_works()
    admin = make_admin()
    first = _claim(record, UserFactory(verified=True))
    second = _claim(record, UserFactory(verified=True))
    claims.approve_claim(first, by=admin, reason="ok")
    with pytest.raises(claims.ClaimError, match="already approved"):
        claims.approve_claim(second, by=admin, reason="ok")
    assert list(
        Claim.objects.filter(record=record).order_by("state").values_list("state", flat=True)
    ) == [
        "approved",
        "pending",
    ]


def test_an_account_owns_at_most_one_record():
    admin = make_admin()
    user = UserFactory(verified=True)
    claimed_record(owner=user, admin=admin)
    with pytest.raises(claims.ClaimError, match="at most one"):
        _claim(record_with_works(), user)
    # Even a claim slipped in by hand cannot be approved: the database refuses it.
    other = record_with_works()
    sneaky = Claim.objects.create(record=other, user=user, email=user.email, email_verified=True)
    with pytest.raises(claims.ClaimError):
        claims.approve_claim(sneaky, by=admin, reason="ok")


def test_one_claim_approved_by_two_admins_with_stale_pages_is_decided_once():
    record = record_with_works()
    claim = _claim(record, UserFactory(verified=True))
    seen_by_a = Claim.objects.get(pk=claim.pk)
    seen_by_b = Claim.objects.get(pk=claim.pk)
    claims.approve_claim(seen_by_a, by=make_admin(), reason="first")
    with pytest.raises(claims.ClaimError, match="already decided"):
        claims.reject_claim(seen_by_b, by=make_admin(), reason="second")
    claim.refresh_from_db()
    assert (claim.state, claim.reason) == ("approved", "first")


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="real concurrency needs PostgreSQL: SQLite's in-memory test database locks whole tables",
)
@pytest.mark.django_db(transaction=True)
def test_two_claims_approved_at_once_end_with_one_approved():
    record = record_with_works()
    admin_a, admin_b = make_admin(), make_admin()
    claim_a = _claim(record, UserFactory(verified=True))
    claim_b = _claim(record, UserFactory(verified=True))
    barrier = threading.Barrier(2)
    outcomes = []

    def approve(claim, admin):
        try:
            barrier.wait(timeout=5)
            claims.approve_claim(Claim.objects.get(pk=claim.pk), by=admin, reason="race")
            outcomes.append("approved")
        except claims.ClaimError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=approve, args=(claim_a, admin_a)),
        threading.Thread(target=approve, args=(claim_b, admin_b)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["approved", "refused"]
    assert Claim.objects.filter(record=record, state="approved").count() == 1
    assert Claim.objects.filter(record=record, state="pending").count() == 1
    record.refresh_from_db()
    assert record.claim_state == "claimed"


# --- The pages -----------------------------------------------------------------------------


def test_anonymous_visitors_see_log_in_to_claim_with_a_way_back(client):
    record = record_with_works()
    html = client.get(record.get_absolute_url()).content.decode()
    assert "Claiming links this public author record" in html
    assert "Log in to claim" in html
    assert (
        f'href="/accounts/login/?next={record.get_absolute_url()}%23identity">Log in to claim'
        in html
    )
    assert "Claim this author entity first to unlock direct invitations." in html


def test_signed_in_visitors_see_claim_this_record_and_the_form_submits(client):
    record = record_with_works()
    user = UserFactory(verified=True)
    client.force_login(user)
    assert "Claim this record" in client.get(record.get_absolute_url()).content.decode()

    response = client.post(
        reverse("profiles:claim", args=[record.slug]),
        {"orcid": "https://orcid.org/0000-0002-1825-0097", "links": "", "statement": "Me."},
    )

    assert response.status_code == 302
    claim = Claim.objects.get(record=record)
    assert (claim.user, claim.orcid, claim.state) == (user, "0000-0002-1825-0097", "pending")
    html = client.get(record.get_absolute_url()).content.decode()
    assert "Claim pending" in html
    assert "Your claim: <strong>pending</strong>" in html


def test_everyone_sees_claim_pending(client):
    record = record_with_works()
    _claim(record, UserFactory(verified=True))
    html = client.get(record.get_absolute_url()).content.decode()
    assert "Claim pending" in html
    assert "Your claim" not in html


@pytest.mark.parametrize(
    ("orcid", "error"),
    [
        ("0000-0002-1825-0098", "not a valid ORCID"),
        ("1234", "not a valid ORCID"),
    ],
)
def test_the_claim_form_validates_the_orcid_checksum(client, orcid, error):
    record = record_with_works()
    client.force_login(UserFactory(verified=True))
    response = client.post(
        reverse("profiles:claim", args=[record.slug]),
        {"orcid": orcid, "links": "", "statement": "Me."},
    )
    assert response.status_code == 400
    assert error in response.content.decode()
    assert Claim.objects.count() == 0


def test_the_claim_form_refuses_links_that_are_not_web_addresses(client):
    record = record_with_works()
    client.force_login(UserFactory(verified=True))
    response = client.post(
        reverse("profiles:claim", args=[record.slug]),
        {"orcid": "", "links": "javascript:alert(1)", "statement": "Me."},
    )
    assert response.status_code == 400
    assert Claim.objects.count() == 0


def test_an_unverified_account_is_told_to_verify_first(client):
    record = record_with_works()
    client.force_login(UserFactory(verified=False))
    response = client.get(reverse("profiles:claim", args=[record.slug]))
    assert "Verify your email address first" in response.content.decode()
    assert 'name="statement"' not in response.content.decode()


def test_a_claimed_record_says_who_claimed_it_and_at_which_level(client):
    record, owner, _ = claimed_record()
    html = client.get(record.get_absolute_url()).content.decode()
    assert "Claimed by the researcher's account, with a verified email on" in html
    assert "<strong>example.org</strong>" in html
    assert "Verification <strong>L2</strong>" in html
    assert owner.email not in html


def test_the_claimant_withdraws_from_the_page(client):
    record = record_with_works()
    user = UserFactory(verified=True)
    claim = _claim(record, user)
    client.force_login(user)
    response = client.post(reverse("profiles:claim-withdraw", args=[claim.pk]))
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.state == "withdrawn"


def test_profile_page_claim_sections_use_a_constant_number_of_queries(
    client, django_assert_num_queries
):
    """Claims, verified email, open invitation, work choices: four, with 1 or 30 works."""
    user = UserFactory(verified=True)
    small, _, _ = claimed_record(works=1)
    big, _, _ = claimed_record(works=30)
    for record in (small, big):
        with django_assert_num_queries(4):
            context = identity_section(record, user)
        assert context["collaboration"].can_invite


def test_the_whole_profile_page_costs_the_same_with_1_or_30_works(client):
    from django.test.utils import CaptureQueriesContext

    user = UserFactory(verified=True)
    client.force_login(user)
    small, _, _ = claimed_record(works=1)
    big, _, _ = claimed_record(works=30)
    counts = []
    for record in (small, big):
        client.get(record.get_absolute_url())  # warm the session and caches
        with CaptureQueriesContext(connection) as captured:
            assert client.get(record.get_absolute_url()).status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]


def test_claim_submissions_are_rate_limited(client, one_ratelimit_window):
    record = record_with_works()
    client.force_login(UserFactory(verified=True))
    url = reverse("profiles:claim", args=[record.slug])
    # Forms sent back with an error count too: a script probing ORCID iDs is stopped.
    statuses = [client.post(url, {"orcid": "bad", "statement": "x"}).status_code for _ in range(11)]
    assert statuses == [400] * 10 + [429]
    assert "several claims in a short time" in client.post(url, {}).content.decode()


# --- One approved claim per ORCID iD (issue 12, integrity) ---------------------------------

ORCID = "0000-0002-1825-0097"
TAKEN = f"ORCID iD {ORCID} already backs an approved claim"


def test_an_orcid_id_backs_at_most_one_approved_claim():
    admin = make_admin()
    first = _claim(record_with_works(), UserFactory(verified=True), orcid=ORCID)
    second = _claim(record_with_works(), UserFactory(verified=True), orcid=ORCID)
    claims.approve_claim(first, by=admin, reason="ok")
    with pytest.raises(claims.ClaimError, match=TAKEN):
        claims.approve_claim(second, by=admin, reason="ok")
    second.refresh_from_db()
    assert second.state == "pending"
    second.record.refresh_from_db()
    assert second.record.claim_state == "pending"


def test_the_database_refuses_a_second_approved_claim_with_one_orcid_id():
    admin = make_admin()
    first = _claim(record_with_works(), UserFactory(verified=True), orcid=ORCID)
    second = _claim(record_with_works(), UserFactory(verified=True), orcid=ORCID)
    claims.approve_claim(first, by=admin, reason="ok")
    with pytest.raises(IntegrityError), transaction.atomic():
        Claim.objects.filter(pk=second.pk).update(state=Claim.State.APPROVED)


def test_a_revoked_claims_orcid_id_can_back_a_new_one_and_claims_without_one_never_clash():
    admin = make_admin()
    first = _claim(record_with_works(), UserFactory(verified=True), orcid=ORCID)
    claims.approve_claim(first, by=admin, reason="ok")
    claims.revoke_claim(first, by=admin, reason="Wrong person.")
    second = _claim(record_with_works(), UserFactory(verified=True), orcid=ORCID)
    claims.approve_claim(second, by=admin, reason="ok")
    for _ in range(2):
        claims.approve_claim(
            _claim(record_with_works(), UserFactory(verified=True)), by=admin, reason="ok"
        )
    assert Claim.objects.filter(state="approved").count() == 3


def test_the_admin_is_told_why_a_second_claim_with_one_orcid_id_was_not_approved(client):
    admin = make_admin()
    first = _claim(record_with_works(), UserFactory(verified=True), orcid=ORCID)
    second = _claim(record_with_works(), UserFactory(verified=True), orcid=ORCID)
    claims.approve_claim(first, by=admin, reason="ok")
    client.force_login(admin)
    response = client.post(
        reverse("admin:profiles_claim_changelist"),
        {"action": "approve", "_selected_action": [str(second.pk)], "apply": "1", "reason": "ok"},
        follow=True,
    )
    assert response.status_code == 200
    assert TAKEN in response.content.decode()
    second.refresh_from_db()
    assert second.state == "pending"
