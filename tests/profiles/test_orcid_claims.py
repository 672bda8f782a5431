"""Machine-checkable claims: an authenticated iD whose ORCID works agree with the record is L3 at
once; anything less goes to the admins with the comparison; ORCID's failures change nothing."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from profiles import claims
from profiles.models import Claim, TrustSnapshot
from profiles.orcid import checks
from profiles.orcid.client import OrcidClient
from tests.accounts_helpers import claimed_record, eager_tasks, make_admin
from tests.factories import UserFactory
from tests.orcid_helpers import (
    ORCID,
    OTHER_ORCID,
    arxiv_ids,
    listing,
    orcid_account,
    researcher,
    sign,
    submit_orcid_claim,
)
from works.models import AuthorRecord, RecordEvent, Work

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures(eager_tasks.__name__)]


def claim_page(record) -> str:
    return reverse("profiles:claim", args=[record.slug])


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run what commits queue (the ORCID check, emails), as the request's commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def send_claim(client, record, user, committed, **data):
    client.force_login(user)
    with committed():
        return client.post(claim_page(record), {"statement": "These are my papers.", **data})


@pytest.mark.django_db(transaction=True)
def test_a_claimant_whose_orcid_lists_the_works_is_l3_within_one_request_and_one_task(
    client, fake_orcid
):
    """The request commits, which queues the check; eager (as without a broker) it runs at once,
    and the answer's message already says the claim was approved."""
    record = researcher(works=3)
    listing(fake_orcid, arxiv_ids(record))
    user = orcid_account()
    client.force_login(user)

    response = client.post(claim_page(record), {"statement": "These are my papers."})

    assert response.status_code == 302
    record.refresh_from_db()
    assert (record.claim_state, record.verification_level) == ("claimed", 3)
    claim = Claim.objects.get(record=record)
    assert (claim.state, claim.auto_approved, claim.decided_by) == ("approved", True, None)
    assert (claim.orcid, claim.orcid_authenticated) == (ORCID, True)
    assert claim.orcid_matched == arxiv_ids(record)
    assert claim.orcid_check["enough"] is True
    # The one background task read the iD's record (names) and works, once each.
    assert fake_orcid.api_requests() == [f"/v3.0/{ORCID}/record", f"/v3.0/{ORCID}/works"]
    page = client.get(response["Location"]).content.decode()
    assert "approved at once" in page
    assert "authenticated by signing in with ORCID" in page


def test_the_records_history_says_why_and_lists_the_matched_works(client, fake_orcid, committed):
    record = researcher(works=2)
    ids = arxiv_ids(record)
    listing(fake_orcid, ids)

    send_claim(client, record, orcid_account(), committed)

    event = RecordEvent.objects.filter(record=record, kind=RecordEvent.Kind.LEVEL).latest("id")
    assert event.actor is None
    assert event.summary == (
        "Verification L1 → L3 (Verified identity); Claim pending → Claimed. A claim was approved "
        f"at once: the claimant's ORCID iD {ORCID}, authenticated by signing in with ORCID, "
        f"lists 2 works of this record (arXiv:{ids[0]}, arXiv:{ids[1]})."
    )
    assert [w["arxiv_id"] for w in event.data["matched_works"]] == ids
    assert event.data["orcid"] == ORCID
    assert event.data["rule"].startswith(f"The ORCID record {ORCID}, authenticated")
    history = client.get(reverse("profiles:history", args=[record.slug])).content.decode()
    assert "approved at once" in history


def test_why_this_score_shows_the_orcid_evidence_and_the_reason(client, fake_orcid, committed):
    record = researcher(works=2)
    ids = arxiv_ids(record)
    listing(fake_orcid, ids)
    send_claim(client, record, orcid_account(), committed)

    snapshot = TrustSnapshot.objects.filter(record=record).latest()
    html = client.get(reverse("profiles:trust", args=[record.slug])).content.decode()

    assert snapshot.level == 3
    identity = next(c for c in snapshot.components if c["key"] == "identity")
    assert identity["points"] == 40
    rows = [row["what"] for row in identity["evidence"]]
    assert rows[0].startswith(
        "Verification L3 (Verified identity): Approved claim by an account with a verified "
        f"email, with the ORCID iD {ORCID}, authenticated by signing in with ORCID, whose "
        "public record lists 2 works of this record."
    )
    assert rows[2] == (
        f"ORCID iD {ORCID}, authenticated by signing in with ORCID: its public record lists "
        f"2 works of this record (arXiv:{ids[0]}, arXiv:{ids[1]})"
    )
    assert rows[3].startswith("Claim approved at once, without an admin: The ORCID record")
    assert [row["source"] for row in identity["evidence"]][2:] == ["ORCID", "BZPEER ORCID check"]
    assert "authenticated by signing in with ORCID: its public record lists 2 works" in html
    assert "Claim approved at once, without an admin" in html
    assert "ORCID, checked by BZPEER" in html


def test_the_claimant_is_emailed_why_it_was_approved_at_once(client, fake_orcid, committed):
    record = researcher(works=2)
    listing(fake_orcid, arxiv_ids(record))
    user = orcid_account()

    send_claim(client, record, user, committed)

    assert [m.to for m in mail.outbox] == [[user.email]]
    assert "approved at once, without waiting for an admin: The ORCID record" in (
        mail.outbox[0].body
    )


def test_too_little_agreement_goes_to_the_admins_with_the_comparison(client, fake_orcid, committed):
    record = researcher(works=3)
    ids = arxiv_ids(record)
    listing(fake_orcid, ids[:1])
    user = orcid_account()

    send_claim(client, record, user, committed)

    claim = Claim.objects.get(record=record)
    record.refresh_from_db()
    assert (claim.state, record.claim_state, record.verification_level) == ("pending", "pending", 1)
    assert claim.orcid_matched == ids[:1]
    assert claim.orcid_check["reason"] == (
        "Not approved at once: a publisher or registry listed 1 of the record's 3 works on the "
        "ORCID record, and 2 are needed. An admin decides."
    )
    assert [w["arxiv_id"] for w in claim.orcid_check["missing"]] == ids[1:]
    assert mail.outbox == []
    # The claimant sees the outcome on the record.
    page = client.get(record.get_absolute_url()).content.decode()
    assert "ORCID check: Not approved at once" in page

    client.force_login(make_admin())
    admin_page = client.get(reverse("admin:profiles_claim_change", args=[claim.pk]))
    html = admin_page.content.decode()
    assert "Matching</strong> (1 of the record's 3 works, 1 of them listed by a publisher" in html
    assert "(by arXiv id, listed by DataCite)" in html
    assert f"arXiv:{ids[1]}" in html  # missing
    assert "Conflicting</strong>" in html
    assert "approval gives L3" in html  # the iD lists one work of the record
    listed = client.get(reverse("admin:profiles_claim_changelist") + "?orcid=authenticated")
    assert "authenticated · 1/3 works match (1 by a third party)" in listed.content.decode()


def test_an_admin_approving_an_authenticated_claim_that_lists_works_gives_l3(fake_orcid, committed):
    record = researcher(works=3)
    listing(fake_orcid, arxiv_ids(record)[:1])
    user = orcid_account()
    with committed():
        claim = submit_orcid_claim(record, user)

    claims.approve_claim(Claim.objects.get(pk=claim.pk), by=make_admin(), reason="Lab page.")

    record.refresh_from_db()
    assert record.verification_level == 3
    assert not Claim.objects.get(pk=claim.pk).auto_approved


def test_an_admin_can_revoke_a_claim_approved_at_once(fake_orcid, committed):
    record = researcher(works=2)
    listing(fake_orcid, arxiv_ids(record))
    with committed():
        claim = submit_orcid_claim(record, orcid_account())
    claim.refresh_from_db()
    assert claim.state == "approved"

    claims.revoke_claim(claim, by=make_admin(), reason="Not this person after all.")

    record.refresh_from_db()
    assert (record.claim_state, record.verification_level) == ("unclaimed", 1)


def test_works_the_holder_typed_into_orcid_approve_nothing_and_give_no_l3(
    client, fake_orcid, committed
):
    """Anyone can name an ORCID record after a researcher and type in their arXiv ids."""
    record = researcher(works=2)
    impostor = listing(fake_orcid, arxiv_ids(record))
    for work in impostor.works:
        work.source = "holder"

    send_claim(client, record, orcid_account(), committed)

    claim = Claim.objects.get(record=record)
    assert (claim.state, claim.orcid_matched) == ("pending", [])
    assert (
        "2 more listed by the holder themselves, which proves nothing"
        in (claim.orcid_check["reason"])
    )
    claims.approve_claim(claim, by=make_admin(), reason="The lab page lists them.")
    record.refresh_from_db()
    assert record.verification_level == 2


def test_a_typed_orcid_is_never_checked(client, fake_orcid, committed):
    record = researcher(works=2)
    listing(fake_orcid, arxiv_ids(record))

    send_claim(client, record, UserFactory(verified=True), committed, orcid=ORCID)

    claim = Claim.objects.get(record=record)
    assert (claim.state, claim.orcid, claim.orcid_authenticated) == ("pending", ORCID, False)
    assert fake_orcid.api_requests() == []


def test_an_instant_claim_cannot_take_a_record_another_account_owns(fake_orcid):
    record = researcher(works=2)
    listing(fake_orcid, arxiv_ids(record))
    claimant = orcid_account()
    # Sent while the record was free; another account's claim was approved before the check.
    waiting = Claim.objects.create(
        record=record,
        user=claimant,
        email=claimant.email,
        email_verified=True,
        orcid=ORCID,
        orcid_authenticated=True,
    )
    owner = UserFactory(verified=True)
    first = claims.submit_claim(record=record, user=owner, links=[], statement="Mine")
    claims.approve_claim(first, by=make_admin(), reason="Checked.")

    assert checks.check_claim(waiting.pk) == "admin"

    waiting.refresh_from_db()
    assert waiting.state == "pending"
    assert "already approved" in waiting.orcid_check["refused"]
    assert Claim.objects.get(record=record, state="approved").user == owner


def test_an_id_that_backs_another_approved_claim_is_not_approved_again(fake_orcid, committed):
    # An admin approved a claim with this iD typed by another account, before ORCID sign-in.
    elsewhere, _, _ = claimed_record()
    Claim.objects.filter(record=elsewhere).update(orcid=ORCID)
    record = researcher(works=2)
    listing(fake_orcid, arxiv_ids(record))

    with committed():
        claim = submit_orcid_claim(record, orcid_account())

    claim.refresh_from_db()
    assert claim.state == "pending"
    assert "already backs an approved claim" in claim.orcid_check["refused"]


def test_a_listed_work_on_a_record_another_account_claimed_stops_the_instant_approval(
    client, fake_orcid, committed
):
    record = researcher(works=2)
    theirs, _, _ = claimed_record(works=1)
    shared = Work.objects.filter(authorships__author=theirs).get()
    # The claimant's own signature on that paper sits on the other account's record.
    AuthorRecord.objects.filter(pk=theirs.pk).update(display_name="Z. Zhang")
    shared.authorships.update(printed_name="Z. Zhang", name_key="z zhang")
    listing(fake_orcid, [*arxiv_ids(record), shared.arxiv_id])

    send_claim(client, record, orcid_account(), committed)

    claim = Claim.objects.get(record=record)
    assert claim.state == "pending"
    assert [w["arxiv_id"] for w in claim.orcid_check["conflicting"]] == [shared.arxiv_id]


def test_a_coauthors_claimed_record_on_a_shared_paper_is_no_conflict(client, fake_orcid, committed):
    record = researcher(works=2)
    coauthor, _, _ = claimed_record(works=0)
    paper = Work.objects.filter(authorships__author=record).first()
    sign(paper, [coauthor], ["Ada Lovelace"])
    listing(fake_orcid, arxiv_ids(record))

    send_claim(client, record, orcid_account(), committed)

    assert Claim.objects.get(record=record).state == "approved"


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ((404,), "HTTP 404"),
        ((401,), "HTTP 401"),
        ((503, "0"), "failed 4 times"),
        ((429, "0"), "failed 4 times"),
    ],
)
def test_orcid_failing_leaves_the_claim_pending_with_the_error(
    client, fake_orcid, committed, monkeypatch, fault, expected
):
    monkeypatch.setattr(OrcidClient, "from_settings", classmethod(_quick_client), raising=True)
    record = researcher(works=2)
    listing(fake_orcid, arxiv_ids(record))
    fake_orcid.fail_next(*fault, times=4, match="/record")

    response = send_claim(client, record, orcid_account(), committed)

    assert response.status_code == 302
    claim = Claim.objects.get(record=record)
    assert claim.state == "pending"
    assert expected in claim.orcid_check["error"]
    assert claim.orcid_matched == []


def test_malformed_json_and_a_huge_body_leave_the_claim_pending(
    client, fake_orcid, committed, monkeypatch
):
    monkeypatch.setattr(OrcidClient, "from_settings", classmethod(_quick_client))
    first, second = researcher(works=2), researcher("Ada Lovelace", works=2)
    listing(fake_orcid, arxiv_ids(first))
    fake_orcid.malformed_next(match="/works")
    send_claim(client, first, orcid_account(), committed)
    listing(fake_orcid, arxiv_ids(second), orcid=OTHER_ORCID, given="Ada", family="Lovelace")
    fake_orcid.huge_next(20_000_000, match="/works")
    send_claim(client, second, orcid_account(OTHER_ORCID), committed)

    errors = [c.orcid_check["error"] for c in Claim.objects.order_by("created_at")]
    assert "not JSON" in errors[0]
    assert "over the 8,388,608-byte limit" in errors[1]
    assert set(Claim.objects.values_list("state", flat=True)) == {"pending"}


def test_the_nightly_refresh_checks_a_failed_claim_again(
    client, fake_orcid, committed, monkeypatch
):
    from profiles.tasks import orcid_refresh_all

    monkeypatch.setattr(OrcidClient, "from_settings", classmethod(_quick_client))
    record = researcher(works=2)
    listing(fake_orcid, arxiv_ids(record))
    fake_orcid.fail_next(503, "0", times=4)
    send_claim(client, record, orcid_account(), committed)
    assert Claim.objects.get(record=record).state == "pending"

    with committed():
        orcid_refresh_all()

    assert Claim.objects.get(record=record).state == "approved"


def test_a_site_that_stopped_using_orcid_reads_nothing_and_leaves_the_claim_to_admins(
    client, committed
):
    # The account connected ORCID while it was configured; the site has dropped it since.
    record = researcher(works=2)

    send_claim(client, record, orcid_account(), committed)

    claim = Claim.objects.get(record=record)
    assert (claim.state, claim.orcid_authenticated) == ("pending", True)
    assert "ORCID is not configured on this site" in claim.orcid_check["error"]
    assert checks.due_refreshes() == ([], [])


def test_the_claim_page_explains_the_rule_to_an_authenticated_claimant(client, fake_orcid):
    record = researcher(works=3)
    client.force_login(orcid_account())

    html = client.get(claim_page(record)).content.decode()

    assert ORCID in html
    assert "Authenticated" in html
    assert "has put at least 2 of them on your ORCID record" in html
    assert 'name="orcid"' not in html  # nothing to type


def test_the_claim_page_offers_to_connect_orcid_first(client, fake_orcid):
    record = researcher(works=1)
    client.force_login(UserFactory(verified=True))

    html = client.get(claim_page(record)).content.decode()

    assert "Connect your ORCID iD" in html
    assert f'name="next" value="{claim_page(record)}"' in html
    assert 'name="orcid"' in html  # a typed iD is still evidence for an admin


def test_without_orcid_configured_the_claim_page_is_as_before(client):
    record = researcher(works=1)
    client.force_login(UserFactory(verified=True))

    html = client.get(claim_page(record)).content.decode()

    assert "Connect your ORCID iD" not in html
    assert "orcid-check" not in html
    assert 'name="orcid"' in html


def _quick_client(cls, **kwargs):
    """The settings' client without waiting: retries and Retry-After cost no time in tests."""
    from django.conf import settings

    return cls(settings.ORCID_API_URL, sleep=lambda seconds: None, timeout=(2, 5), **kwargs)
