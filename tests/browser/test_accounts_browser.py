"""Accounts in Chromium: sign up, verify by the emailed link, follow without a page load, claim."""

import re

import pytest
from django.core import mail
from support import wait_until

from profiles.models import Claim

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "browser.person@example.org"
PASSWORD = "a long browser password"


def _verification_path() -> str:
    message = next(m for m in reversed(mail.outbox) if EMAIL in m.to)
    return re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+)", message.body).group(1)


def test_sign_up_verify_follow_and_claim(demo, live_server, page, screenshot_path):
    mail.outbox.clear()
    page.goto(f"{live_server.url}/accounts/signup/")
    page.screenshot(path=screenshot_path("accounts-signup"), full_page=True)
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    # Verification is mandatory (a sign-up never tells whether an address is registered): the
    # new account is told to verify, and is not signed in yet.
    page.wait_for_selector("h1 >> text=Verify your email")
    assert "Confirmation email sent to" in page.locator(".messages").inner_text()
    assert page.locator(".site-nav >> text=Log out").count() == 0

    # The link from the email (locmem backend: the live server shares this process's outbox)
    # verifies the address and signs the account in.
    page.goto(live_server.url + _verification_path())
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_selector(".site-nav >> text=Log out")

    # Follow the demo researcher: the button and the count change without a page load.
    page.goto(live_server.url + demo.get_absolute_url())
    page.evaluate("window.__sameDocument = true")
    follow = page.locator("#follow-panel button")
    count = page.locator("#follow-panel [data-testid=follower-count]")
    assert follow.inner_text().startswith("Follow researcher")
    assert count.inner_text() == "0"
    follow.click()
    wait_until(
        page,
        "document.querySelector('#follow-panel button').getAttribute('aria-pressed') === 'true'",
    )
    assert count.inner_text() == "1"
    assert follow.inner_text().startswith("Following")
    assert page.evaluate("window.__sameDocument") is True
    page.locator("#actions").screenshot(path=screenshot_path("accounts-following"))

    # Claim the record.
    page.get_by_role("link", name="Claim this record").click()
    page.wait_for_url("**/claim/")
    page.get_by_label("ORCID iD (optional)").fill("0000-0002-1825-0097")
    page.get_by_label("A short statement").fill("These are my papers.")
    page.screenshot(path=screenshot_path("accounts-claim-form"), full_page=True)
    page.get_by_role("button", name="Send my claim").click()
    page.wait_for_url(f"**{demo.get_absolute_url()}#identity")
    identity = page.locator("#identity")
    assert "Claim pending" in identity.inner_text()
    assert "Your claim: pending" in identity.inner_text()
    identity.screenshot(path=screenshot_path("accounts-claim-pending"))
    claim = Claim.objects.get(record=demo)
    assert (claim.user.email, claim.orcid, claim.state) == (EMAIL, "0000-0002-1825-0097", "pending")


def test_an_anonymous_follow_click_leads_to_login_and_back(
    demo, live_server, page, screenshot_path
):
    page.goto(live_server.url + demo.get_absolute_url())
    page.locator("#follow-panel").get_by_role("link", name=re.compile("Follow researcher")).click()
    page.wait_for_url(
        re.compile(
            r"/accounts/login/\?next=%2Fresearchers%2Fzhengyan-zhang%2F$|"
            r"/accounts/login/\?next=/researchers/zhengyan-zhang/$"
        )
    )
    assert page.locator("h1").inner_text() == "Log in"
    page.screenshot(path=screenshot_path("accounts-login"), full_page=True)


def _log_in(page, live_server, email: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_selector(".site-nav >> text=Log out")


def test_a_visitor_invites_the_owner_who_accepts_and_replies(
    demo, live_server, browser, page, screenshot_path
):
    from profiles import claims
    from tests.accounts_helpers import make_admin
    from tests.factories import UserFactory

    owner = UserFactory(verified=True)
    visitor = UserFactory(verified=True)
    claim = claims.submit_claim(record=demo, user=owner, links=[], statement="me")
    claims.approve_claim(claim, by=make_admin(), reason="ok")
    demo.refresh_from_db()
    demo.open_to_collaborate = True
    demo.save(update_fields=["open_to_collaborate"])

    _log_in(page, live_server, visitor.email)
    page.goto(live_server.url + demo.get_absolute_url())
    identity = page.locator("#identity")
    assert "Claimed by the researcher's account" in identity.inner_text()
    identity.get_by_label("Subject").fill("Sparse experts")
    identity.get_by_label("Message").fill("Would you like to compare <MoE> routing notes?")
    identity.screenshot(path=screenshot_path("accounts-invitation-form"))
    identity.get_by_role("button", name="Send invitation").click()
    page.wait_for_selector("text=Your invitation was sent")

    owner_context = browser.new_context(viewport={"width": 1280, "height": 900})
    owner_page = owner_context.new_page()
    owner_page.set_default_timeout(10_000)
    _log_in(owner_page, live_server, owner.email)
    owner_page.goto(f"{live_server.url}/inbox/")
    owner_page.get_by_role("link", name="Sparse experts").click()
    owner_page.get_by_role("button", name="Accept and start a conversation").click()
    owner_page.wait_for_url("**/conversations/**")
    owner_page.get_by_label("Your message").fill("Gladly — see you Tuesday.")
    owner_page.get_by_role("button", name="Send").click()
    owner_page.wait_for_selector("text=Gladly — see you Tuesday.")
    # The visitor's text shows as text, never as markup.
    assert "<MoE>" in owner_page.locator(".conversation__message--invitation").inner_text()
    owner_page.screenshot(path=screenshot_path("accounts-conversation"), full_page=True)
    owner_context.close()
