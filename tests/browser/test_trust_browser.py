"""The trust panel in a real browser: htmx breakdown, the chart image, and no JavaScript."""

import pytest
from support import wait_until

from graph.services import rebuild_all_edges
from profiles import trust

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def scored_demo(demo):
    rebuild_all_edges()
    trust.recompute(author_ids=[demo.id])
    demo.refresh_from_db()
    return demo


@pytest.fixture
def tall_page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    yield context.new_page()
    context.close()


@pytest.fixture
def tall_no_script_page(browser):
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1280, "height": 1400}
    )
    yield context.new_page()
    context.close()


def test_why_this_score_opens_in_place_with_htmx(
    live_server, tall_page, scored_demo, screenshot_path
):
    page = tall_page
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
    panel.screenshot(path=screenshot_path("trust-panel-why"))


def test_without_javascript_the_link_opens_the_full_page(
    live_server, tall_no_script_page, scored_demo, screenshot_path
):
    page = tall_no_script_page
    page.goto(live_server.url + scored_demo.get_absolute_url())

    page.get_by_role("link", name="Why this score?").click()
    page.wait_for_load_state()

    assert page.url.endswith(f"/researchers/{scored_demo.slug}/trust/")
    assert page.get_by_role("heading", name="Why this score?").is_visible()
    assert page.locator("svg.trust-chart circle").count() == 1
    page.screenshot(path=screenshot_path("trust-why-page"), full_page=True)
