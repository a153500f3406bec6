"""The browser keeps no record of what was read (issue 10, class 3).

Chromium writes every address a tab visits and every page title to its History database and its
session files; a viewer that put the route in the URL hash and the article title in document.title
left the reader's searches and readings on the computer. These tests read a real Chromium profile
after a reading session, and check that the viewer's own back returns to the same place in a list.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from urllib.parse import quote

import pytest

from infopack.build.assemble import build_bundle
from kit.browser import CHROMIUM, CHROMIUM_ARGS
from kit.content import article, write_content

pytestmark = pytest.mark.browser

QUERY_KO = "두루미철새"
QUERY_EN = "zebrafinch"
TITLE_A = "Quokkaberry field notes"
TITLE_B = "백로 관찰 일지 Heronwatch"
TITLE_C = "Marmotine winter report"
SLUGS = ["quokka-notes", "heron-diary", "marmot-report"]
BUNDLE_TITLE = "Quiet Shelf"


@pytest.fixture(scope="module")
def reading_bundle(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("history")
    articles = {
        "quokka-notes.md": article(
            TITLE_A, "2025-03-01", "en",
            f"Notes on the {QUERY_EN} and the {QUERY_KO} along the river.\n\n"
            "The diary continues in [the heron diary](heron-diary.md).",
        ),
        "heron-diary.md": article(TITLE_B, "2025-02-01", "ko", f"강가에서 {QUERY_KO}를 보았다. 백로가 날아갔다."),
        "marmot-report.md": article(TITLE_C, "2025-01-01", "en", f"A {QUERY_EN} was seen near the marmots."),
    }
    for number in range(6):
        articles[f"filler-{number}.md"] = article(f"Filler {number}", f"2024-0{number + 1}-01", "en", "Nothing to see here.")
    toml = f'title = "{BUNDLE_TITLE}"\nlang = "ko"\nsequence = 1\nid = "history"\n'
    out = base / "bundle"
    build_bundle(write_content(base / "content", articles, toml), out)
    return out


@pytest.fixture(scope="module")
def long_bundle(tmp_path_factory) -> Path:
    """170 articles: the library shows 50 at first, and after "more" there are still rows to come."""
    base = tmp_path_factory.mktemp("long")
    articles = {}
    for number in range(170):
        day = f"2025-{number // 28 + 1:02d}-{number % 28 + 1:02d}"
        word = "lantern" if number % 3 == 0 else "harbour"
        articles[f"item-{number:03d}.md"] = article(
            f"Item {number:03d}", day, "en", f"A {word} story, number {number}.\n\n" + "More text. " * 40,
            summary=f"The {word} summary of item {number:03d}.",
        )
    out = base / "bundle"
    build_bundle(write_content(base / "content", articles), out)
    return out


def press_back_control(page) -> None:
    """The viewer's visible back control in the header."""
    page.click("#back-button")


def _forbidden(words: list[str]) -> dict[str, list[bytes]]:
    """Each word as it could appear on disk: UTF-8, UTF-16LE, and percent-encoded in an address."""
    found = {}
    for word in words:
        forms = {word.encode("utf-8"), word.encode("utf-16-le"), quote(word).encode(), quote(word).lower().encode()}
        found[word] = sorted(forms)
    return found


def _hits(path: Path, forbidden: dict[str, list[bytes]]) -> list[str]:
    data = path.read_bytes()
    return [word for word, forms in forbidden.items() if any(form in data for form in forms)]


def _read_like_a_reader(page, context, url, record) -> None:
    """Search in Korean, open a result, follow a link in it, go back in every way; then in English."""
    page.set_default_timeout(10000)
    page.goto(url)
    page.wait_for_selector(".list li")
    record(page, "opened")

    # A Korean query typed into the box, a result opened, a link inside the article followed.
    page.click("#search-input")
    page.keyboard.type(QUERY_KO, delay=30)
    page.wait_for_selector(f"main h1:has-text('{QUERY_KO}')")
    page.wait_for_selector(f".list li a.title:has-text('{TITLE_A}')")
    record(page, "searched ko")
    page.click(f".list li a.title:has-text('{TITLE_A}')")
    page.wait_for_selector("article .body a")
    assert page.inner_text("article h1") == TITLE_A
    record(page, "opened result")
    page.click("article .body a")
    page.wait_for_selector("article h1:has-text('Heronwatch')")
    record(page, "followed article link")

    # Back with the header control, then with Alt+Left: the results of the query, as they were.
    press_back_control(page)
    page.wait_for_selector(f"article h1:has-text('{TITLE_A}')")
    record(page, "back (control)")
    page.keyboard.press("Alt+ArrowLeft")
    page.wait_for_selector(f"main h1:has-text('{QUERY_KO}')")
    page.wait_for_selector(f".list li a.title:has-text('{TITLE_A}')")
    assert page.input_value("#search-input") == QUERY_KO
    record(page, "back (Alt+Left)")

    # An ASCII query typed over it, submitted with Enter; a result opened with a middle click and
    # a ctrl-click (which would open tabs at the link's address); Backspace goes back.
    page.fill("#search-input", "")
    page.click("#search-input")
    page.keyboard.type(QUERY_EN, delay=30)
    page.keyboard.press("Enter")
    page.wait_for_selector(f"main h1:has-text('{QUERY_EN}')")
    page.wait_for_selector(f".list li a.title:has-text('{TITLE_C}')")
    record(page, "searched en")
    page.click(f".list li a.title:has-text('{TITLE_C}')", button="middle")
    page.wait_for_selector(f"article h1:has-text('{TITLE_C}')")
    page.click("#back-button")
    page.wait_for_selector(f"main h1:has-text('{QUERY_EN}')")
    page.click(f".list li a.title:has-text('{TITLE_C}')", modifiers=["Control"])
    page.wait_for_selector(f"article h1:has-text('{TITLE_C}')")
    record(page, "opened with modifiers")
    assert len(context.pages) == 1  # no tab or window was opened at a link's address
    page.click("main h1")  # focus out of the search box: Backspace there deletes text
    page.keyboard.press("Backspace")
    page.wait_for_selector(f"main h1:has-text('{QUERY_EN}')")
    assert page.input_value("#search-input") == QUERY_EN
    record(page, "back (Backspace)")

    # No link on the page carries a route or a target in its address.
    addresses = page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))")
    assert set(addresses) <= {"#", "#main"}, addresses
    page.wait_for_timeout(500)


def test_profile_keeps_no_query_title_or_article_after_reading(browser, reading_bundle, tmp_path):
    profile = tmp_path / "profile"
    url = (reading_bundle / "index.html").as_uri()
    states = []

    def record(page, step):
        states.append((step, page.evaluate("[location.href, document.title, history.length]")))

    # A second Chromium with a real profile on disk, from the Playwright that runs the shared one
    # (one process cannot run two sync Playwright instances).
    context = browser.browser_type.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    flow_error = None
    try:
        _read_like_a_reader(context.pages[0] if context.pages else context.new_page(), context, url, record)
    except Exception as error:  # the profile is still read, so a leak is what gets reported first
        flow_error = error
    finally:
        context.close()  # a clean shutdown writes History and the session files

    default = profile / "Default"
    history = default / "History"
    assert history.exists(), "Chromium wrote no History database: the test would prove nothing"
    copy = tmp_path / "History.copy"
    shutil.copy(history, copy)
    with sqlite3.connect(copy) as db:
        urls = db.execute("SELECT url, title FROM urls").fetchall()
        visits = db.execute("SELECT COUNT(*) FROM visits").fetchone()[0]
    assert urls == [(url, BUNDLE_TITLE)], urls  # the file was opened; nothing about what was in it
    assert visits >= 1

    forbidden = _forbidden([QUERY_KO, QUERY_EN, TITLE_A, TITLE_B, TITLE_C, "Heronwatch", *SLUGS])
    session_files = [p for p in default.glob("Sessions/*") if p.is_file()]
    session_files += [default / name for name in ("Current Session", "Current Tabs", "Last Session", "Last Tabs")]
    session_files = [p for p in session_files if p.exists()]
    assert session_files, "Chromium wrote no session files: the test would prove nothing"
    checked = [history, *default.glob("History-journal"), *session_files]
    leaks = {str(p.relative_to(profile)): _hits(p, forbidden) for p in checked}
    assert not any(leaks.values()), leaks
    # And nowhere else in the profile either (autofill, form state, metrics databases, caches).
    everywhere = {str(p.relative_to(profile)): _hits(p, forbidden) for p in profile.rglob("*") if p.is_file()}
    assert not any(everywhere.values()), {k: v for k, v in everywhere.items() if v}

    if flow_error is not None:
        raise flow_error
    # The address, the title and the number of history entries never changed (Playwright's page
    # starts at about:blank, which is the one entry before the library).
    first = states[0][1]
    assert first[0] == url and first[1] == BUNDLE_TITLE
    for step, state in states:
        assert state == first, f"after '{step}': {state} != {first}"


def _list_state(page):
    return page.evaluate("""() => {
        const titles = [...document.querySelectorAll('main .list li a.title')].map(a => a.textContent);
        return {count: titles.length, first: titles[0], last: titles[titles.length - 1], y: Math.round(window.scrollY)};
    }""")


def test_back_returns_to_the_same_rows_and_scroll_position(page, long_bundle):
    page.set_viewport_size({"width": 1000, "height": 700})
    page.goto((long_bundle / "index.html").as_uri())
    page.wait_for_function("() => document.querySelectorAll('main .list li').length === 50")
    # Scrolling to "more" may load the next rows by itself before the click does (100 or 150 rows),
    # and under load the button can be replaced while Playwright waits to click it: click it from
    # the page, once, if it is still there.
    page.evaluate("() => { const more = document.querySelector('main button.more'); if (more) more.click(); }")
    page.wait_for_function("() => document.querySelectorAll('main .list li').length >= 100")
    page.wait_for_timeout(500)
    page.locator("main .list li").nth(70).scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, 37)")
    page.wait_for_timeout(300)
    before = _list_state(page)
    assert before["count"] in (100, 150) and before["y"] > 3000, before
    target = page.locator("main .list li a.title").nth(72)
    title = target.inner_text()
    target.click()
    page.wait_for_selector(f"article h1:has-text('{title}')")

    # The header control, Alt+Left and Backspace each return to exactly what was on screen.
    for back in (lambda: page.click("#back-button"), lambda: page.keyboard.press("Alt+ArrowLeft"),
                 lambda: page.keyboard.press("Backspace")):  # fmt: skip
        back()
        page.wait_for_selector("main .list li")
        page.wait_for_timeout(300)  # long enough for a wrongly triggered "more" to show
        assert _list_state(page) == before
        page.locator("main .list li a.title").nth(72).click()
        page.wait_for_selector(f"article h1:has-text('{title}')")

    # The article's own "back to the library" link goes to the same place too.
    page.click("main a[data-back]")
    page.wait_for_selector("main .list li")
    page.wait_for_timeout(300)
    assert _list_state(page) == before

    # Drawn again instead of reattached (after a language switch): the same rows, near the same place.
    page.locator("main .list li a.title").nth(72).click()
    page.wait_for_selector(f"article h1:has-text('{title}')")
    page.click("#lang-switch")
    page.wait_for_selector(f"article h1:has-text('{title}')")
    page.click("#back-button")
    page.wait_for_function("() => document.querySelectorAll('main .list li').length >= 100")
    page.wait_for_timeout(300)
    again = _list_state(page)
    assert (again["count"], again["first"], again["last"]) == (before["count"], before["first"], before["last"])
    assert abs(again["y"] - before["y"]) < 150, (again, before)

    # "More" still works after a return, and nothing was written to the address or the history.
    page.click("main button:has-text('더 보기')")
    page.wait_for_function(f"() => document.querySelectorAll('main .list li').length === {min(before['count'] + 50, 170)}")
    assert page.evaluate("location.hash") == ""
    assert page.console_errors == []


def test_back_returns_to_the_same_search_results(page, long_bundle):
    page.goto((long_bundle / "index.html").as_uri())
    page.wait_for_selector("main .list li")
    entries = page.evaluate("history.length")
    page.fill("#search-input", "lantern")
    page.wait_for_selector("main h1:has-text('lantern')")
    page.wait_for_function("() => document.querySelectorAll('main .list li mark').length >= 40")
    page.wait_for_timeout(300)
    page.locator("main .list li").nth(30).scroll_into_view_if_needed()
    before = _list_state(page)
    assert before["y"] > 1000, before
    target = page.locator("main .list li a.title").nth(31)
    title = target.inner_text()
    target.click()
    page.wait_for_selector(f"article h1:has-text('{title}')")
    assert page.inner_text("main a[data-back]") == "← Back to the results"
    page.click("#back-button")
    page.wait_for_selector("main .list li mark")
    assert _list_state(page) == before
    assert page.input_value("#search-input") == "lantern"
    # Back once more: the library, and the query leaves the search box.
    page.keyboard.press("Alt+ArrowLeft")
    page.wait_for_selector("main h1:has-text('Test')")
    assert page.input_value("#search-input") == ""
    assert page.is_disabled("#back-button")  # nothing further back in the page
    assert page.evaluate("[location.hash, history.length]") == ["", entries]


def test_deep_link_is_read_once_and_never_written(page, long_bundle):
    # An old bookmark or a link into the card (index.html#/a/<slug>) still opens the article; the
    # address the browser already has stays exactly as it was while the reader moves on.
    address = (long_bundle / "index.html").as_uri() + "#/a/item-005"
    page.goto(address)
    page.wait_for_selector("article h1:has-text('Item 005')")
    title = page.title()
    assert page.inner_text("main a[data-back]") == "← Back to the library"
    page.click("main a[data-back]")  # nothing to go back to in the page: opens the library
    page.wait_for_selector("main .list li")
    page.locator("main .list li a.title").nth(3).click()
    page.wait_for_selector("article h1:has-text('Item 166')")
    page.click("main .pager a[rel='next']")
    page.wait_for_selector("article h1:has-text('Item 165')")
    assert (page.url, page.title()) == (address, title)
