"""Phones at any library size (library.pack picked in phone.html or in index.html alone) and
damage that costs one article, in real Chromium from file:// (issue 15, parts 1 and 2)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from infopack.build.assemble import build_bundle
from kit.content import REPO, only_file, write_content
from kit.damage import copy_with_article_bit_flipped, flip_bit_in_library_pack, neighbours_in_one_pack

pytestmark = pytest.mark.browser

PICKER = "#library-pack-button"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    return build_bundle(REPO / "content", tmp_path_factory.mktemp("pack") / "bundle").bundle_dir


@pytest.fixture(scope="module")
def big_bundle(tmp_path_factory) -> Path:
    """The example library built as if it were too big for phone.html to hold inline: the limit is
    lowered (a build parameter) instead of building 25,000 articles."""
    result = build_bundle(REPO / "content", tmp_path_factory.mktemp("big") / "bundle", one_file_limit=1000)
    assert result.phone_picks_pack
    return result.bundle_dir


def storage_is_empty(page) -> None:
    assert page.context.cookies() == []
    counts = page.evaluate("""async () => ({
        local: localStorage.length, session: sessionStorage.length,
        idb: indexedDB.databases ? (await indexedDB.databases()).length : 0,
    })""")
    assert counts == {"local": 0, "session": 0, "idb": 0}


def pick_pack(page, pack: Path) -> None:
    page.wait_for_selector(PICKER)
    page.set_input_files("#library-pack-input", str(pack))


def test_bit_flipped_in_one_article_loses_only_that_article(page, bundle, tmp_path):
    hit, neighbour = neighbours_in_one_pack(bundle)
    damaged = copy_with_article_bit_flipped(bundle, tmp_path / "damaged", hit)
    page.goto(damaged.joinpath("index.html").as_uri() + "#/a/" + hit.slug)
    page.wait_for_selector("article .body .notice")
    message = page.inner_text("article .body .notice")
    assert hit.title in message and f"data/{hit.pack}.js" in message  # says which article, and where
    page.goto(damaged.joinpath("index.html").as_uri() + "#/a/" + neighbour.slug)
    page.wait_for_selector("article .body > *")
    assert page.locator("article .body .notice").count() == 0  # same pack, still opens
    page.goto(damaged.joinpath("index.html").as_uri() + "#/check")
    page.click("text=검사 시작")
    page.wait_for_selector("h2:has-text('읽을 수 없는 글')")  # "articles that cannot be read"
    lost = page.locator("main .list li").all_inner_texts()
    assert len(lost) == 1 and hit.title in lost[0]


def test_damaged_article_reads_from_the_second_copy_in_library_pack(page, bundle, tmp_path):
    hit, _neighbour = neighbours_in_one_pack(bundle)
    damaged = copy_with_article_bit_flipped(bundle, tmp_path / "damaged", hit)
    page.goto(damaged.joinpath("index.html").as_uri() + "#/a/" + hit.slug)
    page.wait_for_selector("article .body .notice " + PICKER)  # offered beside the damage it names
    pick_pack(page, damaged / "library.pack")
    page.wait_for_selector("article .body > :not(.notice)")
    assert page.locator("article .body .notice").count() == 0
    assert page.locator("article img").count() >= 0 and all(u.startswith("file:") for u in page.requested_urls)
    # The card check still reports the damaged data file: the copy is a way to read, not a repair.
    page.evaluate("document.getElementById('check-link').click()")
    page.click("text=검사 시작")
    page.wait_for_selector("h2:has-text('읽을 수 없는 글')")
    assert f"data/{hit.pack}.js" in page.inner_text("main")


def test_data_file_that_no_longer_runs_reads_from_library_pack(page, bundle, tmp_path):
    # A flip can break the script itself (a quote or an escape): the whole pack is lost from data/.
    broken = tmp_path / "broken"
    shutil.copytree(bundle, broken)
    target = broken / "data" / "text" / "0000.js"
    target.write_bytes(target.read_bytes()[: len(target.read_bytes()) // 2])
    page.goto(broken.joinpath("index.html").as_uri() + "#/a/reading-safely-en")
    pick_pack(page, broken / "library.pack")
    page.wait_for_selector("article .body > :not(.notice)")
    assert "without an internet connection" in page.inner_text("article")


def test_phone_html_of_a_big_library_asks_for_library_pack_and_reads_it_offline(page, big_bundle, tmp_path):
    alone = only_file(big_bundle, "phone.html", tmp_path)
    shutil.copy(big_bundle / "library.pack", tmp_path / "picked.pack")  # the file a phone hands over
    page.goto(alone.as_uri())
    page.wait_for_selector(PICKER)
    text = page.inner_text("main")
    assert "library.pack" in text and "고르십시오" in text and "choose library.pack" in text  # Korean and English
    assert "library.pack 열기" in page.inner_text(PICKER) and "Open library.pack" in page.inner_text(PICKER)
    assert page.locator("script[data-payload]").count() == 0  # nothing inline: the library is in the pack
    pick_pack(page, tmp_path / "picked.pack")
    page.wait_for_selector(".list li")
    assert page.locator(".list li").count() == 9
    page.click("text=How to read this library safely")
    page.wait_for_selector("article .body > *")
    assert "without an internet connection" in page.inner_text("article")
    page.fill("#search-input", "도서관")
    page.wait_for_selector(".list li mark")
    assert page.locator(".list li").count() >= 1
    assert set(page.requested_urls) == {alone.as_uri()}  # no request at all, not even for file://
    storage_is_empty(page)
    assert page.console_errors == []


def test_tampered_slice_of_library_pack_is_reported_as_damage(page, big_bundle, tmp_path):
    hit, neighbour = neighbours_in_one_pack(big_bundle)
    alone = only_file(big_bundle, "phone.html", tmp_path)
    tampered = tmp_path / "library.pack"
    shutil.copy(big_bundle / "library.pack", tampered)
    flip_bit_in_library_pack(tampered, "cat/0000", 10)
    page.goto(alone.as_uri())
    pick_pack(page, tampered)
    page.wait_for_selector(".notice")
    assert "library.pack (cat/0000)" in page.inner_text(".notice")

    shutil.copy(big_bundle / "library.pack", tampered)
    flip_bit_in_library_pack(tampered, hit.pack, hit.offset + hit.length // 2)
    page.goto("about:blank")  # a new page: the same one would keep the pack it was given
    page.goto(alone.as_uri() + "#/a/" + hit.slug)
    pick_pack(page, tampered)
    page.wait_for_selector("article .body .notice")
    assert hit.title in page.inner_text("article .body .notice")
    page.click("#back-button") if not page.is_disabled("#back-button") else None
    page.evaluate("document.querySelector('a[data-route=\"/\"]').click()")
    page.wait_for_selector(f".list li a.title:has-text('{neighbour.title[:20]}')")
    page.click(f".list li a.title:has-text('{neighbour.title[:20]}')")
    page.wait_for_selector("article .body > *")
    assert page.locator("article .body .notice").count() == 0


def test_library_pack_of_another_library_is_refused_not_read(page, big_bundle, tmp_path):
    # A swapped or planted pack: its payloads do not match this page's fingerprints.
    other_content = write_content(tmp_path / "other", {"one.md": "---\ntitle: Other\ndate: 2024-01-01\nlang: en\n---\nOther text.\n"})
    other = build_bundle(other_content, tmp_path / "other-bundle").bundle_dir
    page.goto(only_file(big_bundle, "phone.html", tmp_path).as_uri())
    pick_pack(page, other / "library.pack")
    page.wait_for_selector("text=다른 도서관")
    assert page.locator(".list li").count() == 0
    pick_pack(page, big_bundle / "phone.html")  # not a pack at all
    page.wait_for_selector("text=library.pack이 아닙니다")


def test_index_html_alone_offers_the_library_pack_picker(page, bundle, tmp_path):
    alone = only_file(bundle, "index.html", tmp_path)
    page.goto(alone.as_uri())
    page.wait_for_selector(PICKER)
    assert "phone.html" in page.inner_text(".notice")
    tried = len(page.requested_urls)  # the data files it looked for, which told it to offer the picker
    pick_pack(page, bundle / "library.pack")
    page.wait_for_selector(".list li")
    assert page.locator(".list li").count() == 9
    page.click("text=How to read this library safely")
    page.wait_for_selector("article .body > *")
    page.evaluate("document.querySelector('a[data-route=\"/\"]').click()")
    page.wait_for_selector(".list li")
    page.click("text=도서관에 오신 것을 환영합니다")  # an article with media, which cannot load from here
    page.wait_for_selector("article .body > *")
    assert page.locator("article img, article audio, article video").count() == 0
    assert page.requested_urls[tried:] == []  # from the pick on, nothing is requested, not even media
    assert all(url.startswith(alone.parent.as_uri()) for url in page.requested_urls)
    storage_is_empty(page)


def test_card_check_finds_a_damaged_and_a_missing_media_file(page, bundle, tmp_path):
    media = tmp_path / "media"
    shutil.copytree(bundle / "media", media)
    names = sorted(p.name for p in media.iterdir())
    data = bytearray((media / names[0]).read_bytes())
    data[len(data) // 2] ^= 0x01
    (media / names[0]).write_bytes(bytes(data))
    (media / names[1]).unlink()
    page.goto((bundle / "index.html").as_uri() + "#/check")
    page.wait_for_selector("text=위조는 찾지 못합니다")  # says it finds damage, not forgery
    page.wait_for_selector("#media-check-button")
    page.set_input_files("#media-check-input", str(media))
    page.wait_for_selector(".media-check li")
    report = page.inner_text(".media-check")
    assert f"media/{names[0]}: 손상됨" in report and f"media/{names[1]}: 없음" in report
    assert f"{len(names)}개 중 2개" in report
    for name in names[2:]:
        assert name not in report


def test_card_check_of_intact_media_says_so(page, bundle):
    page.goto((bundle / "index.html").as_uri() + "#/check")
    page.wait_for_selector("#media-check-button")
    page.set_input_files("#media-check-input", str(bundle / "media"))
    page.wait_for_selector("text=미디어 파일 4개가 모두 온전합니다")


def test_media_check_shows_progress_and_stops_when_asked(page, bundle):
    page.goto((bundle / "index.html").as_uri() + "#/check")
    page.wait_for_selector("#media-check-button")
    # Each file's fingerprint takes a second here (a large video on a slow card), so Stop is
    # pressed while the first file is being read.
    page.evaluate("""() => {
        const digest = crypto.subtle.digest.bind(crypto.subtle);
        crypto.subtle.digest = (algorithm, data) => new Promise(resolve => setTimeout(resolve, 1000)).then(() => digest(algorithm, data));
    }""")
    page.set_input_files("#media-check-input", str(bundle / "media"))
    page.wait_for_selector(".media-check p:has-text('미디어 검사 중 1 / 4')")
    page.click(".media-check button:has-text('멈추기')")
    page.wait_for_selector("text=미디어 파일 4개 중 1개를 검사하고 멈췄습니다")
    assert page.is_enabled("#media-check-button")  # can be started again
