"""A reader's comforts in Chromium (issue 15.3): contents, related articles, previous/next in the
current list, a random article, title suggestions, image captions. Each must work, and none may
put anything in the address, the title or the history (issue 10): a jump inside an article is a
scroll, never a fragment; a suggestion is followed in memory like any viewer link.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from urllib.parse import quote

import pytest

from kit.browser import CHROMIUM, CHROMIUM_ARGS
from kit.comforts import (
    ALT_CAPTION,
    BUNDLE_TITLE,
    CRANE_ALIAS,
    KO_TITLES,
    LANTERNS,
    LONG_SLUG,
    LONG_TITLE,
    RELATED_OTHER_LANGUAGE,
    RELATED_SAME_LANGUAGE,
    SECTIONS,
    TITLE_CAPTION,
    UNRELATED,
    build_comfort_bundle,
)

pytestmark = pytest.mark.browser
WHERE = "[location.href, document.title, history.length]"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    return build_comfort_bundle(tmp_path_factory.mktemp("comforts"))


def open_view(page, bundle: Path, route: str = "", ready: str = "main h1"):
    page.set_default_timeout(10000)
    page.goto((bundle / "index.html").as_uri() + route)
    page.wait_for_selector(ready)
    return page.evaluate(WHERE)


def open_long_article(page, bundle: Path):
    """Opened from the library by a click, so the address is the bare file."""
    where = open_view(page, bundle, "", ".list li")
    page.click(f".list li a.title:has-text('{LONG_TITLE}')")
    page.wait_for_selector("article .toc")
    return where


def test_contents_list_the_sections_and_jump_without_a_fragment(page, bundle):
    where = open_long_article(page, bundle)
    assert page.eval_on_selector_all(".toc a", "links => links.map(a => a.textContent)") == SECTIONS
    assert page.eval_on_selector_all(".toc li.toc-sub a", "links => links.map(a => a.textContent)") == [SECTIONS[2]]
    # The contents come first in the article body, before the text.
    assert page.evaluate("document.querySelector('article .body').firstElementChild.classList.contains('toc')")
    page.click(f".toc a:has-text('{SECTIONS[3]}')")
    page.wait_for_function(f"() => document.activeElement && document.activeElement.textContent === {SECTIONS[3]!r}")
    box = page.evaluate(f"""(() => {{
        const h = [...document.querySelectorAll('article h2')].find(n => n.textContent === {SECTIONS[3]!r});
        return [h.getBoundingClientRect().top, document.querySelector('.bar').getBoundingClientRect().bottom, window.scrollY];
    }})()""")
    assert box[2] > 500 and box[0] >= box[1], box  # scrolled, and the heading is not under the sticky header
    # Keyboard: Enter on a contents link jumps too.
    page.evaluate("window.scrollTo(0, 0)")
    page.focus(f".toc a:has-text('{SECTIONS[1]}')")
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => document.activeElement.textContent === {SECTIONS[1]!r}")
    assert page.evaluate(WHERE) == where
    assert page.evaluate("location.hash") == ""
    assert page.console_errors == []


def test_short_article_has_no_contents(page, bundle):
    open_view(page, bundle, "#/a/soil-notes", "article .body > *")
    assert page.query_selector("article .toc") is None


def test_related_articles_share_topics_in_the_same_language(page, bundle):
    where = open_long_article(page, bundle)
    page.wait_for_selector(".related li")
    related = page.eval_on_selector_all(".related li a", "links => links.map(a => a.textContent)")
    assert related == RELATED_SAME_LANGUAGE  # two shared topics before one
    assert RELATED_OTHER_LANGUAGE not in related and UNRELATED not in related and LONG_TITLE not in related
    page.click(f".related a:has-text('{RELATED_SAME_LANGUAGE[1]}')")
    page.wait_for_selector(f"article h1:has-text('{RELATED_SAME_LANGUAGE[1]}')")
    assert page.evaluate(WHERE) == where


def _titles_in_list(page) -> list[str]:
    return page.eval_on_selector_all("main .list li a.title", "links => links.map(a => a.textContent)")


def test_previous_and_next_follow_the_topic_list_the_reader_came_from(page, bundle):
    where = open_view(page, bundle, "", ".list li")
    if not page.evaluate("document.querySelector('details.facets').open"):
        page.click("details.facets summary")  # facets fold behind one control on a narrow screen
    page.click("main a.chip:has-text('lantern')")
    page.wait_for_function("() => document.querySelectorAll('main .list li').length === 12")
    titles = _titles_in_list(page)
    assert sorted(titles) == LANTERNS
    page.click(f"main .list li a.title:has-text('{titles[1]}')")
    page.wait_for_selector(f"article h1:has-text('{titles[1]}')")
    page.wait_for_selector(".pager a[rel='next']")
    assert page.inner_text(".pager a[rel='prev']") == "← " + titles[0]
    assert page.inner_text(".pager a[rel='next']") == titles[2] + " →"
    assert "2" in page.inner_text(".pager-where") and "12" in page.inner_text(".pager-where")
    # The arrow keys walk the same list, through the end.
    page.click("article h1")
    for index in range(2, 12):
        page.keyboard.press("ArrowRight")
        page.wait_for_selector(f"article h1:has-text('{titles[index]}')")
        page.wait_for_selector(".pager a[rel='prev']")
    assert page.query_selector(".pager a[rel='next']") is None  # the end of the topic, not the library
    # Back to the topic list, not to the library.
    page.click("main a[data-back]")
    page.wait_for_function("() => document.querySelectorAll('main .list li').length === 12")
    assert page.inner_text("main h1") == "lantern"
    assert page.evaluate(WHERE) == where


def test_previous_and_next_follow_search_results(page, bundle):
    where = open_view(page, bundle, "", ".list li")
    page.fill("#search-input", "lantern")
    page.wait_for_function("() => document.querySelectorAll('main .list li a.title mark').length === 12")
    titles = _titles_in_list(page)
    page.keyboard.press("Escape")
    page.click(f"main .list li a.title:has-text('{titles[4]}')")
    page.wait_for_selector(f"article h1:has-text('{titles[4]}')")
    page.wait_for_selector(".pager a[rel='next']")
    assert page.inner_text(".pager a[rel='next']") == titles[5] + " →"
    assert page.inner_text(".pager a[rel='prev']") == "← " + titles[3]
    assert page.evaluate(WHERE) == where


def test_random_article_opens_an_article_in_memory(page, bundle):
    where = open_view(page, bundle, "", ".list li")
    seen = set()
    for _ in range(4):
        page.click("main button.random")
        page.wait_for_selector("article h1")
        seen.add(page.inner_text("article h1"))
        page.click("#back-button")
        page.wait_for_selector(".list li")
    assert seen and seen <= set(_all_titles())
    page.click("main button.random")
    page.wait_for_selector("article .body > *")
    first = page.inner_text("article h1")
    page.click("main .after button.random")  # and from an article: another one
    page.wait_for_function(f"() => document.querySelector('article h1') && document.querySelector('article h1').textContent !== {first!r}")
    assert page.evaluate(WHERE) == where


def _all_titles() -> list[str]:
    return [LONG_TITLE, *RELATED_SAME_LANGUAGE, RELATED_OTHER_LANGUAGE, UNRELATED, *KO_TITLES.values(), *LANTERNS]


def _suggestions(page) -> list[str]:
    return page.eval_on_selector_all("#search-suggestions li", "items => items.map(li => li.textContent)")


def _type_and_wait(page, text: str) -> list[str]:
    page.fill("#search-input", "")
    page.click("#search-input")
    page.keyboard.type(text, delay=20)
    page.wait_for_function(f"() => document.getElementById('search-suggestions').getAttribute('data-complete') === {text!r}")
    return _suggestions(page)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("ㄷㄹ", {KO_TITLES["crane-diary"], KO_TITLES["scroll-story"]}),  # initial consonants only
        ("두루ㅁ", {KO_TITLES["crane-diary"], KO_TITLES["scroll-story"]}),  # next syllable begun
        ("관ㅊ", {KO_TITLES["crane-diary"], KO_TITLES["river-notes"]}),  # 관 + ㅊ... -> 관찰
        ("관차", {KO_TITLES["crane-diary"], KO_TITLES["river-notes"]}),  # 차 may still become 찰
        ("garden gui", {LONG_TITLE}),  # a word half-typed
    ],
)
def test_suggestions_match_titles_as_search_does_for_korean(page, bundle, typed, expected):
    open_view(page, bundle, "", ".list li")
    assert set(_type_and_wait(page, typed)) == expected


def test_suggestions_show_the_first_eight_and_work_by_keyboard(page, bundle):
    where = open_view(page, bundle, "", ".list li")
    found = _type_and_wait(page, "lanter")
    # Equally good titles come shortest first, then in text order.
    assert found == LANTERNS[:8]
    # The next keystroke narrows the list on screen at once, before the index answers.
    narrowed = page.evaluate("""() => {
        const input = document.getElementById('search-input'), box = document.getElementById('search-suggestions');
        input.value = 'lantern story 01';
        input.dispatchEvent(new Event('input', { bubbles: true }));
        return [box.getAttribute('data-query'), [...box.children].map(li => li.textContent)];
    }""")
    assert narrowed[0] == "lantern story 01" and narrowed[1] == ["Lantern Story 01"]
    found = _type_and_wait(page, "lanter")
    box = page.locator("#search-input")
    assert box.get_attribute("role") == "combobox" and box.get_attribute("aria-expanded") == "true"
    assert page.get_attribute("#search-suggestions", "role") == "listbox"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert box.get_attribute("aria-activedescendant") == "suggestion-1"
    assert page.get_attribute("#suggestion-1", "aria-selected") == "true"
    page.keyboard.press("ArrowUp")
    assert box.get_attribute("aria-activedescendant") == "suggestion-0"
    page.keyboard.press("Enter")  # opens the chosen article, not a search
    page.wait_for_selector(f"article h1:has-text('{found[0]}')")
    assert page.is_hidden("#search-suggestions") and box.get_attribute("aria-expanded") == "false"
    # Escape closes the list and keeps the box; a second Escape leaves the box.
    _type_and_wait(page, "lanter")
    page.keyboard.press("Escape")
    assert page.is_hidden("#search-suggestions")
    assert page.evaluate("document.activeElement.id") == "search-input"
    page.keyboard.press("Escape")
    assert page.evaluate("document.activeElement.id") != "search-input"
    # A click on a suggestion opens it as well.
    found = _type_and_wait(page, "두루")
    page.click(f"#search-suggestions li:has-text('{found[-1]}')")
    page.wait_for_selector(f"article h1:has-text('{found[-1]}')")
    assert page.evaluate(WHERE) == where
    assert page.console_errors == []


def test_a_keystroke_reads_only_suggestion_files_never_search_or_catalog_shards(page, bundle):
    """The attack on speed: a keystroke that waits for search-index shards and catalog files (the
    0.2-2 s keystrokes of BENCHMARKS.md). Suggestions come from the suggestion index alone, from
    the card: no request leaves file://, and the address, title and history stay as they were."""
    where = open_view(page, bundle, "", ".list li")
    # The live search the viewer starts 180 ms after a keystroke (its own shards and catalog files,
    # by design) is held off, so that the requests seen are the suggestions' alone.
    page.evaluate("(() => { const later = window.setTimeout; window.setTimeout = (f, ms) => ms === 180 ? 0 : later(f, ms); })()")
    page.requested_urls.clear()
    assert set(_type_and_wait(page, "ㄷㄹ")) == {KO_TITLES["crane-diary"], KO_TITLES["scroll-story"]}
    assert set(_type_and_wait(page, "두루ㅁ")) == {KO_TITLES["crane-diary"], KO_TITLES["scroll-story"]}
    typed = list(page.requested_urls)
    assert typed and all(url.startswith("file://") for url in typed), typed
    data = [url.split("/data/", 1)[1] for url in typed]
    assert all(name.startswith(("search/s/", "search/p/")) for name in data), data
    # An alias is suggested with its article's title, and opens that article.
    assert _type_and_wait(page, "red") == [f"{CRANE_ALIAS} → {KO_TITLES['crane-diary']}"]
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"article h1:has-text('{KO_TITLES['crane-diary']}')")
    assert page.evaluate(WHERE) == where
    assert page.evaluate("[localStorage.length, sessionStorage.length, document.cookie]") == [0, 0, ""]
    assert page.console_errors == []


def test_images_get_visible_captions_from_alt_text_or_title(page, bundle):
    open_view(page, bundle, f"#/a/{LONG_SLUG}", "article figure")
    captions = page.eval_on_selector_all(
        "article figure.captioned", "nodes => nodes.map(f => [f.querySelector('figcaption').textContent, f.querySelector('img').alt, f.querySelector('figcaption').getAttribute('aria-hidden')])"
    )  # fmt: skip
    # The alt text stays the image's name (its caption is hidden from screen readers, not repeated);
    # a title-only caption is read as the caption.
    assert captions == [[ALT_CAPTION, ALT_CAPTION, "true"], [TITLE_CAPTION, "", None]]
    assert all(page.eval_on_selector_all("article figcaption", "nodes => nodes.map(n => n.getBoundingClientRect().height > 0)"))


# ------------------------------------------------------------------ what the browser keeps on disk

def _forbidden(words: list[str]) -> dict[str, list[bytes]]:
    """Each word as it could appear on disk: UTF-8, UTF-16LE, and percent-encoded in an address."""
    return {word: sorted({word.encode(), word.encode("utf-16-le"), quote(word).encode(), quote(word).lower().encode()}) for word in words}


def test_profile_keeps_no_trace_of_contents_suggestions_related_or_random(browser, bundle, tmp_path):
    """The attack: after a session using every comfort, someone reads the Chromium profile. Only the
    file's own address and the library's name may be there."""
    profile = tmp_path / "profile"
    url = (bundle / "index.html").as_uri()
    states = []
    context = browser.browser_type.launch_persistent_context(str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    try:
        page = context.pages[0] if context.pages else context.new_page()
        page.set_default_timeout(10000)
        page.goto(url)
        page.wait_for_selector(".list li")
        states.append(page.evaluate(WHERE))
        page.click("#search-input")
        page.keyboard.type("ㄷㄹ", delay=30)
        page.wait_for_selector("#search-suggestions li")
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Enter")
        page.wait_for_selector("article h1")
        states.append(page.evaluate(WHERE))
        page.fill("#search-input", "red")
        page.wait_for_selector(f"#search-suggestions li:has-text('{CRANE_ALIAS}')")
        page.click(f"#search-suggestions li:has-text('{CRANE_ALIAS}')")
        page.wait_for_selector(f"article h1:has-text('{KO_TITLES['crane-diary']}')")
        page.fill("#search-input", "garden gui")
        page.wait_for_selector(f"#search-suggestions li:has-text('{LONG_TITLE}')")
        page.click(f"#search-suggestions li:has-text('{LONG_TITLE}')")
        page.wait_for_selector("article .toc")
        page.click(f".toc a:has-text('{SECTIONS[2]}')")
        page.click(f".toc a:has-text('{SECTIONS[0]}')", button="middle")
        page.wait_for_selector(".related li")
        states.append(page.evaluate(WHERE))
        page.click(f".related a:has-text('{RELATED_SAME_LANGUAGE[0]}')")
        page.wait_for_selector(f"article h1:has-text('{RELATED_SAME_LANGUAGE[0]}')")
        page.click("main .after button.random")
        page.wait_for_function(f"() => document.querySelector('article h1').textContent !== {RELATED_SAME_LANGUAGE[0]!r}")
        page.wait_for_selector(".pager")
        states.append(page.evaluate(WHERE))
        assert len(context.pages) == 1
        page.wait_for_timeout(500)
    finally:
        context.close()
    assert all(state == states[0] for state in states), states
    default = profile / "Default"
    with sqlite3.connect(shutil.copy(default / "History", tmp_path / "History.copy")) as db:
        urls = db.execute("SELECT url, title FROM urls").fetchall()
    assert urls == [(url, BUNDLE_TITLE)], urls
    forbidden = _forbidden([*KO_TITLES.values(), CRANE_ALIAS, LONG_TITLE, *SECTIONS, *RELATED_SAME_LANGUAGE, "ㄷㄹ", "garden gui", LONG_SLUG])
    leaks = {}
    for path in profile.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            hits = [word for word, forms in forbidden.items() if any(form in data for form in forms)]
            if hits:
                leaks[str(path.relative_to(profile))] = hits
    assert not leaks, leaks
