"""Issue 12, done when: ONE folder holding what staff really have (a page saved "complete" with its
_files folder, an MHTML, a WARC, plain-text captures of one site, a Word file with a picture, and
recordings) imports with one `infopack import`, builds, and reads cleanly in real Chromium: no site
chrome in any article, pictures shown, players present, no network request, links between the
imported pages working; importing again changes nothing and says so."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from fixtures.web.web_builders import FERRY_URL, LIBRARY_BUS_URL, mhtml, page, png, saved_page, warc_bytes

from kit.content import CAPTURES, link_safe_digest, run_infopack
from kit.sources import document, mp3, mp4
from kit.sources import png as ffmpeg_png

pytestmark = pytest.mark.browser

# Lines of the sites' own chrome in the sources: none may reach an article.
CHROME_PHRASES = ("Donate Now", "Donate now", "keep reading", "Show less", "Read more", "Follow us on social",
                  "All rights reserved", "Privacy", "후원하기", "로그인", "뉴스레터", "구독하기", "Sign up", "logo", "로고")
MENU_LINES = {"Home", "News", "About us", "Our Work", "Search", "Stories", "홈", "뉴스", "소개", "검색"}


def staff_folder(root: Path) -> Path:
    web = root / "web"
    saved_page(web, "night-school", page("night-school.html"), {"lesson.png": png()})  # links to the ferry page
    mhtml(web / "ferry.mhtml", page("ferry-crossing.html"), FERRY_URL, [])  # links back to the night school
    (web / "hanbit.warc").write_bytes(warc_bytes([(LIBRARY_BUS_URL, "text/html; charset=utf-8",
                                                   page("library-bus-ko.html").encode())]))
    shutil.copytree(CAPTURES, root / "captures")  # text copied out of a browser, site chrome and all
    documents = root / "documents"
    documents.mkdir()
    picture = ffmpeg_png(root / ".picture.png", "green")
    document(documents / "testimony.docx", "---\ntitle: \"Testimony: the crossing\"\n---\n\nWe walked for three "
             "nights before we reached the river, and my daughter carried the small bag.\n\n"
             "![The river bank](.picture.png)\n\nAfterwards we waited in the village for a week.\n", picture)
    picture.unlink()
    recordings = root / "recordings"
    recordings.mkdir()
    mp3(recordings / "interview-1.mp3", title="첫 번째 인터뷰", date="2024-05-06")
    mp4(recordings / "market_day.mp4")
    return root


def cli(*args: str | Path) -> str:
    result = run_infopack(*map(str, args), timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_one_folder_of_everything_imports_builds_and_reads_cleanly_in_chromium(page, tmp_path):
    sources = staff_folder(tmp_path / "staff")
    sources_before = link_safe_digest(sources)
    library, bundle = tmp_path / "library", tmp_path / "bundle"
    report = cli("import", sources, "--into", library)
    assert "failed" not in report, report
    kinds = ("night-school.html", "ferry.mhtml", "hanbit.warc", "0-en-river-school.txt", "testimony.docx",
             "interview-1.mp3", "market_day.mp4")
    assert all(kind in report for kind in kinds), report
    cli("build", library, "--out", bundle, "--quiet")

    page.goto((bundle / "index.html").as_uri())
    page.wait_for_selector(".list li")
    titles = page.locator(".list li a.title").all_inner_texts()
    assert len(titles) == len(list((library / "articles").iterdir())) >= 10
    seen_image = seen_player = 0
    for title in titles:
        page.locator(".list li a.title", has_text=title).first.click()
        page.wait_for_selector("article .body")
        text = page.inner_text("article")
        assert not [p for p in CHROME_PHRASES if p in text], (title, text)
        assert not MENU_LINES & {line.strip() for line in text.splitlines()}, (title, text)
        images = page.locator("article .body img").count()
        if images:
            page.wait_for_function("[...document.querySelectorAll('article .body img')].every(i => i.complete)")
            assert page.evaluate("[...document.querySelectorAll('article .body img')].every(i => i.naturalWidth > 0)"), title
            seen_image += 1
        seen_player += page.locator("article audio, article video").count()
        page.click("#back-button")
        page.wait_for_selector(".list li")
    assert seen_image >= 2  # the saved page's picture and the Word file's
    assert seen_player == 2  # the recording and the video

    # A link between imported pages (saved page -> MHTML page) opens the other article.
    night = next(t for t in titles if "Night school" in t)
    page.locator(".list li a.title", has_text=night).first.click()
    page.wait_for_selector("article .body")
    link = page.locator("article .body a[data-route]")
    assert link.count() >= 1
    link.first.click()
    page.wait_for_function("document.querySelector('article h1') && "
                           "document.querySelector('article h1').textContent.includes('ferry')")
    back_link = page.locator("article .body a[data-route]")
    assert back_link.count() >= 1  # and the ferry page links back to the night school
    back_link.first.click()
    page.wait_for_function("document.querySelector('article h1').textContent.includes('Night school')")

    assert all(url.startswith("file://") for url in page.requested_urls), [
        u for u in page.requested_urls if not u.startswith("file://")]
    assert page.console_errors == []

    before = link_safe_digest(library)
    again = cli("import", sources, "--into", library)
    assert link_safe_digest(library) == before  # byte for byte, and not even touched
    actions = set(re.findall(r"\b(new|updated|unchanged|skipped|failed)\b", again.split("\n", 1)[1]))
    assert "unchanged" in actions and not actions & {"new", "updated", "failed"}, again
    assert link_safe_digest(sources) == sources_before  # sources are only read
