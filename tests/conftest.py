"""Shared fixtures: a real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from kit.browser import CHROMIUM, CHROMIUM_ARGS

# Without these flags Chromium phones home at start-up; the machine has no network and we want a
# request log that only shows what the page itself asked for.


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        message = "Debian chromium is not installed (apt-get install chromium, or run tools/test.sh)"
        if os.environ.get("CI"):
            pytest.fail(message)  # in CI a skipped browser test would hide a broken viewer
        pytest.skip(message)
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    """A fresh context per test (no shared storage), recording every request URL it makes."""
    context = browser.new_context()
    pg = context.new_page()
    pg.requested_urls = []  # type: ignore[attr-defined]
    pg.console_errors = []  # type: ignore[attr-defined]
    pg.on("request", lambda req: pg.requested_urls.append(req.url))
    pg.on("pageerror", lambda exc: pg.console_errors.append(str(exc)))
    yield pg
    context.close()


def have(tool: str) -> bool:
    return shutil.which(tool) is not None


def pytest_collection_modifyitems(config, items):
    """Every test that drives a real browser carries the `browser` mark, so a quick run can skip
    them: `bash tools/test.sh -m "not browser"`."""
    for item in items:
        if {"browser", "page"} & set(getattr(item, "fixturenames", ())) or "viewer" in item.path.parts:
            item.add_marker(pytest.mark.browser)
