import os

import pytest
from support import DEMO_FILE

# live_server and the ORM in one browser test run in the same thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


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
    from profiles.models import AuthorRecord
    from works.services import import_stream

    with DEMO_FILE.open("rb") as stream:
        import_stream(stream, source_label="Demo data")
    return AuthorRecord.objects.get(slug="zhengyan-zhang")
