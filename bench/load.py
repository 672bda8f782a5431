"""Load test: a mix of pages and signed-in writes, 64 connections for 60 s, and the cached
profile page against a trivial view in the same run.

    python bench/load.py [--database-url URL] [--redis-url URL] [--duration 60]
                         [--connections 64] [--ratio-duration 15] [--workers N]
                         [--threads N]

Builds or reuses the synthetic corpus of bench/dataset.py (default database
``bzpeer_bench`` on the server of DATABASE_URL), prepares signed-in accounts (users, their
sessions and a CSRF token, made directly in the database before the run), starts gunicorn on
127.0.0.1 with the real settings (DEBUG off, PostgreSQL, Redis as cache and broker; no Celery
worker: queued trust recomputes wait in Redis) and checks that every URL answers the real page.

Phase 1, the mix: one wrk process per kind of request, all at once, the connections shared
between them by weight (``MIX``), each cycling through its own list of requests:

* ``profile-2000``: the 2,000-work researcher's profile as a visitor without a session,
* ``profile``: forty ordinary researchers' profiles, the same way (the first twenty are the
  ones being followed and unfollowed, so their stored pages keep being replaced),
* ``search``: site search for a rotation of words and a name,
* ``slice``: the research-graph slice as htmx asks for it,
* ``work``: a rotation of work pages,
* ``follow``: signed-in htmx POSTs, follow then unfollow, across 500 accounts (each stays
  under the 30-a-minute follow limit) and the twenty records.

Each gunicorn worker's resident memory is sampled at the start, the middle and the end.

Phase 2, throughput: wrk on the 2,000-work researcher's profile (no session: the stored page,
no query) and on the trivial view (bench/web_urls.py), one after the other in three
alternating rounds; PostgreSQL's transaction counter says how many queries phase 2 cost.

Prints per kind requests, req/s, socket errors, non-2xx/3xx answers, p50 and p99, the
workers' memory and the throughput ratio, and exits 1 when a goal is missed: no errors and
no 5xx (every answer 2xx/3xx), p99 under 100 ms for every anonymous kind, each worker's memory
flat over the second half of the run (``FLAT_MB``), profile/trivial at least 0.5.
Needs wrk (``apt-get install -y wrk``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.dataset import ensure_dataset  # noqa: E402
from bench.profile_page import (  # noqa: E402
    _LATENCY_RE,
    _UNIT_MS,
    _default_database_url,
    _free_port,
    _wait_until_up,
)

RESULTS = ROOT / "bench" / ".cache" / "load.json"
GOAL_P99_MS = 100.0
GOAL_RATIO = 0.5
# A worker's memory may move this much over the second half of the run and still be flat:
# the allocator's arenas settle in steps of a few hundred KB.
FLAT_MB = 5.0
# Connections per kind, out of every 64 (the mix of a site read far more than written).
MIX = {"profile-2000": 12, "profile": 20, "search": 6, "slice": 8, "work": 12, "follow": 6}
ANONYMOUS = ("profile-2000", "profile", "search", "slice", "work")
ORDINARY_PROFILES = 40
FOLLOWED = 20
ACCOUNTS = 500
WORK_PAGES = 200
SEARCHES = [
    "quantum gauge theory",
    "prompt tuning",
    "black hole",
    "graph neural network",
    "Prolific Researcher",
    "stochastic process",
    "dark matter galaxy",
    "reinforcement learning agent",
]
ACCOUNT_PREFIX = "bench-load-"
THROUGHPUT_ROUNDS = 3
HTMX = {"HX-Request": "true"}


def main() -> int:
    args = _arguments()
    if shutil.which("wrk") is None:
        print("wrk is required: apt-get install -y wrk", file=sys.stderr)
        return 2
    info = ensure_dataset(args.database_url)
    accounts = _prepare_accounts(args)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    plans = _plans(info.prolific_slug, accounts)
    server = _start_gunicorn(args, port)
    try:
        _wait_until_up(base + "/bench/trivial/")
        _check_and_warm(base, plans, accounts)
        workers = _worker_pids(server.pid, args.workers)
        mix, memory = _run_mix(base, plans, args, workers)
        if _worker_pids(server.pid, args.workers) != workers:
            raise SystemExit("a gunicorn worker was replaced during the run (crash or timeout)")
        throughput = _run_throughput(base, info.prolific_slug, args)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    goals = _goals(mix, memory, throughput)
    _report(args, mix, memory, throughput, goals)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {"mix": mix, "memory_mb": memory, "throughput": throughput, "goals": goals}, indent=2
        )
    )
    return 0 if all(met for met, _ in goals.values()) else 1


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=_default_database_url())
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    )
    parser.add_argument("--duration", type=int, default=60, help="seconds of the mix")
    parser.add_argument("--connections", type=int, default=64, help="concurrent connections")
    parser.add_argument(
        "--ratio-duration", type=int, default=15, help="seconds per URL of phase 2, all rounds"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=(os.cpu_count() or 2) + 1,
        # One more than the cores (docker-compose.yml runs 3 on 2): a worker waiting for a
        # commit's fsync (4 ms here, every follow) would otherwise leave a core idle.
        help="gunicorn workers (default: CPUs + 1)",
    )
    parser.add_argument(
        "--threads", type=int, default=1, help="threads per worker (gthread above 1)"
    )
    return parser.parse_args()


# --- Preparation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    session_key: str
    csrf_token: str


def _prepare_accounts(args: argparse.Namespace) -> list[Account]:
    """Signed-in accounts for the follow POSTs: users, sessions, CSRF tokens, no follows left
    from an earlier run (their counters recounted)."""
    os.environ.update(
        DATABASE_URL=args.database_url,
        REDIS_URL=args.redis_url,
        DJANGO_SETTINGS_MODULE="bench.web_settings",
        DJANGO_DEBUG="0",
    )
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.sessions.backends.db import SessionStore
    from django.middleware.csrf import _get_new_csrf_string

    from profiles.follows import recount_followers
    from profiles.models import Follow

    user_model = get_user_model()
    names = [f"{ACCOUNT_PREFIX}{n:03d}" for n in range(ACCOUNTS)]
    existing = set(user_model.objects.filter(username__in=names).values_list("username", flat=True))
    user_model.objects.bulk_create(
        [
            user_model(username=name, email=f"{name}@bench.invalid", password="!")
            for name in names
            if name not in existing
        ]
    )
    users = list(user_model.objects.filter(username__in=names).order_by("username"))
    left = Follow.objects.filter(user__in=users)
    followed = list(left.values_list("record_id", flat=True).distinct())
    left.delete()
    recount_followers(followed)
    accounts = []
    for user in users:
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        # The unmasked secret is a valid token too: the same value in cookie and header.
        accounts.append(Account(session.session_key, _get_new_csrf_string()))
    return accounts


@dataclass
class Plan:
    """One kind of request: its wrk connections' requests, cycled in order."""

    requests: list[tuple[str, str, dict]]  # method, path, headers


def _plans(prolific_slug: str, accounts: list[Account]) -> dict[str, Plan]:
    people = [f"bench-p-{n}" for n in range(1, ORDINARY_PROFILES + 1)]
    follow_requests = []
    for pair in range(len(accounts) * FOLLOWED):
        account, slug = accounts[pair % len(accounts)], people[(pair // len(accounts)) % FOLLOWED]
        headers = {
            **HTMX,
            "Cookie": f"sessionid={account.session_key}; csrftoken={account.csrf_token}",
            "X-CSRFToken": account.csrf_token,
        }
        for action in ("follow", "unfollow"):
            follow_requests.append(("POST", f"/researchers/{slug}/{action}/", headers))
    return {
        "profile-2000": Plan([("GET", f"/researchers/{prolific_slug}/", {})]),
        "profile": Plan([("GET", f"/researchers/{slug}/", {}) for slug in people]),
        "search": Plan([("GET", f"/search/?q={quote(q)}", {}) for q in SEARCHES]),
        "slice": Plan(
            [
                ("GET", f"/researchers/{slug}/graph/slice/", HTMX)
                for slug in [prolific_slug, *people[:10]]
            ]
        ),
        "work": Plan(
            [("GET", f"/works/bench.{n:07d}/", {}) for n in range(1, WORK_PAGES * 50, 50)]
        ),
        "follow": Plan(follow_requests),
    }


def _start_gunicorn(args: argparse.Namespace, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "DJANGO_SETTINGS_MODULE": "bench.web_settings",
        "DJANGO_DEBUG": "0",
    }
    command = [
        sys.executable, "-m", "gunicorn", "bzpeer.wsgi:application",
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(args.workers),
        *(["--worker-class", "gthread", "--threads", str(args.threads)] * (args.threads > 1)),
        "--log-level", "warning",
        "--chdir", str(ROOT),
    ]  # fmt: skip
    return subprocess.Popen(command, env=env, cwd=ROOT)


def _request(base: str, method: str, path: str, headers: dict) -> tuple[int, str]:
    request = urllib.request.Request(base + path, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _check_and_warm(base: str, plans: dict[str, Plan], accounts: list[Account]) -> None:
    """Measure the real pages, not error pages; and render each once, as a live site has."""
    expectations = {
        "profile-2000": "2000 published item(s)",
        "profile": "published item(s)",
        "search": "Prolific Researcher",
        "slice": "<svg",
        "work": "<h1",
    }
    for kind, plan in plans.items():
        if kind == "follow":
            continue
        for method, path, headers in plan.requests:
            status, body = _request(base, method, path, headers)
            if status != 200:
                raise SystemExit(f"{kind}: {path} answered {status}")
        if expectations[kind] not in body and kind != "search":
            raise SystemExit(f"{kind}: {path} is not the expected page")
    status, body = _request(base, "GET", "/search/?q=Prolific%20Researcher", {})
    if expectations["search"] not in body:
        raise SystemExit("search does not find the prolific researcher")
    for method, path, headers in plans["follow"].requests[:2]:
        status, body = _request(base, method, path, headers)
        if status != 200 or "follow" not in body.lower():
            raise SystemExit(f"follow: {path} answered {status}, not the follow panel")


# --- Phase 1: the mix ----------------------------------------------------------------------


def _connections_per_kind(total: int) -> dict[str, int]:
    weight = sum(MIX.values())
    shares = {kind: max(1, round(total * w / weight)) for kind, w in MIX.items()}
    # Rounding may leave a connection over or short: the largest kind takes the difference.
    largest = max(shares, key=shares.get)
    shares[largest] += total - sum(shares.values())
    return shares


def _lua(plan: Plan) -> str:
    """A wrk script cycling through the plan's requests, formatted once in init."""
    lines = ["local requests = {}", "local n = 0", "init = function(args)"]
    for method, path, headers in plan.requests:
        table = ", ".join(f"[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items())
        lines.append(
            f"  requests[#requests + 1] = wrk.format({json.dumps(method)}, {json.dumps(path)}, "
            f"{{{table}}}, nil)"
        )
    lines += [
        "end",
        "request = function()",
        "  n = n + 1",
        "  return requests[(n - 1) % #requests + 1]",
        "end",
    ]
    return "\n".join(lines) + "\n"


def _run_mix(
    base: str, plans: dict[str, Plan], args: argparse.Namespace, workers: list[int]
) -> tuple[dict, dict]:
    shares = _connections_per_kind(args.connections)
    memory: dict[int, dict[str, float]] = {pid: {} for pid in workers}
    with tempfile.TemporaryDirectory(prefix="bzpeer-load-") as folder:
        running = {}
        for kind, plan in plans.items():
            script = Path(folder) / f"{kind}.lua"
            script.write_text(_lua(plan))
            command = ["wrk", "-t1", f"-c{shares[kind]}", f"-d{args.duration}s", "--latency"]
            command += ["--timeout", "5s", "-s", str(script), base]
            running[kind] = subprocess.Popen(
                command,
                stdout=subprocess.PIPE,
                text=True,
            )
        sampler = threading.Thread(
            target=_sample_memory, args=(workers, memory, args.duration), daemon=True
        )
        sampler.start()
        outputs = {kind: process.communicate()[0] for kind, process in running.items()}
        sampler.join()
    mix = {
        kind: {**_parse_wrk(output), "connections": shares[kind]}
        for kind, output in outputs.items()
    }
    return mix, {str(pid): samples for pid, samples in memory.items()}


def _worker_pids(master: int, expected: int) -> list[int]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if len(children) == expected:
            return sorted(int(pid) for pid in children)
        time.sleep(0.2)
    raise SystemExit(f"gunicorn has not started its {expected} workers")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise SystemExit(f"no VmRSS for {pid}")


def _sample_memory(workers: list[int], memory: dict, duration: int) -> None:
    """Start (once the connections are open), middle and end, plus every ten seconds in
    ``series`` (kept in the results file: a slow climb shows there)."""
    started = time.monotonic()
    marks = {1.0: "start", duration / 2: "middle", duration - 1.0: "end"}
    moments = sorted({*marks, *range(10, duration - 1, 10)})
    for at in moments:
        time.sleep(max(0.0, started + at - time.monotonic()))
        for pid in workers:
            rss = round(_rss_mb(pid), 1)
            memory[pid].setdefault("series", []).append(rss)
            if at in marks:
                memory[pid][marks[at]] = rss


_REQUESTS_RE = re.compile(r"^\s*(\d+) requests in ([\d.]+)(m|s)", re.MULTILINE)
_RPS_RE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_SOCKET_RE = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_NON_2XX_RE = re.compile(r"Non-2xx or 3xx responses: (\d+)")


def _parse_wrk(output: str) -> dict:
    latencies = {p: float(v) * _UNIT_MS[u] for p, v, u in _LATENCY_RE.findall(output)}
    socket_errors = _SOCKET_RE.search(output)
    non_2xx = _NON_2XX_RE.search(output)
    return {
        "requests": int(_REQUESTS_RE.search(output).group(1)),
        "rps": float(_RPS_RE.search(output).group(1)),
        "errors": sum(int(n) for n in socket_errors.groups()) if socket_errors else 0,
        "non_2xx_3xx": int(non_2xx.group(1)) if non_2xx else 0,
        "p50_ms": latencies["50"],
        "p99_ms": latencies["99"],
    }


# --- Phase 2: the stored profile page against the trivial view -----------------------------


def _transactions(database_url: str) -> int:
    with psycopg.connect(database_url, autocommit=True) as connection:
        return connection.execute(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s",
            [urlsplit(database_url).path.lstrip("/")],
        ).fetchone()[0]


def _run_throughput(base: str, prolific_slug: str, args: argparse.Namespace) -> dict:
    """The stored profile page, then the trivial view, in ``THROUGHPUT_ROUNDS`` alternating
    rounds: the other engineers' jobs on this machine come in bursts, and one long run of
    each would compare two different machines."""
    urls = {"profile": f"/researchers/{prolific_slug}/", "trivial": "/bench/trivial/"}
    seconds = max(1, round(args.ratio_duration / THROUGHPUT_ROUNDS))
    rounds = {kind: [] for kind in urls}
    # A backend reports its transactions to pg_stat_database within about ten seconds of
    # its last one (PGSTAT_IDLE_INTERVAL): let the mix's land before counting.
    time.sleep(11)
    before = _transactions(args.database_url)
    for _ in range(THROUGHPUT_ROUNDS):
        for kind, path in urls.items():
            command = ["wrk", "-t1", f"-c{args.connections}", f"-d{seconds}s", "--latency"]
            command += ["--timeout", "5s", base + path]
            output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
            rounds[kind].append(_parse_wrk(output))
    time.sleep(11)
    # The two statistics queries count too; the trivial view asks for nothing.
    queries = _transactions(args.database_url) - before - 2
    results = {kind: _combined(rows) for kind, rows in rounds.items()}
    results["profile"]["database_transactions"] = queries
    results["ratio"] = results["profile"]["rps"] / results["trivial"]["rps"]
    results["round_ratios"] = [
        round(p["rps"] / t["rps"], 2)
        for p, t in zip(rounds["profile"], rounds["trivial"], strict=True)
    ]
    return results


def _combined(rows: list[dict]) -> dict:
    """Rounds summed; the latencies are the worst round's."""
    return {
        "requests": sum(row["requests"] for row in rows),
        "rps": sum(row["rps"] for row in rows) / len(rows),
        "errors": sum(row["errors"] for row in rows),
        "non_2xx_3xx": sum(row["non_2xx_3xx"] for row in rows),
        "p50_ms": max(row["p50_ms"] for row in rows),
        "p99_ms": max(row["p99_ms"] for row in rows),
    }


# --- Verdict -------------------------------------------------------------------------------


def _goals(mix: dict, memory: dict, throughput: dict) -> dict[str, tuple[bool, str]]:
    failures = sum(row["errors"] + row["non_2xx_3xx"] for row in mix.values())
    slowest = max(ANONYMOUS, key=lambda kind: mix[kind]["p99_ms"])
    growth = {pid: samples["end"] - samples["middle"] for pid, samples in memory.items() if samples}
    worst = max(growth.values())
    ratio = throughput["ratio"]
    phase2_failures = sum(
        throughput[kind]["errors"] + throughput[kind]["non_2xx_3xx"]
        for kind in ("profile", "trivial")
    )
    return {
        "no errors, every answer 2xx/3xx": (
            failures + phase2_failures == 0,
            f"{failures} in the mix, {phase2_failures} in phase 2",
        ),
        f"anonymous p99 < {GOAL_P99_MS:.0f} ms": (
            mix[slowest]["p99_ms"] < GOAL_P99_MS,
            f"slowest: {slowest} {mix[slowest]['p99_ms']:.1f} ms",
        ),
        f"worker memory flat (second half < {FLAT_MB:.0f} MB)": (
            worst < FLAT_MB,
            f"largest growth {worst:+.1f} MB",
        ),
        f"profile/trivial >= {GOAL_RATIO}": (ratio >= GOAL_RATIO, f"{ratio:.2f}"),
    }


def _report(args, mix: dict, memory: dict, throughput: dict, goals: dict) -> None:
    kind = f"gthread ({args.threads} threads)" if args.threads > 1 else "sync"
    print()
    print(
        f"gunicorn {args.workers} {kind} workers, {os.cpu_count()} CPUs; mix: {args.connections} "
        f"connections for {args.duration}s; phase 2: {args.connections} connections, "
        f"{args.ratio_duration}s per URL"
    )
    header = f"{'kind':<14} {'conns':>5} {'requests':>9} {'req/s':>8} {'errors':>6} "
    print(header + f"{'non-2xx/3xx':>11} {'p50 ms':>8} {'p99 ms':>8}")
    for kind, row in mix.items():
        print(
            f"{kind:<14} {row['connections']:>5} {row['requests']:>9} {row['rps']:>8.1f} "
            f"{row['errors']:>6} {row['non_2xx_3xx']:>11} {row['p50_ms']:>8.2f} "
            f"{row['p99_ms']:>8.2f}"
        )
    print("worker RSS MB (start / middle / end; every 10 s):")
    for pid, samples in memory.items():
        series = " ".join(str(rss) for rss in samples["series"])
        print(f"  {pid}: {samples['start']} / {samples['middle']} / {samples['end']}; {series}")
    print(f"phase 2 ({THROUGHPUT_ROUNDS} alternating rounds; latencies: the worst round's):")
    for kind in ("profile", "trivial"):
        row = throughput[kind]
        print(
            f"  {kind:<8} {row['rps']:>8.1f} req/s, p50 {row['p50_ms']:.2f} ms, "
            f"p99 {row['p99_ms']:.2f} ms, {row['requests']} requests, "
            f"{row['errors'] + row['non_2xx_3xx']} errors or non-2xx/3xx"
        )
    transactions = throughput["profile"]["database_transactions"]
    print(f"  database transactions during phase 2: {transactions}")
    print(f"  profile/trivial per round: {throughput['round_ratios']}")
    for goal, (met, detail) in goals.items():
        print(f"{goal}: {'ok' if met else 'MISSED'} ({detail})")


if __name__ == "__main__":
    sys.exit(main())
