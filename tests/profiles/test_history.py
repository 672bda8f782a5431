"""The public record history: paged, newest first, actors by role, escaped, constant queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.accounts_helpers import claimed_record, eager_tasks, make_admin, record_with_works
from works.models import RecordEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures(eager_tasks.__name__)]


def _summaries(html: str) -> list[str]:
    import re

    return re.findall(r'<p class="history__summary">([^<]*)</p>', html)


def test_history_lists_imports_claim_decisions_and_owner_edits_with_who(client):
    record, owner, _ = claimed_record()
    RecordEvent.objects.create(
        record=record, kind="edit", summary="The owner changed X.", actor=owner
    )
    RecordEvent.objects.create(record=record, kind="import", summary="arXiv import: 1 work(s)")

    html = client.get(reverse("profiles:history", args=[record.slug])).content.decode()

    summaries = _summaries(html)
    assert summaries[0] == "arXiv import: 1 work(s)"
    assert summaries[1] == "The owner changed X."
    assert any("approved by an admin" in s for s in summaries)
    assert "· The owner" in html
    assert "· An admin" in html
    assert "· BZPEER" in html
    assert owner.email not in html


def test_history_is_paged_newest_first(client):
    record = record_with_works()
    for n in range(30):
        RecordEvent.objects.create(record=record, kind="import", summary=f"event {n:02d}")
    first = _summaries(client.get(reverse("profiles:history", args=[record.slug])).content.decode())
    second = _summaries(
        client.get(reverse("profiles:history", args=[record.slug]) + "?page=2").content.decode()
    )
    assert first == [f"event {n:02d}" for n in range(29, 4, -1)]
    assert second == [f"event {n:02d}" for n in range(4, -1, -1)]


def test_history_escapes_summaries(client):
    record = record_with_works()
    RecordEvent.objects.create(
        record=record, kind="correction", summary="<script>alert(1)</script>"
    )
    html = client.get(reverse("profiles:history", args=[record.slug])).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_history_costs_the_same_for_1_and_25_events(client):
    counts = []
    admin = make_admin()
    for n in (1, 25):
        record = record_with_works()
        for i in range(n):
            RecordEvent.objects.create(record=record, kind="edit", summary=f"e{i}", actor=admin)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("profiles:history", args=[record.slug])).status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]


def test_an_unknown_record_has_no_history(client):
    assert client.get("/researchers/nobody-at-all/history/").status_code == 404
