"""The read API: what each operation answers, its HTTP manners (validators, CORS, rate limit,
problem documents), stable ids, and query counts that do not grow with the page size."""

import base64
import datetime as dt
import json

import pytest
from django.test import Client
from django.utils.http import http_date

from profiles import trust
from profiles.models import Claim
from tests.factories import (
    AuthorRecordFactory,
    TopicFactory,
    UserFactory,
    WorkFactory,
    add_authors,
)
from works.models import AuthorRecord, SlugRedirect, Work, WorkTopic, WorkVersion

pytestmark = pytest.mark.django_db

DETAIL = "/api/v1/researchers/zhengyan-zhang"
PROBLEM = "application/problem+json"


def _researcher_with_works(count: int, *, coauthors: int = 2) -> AuthorRecord:
    record = AuthorRecordFactory()
    others = [AuthorRecordFactory() for _ in range(coauthors)]
    for _ in range(count):
        add_authors(WorkFactory(), [record, *others])
    AuthorRecord.objects.filter(pk=record.pk).update(work_count=count)
    record.refresh_from_db()
    return record


# --- Researchers -------------------------------------------------------------------------------


def test_the_detail_tells_what_the_profile_page_tells(demo, client):
    trust.recompute(author_ids=[demo.pk])
    homonym = AuthorRecordFactory(
        display_name="Zhengyan Zhang", name_key=demo.name_key, slug="zhengyan-zhang-2"
    )
    AuthorRecordFactory(
        display_name="Zhengyan Zhang", name_key=demo.name_key, slug="zz-3", merged_into=demo
    )
    AuthorRecordFactory(
        display_name="Zhengyan Zhang",
        name_key=demo.name_key,
        slug="zz-4",
        kind=AuthorRecord.Kind.ORGANISATION,
    )

    body = client.get(DETAIL).json()

    assert body["name"] == "Zhengyan Zhang"
    assert body["affiliation"] is None
    assert body["verification"] == {"level": 1, "label": "L1", "name": "Public record"}
    assert (body["claim_state"], body["claim_state_label"]) == ("unclaimed", "Unclaimed author")
    assert body["counts"] == {"works": 9, "followers": 0, "topics": 4, "close_collaborators": 0}
    assert [t["code"] for t in body["topics"]][:1] == ["cs.CL"]
    assert len(body["topics"]) == 4
    assert body["homonyms"] == [
        {
            "slug": homonym.slug,
            "name": "Zhengyan Zhang",
            "url": f"http://testserver/researchers/{homonym.slug}/",
        }
    ]
    score = body["trust"]
    assert (score["score"], score["band"]) == (10 + 9 + 0 + 0, "Emerging")
    assert [c["key"] for c in score["components"]] == [
        "identity",
        "scholarly_record",
        "collaboration",
        "community",
    ]
    assert sum(c["points"] for c in score["components"]) == score["score"]
    assert body["links"]["works"] == "http://testserver/api/v1/researchers/zhengyan-zhang/works"
    assert body["same_as"] == []


def test_the_trust_endpoint_has_every_evidence_row_and_the_history(demo, client):
    trust.recompute(author_ids=[demo.pk])

    body = client.get(f"{DETAIL}/trust").json()
    detail = client.get(DETAIL).json()["trust"]

    scholarly = next(c for c in body["latest"]["components"] if c["key"] == "scholarly_record")
    assert scholarly["evidence_count"] == len(scholarly["evidence"]) == 9
    assert (
        len(next(c for c in detail["components"] if c["key"] == "scholarly_record")["evidence"])
        == 8
    )
    assert body["latest"]["score"] == detail["score"]
    assert [(p["score"], p["band"]) for p in body["history"]] == [(19, "Emerging")]


def test_organisations_have_no_trust(demo, client):
    assert client.get("/api/v1/researchers/deepseek-ai/trust").status_code == 404
    assert client.get("/api/v1/researchers/deepseek-ai").json()["trust"] is None


def test_an_admin_confirmed_orcid_is_the_researchers_same_as(demo, client):
    user = UserFactory(verified=True)
    Claim.objects.create(
        record=demo, user=user, state="approved", email=user.email, orcid="0000-0002-1825-0097",
        orcid_confirmed=True,
    )  # fmt: skip
    AuthorRecord.objects.filter(pk=demo.pk).update(claim_state="claimed")

    assert client.get(DETAIL).json()["same_as"] == ["https://orcid.org/0000-0002-1825-0097"]


def test_search_matches_as_the_site_search_does(demo, client):
    body = client.get("/api/v1/researchers", {"q": "zhéngyan ZHANG"}).json()

    assert body["items"][0]["slug"] == "zhengyan-zhang"
    assert body["items"][0]["api_url"] == "http://testserver/api/v1/researchers/zhengyan-zhang"


def test_search_pages_with_a_cursor_until_the_end(db, client):
    for n in range(5):
        AuthorRecordFactory(display_name=f"Ada Lovelace{n}", search_key=f"ada lovelace{n}")

    first = client.get("/api/v1/researchers", {"q": "ada", "limit": 3}).json()
    second = client.get(
        "/api/v1/researchers", {"q": "ada", "limit": 3, "cursor": first["next_cursor"]}
    ).json()

    slugs = [r["slug"] for r in first["items"] + second["items"]]
    assert len(slugs) == len(set(slugs)) == 5
    assert second["next_cursor"] is None


def test_a_researchers_works_page_newest_first_and_each_once(client):
    record = _researcher_with_works(7)
    Work.objects.filter(pk=Work.objects.order_by("id").first().pk).update(updated=None)
    works = list(Work.objects.filter(authorships__author=record))
    dated = sorted((w for w in works if w.updated), key=lambda w: (w.updated, w.id), reverse=True)
    expected = [w.arxiv_id for w in dated] + [w.arxiv_id for w in works if not w.updated]

    seen, url = [], f"/api/v1/researchers/{record.slug}/works?limit=3"
    while url:
        page = client.get(url).json()
        seen += [w["arxiv_id"] for w in page["items"]]
        url = page["next"]

    assert seen == expected


def test_works_list_the_first_authors_linked_to_their_records(client):
    record = AuthorRecordFactory()
    work = WorkFactory()
    add_authors(work, [record, *[AuthorRecordFactory() for _ in range(14)]])

    item = client.get(f"/api/v1/researchers/{record.slug}/works").json()["items"][0]

    assert item["author_count"] == 15
    assert len(item["authors"]) == 10
    assert item["authors"][0]["record"]["slug"] == record.slug
    assert item["url"] == f"http://testserver/works/{work.arxiv_id}/"


# --- Works and topics --------------------------------------------------------------------------


def test_a_work_with_its_authors_versions_categories_doi_and_withdrawal(client):
    primary = TopicFactory(code="hep-th", name="High Energy Physics - Theory")
    other = TopicFactory(code="gr-qc", name="General Relativity and Quantum Cosmology")
    work = WorkFactory(
        arxiv_id="hep-th/9901001",
        doi="10.1016/S0370-2693(99)00001-1",
        primary_topic=primary,
        withdrawn=True,
        kind="withdrawn",
    )
    people = [AuthorRecordFactory(), AuthorRecordFactory()]
    add_authors(work, people)
    WorkTopic.objects.create(work=work, topic=other, position=1)
    WorkVersion.objects.create(
        work=work, number=1, submitted=dt.datetime(1999, 1, 1, tzinfo=dt.UTC)
    )

    body = client.get("/api/v1/works/hep-th/9901001").json()

    assert [a["record"]["slug"] for a in body["authors"]] == [p.slug for p in people]
    assert [(c["code"], c["primary"]) for c in body["categories"]] == [
        ("hep-th", True),
        ("gr-qc", False),
    ]
    assert body["versions"] == [{"number": 1, "submitted": "1999-01-01T00:00:00Z", "size_kb": None}]
    assert body["dois"] == ["10.1016/S0370-2693(99)00001-1"]
    assert (body["withdrawn"], body["kind"]) == (True, "withdrawn")
    assert body["links"]["bibtex"] == "http://testserver/works/hep-th/9901001/cite.bib"


def test_a_versioned_arxiv_id_redirects_to_the_work(demo, client):
    response = client.get("/api/v1/works/2109.11797v2")

    assert response.status_code == 301
    assert response["Location"] == "/api/v1/works/2109.11797"


def test_topics_and_a_topics_works(demo, client):
    codes = [t["code"] for t in client.get("/api/v1/topics").json()["items"]]
    works = client.get("/api/v1/topics/cs.CL/works", {"limit": 2}).json()

    assert "cs.CL" in codes and codes == sorted(codes)
    assert len(works["items"]) == 2 and works["next_cursor"]
    assert all(w["primary_category"] for w in works["items"])


def test_the_graph_is_the_graph_json_document(demo, client):
    api = client.get("/api/v1/researchers/zhengyan-zhang/graph", {"size": "inline"}).json()
    site = client.get("/researchers/zhengyan-zhang/graph.json", {"size": "inline"}).json()

    assert api == site
    assert api["schema"] == "bzpeer.graph" and api["variant"] == "inline"


# --- Stable ids --------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", "/works?limit=2", "/graph"])
def test_a_merged_record_and_an_old_slug_lead_to_the_survivor(demo, client, suffix):
    merged = AuthorRecordFactory(merged_into=demo)
    SlugRedirect.objects.create(old_slug="zhang-zhengyan", record=demo)

    for slug in (merged.slug, "zhang-zhengyan"):
        response = client.get(f"/api/v1/researchers/{slug}{suffix}")
        assert response.status_code == 301
        assert response["Location"] == f"{DETAIL}{suffix}"


# --- HTTP manners ------------------------------------------------------------------------------


def test_an_etag_and_a_date_answer_304(demo, client):
    first = client.get(DETAIL)
    assert first["Cache-Control"] == "public, max-age=60"

    again = client.get(DETAIL, headers={"If-None-Match": first["ETag"]})
    since = client.get(DETAIL, headers={"If-Modified-Since": first["Last-Modified"]})
    older = client.get(DETAIL, headers={"If-Modified-Since": http_date(0)})

    assert (again.status_code, since.status_code, older.status_code) == (304, 304, 200)
    assert again["ETag"] == first["ETag"] and again.content == b""


def test_an_etag_changes_with_the_record(demo, client):
    before = client.get(DETAIL)["ETag"]
    AuthorRecord.objects.filter(pk=demo.pk).update(description="Works on prompts.")

    after = client.get(DETAIL, headers={"If-None-Match": before})

    assert after.status_code == 200 and after["ETag"] != before


def test_lists_have_validators_too(demo, client):
    first = client.get("/api/v1/researchers/zhengyan-zhang/works")

    again = client.get(
        "/api/v1/researchers/zhengyan-zhang/works", headers={"If-None-Match": first["ETag"]}
    )

    assert first["Last-Modified"] and again.status_code == 304


def test_any_origin_may_read_and_the_preflight_is_answered(demo, client):
    response = client.get(DETAIL, headers={"Origin": "https://example.org"})
    preflight = client.options(
        DETAIL,
        headers={"Origin": "https://example.org", "Access-Control-Request-Method": "GET"},
    )

    assert response["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in response["Access-Control-Expose-Headers"]
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == "*"
    assert preflight["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"
    assert "Cookie" not in response.get("Vary", "")


def test_past_the_rate_limit_a_429_says_when_to_come_back(demo, settings):
    settings.API_RATE_LIMIT = "3/m"
    client = Client()  # the middleware reads the limit when it is built

    statuses = [client.get(DETAIL).status_code for _ in range(4)]
    refused = client.get(DETAIL)

    assert statuses == [200, 200, 200, 429]
    assert refused["Content-Type"] == PROBLEM
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused["Access-Control-Allow-Origin"] == "*"
    # Another address has its own count.
    assert client.get(DETAIL, REMOTE_ADDR="10.0.0.9").status_code == 200


def test_head_answers_as_get_without_a_body(demo, client):
    get, head = client.get(DETAIL), client.head(DETAIL)

    assert head.status_code == 200
    assert head.content == b""
    assert head["ETag"] == get["ETag"]


def test_writes_are_refused_as_a_problem(client):
    response = client.post("/api/v1/topics", {})

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD, OPTIONS"
    assert response.json()["status"] == 405


@pytest.mark.parametrize(
    "url,status",
    [
        ("/api/v1/nowhere", 404),
        ("/api/v1/researchers/nobody", 404),
        ("/api/v1/researchers/%00", 404),
        ("/api/v1/researchers/a%00b/works", 404),
        ("/api/v1/researchers/%E2%80%AEevil", 404),
        ("/api/v1/researchers/" + "x" * 5000, 404),
        ("/api/v1/works/%00", 404),
        ("/api/v1/works/2101.%F0%9F%98%80", 404),
        ("/api/v1/topics/cs.%00", 404),
        ("/api/v1/researchers?q=%00%00", 200),
        ("/api/v1/researchers?q=" + "é" * 400, 200),
        ("/api/v1/researchers", 400),
        ("/api/v1/researchers/zhengyan-zhang/works?limit=99999999999999999999999999", 400),
        ("/api/v1/researchers/zhengyan-zhang/works?limit=-1", 400),
        ("/api/v1/researchers/zhengyan-zhang/works?limit=1e3", 400),
        ("/api/v1/researchers/zhengyan-zhang/works?cursor=%00", 400),
        ("/api/v1/researchers/zhengyan-zhang/works?cursor=not-a-cursor", 400),
        ("/api/v1/researchers/zhengyan-zhang/graph?size=huge", 400),
    ],
)
def test_no_input_gets_a_500(demo, client, url, status):
    response = client.get(url)

    assert response.status_code == status
    if status >= 400:
        assert response["Content-Type"] == PROBLEM
        assert response.json()["status"] == status


@pytest.mark.parametrize(
    "cursor",
    [
        [None, 2**70],
        ["2024-01-01T00:00:00+00:00", -1],
        ["yesterday", 1],
        ["2024-01-01T00:00:00", 1],
        [True, 1],
        [1, 2, 3],
        {"a": 1},
    ],
)
def test_forged_cursors_are_a_400(demo, client, cursor):
    forged = base64.urlsafe_b64encode(json.dumps(cursor).encode()).decode().rstrip("=")

    response = client.get(f"/api/v1/researchers/zhengyan-zhang/works?cursor={forged}")

    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM


def test_the_schema_and_its_docs_are_served(client):
    schema = client.get("/api/v1/openapi.json").json()
    docs = client.get("/api/v1/docs")

    assert schema["openapi"].startswith("3.")
    operations = {op["operationId"] for item in schema["paths"].values() for op in item.values()}
    assert operations == {
        "researcher_search",
        "researcher_detail",
        "researcher_works",
        "researcher_graph",
        "researcher_trust",
        "work_detail",
        "topic_list",
        "topic_detail",
        "topic_works",
    }
    html = docs.content.decode()
    assert docs.status_code == 200
    assert "/api/v1/researchers/{slug}/works" in html
    assert "<script" not in html.split("</head>")[1]  # nothing but the site's deferred htmx


# --- Query counts ------------------------------------------------------------------------------


def _query_count(client, url, django_assert_max_num_queries) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("suffix", ["/works?limit=30", "", "/graph", "/trust"])
def test_researcher_queries_do_not_grow_with_works(client, django_assert_max_num_queries, suffix):
    one, thirty = _researcher_with_works(1), _researcher_with_works(30, coauthors=12)
    expected = _query_count(
        client, f"/api/v1/researchers/{one.slug}{suffix}", django_assert_max_num_queries
    )

    with django_assert_max_num_queries(expected):
        assert client.get(f"/api/v1/researchers/{thirty.slug}{suffix}").status_code == 200


def test_topic_works_queries_do_not_grow_with_works(client, django_assert_max_num_queries):
    small, large = TopicFactory(code="small.T"), TopicFactory(code="large.T")
    add_authors(WorkFactory(primary_topic=small), [AuthorRecordFactory()])
    for _ in range(30):
        add_authors(WorkFactory(primary_topic=large), [AuthorRecordFactory() for _ in range(12)])
    expected = _query_count(
        client, "/api/v1/topics/small.T/works?limit=30", django_assert_max_num_queries
    )

    with django_assert_max_num_queries(expected):
        assert client.get("/api/v1/topics/large.T/works?limit=30").status_code == 200


def test_search_queries_do_not_grow_with_results(client, django_assert_max_num_queries):
    AuthorRecordFactory(display_name="Solo Searchable", search_key="searchable solo")
    for n in range(30):
        AuthorRecordFactory(display_name=f"Many Findable{n}", search_key=f"findable{n} many")
    expected = _query_count(
        client, "/api/v1/researchers?q=searchable&limit=30", django_assert_max_num_queries
    )

    with django_assert_max_num_queries(expected):
        body = client.get("/api/v1/researchers?q=many&limit=30").json()
    assert len(body["items"]) == 30


def test_work_queries_do_not_grow_with_authors(client, django_assert_max_num_queries):
    small, large = WorkFactory(), WorkFactory()
    add_authors(small, [AuthorRecordFactory()])
    add_authors(large, [AuthorRecordFactory() for _ in range(30)])
    expected = _query_count(
        client, f"/api/v1/works/{small.arxiv_id}", django_assert_max_num_queries
    )

    with django_assert_max_num_queries(expected):
        assert len(client.get(f"/api/v1/works/{large.arxiv_id}").json()["authors"]) == 30


def test_a_cached_detail_costs_one_query(demo, client, django_assert_num_queries):
    client.get(DETAIL)

    with django_assert_num_queries(1):
        assert client.get(DETAIL).status_code == 200


def test_a_cached_works_page_costs_one_query_and_a_new_work_shows_at_once(
    client, django_assert_num_queries
):
    record = _researcher_with_works(3)
    url = f"/api/v1/researchers/{record.slug}/works"
    client.get(url)
    with django_assert_num_queries(1):
        assert len(client.get(url).json()["items"]) == 3

    new = WorkFactory()
    add_authors(new, [record])
    # What the importer does after it adds a work (works.changes.refresh_record_counts).
    AuthorRecord.objects.filter(pk=record.pk).update(
        work_count=4, works_changed_at=dt.datetime.now(dt.UTC)
    )

    assert client.get(url).json()["items"][0]["arxiv_id"] == new.arxiv_id
