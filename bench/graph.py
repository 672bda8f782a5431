"""Benchmark the research graph: the slice and graph.json of a prolific researcher under load,
the cold build behind them, and ``manage.py rebuild_graph`` over a large corpus.

    python bench/graph.py [--database-url URL] [--duration 10] [--connections 8]
                          [--rebuild-database-url URL] [--rebuild-works 1000000]
                          [--skip-serve] [--skip-rebuild]

1. Builds or reuses the corpus of bench/dataset.py (100,000 works; ``bench-prolific`` has
   2,000 works, 5,000 co-authors and five 500-author papers) in ``bzpeer_bench``.
2. Cold builds, in this process: ``graph.ego.build_graph`` for the prolific researcher and for
   a researcher with one co-author, both sizes (inline slice, explorer), with their query counts.
   The query count must not depend on the researcher.
3. Under load: gunicorn with the real settings (DEBUG off; the cache is Redis when REDIS_URL is
   set, else each worker's local memory), then wrk on the slice (as htmx asks for it),
   graph.json and graph.json?size=inline. Goal: p99 under 100 ms.
4. ``rebuild_graph`` over a second corpus (default 1,000,000 works in ``bzpeer_bench_1m``):
   a first build into the empty edge table (the bulk load), then a rebuild over existing edges
   (compare and rewrite only what changed), and the incremental rebuild of the prolific
   researcher (what an import of their works triggers). Goal: under 5 minutes.

Results go to bench/.cache/graph.json; exits 1 when a goal fails. Needs wrk for step 3.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.dataset import ensure_dataset  # noqa: E402
from bench.profile_page import (  # noqa: E402
    HTMX,
    _free_port,
    _get,
    _measure,
    _start_gunicorn,
    _wait_until_up,
)

RESULTS = ROOT / "bench" / ".cache" / "graph.json"
GOAL_P99_MS = 100.0
GOAL_REBUILD_SECONDS = 300.0
COLD_RUNS = 5


def main() -> int:
    args = _arguments()
    results: dict = {"cpus": os.cpu_count()}
    ok = True
    if not args.skip_serve:
        info = ensure_dataset(args.database_url)
        results["serve_corpus"] = {"works": info.works, "people": info.people}
        results["cold"] = _cold_builds(args.database_url, info.prolific_slug)
        ok &= results["cold"]["same_query_count"]
        if shutil.which("wrk") is None:
            print("wrk is required for the load test: apt-get install -y wrk", file=sys.stderr)
            return 2
        results["load"] = _load(args, info.prolific_slug)
        ok &= all(row["p99_ms"] < GOAL_P99_MS for row in results["load"].values())
    if not args.skip_rebuild:
        rebuild_info = ensure_dataset(args.rebuild_database_url, works=args.rebuild_works)
        results["rebuild"] = _rebuilds(rebuild_info)
        ok &= all(
            results["rebuild"][key] < GOAL_REBUILD_SECONDS for key in ("first_build", "rebuild")
        )
    _report(results, args)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    return 0 if ok else 1


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=_bench_url("bzpeer_bench"))
    parser.add_argument("--rebuild-database-url", default=_bench_url("bzpeer_bench_1m"))
    parser.add_argument("--rebuild-works", type=int, default=1_000_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per URL")
    parser.add_argument("--connections", type=int, default=8, help="concurrent wrk connections")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 2, help="gunicorn sync workers"
    )
    parser.add_argument("--skip-serve", action="store_true", help="no cold builds, no load")
    parser.add_argument("--skip-rebuild", action="store_true", help="no rebuild_graph timing")
    return parser.parse_args()


def _bench_url(name: str) -> str:
    server = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/bzpeer"
    if not server.startswith(("postgres://", "postgresql://")):
        server = "postgres://postgres@127.0.0.1:5432/bzpeer"
    return urlunsplit(urlsplit(server)._replace(path=f"/{name}"))


def _cold_builds(database_url: str, prolific_slug: str) -> dict:
    """Build each graph uncached in this process: milliseconds (median) and queries."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault(
        "DJANGO_SECRET_KEY", "bench-only-secret-key-never-used-to-serve-real-people"
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bzpeer.settings")
    import django

    django.setup()
    from django.db import connection
    from django.db.models import Count
    from django.test.utils import CaptureQueriesContext

    from graph.ego import EXPLORER, INLINE, build_graph
    from graph.models import CollaborationEdge
    from works.models import AuthorRecord

    prolific = AuthorRecord.objects.get(slug=prolific_slug)
    # A researcher at the other end: a single co-author.
    single = AuthorRecord.objects.get(
        pk=CollaborationEdge.objects.values("author_id")
        .annotate(n=Count("id"))
        .filter(n=1)
        .values_list("author_id", flat=True)[:1][0]
    )
    rows = {}
    for record in (prolific, single):
        for limits in (INLINE, EXPLORER):
            timings, queries = [], None
            for _ in range(COLD_RUNS):
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    graph = build_graph(record, limits=limits)
                    timings.append((time.perf_counter() - started) * 1000)
                queries = len(captured.captured_queries)
            rows[f"{record.slug} {limits.name}"] = {
                "median_ms": round(statistics.median(timings), 1),
                "queries": queries,
                "nodes": len(graph["nodes"]),
                "edges": len(graph["edges"]),
            }
    counts = {row["queries"] for row in rows.values()}
    connection.close()
    return {"builds": rows, "same_query_count": len(counts) == 1}


def _load(args: argparse.Namespace, slug: str) -> dict:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    targets = {
        "slice": (f"/researchers/{slug}/graph/slice/", HTMX),
        "graph.json": (f"/researchers/{slug}/graph.json", {}),
        "graph.json inline": (f"/researchers/{slug}/graph.json?size=inline", {}),
    }
    server = _start_gunicorn(args, port)
    try:
        _wait_until_up(base + "/bench/trivial/")
        status, body = _get(base + targets["slice"][0], HTMX)
        if status != 200 or "<html" in body or "graph-svg" not in body:
            raise SystemExit(f"the slice is not the partial with its drawing ({status})")
        status, body = _get(base + targets["graph.json"][0])
        document = json.loads(body)
        if status != 200 or document.get("version") != 1 or len(document["nodes"]) < 50:
            raise SystemExit(f"graph.json is not the prolific researcher's graph ({status})")
        return _measure(base, targets, duration=args.duration, connections=args.connections)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def _manage(database_url: str, *arguments: str) -> str:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SECRET_KEY": os.environ.get(
            "DJANGO_SECRET_KEY", "bench-only-secret-key-never-used-to-serve-real-people"
        ),
        "DJANGO_SETTINGS_MODULE": "bzpeer.settings",
        "DJANGO_LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)
    env.pop("CELERY_BROKER_URL", None)
    completed = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *arguments],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return completed.stdout.strip()


def _timed(database_url: str, *arguments: str) -> tuple[float, str]:
    started = time.monotonic()
    output = _manage(database_url, *arguments)
    return time.monotonic() - started, output


def _rebuilds(info) -> dict:
    import psycopg

    with psycopg.connect(info.database_url, autocommit=True) as connection:
        connection.execute("TRUNCATE graph_collaborationedge")
        authorships = connection.execute("SELECT count(*) FROM works_authorship").fetchone()[0]
    first, first_output = _timed(info.database_url, "rebuild_graph", "--no-trust", "--no-progress")
    again, again_output = _timed(info.database_url, "rebuild_graph", "--no-trust", "--no-progress")
    one, one_output = _timed(
        info.database_url, "rebuild_graph", "--author", info.prolific_slug, "--no-trust"
    )
    with psycopg.connect(info.database_url, autocommit=True) as connection:
        edges = connection.execute("SELECT count(*) FROM graph_collaborationedge").fetchone()[0]
    return {
        "works": info.works,
        "people": info.people,
        "authorships": authorships,
        "edge_rows": edges,
        "first_build": round(first, 1),
        "first_build_output": first_output,
        "rebuild": round(again, 1),
        "rebuild_output": again_output,
        "one_researcher": round(one, 1),
        "one_researcher_output": one_output,
    }


def _report(results: dict, args: argparse.Namespace) -> None:
    print()
    cache = "Redis" if os.environ.get("REDIS_URL") else "local memory per worker"
    print(f"{results['cpus']} CPUs; cache: {cache}")
    if "cold" in results:
        print("cold builds (uncached, in-process, median of 5):")
        for name, row in results["cold"]["builds"].items():
            print(
                f"  {name:<28} {row['median_ms']:>7.1f} ms {row['queries']:>3} queries "
                f"{row['nodes']:>4} nodes {row['edges']:>5} edges"
            )
        same = results["cold"]["same_query_count"]
        print(f"  query count independent of the researcher: {'ok' if same else 'MISSED'}")
    if "load" in results:
        print(
            f"under load: gunicorn {args.workers} sync workers, wrk 1 thread "
            f"{args.connections} connections {args.duration}s per URL"
        )
        print(f"  {'URL':<20} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}")
        for name, row in results["load"].items():
            verdict = "ok" if row["p99_ms"] < GOAL_P99_MS else "MISSED"
            print(
                f"  {name:<20} {row['rps']:>9.1f} {row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f}"
                f"  (p99 goal < {GOAL_P99_MS:.0f} ms: {verdict})"
            )
    if "rebuild" in results:
        rebuild = results["rebuild"]
        print(
            f"rebuild_graph over {rebuild['works']:,} works, {rebuild['people']:,} people, "
            f"{rebuild['authorships']:,} authorships -> {rebuild['edge_rows']:,} edge rows:"
        )
        for key, label in (
            ("first_build", "first build (empty table)"),
            ("rebuild", "rebuild over existing edges"),
            ("one_researcher", "one prolific researcher"),
        ):
            goal = ""
            if key != "one_researcher":
                verdict = "ok" if rebuild[key] < GOAL_REBUILD_SECONDS else "MISSED"
                goal = f"  (goal < {GOAL_REBUILD_SECONDS:.0f} s: {verdict})"
            print(f"  {label:<30} {rebuild[key]:>7.1f} s{goal}")


if __name__ == "__main__":
    sys.exit(main())
