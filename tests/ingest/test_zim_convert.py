"""read_zims on libzim-made and hand-made ZIM files: what becomes articles, links, media, aliases."""

from __future__ import annotations

import io
import json
import re
import struct
from datetime import date
from pathlib import Path

import pytest

from infopack.ingest import registry
from infopack.ingest.model import IMPORT_LINK_SCHEME, ImportedArticle, ImportFailure, ImportOptions
from infopack.ingest.zim import convert
from infopack.ingest.zim.convert import read_zims, zim_settings
from infopack.ingest.zim.languages import iso_639_1
from kit.zim import CraftOptions, LibzimArticle, ZimItem, craft_zim, libzim_zim, old_style_items

pytest.importorskip("libzim.writer")

# A page shaped like mwoffliner's (the scraper behind Kiwix's Wikipedia files).
SEOUL = """<!DOCTYPE html><html lang="ko"><head><meta charset="utf-8"><title>서울</title>
<link rel="stylesheet" href="./s/style.css"><script src="./s/head.js"></script><style>.x{color:red}</style></head>
<body class="mw-body"><div id="content" class="mw-body">
<a class="mw-jump-link" href="#search">Jump to search</a>
<h1 id="titleHeading" class="section-heading">서울</h1>
<div id="mw-content-text"><div class="hatnote">Other uses: see Seoul (disambiguation)</div>
<p><b>서울</b> is the capital<sup class="reference" id="cite_ref-1"><a href="#cite_note-1">[1]</a></sup>. Near
<a href="Busan" title="Busan">Busan</a>, old <a href="Pusan">Pusan</a>, <a href="Missing_page">nowhere</a>,
<a href="Busan#History">Busan's history</a>, <a href="https://en.wikipedia.org/wiki/Seoul" class="external">elsewhere</a>,
<a href="javascript:steal()">click</a>, <a href="data:text/html,x">data</a>.</p>
<video poster="I/Flag.png" controls><source src="I/clip.webm" type="video/webm"><track src="I/subs.vtt"></video>
<h2>History<span class="mw-editsection"><a href="https://ko.wikipedia.org/w/index.php?title=x&amp;action=edit">편집</a></span></h2>
<figure><img src="I/Flag.png" alt="flag" srcset="I/Flag2x.png 2x" onerror="steal()" style="width:9px"><figcaption>Flag</figcaption></figure>
<p>Icon <img src="I/Icon.svg"> and <img src="I/Gone.png"> and again <img src="./I/Flag.png" alt="same flag"> and
<img src="I/Photo.jpg">.</p>
<table class="navbox"><tr><td>Cities of Korea navigation</td></tr></table>
<ol class="references"><li id="cite_note-1"><span class="mw-cite-backlink"><a href="#cite_ref-1">^</a></span> A source.</li></ol>
</div></div><script>evil()</script><!-- a comment --></body></html>"""

BUSAN = """<html><head><title>Busan</title></head><body><h1>Busan</h1><p>Port city; the capital is
<a href="./%EC%84%9C%EC%9A%B8">서울</a>.</p></body></html>"""



def real_image(kind: str, color: tuple[int, int, int]) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (24, 16), color).save(out, kind)
    return out.getvalue()


PNG = real_image("PNG", (200, 30, 30))
JPEG = real_image("JPEG", (30, 30, 200))


@pytest.fixture(scope="module")
def wiki(tmp_path_factory) -> Path:
    articles = [
        LibzimArticle("서울", "서울", SEOUL),
        LibzimArticle("Busan", "Busan", BUSAN),
        LibzimArticle("Daegu", "Daegu", "<html><body><p>Inland city.</p></body></html>"),
        LibzimArticle("I/Flag.png", "", PNG, mime="image/png", front=False),
        LibzimArticle("I/Photo.jpg", "", JPEG, mime="image/jpeg", front=False),
        LibzimArticle("I/Icon.svg", "", "<svg/>", mime="image/svg+xml", front=False),
        LibzimArticle("s/style.css", "", "body{}", mime="text/css", front=False),
    ]
    redirects = [("Hanyang", "Hanyang", "서울"), ("Keijo", "Keijō", "Hanyang"), ("Pusan", "Pusan", "Busan")]
    metadata = {"Title": "Korean cities", "Description": "Three cities", "Language": "kor,eng", "Date": "2024-03-05",
                "Name": "cities", "Creator": "test", "Publisher": "test"}
    return libzim_zim(tmp_path_factory.mktemp("wiki") / "cities.zim", articles, redirects, metadata, main_path="서울")


def articles_of(items) -> dict[str, ImportedArticle]:
    items = list(items)
    failures = [i for i in items if isinstance(i, ImportFailure)]
    assert not failures, failures
    return {a.title: a for a in items}


def test_front_articles_become_articles_with_metadata(wiki):
    found = articles_of(read_zims([wiki], ImportOptions()))
    assert sorted(found) == ["Busan", "Daegu", "서울"]
    seoul = found["서울"]
    assert (seoul.key, seoul.source, seoul.body_format, seoul.lang, seoul.date) == (f"{wiki}#C/서울", wiki, "html", "ko", date(2024, 3, 5))
    assert seoul.slug_hint == "서울" and seoul.words_kept > 10


def test_kiwix_page_furniture_is_dropped_and_content_kept(wiki):
    body = articles_of(read_zims([wiki], ImportOptions()))["서울"].body
    for gone in ("<script", "<style", "<link", "evil()", "Jump to search", "편집", "action=edit", "[1]", "navigation",
                 "Other uses", "<h1", "onerror", "steal", "srcset", "style=", "class=", "a comment", "^", "data:",
                 "<video", "clip.webm", "poster", "subs.vtt"):
        assert gone not in body, gone
    for kept in ("is the capital", "<h2>History</h2>", "click</a>", "data</a>", "A source.", "<figcaption>Flag</figcaption>", "<b>서울</b>"):
        assert kept in body, kept


def test_internal_links_become_import_links_and_redirects_are_followed(wiki):
    found = articles_of(read_zims([wiki], ImportOptions()))
    body = found["서울"].body
    assert f'href="{IMPORT_LINK_SCHEME}{wiki}#C/Busan"' in body
    assert body.count(f'href="{IMPORT_LINK_SCHEME}{wiki}#C/Busan"') == 2  # "Pusan" redirects to Busan
    assert f'href="{IMPORT_LINK_SCHEME}{wiki}#C/Busan#History"' in body
    assert f'href="{IMPORT_LINK_SCHEME}{wiki}#C/Missing_page"' in body  # the writer turns it into text
    assert 'href="https://en.wikipedia.org/wiki/Seoul"' in body
    assert f'href="{IMPORT_LINK_SCHEME}{wiki}#C/서울"' in found["Busan"].body  # percent-encoded path decoded


def test_redirects_become_aliases_of_their_final_target(wiki):
    found = articles_of(read_zims([wiki], ImportOptions()))
    assert sorted(found["서울"].aliases) == ["Hanyang", "Keijō"]  # Keijō -> Hanyang -> 서울
    assert found["Busan"].aliases == ["Pusan"]
    assert found["Daegu"].aliases == []


def test_images_used_become_media_with_safe_unique_names(wiki):
    seoul = articles_of(read_zims([wiki], ImportOptions()))["서울"]
    assert [(m.name, m.data) for m in seoul.media] == [("flag.png", PNG), ("photo.jpg", JPEG)]
    assert seoul.body.count('src="flag.png"') == 2 and 'src="photo.jpg"' in seoul.body
    assert "Icon.svg" not in seoul.body and "Gone.png" not in seoul.body
    assert any("dropped 2 images" in note for note in seoul.notes)


def test_without_images_takes_no_media(wiki):
    seoul = articles_of(read_zims([wiki], ImportOptions(without_images=True)))["서울"]
    assert seoul.media == [] and "<img" not in seoul.body and "Flag" in seoul.body


def test_limit_takes_the_first_articles_by_title(wiki):
    found = articles_of(read_zims([wiki], ImportOptions(limit=2)))
    assert sorted(found) == ["Busan", "Daegu"]  # title order is byte order: Latin before Hangul
    assert found["Busan"].aliases == ["Pusan"]


def test_titles_select_articles_also_by_a_redirects_title(wiki):
    found = articles_of(read_zims([wiki], ImportOptions(titles=("Daegu", "Keijō", "Not a title"))))
    assert sorted(found) == ["Daegu", "서울"]


def test_lang_option_overrides_the_zims(wiki):
    found = articles_of(read_zims([wiki], ImportOptions(lang="en", tags=("cities",))))
    assert {a.lang for a in found.values()} == {"en"} and found["Daegu"].tags == ["cities"]


def test_zim_settings_fill_infopack_toml(wiki):
    assert zim_settings(wiki) == {"title": "Korean cities", "description": "Three cities", "lang": "ko",
                                  "created": date(2024, 3, 5)}


def test_language_codes_map_to_iso_639_1():
    assert [iso_639_1(v) for v in ("kor", "eng", "ger", "cmn", "fra,eng", "ko", "xyz", "", "mul")] == \
        ["ko", "en", "de", "zh", "fr", "ko", None, None, None]


def test_progress_reports_share_and_time_left(wiki, monkeypatch):
    ticks = iter(range(0, 1000, 3))
    monkeypatch.setattr(convert, "clock", lambda: float(next(ticks)))
    lines: list[str] = []
    articles_of(read_zims([wiki], ImportOptions(), lines.append))
    assert lines[0].startswith("cities.zim: choosing among ") and lines[0].endswith(" entries")
    assert lines[1] == "cities.zim: 1 of 3 articles (33%), about 6 s left"
    assert lines[-1].startswith("cities.zim: 3 articles read in ")


def test_old_namespace_zim_converts(tmp_path):
    path = craft_zim(old_style_items(), CraftOptions(compression={0: "xz", 1: "none"})).write(tmp_path / "old.zim")
    found = articles_of(read_zims([path], ImportOptions()))
    assert sorted(found) == ["Busan", "Seoul"]
    assert f'href="{IMPORT_LINK_SCHEME}{path}#A/Seoul"' in found["Busan"].body
    assert f'href="{IMPORT_LINK_SCHEME}{path}#A/Busan"' in found["Seoul"].body
    assert [m.name for m in found["Seoul"].media] == ["flag.png"] and found["Seoul"].aliases == ["Hanyang"]
    assert found["Seoul"].lang == "ko" and found["Seoul"].date == date(2019, 5, 6)


def test_damaged_zim_is_one_failure_and_other_files_still_import(wiki, tmp_path):
    broken = tmp_path / "broken.zim"
    broken.write_bytes(b"not a zim at all" * 10)
    items = list(read_zims([broken, wiki], ImportOptions()))
    assert isinstance(items[0], ImportFailure) and items[0].source == broken
    assert "wrong magic number" in items[0].problem and "\n" not in items[0].problem
    assert sorted(i.title for i in items[1:]) == ["Busan", "Daegu", "서울"]


def test_a_damaged_cluster_loses_only_its_articles(tmp_path):
    items = [ZimItem("A", "Good", b"<p>good</p>", title="Good", cluster=0),
             ZimItem("A", "Bad", b"<p>bad</p>", title="Bad", cluster=1)]
    crafted = craft_zim(items, CraftOptions(compression={0: "zstd", 1: "zstd"}))
    data = bytearray(crafted.data)
    bad_cluster = crafted.cluster_positions[1]
    data[bad_cluster + 1 : bad_cluster + 5] = b"XXXX"  # not a zstd frame any more
    path = tmp_path / "half.zim"
    path.write_bytes(bytes(data))
    out = list(read_zims([path], ImportOptions()))
    assert [a.title for a in out if isinstance(a, ImportedArticle)] == ["Good"]
    assert [f.problem for f in out if isinstance(f, ImportFailure)] == ["A/Bad: damaged: cluster 1 does not decompress "
                                                                        "(zstd decompress error: Unknown frame descriptor)"]


def test_a_redirect_loop_is_skipped_not_fatal(tmp_path):
    items = [ZimItem("A", "Real", b"<p>real</p>", title="Real"),
             ZimItem("A", "L1", redirect_to="A/L2", title="L1"), ZimItem("A", "L2", redirect_to="A/L1", title="L2")]
    found = articles_of(read_zims([craft_zim(items).write(tmp_path / "loop.zim")], ImportOptions()))
    assert list(found) == ["Real"] and found["Real"].aliases == []


def test_an_empty_page_imports_with_a_note(tmp_path):
    path = craft_zim([ZimItem("A", "Blank", b"", title="Blank")]).write(tmp_path / "blank.zim")
    (article,) = read_zims([path], ImportOptions())
    assert article.body == "" and "the page is empty" in article.notes
    assert "assumed en" in " ".join(article.notes)  # no Language metadata


def test_zim_files_are_routed_to_this_reader():
    name = registry.reader_name_for(Path("wikipedia_ko_all.ZIM"))
    assert registry.load_reader(name) is read_zims


def test_crafted_header_fields_still_match(tmp_path):
    # The craft helper and the reader agree on the header layout (guards the attack tests' offsets).
    crafted = craft_zim(old_style_items())
    (count,) = struct.unpack_from("<I", crafted.data, 24)
    assert count == len(old_style_items())


def write_imported(articles: list[ImportedArticle], root: Path) -> Path:
    """A minimal stand-in for the import writer (ingest/writer.py, not this module's): one folder per
    article with its media beside it; import links to written articles become relative links,
    the others become their text."""
    slugs = {a.key: f"a{n}" for n, a in enumerate(articles)}
    (root / "infopack.toml").parent.mkdir(parents=True, exist_ok=True)
    (root / "infopack.toml").write_text('title = "Cities"\nlang = "ko"\nid = "cities"\n', encoding="utf-8")

    def link(match: re.Match[str]) -> str:
        key = match.group(1)
        key = key if key in slugs else key.rpartition("#")[0]
        if key in slugs:
            return f'<a href="../{slugs[key]}/index.html">{match.group(2)}</a>'
        return match.group(2)

    for article in articles:
        folder = root / "articles" / slugs[article.key]
        folder.mkdir(parents=True)
        body = re.sub(r'<a href="' + IMPORT_LINK_SCHEME + r'([^"]*)">(.*?)</a>', link, article.body, flags=re.S)
        front = ["---", f"title: {json.dumps(article.title)}", f"date: {article.date}", f"lang: {article.lang}",
                 f"aliases: {json.dumps(article.aliases)}", "---"]
        (folder / "index.html").write_text("\n".join(front) + "\n" + body + "\n", encoding="utf-8")
        for media in article.media:
            (folder / media.name).write_bytes(media.data)
    return root


def test_imported_zim_builds_and_search_finds_a_redirects_title(wiki, tmp_path):
    from infopack.build.assemble import build_bundle
    from infopack.build.search import decode_shard, tokenize_for_index
    from kit.content import bundle_article_html

    items = list(read_zims([wiki], ImportOptions()))
    content = write_imported(items, tmp_path / "content")
    build_bundle(content, tmp_path / "bundle")
    texts = bundle_article_html(tmp_path / "bundle")
    assert len(texts) == 3 and any("is the capital" in text for text in texts.values())
    assert not any("evil()" in text or "Missing_page" in text for text in texts.values())
    assert len(list((tmp_path / "bundle" / "media").iterdir())) == 2  # the flag and the photo

    page = (tmp_path / "bundle" / "index.html").read_text(encoding="utf-8")
    root = json.loads(re.search(r'<script id="infopack-root" type="application/json">(.*?)</script>', page, re.S).group(1))
    postings: dict[str, list] = {}
    for name in root["files"]:
        if name.startswith("search/t/"):
            text = (tmp_path / "bundle" / "data" / f"{name}.js").read_bytes()[2:].decode("utf-16-le")
            literal = text[len(f'infopackData("{name}","') : -4]
            units = re.sub(r"\\u([0-9a-f]{4})", lambda m: chr(int(m.group(1), 16)), literal)
            postings.update(decode_shard(units.encode("utf-16-le", errors="surrogatepass")[: root["files"][name][0]]))
    (keijo,) = tokenize_for_index("Keijō")
    hanyang_docs = {doc for doc, _ in postings["hanyang"]}
    assert len(hanyang_docs) == 1 and hanyang_docs == {doc for doc, _ in postings[keijo]}
    assert {doc for doc, _ in postings["pusan"]} != hanyang_docs


def test_xhtml_pages_and_odd_bytes_still_convert(tmp_path):
    items = [ZimItem("A", "X", b'<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml"><body>'
                               b"<p>\xed\x95\x9c\xea\xb8\x80 text</p></body></html>", title="X"),
             ZimItem("A", "Bad", b"<p>broken \xff\xfe bytes &amp; <b>bold", title="Bad")]
    found = articles_of(read_zims([craft_zim(items).write(tmp_path / "x.zim")], ImportOptions(lang="ko")))
    assert "<p>한글 text</p>" in found["X"].body
    assert "<b>bold</b>" in found["Bad"].body and "&amp;" in found["Bad"].body


def test_a_date_under_the_title_is_the_articles_date_and_a_date_in_the_text_stays(tmp_path):
    items = [ZimItem("A", "Dated", b'<html><body><article><h1>Dated</h1><p class="meta"><time>2021-07-08</time></p>'
                                   b"<p>Text.</p></article></body></html>", title="Dated"),
             ZimItem("A", "Inside", b"<html><body><p>Opened on <time>2020-01-02</time> by all.</p></body></html>",
                     title="Inside"),
             ZimItem("M", "Date", b"2019-05-06", mime="text/plain")]
    found = articles_of(read_zims([craft_zim(items).write(tmp_path / "d.zim")], ImportOptions(lang="en")))
    assert found["Dated"].date == date(2021, 7, 8) and "2021" not in found["Dated"].body
    assert found["Inside"].date == date(2019, 5, 6) and "2020-01-02" in found["Inside"].body


def test_an_image_that_is_not_what_its_type_says_is_left_out_so_the_library_still_builds(tmp_path):
    from infopack.build.assemble import build_bundle

    page = b'<html><body><p>Two pictures: <img src="/I/good.png"> and <img src="/I/fake.png">.</p></body></html>'
    items = [ZimItem("A", "Pictures", page, title="Pictures"),
             ZimItem("I", "good.png", PNG, mime="image/png", cluster=1),
             ZimItem("I", "fake.png", b"<svg xmlns='http://www.w3.org/2000/svg'/>", mime="image/png", cluster=1),
             ZimItem("M", "Date", b"2019-05-06", mime="text/plain")]
    (found,) = list(read_zims([craft_zim(items).write(tmp_path / "p.zim")], ImportOptions(lang="en")))
    assert [m.name for m in found.media] == ["good.png"] and "fake" not in found.body
    assert any("dropped 1 image" in note for note in found.notes)
    build_bundle(write_imported([found], tmp_path / "content"), tmp_path / "bundle")
