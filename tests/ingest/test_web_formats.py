"""The web-page reader on every capture format, built from pages we wrote (tests/fixtures/web/pages)."""

from __future__ import annotations

import gzip
from datetime import date
from pathlib import Path

from fixtures.web.web_builders import (
    FERRY_URL,
    NIGHT_SCHOOL_URL,
    data_uri,
    harbor_records,
    jpeg,
    mhtml,
    page,
    png,
    saved_page,
    wacz,
    warc_bytes,
)

from infopack.ingest.model import ImportedArticle, ImportFailure, ImportOptions
from infopack.ingest.registry import load_reader, reader_name_for
from infopack.ingest.web import read_pages
from infopack.ingest.web_body import strip_site_suffix

OPTIONS = ImportOptions(today=date(2026, 1, 1))


def articles(paths: list[Path], options: ImportOptions = OPTIONS) -> list[ImportedArticle]:
    found = list(read_pages(paths, options))
    failures = [item for item in found if isinstance(item, ImportFailure)]
    assert not failures, failures
    return [item for item in found if isinstance(item, ImportedArticle)]


def by_title(found: list[ImportedArticle]) -> dict[str, ImportedArticle]:
    return {article.title: article for article in found}


def test_registry_sends_every_web_ending_to_read_pages():
    for name in ("a.html", "a.htm", "a.mhtml", "a.MHT", "a.warc", "a.warc.gz", "a.wacz"):
        assert load_reader(reader_name_for(Path(name))) is read_pages


def test_saved_page_complete_keeps_main_text_metadata_and_local_image(tmp_path):
    image = png()
    path = saved_page(tmp_path, "night-school", page("night-school.html"), {"lesson.png": image})
    [article] = articles([path])
    assert article.title == "Night school on the harbour wall"  # not "... | Harbor Voice"
    assert article.key == NIGHT_SCHOOL_URL
    assert article.source_url == NIGHT_SCHOOL_URL
    assert article.source == path
    assert article.body_format == "html"
    assert article.lang == "en"
    assert article.date == date(2025, 4, 9)
    assert article.authors == ["Mina Okafor"]
    assert article.summary.startswith("Every evening at seven")
    body = article.body
    assert "retired navigator who learned to read at forty" in body
    assert "<h2>What they learn</h2>" in body and "<li>" in body and "<blockquote>" in body
    for chrome in ("Donate Now", "Most read", "lighthouse keeper", "All rights reserved", "Privacy"):
        assert chrome not in body
    assert "<h2>Night school on the harbour wall</h2>" not in body  # the title is not repeated
    media = {item.name: item.data for item in article.media}
    assert image in media.values()
    local_name = next(name for name, data in media.items() if data == image)
    assert f'src="{local_name}"' in body
    assert article.words_kept > 100


def test_remote_image_dropped_with_a_note_and_data_uri_image_kept(tmp_path):
    path = saved_page(tmp_path, "night-school", page("night-school.html"), {"lesson.png": png()})
    [article] = articles([path])
    assert "cdn.harbor.example" not in article.body
    assert any("remote image" in note for note in article.notes)
    # the 1x1 PNG in a data: URI is held by the page itself
    assert len(article.media) == 2 and all(item.name.endswith(".png") for item in article.media)
    assert "data:" not in article.body


def test_links_between_pages_imported_together_become_import_links_others_text(tmp_path):
    night = saved_page(tmp_path, "night-school", page("night-school.html"), {"lesson.png": png()})
    ferry = saved_page(tmp_path, "ferry", page("ferry-crossing.html"))
    found = by_title(articles([night, ferry]))
    night_article = found["Night school on the harbour wall"]
    ferry_article = found["The ferry crew who teach on the crossing"]
    assert ferry_article.key == FERRY_URL
    assert f'href="infopack-import:{FERRY_URL}"' in night_article.body
    # a root-relative link on the ferry page resolves against its og:url
    assert f'href="infopack-import:{NIGHT_SCHOOL_URL}"' in ferry_article.body
    # a link to a page not imported stays visible text, with no address
    assert "a local fund" in night_article.body and "fund.example.org" not in night_article.body


def test_links_between_saved_pages_without_urls_use_the_file_path_as_key(tmp_path):
    first = saved_page(tmp_path, "first", "<html><body><article><h1>First page here today</h1><p>" + "Words of the first page. " * 12
                       + '<a href="second.html">the second</a>.</p></article></body></html>')
    second = saved_page(tmp_path, "second", "<html><body><article><h1>Second page here today</h1><p>" + "Words of the second page. " * 12
                        + "</p></article></body></html>")
    found = by_title(articles([first, second]))
    assert found["Second page here today"].key == str(second)
    assert f'href="infopack-import:{second}"' in found["First page here today"].body


def test_single_file_html_with_data_uris(tmp_path):
    photo = jpeg()
    html = page("night-school.html").replace("night-school_files/lesson.png", data_uri(photo, "image/jpeg"))
    path = tmp_path / "single.html"
    path.write_text(html, encoding="utf-8")
    [article] = articles([path])
    assert photo in [item.data for item in article.media]
    assert any(item.name.endswith(".jpg") for item in article.media)


def test_mhtml_page_and_its_image_parts(tmp_path):
    image = png((1, 2, 3))
    path = mhtml(tmp_path / "night.mhtml", page("night-school.html"), NIGHT_SCHOOL_URL,
                 [("https://harbor.example/stories/night-school_files/lesson.png", "image/png", image)])
    [article] = articles([path])
    assert article.title == "Night school on the harbour wall"
    assert article.key == NIGHT_SCHOOL_URL and article.source == path
    assert image in [item.data for item in article.media]
    assert "retired navigator" in article.body


def test_mhtml_url_comes_from_content_location_when_page_declares_none(tmp_path):
    html = page("ferry-crossing.html").replace('<meta property="og:url" content="https://harbor.example/stories/ferry-crossing">', "")
    path = mhtml(tmp_path / "ferry.mht", html, "https://harbor.example/saved/ferry", [])
    [article] = articles([path])
    assert article.source_url == "https://harbor.example/saved/ferry"


def test_warc_one_article_per_html_response_with_images_from_records(tmp_path):
    image = png((9, 9, 9))
    path = tmp_path / "crawl.warc"
    path.write_bytes(warc_bytes(harbor_records(image)))
    found = by_title(articles([path]))
    assert set(found) == {"Night school on the harbour wall", "The ferry crew who teach on the crossing"}
    night = found["Night school on the harbour wall"]
    assert image in [item.data for item in night.media]
    assert f'href="infopack-import:{FERRY_URL}"' in night.body
    assert all(article.source == path for article in found.values())


def test_warc_gz_and_the_same_url_captured_twice_is_one_article(tmp_path):
    records = harbor_records(png())
    path = tmp_path / "crawl.warc.gz"
    path.write_bytes(warc_bytes(records + records[:1], gzip=True))
    found = articles([path])
    assert sorted(article.key for article in found) == sorted([NIGHT_SCHOOL_URL, FERRY_URL])


def test_wacz_reads_its_archive_warcs(tmp_path):
    image = png((5, 6, 7))
    path = wacz(tmp_path / "crawl.wacz", {"data.warc.gz": warc_bytes(harbor_records(image), gzip=True)})
    found = by_title(articles([path]))
    assert len(found) == 2
    assert image in [item.data for item in found["Night school on the harbour wall"].media]


def test_korean_page_language_by_script_and_title_suffix_stripped(tmp_path):
    path = saved_page(tmp_path, "bus", page("library-bus-ko.html"))
    [article] = articles([path])
    assert article.lang == "ko"
    assert article.title == "산골 마을을 찾아가는 이동 도서관 버스"
    assert article.date == date(2025, 1, 14)
    assert article.authors == ["박서연"]
    assert "후원하기" not in article.body and "개인정보처리방침" not in article.body
    assert "이동 도서관은 십 년 전" in article.body
    assert article.summary.startswith("눈이 쌓인 고갯길을")


def test_lang_option_overrides_the_page(tmp_path):
    path = saved_page(tmp_path, "bus", page("library-bus-ko.html"))
    [article] = articles([path], ImportOptions(lang="en", today=date(2026, 1, 1)))
    assert article.lang == "en"


def test_title_suffix_stripping():
    assert strip_site_suffix("Night school | Harbor Voice", {"harbor voice"}) == "Night school"
    assert strip_site_suffix("Harbor Voice | Night school on the wall", {"harbor voice"}) == "Night school on the wall"
    assert strip_site_suffix("The ferry crew who teach on the crossing - Harbor Voice") == "The ferry crew who teach on the crossing"
    assert strip_site_suffix("3. An Informal Introduction to Python — Python 3.11.4 documentation") == \
        "3. An Informal Introduction to Python"
    assert strip_site_suffix("Two parts: nothing to strip") == "Two parts: nothing to strip"
    # without a known site name, a long last part is article text, not a site
    assert strip_site_suffix("Walking Forward | Joseph's long story of escape and arrival in America") == \
        "Walking Forward | Joseph's long story of escape and arrival in America"


def test_title_from_og_title_when_the_page_has_no_h1(tmp_path):
    html = ('<html><head><title>ignored</title><meta property="og:title" content="Salt and ice on the north pier | Harbor Voice">'
            '<meta property="og:site_name" content="Harbor Voice"></head><body><div><p>' + "The pier freezes every winter. " * 10
            + "</p></div></body></html>")
    path = tmp_path / "salt.html"
    path.write_text(html, encoding="utf-8")
    [article] = articles([path])
    assert article.title == "Salt and ice on the north pier"


def test_site_name_learned_from_titles_of_pages_imported_together(tmp_path):
    paths = []
    for number, story in enumerate(("Salt and ice on the pier", "Nets mended at dawn", "A lamp for every boat")):
        html = (f"<html><head><title>{story} :: The Quay Weekly Paper</title></head><body><div><p>"
                + f"Story {number} text goes here and keeps going. " * 10 + "</p></div></body></html>")
        paths.append(tmp_path / f"s{number}.html")
        paths[-1].write_text(html, encoding="utf-8")
    titles = {article.title for article in articles(paths)}
    assert titles == {"Salt and ice on the pier", "Nets mended at dawn", "A lamp for every boat"}


def test_page_in_a_files_folder_is_not_an_article(tmp_path):
    path = saved_page(tmp_path, "night-school", page("night-school.html"), {"frame.html": b"<html><body><p>ad</p></body></html>"})
    found = articles([path, tmp_path / "night-school_files" / "frame.html"])
    assert len(found) == 1


def test_page_in_an_ordinary_folder_ending_in_files_is_an_article(tmp_path):
    path = saved_page(tmp_path / "project_files", "ferry", page("ferry-crossing.html"))
    assert len(articles([path])) == 1


def test_page_with_no_text_is_one_failure_others_import(tmp_path):
    empty = tmp_path / "empty.html"
    empty.write_text("<html><body><nav>Home</nav></body></html>", encoding="utf-8")
    good = saved_page(tmp_path, "ferry", page("ferry-crossing.html"))
    found = list(read_pages([empty, good], OPTIONS))
    assert [type(item).__name__ for item in found].count("ImportFailure") == 1
    failure = next(item for item in found if isinstance(item, ImportFailure))
    assert failure.source == empty and "\n" not in failure.problem
    assert any(isinstance(item, ImportedArticle) for item in found)


def test_cp949_page_is_decoded(tmp_path):
    html = page("library-bus-ko.html").replace('charset="utf-8"', 'charset="euc-kr"')
    path = tmp_path / "bus.html"
    path.write_bytes(html.encode("cp949"))
    [article] = articles([path])
    assert "이동 도서관" in article.title


def test_sources_are_not_modified(tmp_path):
    path = saved_page(tmp_path, "night-school", page("night-school.html"), {"lesson.png": png()})
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    articles([path])
    assert before == {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}


def test_warc_gz_fixture_is_really_gzip(tmp_path):
    data = warc_bytes(harbor_records(png()), gzip=True)
    assert gzip.decompress(data).startswith(b"WARC/1")


def test_xhtml_page_with_an_xml_declaration(tmp_path):
    """DocBook and other XHTML pages start with <?xml ... encoding="UTF-8"?>."""
    path = tmp_path / "tool.html"
    path.write_text('<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 '
                    'Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
                    '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>4.4. 자르기</title></head><body>'
                    '<div class="sect2"><h3 class="title">4.4. 자르기</h3><p>' + "자르기 도구는 이미지를 잘라 내는 데 씁니다. " * 8
                    + "</p></div></body></html>", encoding="utf-8")
    [article] = articles([path])
    assert article.title == "4.4. 자르기" and article.lang == "ko"
