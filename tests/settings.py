"""Settings for the test suite: the real settings, with a throwaway secret key, over plain HTTP.

The real module refuses to start without a strong DJANGO_SECRET_KEY when DEBUG is off, and
tests run with DEBUG off; the test client speaks plain HTTP, so HTTPS-only settings (on by
default without DEBUG) are off. tests/test_production_settings.py checks the production
defaults themselves. Everything else comes from the environment as in production
(DATABASE_URL, REDIS_URL), so CI exercises both configurations.

`make test` runs the suite in several processes (pytest-xdist). Each one gets
its own PostgreSQL test database from pytest-django (test_<name>_gw0, ...) and
its own namespace on the shared Redis database, below: cache keys, Celery's
queues and the arXiv request slot all start with it, so a process clearing its
cache between tests, or a worker taking tasks off a queue, never touches
another process's keys.
"""

import os

os.environ.setdefault(
    "DJANGO_SECRET_KEY", "tests-only-secret-key-long-enough-for-the-start-up-check-0123456789"
)
os.environ.setdefault("DJANGO_SECURE_SSL", "0")

from bzpeer.settings import *  # noqa: E402,F403
from bzpeer.settings import CELERY_BROKER_TRANSPORT_OPTIONS, REDIS_URL  # noqa: E402

# Tests serve static files through the finders; there is no collected folder.
STATIC_ROOT = None
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Set here once, not per test: overriding DEBUG in a test (pytest-django's `settings`) resets
# the template engines, and every test then compiled its templates again.
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
ARXIV_REQUEST_INTERVAL = 0.0

# "bzpeer-test-gw0" in an xdist worker, "bzpeer-test-main" in a run without xdist;
# tests/works/test_worker_e2e.py hands the Celery worker it starts a namespace of its own.
TEST_NAMESPACE = os.environ.get("BZPEER_TEST_NAMESPACE") or (
    f"bzpeer-test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
)


def celery_keyprefix(namespace: str) -> str:
    """Where Celery keeps its queues under a namespace (kombu's global_keyprefix)."""
    return f"{namespace}:celery:"


ARXIV_RATE_LIMIT_KEY = f"{TEST_NAMESPACE}:arxiv:next-slot"
if REDIS_URL:
    CACHES = {"default": {**CACHES["default"], "KEY_PREFIX": TEST_NAMESPACE}}  # noqa: F405
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        **CELERY_BROKER_TRANSPORT_OPTIONS,
        "global_keyprefix": celery_keyprefix(TEST_NAMESPACE),
    }

# One process: the local-memory cache is shared by everything that writes, so the tests serve
# the profile page from the cache without a query in both configurations.
PAGE_CACHE_SHARED = True

# WhiteNoise looks static files up when they are asked for, not when its middleware starts:
# every test Client builds the middleware chain again, and scanning the finders' files (the
# admin's, allauth's, the API docs') cost 7 ms a Client, about 7 s of a serial run.
WHITENOISE_AUTOREFRESH = True

# On SQLite the test database is built from the models (Django's TEST MIGRATE off): replaying
# the migrations rendered every intermediate state and cost each test process 2.7 s. On
# SQLite they build exactly the models' schema (their RunPython steps are PostgreSQL's
# indexes and data moves of an empty database), tests/test_migrations.py holds models and
# migrations to each other, and the PostgreSQL run migrates for real.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {**DATABASES["default"].get("TEST", {}), "MIGRATE": False}  # noqa: F405
