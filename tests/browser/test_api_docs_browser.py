"""The API's documentation page in Chromium: it renders from the server alone (no request
leaves this site, no script runs to draw it) and reads as a page of the site."""

from urllib.parse import urlsplit

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_api_docs_render_without_the_internet(live_server, page, screenshot_path):
    requested = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto(live_server.url + "/api/v1/docs")

    page.get_by_role("heading", name="BZPEER read API", level=1).wait_for()
    assert page.get_by_role("link", name="OpenAPI schema (JSON)").get_attribute("href") == (
        "/api/v1/openapi.json"
    )
    detail = page.locator("#op-researcher_detail")
    assert "/api/v1/researchers/{slug}" in detail.inner_text()
    assert page.locator("#schema-ResearcherDetail").is_visible()
    assert page.locator(".api-operation").count() == 9
    server = urlsplit(live_server.url).netloc
    assert {urlsplit(url).netloc for url in requested} == {server}
    page.screenshot(path=screenshot_path("api-docs-desktop"))
    page.locator("#op-researcher_works").screenshot(path=screenshot_path("api-docs-operation"))


def test_the_api_docs_read_the_same_without_javascript(live_server, no_script_page):
    no_script_page.goto(live_server.url + "/api/v1/docs")

    assert no_script_page.locator(".api-operation").count() == 9


def test_a_work_pages_cite_block(demo, live_server, page, screenshot_path):
    page.goto(live_server.url + "/works/2109.11797/")

    cite = page.locator("#cite")
    cite.get_by_text("BibTeX entry").click()
    assert "eprint={2109.11797}" in cite.locator("pre").inner_text()
    assert cite.get_by_role("link", name="BibTeX").get_attribute("href") == (
        "/works/2109.11797/cite.bib"
    )
    cite.screenshot(path=screenshot_path("work-cite-block"))
