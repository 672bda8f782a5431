"""Benchmark the read API's researcher detail under the profile page benchmark's conditions.

    python bench/api.py [--database-url URL] [--duration 15] [--connections 8] [--workers N]

The same corpus (bench/dataset.py: 100,000 works; "Prolific Researcher" with 2,000 works,
5,000 co-authors, five 500-author papers and a trust snapshot whose evidence weighs over a
megabyte), the same server (gunicorn, sync workers, one per CPU, real settings, DEBUG off,
local-memory cache unless REDIS_URL is set) and the same load (wrk, 1 thread, 8 connections)
as bench/profile_page.py, on four URLs one after the other:

* ``researcher``: ``/api/v1/researchers/bench-prolific``, the detail every client gets first;
* ``researcher 304``: the same with the ``If-None-Match`` of the first answer (a client that
  revalidates its copy);
* ``works``: ``/api/v1/researchers/bench-prolific/works?limit=20``, the first page of works;
* ``trivial``: ``/bench/trivial/`` (bench/web_urls.py), the middleware stack alone.

The rate limit is raised for the run (API_RATE_LIMIT) so that it is counted, not hit. Before
measuring, the script checks the answers are the real ones (the detail's trust score, 20
works) and times one uncached detail in-process. Prints requests per second, p50 and p99 for
each and exits 1 when the researcher detail's p99 is 50 ms or more. Needs wrk.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.dataset import ensure_dataset  # noqa: E402
from bench.profile_page import (  # noqa: E402
    WARMUP_REQUESTS,
    _default_database_url,
    _free_port,
    _wait_until_up,
    _wrk,
)

RESULTS = ROOT / "bench" / ".cache" / "api.json"
GOAL_P99_MS = 50.0
QUICK_ARGS = ["--duration", "10"]


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
    cold_ms = _uncached_detail_ms(args.database_url, info.prolific_slug)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    detail = f"/api/v1/researchers/{info.prolific_slug}"
    targets = {
        "researcher": detail,
        "researcher 304": detail,
        "works": f"{detail}/works?limit=20",
        "trivial": "/bench/trivial/",
    }
    server = _start_gunicorn(args, port)
    try:
        _wait_until_up(base + targets["trivial"])
        etag = _check_answers(base, targets, info.prolific_works)
        headers = {name: {} for name in targets} | {"researcher 304": {"If-None-Match": etag}}
        for name, path in targets.items():
            for _ in range(WARMUP_REQUESTS):
                _get(base + path, headers[name])
        results = {
            name: _wrk(
                base + path,
                headers=headers[name],
                duration=args.duration,
                connections=args.connections,
            )
            for name, path in targets.items()
        }
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    _report(results, cold_ms, args, info)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"results": results, "cold_ms": cold_ms}, indent=2))
    return 0 if results["researcher"]["p99_ms"] < GOAL_P99_MS else 1


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


def _environment(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "bench.web_settings",
        "DJANGO_DEBUG": "0",
        # wrk sends every request from 127.0.0.1: the limit is counted on each one, never hit.
        "API_RATE_LIMIT": "100000000/m",
    }


def _start_gunicorn(args: argparse.Namespace, port: int) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "gunicorn", "bzpeer.wsgi:application",
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(args.workers),
        "--log-level", "warning",
        "--chdir", str(ROOT),
    ]  # fmt: skip
    return subprocess.Popen(command, env=_environment(args.database_url), cwd=ROOT)


def _uncached_detail_ms(database_url: str, slug: str) -> float:
    """The detail built from scratch (empty cache), in a child process, after one request to
    another URL has paid the process's first-request costs: the median of five misses."""
    code = (
        "import statistics, time, django; django.setup();"
        "from django.core.cache import cache; from django.test import Client;"
        "client = Client();"
        f"assert client.get('/api/v1/researchers/{slug}/works?limit=1').status_code == 200;"
        "timings = []\n"
        "for _ in range(5):\n"
        "    cache.clear(); started = time.perf_counter();"
        f"    response = client.get('/api/v1/researchers/{slug}');"
        "    timings.append((time.perf_counter() - started) * 1000);"
        "    assert response.status_code == 200, response.status_code\n"
        "print(statistics.median(timings))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code],
        env=_environment(database_url) | {"DJANGO_ALLOWED_HOSTS": "testserver"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(output.strip().splitlines()[-1])


def _get(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:  # a 304 arrives as an "error"
        return error.code, dict(error.headers), b""


def _check_answers(base: str, targets: dict[str, str], prolific_works: int) -> str:
    """Measure the real answers, not errors: fail loudly if they are wrong; the detail's ETag."""
    status, headers, body = _get(base + targets["researcher"])
    detail = json.loads(body) if status == 200 else {}
    if detail.get("counts", {}).get("works") != prolific_works or not detail.get("trust"):
        raise SystemExit(f"the researcher detail is not the prolific researcher's ({status})")
    status, _, _ = _get(base + targets["researcher"], {"If-None-Match": headers["ETag"]})
    if status != 304:
        raise SystemExit(f"revalidating the detail answered {status}, not 304")
    status, _, body = _get(base + targets["works"])
    if status != 200 or len(json.loads(body)["items"]) != 20:
        raise SystemExit(f"the works page does not list 20 works ({status})")
    return headers["ETag"]


def _report(results: dict, cold_ms: float, args: argparse.Namespace, info) -> None:
    print()
    print(
        f"{info.works:,} works; researcher with {info.prolific_works:,} works and "
        f"{info.prolific_coauthors:,} co-authors; gunicorn {args.workers} sync workers, "
        f"wrk 1 thread {args.connections} connections {args.duration}s per URL, "
        f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{'URL':<16} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}")
    for name, row in results.items():
        print(f"{name:<16} {row['rps']:>9.1f} {row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f}")
    p99 = results["researcher"]["p99_ms"]
    print(f"uncached detail (in-process, empty cache, median of 5): {cold_ms:.1f} ms")
    print(
        f"researcher detail p99: {p99:.1f} ms "
        f"(goal < {GOAL_P99_MS:.0f} ms: {'ok' if p99 < GOAL_P99_MS else 'MISSED'})"
    )


if __name__ == "__main__":
    sys.exit(main())
