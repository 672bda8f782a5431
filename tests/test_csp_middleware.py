"""The Content-Security-Policy middleware: the header built once is django-csp's header."""

import pytest
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from django.http import HttpResponse
from django.test import RequestFactory

from bzpeer.lib.csp import CSPMiddleware


def _headers(middleware_class, response=None, *, nonce=False, path="/"):
    request = RequestFactory().get(path)
    middleware = middleware_class(lambda request: response or HttpResponse("ok"))
    middleware.process_request(request)
    used_nonce = str(request.csp_nonce) if nonce else None
    answered = middleware.process_response(request, response or HttpResponse("ok"))
    return answered.get("Content-Security-Policy"), used_nonce


def test_the_header_is_django_csps_and_the_same_on_every_response():
    ours, _ = _headers(CSPMiddleware)

    assert ours == _headers(DjangoCSPMiddleware)[0]
    assert "script-src 'self'" in ours
    assert _headers(CSPMiddleware)[0] == ours


@pytest.mark.django_db
def test_every_page_carries_it(client):
    expected = _headers(DjangoCSPMiddleware)[0]

    assert client.get("/")["Content-Security-Policy"] == expected
    assert client.get("/search/?q=x")["Content-Security-Policy"] == expected


def test_a_nonce_or_a_view_override_takes_django_csps_own_path():
    # No directive asks for a nonce here: the header is the same, built the long way.
    assert _headers(CSPMiddleware, nonce=True)[0] == _headers(DjangoCSPMiddleware, nonce=True)[0]

    response = HttpResponse("ok")
    response._csp_update = {"img-src": ["data:"]}
    updated, _ = _headers(CSPMiddleware, response)
    assert "data:" in updated
    assert "data:" not in _headers(CSPMiddleware)[0]


def test_a_changed_setting_is_built_again(settings):
    before, _ = _headers(CSPMiddleware)
    settings.CONTENT_SECURITY_POLICY = {
        "DIRECTIVES": {
            **settings.CONTENT_SECURITY_POLICY["DIRECTIVES"],
            "img-src": ["'self'", "data:"],
        }
    }

    after, _ = _headers(CSPMiddleware)

    assert after != before
    assert "img-src 'self' data:" in after


def test_an_excluded_prefix_and_an_exempt_response_get_no_header(settings):
    settings.CONTENT_SECURITY_POLICY = {
        **settings.CONTENT_SECURITY_POLICY,
        "EXCLUDE_URL_PREFIXES": ["/skip/"],
    }
    assert _headers(CSPMiddleware, path="/skip/this/")[0] is None

    exempt = HttpResponse("ok")
    exempt._csp_exempt = True
    assert _headers(CSPMiddleware, exempt)[0] is None
