import pytest


@pytest.fixture
def queued_trust(monkeypatch) -> list[list[int]]:
    """The trust recomputes queued as transactions commit: one list of record ids per call of
    `queue_trust_recompute`, that is per event.

    It stands in for the debouncer, whose per-record lock would hide a second queueing of the
    same record; run the code under `django_capture_on_commit_callbacks(execute=True)`.
    """
    from profiles import trust_queue

    queued: list[list[int]] = []
    monkeypatch.setattr(trust_queue, "_queue_debounced", queued.append)
    return queued
