"""The trust panel in a real browser: htmx breakdown, the chart image, and no JavaScript."""

from pathlib import Path

import pytest
from support import wait_until

from profiles import trust

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"
    ),
]


# One Chromium for the module (tests/browser/conftest.py keeps one for its folder): starting
# one costs a second or two, more than either test.
@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def scored_demo(demo):
    from test_trust_recompute import build_edges

    build_edges()
    trust.recompute(author_ids=[demo.id])
    demo.refresh_from_db()
    return demo


def test_why_this_score_opens_in_place_with_htmx(live_server, browser, scored_demo):
    SCREENSHOTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.goto(live_server.url + scored_demo.get_absolute_url())

    panel = page.locator("#trust")
    assert "Trust 21 - Emerging" in panel.inner_text()
    chart = page.locator("#trust img.trust-chart-image, #trust figure img").first
    chart.scroll_into_view_if_needed()
    wait_until(page, "img => img.complete && img.naturalWidth > 0", chart.element_handle())

    page.get_by_role("link", name="Why this score?").click()
    breakdown = page.locator("section#trust-why")
    breakdown.get_by_text("What would raise it:").first.wait_for()

    assert page.url == live_server.url + scored_demo.get_absolute_url()  # stayed on the profile
    text = breakdown.inner_text()
    assert "Identity 10 + Scholarly record 9 + Collaboration 2 + Community 0 = 21" in text
    assert "Zhiyuan Liu" in text
    panel.screenshot(path=str(SCREENSHOTS / "trust-panel-why.png"))
    context.close()


def test_without_javascript_the_link_opens_the_full_page(live_server, browser, scored_demo):
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1280, "height": 1400}
    )
    page = context.new_page()
    page.goto(live_server.url + scored_demo.get_absolute_url())

    page.get_by_role("link", name="Why this score?").click()
    page.wait_for_load_state()

    assert page.url.endswith(f"/researchers/{scored_demo.slug}/trust/")
    assert page.get_by_role("heading", name="Why this score?").is_visible()
    assert page.locator("svg.trust-chart circle").count() == 1
    page.screenshot(path=str(SCREENSHOTS / "trust-why-page.png"), full_page=True)
    context.close()
