"""The slice's drawing (pure): everything inside the picture, labels that fit, fixed places."""

from graph.layout import CHAR_WIDTH, WIDTH, layout, shorten


def graph_of(people: int, works: int, topics: int = 3, institutions: int = 2) -> dict:
    center = "person:centre"
    nodes = [{"id": center, "type": "person", "role": "center", "label": "Centre Person",
              "url": "/c/", "work_count": works}]  # fmt: skip
    edges = []
    for n in range(people):
        node = {"id": f"person:p{n}", "type": "person", "role": "coauthor",
                "label": f"Co-author with a rather long name {n}", "url": f"/p{n}/",
                "weight": 1 / (n + 1), "shared_works": 1, "latest_year": 2024,
                "close": n < 2}  # fmt: skip
        nodes.append(node)
        edges.append({"source": center, "target": node["id"], "type": "coauthor",
                      "weight": node["weight"]})  # fmt: skip
    for n in range(works):
        nodes.append({"id": f"work:{n}", "type": "work", "kind": "preprint",
                      "label": "A very long title about many things " * 3, "year": 2024,
                      "url": f"/w{n}/"})  # fmt: skip
        edges.append({"source": center, "target": f"work:{n}", "type": "authored", "weight": 1})
    for n in range(topics):
        nodes.append({"id": f"topic:t{n}", "type": "topic", "code": f"cs.T{n}",
                      "label": "Topic", "works": 3, "primary_works": 1, "url": "/t/"})  # fmt: skip
    for n in range(institutions):
        nodes.append({"id": f"institution:{n}", "type": "institution", "people": 2, "url": None,
                      "label": "Department of Things, A Very Long University Name"})  # fmt: skip
    return {"center": center, "nodes": nodes, "edges": edges}


def test_every_node_and_label_stays_inside_the_picture():
    drawing = layout(graph_of(people=12, works=10, topics=6, institutions=4))

    assert len(drawing.nodes) == 1 + 12 + 10 + 6 + 4
    for node in drawing.nodes:
        assert 0 <= node.x <= WIDTH and 0 <= node.y <= drawing.tip_y, node
        width = len(node.label) * CHAR_WIDTH
        if node.anchor == "start":
            assert node.label_x + width <= WIDTH, node.label
        elif node.anchor == "end":
            assert node.label_x - width >= 0, node.label
    assert drawing.height > drawing.tip_y


def test_the_strongest_coauthor_sits_in_the_middle_of_the_left_arc():
    drawing = layout(graph_of(people=5, works=0))
    people = [n for n in drawing.nodes if n.css.startswith("g-node--coauthor")]
    center = drawing.nodes[0]

    assert people[0].y == center.y and people[0].x < center.x
    assert {round(p.y - center.y) for p in people[1:3]} == {
        round(center.y - people[1].y),
        round(people[1].y - center.y),
    }


def test_the_strongest_ties_are_drawn_thickest_and_last():
    drawing = layout(graph_of(people=3, works=2))
    ties = [e for e in drawing.edges if e.css == "g-edge--coauthor"]

    assert [e.width for e in ties] == sorted(e.width for e in ties)
    assert drawing.edges[-1].width == 6.0


def test_shorten_cuts_on_a_word_boundary_mark():
    assert shorten("Short", 10) == "Short"
    assert shorten("A title,  with   spaces", 9) == "A title…"
