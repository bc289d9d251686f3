"""Browser tests: Playwright's Python package driving Debian's chromium against the live server.

Never `playwright install`: it downloads a browser, which cannot work here. CI installs the
`chromium` package instead (.ci/run).
"""

import os
import shutil

import pytest

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def chromium_path():
    path = shutil.which("chromium")
    if path is None:
        pytest.fail("Debian's chromium is not installed (apt-get install chromium); .ci/run installs it.")
    return path


@pytest.fixture
def browser_page(chromium_path, live_server, monkeypatch):
    """A fresh Chromium page; `page.base_url` is the live server's address."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django refuses ORM calls from a
    # thread with a running loop unless told this is deliberate.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_FLAGS, headless=True)
        context = browser.new_context(
            viewport={"width": 1280, "height": 800}, locale="en-GB", timezone_id="Europe/London"
        )
        page = context.new_page()
        page.base_url = live_server.url
        try:
            yield page
        finally:
            context.close()
            browser.close()


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)
