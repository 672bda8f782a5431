"""Admin: the import run list, "Start a harvest" and the progress page htmx refreshes."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import UserFactory
from works.models import ImportRun, Work

pytestmark = pytest.mark.django_db

START = reverse("admin:works_importrun_start")
LIST = reverse("admin:works_importrun_changelist")


def progress_url(run) -> str:
    return reverse("admin:works_importrun_progress", args=[run.pk])


@pytest.fixture
def admin_user():
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def viewer():
    """Staff who may look at runs but not start, cancel or resume them."""
    user = UserFactory(is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_importrun"))
    return user


@pytest.fixture
def member():
    return UserFactory()


def make_run(**fields) -> ImportRun:
    defaults = {"source": ImportRun.Source.API_IDS, "parameters": {"ids": ["1605.08386"]}}
    return ImportRun.objects.create(**{**defaults, **fields})


# ------------------------------------------------------------------ start


def test_the_run_list_offers_start_a_harvest(client, admin_user):
    make_run()
    client.force_login(admin_user)
    page = client.get(LIST)
    assert page.status_code == 200
    assert f'href="{START}"' in page.text and "Start a harvest" in page.text
    assert "1605.08386" in page.text


def test_the_add_button_and_the_change_form_lead_to_start_and_progress(client, admin_user):
    run = make_run()
    client.force_login(admin_user)
    assert client.get(reverse("admin:works_importrun_add")).url == START
    change = reverse("admin:works_importrun_change", args=[run.pk])
    assert client.get(change).url == progress_url(run)


def test_staff_start_an_author_harvest_and_land_on_its_progress_page(
    client, admin_user, fake_arxiv, eager_tasks, django_capture_on_commit_callbacks
):
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            START, {"kind": "author", "author": "Zhengyan Zhang", "max_results": "10"}
        )
    run = ImportRun.objects.get()
    assert response.status_code == 302 and response.url == progress_url(run)
    assert run.source == ImportRun.Source.API_QUERY
    assert run.parameters == {"query": 'au:"Zhengyan Zhang"', "max_results": 10}
    assert run.requested_by == admin_user
    # embedded default: the queued run ran in-process against the fake arXiv
    assert run.state == ImportRun.State.SUCCEEDED and Work.objects.count() == 10
    assert fake_arxiv.requests[0].params["search_query"] == 'au:"Zhengyan Zhang"'


@pytest.mark.parametrize(
    ("form", "expected_source", "expected_parameters"),
    [
        (
            {"kind": "query", "query": "cat:cs.CL", "max_results": ""},
            "api-query",
            {"query": "cat:cs.CL", "max_results": 2000},
        ),
        (
            {"kind": "ids", "ids": "1605.08386\n2104.12255v1"},
            "api-ids",
            {"ids": ["1605.08386", "2104.12255v1"]},
        ),
        (
            {
                "kind": "oai",
                "from_date": "2024-05-01",
                "until_date": "2024-05-31",
                "set_spec": "physics:hep-th",
                "metadata_prefix": "arXiv",
            },
            "oai",
            {
                "from": "2024-05-01",
                "until": "2024-05-31",
                "set": "physics:hep-th",
                "metadata_prefix": "arXiv",
            },
        ),
    ],
)
def test_each_kind_of_harvest_becomes_a_queued_run(
    client, admin_user, form, expected_source, expected_parameters
):
    client.force_login(admin_user)
    response = client.post(START, {"metadata_prefix": "arXivRaw", **form})
    assert response.status_code == 302
    run = ImportRun.objects.get()
    assert (run.source, run.parameters, run.state) == (
        expected_source,
        expected_parameters,
        ImportRun.State.QUEUED,
    )


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"kind": "author", "author": "  "}, "give an author name"),
        ({"kind": "ids", "ids": "abc"}, "not an arXiv id: abc"),
        ({"kind": "oai", "from_date": "2024-06-02", "until_date": "2024-06-01"}, "after the until"),
    ],
)
def test_a_bad_harvest_request_shows_why_and_starts_nothing(client, admin_user, form, message):
    client.force_login(admin_user)
    response = client.post(START, {"metadata_prefix": "arXivRaw", **form})
    assert response.status_code == 200
    assert message in response.text
    assert ImportRun.objects.count() == 0


def test_only_staff_allowed_to_add_runs_may_start_a_harvest(client, viewer, member):
    client.force_login(viewer)
    assert client.get(START).status_code == 403
    assert client.post(START, {"kind": "ids", "ids": "1605.08386"}).status_code == 403
    client.force_login(member)
    response = client.post(START, {"kind": "ids", "ids": "1605.08386"})
    assert response.status_code == 302 and "/admin/login/" in response.url
    client.logout()
    response = client.get(START)
    assert response.status_code == 302 and "/admin/login/" in response.url
    assert ImportRun.objects.count() == 0


# --------------------------------------------------------------- progress


def test_the_progress_page_polls_while_the_run_is_active(client, viewer):
    run = make_run(state=ImportRun.State.RUNNING, created_count=6, total_expected=58011)
    client.force_login(viewer)
    page = client.get(progress_url(run))
    assert page.status_code == 200
    assert 'hx-trigger="every 3s"' in page.text
    assert f'hx-get="{progress_url(run)}"' in page.text
    assert "6 of about 58011" in page.text
    assert "Cancel this run" not in page.text  # a viewer may not change runs


def test_htmx_gets_only_the_counts_and_polling_stops_when_finished(client, viewer):
    run = make_run(state=ImportRun.State.SUCCEEDED, created_count=9)
    client.force_login(viewer)
    partial = client.get(progress_url(run), headers={"HX-Request": "true"})
    assert partial.status_code == 200
    assert partial.text.lstrip().startswith('<div id="run-counts"')
    assert "<html" not in partial.text
    assert "hx-trigger" not in partial.text  # finished: the swap ends the polling
    assert "Succeeded" in partial.text


def test_run_messages_are_escaped(client, admin_user):
    run = make_run(state=ImportRun.State.FAILED, errors=["<script>alert(1)</script>"])
    client.force_login(admin_user)
    page = client.get(progress_url(run))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<script>alert(1)</script>" not in page.text


def test_members_and_strangers_cannot_see_progress(client, member):
    run = make_run()
    client.force_login(member)
    assert client.get(progress_url(run)).status_code == 302
    client.logout()
    assert client.get(progress_url(run)).status_code == 302
    plain_staff = UserFactory(is_staff=True)
    client.force_login(plain_staff)
    assert client.get(progress_url(run)).status_code == 403


def test_an_unknown_run_is_a_404(client, admin_user):
    client.force_login(admin_user)
    assert client.get(reverse("admin:works_importrun_progress", args=[999999])).status_code == 404


# ---------------------------------------------------------- cancel, resume


def test_staff_cancel_an_active_run(client, admin_user):
    run = make_run(state=ImportRun.State.RUNNING)
    client.force_login(admin_user)
    cancel = reverse("admin:works_importrun_cancel", args=[run.pk])
    assert client.get(cancel).status_code == 405
    response = client.post(cancel)
    assert response.status_code == 302 and response.url == progress_url(run)
    run.refresh_from_db()
    assert run.state == ImportRun.State.CANCELLED
    assert run.errors[-1].endswith(f"cancelled by {admin_user}")


def test_a_viewer_cannot_cancel_or_resume(client, viewer):
    run = make_run(state=ImportRun.State.RUNNING)
    client.force_login(viewer)
    assert client.post(reverse("admin:works_importrun_cancel", args=[run.pk])).status_code == 403
    assert client.post(reverse("admin:works_importrun_resume", args=[run.pk])).status_code == 403
    run.refresh_from_db()
    assert run.state == ImportRun.State.RUNNING


def test_staff_resume_a_failed_run(client, admin_user, django_capture_on_commit_callbacks):
    run = make_run(state=ImportRun.State.FAILED, checkpoint_offset=0)
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks() as queued:
        response = client.post(reverse("admin:works_importrun_resume", args=[run.pk]))
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.state == ImportRun.State.QUEUED
    assert len(queued) == 1  # handed to the workers once the transaction commits


def test_the_run_list_costs_the_same_queries_for_1_and_30_runs(client, admin_user):
    client.force_login(admin_user)

    def queries_for_list() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(LIST).status_code == 200
        return len(captured)

    make_run(requested_by=admin_user)
    one = queries_for_list()
    for _ in range(29):
        make_run(requested_by=UserFactory(is_staff=True))
    assert queries_for_list() == one
