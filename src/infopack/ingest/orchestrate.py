"""`infopack import`: sources -> readers -> one article per source -> the writer.

1. Collect: each SOURCE is a file or a folder, recursed in sorted order. Hidden files are skipped,
   and so is a saved page's `NAME_files/` folder beside `NAME.html` (the web reader reads it with
   the page). A symbolic link inside a folder that leads outside it is refused: captured material
   must not be able to publish some other file on the staff machine.
2. Read: sources are grouped by reader (`registry`) and each reader is called once with all its
   files, so captures of one site are cleaned together and pages can link to each other.
3. Deduplicate: the same page twice (same key), the same text (after normalising white space and
   case), or nearly the same text (word 5-shingles, Jaccard >= 0.9) becomes one article; the later
   ones are reported as skipped.
4. Write (`writer.write_articles`), or with `dry_run` only say what would happen.
"""

from __future__ import annotations

import hashlib
import heapq
import inspect
import os
import re
import unicodedata
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from infopack.atomic import write_file_atomically
from infopack.content.media_kinds import media_kind
from infopack.ingest.model import ImportedArticle, ImportFailure, ImportOptions
from infopack.ingest.registry import load_reader, reader_name_for
from infopack.ingest.writer import Outcome, write_articles
from infopack.progress import Progress

NEAR_DUPLICATE_JACCARD = 0.9
SHINGLE_WORDS = 5
MIN_WORDS_FOR_NEAR = 50  # short texts (stubs, captions) may be alike without being the same article
SAVED_PAGE_FOLDER_SUFFIXES = ("_files",)


@dataclass
class ImportReport:
    outcomes: list[Outcome] = field(default_factory=list)
    created_content_dir: bool = False
    notes: list[str] = field(default_factory=list)  # about the import as a whole

    @property
    def failed(self) -> bool:
        return any(o.action == "failed" for o in self.outcomes)


@dataclass(frozen=True)
class Source:
    path: Path  # absolute, as found (links inside the source folder are followed when read)
    root: Path  # the folder the SOURCE argument lives in: identities are relative to it


def import_sources(
    sources: list[Path],
    content_dir: Path,
    options: ImportOptions,
    *,
    force: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import every source into `content_dir`; failures are rows of the report, never exceptions.
    `progress` gets the lines of readers that can say how far they are (a large ZIM: share and ETA)."""
    report = ImportReport()
    found, outcomes = collect_sources(sources, exclude=Path(content_dir))
    report.outcomes.extend(outcomes)
    articles, failures = read_sources(found, options, progress)
    roots = {s.path: s.root for s in found}
    report.outcomes.extend(_failed(f, _identity_for_path(f.source, roots)) for f in failures)
    kept, duplicates = deduplicate(articles)
    identities = _unique_identities(articles, roots)
    for article, first in duplicates:
        report.outcomes.append(Outcome(article.source, identities[id(article)], action="skipped",
                                       words_kept=article.words_kept,
                                       problems=[f"the same text as {identities[id(first)]}; imported once"]))
    content_dir = Path(content_dir)
    if not dry_run and not (content_dir / "infopack.toml").exists() and not (content_dir / "infopack.toml").is_symlink():
        start_content_dir(content_dir, [s.path for s in found], options)
        report.created_content_dir = True
    report.outcomes.extend(write_articles([(a, identities[id(a)]) for a in kept], content_dir, options,
                                          force=force, dry_run=dry_run))
    order = {s.path: n for n, s in enumerate(found)}
    report.outcomes.sort(key=lambda o: (order.get(o.source, -1), o.identity))
    return report


# --- collecting ---------------------------------------------------------------------------------


def collect_sources(arguments: list[Path], exclude: Path | None = None) -> tuple[list[Source], list[Outcome]]:
    """The files to import, in a stable order, and a row for each argument or file refused.
    `exclude` (the content folder being imported into) is never a source: importing `.` into
    `./library` must not import the library's own articles again."""
    excluded = os.path.realpath(exclude) if exclude is not None else None
    found: list[Source] = []
    refused: list[Outcome] = []
    seen: set[str] = set()
    for argument in arguments:
        path = Path(os.path.abspath(argument))
        root = path.parent
        if excluded is not None and _within(os.path.realpath(path), excluded):
            refused.append(_failed(ImportFailure(path, "is inside the content folder being imported into; "
                                                       "import from somewhere else"), path.name))
        elif not path.exists():
            refused.append(_failed(ImportFailure(path, "does not exist" if not path.is_symlink() else
                                                 "is a symbolic link that leads nowhere"), str(argument)))
        elif path.is_dir():
            for file, problem in _walk(path, excluded):
                if problem:
                    refused.append(Outcome(file, _relative(file, root), action=problem[0], problems=[problem[1]]))
                elif str(file) not in seen:
                    seen.add(str(file))
                    found.append(Source(file, root))
        elif reader_name_for(path) is None:
            refused.append(_failed(ImportFailure(path, f"no importer reads {_ending(path)} files"), path.name))
        elif str(path) not in seen:
            seen.add(str(path))
            found.append(Source(path, root))
    return found, refused


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _walk(folder: Path, excluded: str | None = None) -> Iterable[tuple[Path, tuple[str, str] | None]]:
    """Files under `folder` in sorted order; (path, (action, problem)) for what is left out."""
    real_top = os.path.realpath(folder)
    stack = [folder]
    while stack:
        current = stack.pop()
        try:
            entries = sorted(current.iterdir(), key=lambda p: p.name)
        except OSError as err:
            yield current, ("failed", f"cannot list the folder: {err.strerror or err}")
            continue
        names = {e.name.lower() for e in entries}
        subfolders = []
        for entry in entries:
            if entry.name.startswith(".") or entry.name.lower() in ("desktop.ini", "thumbs.db"):
                continue
            if entry.is_symlink():
                real = os.path.realpath(entry)
                if not _within(real, real_top):
                    yield entry, ("failed", "is a symbolic link to something outside the folder being imported; "
                                            "copy the file in instead")
                    continue
                if entry.is_dir():
                    continue  # a link inside the folder to another part of it: read there, once
            if entry.is_dir():
                if _is_saved_page_folder(entry.name, names) or (excluded is not None and os.path.realpath(entry) == excluded):
                    continue
                subfolders.append(entry)
            elif entry.is_file():
                if reader_name_for(entry) is not None:
                    yield entry, None
                elif media_kind(entry.suffix) != "image":  # pictures beside a page or .md travel with it
                    yield entry, ("skipped", f"no importer reads {_ending(entry)} files; left out")
        stack.extend(reversed(subfolders))


def _is_saved_page_folder(name: str, names_beside: set[str]) -> bool:
    lowered = name.lower()
    for suffix in SAVED_PAGE_FOLDER_SUFFIXES:
        if lowered.endswith(suffix):
            stem = lowered[: -len(suffix)]
            if any(f"{stem}{ext}" in names_beside for ext in (".html", ".htm", ".xhtml")):
                return True
    return False


def _ending(path: Path) -> str:
    return path.suffix.lower() or "extension-less"


# --- reading ------------------------------------------------------------------------------------


def read_sources(found: list[Source], options: ImportOptions,
                 progress: Progress | None = None) -> tuple[list[ImportedArticle], list[ImportFailure]]:
    """Call each reader once with all of its files; a reader that breaks fails only its own files.
    A reader that takes a `progress` keyword (the ZIM reader: minutes on a large file) is given it."""
    groups: dict[str, list[Path]] = {}
    for source in found:
        name = reader_name_for(source.path)
        assert name is not None
        groups.setdefault(name, []).append(source.path)
    articles: list[ImportedArticle] = []
    failures: list[ImportFailure] = []
    for name, paths in groups.items():
        try:
            reader = load_reader(name)
        except (ImportError, AttributeError):
            failures.extend(ImportFailure(p, f"no importer for {_ending(p)} files is installed in this infopack") for p in paths)
            continue
        answered: set[Path] = set()
        try:
            items = reader(paths, options, progress=progress) if _takes_progress(reader) else reader(paths, options)  # type: ignore[call-arg]
            for item in items:
                answered.add(item.source)
                (failures if isinstance(item, ImportFailure) else articles).append(item)  # type: ignore[arg-type]
        except KeyboardInterrupt:
            raise
        except Exception as err:  # noqa: BLE001  (one reader's bug must not lose the other sources)
            problem = f"the {_ending(paths[0])} importer failed: {type(err).__name__}: {_one_line(str(err))}"
            failures.extend(ImportFailure(p, problem) for p in paths if p not in answered)
    return articles, failures


def _takes_progress(reader: object) -> bool:
    try:
        return "progress" in inspect.signature(reader).parameters  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


# --- deduplicating ------------------------------------------------------------------------------


def deduplicate(articles: list[ImportedArticle]) -> tuple[list[ImportedArticle], list[tuple[ImportedArticle, ImportedArticle]]]:
    """(articles kept, [(duplicate, the kept article it repeats)]). The first one wins."""
    kept: list[ImportedArticle] = []
    duplicates: list[tuple[ImportedArticle, ImportedArticle]] = []
    by_key: dict[str, ImportedArticle] = {}
    by_text: dict[str, ImportedArticle] = {}
    shingled = _NearIndex()
    for article in articles:
        words = _normalised_words(article.body)
        text_hash = hashlib.sha256(" ".join(words).encode("utf-8")).hexdigest()
        first = by_key.get(article.key) or (by_text.get(text_hash) if words else None)
        shingles = _shingles(words) if len(words) >= MIN_WORDS_FOR_NEAR else frozenset()
        if first is None and shingles:
            first = shingled.find(shingles)
        if first is not None:
            duplicates.append((article, first))
            continue
        kept.append(article)
        by_key[article.key] = article
        if words:
            by_text[text_hash] = article
        if shingles:
            shingled.add(shingles, article)
    return kept, duplicates


def _normalised_words(body: str) -> list[str]:
    text = re.sub(r"<[^>]*>", " ", body)  # HTML tags do not make two texts different
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.findall(r"\w+", text)


def _shingles(words: list[str]) -> frozenset[int]:
    if len(words) < SHINGLE_WORDS:
        return frozenset()
    return frozenset(hash(tuple(words[i:i + SHINGLE_WORDS])) for i in range(len(words) - SHINGLE_WORDS + 1))


class _NearIndex:
    """Finds a kept text whose shingles overlap by Jaccard >= 0.9 without comparing every pair
    (a ZIM import has thousands of articles): each text is filed under its SKETCH smallest shingle
    hashes. Two texts that similar share the smallest shingle of their union with probability
    >= 0.9, so they almost always share one of their few smallest; only those are compared."""

    SKETCH = 8

    def __init__(self) -> None:
        # Kept shingles as packed 8-byte integers, not a frozenset: a set costs about 60 bytes a
        # shingle, and a ZIM import keeps every article's (10,000 articles: ~100 MB against ~13 MB).
        self._by_shingle: dict[int, list[tuple[array[int], ImportedArticle]]] = {}

    def add(self, shingles: frozenset[int], article: ImportedArticle) -> None:
        packed = array("q", shingles)
        for value in heapq.nsmallest(self.SKETCH, shingles):
            self._by_shingle.setdefault(value, []).append((packed, article))

    def find(self, shingles: frozenset[int]) -> ImportedArticle | None:
        for value in heapq.nsmallest(self.SKETCH, shingles):
            for other, article in self._by_shingle.get(value, []):
                small, large = sorted((len(shingles), len(other)))
                if small < NEAR_DUPLICATE_JACCARD * large:
                    continue  # Jaccard <= small/large: cannot reach the threshold
                common = len(shingles.intersection(other))
                if common / (len(shingles) + len(other) - common) >= NEAR_DUPLICATE_JACCARD:
                    return article
        return None


# --- identities -----------------------------------------------------------------------------------


def identity_of(article: ImportedArticle, roots: dict[Path, Path]) -> str:
    """What `imported:` records: a URL as it is; a path relative to the folder the SOURCE argument
    is in (so the same folder imported from elsewhere is still the same source)."""
    key = article.key
    source = str(article.source)
    if key == source or key.startswith(source + "#"):
        return _identity_for_path(article.source, roots) + key[len(source):]
    return key


def _unique_identities(articles: list[ImportedArticle], roots: dict[Path, Path]) -> dict[int, str]:
    """Identities by `id(article)`. Two sources with the same relative name (`a/x.txt` from two
    different folders both named `a`) must not find each other's article: the later ones are
    identified by their absolute path instead."""
    identities: dict[int, str] = {}
    used: set[str] = set()
    for article in articles:
        identity = identity_of(article, roots)
        source = str(article.source)
        if identity in used and (article.key == source or article.key.startswith(source + "#")):
            identity = article.key  # the absolute path (and the part of the source it came from)
        used.add(identity)
        identities[id(article)] = identity
    return identities


def _identity_for_path(path: Path, roots: dict[Path, Path]) -> str:
    """A file's path relative to the folder its SOURCE argument is in (`roots`: file -> that
    folder); also for a folder that became one article (`--one-article`), through a file in it."""
    root = roots.get(path)
    if root is None:
        root = next((r for p, r in roots.items() if p.is_relative_to(path)), None)
    return _relative(path, root) if root is not None else path.name


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name


def _failed(failure: ImportFailure, identity: str) -> Outcome:
    return Outcome(failure.source, identity, action="failed", problems=[_one_line(failure.problem)])


def _one_line(text: str) -> str:
    return " ".join(str(text).split())[:300]


# --- a new content folder -------------------------------------------------------------------------


def start_content_dir(content_dir: Path, sources: list[Path], options: ImportOptions) -> None:
    """Create CONTENT_DIR with an infopack.toml: a title from the folder name for staff to change,
    or what a ZIM's own metadata says when one is imported."""
    content_dir.mkdir(parents=True, exist_ok=True)
    (content_dir / "articles").mkdir(exist_ok=True)
    settings: dict[str, object] = {
        "title": content_dir.name.replace("-", " ").replace("_", " ").strip() or "Library",
        "lang": options.lang or "en",
    }
    zims = [p for p in sources if p.name.lower().endswith(".zim")]
    if zims:
        settings.update(_zim_settings(zims[0]))
    write_file_atomically(content_dir / "infopack.toml", settings_toml(settings).encode("utf-8"))


def _zim_settings(path: Path) -> dict[str, object]:
    from infopack.ingest.zim.convert import zim_settings  # lxml and the ZIM reader, only for ZIMs
    from infopack.ingest.zim.reader import ZimError

    try:
        return zim_settings(path)
    except ZimError:  # a ZIM whose metadata cannot be read is reported by its reader, with its articles
        return {}


def settings_toml(values: dict[str, object]) -> str:
    """infopack.toml text for flat settings, every string escaped as TOML needs."""
    lines = ["# Made by `infopack import`; see docs/CONTENT.md for every setting."]
    for key, value in values.items():
        if isinstance(value, bool):
            lines.append(f"{key} = {'true' if value else 'false'}")
        elif isinstance(value, int):
            lines.append(f"{key} = {value}")
        elif isinstance(value, date):
            lines.append(f"{key} = {value.isoformat()}")  # a TOML date, as the loader expects
        elif value is not None:
            lines.append(f"{key} = {toml_string(str(value))}")
    return "\n".join(lines) + "\n"


def toml_string(text: str) -> str:
    out = []
    for char in text:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04x}")
        elif 0xD800 <= code <= 0xDFFF:
            out.append("\ufffd")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


# --- the table at the end -------------------------------------------------------------------------


def format_report(report: ImportReport, *, dry_run: bool = False, show_cut: int = 0) -> str:
    """The table `infopack import` prints: source -> article, action, words kept, lines cut, problems.
    `show_cut` lines of what cleaning cut are listed under each row (all with --dry-run)."""
    rows = [("source", "article", "action", "words", "cut", "problems")]
    for o in report.outcomes:
        problems = "; ".join(o.problems)
        rows.append((shown_source(o), f"articles/{o.slug}" if o.slug else "-", o.action, str(o.words_kept),
                     str(len(o.lines_cut)), problems))
    widths = [min(max(len(r[i]) for r in rows), 72 if i < 2 else 48) for i in range(5)]
    lines = []
    for number, row in enumerate(rows):
        cells = [_fit(row[i], widths[i]).rjust(widths[i]) if i in (3, 4) else _fit(row[i], widths[i]).ljust(widths[i])
                 for i in range(5)]
        lines.append("  ".join(cells + [row[5]]).rstrip())
        if number and (dry_run or show_cut):
            outcome = report.outcomes[number - 1]
            limit = len(outcome.lines_cut) if dry_run else show_cut
            for cut in outcome.lines_cut[:limit]:
                lines.append(f"    cut: {_one_line(cut)[:120]}")
    counts: dict[str, int] = {}
    for o in report.outcomes:
        counts[o.action] = counts.get(o.action, 0) + 1
    summary = ", ".join(f"{n} {action}" for action, n in sorted(counts.items())) or "nothing to import"
    lines.append(("dry run, nothing written: " if dry_run else "") + summary)
    return "\n".join(lines)


def shown_source(outcome: Outcome) -> str:
    """The report's source column: the identity (a path, `FILE.zim#C/Path`), and for a page known
    by its URL also the file that held it (`ferry.mhtml: https://...`), so staff can find the file."""
    identity = outcome.identity
    name = outcome.source.name
    if not name or identity == name or identity.endswith("/" + name) or identity.startswith(name) \
            or f"/{name}#" in identity or identity.startswith(str(outcome.source)):
        return identity
    return f"{name}: {identity}"


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else "…" + text[-(width - 1):]
