"""Links between articles imported together, and the hook for the plain-text capture cleaner."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

from infopack.build.assemble import build_bundle
from infopack.content.load import load_content
from infopack.ingest import capture
from infopack.ingest import text as text_reader
from infopack.ingest.model import ImportedArticle, ImportOptions
from infopack.ingest.orchestrate import import_sources
from infopack.ingest.writer import write_articles
from kit.content import bundle_article_html

TODAY = ImportOptions(today=date(2025, 6, 1))


def test_links_between_imported_articles_resolve_and_others_become_text(tmp_path):
    def page(key: str, title: str, body: str, fmt: str = "html") -> tuple[ImportedArticle, str]:
        return ImportedArticle(key=key, source=tmp_path, title=title, body=body, body_format=fmt, lang="en"), key

    articles = [
        page("https://a.example/one", "One", '<p>See <a href="infopack-import:https://a.example/two?x=1&amp;y=2">two</a> and '
             '<a href="infopack-import:https://elsewhere.example/">a page not imported</a>.</p>'),
        page("https://a.example/two?x=1&y=2", "Two", "Back to [one](infopack-import:https://a.example/one) or "
             "[gone](infopack-import:nothing).\n", "md"),
    ]
    outcomes = write_articles(articles, tmp_path / "c", TODAY)
    assert [o.slug for o in outcomes] == ["one", "two"]
    one = (tmp_path / "c" / "articles" / "one" / "index.html").read_text(encoding="utf-8")
    two = (tmp_path / "c" / "articles" / "two" / "index.md").read_text(encoding="utf-8")
    assert 'href="../two/index.md"' in one and "infopack-import:" not in one and "and a page not imported.</p>" in one
    assert "[one](../one/index.html)" in two and "or gone." in two
    (tmp_path / "c" / "infopack.toml").write_text('title = "t"\nlang = "en"\n', encoding="utf-8")
    build_bundle(tmp_path / "c", tmp_path / "b")
    html = bundle_article_html(tmp_path / "b")
    assert 'href="#/a/two"' in html["one"] and 'href="#/a/one"' in html["two"]


def test_text_captures_go_through_the_capture_cleaner_a_folder_at_a_time(tmp_path, monkeypatch):
    # The real cleaner, watched: which captures it gets together, and that what it says reaches the
    # article and the report (a note is added to each result to see it travel).
    seen: list[list[Path]] = []

    def watched(texts):
        seen.append([path for path, _ in texts])
        results = capture.clean_captures(texts)
        return [replace(result, notes=[*result.notes, "site chrome cut"]) for result in results]

    monkeypatch.setattr(text_reader, "clean_captures", watched)
    src = tmp_path / "src"
    src.mkdir()
    for name in ("a", "b"):
        (src / f"{name}.txt").write_text(
            f"Donate Now\nClean {name}: a river story\n\nThe story of {name}, told at length for the import, "
            "with a second sentence so that it reads as a paragraph.\n", encoding="utf-8")
    (src / "c.md").write_text("# Not a capture\n\nMarkdown is not cleaned.\n", encoding="utf-8")
    report = import_sources([src], tmp_path / "c", TODAY)
    assert seen == [[src / "a.txt", src / "b.txt"]]  # one call with every capture of the folder, no Markdown
    rows = {o.identity: o for o in report.outcomes}
    assert "Donate Now" in rows["src/a.txt"].lines_cut and "site chrome cut" in rows["src/a.txt"].problems
    titles = sorted(a.title for a in load_content(tmp_path / "c").articles)
    assert titles == ["Clean a: a river story", "Clean b: a river story", "Not a capture"]
    assert all("Donate Now" not in a.body for a in load_content(tmp_path / "c").articles)
    assert "Donate Now" in (src / "a.txt").read_text(encoding="utf-8")  # cut from the article, never from the source
