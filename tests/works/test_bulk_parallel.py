"""The bulk loader's parsing workers stop cleanly when the load stops early."""

import threading

from works.bulk import _parallel
from works.prepare import RecordError


def test_a_load_stopped_early_stops_its_workers_instead_of_hanging():
    # Chunks far larger than a pipe's buffer, more of them queued than one worker holds: when
    # the load stops, a chunk is being written to the worker's pipe. Killing the worker then
    # (Pool.terminate) left that write blocked for ever.
    chunks = ((number, [b"{" + b"x" * 2_000_000]) for number in range(1, 9))
    outcome = {}

    def first_chunk_then_stop():
        parsed = _parallel(chunks, workers=1, depth=4, encode=lambda: True)
        outcome["first"] = next(parsed)
        parsed.close()
        outcome["closed"] = True

    stopping = threading.Thread(target=first_chunk_then_stop, daemon=True)
    stopping.start()
    stopping.join(timeout=60)

    assert outcome.get("closed"), "the parsing workers did not stop within a minute"
    [error] = outcome["first"]
    assert isinstance(error, RecordError)
