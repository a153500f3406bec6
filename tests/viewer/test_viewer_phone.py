"""The viewer on a phone-sized screen (issue 15.4), measured in Chromium at 360×740, default text
size: the header takes at most a sixth of the height, the first screen shows three articles, every
control is at least 44 px each way, the two language controls cannot be taken for each other,
Korean counts read the Korean way, and the safety page tells phone readers what to do.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infopack.build.assemble import build_bundle
from kit.comforts import LONG_SLUG, build_comfort_bundle
from kit.content import REPO

pytestmark = pytest.mark.browser
PHONE = {"width": 360, "height": 740}
MIN_TARGET = 44


@pytest.fixture(scope="module")
def example(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("phone") / "bundle"
    build_bundle(REPO / "content", out)
    return out


@pytest.fixture(scope="module")
def comforts(tmp_path_factory) -> Path:
    return build_comfort_bundle(tmp_path_factory.mktemp("phone-comforts"))


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(10000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    assert errors == []
    context.close()


def open_on(page, bundle: Path, route: str, ready: str, ui: str) -> None:
    page.goto((bundle / "index.html").as_uri() + route)
    page.wait_for_selector(ready)
    if ui == "en":
        page.click("#lang-switch")
        page.wait_for_selector(ready)
    page.wait_for_timeout(200)


@pytest.mark.parametrize("ui", ["ko", "en"])
def test_header_takes_at_most_a_sixth_of_a_phone_screen(phone, example, ui):
    open_on(phone, example, "", ".list li", ui)
    height = phone.evaluate("document.querySelector('header.bar').getBoundingClientRect().height")
    assert height <= PHONE["height"] / 6, height
    # The title stays on one line (cut short with an ellipsis) instead of pushing the header down.
    assert phone.evaluate("getComputedStyle(document.getElementById('home-link')).whiteSpace") == "nowrap"


@pytest.mark.parametrize("ui", ["ko", "en"])
def test_first_phone_screen_shows_three_articles_with_facets_folded(phone, example, ui):
    open_on(phone, example, "", ".list li", ui)
    assert phone.evaluate("document.querySelector('details.facets').open") is False
    bottoms = phone.eval_on_selector_all("main .list li a.title", "links => links.map(a => a.getBoundingClientRect().bottom)")
    assert len([b for b in bottoms if b <= PHONE["height"]]) >= 3, bottoms
    # One control opens languages, topics and years.
    phone.click("details.facets summary")
    assert phone.is_visible("main a.chip[data-route^='/tag/']") and phone.is_visible("main a.chip[data-route^='/lang/']")


def test_facets_stay_open_on_a_wide_screen(page, example):
    page.goto((example / "index.html").as_uri())
    page.wait_for_selector(".list li")
    assert page.evaluate("document.querySelector('details.facets').open") is True


# Everything a reader taps, outside running article text (links inside a sentence are exempt, as in
# WCAG's target-size rule). Each view is checked with what it shows on a phone.
TARGETS = ("header button, header input, header a, main > .view > p > a, details summary, main a.chip, "
           "main .list a.title, main button, .pager a, .toc a, .related a, footer a, #search-suggestions li")  # fmt: skip


def small_targets(page) -> list:
    return page.evaluate(
        """(selector) => [...document.querySelectorAll(selector)].filter(n => n.getClientRects().length)
            .map(n => { const r = n.getBoundingClientRect(); return [n.textContent.trim().slice(0, 30), Math.round(r.width), Math.round(r.height)]; })
            .filter(([, w, h]) => w < 44 || h < 44)""",
        TARGETS,
    )


@pytest.mark.parametrize("ui", ["ko", "en"])
def test_tap_targets_are_at_least_44_px(phone, comforts, ui):
    open_on(phone, comforts, "", ".list li", ui)
    phone.click("details.facets summary")
    assert small_targets(phone) == []
    phone.click(f"main a.title[data-route='/a/{LONG_SLUG}']")
    phone.wait_for_selector(".related li")
    phone.wait_for_selector(".pager a")
    assert phone.query_selector(".toc a") is not None
    assert small_targets(phone) == []
    phone.fill("#search-input", "lanter")
    phone.wait_for_selector("#search-suggestions li")
    phone.wait_for_selector("main .list li mark")
    assert small_targets(phone) == []


def test_interface_switch_and_article_language_filter_are_told_apart(phone, example):
    open_on(phone, example, "", ".list li", "ko")
    switch = phone.inner_text("#lang-switch")
    assert switch.startswith("메뉴") and "English" in switch
    # The switch lives in the header; the articles' language filter in the page, under its own label.
    assert phone.evaluate("!!document.getElementById('lang-switch').closest('header')")
    phone.click("details.facets summary")
    group = phone.locator("main nav.filters", has=phone.locator("a.chip[data-route^='/lang/']"))
    assert group.get_attribute("aria-label") == "글의 언어"
    assert group.inner_text().startswith("글의 언어:")
    phone.click("#lang-switch")
    phone.wait_for_selector(".list li")
    assert phone.inner_text("#lang-switch").startswith("Menus") and "한국어" in phone.inner_text("#lang-switch")
    assert "articles stay" in phone.get_attribute("#lang-switch", "title")
    assert phone.locator("main nav.filters", has=phone.locator("a.chip[data-route^='/lang/']")).get_attribute("aria-label") == "Articles in"


def test_counts_are_written_the_korean_way(phone, example):
    open_on(phone, example, "", ".list li", "ko")
    assert phone.inner_text("main .count") == "9개의 글"
    phone.goto((example / "index.html").as_uri() + "#/search?q=" + "도서관")
    phone.wait_for_selector("main .list li mark")
    status = phone.inner_text("main p[aria-live]")
    assert status.endswith("개의 결과") and " 개" not in status, status
    phone.click("#lang-switch")
    phone.wait_for_selector("main .list li mark")
    assert phone.inner_text("main p[aria-live]").endswith(" results")


@pytest.mark.parametrize(("ui", "words"), [("ko", ["안드로이드", "⋮", "인터넷 사용 기록 삭제", "Ctrl+Shift+Delete"]),
                                            ("en", ["Android", "⋮", "Delete browsing data", "Ctrl+Shift+Delete"])])  # fmt: skip
def test_safety_page_gives_phone_steps_as_well_as_keyboard_ones(phone, example, ui, words):
    open_on(phone, example, "#/safety", "main h2", ui)
    text = phone.inner_text("main")
    for word in words:
        assert word in text
    assert phone.eval_on_selector_all("main h2", "hs => hs.length") >= 2
