"""Control characters in a URL's id, code or query answer 404 (or an empty search), never 500.

PostgreSQL refuses a NUL inside a text parameter, so `/works/%00/` used to raise in the driver
and answer 500 there (finding 9 of the hardening issue); SQLite happened to answer 404.
"""

import pytest

from tests.factories import AuthorRecordFactory, TopicFactory, WorkFactory, add_authors

pytestmark = pytest.mark.django_db


@pytest.fixture
def corpus():
    topic = TopicFactory(code="cs.CL", name="Computation and Language")
    work = WorkFactory(arxiv_id="2109.11797", title="Prompt tuning", primary_topic=topic)
    record = AuthorRecordFactory(slug="ada-lovelace")
    add_authors(work, [record])
    return work


@pytest.mark.parametrize(
    "url",
    [
        "/works/%00/",
        "/works/2109.11797%00/",
        "/works/2109.11797%00v2/",
        "/works/hep-th/99%0001/",
        "/works/2109.%0111797/",
        "/works/2109.11797%7F/",
        "/topics/%00/",
        "/topics/cs.CL%00/",
        "/topics/cs.%0ACL/",
        "/researchers/ada%00lovelace/",
        "/researchers/ada-lovelace%00/graph.json",
        "/researchers/ada-lovelace/graph/slice/%00/",
    ],
)
def test_a_control_character_in_an_id_or_code_answers_404(client, corpus, url):
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    "query",
    ["?q=%00", "?q=prompt%00tuning", "?q=%00&type=works", "?q=%00&type=researchers&page=%00"],
)
def test_a_control_character_in_the_search_query_is_dropped(client, corpus, query):
    response = client.get("/search/" + query)
    assert response.status_code == 200


def test_the_clean_ids_still_answer(client, corpus):
    assert client.get("/works/2109.11797/").status_code == 200
    assert client.get("/topics/cs.CL/").status_code == 200
