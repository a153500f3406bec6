"""A stable rebuild (`build --base`) pads text packs; the viewer in real Chromium must still open the
edited article and the articles after it in the same pack, from index.html and from phone.html."""

from __future__ import annotations

import pytest

from kit.content import bundle_article_html

pytestmark = pytest.mark.browser


def _open(page, url: str) -> str:
    page.goto(url)
    page.wait_for_selector("article .body p")
    return page.inner_text("article")


@pytest.mark.parametrize("page_name", ["index.html", "phone.html"])
def test_edited_article_and_its_pack_neighbours_open_in_chromium(page, releases, page_name):
    html = bundle_article_html(releases.new)
    assert "A corrected sentence added this month." in html["a00003"]
    for slug in ("a00003", "a00004", "a00005", "added"):
        text = _open(page, (releases.new / page_name).as_uri() + f"#/a/{slug}")
        assert ("Story" in text or "New" in text), (slug, text[:200])
    assert "A corrected sentence added this month." in _open(page, (releases.new / page_name).as_uri() + "#/a/a00003")
    assert page.console_errors == []
    assert all(url.startswith("file:") for url in page.requested_urls)
