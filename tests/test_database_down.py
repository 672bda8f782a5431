"""While PostgreSQL is down, every page answers a plain 503 with Retry-After, never a 500.

A real gunicorn serves the real settings (DEBUG off) with DATABASE_URL pointing at a port
where nothing listens, as a web container sees the database while it restarts. Runs on the
embedded default too: the server is a separate process with its own environment.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


@pytest.fixture(scope="module")
def server_without_database(tmp_path_factory):
    """gunicorn on a free port; its database is a closed port on 127.0.0.1."""
    port = free_port()
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("REDIS_URL", "CELERY_BROKER_URL")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="tests.settings",
        DJANGO_DEBUG="0",
        DATABASE_URL=f"postgres://bzpeer@127.0.0.1:{free_port()}/bzpeer",
        PYTHONPATH=str(PROJECT_ROOT),
    )
    command = [
        sys.executable, "-m", "gunicorn", "bzpeer.wsgi:application",
        "--bind", f"127.0.0.1:{port}", "--workers", "1", "--chdir", str(PROJECT_ROOT),
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            get(base + "/robots.txt")
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                tail = log.read_text()[-3000:]
                raise AssertionError(f"gunicorn did not start:\n{tail}") from None
            time.sleep(0.2)
    yield base, log
    process.terminate()
    process.wait(timeout=15)


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/researchers/zhengyan-zhang/",
        "/researchers/zhengyan-zhang/trust/",
        "/search/?q=zhang",
        "/works/2104.12255/",
        "/sitemap.xml",
    ],
)
def test_pages_answer_503_with_retry_after_while_the_database_is_down(
    server_without_database, path
):
    base, _ = server_without_database
    status, headers, body = get(base + path)
    assert status == 503, body[:500]
    assert headers["Retry-After"] == "30"
    assert "temporarily unavailable" in body
    assert "Traceback" not in body and "OperationalError" not in body


def test_the_api_answers_a_503_problem_document(server_without_database):
    base, _ = server_without_database
    status, headers, body = get(base + "/api/v1/researchers/zhengyan-zhang")
    assert status == 503
    assert headers["Content-Type"] == "application/problem+json"
    assert headers["Retry-After"] == "30"
    problem = json.loads(body)
    assert (problem["status"], problem["title"]) == (503, "Service Unavailable")
    assert "temporarily unavailable" in problem["detail"]


def test_healthz_says_so_and_pages_that_need_no_database_still_answer(server_without_database):
    base, log = server_without_database
    assert get(base + "/healthz")[0] == 503
    status, _, body = get(base + "/robots.txt")
    assert status == 200 and body.startswith("User-agent: *")
    status, _, body = get(base + "/accounts/login/")
    assert status == 200 and "Log in" in body
    assert get(base + "/static/css/site.css")[0] == 200
