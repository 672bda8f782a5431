"""A worker killed (SIGKILL) during the trust sweep or the edge rebuild: the next run completes
and its results equal an uninterrupted run's, row by row.

The job runs in a child process (tests/killed_midway.py) on this test's PostgreSQL database and
stops after a known number of batches or ranges; the test kills it there, so some of the job is
committed and the rest is not, and then runs the job again here.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from django.db import connection, transaction

from graph.models import CollaborationEdge
from graph.services import rebuild_all_edges
from profiles.models import TrustSnapshot
from profiles.trust import recompute_all
from tests.faults import edges_and_counts
from tests.support import DEMO_FILE
from tests.works.test_worker_e2e import worker_database_url
from works.models import AuthorRecord
from works.services import import_stream

PROJECT_ROOT = Path(__file__).resolve().parents[1]

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the killed job runs in another process, and SQLite's test database lives in "
        "this process's memory",
    ),
]


class Rollback(Exception):
    pass


@pytest.fixture
def corpus():
    """The demo researcher's works and their hundreds of co-authors, with edges, no trust yet."""
    with DEMO_FILE.open("rb") as stream:
        import_stream(stream, source_label="Demo data")
    rebuild_all_edges()
    TrustSnapshot.objects.all().delete()
    assert AuthorRecord.objects.people().count() > 100


def kill_at_step(job: str, step: int, log: Path) -> None:
    """Run ``job`` in a child process and SIGKILL it once it reports ``step``."""
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL")}
    env.update(
        DJANGO_SETTINGS_MODULE="tests.settings",
        DATABASE_URL=worker_database_url(),
        PYTHONPATH=str(PROJECT_ROOT),
    )
    with log.open("wb") as errors:
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.killed_midway", job, str(step)],
            cwd=PROJECT_ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
    try:
        for line in child.stdout:
            if line.strip() == f"step {step}":
                break
        else:
            raise AssertionError(f"{job} ended before step {step}:\n{log.read_text()[-3000:]}")
    finally:
        child.kill()  # SIGKILL: no cleanup, no rollback but the server's own
        child.wait(timeout=30)
        child.stdout.close()
        child.stdin.close()


# --------------------------------------------------------------------------- trust sweep


def snapshots() -> dict[str, list[tuple]]:
    """Every record's snapshots (what they say, not when), oldest first."""
    by_record: dict[str, list[tuple]] = defaultdict(list)
    for row in TrustSnapshot.objects.order_by("record__slug", "computed_at", "id").values_list(
        "record__slug",
        *("score", "band", "level", "claim_state", "formula_version", "fingerprint"),
        *("works_digest", "inputs", "components"),
    ):
        by_record[row[0]].append(row[1:])
    return dict(by_record)


def test_a_trust_sweep_killed_midway_is_completed_by_the_next_one(corpus, tmp_path):
    with contextlib.suppress(Rollback), transaction.atomic():
        recompute_all()
        uninterrupted = snapshots()
        raise Rollback
    people = AuthorRecord.objects.people().live().count()
    assert len(uninterrupted) == people and TrustSnapshot.objects.count() == 0

    kill_at_step("trust-sweep", 3, tmp_path / "sweep.log")
    # Batches 1 and 2 are committed (the third waits to be written or was); not the rest.
    killed = snapshots()
    assert 40 <= len(killed) < people
    assert all(killed[slug] == uninterrupted[slug] for slug in killed)

    stats = recompute_all()

    assert snapshots() == uninterrupted  # one snapshot each: nothing written twice
    assert (stats.records, stats.written) == (people, people - len(killed))


# -------------------------------------------------------------------------- edge rebuild


def edge_table_constraints() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass "
            "UNION SELECT indexname FROM pg_indexes WHERE tablename = %s ORDER BY 1",
            [CollaborationEdge._meta.db_table] * 2,
        )
        return [name for (name,) in cursor.fetchall()]


def spoil_edges() -> None:
    """Edges as a stale table has them, in every range of ids: missing, wrong, extra."""
    ids = sorted(CollaborationEdge.objects.values_list("id", flat=True))
    CollaborationEdge.objects.filter(id__in=ids[::7]).delete()
    CollaborationEdge.objects.filter(id__in=ids[3::7]).update(weight=9.0, shared_works=99)
    people = list(AuthorRecord.objects.people().order_by("id").values_list("id", flat=True))
    strangers = [
        CollaborationEdge(author_id=a, coauthor_id=b, weight=1.0, shared_works=1)
        for a, b in zip(people[::5], people[::-5], strict=False)
        if a != b and not CollaborationEdge.objects.filter(author_id=a, coauthor_id=b).exists()
    ]
    CollaborationEdge.objects.bulk_create(strangers)
    AuthorRecord.objects.filter(id__in=people[1::4]).update(close_collaborator_count=77)


@pytest.mark.parametrize("starting_from", ["stale edges", "an empty table"])
def test_an_edge_rebuild_killed_midway_is_completed_by_the_next_one(
    corpus, tmp_path, starting_from
):
    uninterrupted = edges_and_counts()
    constraints = edge_table_constraints()
    if starting_from == "stale edges":
        spoil_edges()  # each range of ids is rewritten in its own transaction
    else:
        # The first build loads all ranges in one transaction, without indexes and keys.
        CollaborationEdge.objects.all().delete()
        AuthorRecord.objects.update(close_collaborator_count=0)
    before = edges_and_counts()
    assert before != uninterrupted

    kill_at_step("edge-rebuild", 2, tmp_path / "rebuild.log")

    killed = edges_and_counts()
    assert edge_table_constraints() == constraints  # the table keeps its keys and indexes
    if starting_from == "stale edges":
        assert killed not in (before, uninterrupted)  # two ranges done, the rest not
    else:
        assert killed == before  # the bulk load rolled back whole

    rebuild_all_edges()

    assert edges_and_counts() == uninterrupted
