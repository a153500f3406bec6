"""Plain text and Markdown files: `.txt` (often text copied out of a browser), `.md` written by hand.

- A file that already has front matter is taken as it is: its values and body are kept, checked
  with the build's own rules (a file the build would refuse fails here, naming the problem), and
  the writer adds only `imported:`.
- A file without front matter gets it: the title from its first heading or first short line (else
  the file name), the date from a `YYYY-MM-DD` in the file name (else the writer's default), the
  language from --lang or the script it is written in, a summary from its first sentences.
- Text copied from a web page carries the site's menus, "Donate Now" and lists of other articles.
  `.txt` files go through the capture cleaner (infopack.ingest.capture, the files of one folder
  together, so lines repeated across pages of one site are recognised as the site's); what it cut
  is reported, never removed from the staff's own file.
- Any encoding staff are likely to have (UTF-8, UTF-16, CP949/EUC-KR, Windows-1252) is decoded,
  and a note says which was assumed when it was not plain UTF-8.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from urllib.parse import unquote, urlsplit

from infopack.content.load import parse_article_text
from infopack.content.media_kinds import media_kind
from infopack.content.text_encoding import NotText, decode_text
from infopack.ingest.capture import CleanedText, clean_captures
from infopack.ingest.model import ImportedArticle, ImportedMedia, ImportFailure, ImportOptions

MAX_TEXT_BYTES = 20 * 1024 * 1024  # a text article larger than this is not something staff wrote
MAX_MEDIA_BYTES = 2 * 1024 * 1024 * 1024
_DATE_IN_NAME_RE = re.compile(r"(?<!\d)(\d{4})[-_.](\d{2})[-_.](\d{2})(?!\d)")
_MD_HEADING_RE = re.compile(r"^\s{0,3}#\s+(.+?)\s*#*\s*$")
_MD_IMAGE_RE = re.compile(r"!\[([^\]\n]*)\]\(\s*<?([^)>\s]+)>?(?:\s+\"[^\"\n]*\")?\s*\)")


def read_texts(paths: list[Path], options: ImportOptions) -> Iterator[ImportedArticle | ImportFailure]:
    decoded: list[tuple[Path, str, str]] = []  # (path, text, note)
    for path in paths:
        try:
            text, note = _read(path)
        except _Refused as err:
            yield ImportFailure(path, str(err))
            continue
        decoded.append((path, text, note))

    # Captures of one site are cleaned together (their shared lines are the site's chrome); a
    # batch is one folder, so a folder of notes never teaches the cleaner that another folder's
    # story is a menu.
    by_folder: dict[Path, list[tuple[Path, str]]] = {}
    for path, text, _ in decoded:
        if path.suffix.lower() == ".txt" and not _has_front_matter(text):
            by_folder.setdefault(path.parent, []).append((path, text))
    cleaned: dict[Path, CleanedText] = {}
    for batch in by_folder.values():
        cleaned.update((result.path, result) for result in clean_captures(batch))
    for path, text, note in decoded:
        notes = [note] if note else []
        if _has_front_matter(text):
            yield _with_front_matter(path, text, notes, options)
        elif path.suffix.lower() == ".txt":
            yield _from_capture(path, text, cleaned[path], notes, options)
        else:
            yield _from_markdown(path, text, notes, options)


class _Refused(Exception):
    pass


def _read(path: Path) -> tuple[str, str]:
    try:
        size = path.stat().st_size
        if size > MAX_TEXT_BYTES:
            raise _Refused(f"larger than {MAX_TEXT_BYTES // (1024 * 1024)} MB; not imported as one text article")
        raw = path.read_bytes()
    except OSError as err:
        raise _Refused(f"cannot read: {err.strerror or err}") from None
    try:
        decoded = decode_text(raw)
    except NotText as err:
        raise _Refused(str(err)) from None
    note = "" if decoded.described == "UTF-8" else f"read as {decoded.described}"
    return decoded.text, note


def _has_front_matter(text: str) -> bool:
    return text.split("\n", 1)[0].rstrip("\r ") == "---"


# --- files that have front matter already -----------------------------------------------------------


def _with_front_matter(path: Path, text: str, notes: list[str], options: ImportOptions) -> ImportedArticle | ImportFailure:
    article, problems = parse_article_text(text, path.name if path.suffix.lower() in (".md", ".markdown", ".txt") else path.stem + ".md")
    if article is None:
        first = problems[0] if problems else None
        where = f" (line {first.line})" if first is not None and first.line else ""
        return ImportFailure(path, f"has front matter the build refuses{where}: {first.message if first else 'unreadable'}")
    body_format = "md" if path.suffix.lower() in (".md", ".markdown") else "txt"
    media, body = _local_images(path, article.body, body_format, notes)
    return ImportedArticle(
        key=str(path), source=path, title=article.title, body=body, body_format=body_format,
        lang=options.lang or article.lang, date=article.date, summary=article.summary, tags=list(article.tags),
        authors=list(article.authors), source_url=article.source, aliases=list(article.aliases), media=media,
        slug_hint=article.slug, priority=article.priority, words_kept=_words(body), notes=notes,
    )


# --- files without front matter ---------------------------------------------------------------------


def _from_markdown(path: Path, text: str, notes: list[str], options: ImportOptions) -> ImportedArticle | ImportFailure:
    lines = text.split("\n")
    title = ""
    for number, line in enumerate(lines):
        if not line.strip():
            continue
        heading = _MD_HEADING_RE.match(line)
        if heading:  # the viewer shows the title above the body: the heading is not repeated
            title = heading.group(1).strip()
            del lines[number]
        break
    body = "\n".join(lines).strip("\n")
    if not body.strip():
        return ImportFailure(path, "empty: no text to import")
    media, body = _local_images(path, body, "md", notes)
    return _article(path, title or _title_from_name(path), body + "\n", "md", notes, options, media=media)


def _from_capture(path: Path, text: str, cleaned: CleanedText, notes: list[str], options: ImportOptions) -> ImportedArticle | ImportFailure:
    if not cleaned.body_text.strip():
        what = "empty after cleaning (every line looked like site menus or links)" if text.strip() else "empty: no text to import"
        return ImportFailure(path, what)
    return _article(path, cleaned.title or _title_from_name(path), cleaned.body_text.strip("\n") + "\n", "txt",
                    notes + cleaned.notes, options, lines_cut=cleaned.lines_cut)


def _article(path: Path, title: str, body: str, body_format: str, notes: list[str], options: ImportOptions, *,
             lines_cut: list[str] | None = None, media: list[ImportedMedia] | None = None) -> ImportedArticle:
    return ImportedArticle(
        key=str(path), source=path, title=title, body=body, body_format=body_format,
        lang=options.lang or guess_lang(title + "\n" + body), date=date_from_name(path.name),
        summary=summary_of(body), tags=list(options.tags), media=media or [], slug_hint=title,
        words_kept=_words(body), lines_cut=lines_cut or [], notes=notes,
    )


_LETTER_RE = re.compile(r"[^\W\d_]")
_HANGUL_RE = re.compile("[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")


def guess_lang(text: str) -> str:
    """`ko` when a good part of the letters are Hangul, else `en`: the two languages bundles are in."""
    sample = text[:8000]
    letters = len(_LETTER_RE.findall(sample))
    return "ko" if letters and len(_HANGUL_RE.findall(sample)) / letters > 0.2 else "en"


def date_from_name(name: str) -> date | None:
    match = _DATE_IN_NAME_RE.search(name)
    if match is None:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def summary_of(body: str, limit: int = 200) -> str:
    """The first sentences of the first real paragraph, at most `limit` characters."""
    for paragraph in re.split(r"\n\s*\n", body):
        text = " ".join(re.sub(r"[#>*_`\[\]]|!\[[^\]]*\]\([^)]*\)|\([^)]*\)", " ", paragraph).split())
        if len(text) < 40:
            continue
        sentences = re.split(r"(?<=[.!?。])\s+|(?<=다\.)\s*", text)
        summary = ""
        for sentence in sentences:
            if summary and len(summary) + len(sentence) + 1 > limit:
                break
            summary = (summary + " " + sentence).strip()
        return summary if len(summary) <= limit else summary[: limit - 1].rstrip() + "…"
    return ""


def _title_from_name(path: Path) -> str:
    stem = path.name.split(".")[0]
    stem = _DATE_IN_NAME_RE.sub(" ", stem)
    return " ".join(re.split(r"[-_\s]+", stem)).strip() or path.name


def _words(body: str) -> int:
    return len(body.split())


def _local_images(source: Path, body: str, body_format: str, notes: list[str]) -> tuple[list[ImportedMedia], str]:
    """Pictures a Markdown file shows from beside it become the article's media (copied, renamed
    to card-safe names). Only files inside the source's own folder are taken: a reference such as
    `../../secret.jpg`, an absolute path or a link leading elsewhere is left out with a note."""
    if body_format != "md":
        return [], body
    base = source.parent.resolve()
    media: list[ImportedMedia] = []
    names: dict[Path, str] = {}
    refused: list[str] = []

    def replace(match: re.Match[str]) -> str:
        ref = match.group(2)
        parts = urlsplit(ref)
        alt = match.group(1)
        if parts.scheme in ("http", "https") or ref.startswith("//"):
            return match.group(0)  # the build drops remote pictures itself, with a warning
        target = (source.parent / unquote(parts.path)).resolve()
        if parts.scheme or ref.startswith(("/", "\\")) or not target.is_relative_to(base) or not target.is_file() \
                or media_kind(target.suffix) is None:
            refused.append(ref)
            return alt
        if target not in names:
            try:
                if target.stat().st_size > MAX_MEDIA_BYTES:
                    refused.append(ref)
                    return alt
                data = target.read_bytes()
            except OSError:
                refused.append(ref)
                return alt
            names[target] = f"media-{len(names) + 1}{target.suffix.lower()}"
            media.append(ImportedMedia(names[target], data))
        return f"![{alt}]({names[target]})"

    body = _MD_IMAGE_RE.sub(replace, body)
    if refused:
        notes.append(f"left out {len(refused)} picture(s) not found beside the file (their alt text stays): {', '.join(refused[:3])}")
    return media, body
