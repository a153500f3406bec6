"""Hostile content folders (issue 10, classes 6 and 7): each gets one `path:line: problem` line, fast.

Content folders hold captured web pages and files from untrusted sources, and staff machines hold
unpublished material. Every test here builds a real folder in tmp_path and runs the real command
line in a fresh process (a timeout turns a hang into a failure), then checks: exit 1, exactly the
expected error lines, no traceback, nothing written, the content folder untouched.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from PIL import Image

from kit.content import (
    article,
    bundle_article_html,
    link_safe_digest,
    run_infopack,
    write_content,
)

HEAD = "---\ntitle: A title\ndate: 2025-01-01\nlang: en\n"  # lines 1-4; the next line is line 5


def build_refused(tmp_path: Path, content: Path, *expected: str) -> list[str]:
    """Build `content` and check it is refused with exactly the `expected` lines, in any order;
    each expected text must occur in its own line. Returns the error lines."""
    before = link_safe_digest(content)
    out = tmp_path / "out"
    around = sorted(p.name for p in tmp_path.iterdir())
    result = run_infopack("build", str(content), "--out", str(out), "--quiet")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output, output
    lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == len(expected), output
    unmatched = list(lines)
    for text in expected:
        match = next((line for line in unmatched if text in line), None)
        assert match is not None, (text, lines)
        unmatched.remove(match)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == around  # no partial bundle beside it either
    assert link_safe_digest(content) == before
    return lines


def one_article(tmp_path: Path, text: str, toml: str | None = None) -> Path:
    return write_content(tmp_path / "c", {"a.md": text}, toml)


# --- 6. hostile front matter ---------------------------------------------------------------------


def test_billion_laughs_front_matter_is_one_line_fast(tmp_path):
    # 435 bytes; each level repeats the one before nine times: 9**9 strings once expanded.
    levels = ["&a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for previous, name in zip("abcdefgh", "bcdefghi"):
        levels.append(f"&{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    text = "---\ntitle: A title\nsummary: [" + ", ".join(levels) + "]\ndate: *i\nlang: en\n---\nBody.\n"
    assert len(text) < 500
    build_refused(tmp_path, one_article(tmp_path, text), "c/articles/a.md:3: front matter may not use YAML anchors")


HOSTILE_YAML = {
    # an anchor and an alias copy one value to another key: refused before anything is built
    "alias": ("summary: &s A summary\nsource: *s\n", 5, "front matter may not use YAML anchors"),
    "merge key": ("summary: x\n<<: {title: Merged}\n", 6, "front matter may not use YAML merge keys (`<<`)"),
    # an explicit tag makes YAML build a date itself, and it raises on a date that does not exist
    "timestamp tag": ("summary: x\nsource: !!timestamp 2025-13-40\n", 6, "front matter may not use YAML tags (`!!timestamp`)"),
    "nested flow sequences": ("tags: " + "[" * 60000 + "]" * 4000 + "\n", 5, "front matter is nested too deeply"),
    "nested block mappings": ("".join(" " * i + f"k{i}:\n" for i in range(200)), 9, "front matter is nested too deeply"),
    "number past the digit limit": ("priority: " + "9" * 5000 + "\n", 5, "a front matter value is longer than 4096 characters"),
    "number YAML accepts but cannot convert": ("priority: 0b_\n", 5, "`priority` holds a malformed number"),
    "thousands of keys": ("".join(f"key{i}: x\n" for i in range(3000)), 1001, "front matter has more than 2000 values"),
    "forty unknown keys": ("".join(f"key{i}: x\n" for i in range(40)), 2, "front matter has 43 keys (at most 32"),
    "front matter over 64 KiB": ("".join(f"# {'x' * 70}\n" for i in range(1000)), 2, "front matter is larger than 64 KiB"),
    "duplicate key": ("title: Second title\n", 5, "duplicate front matter key `title` (first at line 2)"),
    "collection as key": ("? [a]\n: b\n", 5, "front matter keys must be plain words"),
    "boolean as key": ("true: x\n", 5, "unknown front matter key `true`"),
    "raw control character": ("summary: a\x01b\n", 5, "front matter is not valid YAML: character U+0001 is not allowed"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_YAML))
def test_hostile_yaml_front_matter_is_one_line_fast(tmp_path, case):
    extra, line, message = HOSTILE_YAML[case]
    content = one_article(tmp_path, HEAD + extra + "---\nBody.\n")
    build_refused(tmp_path, content, f"c/articles/a.md:{line}: {message}")


WRONG_TYPES = {
    "lang: [ko]": (4, "`lang` must be one language code (ko, en, ...), not a list"),
    "lang: {ko: 1}": (4, "`lang` must be one language code (ko, en, ...), not a mapping"),
    "lang: no": (4, "`lang` must be a language code such as ko or en, not true/false (put it in quotes)"),
    "title: [a, b]": (2, "`title` must be text, not a list"),
    "title: 2024": (2, "`title` must be text, not a number (put it in quotes)"),
    "slug: 5": (7, "`slug` must be text, not a number (put it in quotes)"),
    "tags: [yes, no]": (7, "`tags` must be a list of words"),
    "priority: 1000000000000": (7, "`priority` must be between"),
}


@pytest.mark.parametrize("case", sorted(WRONG_TYPES))
def test_wrong_type_in_front_matter_is_one_line_naming_its_line(tmp_path, case):
    key = case.split(":")[0]
    lines = {"title": "title: A title", "date": "date: 2025-01-01", "lang": "lang: en", "x": "summary: s", "y": "source: t"}
    lines[key] = case
    text = "---\n" + "\n".join(lines.values()) + "\n---\nBody.\n"
    line, message = WRONG_TYPES[case]
    build_refused(tmp_path, one_article(tmp_path, text), f"c/articles/a.md:{line}: {message}")


def test_several_wrong_types_give_one_line_each(tmp_path):
    text = "---\ntitle: [a, b]\ndate: 2025-01-01\nlang: [ko]\nslug: 5\ntags: {a: b}\npriority: [1]\n---\nBody.\n"
    build_refused(
        tmp_path,
        one_article(tmp_path, text),
        "c/articles/a.md:2: `title` must be text, not a list",
        "c/articles/a.md:4: `lang` must be one language code",
        "c/articles/a.md:5: `slug` must be text",
        "c/articles/a.md:6: `tags` must be a list of words",
        "c/articles/a.md:7: `priority` must be a whole number, not a list",
    )


UNPUBLISHABLE = {
    "lone surrogate in the title": ('title: "\\ud800 title"', 2, "`title` contains a lone surrogate (U+D800)"),
    "lone surrogate in a tag": ('tags: [ok, "\\udfff"]', 5, "`tags` contains a lone surrogate (U+DFFF)"),
    "lone surrogate in an author": ('authors: ["\\udc80"]', 5, "`authors` contains a lone surrogate (U+DC80)"),
    "lone surrogate in the summary": ('summary: "a\\ud83d"', 5, "`summary` contains a lone surrogate (U+D83D)"),
    "NUL in the title": ('title: "a\\0b"', 2, "`title` contains a control character (U+0000)"),
    "escape character in a tag": ('tags: ["\\e[31m"]', 5, "`tags` contains a control character (U+001B)"),
    "noncharacter in the source": ('source: "\\uFFFE"', 5, "`source` contains a Unicode noncharacter (U+FFFE)"),
}


@pytest.mark.parametrize("case", sorted(UNPUBLISHABLE))
def test_unpublishable_character_in_front_matter_is_one_line(tmp_path, case):
    entry, line, message = UNPUBLISHABLE[case]
    text = HEAD.replace("title: A title", entry) if entry.startswith("title") else HEAD + entry + "\n"
    build_refused(tmp_path, one_article(tmp_path, text + "---\nBody.\n"), f"c/articles/a.md:{line}: {message}")


SETTINGS = 'title = "T"\nlang = "en"\nid = "t"\n'
HOSTILE_SETTINGS = {
    'lang = ["en"]': ('title = "T"\nlang = ["en"]\n', 2, "`lang` must be text, an ISO 639-1 code (ko, en, ...), not a list"),
    "nested arrays": (SETTINGS + "x = " + "[" * 5000 + "]" * 5000 + "\n", 0, "not valid TOML: nested too deeply"),
    "NUL in the title": ('title = "a\\u0000b"\nlang = "en"\n', 1, "`title` contains a control character (U+0000)"),
    "noncharacter in the description": (SETTINGS + 'description = "\\uFDD0"\n', 4, "`description` contains a Unicode noncharacter"),
    "a table for the description": (SETTINGS + "[description]\ntext = 'x'\n", 4, "`description` must be text, not a table"),
    "a number for the id": ('title = "T"\nlang = "en"\nid = 0\n', 3, "`id` must be lower-case letters"),
    "settings over 64 KiB": (SETTINGS + 'description = "' + "x" * 70000 + '"\n', 0, "larger than 64 KiB"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_SETTINGS))
def test_hostile_infopack_toml_is_one_line(tmp_path, case):
    toml, line, message = HOSTILE_SETTINGS[case]
    where = f"c/infopack.toml:{line}: " if line else "c/infopack.toml: "
    build_refused(tmp_path, one_article(tmp_path, article(), toml), where + message)


PLACEHOLDER_TEXT = "%%MEDIA0%% %%POSTER0%% %%MEDIA7%% %%POSTER99%%"


@pytest.mark.parametrize("suffix", ["md", "html", "txt"])
def test_article_text_with_placeholder_syntax_renders_literally(tmp_path, suffix):
    # The renderer used to mark media as `%%MEDIA<n>%%` and fill in every such text afterwards: an
    # article quoting it crashed the build (IndexError) or had a media file name injected.
    body = {
        "md": f"{PLACEHOLDER_TEXT}\n\n![{PLACEHOLDER_TEXT}](../media/photo.png)\n\n[x](#%%MEDIA0%%) and poster=\"media/\" too",
        "html": f'<p>{PLACEHOLDER_TEXT} <img src="../media/photo.png" alt="{PLACEHOLDER_TEXT}"> poster="media/" too</p>',
        "txt": f"{PLACEHOLDER_TEXT}\nposter=\"media/\" too",
    }[suffix]
    content = write_content(tmp_path / "c", {f"a.{suffix}": article(body=body)})
    (content / "media").mkdir()
    Image.new("RGB", (8, 8), (200, 40, 40)).save(content / "media" / "photo.png")
    out = tmp_path / "out"
    result = run_infopack("build", str(content), "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stdout + result.stderr
    html = bundle_article_html(out)["a"]
    assert html.count(PLACEHOLDER_TEXT) == (1 if suffix == "txt" else 2), html  # text and alt kept as written
    assert 'poster="media/" too' in html
    assert html.count("<img") == (0 if suffix == "txt" else 1)
    assert html.count("media/a-1.png") == (0 if suffix == "txt" else 1)  # only where the image is


# --- 7. symbolic links leading outside the content folder ---------------------------------------


def outside(tmp_path: Path) -> Path:
    """Unpublished material on the staff machine, next to the content folder."""
    private = tmp_path / "private"
    private.mkdir()
    (private / "leak.md").write_text(article(title="UNPUBLISHED testimony", body="UNPUBLISHED"), encoding="utf-8")
    (private / "index.md").write_text(article(title="UNPUBLISHED folder", body="UNPUBLISHED"), encoding="utf-8")
    (private / "infopack.toml").write_text('title = "UNPUBLISHED"\nlang = "en"\nid = "t"\n', encoding="utf-8")
    return private


def link_article_file(content: Path, private: Path) -> str:
    (content / "articles" / "leak.md").symlink_to(private / "leak.md")
    return "c/articles/leak.md: is a symbolic link to a file outside the content folder; copy the file in instead"


def link_article_file_relatively(content: Path, private: Path) -> str:
    (content / "articles" / "leak.md").symlink_to(Path("..", "..", "private", "leak.md"))
    return "c/articles/leak.md: is a symbolic link to a file outside the content folder"


def link_article_folder(content: Path, private: Path) -> str:
    (content / "articles" / "story").symlink_to(private, target_is_directory=True)
    return "c/articles/story: is a symbolic link to a folder outside the content folder; copy the folder in instead"


def link_index_in_article_folder(content: Path, private: Path) -> str:
    (content / "articles" / "story").mkdir()
    (content / "articles" / "story" / "index.md").symlink_to(private / "index.md")
    return "c/articles/story/index.md: is a symbolic link to a file outside the content folder"


def link_through_an_inside_link(content: Path, private: Path) -> str:
    # a link that stays inside, pointing at a link that leaves: the link in articles/ is named
    (content / "hop.md").symlink_to(private / "leak.md")
    (content / "articles" / "leak.md").symlink_to(Path("..", "hop.md"))
    return "c/articles/leak.md: is a symbolic link to a file outside the content folder"


def link_articles_folder(content: Path, private: Path) -> str:
    (content / "articles" / "a.md").rename(private / "a.md")
    (content / "articles").rmdir()
    (content / "articles").symlink_to(private, target_is_directory=True)
    return "c/articles: is a symbolic link to a folder outside the content folder"


def link_settings(content: Path, private: Path) -> str:
    (content / "infopack.toml").unlink()
    (content / "infopack.toml").symlink_to(private / "infopack.toml")
    return "c/infopack.toml: is a symbolic link to a file outside the content folder"


def link_to_nowhere(content: Path, private: Path) -> str:
    (content / "articles" / "gone.md").symlink_to(private / "deleted.md")
    return "c/articles/gone.md: is a symbolic link to a file outside the content folder"


LINKS = [link_article_file, link_article_file_relatively, link_article_folder, link_index_in_article_folder,
         link_through_an_inside_link, link_articles_folder, link_settings, link_to_nowhere]  # fmt: skip


@pytest.mark.parametrize("make_link", LINKS, ids=[f.__name__ for f in LINKS])
def test_symlink_leading_outside_the_content_folder_is_refused_naming_the_link(tmp_path, make_link):
    private = outside(tmp_path)
    content = write_content(tmp_path / "c", {"a.md": article()})
    expected = make_link(content, private)
    build_refused(tmp_path, content, expected)


def test_article_symlink_to_nothing_inside_is_one_line(tmp_path):
    content = write_content(tmp_path / "c", {"a.md": article()})
    (content / "articles" / "loop.md").symlink_to("loop.md")
    (content / "articles" / "moved.md").symlink_to("renamed.md")
    build_refused(
        tmp_path,
        content,
        "c/articles/loop.md: is a symbolic link that leads nowhere",
        "c/articles/moved.md: is a symbolic link that leads nowhere",
    )


def test_refusal_lines_stay_single_lines_for_hostile_file_names(tmp_path):
    content = write_content(tmp_path / "c", {"a.md": article()})
    (content / "articles" / "two\nlines.md").write_text(article(), encoding="utf-8")
    (content / "articles" / os.fsdecode(b"caf\xe9.md")).write_text(article(), encoding="utf-8")
    build_refused(
        tmp_path,
        content,
        "c/articles/caf\\udce9.md: slug 'caf\\udce9' must be letters",
        "c/articles/two\\nlines.md: slug 'two\\nlines' must be letters",
    )


# ---------------------------------------------------------------- unknown keys, both files


def test_misspelt_infopack_toml_key_is_one_line_with_a_suggestion(tmp_path):
    content = write_content(
        tmp_path / "content", {"a.md": article()}, toml='lang = "en"\ntitel = "x"\ntitle = "T"\nid = "t"\n'
    )
    result = run_infopack("build", str(content), "--out", str(tmp_path / "out"), "--quiet")
    lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert result.returncode == 1, result.stdout + result.stderr
    assert lines == ["error: content/infopack.toml:2: unknown key `titel`; did you mean `title`?"], result.stderr
    assert not (tmp_path / "out").exists()


def test_misspelt_front_matter_key_is_one_line_with_a_suggestion(tmp_path):
    content = write_content(tmp_path / "content", {"a.md": HEAD + "tilte: x\n---\nBody.\n"})
    result = run_infopack("build", str(content), "--out", str(tmp_path / "out"), "--quiet")
    lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert result.returncode == 1, result.stdout + result.stderr
    assert lines == ["error: content/articles/a.md:5: unknown front matter key `tilte`; did you mean `title`?"], result.stderr


def test_unknown_keys_far_from_any_known_key_get_no_suggestion(tmp_path):
    content = write_content(
        tmp_path / "content", {"a.md": HEAD + "zzzz: x\n---\nBody.\n"}, toml='title = "T"\nlang = "en"\nqqqqq = 1\n'
    )
    build_refused(
        tmp_path, content,
        "content/infopack.toml:3: unknown key `qqqqq`",
        "content/articles/a.md:5: unknown front matter key `zzzz`",
    )
    result = run_infopack("build", str(content), "--out", str(tmp_path / "out2"), "--quiet")
    assert "did you mean" not in result.stderr


def test_the_declared_field_tables_are_what_docs_content_md_lists():
    """One table per file drives validation; the reference for staff lists exactly these keys."""
    from infopack.content.load import FRONT_MATTER_FIELDS, SETTINGS_FIELDS

    doc = (Path(__file__).resolve().parents[2] / "docs" / "CONTENT.md").read_text(encoding="utf-8")
    toml_part, front_part = doc.split("## Front matter", 1)
    front_part = front_part.split("## Article bodies", 1)[0]

    def keys(part: str) -> list[str]:
        return re.findall(r"^\| `(\w+)` \|", part, re.MULTILINE)

    assert sorted(keys(toml_part)) == sorted(field.name for field in SETTINGS_FIELDS)
    assert sorted(keys(front_part)) == sorted(field.name for field in FRONT_MATTER_FIELDS)
    required = {field.name for field in (*SETTINGS_FIELDS, *FRONT_MATTER_FIELDS) if field.required}
    assert required == {"title", "lang", "date"}


@pytest.mark.parametrize(
    "where",
    ["toml-id", "front-matter-slug"],
)
def test_trailing_newline_cannot_smuggle_a_line_break_into_an_id_or_slug(tmp_path, where):
    # `$` in a pattern also matches before a final newline: "abc\n" would pass, then put a line
    # break into the signed trusted comment (the id) or into media file names on the card (the slug).
    if where == "toml-id":
        content = write_content(tmp_path / "content", {"a.md": article()},
                                toml='title = "T"\nlang = "en"\nid = "abc\\n"\n')  # fmt: skip
        expected = "content/infopack.toml:3:"
    else:
        content = write_content(tmp_path / "content", {"a.md": article(slug='"abc\\n"')})
        expected = "content/articles/a.md:"
    result = run_infopack("build", str(content), "--out", str(tmp_path / "out"), "--quiet")
    lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert result.returncode == 1, result.stdout + result.stderr
    assert len(lines) == 1 and lines[0].startswith(f"error: {expected}"), result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()
