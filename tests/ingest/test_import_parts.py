"""Slugs, encodings, staff warnings, `infopack new` and `infopack preview`."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from infopack.build.assemble import build_bundle
from infopack.build.preview import Preview
from infopack.commands import main
from infopack.content.load import SLUG_RE, check_article_text, load_content
from infopack.content.text_encoding import NotText, decode_text
from infopack.errors import InfopackError
from infopack.ingest.model import ImportedArticle, ImportOptions
from infopack.ingest.slugs import slug_from, unique_slug
from infopack.ingest.writer import write_articles
from kit.content import article, bundle_article_html, write_content
from kit.sources import KOREAN, WESTERN, png

# --- slugs ---


@pytest.mark.parametrize("title, slug", [
    ("Hello, World!", "hello-world"),
    ("산골 마을 버스", "sangol-maeul-beoseu"),
    ("2025 겨울 장터", "2025-gyeoul-jangteo"),
    ("Café Zürich", "cafe-zurich"),
    ("CON", "con-article"),
    ("../../etc/passwd", "etc-passwd"),
])
def test_slugs_are_ascii_fat32_safe_and_readable(title, slug):
    assert slug_from(title) == slug
    assert SLUG_RE.fullmatch(slug) and slug.isascii()


def test_a_title_with_nothing_romanisable_gets_a_stable_hash_slug():
    assert slug_from("Привет мир") == slug_from("Привет мир") != slug_from("Пока мир")
    assert slug_from("Привет мир").startswith("article-")


def test_slugs_are_unique_also_on_a_case_insensitive_card():
    taken = {"river"}
    assert [unique_slug("river", taken), unique_slug("River", taken), unique_slug("river", taken)] == ["river-2", "River-3", "river-4"]


def test_an_existing_article_keeps_its_slug_when_another_takes_its_title_first(tmp_path):
    def imported(key: str) -> ImportedArticle:
        return ImportedArticle(key=key, source=tmp_path, title="Same title", body=f"Body of {key}.", body_format="md", lang="en")

    options = ImportOptions(today=date(2025, 1, 1))
    (first,) = write_articles([(imported("b"), "b")], tmp_path / "c", options)
    again = write_articles([(imported("a"), "a"), (imported("b"), "b")], tmp_path / "c", options)
    assert first.slug == "same-title" and [o.slug for o in again] == ["same-title-2", "same-title"]
    assert [o.action for o in again] == ["new", "unchanged"]


# --- encodings ---


@pytest.mark.parametrize("raw, described", [
    (KOREAN.encode("utf-8"), "UTF-8"),
    (b"\xef\xbb\xbf" + KOREAN.encode("utf-8"), "UTF-8 (with BOM)"),
    (KOREAN.encode("utf-16"), "UTF-16 (BOM)"),
    (KOREAN.encode("utf-16-le"), "UTF-16 (no BOM, guessed from zero bytes)"),
    (WESTERN.encode("utf-16-be"), "UTF-16 (no BOM, guessed from zero bytes)"),
    (KOREAN.encode("cp949"), "CP949 (Korean Windows)"),
    (KOREAN.encode("euc-kr"), "CP949 (Korean Windows)"),
    (WESTERN.encode("cp1252"), "Windows-1252"),
])
def test_staff_encodings_are_detected_and_named(raw, described):
    decoded = decode_text(raw)
    assert decoded.described == described
    assert decoded.text.strip() in (KOREAN.strip(), WESTERN.strip())


def test_binary_is_not_text():
    with pytest.raises(NotText):
        decode_text(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")


# --- staff warnings and errors that say how to fix ---


def test_build_warns_about_what_it_silently_leaves_out(tmp_path):
    root = write_content(tmp_path / "c", {
        "a.md": article(lang="kr", tags="history, 역사", body="![p](C:\\Users\\me\\photo.jpg)\n\n![q](file:///home/me/q.png)"),
        "empty.md": article(body=""),
        "lost/photo.jpg": "not an article",
        "testimony.docx": "PK",
        "report.pdf": "%PDF",
    })
    warnings = load_content(root).warnings
    joined = "\n".join(warnings)
    assert len(warnings) == 8 and all("\n" not in w for w in warnings)
    assert "testimony.docx" in joined and "import it with `infopack import" in joined and "report.pdf" in joined
    assert "articles/lost: article folder without index.md" in joined
    assert "did you mean `lang: ko`" in joined
    assert "write `tags: [history, 역사]`" in joined
    assert "is a Windows path" in joined and "is a file: URL" in joined
    assert "empty.md: the article has no text" in joined

    result = CliRunner().invoke(main, ["build", str(root), "--out", str(tmp_path / "b"), "--quiet"])
    assert result.exit_code == 0, result.output  # warnings, not errors: the build goes on and says them
    assert all(f"warning: {w}" in result.stderr for w in warnings)


def test_unquoted_colon_in_a_title_says_put_it_in_quotes():
    (problem,) = check_article_text("---\ntitle: Part 1: the start\ndate: 2025-01-01\nlang: en\n---\nx\n", "a.md")
    assert problem.line == 2 and "put the title in quotes" in problem.message


def test_non_utf8_article_names_its_likely_encoding_and_the_fix(tmp_path):
    root = write_content(tmp_path / "c", {"ok.md": article()})
    (root / "articles" / "k.md").write_bytes(article(title="k", body=KOREAN).encode("cp949"))
    with pytest.raises(InfopackError) as caught:
        load_content(root)
    message = str(caught.value)
    assert "not UTF-8" in message and "CP949" in message and "infopack import" in message and "\n" not in message


# --- infopack new ---


def test_new_starts_a_folder_that_builds_and_refuses_a_non_empty_one(tmp_path):
    result = CliRunner().invoke(main, ["new", str(tmp_path / "lib"), "--lang", "en"])
    assert result.exit_code == 0, result.output
    toml = (tmp_path / "lib" / "infopack.toml").read_text(encoding="utf-8")
    assert toml.count("#") > 5  # explained in place
    content = load_content(tmp_path / "lib")
    assert len(content.articles) == 1 and not content.warnings
    build_bundle(tmp_path / "lib", tmp_path / "bundle")
    again = CliRunner().invoke(main, ["new", str(tmp_path / "lib")])
    assert again.exit_code == 1 and "is not empty" in again.stderr


# --- infopack preview ---


def test_preview_rebuilds_a_text_edit_reusing_prepared_media(tmp_path):
    root = write_content(tmp_path / "c", {"a/index.md": article(title="A", body="First text.\n\n![p](p.png)")})
    png(root / "articles" / "a" / "p.png")
    preview = Preview(root, tmp_path / "work")
    preview.build()
    assert "First text." in bundle_article_html(preview.bundle_dir)["a"]
    assert preview.media_cache.hits == 0
    shutil.copy(root / "articles" / "a" / "index.md", tmp_path / "saved.md")
    (root / "articles" / "a" / "index.md").write_text(article(title="A", body="Second text.\n\n![p](p.png)"), encoding="utf-8")
    preview.build()
    assert "Second text." in bundle_article_html(preview.bundle_dir)["a"]
    assert preview.media_cache.hits == 1  # the picture was not prepared again
    assert preview.index_html.is_file()


def test_preview_watch_rebuilds_when_a_file_changes_and_keeps_going_after_an_error(tmp_path):
    root = write_content(tmp_path / "c", {"a.md": article(title="A")})
    preview = Preview(root, tmp_path / "work")
    results: list[object] = []

    def report(result, seconds):
        results.append(result)
        if len(results) == 1:
            (root / "articles" / "b.md").write_text("no front matter", encoding="utf-8")
        elif len(results) == 2:
            (root / "articles" / "b.md").write_text(article(title="B"), encoding="utf-8")

    preview.watch(report, interval_s=0.05, rounds=3)
    assert isinstance(results[1], InfopackError)
    assert [getattr(r, "articles", None) for r in results] == [1, None, 2]


def test_preview_command_builds_once_and_prints_the_page_to_open(tmp_path):
    root = write_content(tmp_path / "c", {"a.md": article(title="A")})
    result = CliRunner().invoke(main, ["preview", str(root), "--once"])
    assert result.exit_code == 0, result.output
    opened = Path(result.output.split("open: ", 1)[1].split()[0])
    assert opened.is_file() and opened.name == "index.html"
    shutil.rmtree(opened.parent.parent)


def test_preview_ends_cleanly_on_ctrl_c_and_removes_its_temporary_folder(tmp_path):
    import os
    import signal
    import subprocess
    import sys

    root = write_content(tmp_path / "c", {"a.md": article(title="A")})
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    process = subprocess.Popen([sys.executable, "-m", "infopack.commands", "preview", str(root)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env)
    try:
        lines = []
        while not lines or not lines[-1].startswith("watching"):
            line = process.stdout.readline()
            assert line, process.stderr.read()
            lines.append(line.strip())
        opened = Path(next(line for line in lines if line.startswith("open: "))[len("open: "):])
        assert opened.is_file()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "stopped" in out and "Traceback" not in err
    assert not opened.parent.parent.exists()
