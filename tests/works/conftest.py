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
