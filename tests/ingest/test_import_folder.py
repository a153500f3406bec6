"""`infopack import` on a folder of everything staff hold: one command, builds, loads, re-imports as a no-op."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from infopack.build.assemble import build_bundle
from infopack.commands import main
from infopack.content.load import load_content
from infopack.ingest.model import ImportOptions
from infopack.ingest.orchestrate import format_report, import_sources
from kit.content import bundle_article_html, tree_digest
from kit.sources import mixed_sources

TODAY = ImportOptions(today=date(2025, 6, 1))


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> Path:
    return mixed_sources(tmp_path_factory.mktemp("sources") / "staff")


def _by_identity(report):
    return {o.identity: o for o in report.outcomes}


def test_mixed_folder_imports_with_one_command_loads_and_builds(sources, tmp_path):
    before = tree_digest(sources)
    content = tmp_path / "library"
    result = CliRunner().invoke(main, ["import", str(sources), "--into", str(content), "--tag", "imported"])
    assert result.exit_code == 0, result.output
    assert "new" in result.output and "failed" not in result.output
    assert tree_digest(sources) == before  # sources are only read

    loaded = load_content(content)
    by_title = {a.title: a for a in loaded.articles}
    assert len(loaded.articles) == 4 + 2 + 3 + 2 + 2  # captures, notes, legacy, documents, recordings
    assert all("imported" in a.tags for a in loaded.articles)
    ready = by_title["Ready: already has front matter"]
    assert (ready.date, ready.priority, ready.tags) == (date(2024, 12, 1), 3, ["ready", "imported"])
    notes = by_title["River notes"]
    assert notes.date == date(2025, 3, 4) and "photo.png" not in notes.body and "(media-1.png)" in notes.body
    assert (notes.source_path.parent / "media-1.png").is_file()
    assert by_title["이동 도서관 버스 이야기"].lang == "ko"  # CP949
    assert "겨울을 맞았다" in by_title["이동 도서관 버스의 겨울 풍경"].body  # UTF-16
    assert "Café owners in Zürich" in by_title["A story from Zurich cafes"].body  # Windows-1252
    testimony = by_title["Testimony: the crossing"]
    assert testimony.body_format == "html" and 'src="image-1.png"' in testimony.body
    assert (testimony.source_path.parent / "image-1.png").read_bytes().startswith(b"\x89PNG")
    assert by_title["Winter report"].body_format == "html" and "<h1" not in by_title["Winter report"].body
    interview = by_title["첫 번째 인터뷰"]
    assert interview.date == date(2024, 5, 6) and interview.lang == "ko" and "<audio" in interview.body
    assert "<video" in by_title["market day"].body

    built = build_bundle(content, tmp_path / "bundle")
    assert built.articles == len(loaded.articles)
    html = bundle_article_html(tmp_path / "bundle")
    assert any("media/" in page and "<img" in page for page in html.values())


def test_the_encoding_assumed_is_said_in_the_report(sources, tmp_path):
    report = import_sources([sources / "legacy"], tmp_path / "c", TODAY)
    notes = {o.identity: " ".join(o.problems) for o in report.outcomes}
    assert "CP949" in notes["legacy/korean-windows.txt"]
    assert "UTF-16" in notes["legacy/notepad-unicode.txt"]
    assert "Windows-1252" in notes["legacy/western.txt"]


def test_reimport_is_a_byte_identical_no_op(sources, tmp_path):
    content = tmp_path / "c"
    import_sources([sources], content, TODAY)
    before = tree_digest(content)  # contents, names and modification times
    again = import_sources([sources], content, TODAY)
    assert {o.action for o in again.outcomes} == {"unchanged"}
    assert tree_digest(content) == before


def test_reimport_from_another_working_folder_finds_the_same_articles(sources, tmp_path, monkeypatch):
    content = tmp_path / "c"
    import_sources([sources / "captures"], content, TODAY)
    before = tree_digest(content)
    monkeypatch.chdir(sources)
    again = import_sources([Path("captures")], content, TODAY)
    assert {o.action for o in again.outcomes} == {"unchanged"}
    assert tree_digest(content) == before


def test_changed_source_updates_its_untouched_article_and_keeps_the_slug(sources, tmp_path):
    own = tmp_path / "own"
    shutil.copytree(sources / "notes", own)
    content = tmp_path / "c"
    first = _by_identity(import_sources([own], content, TODAY))["own/2025-03-04-river-notes.md"]
    path = own / "2025-03-04-river-notes.md"
    path.write_text(path.read_text(encoding="utf-8").replace("second room", "third room"), encoding="utf-8")
    second = _by_identity(import_sources([own], content, TODAY))
    assert second["own/2025-03-04-river-notes.md"].action == "updated"
    assert second["own/2025-03-04-river-notes.md"].slug == first.slug
    assert second["own/ready.md"].action == "unchanged"
    assert "third room" in (content / "articles" / first.slug / "index.md").read_text(encoding="utf-8")


def test_article_staff_edited_is_skipped_unless_force(sources, tmp_path):
    own = tmp_path / "own"
    shutil.copytree(sources / "notes", own)
    content = tmp_path / "c"
    slug = _by_identity(import_sources([own], content, TODAY))["own/ready.md"].slug
    index = content / "articles" / slug / "index.md"
    index.write_text(index.read_text(encoding="utf-8") + "A line staff added.\n", encoding="utf-8")
    (own / "ready.md").write_text((own / "ready.md").read_text(encoding="utf-8") + "Source changed too.\n", encoding="utf-8")

    skipped = _by_identity(import_sources([own], content, TODAY))["own/ready.md"]
    assert skipped.action == "skipped" and "edited since it was imported" in skipped.problems[-1]
    assert "A line staff added." in index.read_text(encoding="utf-8")

    forced = _by_identity(import_sources([own], content, TODAY, force=True))["own/ready.md"]
    assert forced.action == "updated"
    text = index.read_text(encoding="utf-8")
    assert "Source changed too." in text and "A line staff added." not in text


def test_failing_source_is_one_line_the_others_import_and_exit_is_1(sources, tmp_path):
    own = tmp_path / "own"
    shutil.copytree(sources / "captures", own)
    (own / "broken.txt").write_bytes(b"\x00\x01\x02binary\x00" * 50)
    (own / "empty.md").write_text("\n\n", encoding="utf-8")
    (own / "fake.docx").write_bytes(b"not a zip at all")
    result = CliRunner().invoke(main, ["import", str(own), "--into", str(tmp_path / "c")])
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 3 and all(len(line) < 300 for line in errors)
    assert any("broken.txt" in line and "binary" in line for line in errors)
    assert any("fake.docx" in line for line in errors)
    assert len(load_content(tmp_path / "c").articles) == 4


def test_dry_run_writes_nothing_and_shows_what_would_be_cut(sources, tmp_path):
    content = tmp_path / "c"
    report = import_sources([sources / "captures"], content, TODAY, dry_run=True)
    assert not content.exists()
    assert {o.action for o in report.outcomes} == {"new"}
    shown = format_report(report, dry_run=True)
    cut = [line for o in report.outcomes for line in o.lines_cut]
    assert cut and all(f"cut: {line.strip()[:40]}" in shown for line in cut[:5])
    assert shown.splitlines()[-1].startswith("dry run, nothing written")


def test_the_same_page_captured_twice_becomes_one_article(sources, tmp_path):
    own = tmp_path / "own"
    shutil.copytree(sources / "captures", own)
    original = (own / "0-en-river-school.txt").read_text(encoding="utf-8")
    (own / "0-en-river-school-again.txt").write_text(original, encoding="utf-8")
    (own / "0-en-river-school-edited.txt").write_text(original.replace("Search", "Find", 1) + "\nOne more line.\n",
                                                       encoding="utf-8")
    report = import_sources([own], tmp_path / "c", TODAY)
    actions = {o.identity: o.action for o in report.outcomes}
    # Sources are read in sorted order and the first one wins: `-again` sorts before `.txt`.
    assert actions["own/0-en-river-school-again.txt"] == "new"
    assert actions["own/0-en-river-school-edited.txt"] == "skipped"  # near-identical
    assert actions["own/0-en-river-school.txt"] == "skipped"  # identical
    problems = " ".join(p for o in report.outcomes for p in o.problems)
    assert problems.count("the same text as own/0-en-river-school-again.txt") == 2
    assert len(load_content(tmp_path / "c").articles) == 4


def test_media_folder_as_one_article(sources, tmp_path):
    report = import_sources([sources / "recordings"], tmp_path / "c", ImportOptions(one_article=True, today=date(2025, 6, 1)))
    assert [o.action for o in report.outcomes] == ["new"]
    (article,) = load_content(tmp_path / "c").articles
    assert article.body.count("<h2>") == 2 and "<audio" in article.body and "<video" in article.body
    assert article.date == date(2024, 5, 6)
    build_bundle(tmp_path / "c", tmp_path / "bundle")


def test_a_saved_pages_files_folder_and_hidden_files_are_not_sources(tmp_path):
    from infopack.ingest.orchestrate import collect_sources

    (tmp_path / "src" / "page_files").mkdir(parents=True)
    (tmp_path / "src" / "page.html").write_text("<html></html>", encoding="utf-8")
    (tmp_path / "src" / "page_files" / "inner.html").write_text("<html></html>", encoding="utf-8")
    (tmp_path / "src" / ".hidden.md").write_text("x", encoding="utf-8")
    (tmp_path / "src" / "other_files").mkdir()
    (tmp_path / "src" / "other_files" / "kept.md").write_text("x", encoding="utf-8")
    found, refused = collect_sources([tmp_path / "src"])
    assert [s.path.name for s in found] == ["page.html", "kept.md"]
    assert not refused
