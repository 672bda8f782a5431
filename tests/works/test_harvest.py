"""Resumable harvest loops against the FakeArxiv HTTP server on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from tests.fakearxiv import OAI_PAGE_1, FakeArxiv, fixture, set_token
from works.arxiv.client import ArxivClient
from works.arxiv.harvest import Checkpoint, harvest_api, harvest_oai
from works.arxiv.ratelimit import LocalSpacing
from works.arxiv.records import OaiError, ParsedPage

PAGE_1_IDS = {"0704.0471", "0704.0716", "0704.0874", "0704.1109", "0704.1114", "0704.1586"}
FROM = dt.date(2014, 10, 1)


class Crash(Exception):
    pass


@pytest.fixture
def fake():
    with FakeArxiv() as server:
        yield server


@pytest.fixture
def client(fake):
    return ArxivClient(fake.api_url, fake.oai_url, LocalSpacing(0.01), backoff=0.05)


class Recorder:
    """A harvest's caller: processes each pair's page, then saves its checkpoint.

    Logs both steps in order, and can be told to crash at either.
    """

    def __init__(self, crash_on_page: int | None = None, crash_on_save: int | None = None):
        self.events: list[tuple] = []
        self.processed: list[str] = []  # arxiv ids, in processing order
        self.saved: list[Checkpoint] = []
        self.crash_on_page = crash_on_page
        self.crash_on_save = crash_on_save
        self.pages_seen = 0
        self.save_calls = 0

    def on_page(self, page: ParsedPage) -> None:
        self.pages_seen += 1
        self.events.append(("page", self.pages_seen))
        if self.pages_seen == self.crash_on_page:
            raise Crash(f"crash while importing page {self.pages_seen}")
        self.processed.extend(r.arxiv_id for r in page.records)

    def save(self, checkpoint: Checkpoint) -> None:
        self.save_calls += 1
        if self.save_calls == self.crash_on_save:
            raise Crash("crash while saving the checkpoint")
        self.events.append(("save", checkpoint.resumption_token))
        self.saved.append(dataclasses.replace(checkpoint))

    def consume(self, pairs, *, save=None, start=None):
        """Take every pair in order; return the last checkpoint saved (``start`` if none).

        ``save`` stores a checkpoint instead of this recorder (an API harvest's offsets).
        """
        save = save or self.save
        last = start
        for page, checkpoint in pairs:
            if page is not None:
                self.on_page(page)
            save(checkpoint)
            last = checkpoint
        return last

    @property
    def last_saved(self) -> Checkpoint:
        return self.saved[-1]


def uninterrupted_ids() -> set[str]:
    with FakeArxiv() as fake:
        client = ArxivClient(fake.api_url, fake.oai_url, LocalSpacing(0.01))
        rec = Recorder()
        rec.consume(harvest_oai(client, checkpoint=Checkpoint(from_date=FROM)))
    return set(rec.processed)


def test_follows_tokens_and_saves_after_each_page(fake, client):
    rec = Recorder()
    final = rec.consume(harvest_oai(client, checkpoint=Checkpoint(from_date=FROM)))
    assert len(rec.processed) == 9 and set(rec.processed) >= PAGE_1_IDS
    # on_page first, then the checkpoint naming the NEXT page
    assert rec.events == [("page", 1), ("save", "fake-2"), ("page", 2), ("save", "")]
    assert [c.pages_done for c in rec.saved] == [1, 2]
    assert rec.saved[0].last_datestamp == dt.date(2014, 12, 22)  # max, not the last record's
    assert final == rec.saved[-1]
    assert final.resumption_token == "" and final.last_datestamp == dt.date(2017, 12, 14)
    assert final.from_date == FROM
    assert [h.params.get("resumptionToken") for h in fake.requests] == [None, "fake-2"]


def test_resume_after_crash_in_on_page_processes_every_record_once(fake, client):
    first = Recorder(crash_on_page=2)
    with pytest.raises(Crash):
        first.consume(harvest_oai(client, checkpoint=Checkpoint(from_date=FROM)))
    saved = first.last_saved
    assert saved.resumption_token == "fake-2" and saved.pages_done == 1

    second = Recorder()
    final = second.consume(harvest_oai(client, checkpoint=saved))
    assert final.pages_done == 2 and final.resumption_token == ""
    # page 1 is not fetched or processed again; page 2 is retried from its token
    assert set(second.processed).isdisjoint(PAGE_1_IDS)
    assert fake.requests[-1].params == {"verb": "ListRecords", "resumptionToken": "fake-2"}
    both = first.processed + second.processed
    assert len(both) == len(set(both))  # nothing processed twice
    assert set(both) == uninterrupted_ids()


def test_crash_between_on_page_and_save_repeats_at_most_one_page(fake, client):
    first = Recorder(crash_on_save=1)  # page 1 imported, checkpoint not stored
    start = Checkpoint(from_date=FROM)
    with pytest.raises(Crash):
        first.consume(harvest_oai(client, checkpoint=start))
    assert set(first.processed) == PAGE_1_IDS

    second = Recorder()
    second.consume(harvest_oai(client, checkpoint=start))
    # The design promise: a page may be processed one more time, none is skipped.
    assert set(first.processed + second.processed) == uninterrupted_ids()
    assert set(first.processed) & set(second.processed) == PAGE_1_IDS


def test_bad_resumption_token_restarts_from_from_date(fake, client):
    rec = Recorder()
    start = Checkpoint(
        from_date=FROM,
        resumption_token="bogus",
        last_datestamp=dt.date(2014, 11, 1),
        pages_done=3,
    )
    final = rec.consume(harvest_oai(client, checkpoint=start))
    params = [h.params for h in fake.requests]
    assert params[0] == {"verb": "ListRecords", "resumptionToken": "bogus"}
    assert params[1] == {"verb": "ListRecords", "metadataPrefix": "arXivRaw", "from": "2014-10-01"}
    assert params[2] == {"verb": "ListRecords", "resumptionToken": "fake-2"}
    # the reset is checkpointed before any page, so a crash now does not reuse "bogus"
    assert rec.events[0] == ("save", "")
    assert len(rec.processed) == 9
    assert final.pages_done == 5 and final.resumption_token == ""


def test_bad_resumption_token_can_restart_from_last_datestamp(fake, client):
    rec = Recorder()
    start = Checkpoint(
        from_date=FROM, resumption_token="bogus", last_datestamp=dt.date(2014, 11, 1)
    )
    rec.consume(harvest_oai(client, checkpoint=start, restart_from_last_datestamp=True))
    assert fake.requests[1].params["from"] == "2014-11-01"
    assert rec.saved[0].from_date == dt.date(2014, 11, 1)


def test_second_bad_resumption_token_fails(client, fake):
    # After the restart, page 1 hands out a token the server will reject again.
    fake.oai_pages[0] = set_token(fixture(OAI_PAGE_1), "expired")
    rec = Recorder()
    with pytest.raises(OaiError) as info:
        rec.consume(
            harvest_oai(client, checkpoint=Checkpoint(from_date=FROM, resumption_token="bogus"))
        )
    assert info.value.code == "badResumptionToken"
    assert rec.last_saved.resumption_token == "expired"  # page 1 landed before the failure


def test_no_records_match_is_success_with_zero_records(fake, client):
    rec = Recorder()
    final = rec.consume(harvest_oai(client, checkpoint=Checkpoint(from_date=FROM), set_spec="moo"))
    assert rec.processed == []
    assert final.pages_done == 1 and final.resumption_token == ""
    assert len(fake.requests) == 1


def test_harvest_api_resumes_from_saved_offset(fake, client):
    offsets: list[int] = []
    first = Recorder(crash_on_page=2)
    with pytest.raises(Crash):
        first.consume(
            harvest_api(client, query="testing", checkpoint_offset=0, page_size=10, max_results=20),
            save=offsets.append,
        )
    assert offsets == [10]

    second = Recorder()
    end = second.consume(
        harvest_api(
            client, query="testing", checkpoint_offset=offsets[-1], page_size=10, max_results=20
        ),
        save=offsets.append,
    )
    assert end == 20 and offsets == [10, 20]
    assert [h.params["start"] for h in fake.requests] == ["0", "10", "10"]
    both = first.processed + second.processed
    assert len(both) == 20 == len(set(both))
    # already finished: nothing to yield, no request at all
    finished = harvest_api(
        client, query="testing", checkpoint_offset=20, page_size=10, max_results=20
    )
    assert list(finished) == []
    assert len(fake.requests) == 3
