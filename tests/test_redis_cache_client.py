"""The Redis cache's client: one per connection pool, not one per call."""

import threading

import pytest
from django.conf import settings
from django.core.cache import cache

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="REDIS_URL is unset: no Redis")


def test_every_call_borrows_from_one_client_per_pool():
    client = cache._cache.get_client(write=True)

    cache.set("client-reuse", {"n": 1})

    assert cache._cache.get_client() is client
    assert cache._cache.get_client(write=True) is client
    assert cache.get("client-reuse") == {"n": 1}


def test_threads_share_the_client_and_each_reads_its_own_value():
    errors = []

    def worker(n: int) -> None:
        for round_ in range(50):
            cache.set(f"thread-{n}", (n, round_))
            if cache.get(f"thread-{n}") != (n, round_):
                errors.append((n, round_))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
