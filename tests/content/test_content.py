"""Content loading and validation: every bad input gets one line naming the file and the problem."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from infopack.commands import main
from infopack.content.load import load_content
from infopack.errors import InfopackError
from kit.content import EXAMPLE_CONTENT, article, tree_digest, write_content


def run_build(content: Path, out: Path, *extra: str):
    return CliRunner().invoke(main, ["build", str(content), "--out", str(out), "--quiet", *extra])


def test_example_content_loads():
    content = load_content(EXAMPLE_CONTENT)
    assert len(content.articles) >= 6
    assert {a.lang for a in content.articles} >= {"ko", "en"}
    assert content.settings.publisher == ""


def test_all_problems_reported_at_once(tmp_path):
    root = write_content(tmp_path / "c", {
        "one.md": article(title="", lang="en"),
        "two.md": article(lang="xx"),
        "three.md": article(date="2025-13-40"),
    })  # fmt: skip
    with pytest.raises(InfopackError) as caught:
        load_content(root)
    messages = [str(p) for p in caught.value.problems]
    assert any("one.md:2: no title" in m for m in messages), messages
    assert any("two.md:4: unknown language code 'xx'" in m for m in messages), messages
    assert any("three.md:3: date" in m and "is not a date" in m for m in messages), messages


BAD_INPUTS = {
    "missing toml": (lambda root: (root / "infopack.toml").unlink(), "infopack.toml: missing"),
    "invalid toml": (lambda root: (root / "infopack.toml").write_text("title = \n"), "infopack.toml:1: not valid TOML"),
    "front matter does not parse": (
        lambda root: (root / "articles" / "a.md").write_text("---\ntitle: [unclosed\ndate: 2025-01-01\n---\nx\n"),
        "a.md:3: front matter is not valid YAML",
    ),
    "no title": (lambda root: (root / "articles" / "a.md").write_text(article(title='""')), "a.md:2: no title"),
    "unknown language": (lambda root: (root / "articles" / "a.md").write_text(article(lang="kor")), "a.md:4: unknown language code 'kor'"),
    "date not a date": (lambda root: (root / "articles" / "a.md").write_text(article(date="yesterday")), "a.md:3: date yesterday is not a date"),
    "missing media": (
        lambda root: (root / "articles" / "a.md").write_text(article(body="![x](../media/gone.jpg)")),
        "a.md:6: media file not found: ../media/gone.jpg",
    ),
    "duplicate slug": (lambda root: (root / "articles" / "a.txt").write_text(article()), "duplicate slug 'a'"),
    "case collision": (lambda root: (root / "articles" / "A.md").write_text(article()), "on a case-insensitive card"),
    "not utf-8": (lambda root: (root / "articles" / "a.md").write_bytes(b"---\ntitle: caf\xe9\n---\n"), "a.md:2: not UTF-8 text"),
    "empty content folder": (lambda root: (root / "articles" / "a.md").unlink(), "no articles found"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_gives_one_line_and_writes_nothing(tmp_path, case):
    root = write_content(tmp_path / "c", {"a.md": article()})
    mutate, expected = BAD_INPUTS[case]
    mutate(root)
    before = tree_digest(root)
    out = tmp_path / "out"
    result = run_build(root, out)
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.output
    assert expected in lines[0], lines[0]
    assert "Traceback" not in result.output
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name != "c"] == []  # no partial folder either
    assert tree_digest(root) == before


def test_output_inside_content_folder_refused(tmp_path):
    root = write_content(tmp_path / "c", {"a.md": article()})
    before = tree_digest(root)
    result = run_build(root, root / "bundle")
    assert result.exit_code == 1
    assert "inside the content folder" in result.output
    assert tree_digest(root) == before


def test_unreadable_media_outside_content_refused(tmp_path):
    (tmp_path / "secret.jpg").write_bytes(b"not for the bundle")
    root = write_content(tmp_path / "c", {"a.md": article(body="![x](../../secret.jpg)")})
    result = run_build(root, tmp_path / "out")
    assert result.exit_code == 1
    assert "outside the content folder" in result.output
