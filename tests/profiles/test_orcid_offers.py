"""ORCID as identity evidence: works on the owner's ORCID record that sit on other records are
offered on the edit page; accepted ones move, declined ones stay and are never offered again;
works on records other accounts claimed are conflicts for an admin. The nightly refresh offers
new matches and flags, without changing anything, an iD that stopped listing its works."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.text import slugify

from profiles import claims
from profiles.models import AccountSettings, Claim, OrcidOffer
from profiles.orcid import checks
from profiles.tasks import orcid_refresh_all
from tests.accounts_helpers import claimed_record, eager_tasks, make_admin
from tests.factories import AuthorRecordFactory, UserFactory, WorkFactory
from tests.orcid_helpers import (
    ORCID,
    arxiv_ids,
    listing,
    orcid_account,
    researcher,
    sign,
    submit_orcid_claim,
)
from works.arxiv.names import name_key
from works.models import Authorship, RecordEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures(eager_tasks.__name__)]

LOGIN = "/accounts/login/"


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


_SPLITS = itertools.count(2)


def stray_work(printed: str = "Zhengyan Zhang", *, coauthor: str = "Ada Lovelace"):
    """A work whose "Zhengyan Zhang" signature sits on another record (a split cluster)."""
    n = next(_SPLITS)
    other = AuthorRecordFactory(
        display_name=printed, name_key=name_key(printed), slug=f"{slugify(printed)}-{n}"
    )
    helper = AuthorRecordFactory(
        display_name=coauthor, name_key=name_key(coauthor), slug=f"{slugify(coauthor)}-{n}"
    )
    work = WorkFactory()
    sign(work, [helper, other])
    return work, other


@dataclass
class Owner:
    user: object
    record: object
    claim: object
    stray: object  # the work on another record
    source: object  # the record it sits on


@pytest.fixture
def owner(fake_orcid, committed) -> Owner:
    """An owner approved at once, whose ORCID record also lists a work on another record."""
    record = researcher(works=2)
    work, source = stray_work()
    listing(fake_orcid, [*arxiv_ids(record), work.arxiv_id])
    user = orcid_account()
    with committed():
        claim = submit_orcid_claim(record, user, statement="Mine.")
    claim.refresh_from_db()
    assert claim.state == "approved"
    return Owner(user, record, claim, work, source)


def edit_page(client, owner: Owner) -> str:
    client.force_login(owner.user)
    return client.get(reverse("profiles:edit", args=[owner.record.slug])).content.decode()


def offer_url(owner: Owner, offer: OrcidOffer, verb: str) -> str:
    return reverse(f"profiles:orcid-offer-{verb}", args=[owner.record.slug, offer.pk])


def test_the_owner_is_offered_works_of_their_orcid_record_on_other_records(client, owner):
    offer = OrcidOffer.objects.get()
    assert (offer.user, offer.record, offer.work, offer.source, offer.state) == (
        owner.user,
        owner.record,
        owner.stray,
        owner.source,
        "open",
    )
    assert offer.authorship.author == owner.source

    html = edit_page(client, owner)

    assert "1 work on your ORCID record is on other records: move it here?" in html
    assert owner.stray.title in html
    assert offer_url(owner, offer, "accept") in html
    assert offer_url(owner, offer, "decline") in html


@pytest.mark.parametrize("more", [0, 29])
def test_the_edit_page_costs_the_same_queries_with_1_or_30_offers(
    client, owner, more, django_assert_num_queries
):
    for _ in range(more):
        work, source = stray_work()
        OrcidOffer.objects.create(
            user=owner.user,
            record=owner.record,
            work=work,
            authorship=Authorship.objects.get(work=work, author=source),
            source=source,
            orcid=ORCID,
        )
    OrcidOffer.objects.create(
        user=owner.user, record=owner.record, work=WorkFactory(), orcid=ORCID, state="conflict"
    )
    client.force_login(owner.user)

    with django_assert_num_queries(QUERIES_FOR_THE_EDIT_PAGE):
        html = client.get(reverse("profiles:edit", args=[owner.record.slug])).content.decode()

    assert html.count("Move here") == 1 + more


# Session and user, the record, the owner check, the works, the offers (with their works and
# source records, one join).
QUERIES_FOR_THE_EDIT_PAGE = 6


def test_accepting_moves_the_work_here_through_the_corrections(client, owner):
    offer = OrcidOffer.objects.get()
    client.force_login(owner.user)

    response = client.post(offer_url(owner, offer, "accept"))

    assert response.status_code == 302
    assert response["Location"].endswith("#orcid-offers")
    moved = Authorship.objects.get(pk=offer.authorship_id)
    assert moved.author == owner.record
    assert owner.stray.arxiv_id in arxiv_ids(owner.record)
    offer.refresh_from_db()
    assert offer.state == "accepted"
    event = RecordEvent.objects.filter(record=owner.record, kind="correction").latest("id")
    assert event.summary.startswith(f"The owner moved 1 work(s) here from {owner.source.slug}")
    assert event.actor == owner.user
    assert event.data["action"] == "move"


def test_declining_changes_nothing_and_is_never_offered_again(client, owner, committed):
    offer = OrcidOffer.objects.get()
    client.force_login(owner.user)

    client.post(offer_url(owner, offer, "decline"))

    offer.refresh_from_db()
    assert offer.state == "declined"
    assert Authorship.objects.get(pk=offer.authorship_id).author == owner.source
    assert "move it here?" not in edit_page(client, owner)
    with committed():
        checks.sync_account(owner.user.pk)
    assert list(OrcidOffer.objects.values_list("state", flat=True)) == ["declined"]


def test_an_answered_offer_cannot_be_answered_again(client, owner):
    offer = OrcidOffer.objects.get()
    client.force_login(owner.user)
    client.post(offer_url(owner, offer, "decline"))

    assert client.post(offer_url(owner, offer, "accept")).status_code == 404
    assert Authorship.objects.get(pk=offer.authorship_id).author == owner.source


def test_a_work_on_a_record_another_account_claimed_is_a_conflict_never_moved(
    client, fake_orcid, committed
):
    record = researcher(works=2)
    theirs, _, _ = claimed_record(works=0)
    work = WorkFactory()
    sign(work, [theirs], ["Z. Zhang"])
    listing(fake_orcid, arxiv_ids(record))
    user = orcid_account()
    with committed():
        submit_orcid_claim(record, user)
    # The work appears on the ORCID record after the claim: the refresh finds it.
    listing(fake_orcid, [*arxiv_ids(record), work.arxiv_id])
    with committed():
        checks.sync_account(user.pk)

    offer = OrcidOffer.objects.get()
    assert offer.state == "conflict"
    client.force_login(user)
    html = client.get(reverse("profiles:edit", args=[record.slug])).content.decode()
    assert "On records other accounts have claimed" in html
    assert work.title in html
    assert reverse("profiles:orcid-offer-accept", args=[record.slug, offer.pk]) not in html
    response = client.post(reverse("profiles:orcid-offer-accept", args=[record.slug, offer.pk]))
    assert response.status_code == 404
    assert work.arxiv_id not in arxiv_ids(record)


def test_a_source_claimed_after_the_offer_turns_it_into_a_conflict(client, owner):
    offer = OrcidOffer.objects.get()
    other = UserFactory(verified=True)
    claim = claims.submit_claim(record=owner.source, user=other, links=[], statement="Mine")
    claims.approve_claim(claim, by=make_admin(), reason="Checked.")
    client.force_login(owner.user)

    response = client.post(offer_url(owner, offer, "accept"))

    assert response.status_code == 302
    offer.refresh_from_db()
    assert offer.state == "conflict"
    assert Authorship.objects.get(pk=offer.authorship_id).author == owner.source


def test_an_admin_approval_of_an_authenticated_claim_makes_the_offers(fake_orcid, committed):
    record = researcher(works=3)
    work, _ = stray_work()
    listing(fake_orcid, [arxiv_ids(record)[0], work.arxiv_id])
    user = orcid_account()
    with committed():
        claim = submit_orcid_claim(record, user)
    assert OrcidOffer.objects.count() == 0  # pending: nothing is offered yet

    with committed():
        claims.approve_claim(Claim.objects.get(pk=claim.pk), by=make_admin(), reason="Lab page.")

    assert list(OrcidOffer.objects.values_list("work_id", "state")) == [(work.pk, "open")]


# --- The nightly refresh -------------------------------------------------------------------


def opt_in(user) -> None:
    AccountSettings.objects.update_or_create(user=user, defaults={"orcid_refresh": True})


def test_the_refresh_offers_new_matches_to_owners_who_opted_in(fake_orcid, owner, committed):
    later, _ = stray_work(coauthor="Grace Hopper")
    listing(fake_orcid, [*owner.claim.orcid_matched, owner.stray.arxiv_id, later.arxiv_id])
    opt_in(owner.user)

    with committed():
        assert orcid_refresh_all() == 1

    assert sorted(OrcidOffer.objects.values_list("work_id", flat=True)) == sorted(
        [owner.stray.pk, later.pk]
    )


def test_owners_who_did_not_opt_in_are_not_read(fake_orcid, owner, committed):
    before = len(fake_orcid.api_requests())

    with committed():
        assert orcid_refresh_all() == 0

    assert len(fake_orcid.api_requests()) == before


def test_an_id_that_stops_listing_the_works_is_flagged_for_admins_and_nothing_changes(
    client, fake_orcid, owner, committed
):
    kept, dropped = owner.claim.orcid_matched
    listing(fake_orcid, [kept])
    opt_in(owner.user)

    with committed():
        orcid_refresh_all()

    claim = Claim.objects.get(pk=owner.claim.pk)
    owner.record.refresh_from_db()
    assert claim.orcid_drift == [dropped]
    assert claim.orcid_drift_seen_at is not None
    assert claim.orcid_matched == [kept, dropped]  # the evidence it was decided on
    assert (claim.state, owner.record.verification_level) == ("approved", 3)
    assert dropped in arxiv_ids(owner.record)

    client.force_login(make_admin())
    listed = client.get(reverse("admin:profiles_claim_changelist") + "?state=all&orcid=drift")
    assert "NO LONGER LISTS 1" in listed.content.decode()
    page = client.get(reverse("admin:profiles_claim_change", args=[claim.pk])).content.decode()
    assert (
        f"no longer lists 1 of the works that justified this claim</strong>: arXiv:{dropped}"
        in (page)
    )


def test_the_flag_clears_when_the_works_are_listed_again(fake_orcid, owner, committed):
    ids = list(owner.claim.orcid_matched)
    listing(fake_orcid, ids[:1])
    with committed():
        checks.sync_account(owner.user.pk)
    listing(fake_orcid, ids)

    with committed():
        assert checks.sync_account(owner.user.pk) == "synced"

    claim = Claim.objects.get(pk=owner.claim.pk)
    assert (claim.orcid_drift, claim.orcid_drift_seen_at) == ([], None)


def test_a_deactivated_id_flags_every_work(fake_orcid, owner, committed):
    fake_orcid.fail_next(410, match="/record")

    assert checks.sync_account(owner.user.pk) == "gone"

    claim = Claim.objects.get(pk=owner.claim.pk)
    assert claim.orcid_drift == claim.orcid_matched
    assert "HTTP 410" in claim.orcid_check["refresh_error"]


def test_orcid_unavailable_during_a_refresh_changes_nothing(fake_orcid, owner, monkeypatch):
    from profiles.orcid.client import OrcidClient

    monkeypatch.setattr(
        OrcidClient,
        "from_settings",
        classmethod(
            lambda cls, **kw: cls(fake_orcid.api_url, sleep=lambda s: None, timeout=(2, 2), **kw)
        ),
    )
    fake_orcid.fail_next(503, retry_after="0", times=4)
    before = Claim.objects.get(pk=owner.claim.pk).orcid_check

    assert checks.sync_account(owner.user.pk) == "error"

    claim = Claim.objects.get(pk=owner.claim.pk)
    assert (claim.orcid_drift, claim.orcid_check) == ([], before)


def test_the_owner_opts_in_on_the_settings_page(client, owner):
    client.force_login(owner.user)
    page = client.get(reverse("profiles:settings")).content.decode()
    assert "Check my ORCID record every night" in page

    response = client.post(reverse("profiles:settings-orcid"), {"orcid_refresh": "on"})

    assert response.status_code == 302
    assert AccountSettings.objects.get(user=owner.user).orcid_refresh is True
    client.post(reverse("profiles:settings-orcid"), {})
    assert AccountSettings.objects.get(user=owner.user).orcid_refresh is False


def test_an_account_without_orcid_cannot_opt_in(client, fake_orcid):
    user = UserFactory(verified=True)
    client.force_login(user)

    response = client.post(reverse("profiles:settings-orcid"), {"orcid_refresh": "on"})

    assert response.status_code == 302
    assert not AccountSettings.objects.filter(user=user, orcid_refresh=True).exists()


# --- Who may do what: the security cast on every new endpoint -------------------------------

# (endpoint, POST data, status for owner, another member, staff). Anonymous visitors are sent
# to log in.
CAST = [
    ("accept", {}, 302, 403, 403),
    ("decline", {}, 302, 403, 403),
    ("settings-orcid", {"orcid_refresh": "on"}, 302, 302, 302),
]


def _url(name: str, owner: Owner) -> str:
    if name == "settings-orcid":
        return reverse("profiles:settings-orcid")
    return offer_url(owner, OrcidOffer.objects.get(), name)


@pytest.mark.parametrize(("name", "data", "as_owner", "as_member", "as_staff"), CAST)
@pytest.mark.parametrize("who", ["owner", "member", "staff"])
def test_each_account_gets_exactly_what_it_should(
    client, owner, who, name, data, as_owner, as_member, as_staff
):
    account = {
        "owner": owner.user,
        "member": orcid_account("0000-0001-5109-3700"),
        "staff": UserFactory(verified=True, is_staff=True),
    }[who]
    client.force_login(account)

    response = client.post(_url(name, owner), data)

    expected = {"owner": as_owner, "member": as_member, "staff": as_staff}[who]
    assert response.status_code == expected
    offer = OrcidOffer.objects.get()
    if who != "owner" or name == "settings-orcid":
        assert offer.state == "open"
        assert Authorship.objects.get(pk=offer.authorship_id).author == owner.source
    if name == "settings-orcid":
        # Each account changes its own setting only.
        assert set(
            AccountSettings.objects.filter(orcid_refresh=True).values_list("user", flat=True)
        ) == ({account.pk} if who != "staff" else set())


@pytest.mark.parametrize(("name", "data", "as_owner", "as_member", "as_staff"), CAST)
def test_anonymous_visitors_are_sent_to_log_in(
    client, owner, name, data, as_owner, as_member, as_staff
):
    response = client.post(_url(name, owner), data)

    assert response.status_code == 302
    assert response["Location"].startswith(f"{LOGIN}?next=")
    assert OrcidOffer.objects.get().state == "open"


@pytest.mark.parametrize(("name", "data", "as_owner", "as_member", "as_staff"), CAST)
def test_every_new_post_needs_the_csrf_token(owner, name, data, as_owner, as_member, as_staff):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner.user)

    assert client.post(_url(name, owner), data).status_code == 403


@pytest.mark.parametrize("name", ["accept", "decline"])
def test_offers_refuse_get(client, owner, name):
    client.force_login(owner.user)

    assert client.get(_url(name, owner)).status_code == 405


def test_another_owners_offer_looks_like_no_offer(client, owner, fake_orcid, committed):
    # A second owner, with their own record, tries the first owner's offer on their own record.
    second_record = researcher("Ada Lovelace", works=1)
    listing(
        fake_orcid,
        arxiv_ids(second_record),
        orcid="0000-0001-5109-3700",
        given="Ada",
        family="Lovelace",
    )
    second = orcid_account("0000-0001-5109-3700")
    with committed():
        submit_orcid_claim(second_record, second, orcid="0000-0001-5109-3700")
    client.force_login(second)
    offer = OrcidOffer.objects.get(user=owner.user)

    response = client.post(
        reverse("profiles:orcid-offer-accept", args=[second_record.slug, offer.pk])
    )

    assert response.status_code == 404
    assert OrcidOffer.objects.get(pk=offer.pk).state == "open"
