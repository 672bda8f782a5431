"""Chromium for browser tests: `browser` (one for this folder's tests) and `page` / `phone_page`.

Debian's chromium at /usr/bin/chromium is used, never a downloaded one; without
it every test asking for these fixtures is skipped with the reason. Tests that
use them are marked `browser`, run against `live_server` and need
`@pytest.mark.django_db(transaction=True)` so the server thread sees their data.
Screenshots go under test-output/ (git-ignored) through `screenshot_path`.
"""

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
# Generous: the suite often shares a small machine with other suites and benchmarks.
TIMEOUT_MS = 20_000
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output"


# Per package (this folder; __init__.py makes it one), not per session: between its calls,
# Playwright's sync API leaves its event loop marked as running in the thread, so a browser
# test elsewhere that starts its own Playwright, or any asyncio, would meet it. pytest closes
# a package's fixtures before a test outside it runs, and pytest-django runs the
# transactional tests, these among them, together: a Chromium per run of consecutive browser
# tests, instead of one per module (about 0.7 s each).
@pytest.fixture(scope="package")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield launched
        launched.close()


def _new_page(browser, viewport, **context_options):
    context = browser.new_context(viewport=viewport, **context_options)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    return context, page


@pytest.fixture
def page(browser):
    """A desktop-sized page (1280 wide) in a fresh context: no cookies shared between tests."""
    context, new_page = _new_page(browser, DESKTOP)
    yield new_page
    context.close()


@pytest.fixture
def phone_page(browser):
    """A phone-sized page (390 wide)."""
    context, new_page = _new_page(browser, PHONE, is_mobile=True, has_touch=True)
    yield new_page
    context.close()


@pytest.fixture
def no_script_page(browser):
    """A desktop page with JavaScript off: pages must work without it."""
    context, new_page = _new_page(browser, DESKTOP, java_script_enabled=False)
    yield new_page
    context.close()


@pytest.fixture
def screenshot_path():
    """screenshot_path("profile-desktop") -> test-output/profile-desktop.png (folder created)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    return lambda name: str(SCREENSHOTS / f"{name}.png")
