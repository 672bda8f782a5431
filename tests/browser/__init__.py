"""Browser tests: a package, so that its Chromium is closed when its tests end (conftest.py)."""
