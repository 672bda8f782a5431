"""ArxivClient + spacing against the FakeArxiv HTTP server on 127.0.0.1 (no mocks)."""

from __future__ import annotations

import datetime as dt
import email.utils
import threading
import time
import uuid

import pytest
import redis

from tests.fakearxiv import FakeArxiv
from works.arxiv.client import (
    ArxivClient,
    ArxivHttpError,
    ArxivUnavailable,
    retry_after_seconds,
)
from works.arxiv.ratelimit import LocalSpacing, RedisSpacing, default_spacing
from works.arxiv.records import ArxivApiError, OaiError

# Redis' TIME has microseconds.
CLOCK_RESOLUTION = 1e-6


@pytest.fixture
def fake():
    with FakeArxiv() as server:
        yield server


def make_client(fake: FakeArxiv, spacing=None, **kwargs) -> ArxivClient:
    kwargs.setdefault("backoff", 0.05)
    kwargs.setdefault("timeout", (2, 5))
    return ArxivClient(fake.api_url, fake.oai_url, spacing or LocalSpacing(0.01), **kwargs)


def gaps(times: list[float]) -> list[float]:
    times = sorted(times)
    return [b - a for a, b in zip(times, times[1:], strict=False)]


@pytest.fixture
def local_redis():
    client = redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=0.5)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis answering on 127.0.0.1:6379 ({exc})")
    keys: list[str] = []

    def new_key() -> str:
        key = f"bzpeer:test:arxiv-slot:{uuid.uuid4().hex}"
        keys.append(key)
        return key

    yield client, new_key
    if keys:
        client.delete(*keys)
    client.close()


# --------------------------------------------------------------------- paging


def test_search_pages_two_testing_pages_and_stops_at_max(fake):
    client = make_client(fake)
    pages = list(client.search("testing", page_size=10, max_results=20))
    assert [len(p.records) for p in pages] == [10, 10]
    ids = [r.arxiv_id for p in pages for r in p.records]
    assert len(set(ids)) == 20
    hits = fake.requests
    assert [h.params["start"] for h in hits] == ["0", "10"]
    assert all(h.params["max_results"] == "10" for h in hits)
    assert hits[0].params["search_query"] == "testing"
    assert hits[0].params["sortBy"] == "lastUpdatedDate"
    assert hits[0].params["sortOrder"] == "ascending"


def test_search_stops_at_total_results(fake):
    fake.api_total = 20
    client = make_client(fake)
    pages = list(client.search("testing", page_size=10))  # max_results 30000
    assert sum(len(p.records) for p in pages) == 20
    assert len(fake.requests) == 2


def test_page_size_and_total_are_capped(fake):
    fake.api_total = 10
    client = make_client(fake)
    list(client.search("testing", page_size=5000, max_results=99999))
    assert fake.requests[0].params["max_results"] == "2000"


def test_records_are_deduplicated_across_pages():
    page0 = FakeArxiv().api_pages[0]
    with FakeArxiv(api_pages={0: page0, 10: page0}, api_total=20) as fake:
        pages = list(make_client(fake).search("testing", page_size=10))
    assert [len(p.records) for p in pages] == [10, 0]


def test_user_agent_is_sent(fake):
    client = make_client(fake, user_agent="BZPEER-test/1.0 (tests)")
    client.fetch(fake.api_url, {"id_list": "1605.08386"})
    assert fake.requests[0].user_agent == "BZPEER-test/1.0 (tests)"


def test_by_ids(fake):
    pages = list(make_client(fake).by_ids(["1605.08386"]))
    assert [r.arxiv_id for p in pages for r in p.records] == ["1605.08386"]
    assert fake.requests[0].params["id_list"] == "1605.08386"


def test_empty_first_page_is_retried_once(fake):
    fake.empty_next(total=0)
    pages = list(make_client(fake).search("testing", page_size=10, max_results=20))
    assert sum(len(p.records) for p in pages) == 20
    assert [h.params["start"] for h in fake.requests] == ["0", "0", "10"]


def test_spurious_empty_middle_page_is_retried_once(fake):
    fake.empty_next(total=214881, match="start=10")
    pages = list(make_client(fake).search("testing", page_size=10, max_results=20))
    assert sum(len(p.records) for p in pages) == 20
    assert [h.params["start"] for h in fake.requests] == ["0", "10", "10"]


def test_persistently_empty_query_is_tried_twice_then_empty(fake):
    pages = list(make_client(fake).by_ids(["0000.0000"]))
    assert len(pages) == 1 and pages[0].records == []
    assert pages[0].total_results == 0
    assert len(fake.requests) == 2


def test_persistently_empty_middle_page_stops(fake):
    fake.empty_next(total=214881, match="start=10", times=2)
    pages = list(make_client(fake).search("testing", page_size=10, max_results=30))
    assert [len(p.records) for p in pages] == [10, 0]
    assert [h.params["start"] for h in fake.requests] == ["0", "10", "10"]


# -------------------------------------------------------------------- spacing


class RecordingLocalSpacing(LocalSpacing):
    """A LocalSpacing that notes every slot it hands out (``time.monotonic``, as the fake's
    arrival times)."""

    def __init__(self, *args, slots: list[float], **kwargs):
        super().__init__(*args, **kwargs)
        self.slots = slots

    def reserve(self) -> tuple[float, float]:
        slot, now = super().reserve()
        self.slots.append(slot)  # list.append is atomic: threads may share the list
        return slot, now


def test_local_spacing_spaces_every_request(fake):
    slots: list[float] = []
    client = make_client(fake, spacing=RecordingLocalSpacing(0.3, slots=slots))
    fake.fail_next(502)  # the retry must wait its turn too
    list(client.search("testing", page_size=10, max_results=20))
    hits = fake.requests
    # Three slots an interval apart, the retry's among them, and no request reached the
    # server before its slot. (Gaps between arrivals would also count how late a busy
    # machine ran the server's thread: 0.245 s between two arrivals slotted 0.3 s apart.)
    assert len(hits) == len(slots) == 3
    assert min(gaps(slots)) >= 0.3 - 1e-9
    arrivals = sorted(h.t for h in hits)
    assert all(
        arrived >= slot - 1e-9 for arrived, slot in zip(arrivals, sorted(slots), strict=True)
    ), (arrivals, sorted(slots))


class RecordingRedisSpacing(RedisSpacing):
    """A RedisSpacing that notes every slot it reserves (seconds, on Redis' clock)."""

    def __init__(self, *args, slots: list[float], **kwargs):
        super().__init__(*args, **kwargs)
        self.slots = slots

    def reserve(self) -> tuple[float, float]:
        slot, now = super().reserve()
        self.slots.append(slot)  # list.append is atomic: the two threads share the list
        return slot, now


def test_redis_spacing_is_shared_by_two_clients_in_two_threads(fake, local_redis):
    rclient, new_key = local_redis
    key = new_key()
    interval = 0.2
    slots: list[float] = []
    # Two clients, two spacings, two Redis connection pools: only the key is shared.
    clients = [
        make_client(
            fake,
            spacing=RecordingRedisSpacing(
                redis.Redis(host="127.0.0.1", port=6379), key=key, interval=interval, slots=slots
            ),
        )
        for _ in range(2)
    ]
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def run(client: ArxivClient) -> None:
        try:
            barrier.wait()
            for _ in range(3):
                client.fetch(fake.api_url, {"id_list": "1605.08386"})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert not errors
    hits = fake.requests
    assert len(hits) == 6
    # One queue of slots for both clients, an interval apart, and no request reached the
    # server before its slot. (Gaps between arrivals would also count how late a busy
    # machine ran each thread, which is no business of the spacing.) Redis' TIME and the
    # server's time.time() read the same clock: this machine's.
    assert len(slots) == 6
    assert min(gaps(slots)) >= interval - 1e-6
    arrivals = sorted(h.wall for h in hits)
    assert all(
        arrived >= slot - CLOCK_RESOLUTION
        for arrived, slot in zip(arrivals, sorted(slots), strict=True)
    ), (arrivals, sorted(slots))
    assert rclient.pttl(key) > 0  # the slot key expires when idle


def test_redis_hold_off_pushes_everyones_next_slot(local_redis):
    rclient, new_key = local_redis
    spacing = RedisSpacing(rclient, key=new_key(), interval=0.05)
    assert spacing.wait_turn() == 0
    spacing.hold_off(0.4)
    started = time.monotonic()
    waited = spacing.wait_turn()
    assert 0.3 < waited <= 0.41
    assert time.monotonic() - started >= 0.3


def test_local_spacing_is_thread_safe():
    slots: list[float] = []
    woke: list[float] = []
    spacing = RecordingLocalSpacing(0.05, slots=slots)

    def run():
        for _ in range(3):
            spacing.wait_turn()
            woke.append(time.monotonic())

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Nine distinct slots an interval apart, however the threads interleaved, and nobody
    # woke before their slot: the k-th wake-up is never earlier than the k-th slot. (When a
    # thread actually runs after waking depends on the machine's load, not on the spacing.)
    assert len(slots) == len(woke) == 9
    assert min(gaps(slots)) >= 0.05 - 1e-9
    assert all(w >= s - 1e-9 for w, s in zip(sorted(woke), sorted(slots), strict=True))


def test_default_spacing_from_settings(settings):
    settings.REDIS_URL = ""
    settings.ARXIV_REQUEST_INTERVAL = 0.25
    spacing = default_spacing()
    assert isinstance(spacing, LocalSpacing) and spacing.interval == 0.25
    assert default_spacing() is spacing  # shared by every client of the process


# -------------------------------------------------------------------- retries


@pytest.mark.parametrize("status", [503, 429])
def test_retry_after_is_honoured(fake, status):
    # The waits are recorded, not slept: the client's own, and its spacing's for everyone.
    client_slept: list[float] = []
    spacing_slept: list[float] = []
    spacing = LocalSpacing(0.01, sleep=spacing_slept.append)
    client = make_client(fake, spacing=spacing, sleep=client_slept.append)
    fake.fail_next(status, retry_after="120")
    pages = list(client.by_ids(["1605.08386"]))
    assert [r.arxiv_id for p in pages for r in p.records] == ["1605.08386"]
    assert len(fake.requests) == 2
    assert client_slept == [120.0]
    # The retry's turn comes after the hold-off: about 120 s after the refusal.
    assert 119 < spacing_slept[-1] <= 120


def test_retry_after_parsing():
    assert retry_after_seconds("7", default=30, cap=600) == 7
    assert retry_after_seconds(None, default=30, cap=600) == 30
    assert retry_after_seconds("garbage", default=30, cap=600) == 30
    assert retry_after_seconds("86400", default=30, cap=600) == 600
    assert retry_after_seconds("-5", default=30, cap=600) == 0
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=120)
    http_date = email.utils.format_datetime(later, usegmt=True)
    assert 110 <= retry_after_seconds(http_date, default=30, cap=600) <= 120
    past = email.utils.format_datetime(dt.datetime(2001, 1, 1, tzinfo=dt.UTC), usegmt=True)
    assert retry_after_seconds(past, default=30, cap=600) == 0


def test_missing_retry_after_uses_default(fake):
    slept: list[float] = []
    client = make_client(fake, sleep=slept.append, retry_after_default=0.2)
    fake.fail_next(503)
    client.fetch(fake.api_url, {"id_list": "1605.08386"})
    assert slept == [0.2]


def test_read_timeout_is_retried(fake):
    client = make_client(fake, timeout=(2, 0.5))
    fake.slow_next(3)
    started = time.monotonic()
    pages = list(client.by_ids(["1605.08386"]))
    assert len(pages[0].records) == 1
    assert len(fake.requests) == 2
    assert time.monotonic() - started < 2.5  # did not wait for the slow answer


def test_dropped_connection_is_retried(fake):
    fake.drop_next()
    pages = list(make_client(fake).by_ids(["1605.08386"]))
    assert len(pages[0].records) == 1
    assert len(fake.requests) == 2


def test_server_errors_back_off_exponentially(fake):
    slept: list[float] = []
    client = make_client(fake, backoff=0.01, sleep=slept.append)
    fake.fail_next(500)
    fake.fail_next(502)
    fake.fail_next(504)
    client.fetch(fake.api_url, {"id_list": "1605.08386"})
    assert slept == [0.01, 0.02, 0.04]
    assert len(fake.requests) == 4


def test_exhausted_retries_raise_arxiv_unavailable(fake):
    client = make_client(fake, max_retries=2, backoff=0.01)
    fake.fail_next(502, times=5)
    with pytest.raises(ArxivUnavailable) as info:
        client.fetch(fake.api_url, {"id_list": "1605.08386"})
    exc = info.value
    assert exc.attempts == 3 and exc.status == 502
    message = str(exc)
    assert fake.api_url in message and "1605.08386" in message
    assert "502" in message and "3 times" in message
    assert len(fake.requests) == 3


def test_error_feed_raises_api_error_without_retry(fake):
    with pytest.raises(ArxivApiError, match="incorrect id format for abc"):
        list(make_client(fake).by_ids(["abc"]))
    assert len(fake.requests) == 1


def test_other_client_errors_are_not_retried(fake):
    fake.fail_next(404)
    with pytest.raises(ArxivHttpError) as info:
        make_client(fake).fetch(fake.api_url, {"id_list": "1605.08386"})
    assert not isinstance(info.value, ArxivUnavailable)
    assert info.value.status == 404
    assert len(fake.requests) == 1


# ------------------------------------------------------------------- OAI-PMH


def test_list_records_follows_tokens_with_only_verb_and_token(fake):
    client = make_client(fake)
    pages = list(
        client.list_records(
            metadata_prefix="arXivRaw", from_date=dt.date(2014, 10, 1), set_spec="physics:hep-th"
        )
    )
    assert [len(p.records) for p in pages] == [6, 3]
    assert pages[0].resumption_token == "fake-2"
    assert not pages[1].resumption_token
    first, second = (h.params for h in fake.requests)
    assert first == {
        "verb": "ListRecords",
        "metadataPrefix": "arXivRaw",
        "from": "2014-10-01",
        "set": "physics:hep-th",
    }
    assert second == {"verb": "ListRecords", "resumptionToken": "fake-2"}


def test_list_records_no_records_match_yields_one_empty_page(fake):
    pages = list(make_client(fake).list_records(set_spec="moo"))
    assert len(pages) == 1 and pages[0].records == []
    assert len(fake.requests) == 1


def test_list_records_bad_token_raises_oai_error(fake):
    with pytest.raises(OaiError) as info:
        list(make_client(fake).list_records(resumption_token="bogus"))
    assert info.value.code == "badResumptionToken"
