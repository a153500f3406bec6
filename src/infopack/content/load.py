"""Load and validate a content folder: `infopack.toml` plus `articles/` with YAML front matter.

Validation collects every problem (as `path:line: problem`) before raising, so staff fix a folder
in one pass. Nothing here writes anything; the content folder is only read.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
import tomllib
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from infopack.content.model import Article, BundleSettings, Content
from infopack.errors import InfopackError, Problem, ProblemList
from infopack.format.constants import BUNDLE_ID_PATTERN

ARTICLE_SUFFIXES = {".md": "md", ".markdown": "md", ".html": "html", ".htm": "html", ".txt": "txt"}
FOLDER_ARTICLE_NAMES = ("index.md", "index.html", "index.txt")

# ISO 639-1 two-letter codes: a typo such as `lang: kr` is caught instead of mislabelling text.
ISO_639_1 = set(
    "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da "
    "de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz "
    "ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln "
    "lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi "
    "pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti "
    "tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu".split()
)

BUNDLE_ID_RE = re.compile(BUNDLE_ID_PATTERN)  # used with fullmatch: `$` would let a final newline through
# Slugs become URL fragments and media file names on FAT32 cards: letters (any script), digits,
# `-` and `_`, nothing that a file system or a URL would treat specially.
SLUG_RE = re.compile(r"[^\W_][\w-]{0,99}")  # used with fullmatch, so no final newline slips through


# Front matter is a flat mapping of words, numbers and lists of them. Everything else YAML offers
# (anchors, aliases, tags, merge keys, deep nesting) is refused while composing, before any value is
# built, so a few hundred hostile bytes cost a bounded amount of work instead of minutes and memory.
MAX_FRONT_MATTER_BYTES = 64 * 1024
MAX_FRONT_MATTER_DEPTH = 4  # the mapping and a list need 2; a little room so `tags: [[a]]` gets its own message
MAX_FRONT_MATTER_NODES = 2000  # every key, value and list item counts one
MAX_FRONT_MATTER_KEYS = 32  # there are 9 keys; more than this is not a typo worth listing one by one
MAX_VALUE_CHARS = 4096  # also keeps int() far below Python's 4300-digit conversion limit
MAX_LIST_ITEMS = 200
PRIORITY_LIMIT = 10**9  # priorities are compared and printed in `plan`; absurd ones are typos
MAX_SETTINGS_BYTES = 64 * 1024

# Characters no published text may hold: lone surrogates cannot be encoded as UTF-8 at all, and
# control characters and Unicode noncharacters break or silently change the JSON and HTML built
# from titles, tags and settings. Tab, line feed and carriage return are ordinary white space.
UNPUBLISHABLE_RE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef"
    + "".join(f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17))
    + "]"
)
_YAML_STR = "tag:yaml.org,2002:str"
_YAML_MERGE = "tag:yaml.org,2002:merge"


class _FrontMatterRefused(Exception):
    """A construct front matter may not use; `line` is 0-based within the front matter text."""

    def __init__(self, message: str, mark: Any):
        super().__init__(message)
        self.message = message
        self.line = mark.line if mark is not None else 0


class _FrontMatterLoader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text (YAML's own date parsing raises on `2025-13-40`) and
    bounds the work: no anchors, aliases or tags, limited depth, node count and value length."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        # Aliases are what makes "billion laughs" explode; anchors exist only to be aliased.
        if isinstance(event, yaml.AliasEvent):
            raise _FrontMatterRefused("front matter may not use YAML aliases (`*name`); write the value out", event.start_mark)
        if event.anchor is not None:
            raise _FrontMatterRefused("front matter may not use YAML anchors (`&name`); write the value out", event.start_mark)
        # Explicit tags (`!!timestamp`, `!!binary`, `!!set`, ...) build values that are not text,
        # and some of them raise plain Python errors on bad input.
        if event.tag is not None:
            tag = _one_line(event.tag.replace("tag:yaml.org,2002:", "!!"), 40)
            raise _FrontMatterRefused(f"front matter may not use YAML tags (`{tag}`); write plain values", event.start_mark)
        self._nodes += 1
        if self._nodes > MAX_FRONT_MATTER_NODES:
            raise _FrontMatterRefused(f"front matter has more than {MAX_FRONT_MATTER_NODES} values", event.start_mark)
        if isinstance(event, yaml.ScalarEvent):
            if len(event.value) > MAX_VALUE_CHARS:
                raise _FrontMatterRefused(f"a front matter value is longer than {MAX_VALUE_CHARS} characters", event.start_mark)
            return super().compose_node(parent, index)
        # The composer recurses once per level: stop at the limit, long before Python's own.
        self._depth += 1
        try:
            if self._depth > MAX_FRONT_MATTER_DEPTH:
                raise _FrontMatterRefused("front matter is nested too deeply (values are words or lists of words)", event.start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


_FrontMatterLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}



def load_content(root: Path) -> Content:
    """Read and validate a whole content folder, or raise InfopackError listing every problem."""
    root = Path(root)
    problems = ProblemList()
    if not root.is_dir():
        raise InfopackError("content folder does not exist or is not a folder", root)
    settings = _load_settings(root, problems)
    warnings: list[str] = []
    articles = _load_articles(root, problems, warnings)
    if settings is not None and not articles and not problems:
        problems.add(root / "articles", "no articles found (expected .md, .html or .txt files)")
    _check_slugs(articles, problems)
    problems.raise_if_any()
    assert settings is not None
    return Content(root=root, settings=settings, articles=articles, warnings=warnings)


def check_article_text(text: str, name: str) -> list[Problem]:
    """The problems `load_content` would report for an article file holding `text` and named
    `name` (e.g. `slug/index.md`), without a content folder: importers check what they write
    with exactly the rules the build applies."""
    return parse_article_text(text, name)[1]


def parse_article_text(text: str, name: str) -> tuple[Article | None, list[Problem]]:
    """An article file's text, read and checked as `load_content` would (the article, or None and
    its problems). Media references are not looked at: there is no folder."""
    problems = ProblemList()
    root = Path("/nonexistent-content")
    article = _article_from_text(root, root / "articles" / name, name, text, problems, [])
    return article, problems.items


# --- infopack.toml ------------------------------------------------------------------------------


def _load_settings(root: Path, problems: ProblemList) -> BundleSettings | None:
    path = root / "infopack.toml"
    shown = _shown(root, path)
    link = _link_leaving(root, path)
    if link is not None:
        problems.add(_shown(root, link), _link_message(link))
        return None
    if not path.is_file():
        problems.add(shown, "missing (every content folder needs infopack.toml with at least a title)")
        return None
    text = _read_utf8(path, shown, problems, limit=MAX_SETTINGS_BYTES)
    if text is None:
        return None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        line = getattr(err, "lineno", 0) or _toml_error_line(str(err))
        problems.add(shown, f"not valid TOML: {_first_line(str(err))}", line)
        return None
    except RecursionError:  # tomllib recurses once per nested array or inline table
        problems.add(shown, "not valid TOML: nested too deeply")
        return None

    before = len(problems.items)
    for key in data:  # a misspelt key would otherwise be silently ignored
        if key not in SETTINGS_KEYS:
            problems.add(shown, _unknown_key_message("unknown key", key, SETTINGS_KEYS), _key_line(text, key))
    values = _walk_fields(
        SETTINGS_FIELDS, data, {key: _key_line(text, key) for key in data}, set(),
        lambda message, line: problems.add(shown, message, line), missing_line=0, context=None,
    )
    if len(problems.items) > before:
        return None
    created = values["created"]
    return BundleSettings(
        id=values["id"],
        title=values["title"].strip(),
        description=values["description"].strip(),
        lang=values["lang"],
        sequence=values["sequence"],
        publisher=values["publisher"].strip(),
        publish_authors=values["publish_authors"],
        publish_sources=values["publish_sources"],
        created=created if not isinstance(created, datetime) else created.date(),
    )


# --- the declared fields ----------------------------------------------------------------------------
# infopack.toml and front matter are described as tables of fields that one validator walks, so an
# importer that makes articles or settings from another source can reuse the same checks and
# messages. A checker gets the value (the declared default when the key is absent) and a `_Check`
# to report problems at the key's line; it returns the value to use.


class _Check:
    def __init__(self, report: Callable[[str, int], None], line: int, done: dict[str, Any], context: Any):
        self._report = report
        self.line = line  # the key's line, 0 when the key is absent
        self.done = done  # the values of the fields checked before this one
        self.context = context  # what the table needs besides values (an article's path)
        self.failed = False

    def problem(self, message: str, line: int | None = None) -> None:
        self.failed = True
        self._report(message, self.line if line is None else line)


@dataclass(frozen=True)
class Field:
    """One key: its name, type (as docs/CONTENT.md names it), default, whether it is required
    (and the problem when it is absent) and the checker that validates and normalises its value."""

    name: str
    type: str
    default: Any
    required: bool
    check: Callable[[Any, _Check], Any]
    missing: str = ""


def _walk_fields(
    fields: tuple[Field, ...],
    values: dict[str, Any],
    lines: dict[str, int],
    refused: set[str],
    report: Callable[[str, int], None],
    *,
    missing_line: int,
    context: Any,
) -> dict[str, Any]:
    """Check every declared field in order; `refused` keys had their problem reported already."""
    done: dict[str, Any] = {}
    for field in fields:
        if field.name in refused:
            continue
        if field.name not in values and field.required:
            report(field.missing, missing_line)
            done[field.name] = field.default
            continue
        done[field.name] = field.check(values.get(field.name, field.default), _Check(report, lines.get(field.name, 0), done, context))
    return done


def _unknown_key_message(prefix: str, key: str, known: Any) -> str:
    close = difflib.get_close_matches(key, sorted(known), n=1)
    hint = f"; did you mean `{close[0]}`?" if close else ""
    return f"{prefix} `{_one_line(key, 60)}`{hint}"


def _setting_text(name: str) -> Callable[[Any, _Check], Any]:
    """A text setting, checked for type and for characters a bundle cannot carry."""

    def check(value: Any, c: _Check) -> Any:
        if not isinstance(value, str):
            c.problem(f"`{name}` must be text, not {_kind(value)}")
            return ""
        bad = UNPUBLISHABLE_RE.search(value)
        if bad:
            c.problem(f"`{name}` contains {_describe_char(bad.group())}")
            return ""
        return value

    return check


def _setting_title(value: Any, c: _Check) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        c.problem("`title` is missing or empty")
        return ""
    return _setting_text("title")(value, c)


def _setting_lang(value: Any, c: _Check) -> Any:
    if not isinstance(value, str):
        c.problem(f"`lang` must be text, an ISO 639-1 code (ko, en, ...), not {_kind(value)}")
        return ""
    if value not in ISO_639_1:
        c.problem(f"`lang` {_quoted(value)} is not an ISO 639-1 language code (ko, en, ...)")
    return value


def _setting_sequence(value: Any, c: _Check) -> Any:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        c.problem("`sequence` must be a whole number >= 1")
        return 1
    return value


def _setting_id(value: Any, c: _Check) -> Any:
    if value is None or value == "":
        value = _derive_bundle_id(c.done.get("title", ""))
    if not isinstance(value, str) or not BUNDLE_ID_RE.fullmatch(value):
        c.problem("`id` must be lower-case letters, digits and '-' (at most 64)")
    return value


def _setting_created(value: Any, c: _Check) -> Any:
    if value is not None and not isinstance(value, date):
        c.problem("`created` must be a date (YYYY-MM-DD)")
        return None
    return value


def _setting_flag(name: str) -> Callable[[Any, _Check], Any]:
    def check(value: Any, c: _Check) -> Any:
        if not isinstance(value, bool):
            c.problem(f"`{name}` must be true or false")
        return value

    return check


SETTINGS_FIELDS: tuple[Field, ...] = (
    Field("title", "text", "", True, _setting_title, "`title` is missing or empty"),
    Field("lang", "ISO 639-1 code", "", True, _setting_lang, "`lang` '' is not an ISO 639-1 language code (ko, en, ...)"),
    Field("sequence", "whole number >= 1", 1, False, _setting_sequence),
    Field("id", "lower-case letters, digits, -", "", False, _setting_id),
    Field("created", "date", None, False, _setting_created),
    Field("description", "text", "", False, _setting_text("description")),
    Field("publisher", "text", "", False, _setting_text("publisher")),
    Field("publish_authors", "true/false", False, False, _setting_flag("publish_authors")),
    Field("publish_sources", "true/false", False, False, _setting_flag("publish_sources")),
)
SETTINGS_KEYS = frozenset(field.name for field in SETTINGS_FIELDS)


def _front_title(value: Any, c: _Check) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        c.problem("no title (front matter needs `title:`)", c.line or 1)
    elif not isinstance(value, str):
        c.problem(f"`title` must be text, not {_kind(value)} (put it in quotes)")
    return value


def _front_date(value: Any, c: _Check) -> Any:
    parsed = _parse_date(value)
    if value is None:
        c.problem("no date (front matter needs `date: YYYY-MM-DD`)", c.line or 1)
    elif parsed is None:
        c.problem(f"date {_one_line(str(value), 40)} is not a date (YYYY-MM-DD)")
    return parsed


def _front_lang(value: Any, c: _Check) -> Any:
    if value is None:
        c.problem("no language (front matter needs `lang:`, e.g. ko or en)", 1)
    elif not isinstance(value, str):
        c.problem(f"`lang` must be a language code such as ko or en, not {_kind(value)} (put it in quotes)")
    elif value not in ISO_639_1:
        c.problem(f"unknown language code {_quoted(value)} (use ISO 639-1: ko, en, ...)")
    return value


def _front_text(name: str) -> Callable[[Any, _Check], Any]:
    def check(value: Any, c: _Check) -> Any:
        value = value or ""
        if not isinstance(value, str):
            c.problem(f"`{name}` must be text, not {_kind(value)}")
        return value

    return check


def _front_list(name: str) -> Callable[[Any, _Check], Any]:
    def check(value: Any, c: _Check) -> Any:
        if value is None:
            return []
        if isinstance(value, str):
            value = [value]
        # true/false/yes/no are YAML booleans: a tag `no` would silently become "False".
        ok = isinstance(value, list) and all(isinstance(i, (str, int, float)) and not isinstance(i, bool) for i in value)
        if not ok:
            c.problem(f"`{name}` must be a list of words, e.g. [history, 역사]")
            return []
        return [str(item).strip() for item in value if str(item).strip()]

    return check


def _front_priority(value: Any, c: _Check) -> Any:
    if not isinstance(value, int) or isinstance(value, bool):
        c.problem("`priority` must be a whole number")
    elif abs(value) > PRIORITY_LIMIT:
        c.problem(f"`priority` must be between -{PRIORITY_LIMIT:,} and {PRIORITY_LIMIT:,}")
    return value


def _front_slug(value: Any, c: _Check) -> Any:
    """Default: the file name, or the folder name for `index.md` (`c.context` is the article's path)."""
    path: Path = c.context
    if value is not None and not isinstance(value, str):
        c.problem(f"`slug` must be text, not {_kind(value)} (put it in quotes)")
        value = None
    slug = value or (path.parent.name if path.name in FOLDER_ARTICLE_NAMES else path.stem)
    slug = unicodedata.normalize("NFC", str(slug))
    if not SLUG_RE.fullmatch(slug):
        c.problem(f"slug {_quoted(slug)} must be letters, digits, '-' or '_' (at most 100)")
    return slug


FRONT_MATTER_FIELDS: tuple[Field, ...] = (
    Field("title", "text", None, True, _front_title, "no title (front matter needs `title:`)"),
    Field("date", "date", None, True, _front_date, "no date (front matter needs `date: YYYY-MM-DD`)"),
    Field("lang", "ISO 639-1 code", None, True, _front_lang, "no language (front matter needs `lang:`, e.g. ko or en)"),
    Field("summary", "text", "", False, _front_text("summary")),
    Field("tags", "list of text", None, False, _front_list("tags")),
    Field("authors", "list of text", None, False, _front_list("authors")),
    Field("source", "text", "", False, _front_text("source")),
    Field("priority", "whole number", 0, False, _front_priority),
    Field("slug", "letters, digits, -, _", None, False, _front_slug),
    # Other titles the article is known by (a ZIM's redirects): search finds the article by them.
    Field("aliases", "list of text", None, False, _front_list("aliases")),
    # Written by `infopack import`: which source this came from and the hash of what was written,
    # so a re-import can tell an untouched article (update it) from one staff edited (skip it).
    Field("imported", "text", "", False, _front_text("imported")),
)


def _derive_bundle_id(title: object) -> str:
    """A stable id from the title when staff give none (documented: set `id` to keep it stable)."""
    if not isinstance(title, str):
        return ""
    ascii_slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:64].strip("-")
    if ascii_slug:
        return ascii_slug
    return "bundle-" + hashlib.sha256(title.encode("utf-8")).hexdigest()[:12]


# --- articles -------------------------------------------------------------------------------------


# Files staff drop into articles/ that the build cannot read: said once each, with the fix.
_IMPORT_FIRST = {".docx", ".doc", ".odt", ".rtf", ".pdf", ".pages", ".hwp", ".hwpx", ".mhtml", ".mht", ".warc", ".zim"}


def _article_files(root: Path, problems: ProblemList, warnings: list[str] | None = None) -> list[Path]:
    """`articles/<slug>.<ext>` and `articles/<slug>/index.<ext>`, in a stable order.

    A symbolic link that leads outside the content folder (`articles/` itself, an entry in it, or an
    article folder's index file) is refused, naming the link: otherwise a link planted in captured
    material would publish whatever file on the staff machine it points at. Links that stay inside
    the content folder are followed, as they are for media.
    """
    articles_dir = root / "articles"
    link = _link_leaving(root, articles_dir)
    if link is not None:
        problems.add(_shown(root, link), _link_message(link))
        return []
    if not articles_dir.is_dir():
        return []
    found: list[Path] = []
    for entry in sorted(articles_dir.iterdir()):  # iterdir lists names; it follows nothing
        if entry.name.startswith("."):
            continue
        if entry.is_symlink():
            if not _inside(root, entry):
                problems.add(_shown(root, entry), _link_message(entry))
                continue
            if not entry.exists() and entry.suffix.lower() in ARTICLE_SUFFIXES:
                problems.add(_shown(root, entry), "is a symbolic link that leads nowhere (its target is missing, or a loop)")
                continue
        if entry.is_file() and entry.suffix.lower() in ARTICLE_SUFFIXES:
            found.append(entry)
        elif entry.is_file() and entry.suffix.lower() in _IMPORT_FIRST and warnings is not None:
            warnings.append(f"{_shown(root, entry)}: the build cannot read a {entry.suffix.lower()} file and leaves it out; "
                            f"import it with `infopack import {entry.name} --into {root.name}`")
        elif entry.is_dir():
            for name in FOLDER_ARTICLE_NAMES:
                index = entry / name
                if index.is_symlink() and not _inside(root, index):
                    problems.add(_shown(root, index), _link_message(index))
                    break
                if index.is_file():
                    found.append(index)
                    break
            else:
                if warnings is not None:
                    warnings.append(_folder_without_index(root, entry))
    return found


def _folder_without_index(root: Path, folder: Path) -> str:
    """The warning for an article folder the build skips because it holds no index file."""
    try:
        names = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
    except OSError:
        names = []
    documents = [n for n in names if Path(n).suffix.lower() in _IMPORT_FIRST]
    if documents:
        fix = f"import {documents[0]} with `infopack import`"
    else:
        fix = "add index.md (or index.html / index.txt) with front matter, or remove the folder"
    return f"{_shown(root, folder)}: article folder without index.md, index.html or index.txt is left out; {fix}"


def _inside(root: Path, path: Path) -> bool:
    """Whether `path`, with every link followed, is within the content folder.

    os.path.realpath, unlike Path.resolve on Python 3.11, does not raise on a link loop."""
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def _link_leaving(root: Path, path: Path) -> Path | None:
    """The first path component below `root` that is a symbolic link leading outside the content
    folder, or None. Checked component by component so the message names the link itself."""
    current = root
    for part in path.relative_to(root).parts:
        current = current / part
        if current.is_symlink() and not _inside(root, current):
            return current
    return None


def _link_message(link: Path) -> str:
    what = "folder" if link.is_dir() else "file"
    return f"is a symbolic link to a {what} outside the content folder; copy the {what} in instead"


def _load_articles(root: Path, problems: ProblemList, warnings: list[str]) -> list[Article]:
    articles = []
    for path in _article_files(root, problems, warnings):
        article = _load_article(root, path, problems, warnings)
        if article is not None:
            articles.append(article)
    return articles


def _load_article(root: Path, path: Path, problems: ProblemList, warnings: list[str]) -> Article | None:
    shown = _shown(root, path)
    text = _read_utf8(path, shown, problems)
    if text is None:
        return None
    return _article_from_text(root, path, shown, text, problems, warnings)


def _article_from_text(root: Path, path: Path, shown: str, text: str, problems: ProblemList,
                       warnings: list[str]) -> Article | None:
    parsed = _split_front_matter(text)
    if parsed is None:
        problems.add(shown, "no front matter (the file must start with a line `---`, YAML, then `---`)", 1)
        return None
    front_text, body, body_line = parsed
    before = len(problems.items)
    fields = _front_matter_fields(front_text, shown, problems)
    if fields is None:
        return None
    warnings.extend(_front_matter_warnings(fields, shown))

    values: dict[str, Any] = {}
    for key, (node, line) in fields.items():
        value = _front_matter_value(key, node, line, shown, problems)
        if value is not _REFUSED:
            values[key] = value

    # A key in `fields` but not in `values` had its problem reported already: one line per key.
    checked = _walk_fields(
        FRONT_MATTER_FIELDS, values, {key: line for key, (_, line) in fields.items()}, set(fields) - set(values),
        lambda message, line: problems.add(shown, message, line), missing_line=1, context=path,
    )
    if len(problems.items) > before:
        return None
    warnings.extend(_body_warnings(body, body_line, shown))
    return Article(
        slug=checked["slug"],
        title=" ".join(checked["title"].split()),
        date=checked["date"],
        lang=checked["lang"],
        summary=" ".join(checked["summary"].split()),
        tags=[" ".join(t.split()) for t in checked["tags"]],
        body=body,
        body_format=ARTICLE_SUFFIXES[path.suffix.lower()],
        source_path=path,
        rel_path=shown,
        authors=checked["authors"],
        source=checked["source"].strip(),
        priority=checked["priority"],
        body_line=body_line,
        aliases=[" ".join(a.split()) for a in checked["aliases"]],
        imported=checked["imported"].strip(),
    )


_REFUSED = object()  # a value whose problem is already reported

# --- warnings: what the build would silently get wrong, one line each with the fix ---------------

_IMAGE_REF_RE = re.compile(r"""!\[[^\]\n]*\]\(\s*<?([^)>\n]+?)>?\s*(?:"[^"\n]*")?\)|\bsrc\s*=\s*["']([^"'\n]+)["']""", re.IGNORECASE)
_WINDOWS_PATH_RE = re.compile(r"^[A-Za-z]:[\\/]|\\")


def _front_matter_warnings(fields: dict[str, tuple[Any, int]], shown: str) -> list[str]:
    found = []
    lang = fields.get("lang")
    if lang is not None and isinstance(lang[0], yaml.ScalarNode) and lang[0].value.strip().lower() == "kr":
        found.append(f"{shown}:{lang[1]}: `lang: kr` is Kanuri; did you mean `lang: ko` (Korean)?")
    for key in ("tags", "authors", "aliases"):
        entry = fields.get(key)
        if entry is not None and isinstance(entry[0], yaml.ScalarNode) and "," in entry[0].value:
            words = ", ".join(w.strip() for w in entry[0].value.split(",") if w.strip())
            found.append(f"{shown}:{entry[1]}: `{key}` is one entry {_quoted(entry[0].value)}; for several write `{key}: [{words}]`")
    return found


def _body_warnings(body: str, body_line: int, shown: str) -> list[str]:
    if not body.strip():
        return [f"{shown}: the article has no text below its front matter; write the text or remove the file"]
    found = []
    for match in _IMAGE_REF_RE.finditer(body):
        ref = (match.group(1) or match.group(2) or "").strip()
        line = body_line + body.count("\n", 0, match.start())
        if ref.lower().startswith("file:"):
            found.append(f"{shown}:{line}: image reference {_quoted(ref)} is a file: URL, which the card cannot reach; "
                         "copy the file beside the article and write its name, e.g. photo.jpg")
        elif _WINDOWS_PATH_RE.search(ref):
            found.append(f"{shown}:{line}: image reference {_quoted(ref)} is a Windows path; "
                         "copy the file beside the article and write its name with / (e.g. images/photo.jpg)")
    return found


def _front_matter_fields(front_text: str, shown: str, problems: ProblemList) -> dict[str, tuple[Any, int]] | None:
    """Compose the front matter (bounded, see _FrontMatterLoader) into {key: (value node, line)}.

    Nothing is constructed here, so no Python value is ever built from a hostile structure. Bad keys
    are reported and left out; None when the front matter as a whole is refused. Lines are 1-based
    lines of the article file."""
    if len(front_text.encode("utf-8", "surrogatepass")) > MAX_FRONT_MATTER_BYTES:
        problems.add(shown, f"front matter is larger than {MAX_FRONT_MATTER_BYTES // 1024} KiB", 2)
        return None
    if not front_text.strip():
        return {}
    try:
        loader = _FrontMatterLoader(front_text)
        try:
            root_node = loader.get_single_node()
        finally:
            loader.dispose()
    except _FrontMatterRefused as err:
        problems.add(shown, err.message, err.line + 2)
        return None
    except yaml.reader.ReaderError as err:  # a raw control character; it carries a position, no mark
        line = front_text.count("\n", 0, max(err.position, 0)) + 2
        problems.add(shown, f"front matter is not valid YAML: character U+{err.character:04X} is not allowed", line)
        return None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(err, "problem", None) or "cannot parse"
        colon = _unquoted_colon(front_text, mark.line if mark is not None else -1)
        if colon is not None:
            problems.add(shown, f"`{colon}` holds a colon: put the {colon} in quotes, e.g. {colon}: \"Part 1: the start\"", line)
        else:
            problems.add(shown, f"front matter is not valid YAML: {_one_line(problem, 120)}", line)
        return None
    except RecursionError:  # not expected with the depth limit; kept as a last line of defence
        problems.add(shown, "front matter is nested too deeply", 2)
        return None
    if root_node is None:
        return {}
    if not isinstance(root_node, yaml.MappingNode):
        problems.add(shown, "front matter must be a mapping of `key: value` lines", 2)
        return None
    if len(root_node.value) > MAX_FRONT_MATTER_KEYS:
        problems.add(shown, f"front matter has {len(root_node.value)} keys (at most {MAX_FRONT_MATTER_KEYS}; known keys: "
                     + ", ".join(sorted(FRONT_MATTER_KEYS)) + ")", 2)
        return None
    fields: dict[str, tuple[Any, int]] = {}  # the usable keys; the others are reported here
    for key_node, value_node in root_node.value:
        line = key_node.start_mark.line + 2
        if not isinstance(key_node, yaml.ScalarNode):
            problems.add(shown, "front matter keys must be plain words", line)
        elif key_node.tag == _YAML_MERGE:
            problems.add(shown, "front matter may not use YAML merge keys (`<<`)", line)
        elif key_node.tag != _YAML_STR or key_node.value not in FRONT_MATTER_KEYS:
            problems.add(shown, _unknown_key_message("unknown front matter key", str(key_node.value), FRONT_MATTER_KEYS), line)
        elif key_node.value in fields:
            first = fields[key_node.value][1]
            problems.add(shown, f"duplicate front matter key `{key_node.value}` (first at line {first})", line)
        else:
            fields[key_node.value] = (value_node, line)
    return fields


FRONT_MATTER_KEYS = frozenset(field.name for field in FRONT_MATTER_FIELDS)
_LIST_KEYS = {field.name for field in FRONT_MATTER_FIELDS if field.type.startswith("list")}


def _front_matter_value(key: str, node: Any, line: int, shown: str, problems: ProblemList) -> Any:
    """Build one front matter value from its node, after checking its shape and its characters."""
    if key in _LIST_KEYS:
        items = node.value if isinstance(node, yaml.SequenceNode) else [node]
        if isinstance(node, yaml.MappingNode) or not all(isinstance(item, yaml.ScalarNode) for item in items):
            problems.add(shown, f"`{key}` must be a list of words, e.g. [history, 역사]", line)
            return _REFUSED
        if len(items) > MAX_LIST_ITEMS:
            problems.add(shown, f"`{key}` has {len(items)} entries (at most {MAX_LIST_ITEMS})", line)
            return _REFUSED
    elif not isinstance(node, yaml.ScalarNode):
        what = "a list" if isinstance(node, yaml.SequenceNode) else "a mapping"
        problems.add(shown, f"`{key}` must be {_EXPECTED[key]}, not {what}", line)
        return _REFUSED
    try:
        value = yaml.constructor.SafeConstructor().construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, OverflowError):  # `priority: 0b_` passes YAML's int pattern
        problems.add(shown, f"`{key}` holds a malformed number", line)
        return _REFUSED
    for text in value if isinstance(value, list) else [value]:
        if isinstance(text, str) and (bad := UNPUBLISHABLE_RE.search(text)):
            problems.add(shown, f"`{key}` contains {_describe_char(bad.group())}", line)
            return _REFUSED
    return value


_EXPECTED = {
    "title": "text",
    "date": "one date (YYYY-MM-DD)",
    "lang": "one language code (ko, en, ...)",
    "summary": "text",
    "source": "text",
    "priority": "a whole number",
    "slug": "text",
}


_UNQUOTED_COLON_RE = re.compile(r"""([A-Za-z_]+)\s*:\s+[^"'\[{\s].*:(\s|$)""")


def _unquoted_colon(front_text: str, error_line: int) -> str | None:
    """The key whose unquoted value holds `: ` (YAML reads it as a second mapping), when that is
    what broke the front matter: `title: Part 1: the start` is the usual case."""
    lines = front_text.split("\n")
    for number in (error_line, error_line - 1):
        if 0 <= number < len(lines):
            match = _UNQUOTED_COLON_RE.match(lines[number])
            if match:
                return match.group(1)
    return None


def _split_front_matter(text: str) -> tuple[str, str, int] | None:
    """Return (front matter, body, line number where the body starts) or None."""
    lines = text.split("\n")
    if not lines or lines[0].rstrip("\r ") != "---":
        return None
    for index in range(1, len(lines)):
        if lines[index].rstrip("\r ") in ("---", "..."):
            front = "\n".join(lines[1:index])
            body = "\n".join(lines[index + 1 :])
            return front, body, index + 2
    return None


def _parse_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _check_slugs(articles: list[Article], problems: ProblemList) -> None:
    """Slugs name URLs and media files: they must be unique, also on case-insensitive FAT32."""
    seen: dict[str, Article] = {}
    for article in articles:
        key = unicodedata.normalize("NFC", article.slug).casefold()
        other = seen.get(key)
        if other is None:
            seen[key] = article
        elif other.slug == article.slug:
            problems.add(article.rel_path, f"duplicate slug {article.slug!r} (also {other.rel_path})")
        else:
            problems.add(
                article.rel_path,
                f"slug {article.slug!r} collides with {other.slug!r} ({other.rel_path}) on a case-insensitive card",
            )


# --- small helpers ------------------------------------------------------------------------------


def _read_utf8(path: Path, shown: str, problems: ProblemList, limit: int | None = None) -> str | None:
    try:
        if limit is not None and path.stat().st_size > limit:
            problems.add(shown, f"larger than {limit // 1024} KiB")
            return None
        raw = path.read_bytes()
    except OSError as err:
        problems.add(shown, f"cannot read: {err.strerror or err}")
        return None
    try:
        text = raw.decode("utf-8")  # strict: encoded surrogates (ED A0 80 ...) are refused here
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        from infopack.content.text_encoding import likely_encoding  # only for this message

        likely = likely_encoding(raw)
        guess = f"; it looks like {likely}" if likely else ""
        problems.add(shown, f"not UTF-8 text (byte 0x{raw[err.start]:02x} at offset {err.start}){guess}: "
                     "save it as UTF-8, or bring it in with `infopack import`, which converts it", line)
        return None
    return text.removeprefix("\ufeff").replace("\r\n", "\n")


def _shown(root: Path, path: Path) -> str:
    """Paths in messages are relative to the content folder's parent: short and without home dirs.
    A file name with a line break or an undecodable byte is shown escaped, so it stays one line."""
    try:
        shown = str(Path(root.name) / path.relative_to(root))
    except ValueError:
        shown = str(path)
    return _one_line(shown)


def _one_line(text: str, limit: int | None = None) -> str:
    """`text` for a one-line message: line breaks, control characters, surrogates and
    noncharacters become visible escapes (`\\n`, `\\ud800`); long text is cut with an ellipsis."""
    if limit is not None and len(text) > limit:
        text = text[:limit] + "…"
    return _ESCAPED_RE.sub(lambda m: m.group().encode("unicode_escape", "backslashreplace").decode("ascii"), text)


_ESCAPED_RE = re.compile("[\t\n\r\u2028\u2029" + UNPUBLISHABLE_RE.pattern[1:])


def _quoted(text: str) -> str:
    """repr() of a value for a message, as before, but never longer than one short line."""
    return repr(text if len(text) <= 40 else text[:40] + "…")


def _kind(value: Any) -> str:
    """What YAML or TOML made of a value, in the words staff would use."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    if value is None:
        return "empty"
    if isinstance(value, (date, datetime)):
        return "a date"
    return type(value).__name__


def _describe_char(char: str) -> str:
    code = ord(char)
    if 0xD800 <= code <= 0xDFFF:
        what = "a lone surrogate"
    elif code < 0x20 or 0x7F <= code <= 0x9F:
        what = "a control character"
    else:
        what = "a Unicode noncharacter"
    return f"{what} (U+{code:04X}), which a bundle cannot carry"


def _key_line(text: str, key: str, offset: int = 0) -> int:
    """Line of `key = ...` in infopack.toml, also `"key" = ...` and a `[key]` table header."""
    name = re.escape(key)
    match = re.search(rf"^(?:([\"']?){name}\1\s*[:=]|\[\s*{name}\s*\])", text, re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 + offset if match else 0


def _toml_error_line(message: str) -> int:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else 0


def _first_line(message: str) -> str:
    return message.splitlines()[0] if message else "parse error"
