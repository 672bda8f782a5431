"""The Content-Security-Policy in Chromium: every main page works under it, admin included.

A page that broke the policy (an inline script, style or event handler, an eval, a resource
from elsewhere) would have Chromium refuse it and report a violation; this test fails on any.
"""

import pytest
from django.urls import reverse
from support import wait_until

from graph.services import rebuild_all_edges
from tests.factories import UserFactory
from works.models import ImportRun

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"

# Collects every violation the page reports, from the first script on.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
    window.__cspViolations.push(
        `${event.violatedDirective} blocked ${event.blockedURI || "inline"} ` +
        `at ${event.sourceFile}:${event.lineNumber} ${event.sample}`
    );
});
"""


@pytest.fixture
def watched_page(page):
    """A page recording CSP violations and script errors, from the console and the DOM event."""
    problems: list[str] = []
    page.add_init_script(RECORD_VIOLATIONS)
    page.on(
        "console",
        lambda message: (
            "Content Security Policy" in message.text
            and problems.append(f"console: {message.text}")
        ),
    )
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.problems = problems
    return page


def _visit(page, url: str, ready: str | None = None) -> None:
    page.goto(url)
    if ready:
        page.wait_for_selector(ready, timeout=45_000)
    # Every resource loaded and no htmx request in flight. Not "networkidle": that waits for
    # half a second without a request after each page, seven of this test's eleven seconds.
    page.wait_for_load_state("load")
    wait_until(page, "!document.querySelector('.htmx-request')")
    violations = page.evaluate("window.__cspViolations")
    assert (violations, page.problems) == ([], []), url


def _wait_for_one_poll(page, progress_url: str) -> None:
    """The progress page's htmx poll ("every 3s"), answered and swapped in."""
    page.evaluate("window.__polled = false")
    page.evaluate(
        "document.body.addEventListener('htmx:afterSettle', () => { window.__polled = true })"
    )
    with page.expect_response(progress_url):
        page.clock.run_for(3_000)
    wait_until(page, "window.__polled")


def test_every_main_page_works_under_the_content_security_policy(demo, live_server, watched_page):
    rebuild_all_edges()
    base = live_server.url
    page = watched_page

    response = page.goto(base + "/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy

    _visit(page, base + "/")
    # The profile, once its graph slice has arrived through htmx.
    _visit(page, base + demo.get_absolute_url(), ready="#graph .graph-slice, #graph svg")
    page.get_by_role("link", name="Why this score?").click()
    page.wait_for_selector("#trust-why:not(.trust-why--empty)", timeout=20_000)
    assert page.evaluate("window.__cspViolations") == []
    _visit(page, base + reverse("profiles:trust", args=[demo.slug]), ready=".trust-history svg")
    _visit(
        page,
        base + reverse("graph:explorer", args=[demo.slug]),
        ready="#explorer[data-state=ready]",
    )
    _visit(page, base + "/works/2109.11797/")
    _visit(page, base + "/topics/cs.CL/")
    _visit(page, base + "/search/?q=zhang")
    _visit(page, base + "/accounts/signup/")
    _visit(page, base + "/accounts/login/")

    staff = UserFactory(verified=True, is_staff=True, is_superuser=True)
    page.goto(base + "/admin/")
    page.get_by_label("Email").fill(staff.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(base + "/admin/")
    _visit(page, base + "/admin/")
    _visit(page, base + reverse("admin:works_work_changelist"))
    _visit(page, base + reverse("admin:works_authorrecord_change", args=[demo.pk]))
    _visit(page, base + reverse("admin:works_importrun_start"))
    # The progress page polls through htmx.
    run = ImportRun.objects.create(
        source=ImportRun.Source.OAI, state=ImportRun.State.RUNNING, total_expected=10
    )
    progress_url = base + reverse("admin:works_importrun_progress", args=[run.pk])
    # A fake clock, so the test need not sit through the poll's three seconds; it keeps running
    # on its own, as the real one does, for the pages after this one.
    page.clock.install()
    _visit(page, progress_url)
    _wait_for_one_poll(page, progress_url)
    assert page.evaluate("window.__cspViolations") == []
    # Signed in, the site's pages carry the htmx CSRF header and the follow button.
    _visit(page, base + demo.get_absolute_url(), ready="#graph svg")
    page.locator("#follow-panel button").click()
    page.wait_for_selector("#follow-panel button[aria-pressed=true]")
    assert page.evaluate("window.__cspViolations") == []
    assert page.problems == []
