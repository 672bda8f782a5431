"""Atom feeds of a researcher's and a topic's new works, read back with feedparser."""

import datetime as dt

import feedparser
import pytest

from tests.factories import AuthorRecordFactory, TopicFactory, WorkFactory, add_authors
from works.models import SlugRedirect

pytestmark = pytest.mark.django_db


def _feed(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


def test_a_researchers_feed_lists_their_works_newest_first(demo, client):
    feed = _feed(client, "/researchers/zhengyan-zhang/feed.atom")

    assert feed.version == "atom10"
    assert feed.feed.title == "New works by Zhengyan Zhang — BZPEER"
    assert feed.feed.link == "http://testserver/researchers/zhengyan-zhang/"
    assert len(feed.entries) == 9
    published = [entry.published_parsed for entry in feed.entries]
    assert published == sorted(published, reverse=True)
    newest = feed.entries[0]
    assert newest.title == "mHC: Manifold-Constrained Hyper-Connections"
    assert newest.link == "http://testserver/works/2512.24880/"
    assert newest.id == "https://arxiv.org/abs/2512.24880"
    assert newest.author == "Zhenda Xie, Yixuan Wei, Huanqi Cao et al."
    assert [tag.term for tag in newest.tags] == ["cs.AI"]


def test_a_topics_feed_and_its_escaping(client):
    topic = TopicFactory(code="math.CO", name="Combinatorics")
    author = AuthorRecordFactory(display_name="Ada <b>Bold</b> & Co")
    older = WorkFactory(primary_topic=topic, submitted=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    newer = WorkFactory(
        primary_topic=topic,
        title='Graphs & "trees" <script>alert(1)</script>',
        abstract="Less < more & so on",
        submitted=dt.datetime(2024, 5, 1, tzinfo=dt.UTC),
    )
    add_authors(older, [author])
    add_authors(newer, [author])

    feed = _feed(client, "/topics/math.CO/feed.atom")

    assert feed.feed.title == "New works in math.CO — Combinatorics — BZPEER"
    assert [entry.id for entry in feed.entries] == [
        f"https://arxiv.org/abs/{newer.arxiv_id}",
        f"https://arxiv.org/abs/{older.arxiv_id}",
    ]
    assert feed.entries[0].title == 'Graphs & "trees" <script>alert(1)</script>'
    assert feed.entries[0].author == "Ada <b>Bold</b> & Co"


def test_feeds_are_linked_from_their_pages(demo, client):
    profile = client.get("/researchers/zhengyan-zhang/").content.decode()
    topic = client.get("/topics/cs.CL/").content.decode()

    assert (
        '<link rel="alternate" type="application/atom+xml" '
        'href="/researchers/zhengyan-zhang/feed.atom"' in profile
    )
    assert (
        '<link rel="alternate" type="application/atom+xml" href="/topics/cs.CL/feed.atom"' in topic
    )


def test_an_old_slugs_feed_redirects_and_unknowns_are_404(demo, client):
    SlugRedirect.objects.create(old_slug="zhang-z", record=demo)

    response = client.get("/researchers/zhang-z/feed.atom")

    assert response.status_code == 301
    assert response["Location"] == "/researchers/zhengyan-zhang/feed.atom"
    assert client.get("/researchers/nobody/feed.atom").status_code == 404
    assert client.get("/topics/no.SUCH/feed.atom").status_code == 404
    assert client.get("/topics/cs.%00/feed.atom").status_code == 404


def test_feed_queries_do_not_grow_with_works(client, django_assert_max_num_queries):
    one, many = AuthorRecordFactory(), AuthorRecordFactory()
    add_authors(WorkFactory(), [one])
    for _ in range(30):
        add_authors(WorkFactory(), [many, *[AuthorRecordFactory() for _ in range(5)]])
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        _feed(client, f"/researchers/{one.slug}/feed.atom")

    with django_assert_max_num_queries(len(captured)):
        assert len(_feed(client, f"/researchers/{many.slug}/feed.atom").entries) == 30
