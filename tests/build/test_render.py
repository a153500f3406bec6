"""The renderer is the gate between untrusted captured HTML and the reader's browser."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from infopack.build.render import finish_html, render_article, text_to_html
from infopack.content.model import Article


def render(tmp_path: Path, body: str, fmt: str = "html", others: tuple[str, ...] = ()):
    (tmp_path / "articles").mkdir(exist_ok=True)
    source = tmp_path / "articles" / f"this.{fmt}"
    article = Article("this", "T", date(2025, 1, 1), "en", "", [], body, fmt, source, "c/articles/this")
    by_path = {str((tmp_path / "articles" / f"{slug}.md").resolve()): slug for slug in others}
    result = render_article(article, tmp_path, by_path, set(others) | {"this"})
    return result, finish_html(result.html, [f"this-{i + 1}.jpg" for i in range(len(result.media))], [None] * len(result.media))


@pytest.mark.parametrize("attack", [
    "<script>alert(1)</script>",
    '<img src="x.jpg" onerror="alert(1)">',
    '<iframe src="http://tracker.example/"></iframe>',
    '<object data="http://tracker.example/x.swf"></object>',
    '<form action="http://tracker.example/"><input name=q></form>',
    '<link rel="stylesheet" href="http://tracker.example/a.css">',
    '<style>@import url(http://tracker.example/a.css)</style>',
    '<p style="background:url(http://tracker.example/p.png)">x</p>',
    '<svg><image href="http://tracker.example/p.png"/></svg>',
    '<a href="javascript:alert(1)">x</a>',
    '<meta http-equiv="refresh" content="0;url=http://tracker.example/">',
    '<base href="http://tracker.example/">',
])  # fmt: skip
def test_scripts_handlers_and_remote_loads_are_removed(tmp_path, attack):
    (tmp_path / "articles").mkdir()
    (tmp_path / "articles" / "x.jpg").write_bytes(b"jpg")
    _, html = render(tmp_path, attack + "<p>kept</p>")
    lowered = html.lower()
    for forbidden in ("<script", "onerror", "<iframe", "<object", "<form", "<input", "<link", "<style", "style=",
                      "tracker.example", "javascript:", "<meta", "<base", "<svg"):  # fmt: skip
        assert forbidden not in lowered, html
    assert "<p>kept</p>" in html


def test_remote_image_dropped_with_warning(tmp_path):
    result, html = render(tmp_path, '<p><img src="https://cdn.example/p.jpg" alt="p"></p>')
    assert "cdn.example" not in html
    assert any("remote img dropped" in w for w in result.warnings)


def test_external_link_becomes_visible_text_not_a_link(tmp_path):
    _, html = render(tmp_path, '<p><a href="https://news.example/story?id=1">the story</a></p>', "html")
    assert "<a" not in html
    assert '<span class="ext">the story <span class="url">(https://news.example/story?id=1)</span></span>' in html


def test_links_between_articles_become_hash_routes(tmp_path):
    _, html = render(tmp_path, "See [other](other.md) and [again](../articles/other.md).", "md", others=("other",))
    assert html.count('href="#/a/other"') == 2


def test_link_to_missing_article_is_shown_as_text_with_a_warning(tmp_path):
    result, html = render(tmp_path, "See [gone](gone.md).", "md")
    assert result.problems == []
    assert result.warnings == ["c/articles/this: link to an article that is not in the bundle, shown as text: gone.md"]
    assert "<a" not in html and "gone" in html


def test_media_get_neutral_names_and_relative_urls(tmp_path):
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "IMG_2024_kim_family.jpg").write_bytes(b"jpg")
    result, html = render(tmp_path, "![A photo](../media/IMG_2024_kim_family.jpg)", "md")
    assert result.media == [(tmp_path / "media" / "IMG_2024_kim_family.jpg").resolve()]
    assert 'src="media/this-1.jpg"' in html
    assert "kim_family" not in html


def test_h1_in_body_demoted_so_title_stays_the_only_h1(tmp_path):
    _, html = render(tmp_path, "# Heading\n\ntext", "md")
    assert "<h1" not in html and "<h2>Heading</h2>" in html


def test_plain_text_paragraphs_and_line_breaks():
    assert text_to_html("one\ntwo\n\nthree <b>") == "<p>one<br>\ntwo</p>\n<p>three &lt;b&gt;</p>"


def test_search_text_extracted_without_markup(tmp_path):
    result, _ = render(tmp_path, "<h2>학교</h2><p>학교에 <b>갑니다</b></p>")
    assert result.text == "학교\n학교에 갑니다"
