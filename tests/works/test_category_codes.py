"""Category codes: only arXiv's shape is imported, and any stored code still has a working page.

Findings 10 and 11 of the hardening issue: a category holding `/` made every page that links to
its topic answer 500 (the work page, and the slice, the explorer and graph.json of each
co-author), and one over 32 characters aborted a whole PostgreSQL batch, losing its valid
records. Now a bad code is that record's error and the rest of the batch lands, through the ORM
importer and through the bulk loader alike; and a topic URL is built for any stored code.
"""

import io
import json

import pytest
from django.db import connection
from django.urls import reverse
from support import FIXTURES

from graph.services import rebuild_all_edges
from tests.factories import AuthorRecordFactory, TopicFactory, WorkFactory, add_authors
from works import bulk, rows, taxonomy
from works.arxiv.parsers import parse_oai
from works.arxiv.records import ParsedRecord
from works.importer import Importer
from works.models import Topic, Work, WorkTopic
from works.services import import_stream

SNAPSHOT = FIXTURES / "kaggle_snapshot_first200.jsonl"

GOOD_CODES = [
    "hep-th",
    "cs.CL",
    "astro-ph.GA",
    "math-ph",
    "q-bio.NC",
    "solv-int",
    "chao-dyn",
    "cond-mat.mes-hall",
    "physics.acc-ph",
    "astro-ph",
    "math",
    "econ.EM",
]
BAD_CODES = [
    "cs/evil",
    "",
    "cs." + "A" * 40,
    "a" * 33,
    "cs.CL\n",
    "cs.CL ",
    "CS.CL",
    "cs..CL",
    "cs.CL.x",
    "-cs",
    "cs.C<L>",
    "cs.CL?x=1",
    "../cs",
    "cs.%2F",
    "cs.CL\x00",
]


@pytest.mark.parametrize("code", GOOD_CODES + sorted(taxonomy.CATEGORIES))
def test_every_arxiv_category_code_is_valid(code):
    assert taxonomy.is_valid_code(code)


@pytest.mark.parametrize("code", BAD_CODES)
def test_codes_outside_arxivs_shape_are_invalid(code):
    assert not taxonomy.is_valid_code(code)


def test_the_length_limit_is_the_columns():
    assert Topic._meta.get_field("code").max_length == taxonomy.MAX_CODE_LENGTH
    assert taxonomy.is_valid_code("cond-mat." + "x" * (32 - len("cond-mat.")))


def _record(categories):
    return ParsedRecord(
        arxiv_id="2501.00001",
        version=1,
        title="A title",
        abstract="",
        authors=[],
        categories=categories,
        submitted=None,
        updated=None,
    )


@pytest.mark.parametrize("code", ["cs/evil", "cs." + "A" * 40])
def test_a_record_with_a_bad_category_does_not_validate(code):
    assert rows.validate(_record(["cs.CL", code])) == f"bad category code {code[:40]!r}"
    assert rows.validate(_record(["cs.CL", "hep-th"])) is None


def _snapshot_lines() -> list[dict]:
    return [json.loads(line) for line in SNAPSHOT.read_bytes().splitlines()[:5]]


def _as_file(lines: list[dict]) -> io.BytesIO:
    return io.BytesIO("\n".join(json.dumps(line) for line in lines).encode())


def _batch_with_bad_categories():
    lines = _snapshot_lines()
    lines[1] = {**lines[1], "categories": "cs/evil " + lines[1]["categories"]}
    lines[3] = {**lines[3], "categories": lines[3]["categories"] + " cs." + "A" * 40}
    return lines, {lines[1]["id"], lines[3]["id"]}


def _assert_only_the_bad_records_were_skipped(stats, lines, bad_ids):
    assert stats.created == len(lines) - 2
    assert sorted((e.where, e.reason.split(" '")[0]) for e in stats.errors) == sorted(
        (arxiv_id, "bad category code") for arxiv_id in bad_ids
    )
    assert (
        set(Work.objects.values_list("arxiv_id", flat=True))
        == {line["id"] for line in lines} - bad_ids
    )
    stored_codes = Topic.objects.values_list("code", flat=True)
    assert all(taxonomy.is_valid_code(code) for code in stored_codes)


@pytest.mark.django_db
def test_the_orm_importer_reports_bad_categories_and_lands_the_rest():
    lines, bad_ids = _batch_with_bad_categories()

    stats = import_stream(_as_file(lines), importer=Importer())

    _assert_only_the_bad_records_were_skipped(stats, lines, bad_ids)


@pytest.mark.django_db
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the bulk loader uses COPY and ON CONFLICT: PostgreSQL only (set DATABASE_URL)",
)
def test_the_bulk_loader_reports_bad_categories_and_lands_the_rest():
    lines, bad_ids = _batch_with_bad_categories()

    stats = import_stream(_as_file(lines), importer=bulk.BulkImporter())

    _assert_only_the_bad_records_were_skipped(stats, lines, bad_ids)


@pytest.mark.django_db
def test_an_oai_page_with_a_bad_category_lands_its_other_records():
    page = parse_oai((FIXTURES / "oai_listrecords_arxiv_set_physics-hep-th.xml").read_bytes())
    records = [r for r in page.records if isinstance(r, ParsedRecord)]
    records[0].categories = ["hep-th/../admin"]

    stats = Importer().run(records)

    assert (stats.created, [e.where for e in stats.errors]) == (
        len(records) - 1,
        [records[0].arxiv_id],
    )


# --- Topics already stored with an odd code (imported before codes were checked) -----------


@pytest.fixture
def odd_topic_corpus():
    odd = TopicFactory(code="cs/evil", name="cs/evil")
    newline = TopicFactory(code="cs.\nX", name="newline")
    centre = AuthorRecordFactory(slug="ada-lovelace")
    coauthor = AuthorRecordFactory(slug="charles-babbage")
    work = WorkFactory(arxiv_id="2501.00002", primary_topic=odd)
    WorkTopic.objects.create(work=work, topic=odd, position=0, is_primary=True)
    WorkTopic.objects.create(work=work, topic=newline, position=1)
    add_authors(work, [centre, coauthor])
    rebuild_all_edges()
    return work, odd


@pytest.mark.django_db
def test_pages_linking_to_a_topic_with_an_odd_code_still_answer(client, odd_topic_corpus):
    work, odd = odd_topic_corpus
    urls = [
        work.get_absolute_url(),
        reverse("graph:slice", args=["charles-babbage"]),
        reverse("graph:explorer", args=["charles-babbage"]),
        reverse("graph:json", args=["charles-babbage"]),
        reverse("graph:json", args=["ada-lovelace"]),
    ]
    for url in urls:
        assert client.get(url).status_code == 200, url
    assert odd.get_absolute_url() == "/topics/cs/evil/"
    assert 'href="/topics/cs/evil/"' in client.get(work.get_absolute_url()).content.decode()


@pytest.mark.django_db
def test_a_topic_with_a_slash_in_its_code_has_its_own_page(client, odd_topic_corpus):
    response = client.get("/topics/cs/evil/")

    assert response.status_code == 200
    assert response.context["topic"].code == "cs/evil"
