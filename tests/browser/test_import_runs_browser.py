"""Admin import runs in Chromium: start a harvest, watch the progress page refresh itself."""

from __future__ import annotations

import pytest
from django.urls import reverse
from support import wait_until

from tests.factories import UserFactory
from works.models import ImportRun

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"


def log_in_to_admin(page, live_server):
    # The admin's login hands over to the site's (allauth's, with its lockout): by email.
    admin = UserFactory(verified=True, is_staff=True, is_superuser=True)
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Email").fill(admin.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/admin/")
    return admin


def test_staff_start_a_harvest_from_the_admin(
    page, live_server, fake_arxiv, eager_tasks, screenshot_path
):
    log_in_to_admin(page, live_server)
    page.goto(live_server.url + reverse("admin:works_importrun_changelist"))
    page.click("text=Start a harvest")
    page.check("input[name=kind][value=ids]")
    page.fill("#id_ids", "1605.08386")
    page.screenshot(path=screenshot_path("import-run-start"), full_page=True)
    page.click("input[type=submit][value='Start the harvest']")

    run = ImportRun.objects.get()
    page.wait_for_url(live_server.url + reverse("admin:works_importrun_progress", args=[run.pk]))
    counts = page.locator("#run-counts")
    assert "Succeeded" in counts.inner_text()
    assert counts.get_attribute("hx-trigger") is None
    page.screenshot(path=screenshot_path("import-run-finished"), full_page=True)
    assert run.state == ImportRun.State.SUCCEEDED and run.created_count == 1


def test_the_progress_page_refreshes_until_the_run_finishes(page, live_server, screenshot_path):
    log_in_to_admin(page, live_server)
    run = ImportRun.objects.create(
        source=ImportRun.Source.OAI,
        parameters={"from": "2014-10-01", "until": None, "set": None, "metadata_prefix": "arXiv"},
        state=ImportRun.State.RUNNING,
        created_count=6,
        total_expected=58011,
        resumption_token="fake-2",
    )
    # The page's timers run on a clock the test moves on: "every 3s" is seen to poll, and to
    # stop, without the test waiting out the seconds.
    page.clock.install()
    page.goto(live_server.url + reverse("admin:works_importrun_progress", args=[run.pk]))
    counts = page.locator("#run-counts")
    assert counts.get_attribute("hx-trigger") == "every 3s"
    assert "6 of about 58011" in counts.inner_text()
    page.screenshot(path=screenshot_path("import-run-running"), full_page=True)

    # The worker commits page 2 and finishes; the page catches up on its own.
    ImportRun.objects.filter(pk=run.pk).update(
        created_count=9, state=ImportRun.State.SUCCEEDED, resumption_token=""
    )
    with page.expect_request(lambda request: "/progress/" in request.url):
        page.clock.run_for(3000)
    wait_until(
        page,
        "document.querySelector('#run-counts').innerText.includes('Succeeded')",
        timeout_ms=8000,
    )
    assert "9 of about 58011" in counts.inner_text()
    # finished: the swapped-in block no longer polls
    assert counts.get_attribute("hx-trigger") is None
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.clock.run_for(3500)
    page.wait_for_timeout(300)  # time for a request the timers made to be reported
    assert [url for url in requests if "/progress/" in url] == []
