"""A parsing worker of the snapshot loader keeps its name caches small; other processes don't."""

from support import FIXTURES

from works import prepare, rows
from works.arxiv import parsers

SNAPSHOT = FIXTURES / "kaggle_snapshot_first200.jsonl"


def test_a_parsing_worker_starts_its_name_caches_over_and_prepares_the_same(monkeypatch):
    monkeypatch.setattr(prepare, "NAME_CACHE_ENTRIES", 50)
    lines = SNAPSHOT.read_bytes().splitlines()
    # Parsed from scratch: what earlier tests cached in this process would hide the names.
    prepare.forget_parsing()

    in_process = prepare.prepare_lines(1, lines)
    # The loader's own parse (and so its linking, between batches) keeps what it cached.
    assert prepare._NAME_CACHES[0].cache_info().currsize > 50
    in_worker = prepare.prepare_lines_in_worker(1, lines)

    assert in_worker == in_process
    assert [c.cache_info().currsize <= 50 for c in prepare._NAME_CACHES] == [True] * 4


def test_a_process_that_parses_no_more_lines_forgets_every_parse_cache():
    caches = (*prepare._NAME_CACHES, rows.signature, prepare._signature_line)
    # From empty caches: a name's cached row would spare its name caches (as in a worker).
    for cache in caches:
        cache.cache_clear()
    parsers._snapshot_author.cache_clear()
    prepare.prepare_lines(1, SNAPSHOT.read_bytes().splitlines())
    assert min(c.cache_info().currsize for c in caches) > 0
    assert parsers._snapshot_author.cache_info().currsize > 0

    prepare.forget_parsing()

    assert [c.cache_info().currsize for c in caches] == [0] * len(caches)
    assert parsers._snapshot_author.cache_info().currsize == 0
