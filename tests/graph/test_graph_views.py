"""The slice, the explorer and graph.json: partials, schema, escaping, caching, query counts."""

import json

import pytest
from django.urls import reverse

from graph.ego import SCHEMA_VERSION
from graph.services import rebuild_all_edges
from graph.tasks import rebuild_edges
from tests.factories import AuthorRecordFactory, WorkFactory, add_authors
from tests.graph.graphdata import make_prolific
from works.models import AuthorRecord, SlugRedirect


@pytest.fixture
def demo_graph(demo):
    rebuild_all_edges()
    demo.refresh_from_db()
    return demo


def test_the_slice_is_a_partial_for_htmx(client, demo_graph):
    response = client.get(
        reverse("graph:slice", args=[demo_graph.slug]), headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith('<div id="graph-slice"')
    assert "<svg" in html
    assert 'href="/researchers/zhiyuan-liu/"' in html
    assert 'aria-label="Co-author · Zhiyuan Liu · weight 0.903 over 7 shared works' in html
    assert "A Roadmap for Big Model" in html
    assert "cs.CL" in html


def test_the_slice_is_a_whole_page_without_htmx(client, demo_graph):
    response = client.get(reverse("graph:slice", args=[demo_graph.slug]))

    html = response.content.decode()
    assert "<html" in html
    assert 'id="graph-slice"' in html
    assert reverse("graph:explorer", args=[demo_graph.slug]) in html


def test_the_explorer_page_has_the_canvas_the_script_and_the_lists(client, demo_graph):
    response = client.get(reverse("graph:explorer", args=[demo_graph.slug]))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-graph-url="/researchers/zhengyan-zhang/graph.json"' in html
    assert "vendor/cytoscape.min.js" in html
    assert "js/explorer.js" in html
    # Without JavaScript the same graph reads as lists.
    assert "The same graph as lists" in html
    assert 'href="/researchers/maosong-sun/"' in html


def test_graph_json_is_the_versioned_document(client, demo_graph):
    response = client.get(reverse("graph:json", args=[demo_graph.slug]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "public, max-age=60"
    graph = json.loads(response.content)
    assert graph["version"] == SCHEMA_VERSION
    assert graph["variant"] == "explorer"
    assert graph["center"] == "person:zhengyan-zhang"
    kinds = [n["type"] for n in graph["nodes"]]
    assert (kinds.count("person"), kinds.count("work"), kinds.count("topic")) == (51, 9, 4)


def test_graph_json_has_a_small_variant_for_expanding_a_neighbour(client, demo_graph):
    response = client.get(reverse("graph:json", args=["zhiyuan-liu"]) + "?size=inline")

    graph = json.loads(response.content)
    assert graph["variant"] == "inline"
    people = [n["label"] for n in graph["nodes"] if n.get("role") == "coauthor"]
    assert len(people) == 12
    assert people[:2] == ["Zhengyan Zhang", "Maosong Sun"]


@pytest.mark.parametrize("name", ["graph:slice", "graph:explorer", "graph:json"])
def test_unknown_records_and_organisations_have_no_graph(client, demo_graph, name):
    assert client.get(reverse(name, args=["nobody-here"])).status_code == 404
    assert client.get(reverse(name, args=["deepseek-ai"])).status_code == 404
    assert AuthorRecord.objects.get(slug="deepseek-ai").kind == AuthorRecord.Kind.ORGANISATION


def test_an_old_slug_redirects_to_the_graph_of_the_surviving_record(client, demo_graph):
    SlugRedirect.objects.create(old_slug="z-zhang", record=demo_graph)

    response = client.get(reverse("graph:json", args=["z-zhang"]) + "?size=inline")

    assert response.status_code == 301
    assert response["Location"] == "/researchers/zhengyan-zhang/graph.json?size=inline"


def test_the_graph_views_refuse_posts(client, demo_graph):
    assert client.post(reverse("graph:json", args=[demo_graph.slug])).status_code == 405


def test_imported_text_is_escaped_in_the_slice_and_the_lists(client, db):
    researcher = AuthorRecordFactory(display_name="Ada <b>Bold</b>")
    work = WorkFactory(title="<script>alert(1)</script>")
    add_authors(work, [researcher, AuthorRecordFactory(display_name='Eve "><img src=x>')])
    rebuild_all_edges()

    for name in ["graph:slice", "graph:explorer"]:
        html = client.get(reverse(name, args=[researcher.slug])).content.decode()
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<img src=x>" not in html
        assert "<b>Bold</b>" not in html


# Cached: the record only; the slice, the same partial for every visitor, not even that
# (works/catalogue_pages.py).
@pytest.mark.parametrize(
    ("name", "cached_queries"), [("graph:slice", 0), ("graph:explorer", 1), ("graph:json", 1)]
)
def test_query_counts_do_not_grow_with_coauthors(
    client, db, django_assert_num_queries, name, cached_queries
):
    small, large = make_prolific(1), make_prolific(300, solo_works=40, big_papers=3)
    for record in (small, large):
        # Cold: the record, then the five bounded queries of the builder.
        with django_assert_num_queries(6):
            assert client.get(reverse(name, args=[record.slug])).status_code == 200
        with django_assert_num_queries(cached_queries):
            assert client.get(reverse(name, args=[record.slug])).status_code == 200


def test_a_cached_graph_changes_after_the_edge_rebuild(client, db, trust_noop):
    alice, bob = AuthorRecordFactory(), AuthorRecordFactory()
    add_authors(WorkFactory(), [alice, bob])
    rebuild_edges([alice.pk, bob.pk])
    url = reverse("graph:json", args=[alice.slug])
    before = json.loads(client.get(url).content)

    carol = AuthorRecordFactory()
    add_authors(WorkFactory(arxiv_id="2403.00001"), [alice, carol])
    assert json.loads(client.get(url).content) == before  # served from the cache
    rebuild_edges([alice.pk, carol.pk])

    after = json.loads(client.get(url).content)
    people = [n["id"] for n in after["nodes"] if n["type"] == "person"]
    assert people == [f"person:{alice.slug}", f"person:{bob.slug}", f"person:{carol.slug}"]


@pytest.fixture
def trust_noop(monkeypatch):
    import profiles.trust_queue

    monkeypatch.setattr(profiles.trust_queue, "queue_trust_recompute", lambda ids: None)
