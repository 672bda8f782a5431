"""Paths and small helpers shared by test modules (importable as ``support``)."""

from pathlib import Path

TESTS = Path(__file__).resolve().parent
FIXTURES = TESTS / "fixtures" / "arxiv"
DEMO_FILE = TESTS.parent / "works" / "demo" / "zhengyan-zhang.arxivraw.xml"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()
