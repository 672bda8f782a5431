from collections.abc import Callable
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "arxiv"


def read_fixture(name: str) -> bytes:
    """Bytes of one file in tests/fixtures/arxiv/."""
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def fixture() -> Callable[[str], bytes]:
    """``fixture("api_idlist_single_1605.08386.atom.xml") -> bytes``."""
    return read_fixture


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
