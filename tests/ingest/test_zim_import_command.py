"""A ZIM made by python-libzim, through the real `infopack import` and `infopack build` commands."""

from __future__ import annotations

import io
import re
import tomllib
from datetime import date
from pathlib import Path

import pytest

from infopack.ingest.model import ImportOptions
from infopack.ingest.orchestrate import import_sources
from infopack.ingest.zim import convert
from kit.content import bundle_article_html, run_infopack, search_finds, tree_digest
from kit.zim import LibzimArticle, libzim_zim

pytest.importorskip("libzim.writer")

SEOUL = """<!DOCTYPE html><html lang="ko"><head><meta charset="utf-8"><title>서울</title>
<script src="./s/head.js"></script></head><body><div id="content"><h1>서울</h1>
<div id="mw-content-text"><p>서울은 한반도 중앙의 도시이다. 남쪽으로 <a href="부산">부산</a>까지 기차로 간다,
옛 이름 <a href="Pusan">Pusan</a>, 그 <a href="부산#역사">역사</a>.</p>
<figure><img src="I/깃발.png" alt="깃발"><figcaption>깃발</figcaption></figure></div></div></body></html>"""
BUSAN = """<html><body><h1>부산</h1><p>부산은 항구 도시이다. 수도는 <a href="./%EC%84%9C%EC%9A%B8">서울</a>이다.</p>
<h2 id="역사">역사</h2><p>오래된 항구.</p></body></html>"""
DAEGU = "<html><body><p>대구는 내륙 도시이다. 사과가 유명하다.</p></body></html>"


def png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (24, 16), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def korean_zim(tmp_path_factory) -> Path:
    articles = [LibzimArticle("서울", "서울", SEOUL), LibzimArticle("부산", "부산", BUSAN), LibzimArticle("대구", "대구", DAEGU),
                LibzimArticle("I/깃발.png", "", png(), mime="image/png", front=False)]
    redirects = [("한양", "한양", "서울"), ("Pusan", "Pusan", "부산")]
    metadata = {"Title": "한국의 도시", "Description": "세 도시 이야기", "Language": "kor", "Date": "2024-03-05",
                "Name": "ko_cities", "Creator": "test", "Publisher": "test"}
    return libzim_zim(tmp_path_factory.mktemp("zim") / "cities-ko.zim", articles, redirects, metadata, main_path="서울")


def cli(*args: str | Path) -> str:
    result = run_infopack(*map(str, args), timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def article_folders(content: Path) -> dict[str, Path]:
    """Title -> article folder."""
    found = {}
    for index in sorted((content / "articles").glob("*/index.*")):
        title = re.search(r'^title: "(.*)"$', index.read_text(encoding="utf-8"), re.M)
        assert title, index
        found[title.group(1)] = index.parent
    return found


def test_zim_imports_builds_and_search_finds_a_redirects_title(korean_zim, tmp_path):
    content, bundle = tmp_path / "library", tmp_path / "bundle"
    output = cli("import", korean_zim, "--into", content)
    assert "choosing among" in output  # the reader's progress reaches the command line
    assert "cities-ko.zim#C/서울" in output  # the report's source column names the ZIM and the entry

    settings = tomllib.loads((content / "infopack.toml").read_text(encoding="utf-8"))
    assert settings["title"] == "한국의 도시" and settings["description"] == "세 도시 이야기"
    assert settings["lang"] == "ko" and settings["created"] == date(2024, 3, 5)

    folders = article_folders(content)
    assert sorted(folders) == ["대구", "부산", "서울"]
    seoul = (folders["서울"] / "index.html").read_text(encoding="utf-8")
    busan_link = f'href="../{folders["부산"].name}/index.html"'
    assert seoul.count(busan_link) == 3  # direct, through the redirect, and to a section of it
    assert f'href="../{folders["서울"].name}/index.html"' in (folders["부산"] / "index.html").read_text(encoding="utf-8")
    assert "infopack-import:" not in seoul and "head.js" not in seoul
    assert [p.suffix for p in folders["서울"].iterdir() if p.name != "index.html"] == [".png"]

    cli("build", content, "--out", bundle, "--quiet")
    assert len(list((bundle / "media").iterdir())) == 1
    texts = bundle_article_html(bundle)
    assert len(texts) == 3 and any("항구 도시" in text for text in texts.values())
    seoul_doc = search_finds(bundle, "서울", as_title=True)
    busan_doc = search_finds(bundle, "부산", as_title=True)
    assert len(seoul_doc) == 1 and len(busan_doc) == 1 and seoul_doc != busan_doc
    assert search_finds(bundle, "한양", as_title=True) == seoul_doc
    assert search_finds(bundle, "Pusan", as_title=True) == busan_doc

    before = tree_digest(content)
    again = cli("import", korean_zim, "--into", content)
    assert tree_digest(content) == before
    assert "3 unchanged" in again and "new" not in again.split("\n")[-2]


def test_limit_titles_and_without_images_through_the_command_line(korean_zim, tmp_path):
    cli("import", korean_zim, "--into", tmp_path / "one", "--limit", "1")
    assert len(article_folders(tmp_path / "one")) == 1

    titles = tmp_path / "titles.txt"
    titles.write_text("# wanted\n서울\nPusan\n", encoding="utf-8")  # a redirect's title picks its target
    cli("import", korean_zim, "--into", tmp_path / "picked", "--titles", titles)
    picked = article_folders(tmp_path / "picked")
    assert sorted(picked) == ["부산", "서울"]
    assert "대구" not in (picked["서울"] / "index.html").read_text(encoding="utf-8")

    cli("import", korean_zim, "--into", tmp_path / "plain", "--without-images")
    plain = article_folders(tmp_path / "plain")
    assert sorted(plain) == ["대구", "부산", "서울"]
    assert [p.name for p in plain["서울"].iterdir()] == ["index.html"]
    assert "<img" not in (plain["서울"] / "index.html").read_text(encoding="utf-8")


def test_a_large_zim_import_reports_progress_with_time_left(korean_zim, tmp_path, monkeypatch):
    ticks = iter(range(0, 1000, 5))  # every article "takes" five seconds: progress lines are due
    monkeypatch.setattr(convert, "clock", lambda: float(next(ticks)))
    lines: list[str] = []
    import_sources([korean_zim], tmp_path / "library", ImportOptions(), progress=lines.append)
    assert any("of 3 articles" in line and "left" in line for line in lines), lines


def main_page_zim(path: Path, label: str) -> Path:
    """A ZIM whose C/Main_Page links to its own C/Other: the paths every Kiwix file has."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return libzim_zim(path, [
        LibzimArticle("Main_Page", f"Main page of {label}", f"<html><body><p>Welcome to the {label} library. "
                      f'See <a href="Other">the other page of {label}</a>.</p></body></html>'),
        LibzimArticle("Other", f"Other page of {label}", f"<html><body><p>The {label} collection of stories about "
                      f"{label}.</p></body></html>"),
    ], metadata={"Title": label, "Language": "eng"}, main_path="Main_Page")


def test_two_zims_with_the_same_paths_import_together_without_colliding(tmp_path):
    first = main_page_zim(tmp_path / "sources" / "rivers.zim", "rivers")
    second = main_page_zim(tmp_path / "sources" / "mountains.zim", "mountains")
    content = tmp_path / "library"
    output = cli("import", first, second, "--into", content)
    assert "rivers.zim#C/Main_Page" in output and "mountains.zim#C/Main_Page" in output
    folders = article_folders(content)
    assert sorted(folders) == ["Main page of mountains", "Main page of rivers", "Other page of mountains",
                               "Other page of rivers"]
    for label in ("rivers", "mountains"):
        main = (folders[f"Main page of {label}"] / "index.html").read_text(encoding="utf-8")
        assert f'href="../{folders[f"Other page of {label}"].name}/index.html"' in main  # its own ZIM's page
        assert f"Welcome to the {label} library" in main

    before = tree_digest(content)
    again = cli("import", first, second, "--into", content)
    assert tree_digest(content) == before and "4 unchanged" in again
    cli("build", content, "--out", tmp_path / "bundle", "--quiet")
    assert len(bundle_article_html(tmp_path / "bundle")) == 4


def test_a_picture_many_articles_show_is_one_file_on_the_card_not_one_per_article(tmp_path):
    """A ZIM's icons and flags recur on thousands of pages. Copied beside every article they became
    one bundle file per article, each taking a whole cluster on a card (10,000 copies of a 200-byte
    icon: 320 MB with 32 KiB clusters): written once, under media/imported/, they are one file."""
    from PIL import Image

    icon = png()

    out = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 90, 0)).save(out, "PNG")
    photo = out.getvalue()
    pages = [LibzimArticle(f"Town_{n}", f"Town {n}", f'<html><body><p>Town {n} has a flag <img src="I/icon.png" '
                           f'alt="flag"> and stories of its own, number {n}.</p></body></html>') for n in range(3)]
    pages.append(LibzimArticle("Harbour", "Harbour", '<html><body><p>The harbour <img src="I/photo.png" alt="photo">.</p>'
                                                     "</body></html>"))
    pages += [LibzimArticle("I/icon.png", "", icon, mime="image/png", front=False),
              LibzimArticle("I/photo.png", "", photo, mime="image/png", front=False)]
    zim = libzim_zim(tmp_path / "towns.zim", pages, metadata={"Title": "Towns", "Language": "eng", "Date": "2024-01-01"})
    content = tmp_path / "library"
    cli("import", zim, "--into", content)
    folders = article_folders(content)
    shared = list((content / "media" / "imported").iterdir())
    assert len(shared) == 1 and shared[0].read_bytes() == icon
    for n in range(3):
        assert [p.name for p in folders[f"Town {n}"].iterdir()] == ["index.html"]
        assert f'src="../../media/imported/{shared[0].name}"' in (folders[f"Town {n}"] / "index.html").read_text(encoding="utf-8")
    assert sorted(p.name for p in folders["Harbour"].iterdir()) == ["index.html", "photo.png"]  # used once: beside it

    cli("build", content, "--out", tmp_path / "bundle", "--quiet")
    assert len(list((tmp_path / "bundle" / "media").iterdir())) == 2
    assert all("<img" in html for html in bundle_article_html(tmp_path / "bundle").values())

    before = tree_digest(content)
    again = cli("import", zim, "--into", content)
    assert tree_digest(content) == before and "4 unchanged" in again
