"""The profile page in Chromium: the graph slice arrives, "Show more" appends, phones fit."""

import pytest
from support import wait_until

from tests.factories import AuthorRecordFactory, WorkFactory, add_authors
from works.models import AuthorRecord

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _researcher_with_works(count: int) -> AuthorRecord:
    record = AuthorRecordFactory(display_name="Prolific Browser Person")
    coauthor = AuthorRecordFactory(display_name="Steady Coauthor")
    for _ in range(count):
        add_authors(WorkFactory(), [coauthor, record])
    AuthorRecord.objects.filter(pk=record.pk).update(work_count=count)
    return record


def _assert_fits_the_width(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_the_demo_profile_loads_its_graph_slice_after_first_paint(
    demo, live_server, page, phone_page, screenshot_path
):
    for viewport_page, label, width in ((page, "desktop", 1280), (phone_page, "phone", 390)):
        viewport_page.goto(live_server.url + demo.get_absolute_url())

        # The first slice of a record builds its graph: allow for a busy machine.
        viewport_page.wait_for_selector(".graph-placeholder", state="detached", timeout=45_000)
        graph = viewport_page.locator("#graph")
        assert "Building this graph slice" not in graph.inner_text()
        assert viewport_page.locator("h1").inner_text() == "Zhengyan Zhang"
        assert viewport_page.locator(".work").count() == 9
        _assert_fits_the_width(viewport_page, width)
        viewport_page.screenshot(path=screenshot_path(f"profile-demo-{label}"), full_page=True)


def test_show_more_appends_the_next_works_in_place(live_server, page, screenshot_path):
    record = _researcher_with_works(25)
    page.goto(live_server.url + record.get_absolute_url())
    assert page.locator(".work").count() == 20

    page.get_by_role("link", name="Show more").click()

    wait_until(page, "document.querySelectorAll('.work').length === 25")
    assert page.locator("#works-more").count() == 0
    assert page.url == live_server.url + record.get_absolute_url()
    assert page.locator("h1").count() == 1  # the partial, not a second page
    page.screenshot(path=screenshot_path("profile-show-more-desktop"), full_page=True)


def test_show_more_is_a_plain_link_without_javascript(live_server, no_script_page):
    record = _researcher_with_works(25)
    no_script_page.goto(live_server.url + record.get_absolute_url())

    no_script_page.get_by_role("link", name="Show more").click()

    no_script_page.wait_for_url("**?page=2#works")
    assert no_script_page.locator(".work").count() == 5
    assert no_script_page.locator(".graph-placeholder noscript a").count() == 1
