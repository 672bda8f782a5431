"""The ego-graph builder: caps, node and edge counts, schema, works chosen, topics, institutions."""

import pytest

from graph.ego import EXPLORER, INLINE, SCHEMA, SCHEMA_VERSION, build_graph, select_works
from graph.services import rebuild_all_edges
from tests.factories import AuthorRecordFactory, TopicFactory, WorkFactory, add_authors
from tests.graph.graphdata import make_prolific
from works.models import AuthorRecord, Authorship, WorkTopic


def ids_of(graph, kind):
    return [n["id"] for n in graph["nodes"] if n["type"] == kind and n["id"] != graph["center"]]


def edges_of(graph, kind):
    return [(e["source"], e["target"]) for e in graph["edges"] if e["type"] == kind]


@pytest.fixture
def demo_graph(demo):
    rebuild_all_edges()
    demo.refresh_from_db()
    return demo


def test_the_demo_inline_graph_has_the_expected_nodes(demo_graph):
    graph = build_graph(demo_graph, limits=INLINE)

    assert graph["center"] == "person:zhengyan-zhang"
    people = [n for n in graph["nodes"] if n["type"] == "person" and n["role"] == "coauthor"]
    assert [p["label"] for p in people[:4]] == [
        "Zhiyuan Liu",
        "Maosong Sun",
        "Yuan Yao",
        "Ao Zhang",
    ]
    assert [p["close"] for p in people] == [True] * 4 + [False] * 8
    assert len(people) == 12
    assert people[0]["weight"] == pytest.approx(0.903, abs=5e-4)
    assert people[0]["shared_works"] == 7
    assert len(ids_of(graph, "work")) == 9  # all nine works fit under the cap of 10
    assert ids_of(graph, "topic") == ["topic:cs.CL", "topic:cs.AI", "topic:cs.LG", "topic:cs.CV"]
    assert ids_of(graph, "institution") == []  # the demo metadata has no affiliations
    assert graph["truncated"] == {
        "people": True,
        "works": False,
        "topics": False,
        "institutions": False,
    }


def test_the_demo_graph_edges_connect_the_centre_its_works_and_topics(demo_graph):
    graph = build_graph(demo_graph, limits=INLINE)
    center = graph["center"]

    coauthor_edges = edges_of(graph, "coauthor")
    assert sum(1 for s, _ in coauthor_edges if s == center) == 12
    assert len(coauthor_edges) - 12 == 24  # edges among co-authors stop at the cap
    own = [t for s, t in edges_of(graph, "authored") if s == center]
    assert sorted(own) == sorted(ids_of(graph, "work"))
    # Zhiyuan Liu is on seven of the nine works.
    liu = [t for s, t in edges_of(graph, "authored") if s == "person:zhiyuan-liu"]
    assert len(liu) == 7
    assert [t for s, t in edges_of(graph, "topic") if s == center] == ids_of(graph, "topic")
    node_ids = {n["id"] for n in graph["nodes"]}
    assert all(e["source"] in node_ids and e["target"] in node_ids for e in graph["edges"])
    assert len({e["id"] for e in graph["edges"]}) == len(graph["edges"])


def test_organisations_are_never_in_the_graph(demo_graph):
    graph = build_graph(demo_graph, limits=EXPLORER)
    labels = {n["label"] for n in graph["nodes"]}
    assert "DeepSeek-AI" not in labels
    assert AuthorRecord.objects.filter(display_name="DeepSeek-AI", kind="organisation").exists()


def test_deepseek_r1_only_coauthors_are_never_in_the_graph(demo_graph):
    graph = build_graph(demo_graph, limits=EXPLORER)
    assert "person:daya-guo" not in {n["id"] for n in graph["nodes"]}
    assert len([n for n in graph["nodes"] if n["type"] == "person"]) == 51


def test_the_json_document_follows_schema_version_one(demo_graph):
    graph = build_graph(demo_graph, limits=EXPLORER)

    assert (graph["schema"], graph["version"], graph["variant"]) == (
        SCHEMA,
        SCHEMA_VERSION,
        "explorer",
    )
    assert set(graph) == {
        "schema", "version", "center", "variant", "limits", "truncated", "nodes", "edges"
    }  # fmt: skip
    assert graph["limits"] == {"people": 50, "works": 50, "topics": 20, "institutions": 20}
    required = {
        "person": {"id", "type", "role", "label", "url", "graph_url", "affiliation"},
        "work": {"id", "type", "kind", "label", "year", "venue", "authors", "url", "arxiv_url"},
        "topic": {"id", "type", "label", "code", "works", "primary_works", "url"},
        "institution": {"id", "type", "label", "people", "url"},
    }
    for node in graph["nodes"]:
        assert required[node["type"]] <= set(node), node
    coauthor = next(n for n in graph["nodes"] if n.get("role") == "coauthor")
    assert {"weight", "shared_works", "latest_year", "close"} <= set(coauthor)
    for edge in graph["edges"]:
        assert set(edge) >= {"id", "source", "target", "type", "weight"}
        assert edge["type"] in {"coauthor", "authored", "topic", "affiliation"}
    center = graph["nodes"][0]
    assert center == {
        "id": "person:zhengyan-zhang",
        "type": "person",
        "role": "center",
        "label": "Zhengyan Zhang",
        "url": "/researchers/zhengyan-zhang/",
        "graph_url": "/researchers/zhengyan-zhang/graph.json",
        "affiliation": "",
        "work_count": 9,
        "close_collaborator_count": 4,
    }


@pytest.mark.parametrize(("limits", "people"), [(INLINE, 12), (EXPLORER, 50)])
def test_caps_hold_for_a_prolific_researcher(db, limits, people):
    researcher = make_prolific(300, solo_works=20, big_papers=3)

    graph = build_graph(researcher, limits=limits)

    assert len(ids_of(graph, "person")) == people
    assert len(ids_of(graph, "work")) == limits.works
    assert graph["truncated"]["people"] is True
    assert graph["truncated"]["works"] is True
    assert (
        len(graph["edges"]) <= people + limits.person_links + limits.works + limits.work_links + 40
    )


def test_the_builder_runs_the_same_queries_for_one_and_three_hundred_coauthors(
    db, django_assert_num_queries
):
    small = make_prolific(1)
    large = make_prolific(300, solo_works=50, big_papers=3)
    with django_assert_num_queries(5):
        build_graph(small, limits=EXPLORER)
    with django_assert_num_queries(5):
        build_graph(large, limits=EXPLORER)


def test_a_researcher_without_coauthors_gets_a_graph_of_works_and_topics(db):
    loner = AuthorRecordFactory()
    add_authors(WorkFactory(), [loner])

    graph = build_graph(loner, limits=INLINE)

    assert [n["type"] for n in graph["nodes"]] == ["person", "work", "topic"]
    assert graph["truncated"] == dict.fromkeys(["people", "works", "topics", "institutions"], False)


def test_select_works_mixes_recent_shared_and_connected_works():
    # Candidates newest first: (work, co-authors shown on it).
    candidates = [
        (1, frozenset()),
        (2, frozenset()),
        (3, frozenset({"b"})),
        (4, frozenset({"a", "b"})),
        (5, frozenset()),
        (6, frozenset({"c"})),
        (7, frozenset({"a"})),
    ]
    # 5 places: the most recent (1); a shared work each for a (4, which covers b), c (6);
    # then the most connected left (3 and 7 tie on one person: the newer wins), then recency.
    assert select_works(candidates, ["a", "b", "c"], limit=5) == [1, 3, 4, 6, 7]
    assert select_works(candidates, ["a", "b", "c"], limit=7) == [1, 2, 3, 4, 5, 6, 7]
    assert select_works(candidates, ["c", "a"], limit=3) == [1, 4, 6]
    assert select_works(candidates, [], limit=3) == [1, 3, 4]


def test_topics_count_each_work_and_the_primary_topic_most(db):
    researcher = AuthorRecordFactory()
    cl, lg = (
        TopicFactory(code="cs.CL", name="Computation and Language"),
        TopicFactory(code="cs.LG", name="Machine Learning"),
    )
    for primary, other in [(cl, lg), (cl, lg), (lg, None)]:
        work = WorkFactory(primary_topic=primary)
        add_authors(work, [researcher])
        if other:
            WorkTopic.objects.create(work=work, topic=other, is_primary=False, position=1)

    topics = [n for n in build_graph(researcher)["nodes"] if n["type"] == "topic"]

    assert [(t["code"], t["works"], t["primary_works"]) for t in topics] == [
        ("cs.CL", 2, 2),
        ("cs.LG", 3, 1),
    ]


def test_institutions_come_only_from_affiliations_in_the_metadata(db):
    researcher = AuthorRecordFactory(affiliation="Tsinghua University")
    colleague = AuthorRecordFactory(affiliation="Tsinghua  University")
    elsewhere = AuthorRecordFactory(affiliation="")
    work = WorkFactory()
    add_authors(work, [researcher, colleague, elsewhere])
    Authorship.objects.filter(work=work, author=researcher).update(affiliation="BAAI")
    rebuild_all_edges()

    graph = build_graph(researcher)

    institutions = [n for n in graph["nodes"] if n["type"] == "institution"]
    assert [(i["label"], i["people"]) for i in institutions] == [
        ("Tsinghua University", 2),
        ("BAAI", 1),
    ]
    affiliated = edges_of(graph, "affiliation")
    assert len(affiliated) == 3
    assert (graph["center"], institutions[1]["id"]) in affiliated
