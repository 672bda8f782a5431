"""Benchmark the profile page of a prolific researcher against a trivial view.

    python bench/profile_page.py [--database-url URL] [--duration 15] [--connections 8]

Builds or reuses the synthetic corpus of bench/dataset.py (100,000 works; a researcher
with 2,000 works, 5,000 co-authors and five 500-author papers) in a PostgreSQL database
(default ``bzpeer_bench`` on the server of DATABASE_URL, else 127.0.0.1), starts gunicorn
on 127.0.0.1 with the real settings (DEBUG off) and measures, one after the other with
wrk, three URLs:

* the prolific researcher's profile page (``/researchers/bench-prolific/``), as a visitor
  without a session sees it (the shared page: with REDIS_URL set, served from the worker's
  memory without a query; with the local-memory cache, after one query comparing the
  record), and again with a session cookie (rendered for the visitor, the works list from
  its cache),
* its research-graph slice (the htmx partial the page loads after first paint),
* a trivial view through the same middleware (``/bench/trivial/``, bench/web_urls.py).

Prints requests per second, p50 and p99 latency for each, the ratio profile/trivial,
and whether the goals hold: profile throughput at least half the trivial view's, profile
p99 under 100 ms. Exits 1 when a goal fails. Needs wrk (``apt-get install -y wrk``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.dataset import ensure_dataset  # noqa: E402

RESULTS = ROOT / "bench" / ".cache" / "profile_page.json"
GOAL_RATIO = 0.5
GOAL_P99_MS = 100.0
WARMUP_REQUESTS = 30


def main() -> int:
    args = _arguments()
    if shutil.which("wrk") is None:
        print("wrk is required: apt-get install -y wrk", file=sys.stderr)
        return 2
    info = ensure_dataset(
        args.database_url,
        works=args.works,
        prolific_works=args.prolific_works,
        prolific_coauthors=args.prolific_coauthors,
    )
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    targets = {
        "profile": f"/researchers/{info.prolific_slug}/",
        "profile+session": f"/researchers/{info.prolific_slug}/",
        "slice": f"/researchers/{info.prolific_slug}/graph/slice/",
        "trivial": "/bench/trivial/",
    }
    server = _start_gunicorn(args, port)
    try:
        _wait_until_up(base + targets["trivial"])
        _check_pages(base, targets, info.prolific_works)
        headers = {
            "profile": {},
            # A session cookie (even an unknown one) keeps the visitor off the shared page:
            # this is the rendering path, with the works cache warm.
            "profile+session": {"Cookie": "sessionid=bench-no-such-session"},
            "slice": HTMX,
            "trivial": {},
        }
        results = _measure(
            base,
            {name: (path, headers[name]) for name, path in targets.items()},
            duration=args.duration,
            connections=args.connections,
        )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    ratio = results["profile"]["rps"] / results["trivial"]["rps"]
    _report(results, ratio, args, info)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"results": results, "ratio": ratio}, indent=2))
    ok = ratio >= GOAL_RATIO and results["profile"]["p99_ms"] < GOAL_P99_MS
    return 0 if ok else 1


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=_default_database_url())
    parser.add_argument("--works", type=int, default=100_000)
    parser.add_argument("--prolific-works", type=int, default=2_000)
    parser.add_argument("--prolific-coauthors", type=int, default=5_000)
    parser.add_argument("--duration", type=int, default=15, help="seconds per URL")
    parser.add_argument("--connections", type=int, default=8, help="concurrent wrk connections")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 2, help="gunicorn sync workers"
    )
    return parser.parse_args()


def _default_database_url() -> str:
    server = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/bzpeer"
    if not server.startswith(("postgres://", "postgresql://")):
        server = "postgres://postgres@127.0.0.1:5432/bzpeer"
    return urlunsplit(urlsplit(server)._replace(path="/bzpeer_bench"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start_gunicorn(args: argparse.Namespace, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "DJANGO_SETTINGS_MODULE": "bench.web_settings",
        "DJANGO_DEBUG": "0",
    }
    # The embedded defaults (local-memory cache per worker, no broker) unless the caller
    # points REDIS_URL at a server: the page must be fast without one, and is served without
    # any query with one (profiles/page_cache.py; bench/load.py measures that setup).
    command = [
        sys.executable, "-m", "gunicorn", "bzpeer.wsgi:application",
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(args.workers),
        "--log-level", "warning",
        "--chdir", str(ROOT),
    ]  # fmt: skip
    return subprocess.Popen(command, env=env, cwd=ROOT)


# htmx sends this header; without it the slice's URL serves a whole page (the no-JS path).
HTMX = {"HX-Request": "true"}


def _get(url: str, headers: dict | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, response.read().decode()


def _wait_until_up(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            _get(url)
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer on {url}")


def _check_pages(base: str, targets: dict[str, str], prolific_works: int) -> None:
    """Measure the real pages, not an error page: fail loudly if they are wrong."""
    status, profile = _get(base + targets["profile"])
    if status != 200 or f"{prolific_works} published item(s)" not in profile:
        raise SystemExit(f"the profile page is not the prolific researcher's ({status})")
    if profile.count('<li class="work">') != 20 or "work__more-authors" not in profile:
        raise SystemExit("the profile page does not show 20 works with shortened author lists")
    status, graph_slice = _get(base + targets["slice"], HTMX)
    if status != 200 or "<html" in graph_slice:
        raise SystemExit(f"the graph slice is not a partial ({status})")


def _measure(
    base: str, targets: dict[str, tuple[str, dict]], *, duration: int, connections: int
) -> dict[str, dict]:
    """Each URL (path, headers) warmed up, then measured with wrk one after the other."""
    for path, headers in targets.values():
        for _ in range(WARMUP_REQUESTS):
            _get(base + path, headers)
    return {
        name: _wrk(base + path, headers=headers, duration=duration, connections=connections)
        for name, (path, headers) in targets.items()
    }


_LATENCY_RE = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_RPS_RE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_ERRORS_RE = re.compile(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.+)")
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _wrk(url: str, *, headers: dict, duration: int, connections: int) -> dict:
    header_args = [arg for name, value in headers.items() for arg in ("-H", f"{name}: {value}")]
    output = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", *header_args, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    latencies = {p: float(v) * _UNIT_MS[u] for p, v, u in _LATENCY_RE.findall(output)}
    errors = _ERRORS_RE.search(output)
    if errors:
        raise SystemExit(f"wrk saw errors on {url}:\n{output}")
    return {
        "rps": float(_RPS_RE.search(output).group(1)),
        "p50_ms": latencies["50"],
        "p99_ms": latencies["99"],
    }


def _report(results: dict, ratio: float, args: argparse.Namespace, info) -> None:
    print()
    print(
        f"{info.works:,} works; profile of a researcher with {info.prolific_works:,} works and "
        f"{info.prolific_coauthors:,} co-authors; gunicorn {args.workers} sync workers, "
        f"wrk 1 thread {args.connections} connections {args.duration}s per URL, "
        f"{os.cpu_count()} CPUs"
    )
    print(f"{'URL':<16} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}")
    for name, row in results.items():
        print(f"{name:<16} {row['rps']:>9.1f} {row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f}")
    verdict = "ok" if ratio >= GOAL_RATIO else "MISSED"
    p99 = results["profile"]["p99_ms"]
    print(f"profile/trivial throughput: {ratio:.2f} (goal >= {GOAL_RATIO}: {verdict})")
    print(
        f"profile p99: {p99:.1f} ms "
        f"(goal < {GOAL_P99_MS:.0f} ms: {'ok' if p99 < GOAL_P99_MS else 'MISSED'})"
    )


if __name__ == "__main__":
    sys.exit(main())
