import os

import pytest
from support import DEMO_FILE

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


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.DEBUG = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.ARXIV_REQUEST_INTERVAL = 0.0


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def demo(db):
    """The demo researcher and their nine works, imported through the importer."""
    from works.models import AuthorRecord
    from works.services import import_stream

    with DEMO_FILE.open("rb") as stream:
        import_stream(stream, source_label="Demo data")
    return AuthorRecord.objects.get(slug="zhengyan-zhang")


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
