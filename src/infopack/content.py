"""Load and validate a content folder: `infopack.toml` plus `articles/` with YAML front matter.

Validation collects every problem (as `path:line: problem`) before raising, so staff fix a folder
in one pass. Nothing here writes anything; the content folder is only read.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
import unicodedata
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from infopack.errors import InfopackError, ProblemList
from infopack.model import Article, BundleSettings, Content

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

BUNDLE_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
# Slugs become URL fragments and media file names on FAT32 cards: letters (any script), digits,
# `-` and `_`, nothing that a file system or a URL would treat specially.
SLUG_RE = re.compile(r"^[^\W_][\w-]{0,99}$")


class _FrontMatterLoader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text: YAML's own date parsing raises on `2025-13-40`."""


_FrontMatterLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

FRONT_MATTER_KEYS = {"title", "date", "lang", "summary", "tags", "authors", "source", "priority", "slug"}


def load_content(root: Path) -> Content:
    """Read and validate a whole content folder, or raise InfopackError listing every problem."""
    root = Path(root)
    problems = ProblemList()
    if not root.is_dir():
        raise InfopackError(f"content folder does not exist or is not a folder", root)
    settings = _load_settings(root, problems)
    articles = _load_articles(root, problems)
    if settings is not None and not articles and not problems:
        problems.add(root / "articles", "no articles found (expected .md, .html or .txt files)")
    _check_slugs(articles, problems)
    problems.raise_if_any()
    assert settings is not None
    return Content(root=root, settings=settings, articles=articles)


# --- infopack.toml ------------------------------------------------------------------------------


def _load_settings(root: Path, problems: ProblemList) -> BundleSettings | None:
    path = root / "infopack.toml"
    shown = _shown(root, path)
    if not path.is_file():
        problems.add(shown, "missing (every content folder needs infopack.toml with at least a title)")
        return None
    text = _read_utf8(path, shown, problems)
    if text is None:
        return None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        line = getattr(err, "lineno", 0) or _toml_error_line(str(err))
        problems.add(shown, f"not valid TOML: {_first_line(str(err))}", line)
        return None

    before = len(problems.items)
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        problems.add(shown, "`title` is missing or empty", _key_line(text, "title"))
        title = ""
    lang = data.get("lang", "")
    if lang not in ISO_639_1:
        problems.add(shown, f"`lang` {lang!r} is not an ISO 639-1 language code (ko, en, ...)", _key_line(text, "lang"))
    sequence = data.get("sequence", 1)
    if not isinstance(sequence, int) or isinstance(sequence, bool) or sequence < 1:
        problems.add(shown, "`sequence` must be a whole number >= 1", _key_line(text, "sequence"))
        sequence = 1
    bundle_id = data.get("id") or _derive_bundle_id(title)
    if not isinstance(bundle_id, str) or not BUNDLE_ID_RE.match(bundle_id):
        problems.add(shown, "`id` must be lower-case letters, digits and '-' (at most 64)", _key_line(text, "id"))
    created = data.get("created")
    if created is not None and not isinstance(created, date):
        problems.add(shown, "`created` must be a date (YYYY-MM-DD)", _key_line(text, "created"))
        created = None
    description = data.get("description", "")
    publisher = data.get("publisher", "")
    for key, value in (("description", description), ("publisher", publisher)):
        if not isinstance(value, str):
            problems.add(shown, f"`{key}` must be text", _key_line(text, key))
    flags = {}
    for key in ("publish_authors", "publish_sources"):
        flags[key] = data.get(key, False)
        if not isinstance(flags[key], bool):
            problems.add(shown, f"`{key}` must be true or false", _key_line(text, key))
    if len(problems.items) > before:
        return None
    return BundleSettings(
        id=bundle_id,
        title=title.strip(),
        description=description.strip(),
        lang=lang,
        sequence=sequence,
        publisher=publisher.strip(),
        publish_authors=flags["publish_authors"],
        publish_sources=flags["publish_sources"],
        created=created if not isinstance(created, datetime) else created.date(),
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


def _article_files(root: Path) -> list[Path]:
    """`articles/<slug>.<ext>` and `articles/<slug>/index.<ext>`, in a stable order."""
    articles_dir = root / "articles"
    if not articles_dir.is_dir():
        return []
    found: list[Path] = []
    for entry in sorted(articles_dir.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_file() and entry.suffix.lower() in ARTICLE_SUFFIXES:
            found.append(entry)
        elif entry.is_dir():
            for name in FOLDER_ARTICLE_NAMES:
                if (entry / name).is_file():
                    found.append(entry / name)
                    break
    return found


def _load_articles(root: Path, problems: ProblemList) -> list[Article]:
    articles = []
    for path in _article_files(root):
        article = _load_article(root, path, problems)
        if article is not None:
            articles.append(article)
    return articles


def _load_article(root: Path, path: Path, problems: ProblemList) -> Article | None:
    shown = _shown(root, path)
    text = _read_utf8(path, shown, problems)
    if text is None:
        return None
    parsed = _split_front_matter(text)
    if parsed is None:
        problems.add(shown, "no front matter (the file must start with a line `---`, YAML, then `---`)", 1)
        return None
    front_text, body, body_line = parsed
    try:
        meta = yaml.load(front_text, Loader=_FrontMatterLoader) if front_text.strip() else {}
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(err, "problem", None) or "cannot parse"
        problems.add(shown, f"front matter is not valid YAML: {problem}", line)
        return None
    except RecursionError:
        problems.add(shown, "front matter is nested too deeply", 2)
        return None
    if not isinstance(meta, dict):
        problems.add(shown, "front matter must be a mapping of `key: value` lines", 2)
        return None

    def line_of(key: str) -> int:
        return _key_line(front_text, key, offset=1)

    before = len(problems.items)
    for key in meta:
        if key not in FRONT_MATTER_KEYS:
            problems.add(shown, f"unknown front matter key `{key}`", line_of(str(key)))
    title = meta.get("title")
    if not isinstance(title, str) or not title.strip():
        problems.add(shown, "no title (front matter needs `title:`)", line_of("title") or 1)
    article_date = _parse_date(meta.get("date"))
    if article_date is None:
        what = "no date (front matter needs `date: YYYY-MM-DD`)" if "date" not in meta else (
            f"date {meta.get('date')!s:.40} is not a date (YYYY-MM-DD)"
        )
        problems.add(shown, what, line_of("date") or 1)
    lang = meta.get("lang")
    if lang is None:
        problems.add(shown, "no language (front matter needs `lang:`, e.g. ko or en)", 1)
    elif lang not in ISO_639_1:
        problems.add(shown, f"unknown language code {lang!r} (use ISO 639-1: ko, en, ...)", line_of("lang"))
    summary = meta.get("summary", "") or ""
    if not isinstance(summary, str):
        problems.add(shown, "`summary` must be text", line_of("summary"))
    tags = _string_list(meta.get("tags"), "tags", shown, line_of("tags"), problems)
    authors = _string_list(meta.get("authors"), "authors", shown, line_of("authors"), problems)
    source = meta.get("source", "") or ""
    if not isinstance(source, str):
        problems.add(shown, "`source` must be text", line_of("source"))
    priority = meta.get("priority", 0)
    if not isinstance(priority, int) or isinstance(priority, bool):
        problems.add(shown, "`priority` must be a whole number", line_of("priority"))
    slug = meta.get("slug") or (path.parent.name if path.name in FOLDER_ARTICLE_NAMES else path.stem)
    slug = unicodedata.normalize("NFC", str(slug))
    if not SLUG_RE.match(slug):
        problems.add(shown, f"slug {slug!r} must be letters, digits, '-' or '_' (at most 100)", line_of("slug"))
    if len(problems.items) > before:
        return None
    return Article(
        slug=slug,
        title=" ".join(title.split()),
        date=article_date,
        lang=lang,
        summary=" ".join(summary.split()),
        tags=[" ".join(t.split()) for t in tags],
        body=body,
        body_format=ARTICLE_SUFFIXES[path.suffix.lower()],
        source_path=path,
        rel_path=shown,
        authors=authors,
        source=source.strip(),
        priority=priority,
    )


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


def _string_list(value: Any, key: str, shown: str, line: int, problems: ProblemList) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, (str, int, float)) for item in value):
        problems.add(shown, f"`{key}` must be a list of words, e.g. [history, 역사]", line)
        return []
    return [str(item).strip() for item in value if str(item).strip()]


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


def _read_utf8(path: Path, shown: str, problems: ProblemList) -> str | None:
    try:
        raw = path.read_bytes()
    except OSError as err:
        problems.add(shown, f"cannot read: {err.strerror or err}")
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        problems.add(shown, f"not UTF-8 text (byte 0x{raw[err.start]:02x} at offset {err.start})", line)
        return None
    return text.removeprefix("\ufeff").replace("\r\n", "\n")


def _shown(root: Path, path: Path) -> str:
    """Paths in messages are relative to the content folder's parent: short and without home dirs."""
    try:
        return str(Path(root.name) / path.relative_to(root))
    except ValueError:
        return str(path)


def _key_line(text: str, key: str, offset: int = 0) -> int:
    match = re.search(rf"^{re.escape(key)}\s*[:=]", text, re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 + offset if match else 0


def _toml_error_line(message: str) -> int:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else 0


def _first_line(message: str) -> str:
    return message.splitlines()[0] if message else "parse error"
