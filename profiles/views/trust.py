"""'Why this score?' (an htmx partial and a plain page) and the score-history chart."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.cache import patch_cache_control, patch_vary_headers

from graph.weights import CLOSE_COLLABORATOR_THRESHOLD
from profiles import trust
from profiles.levels import ClaimState, Level
from profiles.models import TrustSnapshot
from profiles.scoring import BANDS
from works.models import AuthorRecord
from works.records import record_from_slug

# Inside the profile page the breakdown stays short: this many evidence rows per component,
# then a link to the full page, which lists every row. A prolific author's 2,000 works would
# otherwise be a 300 KB htmx swap.
EVIDENCE_ROWS_INLINE = 8

CHART_WIDTH = 320
CHART_HEIGHT = 120
# Room for the y-axis labels on the left and the first/last dates underneath.
_PAD_LEFT, _PAD_RIGHT, _PAD_TOP, _PAD_BOTTOM = 30, 10, 8, 20


@dataclass(frozen=True)
class ComponentView:
    label: str
    points: int
    cap: int
    explanation: str
    how_to_raise: str
    evidence: list[dict]
    hidden_evidence: int

    @property
    def percent(self) -> int:
        return round(100 * self.points / self.cap) if self.cap else 0


def _components(
    snapshot: TrustSnapshot | None, *, evidence_limit: int | None
) -> list[ComponentView]:
    if snapshot is None:
        return []
    views = []
    for component in snapshot.components:
        evidence = component.get("evidence", [])
        shown = evidence if evidence_limit is None else evidence[:evidence_limit]
        views.append(
            ComponentView(
                label=component["label"],
                points=component["points"],
                cap=component["cap"],
                explanation=component.get("explanation", ""),
                how_to_raise=component.get("how_to_raise", ""),
                evidence=shown,
                hidden_evidence=len(evidence) - len(shown),
            )
        )
    return views


@record_from_slug("profiles:trust")
def why(request: HttpRequest, record: AuthorRecord) -> TemplateResponse:
    """The component breakdown of the latest snapshot: three queries whatever its size."""
    # The breakdown shows the components; the inputs (as large again) stay in the database.
    snapshot = trust.latest_snapshot(record, without=("inputs",))
    inline = bool(request.htmx)
    context = {
        "record": record,
        "snapshot": snapshot,
        "components": _components(
            snapshot, evidence_limit=EVIDENCE_ROWS_INLINE if inline else None
        ),
        "inline": inline,
        "level": Level(snapshot.level if snapshot else record.verification_level),
        "claim_state": ClaimState(snapshot.claim_state if snapshot else record.claim_state),
        "close_collaborator_threshold": CLOSE_COLLABORATOR_THRESHOLD,
    }
    if inline:
        response = TemplateResponse(request, "profiles/trust_why.html#trust-why", context)
    else:
        context["chart"] = history_chart(trust.history(record))
        response = TemplateResponse(request, "profiles/trust_why.html", context)
    # The same URL answers with a fragment or a page: caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    score: int
    band: str
    date: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    points: list[ChartPoint]
    polyline: str
    gridlines: list[tuple[int, float]]  # (score, y) for each band's floor
    plot_left: int
    plot_right: int
    baseline: float
    first_date: str
    last_date: str

    @property
    def center_x(self) -> float:
        return (self.plot_left + self.plot_right) / 2

    @property
    def center_y(self) -> float:
        return round((_PAD_TOP + self.baseline) / 2, 1)

    @property
    def description(self) -> str:
        if not self.points:
            return "No trust snapshots yet."
        latest = self.points[-1]
        if len(self.points) == 1:
            return f"One trust snapshot: {latest.score} ({latest.band}) on {latest.date}."
        first = self.points[0]
        return (
            f"{len(self.points)} trust snapshots from {first.date} to {latest.date}: "
            f"{first.score} then {latest.score} ({latest.band})."
        )


def history_chart(snapshots: list[TrustSnapshot]) -> Chart:
    """Place snapshots (oldest first) on a 0-100 chart, spaced by their time.

    Snapshots are written only when something changes, so the gaps between them are real and
    drawn as such; when every snapshot has the same time they are spread evenly instead.
    """
    left, right = _PAD_LEFT, CHART_WIDTH - _PAD_RIGHT
    top, bottom = _PAD_TOP, CHART_HEIGHT - _PAD_BOTTOM

    def y_for(score: int) -> float:
        return round(bottom - (bottom - top) * score / 100, 1)

    times = [snapshot.computed_at.timestamp() for snapshot in snapshots]
    span = (max(times) - min(times)) if times else 0
    points = []
    for index, snapshot in enumerate(snapshots):
        if len(snapshots) == 1:
            x = (left + right) / 2
        elif span > 0:
            x = left + (right - left) * (times[index] - times[0]) / span
        else:
            x = left + (right - left) * index / (len(snapshots) - 1)
        points.append(
            ChartPoint(
                x=round(x, 1),
                y=y_for(snapshot.score),
                score=snapshot.score,
                band=snapshot.band,
                date=snapshot.computed_at.date().isoformat(),
            )
        )
    return Chart(
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        points=points,
        polyline=" ".join(f"{p.x},{p.y}" for p in points),
        gridlines=[(floor, y_for(floor)) for floor, _ in BANDS] + [(100, y_for(100))],
        plot_left=left,
        plot_right=right,
        baseline=bottom,
        first_date=points[0].date if points else "",
        last_date=points[-1].date if points else "",
    )


@record_from_slug("profiles:trust-history")
def history_svg(request: HttpRequest, record: AuthorRecord) -> TemplateResponse:
    """The score over time as a small SVG image: two queries, at most HISTORY_LIMIT points."""
    chart = history_chart(trust.history(record))
    response = TemplateResponse(
        request,
        "profiles/trust_chart.html",
        {"record": record, "chart": chart, "standalone": True},
        content_type="image/svg+xml; charset=utf-8",
    )
    # Snapshots change at most a few times a day; a short public cache spares the database when
    # a profile is popular.
    patch_cache_control(response, public=True, max_age=300)
    return response
