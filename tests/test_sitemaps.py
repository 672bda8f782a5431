"""sitemap.xml (an index of id-range pages, bounded queries) and robots.txt."""

import xml.etree.ElementTree as ET

import pytest

from tests.factories import AuthorRecordFactory, WorkFactory, add_authors
from works import sitemaps
from works.models import AuthorRecord

pytestmark = pytest.mark.django_db

NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def _locations(client, url) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    return [node.text for node in ET.fromstring(response.content).findall(".//s:loc", NS)]


def test_the_index_lists_pages_of_works_researchers_and_topics(demo, client, monkeypatch):
    monkeypatch.setattr(sitemaps.WorkSitemap, "limit", 4)
    work_ids = sorted(demo.authorships.values_list("work_id", flat=True))

    index = _locations(client, "/sitemap.xml")

    pages = -(-(work_ids[-1] - work_ids[0] + 1) // 4)
    assert index[:pages] == ["http://testserver/sitemap-works.xml"] + [
        f"http://testserver/sitemap-works.xml?p={n}" for n in range(2, pages + 1)
    ]
    assert "http://testserver/sitemap-researchers.xml" in index
    assert "http://testserver/sitemap-topics.xml" in index
    works = [
        loc for n in range(1, pages + 1) for loc in _locations(client, f"/sitemap-works.xml?p={n}")
    ]
    assert len(works) == len(set(works)) == 9
    assert "http://testserver/works/2109.11797/" in works


def test_researchers_are_live_records_with_works(demo, client):
    merged = AuthorRecordFactory(merged_into=demo, work_count=3)
    AuthorRecordFactory(slug="no-works", work_count=0)

    researchers = _locations(client, "/sitemap-researchers.xml")

    assert "http://testserver/researchers/zhengyan-zhang/" in researchers
    assert f"http://testserver/researchers/{merged.slug}/" not in researchers
    assert "http://testserver/researchers/no-works/" not in researchers
    assert len(researchers) == AuthorRecord.objects.live().filter(work_count__gt=0).count()


def test_sitemap_pages_answer_404_rather_than_fail(demo, client):
    for page in ("0", "999", "x", "%00", "99999999999999999999999"):
        assert client.get(f"/sitemap-works.xml?p={page}").status_code == 404
    assert client.get("/sitemap-nothing.xml").status_code == 404


def test_sitemap_queries_do_not_grow_with_works(client, django_assert_max_num_queries):
    add_authors(WorkFactory(), [AuthorRecordFactory()])
    with django_assert_max_num_queries(3):
        client.get("/sitemap.xml")
    with django_assert_max_num_queries(2):
        client.get("/sitemap-works.xml")

    for _ in range(30):
        add_authors(WorkFactory(), [AuthorRecordFactory()])
    with django_assert_max_num_queries(3):
        client.get("/sitemap.xml")
    with django_assert_max_num_queries(2):
        assert len(_locations(client, "/sitemap-works.xml")) == 31


def test_robots_points_at_the_sitemap_and_keeps_out_of_private_pages(client):
    response = client.get("/robots.txt")

    text = response.content.decode()
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "Sitemap: http://testserver/sitemap.xml" in text.splitlines()
    for private in ("/admin/", "/accounts/", "/inbox/", "/following/", "/researchers/*/claim/"):
        assert f"Disallow: {private}" in text.splitlines()
    assert "Disallow: /researchers/" not in text.splitlines()
