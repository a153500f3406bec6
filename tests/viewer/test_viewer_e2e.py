"""End to end: example content + four web captures (tests/fixtures/captures, English and Korean)
-> bundle -> file:// in real Chromium; the real captures in ../shared/seeds, when present, too."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from infopack.build.assemble import build_bundle
from kit.content import (
    SEEDS,
    capture_articles,
    copy_example_content,
    only_file,
    seed_articles,
)
from kit.damage import catalog, copy_with_article_bit_flipped

pytestmark = pytest.mark.browser


def example_bundle_with(tmp_path_factory, name: str, articles: dict[str, str]) -> Path:
    """The example content plus `articles`, built once per module."""
    base = tmp_path_factory.mktemp(name)
    content = copy_example_content(base / "content")
    for file_name, text in articles.items():
        (content / "articles" / file_name).write_text(text, encoding="utf-8")
    return build_bundle(content, base / "bundle").bundle_dir


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    return example_bundle_with(tmp_path_factory, "e2e", capture_articles())


@pytest.fixture(scope="module")
def seed_bundle(tmp_path_factory) -> Path:
    if not SEEDS.is_dir():
        pytest.skip("../shared/seeds not present beside the repository")
    return example_bundle_with(tmp_path_factory, "e2e-seeds", seed_articles())


def open_viewer(page, bundle: Path, route: str = ""):
    page.goto((bundle / "index.html").as_uri() + route)
    page.wait_for_selector("main h1")
    return page


def storage_is_empty(page) -> None:
    assert page.context.cookies() == []
    counts = page.evaluate("""async () => ({
        local: localStorage.length,
        session: sessionStorage.length,
        idb: indexedDB.databases ? (await indexedDB.databases()).length : 0,
    })""")
    assert counts == {"local": 0, "session": 0, "idb": 0}


def test_library_lists_every_article_and_opens_korean_and_english(page, bundle):
    open_viewer(page, bundle)
    page.wait_for_selector(".list li")
    titles = page.locator(".list li a.title").all_inner_texts()
    assert len(titles) == 13  # 9 example articles + 4 captures
    assert "이 도서관을 안전하게 읽는 방법" in titles
    assert "A school on the river where children learn to read by lamplight" in titles
    assert "국경 도시의 겨울 장터에서 만난 사람들, 추위 속 작은 거래의 기록" in titles

    before = (page.url, page.title(), page.evaluate("history.length"))
    page.click("text=이 도서관을 안전하게 읽는 방법")
    page.wait_for_selector("article .body p")
    assert "인터넷 연결 없이" in page.inner_text("article")
    # Navigation stays in the page: no new address, title or history entry (tests/test_viewer_history.py).
    assert (page.url, page.title(), page.evaluate("history.length")) == before

    page.click("#back-button")  # the viewer's own back; the browser's would leave the page
    page.wait_for_selector(".list li")
    page.click("text=How vaccines teach the body to fight disease")
    page.wait_for_selector("article table")
    assert "memory cells" in page.inner_text("article")

    page.goto((bundle / "index.html").as_uri() + "#/a/capture-3")  # deep link
    page.wait_for_selector("article .body p")
    assert "은덕에서 왔다는" in page.inner_text("article")

    assert page.console_errors == []
    assert page.requested_urls and all(url.startswith("file:") for url in page.requested_urls), page.requested_urls
    storage_is_empty(page)


def test_real_seed_captures_are_listed_and_open(page, seed_bundle):
    """The real captures beside the repository, an extra check where they are present."""
    open_viewer(page, seed_bundle)
    page.wait_for_selector(".list li")
    titles = page.locator(".list li a.title").all_inner_texts()
    assert len(titles) == 13  # 9 example articles + 4 seed captures
    assert any("North Korean" in title for title in titles)
    page.goto((seed_bundle / "index.html").as_uri() + "#/a/seed-3")  # deep link
    page.wait_for_selector("article .body p")
    assert "Eundok" in page.inner_text("article")
    page.goto((seed_bundle / "index.html").as_uri() + "#/year/2025")
    page.wait_for_function("document.querySelectorAll('.list li').length === 4")  # the seed captures
    assert page.console_errors == []
    assert page.requested_urls and all(url.startswith("file:") for url in page.requested_urls), page.requested_urls


def test_external_links_are_text_not_navigation(page, bundle):
    open_viewer(page, bundle, "#/a/verify-card-en")
    page.wait_for_selector("article .body")
    assert page.locator("article a[href^='http']").count() == 0


def test_unknown_article_address_says_so(page, bundle):
    page.goto((bundle / "index.html").as_uri() + "#/a/no-such-article")
    page.wait_for_selector(".notice")
    assert "이 주소의 글이 없습니다" in page.inner_text("main")


def test_flipped_byte_in_text_pack_names_the_damage_and_rest_still_works(page, bundle, tmp_path):
    # Aimed at one article's frame: since each article is checked on its own (FORMAT.md section 4),
    # a flip elsewhere in the pack would leave this one readable.
    stored = next(s for s in catalog(bundle) if s.slug == "reading-safely")
    damaged = copy_with_article_bit_flipped(bundle, tmp_path / "damaged", stored)
    page.goto(damaged.joinpath("index.html").as_uri() + "#/a/reading-safely")
    page.wait_for_selector(".notice")
    assert "data/text/0000.js" in page.inner_text(".notice")
    page.goto(damaged.joinpath("index.html").as_uri())
    page.wait_for_selector(".list li")
    assert page.locator(".list li").count() == 13
    page.goto(damaged.joinpath("index.html").as_uri() + "#/check")
    page.click("text=검사 시작")
    page.wait_for_selector("text=손상되었거나 없습니다")
    assert "data/text/0000.js" in page.inner_text("main")


def test_missing_data_file_reported_not_blank(page, bundle, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(bundle, broken)
    (broken / "data" / "cat" / "0000.js").unlink()
    page.goto(broken.joinpath("index.html").as_uri())
    page.wait_for_selector(".notice")
    assert "data/cat/0000.js" in page.inner_text(".notice")


def test_image_audio_and_video_load_from_sibling_files(page, bundle):
    open_viewer(page, bundle, "#/a/welcome")
    page.wait_for_selector("article video")
    page.wait_for_function("document.querySelector('article img').naturalWidth > 0")
    page.wait_for_function("document.querySelector('article audio').readyState >= 1")
    page.wait_for_function("document.querySelector('article video').readyState >= 1")
    sources = page.eval_on_selector_all("article img, article audio, article video", "els => els.map(e => e.src)")
    assert all(src.startswith("file:") and "/media/welcome-" in src for src in sources), sources
    assert all(url.startswith("file:") for url in page.requested_urls)


def test_one_file_variant_opens_with_no_sibling_files(page, bundle, tmp_path):
    phone = only_file(bundle, "phone.html", tmp_path)
    page.goto(phone.as_uri())
    page.wait_for_selector(".list li")
    assert page.locator(".list li").count() == 13
    page.click("text=How vaccines teach the body to fight disease")
    page.wait_for_selector("article table")
    page.goto(phone.as_uri() + "#/a/welcome")
    page.wait_for_selector("article .notice")
    assert "index.html" in page.inner_text("article .notice")  # says what is missing and where it is
    assert page.locator("article img, article audio, article video").count() == 0
    assert set(page.requested_urls) == {phone.as_uri()}
    storage_is_empty(page)


def test_search_route_finds_korean_and_highlights(page, bundle):
    open_viewer(page, bundle, "#/search?q=" + "도서관에")  # particle attached: still finds 도서관
    page.wait_for_selector(".list li mark")
    titles = page.locator(".list li a.title").all_inner_texts()
    assert "이 도서관을 안전하게 읽는 방법" in titles
    assert page.input_value("#search-input") == "도서관에"
    assert all(url.startswith("file:") for url in page.requested_urls)


def test_typing_in_the_search_box_shows_results(page, bundle):
    open_viewer(page, bundle)
    entries = page.evaluate("history.length")
    page.fill("#search-input", "vaccine")
    page.wait_for_selector("main h1:has-text('vaccine')")
    page.wait_for_selector(".list li mark")
    assert page.locator(".list li a.title").all_inner_texts()[0] == "How vaccines teach the body to fight disease"
    assert page.evaluate("[location.hash, history.length]") == ["", entries]  # the query never reaches the address


def test_tag_language_and_year_views_list_exactly_their_articles(page, bundle):
    open_viewer(page, bundle, "#/tag/" + "안내")
    page.wait_for_selector(".list li")
    assert sorted(page.locator(".list li a.title").all_inner_texts()) == sorted(
        ["이 도서관을 안전하게 읽는 방법", "복사하기 전에 카드를 확인하는 방법", "도서관에 오신 것을 환영합니다 · Welcome"]
    )
    page.goto((bundle / "index.html").as_uri() + "#/lang/en")
    page.wait_for_function("document.querySelectorAll('.list li').length === 6")  # 4 example + 2 English captures
    page.goto((bundle / "index.html").as_uri() + "#/year/2025")
    page.wait_for_function("document.querySelectorAll('.list li').length === 4")  # the captures


def test_csp_blocks_inline_handlers_even_if_one_reached_the_page(page, bundle):
    # Defence in depth: were the sanitiser ever to let `onerror=` through, the policy (script
    # hashes, no 'unsafe-inline') would still keep it from running.
    open_viewer(page, bundle)
    page.evaluate("""() => {
        const holder = document.createElement('div');
        holder.innerHTML = '<img src="data:," onerror="window.__ran = 1">';
        document.body.appendChild(holder);
    }""")
    page.wait_for_timeout(300)
    assert page.evaluate("window.__ran") is None
    csp = page.get_attribute("head > meta:first-child", "content")
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]


def test_card_check_in_the_one_file_variant_finds_everything_intact(page, bundle, tmp_path):
    phone = only_file(bundle, "phone.html", tmp_path)
    page.goto(phone.as_uri())
    page.wait_for_selector(".list li")  # the library has consumed some payloads already
    page.goto(phone.as_uri() + "#/check")
    page.click("text=검사 시작")
    page.wait_for_selector("text=모두 온전합니다")
    # The page says honestly what the check cannot do, and what partners use instead (issue 10).
    assert "위조는 찾지 못합니다" in page.inner_text("main") and "infopack verify" in page.inner_text("main")
    page.click("#lang-switch")
    page.wait_for_selector("text=It cannot find forgery")
    assert "infopack verify" in page.inner_text("main")


def test_index_opened_without_its_files_points_to_phone_html(page, bundle, tmp_path):
    # What a phone's file manager does: the browser gets index.html but cannot read data/.
    page.goto(only_file(bundle, "index.html", tmp_path).as_uri())
    page.wait_for_selector(".notice:has-text('phone.html')")
