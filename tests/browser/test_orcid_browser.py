"""ORCID in Chromium, through the fake ORCID: a new visitor signs in with ORCID, verifies the
email, claims their record and sees it Claimed at L3 on the next page; an owner answers the
works offered from their ORCID record; an admin reads a claim's comparison. Under the site's
Content-Security-Policy throughout (the sign-in form's redirect to ORCID included)."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from profiles import claims
from profiles.models import Claim, OrcidOffer
from tests.accounts_helpers import make_admin
from tests.factories import AuthorRecordFactory, WorkFactory
from tests.orcid_helpers import ORCID, arxiv_ids, listing, orcid_account, researcher, sign
from works.arxiv.names import name_key

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("eager_tasks"),
]

EMAIL = "zhengyan.zhang@example.org"
PASSWORD = "correct horse battery"

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
    window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI}`);
});
"""


@pytest.fixture
def watched(page):
    """The page, recording CSP violations (DOM events and console) and script errors."""
    problems: list[str] = []
    page.add_init_script(RECORD_VIOLATIONS)
    page.on(
        "console",
        lambda m: "Content Security Policy" in m.text and problems.append(f"console: {m.text}"),
    )
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.problems = problems
    return page


def _no_violations(page) -> None:
    assert page.evaluate("window.__cspViolations || []") == []
    assert page.problems == []


def _verification_path() -> str:
    message = next(m for m in reversed(mail.outbox) if EMAIL in m.to)
    return re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+)", message.body).group(1)


def test_a_visitor_signs_in_with_orcid_and_gets_an_instant_claim(
    live_server, fake_orcid, watched, screenshot_path
):
    page = watched
    record = researcher(works=3)
    listing(fake_orcid, arxiv_ids(record))
    mail.outbox.clear()

    # Sign in with ORCID: our form posts, we redirect to ORCID, ORCID sends the browser back.
    page.goto(f"{live_server.url}/accounts/login/?next={record.get_absolute_url()}")
    page.screenshot(path=screenshot_path("orcid-login"), full_page=True)
    page.get_by_role("button", name="Sign in with ORCID").click()
    # A new account: ORCID shares no email here, so one is asked for, then verified.
    page.wait_for_selector("h1 >> text=One more step")
    assert ORCID in page.locator("main").inner_text()
    _no_violations(page)
    page.get_by_label("Email").fill(EMAIL)
    page.screenshot(path=screenshot_path("orcid-signup-email"), full_page=True)
    page.get_by_role("button", name="Create my account").click()
    page.wait_for_selector("h1 >> text=Verify your email")
    page.goto(live_server.url + _verification_path())
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_selector(".site-nav >> text=Log out")

    # The account's iD is authenticated.
    page.goto(f"{live_server.url}/accounts/settings/")
    orcid_panel = page.locator("#orcid")
    assert "Authenticated" in orcid_panel.inner_text()
    assert ORCID in orcid_panel.inner_text()
    orcid_panel.screenshot(path=screenshot_path("orcid-settings"))

    # Claim the record: the claim page says what will be checked; the answer is the verdict.
    page.goto(live_server.url + record.get_absolute_url())
    page.get_by_role("link", name="Claim this record").click()
    page.wait_for_url("**/claim/")
    assert "Approved at once when your ORCID record agrees" in page.locator("main").inner_text()
    assert page.get_by_label("ORCID iD (optional)").count() == 0
    page.get_by_label("A short statement").fill("These are my papers.")
    page.screenshot(path=screenshot_path("orcid-claim-page"), full_page=True)
    page.get_by_role("button", name="Send my claim").click()
    page.wait_for_url(f"**{record.get_absolute_url()}#identity")

    assert "approved at once" in page.locator(".messages").inner_text()
    snapshot = page.locator("#trust").inner_text()
    identity = page.locator("#identity").inner_text()
    assert "Claimed" in identity
    assert "L3" in identity
    assert "authenticated by signing in with ORCID" in identity
    assert "L3" in snapshot
    page.screenshot(path=screenshot_path("orcid-claimed-record"), full_page=True)
    claim = Claim.objects.get(record=record)
    assert (claim.state, claim.auto_approved, claim.user.email) == ("approved", True, EMAIL)

    page.goto(live_server.url + reverse("profiles:trust", args=[record.slug]))
    why = page.locator("#trust-why").inner_text()
    assert f"ORCID iD {ORCID}, authenticated by signing in with ORCID" in why
    assert "Claim approved at once, without an admin" in why
    page.screenshot(path=screenshot_path("orcid-why-this-score"), full_page=True)
    _no_violations(page)


def _owner_with_offers(fake_orcid):
    record = researcher(works=2)
    strays = []
    for n, coauthor in enumerate(["Ada Lovelace", "Grace Hopper", "Alan Turing"]):
        other = AuthorRecordFactory(
            display_name="Z. Zhang", name_key=name_key("Z. Zhang"), slug=f"z-zhang-{n}"
        )
        helper = AuthorRecordFactory(display_name=coauthor, name_key=name_key(coauthor))
        work = WorkFactory(title=f"A paper with {coauthor}")
        sign(work, [helper, other])
        strays.append(work)
    listing(fake_orcid, [*arxiv_ids(record), *(w.arxiv_id for w in strays)])
    user = orcid_account(email=EMAIL)
    claims.submit_claim(
        record=record, user=user, orcid=ORCID, orcid_authenticated=True, links=[], statement="Me"
    )
    return record, user, strays


def _log_in(page, live_server, email: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_selector(".site-nav >> text=Log out")


def test_the_owner_moves_one_offered_work_and_declines_another(
    live_server, fake_orcid, watched, screenshot_path
):
    page = watched
    record, user, strays = _owner_with_offers(fake_orcid)
    assert OrcidOffer.objects.filter(state="open").count() == 3
    _log_in(page, live_server, EMAIL)

    page.goto(live_server.url + reverse("profiles:edit", args=[record.slug]))
    offers = page.locator("#orcid-offers")
    assert "3 works on your ORCID record are on other records: move them here?" in (
        offers.inner_text()
    )
    page.screenshot(path=screenshot_path("orcid-edit-offers"), full_page=True)

    def answer(work, button: str) -> None:
        item = page.locator("#orcid-offers li").filter(has_text=work.title)
        item.get_by_role("button", name=button).click()
        page.wait_for_url("**#orcid-offers")

    answer(strays[0], "Move here")
    assert "is now on your record" in page.locator(".messages").inner_text()
    answer(strays[1], "Not this one")
    assert "1 work on your ORCID record is on other records: move it here?" in (
        page.locator("#orcid-offers").inner_text()
    )
    page.screenshot(path=screenshot_path("orcid-edit-offers-answered"), full_page=True)
    assert strays[0].arxiv_id in arxiv_ids(record)
    assert strays[1].arxiv_id not in arxiv_ids(record)
    _no_violations(page)


def test_an_admin_reads_the_comparison_of_a_claim_left_to_them(
    live_server, fake_orcid, watched, screenshot_path
):
    page = watched
    record = researcher(works=4)
    listing(fake_orcid, arxiv_ids(record)[:1])
    claims.submit_claim(
        record=record,
        user=orcid_account(),
        orcid=ORCID,
        orcid_authenticated=True,
        links=[],
        statement="Mine.",
    )
    claim = Claim.objects.get(record=record)
    assert claim.state == "pending"
    admin = make_admin()
    _log_in(page, live_server, admin.email)

    page.goto(live_server.url + reverse("admin:profiles_claim_changelist") + "?orcid=authenticated")
    assert "authenticated · 1/4 works match (1 by a third party)" in (
        page.locator("#result_list").inner_text()
    )
    page.screenshot(path=screenshot_path("orcid-admin-claims"), full_page=True)
    page.goto(live_server.url + reverse("admin:profiles_claim_change", args=[claim.pk]))
    comparison = page.locator(".field-orcid_comparison").inner_text()
    assert "Not approved at once: a publisher or registry listed 1 of the record's 4 works" in (
        comparison
    )
    assert "Missing (on the record, not on ORCID: 3)" in comparison
    page.screenshot(path=screenshot_path("orcid-admin-comparison"), full_page=True)
    _no_violations(page)
