"""The ORCID client against the fake ORCID: documented shapes in, named errors out, politely."""

from __future__ import annotations

import pytest

from profiles.orcid.client import (
    OrcidBadResponse,
    OrcidClient,
    OrcidNotFound,
    OrcidRefused,
    OrcidUnavailable,
)
from profiles.orcid.documents import OrcidPerson, OrcidWork
from tests.fakeorcid import FakeOrcid, FakeRecord, FakeWork

ORCID = "0000-0002-1825-0097"


class RecordingSpacing:
    """A spacing that never waits and remembers what it was told."""

    interval = 0.0

    def __init__(self):
        self.turns = 0
        self.held_off: list[float] = []

    def wait_turn(self) -> float:
        self.turns += 1
        return 0.0

    def hold_off(self, seconds: float) -> None:
        self.held_off.append(seconds)


@pytest.fixture
def fake():
    record = FakeRecord(
        ORCID,
        "Zhengyan",
        "Zhang",
        credit_name="Zhengyan Zhang",
        other_names=["Z. Zhang"],
        works=[
            FakeWork("Pre-trained models", arxiv="arXiv:2106.07139v3"),
            FakeWork("A journal article", doi="https://doi.org/10.1000/ABC.123"),
            FakeWork("An arXiv DOI", doi="10.48550/arXiv.2101.00001"),
            FakeWork("A chapter of a book", doi="10.1000/book", relationship="part-of"),
            FakeWork("Old style", arxiv="hep-th/9901001v2", source="Crossref"),
            FakeWork("No identifier"),
            FakeWork("Typed in by the holder", arxiv="2201.00001", source="holder"),
            FakeWork("Picked in a search-and-link wizard", arxiv="2201.00002", source="wizard"),
        ],
    )
    with FakeOrcid([record]) as server:
        yield server


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def spacing() -> RecordingSpacing:
    return RecordingSpacing()


@pytest.fixture
def client(fake, sleeps, spacing) -> OrcidClient:
    return OrcidClient(
        fake.api_url,
        spacing=spacing,
        sleep=sleeps.append,
        max_retries=3,
        backoff=1.0,
        user_agent="BZPEER-test/1 (mailto:test@example.org)",
        timeout=(2, 2),
    )


def test_works_are_read_with_normalised_identifiers(client):
    works = client.works(ORCID)

    datacite = "DataCite"
    assert works == [
        OrcidWork("Pre-trained models", frozenset({"2106.07139"}), frozenset(), 1000, datacite),
        OrcidWork("A journal article", frozenset(), frozenset({"10.1000/abc.123"}), 1001, datacite),
        OrcidWork("An arXiv DOI", frozenset({"2101.00001"}), frozenset(), 1002, datacite),
        # part-of names the book, not the chapter: no identifier of the work itself.
        OrcidWork("A chapter of a book", frozenset(), frozenset(), 1003, datacite),
        OrcidWork("Old style", frozenset({"hep-th/9901001"}), frozenset(), 1004, "Crossref"),
        OrcidWork("No identifier", frozenset(), frozenset(), 1005, datacite),
        # Only the holder's word: no third party asserted these.
        OrcidWork("Typed in by the holder", frozenset({"2201.00001"}), frozenset(), 1006, ""),
        OrcidWork(
            "Picked in a search-and-link wizard", frozenset({"2201.00002"}), frozenset(), 1007, ""
        ),
    ]


def test_the_person_is_read_from_the_record(client):
    assert client.person(ORCID) == OrcidPerson(
        orcid=ORCID,
        given_names="Zhengyan",
        family_name="Zhang",
        credit_name="Zhengyan Zhang",
        other_names=("Z. Zhang",),
    )


def test_every_request_waits_its_turn_and_says_who_asks(client, fake, spacing):
    client.works(ORCID)
    client.person(ORCID)

    assert spacing.turns == 2
    hits = [hit for hit in fake.requests if hit.path.startswith("/v3.0/")]
    assert [hit.path for hit in hits] == [f"/v3.0/{ORCID}/works", f"/v3.0/{ORCID}/record"]
    assert {hit.headers["Accept"] for hit in hits} == {"application/vnd.orcid+json"}
    assert {hit.headers["User-Agent"] for hit in hits} == {
        "BZPEER-test/1 (mailto:test@example.org)"
    }


def test_429_waits_what_retry_after_says_and_makes_everyone_wait(client, fake, sleeps, spacing):
    fake.fail_next(429, retry_after="7", match="/works")

    assert len(client.works(ORCID)) == 8
    assert sleeps == [7.0]
    assert spacing.held_off == [7.0]
    assert fake.api_requests() == [f"/v3.0/{ORCID}/works"] * 2


def test_503_with_retry_after_is_retried_then_given_up(client, fake, sleeps):
    fake.fail_next(503, retry_after="2", times=4)

    with pytest.raises(OrcidUnavailable, match="failed 4 times") as raised:
        client.works(ORCID)

    assert raised.value.status == 503
    assert sleeps == [2.0, 2.0, 2.0]
    assert len(fake.api_requests()) == 4


def test_a_retry_after_far_in_the_future_is_capped(client, fake, sleeps):
    fake.fail_next(429, retry_after="86400")

    client.works(ORCID)

    assert sleeps == [client.retry_after_cap]


def test_server_errors_back_off_exponentially(client, fake, sleeps):
    fake.fail_next(500, times=2)
    fake.fail_next(502)

    client.works(ORCID)

    assert sleeps == [1.0, 2.0, 4.0]


def test_a_read_time_out_is_retried(client, fake, sleeps):
    client.timeout = (2, 0.5)  # short, as in tests/works/test_client.py: waited out once
    fake.slow_next(3.0)

    assert len(client.works(ORCID)) == 8
    assert sleeps == [1.0]


@pytest.mark.parametrize("status", [401, 403, 400])
def test_refusals_are_not_retried(client, fake, sleeps, status):
    fake.fail_next(status)

    with pytest.raises(OrcidRefused, match=f"HTTP {status}"):
        client.works(ORCID)

    assert sleeps == []
    assert len(fake.api_requests()) == 1


def test_an_unknown_id_is_not_found_at_once(client, fake, sleeps):
    with pytest.raises(OrcidNotFound, match="HTTP 404"):
        client.works("0000-0001-5109-3700")

    assert sleeps == []


@pytest.mark.parametrize("status", [409, 410])
def test_deprecated_and_deactivated_records_are_gone(client, fake, status):
    fake.fail_next(status)

    with pytest.raises(OrcidNotFound):
        client.person(ORCID)


def test_malformed_json_is_a_bad_response_not_retried(client, fake, sleeps):
    fake.malformed_next()

    with pytest.raises(OrcidBadResponse, match="not JSON"):
        client.works(ORCID)

    assert sleeps == []


def test_json_of_another_shape_is_a_bad_response(client, fake):
    fake.fail_next(200, body=b'["not", "a", "works", "summary"]')

    with pytest.raises(OrcidBadResponse, match="documented shape"):
        client.works(ORCID)


def test_a_record_of_another_id_is_refused(client, fake):
    fake.add_record(FakeRecord("0000-0001-5109-3700", "Someone", "Else"))
    fake.fail_next(200, body=b'{"orcid-identifier": {"path": "0000-0001-5109-3700"}}')

    with pytest.raises(OrcidBadResponse, match="not '0000-0002-1825-0097'"):
        client.person(ORCID)


def test_a_huge_body_is_refused_before_it_is_read(client, fake):
    client.max_bytes = 1_000_000
    fake.huge_next(50_000_000)

    with pytest.raises(OrcidBadResponse, match="50,000,000 bytes, over the 1,000,000-byte"):
        client.works(ORCID)


def test_a_huge_body_without_a_length_is_cut_off_at_the_limit(client, fake):
    client.max_bytes = 1_000_000
    fake.huge_next(5_000_000, declare_length=False)

    with pytest.raises(OrcidBadResponse, match="over the 1,000,000-byte limit"):
        client.works(ORCID)


def test_a_dropped_server_is_unavailable(sleeps):
    with FakeOrcid() as gone:
        url = gone.api_url
    client = OrcidClient(url, sleep=sleeps.append, max_retries=2, timeout=(1, 1))

    with pytest.raises(OrcidUnavailable, match="ConnectionError"):
        client.works(ORCID)
    assert sleeps == [1.0, 2.0]
