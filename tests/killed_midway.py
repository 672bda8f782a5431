"""A worker's long job, run in a child process that the test kills (SIGKILL) half-way.

    python -m tests.killed_midway trust-sweep|edge-rebuild STOPS

Runs the workflow the nightly task calls (``profiles.trust.recompute_all``, or
``graph.services.rebuild_all_edges`` as ``rebuild_graph`` does) in small steps. At each of its
progress callbacks it prints ``step N`` and, at step ``STOPS``, waits on stdin forever: the
test then knows exactly how far the job got when it kills it, without timing anything.
Settings come from the environment (the test's PostgreSQL database).
"""

from __future__ import annotations

import sys

import django


def main(job: str, stops: int) -> None:
    django.setup()
    from graph.services import rebuild_all_edges
    from profiles.trust import recompute_all

    steps = 0

    def step(*_) -> None:
        nonlocal steps
        steps += 1
        print(f"step {steps}", flush=True)
        if steps == stops:
            sys.stdin.readline()  # never answered: the test kills this process here
            raise SystemExit("the test did not kill this process")

    if job == "trust-sweep":
        recompute_all(batch_size=TRUST_BATCH, on_batch=step)
    elif job == "edge-rebuild":
        rebuild_all_edges(chunk_size=EDGE_CHUNK, progress=step)
    else:
        raise SystemExit(f"unknown job {job!r}")
    print("done", flush=True)


# Small steps, so that a handful of demo records make several batches and ranges.
TRUST_BATCH = 20
EDGE_CHUNK = 40

if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
