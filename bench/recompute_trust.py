"""Benchmark the nightly trust sweep: every record's snapshot recomputed, set-based.

    python bench/recompute_trust.py [--database-url URL] [--works 1000000] [--people 300000]
                                    [--batch-size 2000] [--keep-snapshots]

Builds or reuses the synthetic corpus of bench/dataset.py in a PostgreSQL database (default
``bzpeer_bench_trust`` on the server of DATABASE_URL, else 127.0.0.1): 300,000 person records
over 1,000,000 works by default, with collaboration edges and close-collaborator counts built
by ``manage.py rebuild_graph``. Then, in this process, through the same service as the Celery
task and the management command (``profiles.trust.recompute_all``):

1. a first sweep: every snapshot deleted first, so every record reads its works and writes
   a snapshot;
2. the nightly sweep with nothing changed: works are read only where they were stamped as
   changed since the record's snapshot (none), every fingerprint matches, nothing is written;
3. the nightly sweep after 1% of the records gained a verified follower: those write again;
4. the weekly full sweep (``full=True``): every record's works read again, nothing written.

Prints, for each, records per second, wall time, SQL statements on every connection
including the sweep's reader and writer threads (a regression to one query per record
shows), snapshots written, and the process's peak memory. Exits 1 when a sweep of every
record takes more than two minutes.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.dataset import ensure_dataset  # noqa: E402

GOAL_SECONDS = 120.0
# `make bench` (bench/run_all.py): a tenth of the corpus, in its own database.
QUICK_ARGS = ["--works", "100000", "--people", "30000"]
DEFAULT_WORKS = 1_000_000
BENCH_FOLLOWER = "bench-follower"


def main() -> int:
    args = _arguments()
    info = ensure_dataset(
        args.database_url, works=args.works, people=args.people, prolific_works=args.prolific_works
    )
    os.environ["DATABASE_URL"] = info.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bzpeer.settings")
    os.environ.setdefault(
        "DJANGO_SECRET_KEY", "bench-only-secret-key-never-used-to-serve-real-people"
    )
    # No broker: the sweep itself queues nothing, and a level it heals must not try to reach
    # Redis from a benchmark.
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    # A reused corpus may predate the latest migrations (TrustSnapshot.works_digest).
    call_command("migrate", verbosity=0)

    from django.db import connection
    from django.db.backends.signals import connection_created

    from profiles import trust
    from profiles.models import Follow, TrustSnapshot
    from works.models import AuthorRecord

    people = trust.people_count()
    print(
        f"corpus: {info.works:,} works, {people:,} person records, "
        f"batches of {args.batch_size:,}; PostgreSQL {connection.pg_version // 10000}"
    )
    # The follows of a previous run would already be in the first sweep's inputs.
    Follow.objects.filter(user__username=BENCH_FOLLOWER).delete()
    if not args.keep_snapshots:
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {TrustSnapshot._meta.db_table}")
    # Count statements on every connection, the sweep's threads' included (the COPY of each
    # batch's snapshots bypasses this hook and is not counted).
    statements = [0]

    def count(execute, sql, params, many, context):
        statements[0] += 1
        return execute(sql, params, many, context)

    def wrap(sender, connection, **kwargs):
        connection.execute_wrappers.append(count)

    connection_created.connect(wrap)
    connection.execute_wrappers.append(count)
    failed = False
    for label, prepare, full in (
        ("first sweep (all written)", None, False),
        ("nightly, nothing changed", None, False),
        ("nightly, 1% changed", lambda: _add_followers(fraction=0.01), False),
        ("weekly full, no change", None, True),
    ):
        if prepare is not None:
            prepare()
        statements[0] = 0
        started = time.perf_counter()
        stats = trust.recompute_all(batch_size=args.batch_size, full=full)
        elapsed = time.perf_counter() - started
        failed |= elapsed > GOAL_SECONDS
        print(
            f"{label:>26}: {stats.records / elapsed:8,.0f} records/s  {elapsed:6.1f} s  "
            f"{statements[0]:5,} statements  {stats.written:7,} written  "
            f"{stats.unchanged:7,} unchanged"
        )
    rows = TrustSnapshot.objects.count()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_size_pretty(pg_total_relation_size(%s))", [TrustSnapshot._meta.db_table]
        )
        size = cursor.fetchone()[0]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"snapshots: {rows:,} rows, {size}; peak memory {peak_mb:,.0f} MB")
    assert AuthorRecord.objects.exists()
    print(f"goal (every record under {GOAL_SECONDS:.0f} s): {'FAILED' if failed else 'ok'}")
    return 1 if failed else 0


def _add_followers(*, fraction: float) -> None:
    """Give every 1/fraction-th record a follower with a verified email (bench accounts)."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model

    from profiles.models import Follow
    from works.models import AuthorRecord

    User = get_user_model()
    user, _ = User.objects.get_or_create(username=BENCH_FOLLOWER, email="f@bench.example")
    EmailAddress.objects.get_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    step = round(1 / fraction)
    ids = AuthorRecord.objects.people().live().order_by("id").values_list("id", flat=True)
    Follow.objects.bulk_create(
        [Follow(user=user, record_id=record_id) for record_id in list(ids)[::step]],
        ignore_conflicts=True,
    )


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        help="default: bzpeer_bench_trust on the server of DATABASE_URL (another name for "
        "other sizes, so a quick run never drops the full corpus)",
    )
    parser.add_argument("--works", type=int, default=DEFAULT_WORKS)
    parser.add_argument("--people", type=int, default=300_000)
    parser.add_argument("--prolific-works", type=int, default=2_000)
    parser.add_argument("--batch-size", type=int, default=2_000)
    parser.add_argument(
        "--keep-snapshots", action="store_true", help="do not empty the snapshot table first"
    )
    args = parser.parse_args()
    args.database_url = args.database_url or _default_database_url(args.works)
    return args


def _default_database_url(works: int) -> str:
    server = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/bzpeer"
    if not server.startswith(("postgres://", "postgresql://")):
        server = "postgres://postgres@127.0.0.1:5432/bzpeer"
    name = "bzpeer_bench_trust" if works == DEFAULT_WORKS else f"bzpeer_bench_trust_{works}"
    return urlunsplit(urlsplit(server)._replace(path=f"/{name}"))


if __name__ == "__main__":
    sys.exit(main())
