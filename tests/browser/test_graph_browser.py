"""The research graph in Chromium: the explorer draws, a co-author opens the side panel and
expands; the inline slice tells what a node is on hover and on keyboard focus."""

import pytest
from support import wait_until

from graph.services import rebuild_all_edges

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NODE_POSITION = """(id) => {
    const cy = window.bzpeerExplorer.cy;
    const node = cy.getElementById(id);
    const box = cy.container().getBoundingClientRect();
    const at = node.renderedPosition();
    return {x: box.left + at.x, y: box.top + at.y};
}"""


@pytest.fixture
def demo_graph(demo):
    # Built here rather than by the import's queued task: with REDIS_URL set, that task goes
    # to a real broker instead of running in-process.
    rebuild_all_edges()
    return demo


def _open_explorer(page, live_server, record):
    page.goto(live_server.url + f"/researchers/{record.slug}/graph/")
    page.wait_for_selector("#explorer[data-state=ready]")


def test_the_explorer_draws_and_a_clicked_coauthor_opens_the_side_panel(
    demo_graph, live_server, page, screenshot_path
):
    _open_explorer(page, live_server, demo_graph)
    assert page.evaluate("window.bzpeerExplorer.cy.nodes().length") == 1 + 50 + 9 + 4
    assert page.locator('[data-count="person"]').inner_text() == "(50)"

    at = page.evaluate(NODE_POSITION, "person:zhiyuan-liu")
    page.mouse.click(at["x"], at["y"])

    panel = page.locator("#explorer-panel")
    panel.locator("h2", has_text="Zhiyuan Liu").wait_for()
    assert "Co-author" in panel.inner_text()
    assert "0.903" in panel.inner_text()
    assert panel.get_by_role("link", name="Open profile").get_attribute("href") == (
        "/researchers/zhiyuan-liu/"
    )
    page.locator("#explorer").screenshot(path=screenshot_path("graph-explorer-desktop"))

    before = page.evaluate("window.bzpeerExplorer.cy.nodes().length")
    panel.get_by_role("button", name="Add their co-authors").click()
    # Ten of Zhiyuan Liu's strongest co-authors who are not in the picture yet join it.
    panel.get_by_role("button", name="Added 10 people", exact=False).wait_for()
    assert page.evaluate("window.bzpeerExplorer.cy.nodes().length") == before + 10
    page.locator("#explorer").screenshot(path=screenshot_path("graph-explorer-expanded"))


def test_the_explorer_filters_node_types(demo_graph, live_server, page):
    _open_explorer(page, live_server, demo_graph)
    visible = "window.bzpeerExplorer.cy.nodes(`[type = '%s']:visible`).length === %d"
    wait_until(page, visible % ("work", 9))

    page.locator("input[name=type][value=work]").uncheck()

    # cytoscape applies style changes on its next frame.
    wait_until(page, visible % ("work", 0))
    # The researcher stays even when people are hidden.
    page.locator("input[name=type][value=person]").uncheck()
    wait_until(page, visible % ("person", 1))
    page.locator("input[name=type][value=work]").check()
    wait_until(page, visible % ("work", 9))


def test_the_explorer_without_javascript_reads_as_lists(demo_graph, live_server, no_script_page):
    no_script_page.goto(live_server.url + f"/researchers/{demo_graph.slug}/graph/")

    assert not no_script_page.locator("#explorer").is_visible()
    lists = no_script_page.locator(".explorer-lists")
    assert lists.get_by_role("link", name="Zhiyuan Liu").is_visible()
    assert lists.get_by_role("link", name="A Roadmap for Big Model").is_visible()


def test_the_slice_shows_what_a_node_is_on_hover_and_focus(
    demo_graph, live_server, page, phone_page, screenshot_path
):
    page.goto(live_server.url + demo_graph.get_absolute_url())
    node = page.locator("#graph-slice a.g-node", has_text="Maosong Sun")
    node.wait_for()
    tip = node.locator(".g-tip")
    assert not tip.is_visible()

    node.hover()
    assert tip.is_visible()
    assert "weight 0.76 over 6 shared works" in tip.text_content()

    page.mouse.move(0, 0)
    assert not tip.is_visible()
    page.keyboard.press("Tab")  # from wherever focus is, then straight to the node:
    node.focus()
    assert tip.is_visible()
    page.locator("#graph").screenshot(path=screenshot_path("graph-slice-focus"))

    phone_page.goto(live_server.url + demo_graph.get_absolute_url())
    phone_page.locator("#graph-slice").wait_for()
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    phone_page.locator("#graph").screenshot(path=screenshot_path("graph-slice-phone"))


def test_the_explorer_fits_a_phone(demo_graph, live_server, phone_page, screenshot_path):
    _open_explorer(phone_page, live_server, demo_graph)
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    phone_page.screenshot(path=screenshot_path("graph-explorer-phone"), full_page=True)
