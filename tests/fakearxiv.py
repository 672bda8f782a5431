"""A fake arXiv (query API + OAI-PMH) on 127.0.0.1 that serves the real fixtures.

Usage in tests::

    with FakeArxiv() as fake:
        client = ArxivClient(fake.api_url, fake.oai_url, LocalSpacing(0.05))
        fake.fail_next(503, retry_after="1")
        ...
        fake.requests  # [Hit(t=monotonic arrival, path, params, query), ...]

Standalone for demos::

    python tests/fakearxiv.py --port 8765

API (``/api/query``):
  * ``search_query`` → answered by ``start`` from ``api_pages`` (a dict
    ``{start: bytes}``, or a list of pages whose starts are the cumulative entry
    counts: the two 10-entry "testing" pages answer start=0 and start=10).
    Other starts get an empty feed. ``api_total`` rewrites
    ``opensearch:totalResults`` in every API answer.
  * ``id_list`` → ``id_pages[id_list]`` (bytes, or ``(status, bytes)``);
    ``abc`` → the real HTTP 400 error feed; unknown → the real empty feed.
OAI (``/oai``): ``oai_pages`` served in order; page i's ``<resumptionToken>``
  is rewritten to ``fake-<i+2>`` (the last page's token emptied). Unknown
  tokens → the real badResumptionToken answer; a set that appears in no page's
  ``<setSpec>`` (or not in ``oai_sets``) → the real noRecordsMatch answer; a
  token together with other arguments → badArgument.
Faults (consumed in order, each by the first request whose ``path?query``
  contains ``match``, default any): ``fail_next(status, retry_after, times)``,
  ``slow_next(seconds, times)``, ``drop_next(times)``, ``empty_next(total)``,
  ``call_next(action)`` (runs ``action()`` in the server's thread, then answers as usual:
  a fault elsewhere, such as cutting the harvester's database connection mid-run).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import re
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "arxiv"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


TESTING_PAGE_0 = "api_query_multi_all_testing_start0_max10.atom.xml"
TESTING_PAGE_10 = "api_query_multi_all_testing_start10_max10.atom.xml"
API_ERROR_ABC = "api_error_http400_incorrect_id_format_abc.atom.xml"
API_EMPTY = "api_idlist_empty_0000.0000.atom.xml"
OAI_PAGE_1 = "oai_listrecords_arxivraw_page1_resumptiontoken.xml"
OAI_LAST_PAGE = "oai_listrecords_arxiv_set_physics-hep-th.xml"
OAI_BAD_TOKEN = "oai_error_badResumptionToken.xml"
OAI_NO_RECORDS = "oai_error_noRecordsMatch_unknown_set.xml"
OAI_BAD_ARGUMENT = "oai_error_badArgument.xml"
OAI_BAD_VERB = "oai_error_badVerb_reindented.xml"

_TOKEN_RE = re.compile(rb"<resumptionToken([^>]*?)\s*(?:/>|>[^<]*</resumptionToken>)")
_TOTAL_RE = re.compile(rb"<opensearch:totalResults>\d+</opensearch:totalResults>")


def default_id_pages() -> dict[str, bytes | tuple[int, bytes]]:
    return {
        "1605.08386": fixture("api_idlist_single_1605.08386.atom.xml"),
        "2104.12255v1": fixture("api_idlist_single_versioned_2104.12255v1.atom.xml"),
        "0808.05394,1707.08567": fixture(
            "api_idlist_two_ids_one_unknown_0808.05394_1707.08567.atom.xml"
        ),
        "abc": (400, fixture(API_ERROR_ABC)),
    }


def set_total(feed: bytes, total: int) -> bytes:
    return _TOTAL_RE.sub(
        f"<opensearch:totalResults>{total}</opensearch:totalResults>".encode(), feed, count=1
    )


def set_token(page: bytes, token: str) -> bytes:
    """Rewrite (or add, or empty) the ``<resumptionToken>`` of an OAI page."""
    if _TOKEN_RE.search(page):
        if token:
            repl = rb"<resumptionToken\1>" + token.encode() + rb"</resumptionToken>"
        else:
            repl = rb"<resumptionToken\1/>"
        return _TOKEN_RE.sub(lambda m: m.expand(repl), page, count=1)
    if not token:
        return page
    return page.replace(
        b"</ListRecords>",
        b"<resumptionToken>" + token.encode() + b"</resumptionToken>\n</ListRecords>",
        1,
    )


@dataclass
class Hit:
    t: float  # time.monotonic() at arrival
    path: str
    params: dict[str, str]
    query: str
    user_agent: str = ""
    # time.time() at arrival: the clock Redis' TIME reads, to compare with RedisSpacing's slots
    wall: float = 0.0

    @property
    def target(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path


@dataclass
class Fault:
    kind: str  # "fail", "slow", "drop", "empty", "call"
    status: int = 503
    retry_after: str | None = None
    seconds: float = 0.0
    total: int = 0
    match: str | None = None
    body: bytes = b""
    action: Callable[[], object] | None = None


@dataclass
class _State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: list[Hit] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)


class FakeArxiv:
    def __init__(
        self,
        api_pages: Mapping[int, bytes] | Sequence[bytes] | None = None,
        oai_pages: Sequence[bytes] | None = None,
        *,
        id_pages: Mapping[str, bytes | tuple[int, bytes]] | None = None,
        api_total: int | None = None,
        oai_sets: set[str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ):
        if api_pages is None:
            api_pages = [fixture(TESTING_PAGE_0), fixture(TESTING_PAGE_10)]
        if isinstance(api_pages, Mapping):
            self.api_pages = dict(api_pages)
        else:
            self.api_pages, start = {}, 0
            for page in api_pages:
                self.api_pages[start] = page
                start += page.count(b"<entry>")
        self.api_total = api_total
        self.id_pages = default_id_pages() if id_pages is None else dict(id_pages)
        if oai_pages is None:
            oai_pages = [fixture(OAI_PAGE_1), fixture(OAI_LAST_PAGE)]
        n = len(oai_pages)
        self.oai_pages = [
            set_token(page, f"fake-{i + 2}" if i < n - 1 else "")
            for i, page in enumerate(oai_pages)
        ]
        if oai_sets is None:
            oai_sets = {
                s.decode() for p in self.oai_pages for s in re.findall(rb"<setSpec>([^<]+)<", p)
            }
        self.oai_sets = oai_sets
        self._state = _State()
        self._host, self._port = host, port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---------------------------------------------------------- lifecycle

    def start(self) -> FakeArxiv:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer((self._host, self._port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeArxiv:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "not started"
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/query"

    @property
    def oai_url(self) -> str:
        return f"{self.base_url}/oai"

    # -------------------------------------------------------------- faults

    def _add(self, fault: Fault, times: int) -> None:
        with self._state.lock:
            self._state.faults.extend(dataclasses.replace(fault) for _ in range(times))

    def fail_next(
        self,
        status: int = 503,
        retry_after: str | None = None,
        *,
        times: int = 1,
        match: str | None = None,
        body: bytes = b"",
    ) -> None:
        self._add(
            Fault("fail", status=status, retry_after=retry_after, match=match, body=body), times
        )

    def slow_next(self, seconds: float, *, times: int = 1, match: str | None = None) -> None:
        self._add(Fault("slow", seconds=seconds, match=match), times)

    def drop_next(self, *, times: int = 1, match: str | None = None) -> None:
        self._add(Fault("drop", match=match), times)

    def empty_next(self, total: int = 0, *, times: int = 1, match: str | None = None) -> None:
        """Answer an API request with an empty feed (totalResults ``total``)."""
        self._add(Fault("empty", total=total, match=match), times)

    def call_next(self, action: Callable[[], object], *, match: str | None = None) -> None:
        """Run ``action()`` when the next matching request arrives, then answer it normally."""
        self._add(Fault("call", action=action, match=match), 1)

    def _take_fault(self, target: str) -> Fault | None:
        with self._state.lock:
            for i, fault in enumerate(self._state.faults):
                if fault.match is None or fault.match in target:
                    return self._state.faults.pop(i)
        return None

    @property
    def pending_faults(self) -> int:
        with self._state.lock:
            return len(self._state.faults)

    @property
    def requests(self) -> list[Hit]:
        with self._state.lock:
            return list(self._state.requests)

    def _log(self, hit: Hit) -> None:
        with self._state.lock:
            self._state.requests.append(hit)

    # ------------------------------------------------------------- answers

    def answer_api(self, params: dict[str, str]) -> tuple[int, bytes]:
        id_list = params.get("id_list", "")
        if id_list:
            found = self.id_pages.get(id_list)
            if found is None:
                body = fixture(API_EMPTY)
                return 200, body
            return found if isinstance(found, tuple) else (200, found)
        try:
            start = int(params.get("start", "0"))
        except ValueError:
            return 400, fixture(API_ERROR_ABC)
        body = self.api_pages.get(start)
        if body is None:
            first = next(iter(self.api_pages.values()), None)
            total = self.api_total
            if total is None and first is not None:
                m = _TOTAL_RE.search(first)
                total = int(re.sub(rb"\D", b"", m.group(0))) if m else 0
            body = set_total(fixture(API_EMPTY), total or 0)
        if self.api_total is not None:
            body = set_total(body, self.api_total)
        return 200, body

    def answer_oai(self, params: dict[str, str]) -> tuple[int, bytes]:
        if params.get("verb") != "ListRecords":
            return 200, fixture(OAI_BAD_VERB)
        token = params.get("resumptionToken")
        if token is not None:
            if set(params) != {"verb", "resumptionToken"}:
                return 200, fixture(OAI_BAD_ARGUMENT)
            m = re.fullmatch(r"fake-(\d+)", token)
            index = int(m.group(1)) - 1 if m else -1
            if 0 <= index < len(self.oai_pages):
                return 200, self.oai_pages[index]
            return 200, fixture(OAI_BAD_TOKEN)
        if "metadataPrefix" not in params:
            return 200, fixture(OAI_BAD_ARGUMENT)
        set_spec = params.get("set")
        if set_spec is not None and set_spec not in self.oai_sets:
            return 200, fixture(OAI_NO_RECORDS)
        if not self.oai_pages:
            return 200, fixture(OAI_NO_RECORDS)
        return 200, self.oai_pages[0]


class _Handler(BaseHTTPRequestHandler):
    fake: FakeArxiv
    protocol_version = "HTTP/1.0"  # one request per connection: drops stay simple

    def log_message(self, format, *args):  # noqa: A002 - silence stderr
        pass

    def do_GET(self):  # noqa: N802
        arrived, wall = time.monotonic(), time.time()
        parts = urlsplit(self.path)
        params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        target = f"{parts.path}?{parts.query}"
        self.fake._log(
            Hit(
                arrived,
                parts.path,
                params,
                parts.query,
                self.headers.get("User-Agent", ""),
                wall=wall,
            )
        )
        # The client may have given up (time-out test): nothing left to answer.
        with contextlib.suppress(TimeoutError, BrokenPipeError, ConnectionResetError):
            self._respond(parts.path, params, target)

    def _respond(self, path: str, params: dict[str, str], target: str) -> None:
        fault = self.fake._take_fault(target)
        if fault is not None:
            if fault.kind == "drop":
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            if fault.kind == "call" and fault.action is not None:
                fault.action()
            elif fault.kind == "slow":
                time.sleep(fault.seconds)
            elif fault.kind == "fail":
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                body = fault.body or f"fake arXiv: HTTP {fault.status}\n".encode()
                return self._send(fault.status, body, "text/plain", headers)
            elif fault.kind == "empty":
                if path.rstrip("/").endswith("/oai"):
                    return self._send(200, fixture(OAI_NO_RECORDS), "text/xml")
                return self._send(
                    200, set_total(fixture(API_EMPTY), fault.total), "application/atom+xml"
                )
        if path.rstrip("/") == "/api/query":
            status, body = self.fake.answer_api(params)
            return self._send(status, body, "application/atom+xml; charset=utf-8")
        if path.rstrip("/") in ("/oai", "/oai2"):
            status, body = self.fake.answer_oai(params)
            return self._send(status, body, "text/xml; charset=utf-8")
        return self._send(404, b"not found\n", "text/plain")

    def _send(self, status: int, body: bytes, ctype: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a fake arXiv API + OAI-PMH.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)
    fake = FakeArxiv(host=args.host, port=args.port).start()
    print(f"ARXIV_API_URL=http://{args.host}:{fake.port}/api/query", flush=True)
    print(f"ARXIV_OAI_URL=http://{args.host}:{fake.port}/oai", flush=True)
    print("Ctrl-C to stop.", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
