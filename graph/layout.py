"""Where each node of the inline slice goes: a fixed, deterministic drawing, no JavaScript.

Pure: takes the graph document built by ``graph.ego.build_graph`` and returns coordinates for an
SVG template. The picture reads left to right: co-authors on the left arc (strongest nearest the
middle), the researcher in the centre, works on the right arc (newest at the top), topics along
the top and institutions along the bottom. Shapes differ by node type (circles, squares, pills,
diamonds) so the picture does not rely on colour alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

WIDTH = 960
# Average advance of an 11px sans-serif glyph: enough to cut labels before they leave the frame.
CHAR_WIDTH = 6.1
TIP_HEIGHT = 30
BAND_HEIGHT = 48
ARC_RX = 280
ARC_RY = 150
MAX_ARC_DEGREES = 130.0
ARC_STEP_DEGREES = 17.0


@dataclass
class PlacedNode:
    id: str
    type: str
    css: str
    x: float
    y: float
    size: float
    label: str
    label_x: float
    label_y: float
    anchor: str
    url: str | None
    title: str
    tip: str
    width: float = 0.0  # pills only
    box_x: float = field(init=False)  # left edge of the square (works) or pill
    box_y: float = field(init=False)

    def __post_init__(self):
        # Tenths of a pixel are plenty, and the template prints these as they are (a filter
        # per coordinate was most of the cost of rendering the slice).
        self.box_x = round(self.x - (self.width / 2 if self.width else self.size), 1)
        self.box_y = round(self.y - self.size, 1)
        for name in ("x", "y", "size", "label_x", "label_y", "width"):
            setattr(self, name, round(getattr(self, name), 1))


@dataclass
class PlacedEdge:
    css: str
    x1: float
    y1: float
    x2: float
    y2: float
    width: float

    def __post_init__(self):
        for name in ("x1", "y1", "x2", "y2"):
            setattr(self, name, round(getattr(self, name), 1))
        self.width = round(self.width, 2)


@dataclass
class Drawing:
    width: int
    height: int
    tip_y: float
    tip_width: int = WIDTH - 8
    nodes: list[PlacedNode] = field(default_factory=list)
    edges: list[PlacedEdge] = field(default_factory=list)
    counts: dict = field(default_factory=dict)


def shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 1)].rstrip(" ,.;:-") + "…"


def _spread(count: int) -> list[float]:
    """Offsets in degrees for ``count`` nodes around the middle of an arc."""
    if count <= 1:
        return [0.0] * count
    span = min(MAX_ARC_DEGREES, ARC_STEP_DEGREES * (count - 1))
    return [-span / 2 + span * i / (count - 1) for i in range(count)]


def _middle_out(count: int) -> list[int]:
    """Slot order that puts the first item in the middle, then alternates outwards."""
    middle = (count - 1) / 2
    return sorted(range(count), key=lambda slot: (abs(slot - middle), slot))


def _pill_row(items: list[dict], y: float, *, label_of, max_chars: int) -> list[tuple]:
    gap = 10
    labels = [shorten(label_of(item), max_chars) for item in items]
    widths = [len(label) * CHAR_WIDTH + 22 for label in labels]
    total = sum(widths) + gap * (len(widths) - 1)
    x = (WIDTH - total) / 2
    placed = []
    for item, label, width in zip(items, labels, widths, strict=True):
        placed.append((item, label, x + width / 2, y, width))
        x += width + gap
    return placed


def _format_weight(weight: float) -> str:
    return f"{weight:.3f}".rstrip("0").rstrip(".") if weight < 10 else f"{weight:.0f}"


def _person_tip(node: dict) -> str:
    if node.get("role") == "center":
        return f"Researcher · {node['label']} · {node.get('work_count', 0)} works"
    shared = node["shared_works"]
    parts = [
        f"Co-author · {node['label']}",
        f"weight {_format_weight(node['weight'])} over {shared} shared work{'s' * (shared != 1)}",
    ]
    if node.get("latest_year"):
        parts.append(f"latest {node['latest_year']}")
    if node.get("close"):
        parts.append("close collaborator")
    return " · ".join(parts)


def _work_tip(node: dict) -> str:
    year = f" {node['year']}" if node.get("year") else ""
    return f"{node['kind'].capitalize()}{year} · {shorten(node['label'], 90)}"


def _topic_tip(node: dict) -> str:
    works = node["works"]
    return (
        f"Topic · {node['code']} — {node['label']} · {works} work{'s' * (works != 1)}"
        f" ({node['primary_works']} as primary)"
    )


def layout(graph: dict) -> Drawing:
    center, by_type = _nodes_by_type(graph)
    people, works = by_type["person"], by_type["work"]
    topics, institutions = by_type["topic"], by_type["institution"]

    frame = _frame(people=len(people), works=len(works), topics=topics, institutions=institutions)
    drawing = Drawing(
        width=WIDTH, height=int(frame.tip_y + TIP_HEIGHT + 4), tip_y=round(frame.tip_y, 1)
    )
    drawing.counts = {kind: len(items) for kind, items in by_type.items()}
    strongest = max((p["weight"] for p in people), default=1.0) or 1.0
    drawing.nodes = [
        _place_center(center, frame),
        *_place_coauthors(people, frame, strongest=strongest),
        *_place_works(works, frame),
        *_place_topics(topics, frame),
        *_place_institutions(institutions, frame),
    ]
    # Edges end where their nodes were placed; placed coordinates are rounded to tenths, as an
    # edge's own are, so an edge rounds to the same numbers from either.
    position = {node.id: (node.x, node.y) for node in drawing.nodes}
    drawing.edges = _place_edges(graph, position, strongest=strongest)
    return drawing


def _nodes_by_type(graph: dict) -> tuple[dict, dict[str, list[dict]]]:
    """The centre node, and the other nodes by type in the order of the document."""
    by_type: dict[str, list[dict]] = {"person": [], "work": [], "topic": [], "institution": []}
    center = None
    for node in graph["nodes"]:
        if node["id"] == graph["center"]:
            center = node
        else:
            by_type[node["type"]].append(node)
    return center, by_type


@dataclass(frozen=True)
class _Frame:
    """Where the bands and the arcs of the picture sit."""

    top: float  # height of the topic band (a margin when there are no topics)
    arc_half_height: float
    cx: float
    cy: float
    institution_y: float
    tip_y: float


def _frame(*, people: int, works: int, topics: list, institutions: list) -> _Frame:
    top = BAND_HEIGHT if topics else 12
    arc_half_height = ARC_RY if max(people, works) > 3 else 90
    cx, cy = WIDTH / 2, top + arc_half_height + 22
    bottom = cy + arc_half_height + 22
    return _Frame(
        top=top,
        arc_half_height=arc_half_height,
        cx=cx,
        cy=cy,
        institution_y=bottom + BAND_HEIGHT / 2 - 6,
        tip_y=bottom + (BAND_HEIGHT if institutions else 4),
    )


def _place_center(center: dict, frame: _Frame) -> PlacedNode:
    cx, cy = frame.cx, frame.cy
    return PlacedNode(
        id=center["id"],
        type="person",
        css="g-node--center",
        x=cx,
        y=cy,
        size=16,
        label=shorten(center["label"], 26),
        label_x=cx,
        label_y=cy + 32,
        anchor="middle",
        url=center["url"],
        title=center["label"],
        tip=_person_tip(center),
    )


def _place_coauthors(people: list[dict], frame: _Frame, *, strongest: float) -> list[PlacedNode]:
    """Co-authors on the left arc, the strongest nearest the middle, sized by their weight."""
    placed = []
    offsets = _spread(len(people))
    for node, slot in zip(people, _middle_out(len(people)), strict=True):
        angle = math.radians(180 + offsets[slot])
        x = frame.cx + ARC_RX * math.cos(angle)
        y = frame.cy - frame.arc_half_height * math.sin(angle)
        share = node["weight"] / strongest
        placed.append(
            PlacedNode(
                id=node["id"],
                type="person",
                css="g-node--coauthor" + (" g-node--close" if node.get("close") else ""),
                x=x,
                y=y,
                size=5 + 6 * math.sqrt(share),
                label=shorten(node["label"], 24),
                label_x=x - 16,
                label_y=y + 4,
                anchor="end",
                url=node["url"],
                title=node["label"],
                tip=_person_tip(node),
            )
        )
    return placed


def _place_works(works: list[dict], frame: _Frame) -> list[PlacedNode]:
    placed = []
    offsets = _spread(len(works))
    for index, node in enumerate(works):
        # Newest at the top: the works arrive newest first and the arc runs top to bottom.
        angle = math.radians(-offsets[index]) if len(works) > 1 else 0.0
        x = frame.cx + ARC_RX * math.cos(angle)
        y = frame.cy - frame.arc_half_height * math.sin(angle)
        room = int((WIDTH - x - 22) / CHAR_WIDTH)
        placed.append(
            PlacedNode(
                id=node["id"],
                type="work",
                css=f"g-node--work g-node--{node['kind']}",
                x=x,
                y=y,
                size=7,
                label=shorten(node["label"], room),
                label_x=x + 14,
                label_y=y + 4,
                anchor="start",
                url=node["url"],
                title=node["label"],
                tip=_work_tip(node),
            )
        )
    return placed


def _place_topics(topics: list[dict], frame: _Frame) -> list[PlacedNode]:
    return [
        PlacedNode(
            id=node["id"],
            type="topic",
            css="g-node--topic",
            x=x,
            y=y,
            size=11,
            label=label,
            label_x=x,
            label_y=y + 4,
            anchor="middle",
            url=node["url"],
            title=f"{node['code']} — {node['label']}",
            tip=_topic_tip(node),
            width=width,
        )
        for node, label, x, y, width in _pill_row(
            topics, frame.top / 2 + 2, label_of=lambda n: n["code"], max_chars=16
        )
    ]


def _place_institutions(institutions: list[dict], frame: _Frame) -> list[PlacedNode]:
    return [
        PlacedNode(
            id=node["id"],
            type="institution",
            css="g-node--institution",
            x=x,
            y=y,
            size=11,
            label=label,
            label_x=x,
            label_y=y + 4,
            anchor="middle",
            url=node.get("url"),
            title=node["label"],
            tip=_institution_tip(node),
            width=width,
        )
        for node, label, x, y, width in _pill_row(
            institutions, frame.institution_y, label_of=lambda n: n["label"], max_chars=30
        )
    ]


def _institution_tip(node: dict) -> str:
    people = node["people"]
    return (
        f"Institution · {shorten(node['label'], 80)} · "
        f"{people} {'person' if people == 1 else 'people'} in this picture"
    )


def _place_edges(
    graph: dict, position: dict[str, tuple[float, float]], *, strongest: float
) -> list[PlacedEdge]:
    """The links between placed nodes, styled by kind."""
    placed = []
    for edge in graph["edges"]:
        if edge["source"] not in position or edge["target"] not in position:
            continue
        style = _edge_style(edge, graph["center"], strongest=strongest)
        if style is None:
            continue
        (x1, y1), (x2, y2) = position[edge["source"]], position[edge["target"]]
        css, width = style
        placed.append(PlacedEdge(css=css, x1=x1, y1=y1, x2=x2, y2=y2, width=width))
    # Thin, faint links first; the researcher's strongest ties are drawn on top of them.
    placed.sort(key=lambda e: (e.css == "g-edge--coauthor", e.width))
    return placed


def _edge_style(edge: dict, center: str, *, strongest: float) -> tuple[str, float] | None:
    """The CSS class and stroke width of an edge, or None for an edge not drawn here."""
    kind = edge["type"]
    from_center = edge["source"] == center
    if kind == "coauthor" and from_center:
        return "g-edge--coauthor", 1 + 5 * edge["weight"] / strongest
    if kind == "coauthor":
        return "g-edge--among", 1.0
    if kind == "authored" and from_center:
        return "g-edge--own-work", 1.2
    if kind == "authored":
        return "g-edge--shared-work", 1.0
    if kind == "topic" and from_center:
        return "g-edge--topic", 1.2
    if kind == "topic":
        # Work-to-topic links are for the explorer; here they would cross everything.
        return None
    return "g-edge--affiliation", 1.0
