"""A fake ORCID (OAuth 2 and the public API v3.0) on 127.0.0.1, in a thread.

Usage in tests::

    with FakeOrcid([FakeRecord("0000-0002-1825-0097", "Zhengyan", "Zhang", works=[...])]) as fake:
        settings.ORCID_BASE_URL = fake.base_url      # /oauth/authorize, /oauth/token
        settings.ORCID_API_URL = fake.api_url        # /v3.0/{orcid}/record, /v3.0/{orcid}/works
        fake.sign_in_as = "0000-0002-1825-0097"      # who "signs in" at /oauth/authorize
        fake.fail_next(429, retry_after="1", match="/works")
        fake.requests                                # [Hit(method, path, params, form, headers)]

OAuth: ``GET /oauth/authorize`` checks the client id, the scope (``/authenticate``) and that a
redirect URI is given, then sends the browser straight back to it with a one-time ``code`` and
the ``state`` it was given (ORCID's own sign-in form is skipped: the fake's visitor is always
``sign_in_as``; ``deny_next()`` answers ``error=access_denied`` instead). ``POST /oauth/token``
checks the client id and secret, the grant type, the code (once) and that the redirect URI is the
one the code was issued for, and answers ORCID's token JSON (``access_token``, ``token_type``,
``refresh_token``, ``expires_in``, ``scope``, ``name``, ``orcid``).

API: ``/v3.0/{orcid}/record`` and ``/v3.0/{orcid}/works`` answer the documented JSON shapes
(``orcid-identifier``, ``person.name``, ``person.other-names``, ``person.emails``; works as
``group[]`` with ``external-ids.external-id[]`` (``external-id-type``, ``-value``,
``-normalized``, ``-url``, ``-relationship``) and ``work-summary[]`` with ``title``). An unknown
iD gets ORCID's 404 error JSON.

Standalone, for demos with ``make run`` (the demo researcher's nine works, put there by
DataCite; whoever signs in is that iD)::

    python tests/fakeorcid.py --port 8766
    ORCID_CLIENT_ID=APP-BZPEERTEST0001 ORCID_CLIENT_SECRET=fake-orcid-client-secret \
        ORCID_BASE_URL=http://127.0.0.1:8766 make run

Faults (consumed in order by the first request whose path contains ``match``):
``fail_next(status, retry_after=None, body=b"")`` (401, 404, 429, 503, ...),
``malformed_next()`` (a 200 that is not JSON), ``huge_next(size, declare_length=True)`` (a
200 of ``size`` bytes, with or without a Content-Length), ``slow_next(seconds)``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

CLIENT_ID = "APP-BZPEERTEST0001"
CLIENT_SECRET = "fake-orcid-client-secret"


DATACITE_CLIENT = "0000-0001-9884-1913"


@dataclass
class FakeWork:
    title: str
    arxiv: str | None = None
    doi: str | None = None
    relationship: str = "self"
    put_code: int | None = None
    # Who put it on the record: a member organisation's auto-update (its name), "holder" (typed
    # in by the holder) or "wizard" (a search-and-link wizard acting for the holder).
    source: str = "DataCite"


@dataclass
class FakeRecord:
    orcid: str
    given_names: str
    family_name: str
    works: list[FakeWork] = field(default_factory=list)
    credit_name: str = ""
    other_names: list[str] = field(default_factory=list)
    email: str | None = None

    @property
    def name(self) -> str:
        return self.credit_name or f"{self.given_names} {self.family_name}"


def _external_id(kind: str, value: str, relationship: str) -> dict:
    normalized = f"arXiv:{value.split(':')[-1]}" if kind == "arxiv" else value.lower()
    url = (
        f"https://arxiv.org/abs/{value.split(':')[-1]}"
        if kind == "arxiv"
        else f"https://doi.org/{value}"
    )
    return {
        "external-id-type": kind,
        "external-id-value": value,
        "external-id-normalized": {"value": normalized, "transient": True},
        "external-id-normalized-error": None,
        "external-id-url": {"value": url},
        "external-id-relationship": relationship,
    }


def _source(work: FakeWork, record: FakeRecord) -> dict:
    iD = {"uri": f"https://orcid.org/{record.orcid}", "path": record.orcid, "host": "orcid.org"}
    client = {
        "uri": f"https://orcid.org/client/{DATACITE_CLIENT}",
        "path": DATACITE_CLIENT,
        "host": "orcid.org",
    }
    if work.source == "holder":
        return {
            "source-orcid": iD,
            "source-client-id": None,
            "source-name": {"value": record.name},
            "assertion-origin-orcid": None,
            "assertion-origin-client-id": None,
            "assertion-origin-name": None,
        }
    return {
        "source-orcid": None,
        "source-client-id": client,
        "source-name": {"value": "DataCite" if work.source == "wizard" else work.source},
        "assertion-origin-orcid": iD if work.source == "wizard" else None,
        "assertion-origin-client-id": None,
        "assertion-origin-name": {"value": record.name} if work.source == "wizard" else None,
    }


def works_document(record: FakeRecord) -> dict:
    """``/v3.0/{orcid}/works``: one group per work, as ORCID groups them."""
    groups = []
    for index, work in enumerate(record.works):
        ids = []
        if work.arxiv:
            ids.append(_external_id("arxiv", work.arxiv, work.relationship))
        if work.doi:
            ids.append(_external_id("doi", work.doi, work.relationship))
        put_code = work.put_code or 1000 + index
        stamp = {"value": 1700000000000 + index}
        groups.append(
            {
                "last-modified-date": stamp,
                "external-ids": {"external-id": ids},
                "work-summary": [
                    {
                        "put-code": put_code,
                        "created-date": stamp,
                        "last-modified-date": stamp,
                        "source": _source(work, record),
                        "title": {
                            "title": {"value": work.title},
                            "subtitle": None,
                            "translated-title": None,
                        },
                        "external-ids": {"external-id": ids},
                        "url": None,
                        "type": "preprint" if work.arxiv and not work.doi else "journal-article",
                        "publication-date": {"year": {"value": "2021"}, "month": None, "day": None},
                        "journal-title": None,
                        "visibility": "public",
                        "path": f"/{record.orcid}/work/{put_code}",
                        "display-index": "0",
                    }
                ],
            }
        )
    return {
        "last-modified-date": {"value": 1700000000000},
        "group": groups,
        "path": f"/{record.orcid}/works",
    }


def record_document(record: FakeRecord, *, host: str) -> dict:
    """``/v3.0/{orcid}/record``: the identifier, the person's names and emails, the works."""
    emails = (
        [{"email": record.email, "verified": True, "primary": True, "visibility": "public"}]
        if record.email
        else []
    )
    return {
        "orcid-identifier": {
            "uri": f"https://{host}/{record.orcid}",
            "path": record.orcid,
            "host": host,
        },
        "person": {
            "name": {
                "given-names": {"value": record.given_names},
                "family-name": {"value": record.family_name},
                "credit-name": {"value": record.credit_name} if record.credit_name else None,
                "visibility": "public",
                "path": record.orcid,
            },
            "other-names": {
                "other-name": [
                    {"content": name, "visibility": "public"} for name in record.other_names
                ],
                "path": f"/{record.orcid}/other-names",
            },
            "emails": {"email": emails, "path": f"/{record.orcid}/email"},
            "path": f"/{record.orcid}/person",
        },
        "activities-summary": {"works": works_document(record)},
        "path": f"/{record.orcid}",
    }


def not_found_document(orcid: str) -> dict:
    return {
        "response-code": 404,
        "developer-message": f"404 Not Found: The resource was not found. Full validation "
        f"error: ORCID iD {orcid} not found",
        "user-message": "The resource was not found.",
        "error-code": 9016,
        "more-info": "https://members.orcid.org/api/resources/troubleshooting",
    }


@dataclass
class Hit:
    method: str
    path: str
    params: dict[str, str]
    form: dict[str, str]
    headers: dict[str, str]


@dataclass
class Fault:
    kind: str  # "fail", "malformed", "huge", "slow"
    status: int = 503
    seconds: float = 0.0
    retry_after: str | None = None
    body: bytes = b""
    size: int = 0
    declare_length: bool = True
    match: str | None = None


@dataclass
class _Grant:
    orcid: str
    redirect_uri: str


class FakeOrcid:
    def __init__(
        self,
        records: list[FakeRecord] = (),
        *,
        client_id: str = CLIENT_ID,
        client_secret: str = CLIENT_SECRET,
        host: str = "127.0.0.1",
        port: int = 0,
    ):
        self.records = {record.orcid: record for record in records}
        self.client_id = client_id
        self.client_secret = client_secret
        self.sign_in_as: str | None = next(iter(self.records), None)
        self._lock = threading.Lock()
        self._grants: dict[str, _Grant] = {}
        self._faults: list[Fault] = []
        self._deny = 0
        self._requests: list[Hit] = []
        self._host, self._port = host, port
        self._server: ThreadingHTTPServer | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeOrcid:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer((self._host, self._port), handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeOrcid:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "not started"
        return f"http://{self._host}:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/v3.0"

    # -------------------------------------------------------------------- records

    def add_record(self, record: FakeRecord) -> None:
        """Add (or replace) a record; the first one added is who signs in, unless told."""
        with self._lock:
            self.records[record.orcid] = record
            if self.sign_in_as is None:
                self.sign_in_as = record.orcid

    # --------------------------------------------------------------------- faults

    def _add(self, fault: Fault, times: int) -> None:
        with self._lock:
            self._faults.extend(dataclasses.replace(fault) for _ in range(times))

    def fail_next(
        self,
        status: int,
        retry_after: str | None = None,
        *,
        times: int = 1,
        match: str | None = None,
        body: bytes = b"",
    ) -> None:
        self._add(
            Fault("fail", status=status, retry_after=retry_after, body=body, match=match), times
        )

    def malformed_next(self, *, times: int = 1, match: str | None = None) -> None:
        self._add(Fault("malformed", match=match), times)

    def huge_next(
        self, size: int, *, declare_length: bool = True, match: str | None = None
    ) -> None:
        self._add(Fault("huge", size=size, declare_length=declare_length, match=match), 1)

    def slow_next(self, seconds: float, *, times: int = 1, match: str | None = None) -> None:
        """Wait ``seconds`` before answering (a client's read time-out)."""
        self._add(Fault("slow", seconds=seconds, match=match), times)

    def deny_next(self) -> None:
        """The next visitor at /oauth/authorize says no (error=access_denied)."""
        with self._lock:
            self._deny += 1

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for index, fault in enumerate(self._faults):
                if fault.match is None or fault.match in path:
                    return self._faults.pop(index)
        return None

    @property
    def requests(self) -> list[Hit]:
        with self._lock:
            return list(self._requests)

    def api_requests(self) -> list[str]:
        return [hit.path for hit in self.requests if hit.path.startswith("/v3.0/")]

    def _log(self, hit: Hit) -> None:
        with self._lock:
            self._requests.append(hit)

    # -------------------------------------------------------------------- answers

    def authorize(self, params: dict[str, str]) -> tuple[int, dict, bytes]:
        redirect_uri = params.get("redirect_uri", "")
        if params.get("client_id") != self.client_id or not redirect_uri:
            return 400, {}, b"invalid client or redirect_uri"
        if (
            params.get("response_type") != "code"
            or "/authenticate" not in params.get("scope", "").split()
        ):
            return 400, {}, b"invalid response_type or scope"
        with self._lock:
            deny, self._deny = self._deny > 0, max(0, self._deny - 1)
        answer = {"state": params["state"]} if "state" in params else {}
        if deny or self.sign_in_as is None:
            answer = {"error": "access_denied", "error_description": "User denied access", **answer}
        else:
            code = secrets.token_urlsafe(6)
            with self._lock:
                self._grants[code] = _Grant(self.sign_in_as, redirect_uri)
            answer = {"code": code, **answer}
        separator = "&" if "?" in redirect_uri else "?"
        return 302, {"Location": f"{redirect_uri}{separator}{urlencode(answer)}"}, b""

    def token(self, form: dict[str, str]) -> tuple[int, dict]:
        if (
            form.get("client_id") != self.client_id
            or form.get("client_secret") != self.client_secret
        ):
            return 401, {"error": "invalid_client", "error_description": "Client not found"}
        if form.get("grant_type") != "authorization_code":
            return 400, {"error": "unsupported_grant_type"}
        with self._lock:
            grant = self._grants.pop(form.get("code", ""), None)
        if grant is None or grant.redirect_uri != form.get("redirect_uri"):
            return 400, {
                "error": "invalid_grant",
                "error_description": "Invalid authorization code or redirect URI",
            }
        record = self.records.get(grant.orcid)
        return 200, {
            "access_token": secrets.token_hex(16),
            "token_type": "bearer",
            "refresh_token": secrets.token_hex(16),
            "expires_in": 631138518,
            "scope": "/authenticate",
            "name": record.name if record else "",
            "orcid": grant.orcid,
        }

    def api(self, path: str) -> tuple[int, dict]:
        parts = path.strip("/").split("/")  # v3.0, orcid, record|works
        if len(parts) != 3 or parts[0] != "v3.0" or parts[2] not in ("record", "works"):
            return 404, {"response-code": 404, "developer-message": f"no resource at {path}"}
        record = self.records.get(parts[1])
        if record is None:
            return 404, not_found_document(parts[1])
        if parts[2] == "works":
            return 200, works_document(record)
        return 200, record_document(record, host=f"{self._host}")


class _Handler(BaseHTTPRequestHandler):
    fake: FakeOrcid
    protocol_version = "HTTP/1.0"

    def log_message(self, format, *args):  # noqa: A002 - silence stderr
        pass

    def do_GET(self):  # noqa: N802
        self._handle("GET", {})

    def do_POST(self):  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        self._handle("POST", {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()})

    def _handle(self, method: str, form: dict[str, str]) -> None:
        parts = urlsplit(self.path)
        params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        self.fake._log(Hit(method, parts.path, params, form, dict(self.headers.items())))
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._respond(method, parts.path, params, form)

    def _respond(self, method: str, path: str, params: dict, form: dict) -> None:
        if path == "/oauth/authorize" and method == "GET":
            status, headers, body = self.fake.authorize(params)
            return self._send(status, body, "text/plain", headers)
        if path == "/oauth/token" and method == "POST":
            status, document = self.fake.token(form)
            return self._json(status, document)
        fault = self.fake._take_fault(path)
        if fault is not None:
            if fault.kind == "fail":
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                body = (
                    fault.body
                    or json.dumps(
                        {"response-code": fault.status, "developer-message": "fake ORCID fault"}
                    ).encode()
                )
                return self._send(fault.status, body, "application/json", headers)
            if fault.kind == "malformed":
                return self._send(200, b'{"group": [{"external-ids": ', "application/json")
            if fault.kind == "huge":
                return self._huge(fault)
            if fault.kind == "slow":
                time.sleep(fault.seconds)
        if method == "GET":
            status, document = self.fake.api(path)
            return self._json(status, document)
        return self._send(405, b"method not allowed", "text/plain")

    def _json(self, status: int, document: dict) -> None:
        self._send(status, json.dumps(document).encode(), "application/vnd.orcid+json; qs=4")

    def _huge(self, fault: Fault) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if fault.declare_length:
            self.send_header("Content-Length", str(fault.size))
        self.end_headers()
        chunk = b" " * 65536
        sent = 0
        with contextlib.suppress(OSError):
            while sent < fault.size:
                piece = chunk[: fault.size - sent]
                self.wfile.write(piece)
                sent += len(piece)

    def _send(self, status: int, body: bytes, ctype: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)


DEMO_ORCID = "0000-0002-1825-0097"
DEMO_FILE = (
    Path(__file__).resolve().parent.parent / "works" / "demo" / "zhengyan-zhang.arxivraw.xml"
)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a fake ORCID (OAuth and public API).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args(argv)
    ids = re.findall(r"<id>([^<]+)</id>", DEMO_FILE.read_text())
    demo = FakeRecord(
        DEMO_ORCID,
        "Zhengyan",
        "Zhang",
        works=[FakeWork(f"arXiv:{arxiv_id}", arxiv=arxiv_id) for arxiv_id in ids],
    )
    fake = FakeOrcid([demo], host=args.host, port=args.port).start()
    print(f"ORCID_BASE_URL={fake.base_url}", flush=True)
    print(f"ORCID_CLIENT_ID={CLIENT_ID} ORCID_CLIENT_SECRET={CLIENT_SECRET}", flush=True)
    print(f"Signing in gives the iD {DEMO_ORCID}. Ctrl-C to stop.", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
