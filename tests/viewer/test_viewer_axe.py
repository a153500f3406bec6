"""Accessibility (issue 15.5): axe-core finds no serious or critical violation on the library, an
article, search results (with the suggestions open) and the card check, in light and dark mode,
with the interface in Korean and in English, on a phone-sized and a desktop screen.

axe-core is a dev-only npm package (node_modules/axe-core); it never goes into a bundle. The test
context bypasses the page's Content-Security-Policy so that Playwright may add axe's script.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infopack.build.assemble import build_bundle
from kit.comforts import LONG_SLUG, build_comfort_bundle
from kit.content import REPO

pytestmark = pytest.mark.browser
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")


@pytest.fixture(scope="module")
def bundles(tmp_path_factory) -> dict[str, Path]:
    if not AXE.exists():
        pytest.skip("axe-core is not installed (npm ci)")
    example = tmp_path_factory.mktemp("axe") / "bundle"
    build_bundle(REPO / "content", example)
    return {"example": example, "comforts": build_comfort_bundle(tmp_path_factory.mktemp("axe-comforts"))}


def _library(page) -> None:
    page.wait_for_selector(".list li")
    page.click("details.facets summary")  # opened on a phone, closed again on a desktop: both states


def _article_with_contents(page) -> None:
    page.wait_for_selector(".related li")
    page.wait_for_selector(".pager a")


def _suggestions(page) -> None:
    page.wait_for_selector(".list li")
    page.click("#search-input")
    page.keyboard.type("lanter", delay=20)
    page.wait_for_selector("#search-suggestions li")
    page.keyboard.press("ArrowDown")
    page.wait_for_selector("main .list li mark")


def _check(page) -> None:
    page.click("main button")
    page.wait_for_function("() => /온전합니다|intact/.test(document.querySelector('main p[aria-live]').textContent)")


VIEWS = {
    "library": ("example", "", _library),
    "article with media": ("example", "#/a/welcome", lambda page: page.wait_for_selector("article .body > *")),
    "article with contents": ("comforts", f"#/a/{LONG_SLUG}", _article_with_contents),
    "search results": ("example", "#/search?q=" + "도서관", lambda page: page.wait_for_selector("main .list li mark")),
    "suggestions": ("comforts", "", _suggestions),
    "card check": ("example", "#/check", _check),
}


SCREENS = {"phone": {"width": 360, "height": 740}, "desktop": {"width": 1100, "height": 760}}
# Every scheme and language on a phone; the desktop layout once in each scheme (the pairs cross).
CASES = [("phone", "light", "ko"), ("phone", "light", "en"), ("phone", "dark", "ko"), ("phone", "dark", "en"),
         ("desktop", "light", "en"), ("desktop", "dark", "ko")]  # fmt: skip


@pytest.mark.parametrize(("screen_name", "scheme", "ui"), CASES)
def test_axe_finds_no_serious_violation(browser, bundles, screen_name, scheme, ui):
    screen = SCREENS[screen_name]
    found = {}
    for name, (which, route, ready) in VIEWS.items():
        context = browser.new_context(bypass_csp=True, color_scheme=scheme, viewport=screen)
        try:
            page = context.new_page()
            page.set_default_timeout(10000)
            page.goto((bundles[which] / "index.html").as_uri() + route)
            page.wait_for_selector("main h1")
            if ui == "en":
                page.click("#lang-switch")
            ready(page)
            page.wait_for_timeout(200)
            page.add_script_tag(path=str(AXE))
            result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
            blocking = [
                (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3], v["nodes"][0].get("failureSummary", "")[:300])
                for v in result["violations"] if v["impact"] in BLOCKING
            ]  # fmt: skip
            if blocking:
                found[name] = blocking
        finally:
            context.close()
    assert not found, found
