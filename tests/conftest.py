import os

import pytest
import template_db
from support import DEMO_FILE, delete_redis_namespace, leave_any_task

# live_server and the ORM in one browser test run in the same thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session", autouse=True)
def _tasks_registered():
    """Every app's tasks registered before any test, as a worker does when it starts.

    Otherwise the first task queued by name imports them in the middle of a test, and Celery's
    Django fix-up then sets Django up again: the logging configuration is applied anew, which
    drops pytest's log capture from the root logger for that test.
    """
    from bzpeer.celery import app

    app.loader.import_default_modules()


# The controller's build of the test template (tests/template_db.py), when it started one.
_template_build = pytest.StashKey["threading.Thread"]()


def pytest_configure(config):
    """The controller of a parallel run on PostgreSQL builds the test template meanwhile."""
    controller = getattr(config, "workerinput", None) is None
    if controller and config.getoption("numprocesses", None) and template_db.wanted():
        config.stash[_template_build] = template_db.build_in_background()


def pytest_unconfigure(config):
    if _template_build in config.stash:
        template_db.drop(config.stash[_template_build])


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, request):
    """A process of a parallel run on PostgreSQL copies the migrated template
    (tests/template_db.py) instead of running every migration itself."""
    if getattr(request.config, "workerinput", None) is None:
        return
    from django.conf import settings

    if template_db.wanted():
        settings.DATABASES["default"]["TEST"]["TEMPLATE"] = template_db.ensure()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker, request):
    """pytest-django's test database, and no session left on it when it is dropped.

    A live_server request thread, or a Celery worker the worker test killed, can leave a
    session behind; PostgreSQL then refuses to drop the database ("is being accessed by other
    users") and the next run meets it. Terminating them was not enough: a live server still
    answering a browser's last request connected again before the drop (a warning in two
    PostgreSQL runs of the thirtieth session). So the database first stops taking sessions
    (from the server's maintenance database: not for the current one), unless it is kept for
    the next run (--reuse-db). This teardown runs before pytest-django's, which drops it from
    there too.
    """
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    name = connection.settings_dict["NAME"]
    with django_db_blocker.unblock():
        connection.close()
        with connection._nodb_cursor() as cursor:
            if not request.config.getoption("reuse_db", False):
                quoted = connection.ops.quote_name(name)
                cursor.execute(f"ALTER DATABASE {quoted} ALLOW_CONNECTIONS false")
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                [name],
            )


# Filled by migrations, never by a test: kept across flushes, so the post_migrate handlers that
# run after each flush find every content type and permission there and write nothing.
KEPT_BY_FLUSH = frozenset({"django_content_type", "auth_permission"})


@pytest.fixture(scope="session", autouse=True)
def _cheap_flush():
    """Transactional tests (live_server, browsers, workers) empty the tables with DELETE.

    Django flushes PostgreSQL with one TRUNCATE of every table: new files for each of them,
    about 0.3-1 s a test on this machine, against a few milliseconds to DELETE a test's
    handful of rows (SQLite already DELETEs). The flush runs in one transaction and Django's
    foreign keys are DEFERRABLE INITIALLY DEFERRED, so the order does not matter. Content
    types and permissions stay (KEPT_BY_FLUSH): re-creating them after every flush cost
    another 0.15 s. A flush that resets sequences or cascades is Django's own.
    """
    from django.core.management import sql
    from django.core.management.commands import flush

    def sql_flush(style, connection, reset_sequences=True, allow_cascade=False):
        if reset_sequences or allow_cascade:
            return sql.sql_flush(style, connection, reset_sequences, allow_cascade)
        tables = connection.introspection.django_table_names(
            only_existing=True, include_views=False
        )
        quote = connection.ops.quote_name
        return [f"DELETE FROM {quote(table)};" for table in tables if table not in KEPT_BY_FLUSH]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(flush, "sql_flush", sql_flush)
        yield


@pytest.fixture(scope="session")
def _redis_namespace():
    """A client for this process's namespace on REDIS_URL (None without Redis).

    Emptied when the session starts (leftovers of an interrupted run) and when it ends.
    """
    from django.conf import settings

    if not settings.REDIS_URL:
        yield None
        return
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=5)
    delete_redis_namespace(client, settings.TEST_NAMESPACE)
    yield client
    delete_redis_namespace(client, settings.TEST_NAMESPACE)
    client.close()


@pytest.fixture(autouse=True)
def _clear_cache(_redis_namespace):
    """Every test starts with an empty cache and no queued tasks.

    On Redis only this process's keys go (cache and Celery's queues): not FLUSHDB, which in a
    parallel run would empty the other processes' cache in the middle of their tests.
    """
    from django.conf import settings
    from django.core.cache import cache

    from profiles import page_cache
    from works import catalogue_pages

    if _redis_namespace is None:
        cache.clear()
    else:
        delete_redis_namespace(_redis_namespace, settings.TEST_NAMESPACE)
    # The pages this process keeps in memory went with the database rows they showed.
    page_cache.clear_local()
    catalogue_pages.clear_local()
    # No test runs inside a task, whatever an earlier test's threads left behind.
    leave_any_task()
    yield


@pytest.fixture
def demo(db):
    """The demo researcher and their nine works, imported through the importer.

    Once per process: later tests get the rows that import wrote (tests/demo_rows.py).
    """
    from tests.demo_rows import import_demo
    from works.models import AuthorRecord
    from works.services import import_stream

    def real_import():
        with DEMO_FILE.open("rb") as stream:
            import_stream(stream, source_label="Demo data")

    import_demo(real_import)
    return AuthorRecord.objects.get(slug="zhengyan-zhang")


@pytest.fixture
def one_ratelimit_window(monkeypatch):
    """bzpeer.lib.ratelimit's clock stopped a second into a UTC day.

    Its windows are fixed (one minute, ten, an hour, a day) and all begin at midnight UTC, so
    every hit of the test counts in one window of each length. On the real clock, a test that
    makes thirty-one requests to see the last one refused fails when they straddle a
    minute's end: the count starts again (a slow machine makes that likelier).
    """
    import time
    from types import SimpleNamespace

    from bzpeer.lib import ratelimit

    now = time.time() // 86400 * 86400 + 1
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: now))
    return now


@pytest.fixture
def fake_arxiv(settings):
    """A fake arXiv on 127.0.0.1 (tests/fakearxiv.py) that the app's settings point at."""
    from tests.fakearxiv import FakeArxiv

    with FakeArxiv() as fake:
        settings.ARXIV_API_URL = fake.api_url
        settings.ARXIV_OAI_URL = fake.oai_url
        yield fake


@pytest.fixture
def eager_tasks():
    """Run queued tasks in-process, also when REDIS_URL configures a real broker."""
    from bzpeer.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def fake_orcid(settings):
    """A fake ORCID on 127.0.0.1 (tests/fakeorcid.py), configured as the site's ORCID: the
    sign-in buttons show, and the public API is the fake's. Without this fixture ORCID is not
    configured at all, as on a site without ORCID_CLIENT_ID."""
    from tests.fakeorcid import CLIENT_ID, CLIENT_SECRET, FakeOrcid

    with FakeOrcid() as fake:
        settings.ORCID_CLIENT_ID = CLIENT_ID
        settings.ORCID_CLIENT_SECRET = CLIENT_SECRET
        settings.ORCID_BASE_URL = fake.base_url
        settings.ORCID_API_URL = fake.api_url
        settings.ORCID_REQUEST_INTERVAL = 0.0
        # As bzpeer/settings.py does with ORCID configured (tests/test_production_settings.py).
        policy = settings.CONTENT_SECURITY_POLICY
        settings.CONTENT_SECURITY_POLICY = {
            **policy,
            "DIRECTIVES": {
                **policy["DIRECTIVES"],
                "form-action": [*policy["DIRECTIVES"]["form-action"], fake.base_url],
            },
        }
        yield fake
