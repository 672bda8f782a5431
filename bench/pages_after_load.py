"""Benchmark the pages of a site that a first load built against the same site built record by
record, so that a first load is shown to leave nothing for the pages to pay for later.

    python bench/pages_after_load.py [--records 20000] [--duration 10] [--rounds 2]

The same synthetic snapshot as bench/import_snapshot.py (bench/data/snapshot-N.jsonl, made
when missing) goes into two fresh PostgreSQL databases through ``manage.py import_arxiv``, as an
operator runs it (no broker: what an import queues runs in the command's process):

* ``bzpeer_bench_pages_normal`` with ``--no-first-load``: batch by batch into indexed tables,
  people linked per batch, the way a day's harvest writes;
* ``bzpeer_bench_pages_first`` with ``--first-load``: bare tables, indexes and keys built at the
  end, then VACUUM (ANALYZE).

Then, for each database, what the planner and the heap hold (dead rows, tables never analyzed,
share of pages all-visible, size), and the pages under load with gunicorn (the real settings,
DEBUG off) and wrk, one URL after the other, for the record with the most works:

* its profile page for a visitor (the shared page) and for a signed-in visitor (rendered),
* its second page of works ("Show more") and its research-graph slice (htmx partials),
* a site search for a word of its latest title,
* a trivial view through the same middleware (the machine's own figure).

The databases take turns for ``--rounds`` rounds and each URL keeps its best round (the
shared profile page comes from each gunicorn worker's own cache: one round is noisy). The
last column compares: a first load keeps the figures when its requests per second stay within
noise of the record-by-record site's (a ratio near 1). The trivial view's own ratio shows how
much the machine drifted between the turns. Needs wrk.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.import_snapshot import (  # noqa: E402
    _child_environment,
    _drop_database,
    _fresh_database,
    generate,
    snapshot_path,
)
from bench.profile_page import (  # noqa: E402
    HTMX,
    _free_port,
    _get,
    _measure,
    _start_gunicorn,
    _wait_until_up,
)

# What bench/run_all.py (make bench) passes: a quick run, not the recorded one.
QUICK_ARGS = ["--records", "5000", "--duration", "5", "--rounds", "1"]
DATABASES = {
    "record by record": ("bzpeer_bench_pages_normal", "--no-first-load"),
    "first load": ("bzpeer_bench_pages_first", "--first-load"),
}
# A session cookie (even an unknown one) keeps a visitor off the shared pages: these URLs
# measure the rendering and its queries, not the cache.
SIGNED_IN = {"Cookie": "sessionid=bench-no-such-session"}
# What the profile's "Show more" asks for: the next twenty works, appended in place.
MORE_WORKS = {**HTMX, "HX-Target": "works-more"}
# The tables whose plans the pages depend on.
TABLES = (
    "works_work",
    "works_authorship",
    "works_authorrecord",
    "works_worktopic",
    "works_workversion",
    "graph_collaborationedge",
)


def main() -> int:
    args = _arguments()
    if shutil.which("wrk") is None:
        print("wrk is required: apt-get install -y wrk", file=sys.stderr)
        return 2
    path = snapshot_path(args.records)
    if not path.exists():
        generate(path, args.records)
        print(f"generated {path.relative_to(ROOT)}: {args.records:,} records")
    loaded = {}
    for label, (name, flag) in DATABASES.items():
        url = _url(args.server, name)
        if args.reuse_databases and _holds_works(url):
            print(f"{label}: reusing {name}")
        else:
            url = _load(path, args.server, name, flag, label)
        loaded[label] = url
    slug, word = _busiest_record(loaded["first load"])
    print(f"the record with the most works: {slug}; search word: {word!r}")
    targets = {
        "profile": (f"/researchers/{slug}/", {}),
        "profile signed in": (f"/researchers/{slug}/", SIGNED_IN),
        "works, page 2": (f"/researchers/{slug}/?page=2", {**MORE_WORKS, **SIGNED_IN}),
        "graph slice": (f"/researchers/{slug}/graph/slice/", {**HTMX, **SIGNED_IN}),
        "search": (f"/search/?q={quote(word)}", SIGNED_IN),
        "trivial": ("/bench/trivial/", {}),
    }
    heaps = {label: _heap(url) for label, url in loaded.items()}
    # The databases take turns, round after round; each URL keeps its best round.
    figures = {label: {} for label in loaded}
    for _ in range(args.rounds):
        for label, url in loaded.items():
            for name, row in _serve(url, targets, args).items():
                best = figures[label].get(name)
                if best is None or row["rps"] > best["rps"]:
                    figures[label][name] = row
    _report(heaps, figures, args)
    if not args.keep_databases:
        for url in loaded.values():
            _drop_database(url)
    return 0


def _load(path: Path, server: str, name: str, flag: str, label: str) -> str:
    url = _fresh_database(server, name)
    started = time.perf_counter()
    load = subprocess.run(
        [sys.executable, "manage.py", "import_arxiv", str(path), flag, "--quiet-errors"],
        cwd=ROOT,
        env=_child_environment(url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Without a broker the tasks an import queues run in its process, each logging a line.
    for line in load.stderr.splitlines():
        if not line.startswith("Task "):
            print(f"  {line}")
    if load.returncode:
        raise SystemExit(f"{label}: the import failed ({load.returncode})")
    seconds = time.perf_counter() - started
    print(f"{label}: loaded {path.name} in {seconds:.0f} s", flush=True)
    return url


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per URL")
    parser.add_argument("--connections", type=int, default=8, help="concurrent wrk connections")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument(
        "--rounds", type=int, default=2, help="turns per database; each URL keeps its best"
    )
    parser.add_argument(
        "--server",
        default=os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres",
        help="the PostgreSQL server to create the two databases on (default: DATABASE_URL's)",
    )
    parser.add_argument("--keep-databases", action="store_true")
    parser.add_argument(
        "--reuse-databases",
        action="store_true",
        help="serve the databases a run with --keep-databases left, without loading again",
    )
    return parser.parse_args()


def _url(server: str, name: str) -> str:
    return urlunsplit(urlsplit(server)._replace(path=f"/{name}"))


def _holds_works(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(url) as connection:
            return bool(connection.execute("SELECT EXISTS (SELECT FROM works_work)").fetchone()[0])
    except psycopg.Error:
        return False


def _busiest_record(url: str) -> tuple[str, str]:
    """The slug of the record with the most works, and the longest word of its latest title."""
    import psycopg

    with psycopg.connect(url) as connection:
        slug, record_id = connection.execute(
            "SELECT slug, id FROM works_authorrecord ORDER BY work_count DESC, id LIMIT 1"
        ).fetchone()
        (title,) = connection.execute(
            "SELECT w.title FROM works_work w JOIN works_authorship a ON a.work_id = w.id "
            "WHERE a.author_id = %s ORDER BY w.submitted DESC, w.id LIMIT 1",
            [record_id],
        ).fetchone()
    return slug, max(title.split(), key=len).lower()


def _heap(url: str) -> dict:
    """Dead rows, tables never analyzed, the share of pages all-visible, the database's size."""
    import psycopg

    with psycopg.connect(url) as connection:
        dead, live, unanalyzed = connection.execute(
            "SELECT sum(n_dead_tup), sum(n_live_tup), "
            "count(*) FILTER (WHERE n_live_tup > 0 AND last_analyze IS NULL "
            "AND last_autoanalyze IS NULL) FROM pg_stat_user_tables"
        ).fetchone()
        pages, visible = connection.execute(
            "SELECT sum(relpages), sum(relallvisible) FROM pg_class "
            "WHERE relname = ANY(%s) AND relkind = 'r'",
            [list(TABLES)],
        ).fetchone()
        (size,) = connection.execute("SELECT pg_database_size(current_database())").fetchone()
    return {
        "dead": int(dead or 0),
        "live": int(live or 0),
        "unanalyzed": unanalyzed,
        "visible": (visible or 0) / pages if pages else 0.0,
        "size_mb": size / 1e6,
    }


def _serve(url: str, targets: dict, args: argparse.Namespace) -> dict:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = _start_gunicorn(SimpleNamespace(database_url=url, workers=args.workers), port)
    try:
        _wait_until_up(base + targets["trivial"][0])
        for name, (path, headers) in targets.items():
            status, body = _get(base + path, headers)
            empty = (name == "search" and '<li class="work work--compact">' not in body) or (
                name.startswith("works") and '<li class="work">' not in body
            )
            if status != 200 or empty:
                raise SystemExit(f"{name}: {path} answered {status} or showed nothing")
        return _measure(base, targets, duration=args.duration, connections=args.connections)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def _report(heaps: dict, figures: dict, args: argparse.Namespace) -> None:
    normal, first = "record by record", "first load"
    print()
    print(
        f"{args.records:,} records; gunicorn {args.workers} sync workers, wrk 1 thread "
        f"{args.connections} connections {args.duration} s per URL, best of {args.rounds} "
        f"rounds, {os.cpu_count()} CPUs"
    )
    print(f"{'heap':<22}{normal:>18}{first:>14}")
    for key, label in (
        ("live", "live rows"),
        ("dead", "dead rows"),
        ("unanalyzed", "tables not analyzed"),
        ("visible", "pages all-visible"),
        ("size_mb", "database MB"),
    ):
        a, b = heaps[normal][key], heaps[first][key]
        shown = (f"{a:.0%}", f"{b:.0%}") if key == "visible" else (f"{a:,.0f}", f"{b:,.0f}")
        print(f"{label:<22}{shown[0]:>18}{shown[1]:>14}")
    print()
    print(f"{'URL':<20}{'req/s':>10}{'p99 ms':>8}{'req/s':>10}{'p99 ms':>8}{'ratio':>8}")
    print(f"{'':<20}{normal:>18}{first:>18}")
    for name in figures[first]:
        a, b = figures[normal][name], figures[first][name]
        print(
            f"{name:<20}{a['rps']:>10.1f}{a['p99_ms']:>8.1f}{b['rps']:>10.1f}{b['p99_ms']:>8.1f}"
            f"{b['rps'] / a['rps']:>8.2f}"
        )
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    sys.exit(main())
