"""Site search: names in any order and with or without accents, works by words, odd input."""

import importlib
import json
import re
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import AuthorRecordFactory, WorkFactory, add_authors
from works import search
from works.models import DeferredSchemaObject

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="trigram similarity needs PostgreSQL"
)


def _people(html: str) -> list[str]:
    return re.findall(r'<a class="person__name" href="[^"]+">([^<]+)</a>', html)


def _titles(html: str) -> list[str]:
    return re.findall(r'<h3 class="work__title"><a href="[^"]+">([^<]+)</a>', html)


def _search(client, **params) -> str:
    response = client.get("/search/", params)
    assert response.status_code == 200
    return response.content.decode()


def _record(name: str, **fields):
    from works.arxiv.names import order_free_key

    return AuthorRecordFactory(display_name=name, search_key=order_free_key(name), **fields)


@pytest.mark.parametrize(
    "query",
    ["Zhengyan Zhang", "Zhang Zhengyan", "zhengyan ZHANG", "Zhéngyan Zhàng", "Zhang, Zhengyan"],
)
def test_a_researcher_is_found_in_any_word_order_case_and_accents(client, query):
    _record("Zhengyan Zhang", work_count=9)
    _record("Zhiyuan Liu")

    assert _people(_search(client, q=query)) == ["Zhengyan Zhang"]


def test_an_accented_name_is_found_without_its_accents(client):
    _record("Dirk Wübben")

    assert _people(_search(client, q="dirk wubben")) == ["Dirk Wübben"]
    assert _people(_search(client, q="Wübben")) == ["Dirk Wübben"]


def test_a_partial_name_finds_every_match_and_merged_records_are_left_out(client):
    survivor = _record("Maosong Sun", work_count=30)
    _record("Maosong Sun", slug="maosong-sun-2", merged_into=survivor)
    _record("Yu Sun", work_count=2)

    found = _people(_search(client, q="sun", type="researchers"))

    assert sorted(found) == ["Maosong Sun", "Yu Sun"]


@on_postgresql
def test_a_typo_still_finds_the_researcher_on_postgresql(client):
    _record("Zhengyan Zhang", work_count=9)
    _record("Maosong Sun")

    assert _people(_search(client, q="Zhengyan Zang")) == ["Zhengyan Zhang"]
    assert _people(_search(client, q="Zhengyen Zhang")) == ["Zhengyan Zhang"]


def test_works_are_found_by_title_and_by_abstract_words(client):
    add_authors(
        WorkFactory(title="Manifold-Constrained Hyper-Connections", abstract="Residual streams."),
        [AuthorRecordFactory()],
    )
    add_authors(
        WorkFactory(title="Another paper", abstract="We revisit hyper-connections at scale."),
        [AuthorRecordFactory()],
    )
    add_authors(WorkFactory(title="Unrelated", abstract="Nothing here."), [AuthorRecordFactory()])

    assert sorted(_titles(_search(client, q="hyper-connections"))) == [
        "Another paper",
        "Manifold-Constrained Hyper-Connections",
    ]
    assert _titles(_search(client, q="residual streams")) == [
        "Manifold-Constrained Hyper-Connections"
    ]


def test_the_demo_is_found_from_the_header_box(demo, client):
    html = _search(client, q="Zhang Zhengyan")

    assert "Zhengyan Zhang" in _people(html)
    assert 'value="Zhang Zhengyan"' in html
    assert "Knowledge Inheritance for Pre-trained Language Models" in _titles(
        _search(client, q="knowledge inheritance")
    )


def test_an_empty_query_gives_a_friendly_page(client):
    html = _search(client, q="")

    assert "What are you looking for?" in html
    assert _search(client)  # no q at all


@pytest.mark.parametrize(
    "query",
    [
        "%%%",
        "'; DROP TABLE works_work; --",
        "\x00\x01null bytes",
        "a" * 5000,
        "!!! ??? ***",
        '"unterminated quote',
        "or - & | ! :*",
        "<script>alert(1)</script>",
        "名前",
    ],
)
def test_absurd_queries_give_a_page_never_an_error(client, query):
    add_authors(WorkFactory(), [AuthorRecordFactory()])

    html = _search(client, q=query)

    assert "<script>alert" not in html
    assert 'id="researchers-heading"' in html or "What are you looking for?" in html


def test_query_text_is_cleaned_and_bounded():
    assert search.clean_query("  a\x00b \n c  ") == "a b c"
    assert len(search.clean_query("x" * 1000)) == search.MAX_QUERY_LENGTH


def test_results_are_paged(client):
    for n in range(25):
        add_authors(WorkFactory(title=f"Graph paper {n:02d}"), [AuthorRecordFactory()])

    first = _search(client, q="graph", type="works")
    second = _search(client, q="graph", type="works", page="2")

    assert len(_titles(first)) == 20
    assert "page=2" in first
    assert len(_titles(second)) == 5
    assert set(_titles(first)).isdisjoint(_titles(second))


def test_search_query_count_does_not_grow_with_results(client, django_assert_num_queries):
    add_authors(WorkFactory(title="Rare topic"), [_record("Rare Person")])
    for n in range(30):
        coauthors = [_record(f"Common Person{n} Extra{i}") for i in range(4)]
        add_authors(WorkFactory(title=f"Common topic {n}"), coauthors)
    with CaptureQueriesContext(connection) as captured:
        client.get("/search/", {"q": "rare"})

    with django_assert_num_queries(len(captured)):
        html = client.get("/search/", {"q": "common"}).content.decode()
    assert len(_titles(html)) == 20
    # Researchers, what tells them apart (topics, years, strongest co-author), works, their
    # first authors.
    assert len(captured) == 6


@pytest.mark.skipif(connection.vendor != "postgresql", reason="full-text indexes are PostgreSQL's")
def test_works_are_found_through_every_partition_of_the_full_text_index(client):
    """Migration 0013 cuts the index by the work id's residue: a work is found whichever
    partition holds it, and the query can be answered from the partitions alone."""
    works = [
        WorkFactory(title=f"Partitioned lattice {n}", abstract="Gauge fields.") for n in range(8)
    ]
    WorkFactory(title="Unrelated", abstract="Nothing here.")
    assert {work.id % search.DOCUMENT_PARTITIONS for work in works} == set(
        range(search.DOCUMENT_PARTITIONS)
    )
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")  # not the newest-first walk
        found = search.works("lattice gauge")
        plan = found.explain()
        titles = sorted(work.title for work in found)

    assert titles == sorted(work.title for work in works)
    used = set(re.findall(r"Bitmap Index Scan on (\w+)", plan))
    assert used == {f"work_search_document_{k}" for k in range(search.DOCUMENT_PARTITIONS)}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="full-text indexes are PostgreSQL's")
def test_the_planner_knows_how_common_a_searched_word_is():
    """The partitions carry no statistics of their own (the planner would ignore a partial
    index's): the statistics objects of migration 0013 tell it that most works hold the word,
    where without them it expected one match and read every match through a bitmap."""
    for n in range(40):
        WorkFactory(title=f"Lattice study {n}", abstract="Gauge fields.")
    for n in range(10):
        WorkFactory(title=f"Other {n}", abstract="Nothing here.")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE works_work")
    plan = json.loads(search.works("lattice").explain(format="json"))[0]["Plan"]
    while plan.get("Relation Name") != "works_work" and "Plans" in plan:
        plan = next(child for child in plan["Plans"] if "Plan Rows" in child)

    assert plan["Relation Name"] == "works_work"
    assert plan["Plan Rows"] >= 20


@pytest.mark.skipif(connection.vendor != "postgresql", reason="full-text indexes are PostgreSQL's")
def test_the_partitions_replace_the_whole_index_and_a_pending_note_of_it():
    """Upgraded in the middle of an interrupted first load, the next load must not put the
    whole index back beside its partitions."""
    migration = importlib.import_module("works.migrations.0013_full_text_index_in_partitions")
    with connection.cursor() as cursor:
        editor = SimpleNamespace(connection=connection, execute=cursor.execute)
        migration._run(migration.BACKWARD)(apps, editor)
        DeferredSchemaObject.objects.create(
            table="works_work", name="work_search_document", kind="index", definition="-"
        )
        migration._run(migration.FORWARD)(apps, editor)
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'works_work'")
        indexes = {row[0] for row in cursor.fetchall()}

    partitions = {f"work_search_document_{k}" for k in range(search.DOCUMENT_PARTITIONS)}
    assert partitions <= indexes
    assert "work_search_document" not in indexes
    assert not DeferredSchemaObject.objects.exists()
