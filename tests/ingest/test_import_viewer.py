"""Done when: a folder staff hold imports with one command, builds, and reads cleanly in the viewer."""

from __future__ import annotations

from datetime import date

import pytest

from infopack.build.assemble import build_bundle
from infopack.ingest.model import ImportOptions
from infopack.ingest.orchestrate import import_sources
from kit.sources import mixed_sources

pytestmark = pytest.mark.browser


def test_imported_folder_reads_cleanly_in_the_viewer(page, tmp_path):
    sources = mixed_sources(tmp_path / "staff")
    report = import_sources([sources], tmp_path / "library", ImportOptions(today=date(2025, 6, 1)))
    assert not report.failed
    built = build_bundle(tmp_path / "library", tmp_path / "bundle")

    page.goto(built.index_html.as_uri())
    page.wait_for_selector(".list li")
    titles = page.locator(".list li a.title").all_inner_texts()
    assert len(titles) == built.articles
    assert "Testimony: the crossing" in titles and "첫 번째 인터뷰" in titles

    page.click("text=Testimony: the crossing")
    page.wait_for_selector("article .body img")
    assert "We walked for three nights" in page.inner_text("article")
    assert page.evaluate("document.querySelector('article .body img').complete && "
                         "document.querySelector('article .body img').naturalWidth > 0")
    assert page.inner_text("article").count("Testimony: the crossing") == 1  # the title is not repeated

    page.click("#back-button")
    page.wait_for_selector(".list li")
    page.click("text=첫 번째 인터뷰")
    page.wait_for_selector("article audio")
    assert all(url.startswith("file://") for url in page.requested_urls)
    assert page.console_errors == []
