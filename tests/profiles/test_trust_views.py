"""The trust panel, 'Why this score?' (partial and page) and the history chart."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from factories import AuthorRecordFactory, UserFactory, WorkFactory, add_authors

from profiles import scoring, trust
from profiles.models import TrustSnapshot
from profiles.views.sections import trust_section

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 1, 1, 3, 30, tzinfo=dt.UTC)


def snapshot_for(record, *, score_inputs=None, when=START, works=3) -> TrustSnapshot:
    inputs = score_inputs or scoring.TrustInputs(
        level=1,
        claim_state="unclaimed",
        level_reason="Built from arXiv.",
        works=tuple(
            scoring.WorkInput(arxiv_id=f"2401.{i:05d}", title=f"Work {i}", date=dt.date(2024, 1, 1))
            for i in range(works)
        ),
        close_collaborators=(),
        followers=(),
    )
    result = scoring.score(inputs)
    return TrustSnapshot.objects.create(
        record=record,
        score=result.score,
        band=result.band,
        level=int(inputs.level),
        claim_state=str(inputs.claim_state),
        inputs=inputs.to_json(),
        components=result.to_json()["components"],
        formula_version=result.formula_version,
        fingerprint=f"{when.timestamp()}-{works}",
        computed_at=when,
    )


def history_of(record, count: int) -> None:
    for day in range(count):
        snapshot_for(record, when=START + dt.timedelta(days=day), works=day + 1)


def test_why_page_lists_every_component_with_evidence_and_how_to_raise(client):
    record = AuthorRecordFactory(slug="ada")
    snapshot_for(record, works=3)

    response = client.get(reverse("profiles:trust", args=["ada"]))

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html
    assert "Trust 16 - Emerging" in html  # 10 + floor(10 log10 4) = 16
    assert "Identity 10 + Scholarly record 6 + Collaboration 0 + Community 0 = 16" in html
    for label in ("Identity", "Scholarly record", "Collaboration", "Community"):
        assert f">{label} <span" in html
    assert html.count("arXiv:2401.") == 3
    assert "What would raise it:" in html
    assert "Claim this record (L2) to add 15 points" in html
    assert "Formula 2026-12.1" in html
    assert "<svg" in html  # the chart, inline
    assert "HX-Request" in response["Vary"]


def test_why_partial_for_htmx_is_the_fragment_with_short_evidence(client):
    record = AuthorRecordFactory(slug="ada")
    snapshot_for(record, works=12)

    response = client.get(reverse("profiles:trust", args=["ada"]), headers={"HX-Request": "true"})

    html = response.content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith('<section id="trust-why"')
    assert html.count("arXiv:2401.") == 8
    assert "4 more evidence rows on the full page" in html
    assert "Full breakdown and history" in html


def test_why_escapes_imported_titles(client):
    record = AuthorRecordFactory(slug="ada")
    inputs = scoring.TrustInputs(
        level=1,
        claim_state="unclaimed",
        works=(
            scoring.WorkInput(arxiv_id="2401.00001", title="<script>alert(1)</script>", date=None),
        ),
        close_collaborators=(),
        followers=(),
    )
    snapshot_for(record, score_inputs=inputs)

    html = client.get(reverse("profiles:trust", args=["ada"])).content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_why_before_any_snapshot_says_so(client):
    AuthorRecordFactory(slug="ada")

    html = client.get(reverse("profiles:trust", args=["ada"])).content.decode()

    assert "has not been computed yet" in html
    assert "Verification L1 (Public record)" in html


def test_organisations_and_unknown_slugs_have_no_trust_pages(client):
    AuthorRecordFactory(slug="deepseek-ai", kind="organisation")

    for slug in ("deepseek-ai", "nobody"):
        assert client.get(reverse("profiles:trust", args=[slug])).status_code == 404
        assert client.get(reverse("profiles:trust-history", args=[slug])).status_code == 404


def _svg(client, slug="ada"):
    response = client.get(reverse("profiles:trust-history", args=[slug]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml; charset=utf-8"
    return response.content.decode()


def test_history_chart_without_snapshots_says_so(client):
    AuthorRecordFactory(slug="ada")

    svg = _svg(client)

    assert svg.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert "No snapshots yet" in svg
    assert "<circle" not in svg and "<polyline" not in svg


def test_history_chart_with_one_snapshot_is_a_single_point(client):
    record = AuthorRecordFactory(slug="ada")
    snapshot_for(record, works=3)

    svg = _svg(client)

    assert svg.count("<circle") == 1
    assert "<polyline" not in svg
    assert "<title>2026-01-01: 16 (Emerging)</title>" in svg


def test_history_chart_with_many_snapshots_draws_a_line_oldest_to_newest(client):
    record = AuthorRecordFactory(slug="ada")
    history_of(record, 5)

    svg = _svg(client)

    assert svg.count("<circle") == 5
    points = re.search(r'<polyline class="l" points="([^"]+)"', svg).group(1).split()
    xs = [float(point.split(",")[0]) for point in points]
    assert xs == sorted(xs) and xs[0] == 30 and xs[-1] == 310
    assert ">2026-01-01</text>" in svg and ">2026-01-05</text>" in svg


def test_history_chart_shows_at_most_the_latest_60(client):
    record = AuthorRecordFactory(slug="ada")
    history_of(record, trust.HISTORY_LIMIT + 5)

    svg = _svg(client)

    assert svg.count("<circle") == trust.HISTORY_LIMIT
    assert ">2026-01-06</text>" in svg  # the five oldest are left out


@pytest.mark.parametrize("snapshots", [1, 30])
def test_trust_views_query_count_does_not_grow_with_history(
    client, django_assert_num_queries, snapshots
):
    record = AuthorRecordFactory(slug="ada")
    history_of(record, snapshots)

    with django_assert_num_queries(2):  # record, history
        client.get(reverse("profiles:trust-history", args=["ada"]))
    with django_assert_num_queries(3):  # record, latest snapshot, history
        client.get(reverse("profiles:trust", args=["ada"]))
    with django_assert_num_queries(2):  # record, latest snapshot
        client.get(reverse("profiles:trust", args=["ada"]), headers={"HX-Request": "true"})
    with django_assert_num_queries(1):
        context = trust_section(record)
    assert context["trust_snapshot"].computed_at == START + dt.timedelta(days=snapshots - 1)


def test_profile_panel_shows_the_quick_read_and_the_why_link(client, demo):
    from test_trust_recompute import build_edges

    build_edges()
    trust.recompute(author_ids=[demo.id])
    demo.refresh_from_db()

    html = client.get(demo.get_absolute_url()).content.decode()

    panel = html[html.index('id="trust"') : html.index('id="actions"')]
    assert "Trust 21 - Emerging" in panel
    assert "Verification L1" in panel
    assert "Unclaimed author" in panel
    assert panel.count("<dt>works</dt>") == 1
    counts = dict(re.findall(r"<dt>([a-z ]+)</dt><dd>(\d+)</dd>", panel))
    assert counts == {"works": "9", "followers": "0", "topics": "4", "close collaborators": "4"}
    assert "weigh at least 0.32" in panel
    why_url = reverse("profiles:trust", args=[demo.slug])
    assert f'href="{why_url}" hx-get="{why_url}" hx-target="#trust-why"' in panel
    assert reverse("profiles:trust-history", args=[demo.slug]) in panel


def test_profile_panel_before_the_first_recompute(client):
    record = AuthorRecordFactory(slug="ada")
    add_authors(WorkFactory(), [record])

    html = client.get(record.get_absolute_url()).content.decode()

    assert "Trust not computed yet" in html
    assert reverse("profiles:trust-history", args=["ada"]) not in html


def test_admin_shows_a_snapshot_read_only_with_readable_escaped_components(client):
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    record = AuthorRecordFactory(slug="ada")
    inputs = scoring.TrustInputs(
        level=1,
        claim_state="unclaimed",
        works=(scoring.WorkInput(arxiv_id="2401.00001", title="<b>Bold</b> claims", date=None),),
        close_collaborators=(),
        followers=(),
    )
    snapshot = snapshot_for(record, score_inputs=inputs)
    url = reverse("admin:profiles_trustsnapshot_change", args=[snapshot.pk])

    html = client.get(url).content.decode()

    assert "<th scope='row'>Scholarly record</th><td>3 / 30</td>" in html
    assert "arXiv:2401.00001 &lt;b&gt;Bold&lt;/b&gt; claims (arXiv)" in html
    assert "<b>Bold</b>" not in html
    assert client.post(url, {"score": 99}).status_code == 403
    snapshot.refresh_from_db()
    assert snapshot.score == 13
    assert client.get(reverse("admin:profiles_trustsnapshot_add")).status_code == 403


def test_admin_cannot_edit_a_records_level_directly(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    record = AuthorRecordFactory()

    html = client.get(reverse("admin:works_authorrecord_change", args=[record.pk])).content
    assert b'name="verification_level"' not in html
    assert b'name="claim_state"' not in html
