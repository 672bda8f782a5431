from collections.abc import Callable

import pytest
from support import fixture_bytes


@pytest.fixture
def fixture() -> Callable[[str], bytes]:
    """``fixture("api_idlist_single_1605.08386.atom.xml") -> bytes``."""
    return fixture_bytes
