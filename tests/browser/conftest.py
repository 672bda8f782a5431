"""Chromium for browser tests: `browser` (one for this folder's tests) and `page` / `phone_page`.

Debian's Chromium is used, never a downloaded one: its headless shell
(/usr/bin/chromium-headless-shell) when installed, else /usr/bin/chromium; without
either every test asking for these fixtures is skipped with the reason. Tests that
use them are marked `browser`, run against `live_server` and need
`@pytest.mark.django_db(transaction=True)` so the server thread sees their data.
Screenshots go under test-output/ (git-ignored) through `screenshot_path`.
"""

from pathlib import Path

import pytest

# The headless shell first: Debian builds it from the same Chromium source as the browser
# (same Blink, same V8), without the full browser that Chromium's new headless mode runs. On
# this suite's pages it spends a third of the CPU (a new context 0.09 s against 0.30 s, the
# browser tests 38 CPU seconds against 57-65), and CPU is what a parallel run on 2 cores waits for.
CHROMIUM_BINARIES = (Path("/usr/bin/chromium-headless-shell"), Path("/usr/bin/chromium"))
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
    chromium = next((binary for binary in CHROMIUM_BINARIES if binary.exists()), None)
    if chromium is None:
        pytest.skip(
            "needs Debian's Chromium: /usr/bin/chromium-headless-shell or /usr/bin/chromium "
            "(apt-get install -y chromium-headless-shell chromium)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(chromium), args=LAUNCH_ARGS)
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
