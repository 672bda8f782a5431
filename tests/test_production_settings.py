"""Production defaults: HTTPS settings on without DEBUG, no weak secret key, check --deploy clean.

bzpeer/settings.py is evaluated afresh under a given environment (the test suite's own settings
turn HTTPS off for the test client), starting from the variables .env.example documents.
"""

import os
import re
import runpy
from pathlib import Path
from unittest import mock

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.test import override_settings

ROOT = Path(__file__).resolve().parents[1]
STRONG_KEY = "k3Y-for-tests-only_9f8e7d6c5b4a39281706f5e4d3c2b1a0ZYXWVUTSRQ"


def documented_environment() -> dict[str, str]:
    """The variables of .env.example, as docker compose's env_file reads them."""
    env = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, _, value = line.partition("=")
        env[name.strip()] = re.split(r"\s+#", value, maxsplit=1)[0].strip()
    return env


def production_environment(**changes: str) -> dict[str, str]:
    """What an operator runs with: .env.example, their own secret key, compose's variables."""
    env = {**documented_environment(), "DJANGO_SECRET_KEY": STRONG_KEY, "DJANGO_DEBUG": "0"}
    env.update(changes)
    return {name: value for name, value in env.items() if value is not None}


def load_settings(env: dict[str, str]) -> dict:
    with mock.patch.dict(os.environ, env, clear=True):
        namespace = runpy.run_path(str(ROOT / "bzpeer" / "settings.py"))
    return {name: value for name, value in namespace.items() if name.isupper()}


def test_without_debug_the_site_is_https_only_by_default():
    env = production_environment()
    env.pop("DJANGO_SECURE_SSL")
    env.pop("DJANGO_HSTS_INCLUDE_SUBDOMAINS")

    loaded = load_settings(env)

    assert loaded["SECURE_SSL_REDIRECT"] is True
    assert loaded["SESSION_COOKIE_SECURE"] is True
    assert loaded["CSRF_COOKIE_SECURE"] is True
    assert loaded["SECURE_HSTS_SECONDS"] == 3600
    assert loaded["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert loaded["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")


@pytest.mark.parametrize(
    "changes", [{"DJANGO_SECURE_SSL": "0"}, {"DJANGO_DEBUG": "1", "DJANGO_SECURE_SSL": None}]
)
def test_plain_http_only_when_asked_or_in_debug(changes):
    env = production_environment(**changes)
    if "DJANGO_SECURE_SSL" in changes and changes["DJANGO_SECURE_SSL"] is None:
        env.pop("DJANGO_SECURE_SSL", None)

    loaded = load_settings(env)

    for name in ("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "SECURE_HSTS_SECONDS"):
        assert name not in loaded


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("change-me", "DJANGO_SECRET_KEY is the placeholder 'change-me' from .env.example"),
        ("CHANGEME", "DJANGO_SECRET_KEY is the placeholder 'CHANGEME' from .env.example"),
        ("tests-only-secret-key", "DJANGO_SECRET_KEY is too short (21 characters, at least 50)"),
        ("a" * 60, "DJANGO_SECRET_KEY has fewer than 5 different characters"),
        ("django-insecure-" + "x1y2z3" * 10, "DJANGO_SECRET_KEY is a development key"),
        ("", "DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off"),
    ],
)
def test_a_weak_secret_key_stops_the_start_up_with_a_clear_message(key, message):
    with pytest.raises(ImproperlyConfigured) as refused:
        load_settings(production_environment(DJANGO_SECRET_KEY=key))

    assert str(refused.value).startswith(message)
    assert "secrets.token_urlsafe(50)" in str(refused.value)


def test_the_documented_example_key_is_refused():
    with pytest.raises(ImproperlyConfigured, match="placeholder"):
        load_settings({**documented_environment(), "DJANGO_DEBUG": "0"})


def test_debug_runs_without_a_key():
    assert load_settings({"DJANGO_DEBUG": "1"})["SECRET_KEY"]


# Settings that name services or processes rather than behaviour: the test's own stay.
_KEEP = {"DATABASES", "CACHES", "LOGGING", "STATIC_ROOT", "STORAGES"}


def test_check_deploy_is_clean_with_the_documented_production_variables(capsys):
    production = load_settings(production_environment())
    overrides = {name: value for name, value in production.items() if name not in _KEEP}

    # tests/conftest.py allows async-unsafe calls for live_server; production never does.
    with mock.patch.dict(os.environ), override_settings(**overrides):
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        call_command("check", deploy=True, fail_level="DEBUG")

    assert capsys.readouterr().out.strip() == "System check identified no issues (1 silenced)."


def test_the_embedded_default_makes_a_key_of_its_own_once(tmp_path):
    from bzpeer.lib.env import local_secret_key

    key = local_secret_key(tmp_path / "var" / "secret_key")

    assert len(key) >= 50 and key == local_secret_key(tmp_path / "var" / "secret_key")
    assert (tmp_path / "var" / "secret_key").stat().st_mode & 0o777 == 0o600
    # With nothing set (SQLite, no key, no DEBUG) a management command starts.
    assert load_settings({})["SECRET_KEY"]


def test_a_database_without_a_key_is_refused():
    with pytest.raises(ImproperlyConfigured, match="required when DJANGO_DEBUG is off"):
        load_settings({"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/x"})


def test_orcid_is_off_without_a_client_id_and_forms_post_only_here():
    loaded = load_settings(production_environment())

    assert loaded["ORCID_CLIENT_ID"] == ""
    assert loaded["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]["form-action"] == ["'self'"]


@pytest.mark.parametrize(
    ("base", "api"),
    [
        ("https://orcid.org", "https://pub.orcid.org/v3.0"),
        ("https://sandbox.orcid.org/", "https://pub.sandbox.orcid.org/v3.0"),
        ("http://127.0.0.1:8766", "http://127.0.0.1:8766/v3.0"),
    ],
)
def test_orcid_configured_lets_the_sign_in_form_go_to_orcid(base, api):
    loaded = load_settings(
        production_environment(
            ORCID_CLIENT_ID="APP-0123456789ABCDEF",
            ORCID_CLIENT_SECRET="secret",
            ORCID_BASE_URL=base,
        )
    )

    assert loaded["ORCID_API_URL"] == api
    assert loaded["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]["form-action"] == [
        "'self'",
        base.rstrip("/"),
    ]


def test_a_bad_orcid_base_url_stops_the_start():
    with pytest.raises(ImproperlyConfigured, match="ORCID_BASE_URL"):
        load_settings(production_environment(ORCID_BASE_URL="orcid.org"))
