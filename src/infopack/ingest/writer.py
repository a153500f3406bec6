"""Write imported articles into a content folder: `articles/<slug>/index.<ext>` plus their media.

What makes re-importing safe:
- Every article written carries `imported: "<source> sha256:<hex>"` in its front matter: which
  source it came from, and the hash of what was written (the index file without that line, and
  each file beside it). On the next import the same source finds its article by that identity and
  keeps its slug; if the article folder still hashes to the recorded value, nobody edited it, so a
  changed source may replace it (`updated`) and an unchanged one leaves it alone (`unchanged`, not
  a byte written). If staff edited it since, it is `skipped` with a note, unless --force.
- Front matter is written by us, never by a YAML dumper's guesses: every value double-quoted with
  every character that could end the value or the line escaped, and the finished file is checked
  with the same rules the build applies (`check_article_text`) before anything is written.
- A new article is written into a hidden temporary folder and renamed into place; an update
  replaces each file atomically, media before the index file that refers to them, and removes
  stale files last. Sources are never opened here.
- A picture that several articles of one import use (a ZIM's flags and icons: the same bytes in
  thousands of pages) is written once, to `CONTENT_DIR/media/imported/<name>-<hash>.<ext>`, and the
  articles refer to it there (`../../media/imported/...`). Beside each article it would be one file
  per article in the bundle too, and on a card every small file takes a whole cluster (10,000
  copies of a 200-byte icon: 320 MB of a card with 32 KiB clusters). The name holds the content's
  hash, so the file never changes once written and is only written when absent. Nothing else
  outside `CONTENT_DIR/articles/` is written.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import html
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import yaml

from infopack.atomic import fsync_directory, write_file_atomically
from infopack.content.load import FOLDER_ARTICLE_NAMES, UNPUBLISHABLE_RE, check_article_text
from infopack.ingest.model import IMPORT_LINK_SCHEME, ImportedArticle, ImportOptions
from infopack.ingest.slugs import WINDOWS_RESERVED, slug_from, unique_slug

DIGEST_PREFIX = " sha256:"
STAGING_PREFIX = ".import-"
# Media names a reader may hand us: one plain FAT32-safe file name, never a path.
MEDIA_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,79}(\.[A-Za-z0-9]{1,8})?")
_ARTICLE_SUFFIX = {"md": "md", "html": "html", "txt": "txt"}
SHARED_MEDIA_FOLDER = ("media", "imported")  # under CONTENT_DIR
SHARED_MEDIA_FROM_ARTICLE = "../../media/imported/"  # as an article folder's index file refers to it


@dataclass
class Outcome:
    """One row of the import report."""

    source: Path
    identity: str
    slug: str = ""
    action: str = ""  # new | updated | unchanged | skipped | failed
    words_kept: int = 0
    lines_cut: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Existing:
    """An article already in the content folder that an earlier import wrote."""

    folder: Path
    index: Path
    digest: str  # as recorded in its `imported:` line


@dataclass
class _Prepared:
    article: ImportedArticle
    identity: str
    slug: str
    index_name: str
    text: str = ""  # the index file, `imported:` line included
    media: dict[str, bytes] = field(default_factory=dict)
    digest: str = ""
    shared: dict[str, bytes] = field(default_factory=dict)  # media/imported/ files the article refers to
    article_shared_names: list[str] = field(default_factory=list)  # the reader's names of those


def write_articles(
    articles: list[tuple[ImportedArticle, str]],
    content_dir: Path,
    options: ImportOptions,
    *,
    force: bool = False,
    dry_run: bool = False,
) -> list[Outcome]:
    """Write each (article, source identity) into `content_dir/articles/`; one Outcome each, in order.

    The identity is what `imported:` records and what finds the article again on the next import
    (a URL, or the source's path relative to the folder it was imported from)."""
    articles_dir = Path(content_dir) / "articles"
    if not dry_run:
        sweep_staging(articles_dir)
    existing, taken = _scan(articles_dir)
    prepared: list[_Prepared | Outcome] = []
    shared = _shared_media([article for article, _ in articles])
    slug_of_key: dict[str, str] = {identity: old.folder.name for identity, old in existing.items()}
    index_of_slug: dict[str, str] = {old.folder.name: old.index.name for old in existing.values()}
    for article, identity in articles:
        old = existing.get(identity)
        if old is not None:
            slug = old.folder.name
        else:
            slug = unique_slug(slug_from(article.slug_hint or article.title), taken)
        index_name = f"index.{_ARTICLE_SUFFIX.get(article.body_format, 'txt')}"
        slug_of_key[article.key] = slug
        slug_of_key[identity] = slug
        index_of_slug[slug] = index_name
        prepared.append(_Prepared(article, identity, slug, index_name))

    outcomes = []
    staged: list[tuple[Path, Path]] = []  # new articles, written in full, waiting to be renamed in
    in_place: set[str] = set()  # shared pictures found or written already
    for item in prepared:
        assert isinstance(item, _Prepared)
        outcome = Outcome(item.article.source, item.identity, item.slug, words_kept=item.article.words_kept,
                          lines_cut=list(item.article.lines_cut), problems=list(item.article.notes))
        try:
            _render(item, options, slug_of_key, index_of_slug, shared)
        except ValueError as err:
            outcome.action = "failed"
            outcome.problems.append(str(err))
            outcomes.append(outcome)
            continue
        try:
            if not dry_run:  # before the article that refers to them
                _ensure_shared(item.shared, Path(content_dir).joinpath(*SHARED_MEDIA_FOLDER), in_place)
            outcome.action = _apply(item, existing.get(item.identity), articles_dir, force, dry_run, outcome, staged)
        except OSError as err:
            outcome.action = "failed"
            outcome.problems.append(f"cannot write articles/{item.slug}: {err.strerror or err}")
        outcomes.append(outcome)
    _put_in_place(staged, articles_dir, outcomes)
    return outcomes


# --- reading what is there ----------------------------------------------------------------------


def _scan(articles_dir: Path) -> tuple[dict[str, _Existing], set[str]]:
    """Articles an earlier import wrote (by identity) and every slug in use (case-folded)."""
    existing: dict[str, _Existing] = {}
    taken: set[str] = set(WINDOWS_RESERVED)
    if not articles_dir.is_dir():
        return existing, taken
    for entry in sorted(articles_dir.iterdir()):
        if entry.name.startswith("."):
            continue
        taken.add((entry.stem if entry.is_file() else entry.name).casefold())
        if not entry.is_dir() or entry.is_symlink():
            continue
        index = next((entry / n for n in FOLDER_ARTICLE_NAMES if (entry / n).is_file()), None)
        if index is None:
            continue
        recorded = _recorded_import(index)
        if recorded is not None and recorded[0] not in existing:
            existing[recorded[0]] = _Existing(entry, index, recorded[1])
    return existing, taken


def _recorded_import(index: Path) -> tuple[str, str] | None:
    """(identity, digest) from an article's `imported:` line, or None."""
    try:
        with open(index, "rb") as handle:
            head = handle.read(64 * 1024).decode("utf-8", "replace")
    except OSError:
        return None
    front = _front_matter_lines(head)
    for line in front:
        if line.startswith("imported:"):
            try:
                value = yaml.safe_load(line[len("imported:"):])
            except yaml.YAMLError:
                return None
            if isinstance(value, str) and DIGEST_PREFIX in value:
                identity, digest = value.rsplit(DIGEST_PREFIX, 1)
                return identity, digest.strip()
    return None


def _front_matter_lines(text: str) -> list[str]:
    lines = text.split("\n")
    if not lines or lines[0].rstrip("\r ") != "---":
        return []
    for number in range(1, len(lines)):
        if lines[number].rstrip("\r ") in ("---", "..."):
            return lines[1:number]
    return []


def folder_digest(index_text: str, media: dict[str, bytes]) -> str:
    """The hash `imported:` records: the index file without its `imported:` line, and every file
    beside it by name and content."""
    digest = hashlib.sha256(b"infopack-import-1\0")
    digest.update(_without_imported_line(index_text).encode("utf-8", "surrogatepass"))
    for name in sorted(media):
        digest.update(b"\0" + name.encode("utf-8", "surrogateescape") + b"\0" + hashlib.sha256(media[name]).digest())
    return digest.hexdigest()


def _without_imported_line(text: str) -> str:
    lines = text.split("\n")
    front = _front_matter_lines(text)
    for number in range(1, len(front) + 1):
        if lines[number].startswith("imported:"):
            del lines[number]
            break
    return "\n".join(lines)


def _digest_on_disk(old: _Existing) -> str | None:
    try:
        text = old.index.read_bytes().decode("utf-8", "surrogateescape")
        media = {p.name: p.read_bytes() for p in sorted(old.folder.iterdir())
                 if p.is_file() and p != old.index and not p.name.startswith(".")}
    except OSError:
        return None
    return folder_digest(text, media)


# --- making the article file ------------------------------------------------------------------------


def _render(item: _Prepared, options: ImportOptions, slug_of_key: dict[str, str], index_of_slug: dict[str, str],
            shared: dict[tuple[int, str], str] | None = None) -> None:
    article = item.article
    body = article.body
    for media in article.media:
        if not MEDIA_NAME_RE.fullmatch(media.name) or media.name.lower().startswith("index.") \
                or media.name.split(".")[0].lower() in WINDOWS_RESERVED:
            raise ValueError(f"refused a media file name that is not a plain, card-safe name: {media.name!r}")
        if media.name.casefold() in {m.casefold() for m in [*item.media, *item.article_shared_names]}:
            raise ValueError(f"two media files named {media.name!r} (names must differ, also in case)")
        shared_name = (shared or {}).get((id(article), media.name))
        if shared_name is not None:
            body = _refer_to_shared(body, article.body_format, media.name, SHARED_MEDIA_FROM_ARTICLE + shared_name)
            item.shared[shared_name] = media.data
            item.article_shared_names.append(media.name)
        else:
            item.media[media.name] = media.data
    body = resolve_links(body, article.body_format, item.slug, slug_of_key, index_of_slug)
    title = _clean_one_line(article.title) or article.source.stem
    fields: list[tuple[str, str | list[str] | int]] = [
        ("title", title),
        ("date", (article.date or options.today or _source_date(article.source)).isoformat()),
        ("lang", options.lang or article.lang or "en"),
    ]
    summary = _clean_one_line(article.summary)
    if summary:
        fields.append(("summary", summary))
    tags = _unique([_clean_one_line(t) for t in [*article.tags, *options.tags]])
    for key, values in (("tags", tags), ("authors", _unique([_clean_one_line(a) for a in article.authors]))):
        if values:
            fields.append((key, values))
    if article.source_url:
        fields.append(("source", _clean_one_line(article.source_url)))
    aliases = _unique([_clean_one_line(a) for a in article.aliases if _clean_one_line(a) != title])
    if aliases:
        fields.append(("aliases", aliases))
    if article.priority:
        fields.append(("priority", int(article.priority)))
    front = "".join(f"{key}: {_yaml_value(value)}\n" for key, value in fields)
    if not body.endswith("\n"):
        body += "\n"
    provisional = f"---\n{front}---\n{body}"
    item.digest = folder_digest(provisional, item.media)
    imported = _yaml_value(f"{_clean_one_line(item.identity)}{DIGEST_PREFIX}{item.digest}")
    item.text = f"---\n{front}imported: {imported}\n---\n{body}"
    problems = check_article_text(item.text, f"{item.slug}/{item.index_name}")
    if problems:
        raise ValueError(f"would not load: {problems[0].message}")


def _shared_media(articles: list[ImportedArticle]) -> dict[tuple[int, str], str]:
    """(id(article), media name) -> file name in media/imported/, for every picture whose bytes
    two or more of these articles use (html and md bodies only: they refer to media by name)."""
    users: dict[bytes, set[int]] = {}
    for article in articles:
        if article.body_format in ("html", "md"):
            for media in article.media:
                users.setdefault(hashlib.sha256(media.data).digest(), set()).add(id(article))
    shared: dict[tuple[int, str], str] = {}
    for article in articles:
        if article.body_format not in ("html", "md"):
            continue
        for media in article.media:
            digest = hashlib.sha256(media.data).digest()
            if len(users[digest]) >= 2:
                stem, dot, suffix = media.name.rpartition(".")
                stem, suffix = (stem, dot + suffix) if dot else (media.name, "")
                shared[(id(article), media.name)] = f"{stem[:50]}-{digest.hex()[:16]}{suffix.lower()}"
    return shared


def _refer_to_shared(body: str, body_format: str, name: str, target: str) -> str:
    """The body with its references to the media file `name` (beside the article) pointing at
    `target` instead: `src="name"` / `href="name"` in HTML, `](name)` in Markdown."""
    if body_format == "html":
        return re.sub(r'(\b(?:src|href)\s*=\s*)(["\'])' + re.escape(html.escape(name)) + r"\2",
                      lambda m: f"{m.group(1)}{m.group(2)}{target}{m.group(2)}", body)
    return re.sub(r"(\]\(\s*<?)" + re.escape(name) + r"(?=>?[\s)])", lambda m: m.group(1) + target, body)


def _ensure_shared(files: dict[str, bytes], folder: Path, in_place: set[str]) -> None:
    """Write each shared picture unless it is there already with these bytes (the name holds their
    hash, so a re-import writes nothing and the folder stays byte-identical)."""
    for name, data in files.items():
        if name in in_place:
            continue
        path = folder / name
        try:
            present = path.is_file() and not path.is_symlink() and path.stat().st_size == len(data) and path.read_bytes() == data
        except OSError:
            present = False
        if not present:
            folder.mkdir(parents=True, exist_ok=True)
            write_file_atomically(path, data)
        in_place.add(name)


def _yaml_value(value: str | list[str] | int) -> str:
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_yaml_string(v) for v in value) + "]"
    return _yaml_string(value)


def _yaml_string(text: str) -> str:
    """A YAML double-quoted scalar: `"` and `\\` escaped, and anything that is not plainly
    printable (line breaks of every kind, controls, BOM) as an escape, so a value can never end
    its line, its quotes or the front matter."""
    out = []
    for char in text:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif code < 0x20 or 0x7F <= code <= 0xA0 or code in (0x2028, 0x2029, 0xFEFF) or 0xD800 <= code <= 0xDFFF \
                or code in (0xFFFE, 0xFFFF):
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _clean_one_line(text: str) -> str:
    """One line of publishable text: characters a bundle cannot carry removed, white space collapsed."""
    return " ".join(UNPUBLISHABLE_RE.sub(" ", text or "").split())


def _unique(values: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for value in values:
        if value and value.casefold() not in seen:
            seen.add(value.casefold())
            out.append(value)
    return out


def _source_date(source: Path) -> date:
    """A source without a date gets its file's modification day (UTC): the same on every re-import."""
    try:
        return datetime.fromtimestamp(source.stat().st_mtime, tz=UTC).date()
    except (OSError, ValueError, OverflowError):
        return date(1970, 1, 1)


_HTML_LINK_RE = re.compile(r"""<a\b([^>]*?)\bhref\s*=\s*(["'])""" + re.escape(IMPORT_LINK_SCHEME) + r"""([^"']*)\2([^>]*)>(.*?)</a\s*>""",
                           re.IGNORECASE | re.DOTALL)
_MD_LINK_RE = re.compile(r"\[([^\]\n]*)\]\(\s*<?" + re.escape(IMPORT_LINK_SCHEME) + r"([^)\s>]*)>?\s*\)")


def resolve_links(body: str, body_format: str, own_slug: str, slug_of_key: dict[str, str], index_of_slug: dict[str, str]) -> str:
    """`infopack-import:KEY` links become `../<slug>/index.<ext>` (what build/render.py resolves to
    the article) when KEY was imported, else their visible text."""

    def target(key: str) -> str | None:
        slug = slug_of_key.get(key)
        if slug is None and "#" in key:
            # `KEY#fragment` (a link to a section of another imported page): the article is found
            # by KEY; the fragment is dropped, the link leads to the article's start.
            slug = slug_of_key.get(key.rpartition("#")[0])
        if slug is None:
            return None
        return f"../{slug}/{index_of_slug.get(slug, 'index.html')}" if slug != own_slug else f"../{slug}/"

    if body_format == "html":
        def html_link(match: re.Match[str]) -> str:
            where = target(html.unescape(match.group(3)))
            if where is None:
                return match.group(5)
            return f'<a{match.group(1)}href="{html.escape(where)}"{match.group(4)}>{match.group(5)}</a>'

        return _HTML_LINK_RE.sub(html_link, body)
    if body_format == "md":
        def md_link(match: re.Match[str]) -> str:
            where = target(match.group(2))
            return match.group(1) if where is None else f"[{match.group(1)}]({where})"

        return _MD_LINK_RE.sub(md_link, body)
    return body


# --- writing ------------------------------------------------------------------------------------


def _apply(item: _Prepared, old: _Existing | None, articles_dir: Path, force: bool, dry_run: bool, outcome: Outcome,
           staged: list[tuple[Path, Path]]) -> str:
    if old is None:
        if not dry_run:
            staged.append((_stage_new(item, articles_dir), articles_dir / item.slug))
        return "new"
    on_disk = _digest_on_disk(old)
    edited = on_disk != old.digest
    if not edited and item.digest == old.digest and old.index.name == item.index_name:
        return "unchanged"
    if edited and not force:
        outcome.problems.append(f"{old.folder.name}/{old.index.name} was edited since it was imported; "
                                "left as it is (--force replaces it with the source)")
        return "skipped"
    if not dry_run:
        _write_update(item, old)
    return "updated"


def _stage_new(item: _Prepared, articles_dir: Path) -> Path:
    """Write a new article completely into a hidden folder beside where it goes (load_content and
    the next import ignore hidden folders, so a crash leaves nothing that looks like an article)."""
    articles_dir.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{item.slug}.", dir=articles_dir))
    try:
        for name, data in [*item.media.items(), (item.index_name, item.text.encode("utf-8"))]:
            with open(temporary / name, "xb") as handle:  # a fresh private folder: no temporary names needed
                handle.write(data)
        os.chmod(temporary, 0o777 & ~_umask())
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return temporary


def _put_in_place(staged: list[tuple[Path, Path]], articles_dir: Path, outcomes: list[Outcome]) -> None:
    """One flush to disk for every staged article (not two per file: an import of thousands of
    pages would spend most of its time waiting for the disk), then each is renamed into place in
    one step, and the articles folder is flushed once."""
    if not staged:
        return
    _flush_file_system(articles_dir, [path for temporary, _ in staged for path in [*temporary.iterdir(), temporary]])
    failed = {articles_dir / o.slug: o for o in outcomes}
    for temporary, final in staged:
        try:
            os.rename(temporary, final)  # refuses to replace a folder that appeared meanwhile
        except OSError as err:
            shutil.rmtree(temporary, ignore_errors=True)
            outcome = failed[final]
            outcome.action = "failed"
            outcome.problems.append(f"cannot write articles/{final.name}: {err.strerror or err}")
    fsync_directory(articles_dir)


def _flush_file_system(folder: Path, paths: list[Path]) -> None:
    """Make what was written durable: syncfs(2) flushes the one file system the content folder is
    on in one call (Linux); elsewhere, or if it fails, each file is flushed on its own."""
    if sys.platform.startswith("linux"):
        try:
            fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
            try:
                if ctypes.CDLL(None, use_errno=True).syncfs(fd) == 0:
                    return
            finally:
                os.close(fd)
        except (OSError, AttributeError):
            pass
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            with contextlib.suppress(OSError):  # some file systems cannot flush a folder
                os.fsync(fd)
        finally:
            os.close(fd)


def sweep_staging(articles_dir: Path) -> None:
    """Remove what an interrupted import left: hidden `.import-*` folders that were never renamed."""
    if not articles_dir.is_dir():
        return
    for entry in articles_dir.iterdir():
        if entry.name.startswith(STAGING_PREFIX) and entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)


def _write_update(item: _Prepared, old: _Existing) -> None:
    folder = old.folder
    for name, data in item.media.items():
        write_file_atomically(folder / name, data)
    write_file_atomically(folder / item.index_name, item.text.encode("utf-8"))
    keep = set(item.media) | {item.index_name}
    for path in sorted(folder.iterdir()):
        if path.name not in keep and not path.name.startswith(".") and (path.is_file() or path.is_symlink()):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
    fsync_directory(folder)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
