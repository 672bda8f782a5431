"""The read API's HTTP manners, shared by every app's part of it (``works/api.py``,
``graph/api.py``, ``profiles/api.py``; assembled in ``bzpeer/urls.py``).

- **Errors are problem documents** (RFC 9457, ``application/problem+json``): ``problem()``
  builds one; ``ApiError`` raised anywhere in an operation becomes one; the middleware turns any
  other error page under ``/api/`` (Django's HTML 404 for an unknown path, a 500) into one.
- **Conditional GET**: every 200 carries a strong ``ETag`` (a hash of the body) and, when the
  operation knows it, ``Last-Modified``; ``If-None-Match`` / ``If-Modified-Since`` answer 304.
  Hashing the body rather than the rows keeps the validator honest whatever the body is built
  from (a co-author's renamed slug changes it too); the bandwidth is saved, not the queries, except
  where an operation caches its body (the researcher detail).
- **CORS**: any origin may GET (``Access-Control-Allow-Origin: *``, no credentials: the API is
  public and reads no cookie); ``OPTIONS`` answers the preflight without reaching a view.
- **A per-address rate limit** (``settings.API_RATE_LIMIT``, the cache-backed limiter of
  ``bzpeer.lib.ratelimit``) answering 429 with ``Retry-After``.
- **Opaque cursors**: ``encode_cursor`` / ``decode_cursor`` (URL-safe base64 of a JSON list),
  strictly checked so that a forged or truncated cursor is a 400, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import orjson
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date, parse_http_date_safe
from ninja import NinjaAPI, Schema
from ninja.errors import HttpError, ValidationError
from ninja.renderers import BaseRenderer

from bzpeer.lib.ratelimit import Rate, client_ip, hit
from bzpeer.lib.unavailable import DETAIL, RETRY_AFTER_SECONDS, database_unavailable

log = logging.getLogger(__name__)

API_PATH_PREFIX = "/api/"
PROBLEM_CONTENT_TYPE = "application/problem+json"
JSON_CONTENT_TYPE = "application/json"
JSON_RESPONSE_TYPE = "application/json; charset=utf-8"
# Public data that changes with imports and claims: caches may keep it a minute.
DEFAULT_MAX_AGE = 60
SAFE_METHODS = ("GET", "HEAD")
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    # What a script on another origin may read besides the simple headers.
    "Access-Control-Expose-Headers": "ETag, Last-Modified, Retry-After, Location, Link",
}
PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "Accept, If-None-Match, If-Modified-Since",
    "Access-Control-Max-Age": "86400",
}
# Cursors carry a few keys (a date, an id, an offset): anything longer is not one of ours.
MAX_CURSOR_LENGTH = 200
# The largest id PostgreSQL's bigint holds; a bigger number in a cursor must not reach a query.
MAX_ID = 2**63 - 1


class Problem(Schema):
    """An error (RFC 9457)."""

    type: str
    title: str
    status: int
    detail: str | None = None
    errors: list[dict] | None = None


# What every operation may answer besides its own: a bad parameter, a missing record.
ERRORS = {400: Problem, 404: Problem}


class ApiError(Exception):
    """An error an operation answers with, as a problem document."""

    def __init__(self, status: int, detail: str = "", **extensions: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.extensions = extensions


def problem(
    status: int, detail: str = "", *, headers: dict[str, str] | None = None, **extensions: Any
) -> HttpResponse:
    """An RFC 9457 problem document; ``type`` stays ``about:blank``, so ``title`` is the
    status's own phrase and ``detail`` says what went wrong for this request."""
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extensions)
    response = HttpResponse(orjson.dumps(body), status=status, content_type=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


# --- Conditional responses -------------------------------------------------------------------


def body_etag(content: bytes) -> str:
    return '"' + hashlib.blake2b(content, digest_size=12).hexdigest() + '"'


def conditional(
    request: HttpRequest,
    response: HttpResponse,
    *,
    etag: str | None = None,
    last_modified: dt.datetime | None = None,
    max_age: int = DEFAULT_MAX_AGE,
) -> HttpResponseBase:
    """Stamp a 200 with its validators and caching, and answer 304 when the client has it."""
    etag = etag or body_etag(response.content)
    response["ETag"] = etag
    timestamp = None
    if last_modified is not None:
        timestamp = int(last_modified.timestamp())
        response["Last-Modified"] = http_date(timestamp)
    patch_cache_control(response, public=True, max_age=max_age)
    return get_conditional_response(request, etag=etag, last_modified=timestamp, response=response)


def json_response(
    request: HttpRequest,
    content: bytes,
    *,
    etag: str | None = None,
    last_modified: dt.datetime | None = None,
    max_age: int = DEFAULT_MAX_AGE,
) -> HttpResponseBase:
    """A JSON body already serialised (from a cache), with the same manners as any 200."""
    response = HttpResponse(content, content_type=JSON_RESPONSE_TYPE)
    return conditional(request, response, etag=etag, last_modified=last_modified, max_age=max_age)


def last_modified_header(value: dt.datetime | None) -> str:
    """What an operation puts in its temporal response's ``Last-Modified`` (see OpenDataAPI)."""
    return http_date(int(value.timestamp())) if value else ""


# --- Cursors ------------------------------------------------------------------------------------


def encode_cursor(values: list) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(values)).decode().rstrip("=")


def decode_cursor(text: str, *, length: int) -> list:
    """The list a cursor holds, or ApiError(400) for anything ``encode_cursor`` did not make."""
    bad = ApiError(400, "The cursor is not one this API gave out; start again without it.")
    if len(text) > MAX_CURSOR_LENGTH:
        raise bad
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        values = orjson.loads(raw)
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise bad from None
    if not isinstance(values, list) or len(values) != length:
        raise bad
    for value in values:
        if isinstance(value, bool) or (isinstance(value, int) and not 0 <= value <= MAX_ID):
            raise bad
    return values


def cursor_id(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ID:
        raise ApiError(400, "The cursor is not one this API gave out; start again without it.")
    return value


def cursor_datetime(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise ApiError(400, "The cursor is not one this API gave out; start again without it.")
    return parsed


# --- The API object ----------------------------------------------------------------------------


class OrjsonRenderer(BaseRenderer):
    """orjson, as graph.json: several times faster than the json module for the same bytes."""

    media_type = JSON_CONTENT_TYPE
    charset = "utf-8"

    def render(self, request: HttpRequest, data: Any, *, response_status: int) -> bytes:
        return orjson.dumps(data, option=orjson.OPT_UTC_Z)


class OpenDataAPI(NinjaAPI):
    """django-ninja with problem documents for errors and validators on every 200."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(renderer=OrjsonRenderer(), **kwargs)
        self.add_exception_handler(ApiError, _api_error)
        self.add_exception_handler(ValidationError, _validation_error)
        self.add_exception_handler(HttpError, _http_error)
        self.add_exception_handler(Exception, _unexpected_error)

    def set_default_exception_handlers(self) -> None:
        # ninja's own answer {"detail": ...} with 422s; ours are registered in __init__,
        # and Http404 is a subclass of Exception handled there too.
        pass

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> dict:
        """ninja's schema, plus what the middleware adds to every operation: errors typed as
        problem documents, the 429 with its Retry-After, the redirect's Location."""
        schema = super().get_openapi_schema(*args, **kwargs)
        problem_ref = {"schema": {"$ref": "#/components/schemas/Problem"}}
        for item in schema["paths"].values():
            for operation in item.values():
                responses = {
                    str(status): answer for status, answer in operation["responses"].items()
                }
                operation["responses"] = responses
                responses["429"] = {
                    "description": "Too many requests from this address",
                    "headers": {
                        "Retry-After": {
                            "description": "Seconds to wait",
                            "schema": {"type": "integer"},
                        }
                    },
                    "content": {PROBLEM_CONTENT_TYPE: problem_ref},
                }
                for status, answer in responses.items():
                    content = answer.get("content", {})
                    if int(status) >= 400 and JSON_CONTENT_TYPE in content:
                        answer["content"] = {PROBLEM_CONTENT_TYPE: content[JSON_CONTENT_TYPE]}
                    if status == "301":
                        answer["description"] = "Moved: the surviving record or the bare id"
                        answer["headers"] = {
                            "Location": {"schema": {"type": "string"}, "required": True}
                        }
                    if status == "304":
                        answer["description"] = "Not modified since the ETag or date you sent"
        return schema

    def create_response(
        self,
        request: HttpRequest,
        data: Any,
        *,
        status: int | None = None,
        temporal_response: HttpResponse | None = None,
    ) -> HttpResponse:
        response = super().create_response(
            request, data, status=status, temporal_response=temporal_response
        )
        if response.status_code != 200 or request.method not in SAFE_METHODS:
            return response
        stamped = parse_http_date_safe(response.get("Last-Modified", ""))
        last_modified = dt.datetime.fromtimestamp(stamped, tz=dt.UTC) if stamped else None
        if "Last-Modified" in response and not stamped:
            del response["Last-Modified"]
        return conditional(request, response, last_modified=last_modified)


def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return problem(exc.status, exc.detail, **exc.extensions)


def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {"in": ".".join(str(part) for part in error.get("loc", ())), "message": error.get("msg")}
        for error in exc.errors
    ]
    return problem(400, "Some parameters are not valid.", errors=errors)


def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return problem(exc.status_code, str(exc.message))


def _unexpected_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    if isinstance(exc, Http404):
        return problem(404, str(exc) or "Nothing is published at this address.")
    if database_unavailable(exc):
        log.error("API: the database is unavailable on %s: %s", request.path, exc)
        return problem(503, DETAIL, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    log.exception("API error on %s", request.path, exc_info=exc)
    return problem(500, "Something went wrong on our side; it has been logged.")


# --- Middleware -------------------------------------------------------------------------------


class ApiMiddleware:
    """CORS, the rate limit and problem documents for everything under ``/api/``.

    Placed before the session middleware: a preflight, a 429 and a 405 are answered before
    anything reads a session, and the API's views never touch one, so no ``Vary: Cookie``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.rate = Rate.parse(settings.API_RATE_LIMIT)

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not request.path_info.startswith(API_PATH_PREFIX):
            return self.get_response(request)
        response = self._answer(request)
        for name, value in CORS_HEADERS.items():
            response[name] = value
        return response

    def _answer(self, request: HttpRequest) -> HttpResponseBase:
        if request.method == "OPTIONS":
            response = HttpResponse(status=204)
            response["Allow"] = PREFLIGHT_HEADERS["Access-Control-Allow-Methods"]
            for name, value in PREFLIGHT_HEADERS.items():
                response[name] = value
            return response
        if request.method not in SAFE_METHODS:
            return problem(
                405,
                "The API is read-only: GET, HEAD and OPTIONS.",
                headers={"Allow": "GET, HEAD, OPTIONS"},
            )
        outcome = hit("api", f"ip:{client_ip(request)}", self.rate)
        if not outcome.allowed:
            return problem(
                429,
                f"More than {self.rate.limit} requests in {self.rate.period} seconds from your "
                f"address; try again in {outcome.retry_after} seconds.",
                headers={"Retry-After": str(outcome.retry_after)},
            )
        # ninja routes GET only; a HEAD is the GET without its body (the server drops it).
        head = request.method == "HEAD"
        if head:
            request.method = "GET"
        response = self.get_response(request)
        if head:
            request.method = "HEAD"
        if response.status_code >= 400 and response.get("Content-Type", "") not in (
            PROBLEM_CONTENT_TYPE,
        ):
            # Django's own pages (an unknown path's HTML 404, a 500) in the API's voice.
            detail = {404: "Nothing is published at this address."}.get(response.status_code, "")
            # A 503 (the database is down) keeps telling clients when to come back.
            retry = {"Retry-After": response["Retry-After"]} if "Retry-After" in response else None
            return problem(response.status_code, detail, headers=retry)
        return response
