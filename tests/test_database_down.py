"""While PostgreSQL is down, every page answers a plain 503 with Retry-After, never a 500.

A real gunicorn serves the real settings (DEBUG off) with DATABASE_URL pointing at a port
where nothing listens, as a web container sees the database while it restarts. Runs on the
embedded default too: the server is a separate process with its own environment. On
PostgreSQL, the last test restarts the database under a running server (through a relay it
cuts and restores) and checks that the same server answers 200 again once it is back.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from tests.faults import free_port

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


@contextlib.contextmanager
def gunicorn(database_url: str, log: Path) -> Iterator[str]:
    """gunicorn (one sync worker, the test settings, DEBUG off) on a free port: its base URL."""
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("REDIS_URL", "CELERY_BROKER_URL")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="tests.settings",
        DJANGO_DEBUG="0",
        DATABASE_URL=database_url,
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
    try:
        while True:
            try:
                get(base + "/robots.txt")
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    tail = log.read_text()[-3000:]
                    raise AssertionError(f"gunicorn did not start:\n{tail}") from None
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def server_without_database(tmp_path_factory):
    """gunicorn whose database is a closed port on 127.0.0.1."""
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    with gunicorn(f"postgres://bzpeer@127.0.0.1:{free_port()}/bzpeer", log) as base:
        yield base, log


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


def test_the_outage_is_logged_in_one_line_per_request_not_a_traceback(server_without_database):
    base, log = server_without_database
    assert get(base + "/search/?q=zhang")[0] == 503
    lines = log.read_text().splitlines()
    assert any(
        "database unavailable on /search/: OperationalError: connection failed" in line
        for line in lines
    ), lines[-20:]
    assert not any("Traceback" in line for line in lines)


# ---------------------------------------------------------- a real PostgreSQL restarting


class Outage:
    """A TCP relay in front of PostgreSQL that can go down and come back, as a restart does:
    ``cut()`` drops every open connection and refuses new ones; ``restore()`` relays again."""

    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self.port = free_port()
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        self._listener: socket.socket | None = None

    def restore(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._listener.settimeout(0.05)
        threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()

    def cut(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._lock:
            dropped, self._open = self._open, []
        for sock in dropped:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._open += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="restarts a relay in front of a PostgreSQL server"
)
def test_pages_answer_503_while_postgresql_restarts_and_200_again_after(tmp_path):
    db = connection.settings_dict
    outage = Outage(db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432))
    outage.restore()
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    url = f"postgres://{quote(db['USER'], safe='')}{password}@127.0.0.1:{outage.port}/{db['NAME']}"
    try:
        with gunicorn(url, tmp_path / "gunicorn.log") as base:
            # The worker keeps its connection between requests (CONN_MAX_AGE): the restart
            # kills it under the worker, which must notice instead of failing every request.
            assert get(base + "/")[0] == 200
            assert get(base + "/search/?q=zhang")[0] == 200

            outage.cut()
            # (The home page and the search above, stored, may still be served: that is fine.)
            for path in (
                "/search/?q=liu",
                "/researchers/zhengyan-zhang/",
                "/api/v1/researchers?q=zhang",
            ):
                status, headers, body = get(base + path)
                assert (status, headers.get("Retry-After")) == (503, "30"), (path, body[:300])
                assert "temporarily unavailable" in body and "Traceback" not in body
            assert get(base + "/healthz")[0] == 503

            outage.restore()
            assert get(base + "/search/?q=zhang")[0] == 200
            assert get(base + "/healthz")[:3:2] == (200, "ok\n")
    finally:
        outage.cut()
