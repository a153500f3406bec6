"""Word and OpenDocument files (`.docx`, `.odt`): transcribed testimonies, reports.

pandoc (Debian's, run as a program: programs.py) turns the document into an HTML fragment; with
`--sandbox` (pandoc >= 2.15) it may read nothing but the file named on its command line, so a
document cannot make it fetch a URL or read a file it links to. Pictures are taken from the
document's own ZIP container (no file is ever extracted to disk) and become the article's media;
pictures in formats a bundle cannot show (EMF, WMF, TIFF) are dropped with a note.
"""

from __future__ import annotations

import functools
import html
import os
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

from infopack.content.media_kinds import media_kind
from infopack.ingest.model import ImportedArticle, ImportedMedia, ImportFailure, ImportOptions
from infopack.ingest.programs import ProgramFailed, program, run
from infopack.ingest.text import date_from_name, guess_lang, summary_of

MAX_DOCUMENT_BYTES = 200 * 1024 * 1024
MAX_UNPACKED_BYTES = 1024 * 1024 * 1024  # a ZIP bomb is refused before pandoc sees it
MAX_ENTRIES = 20_000
MAX_METADATA_BYTES = 1024 * 1024
_FORMATS = {".docx": "docx", ".odt": "odt"}
_IMG_RE = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_ATTR_RE = re.compile(r"""\b(src|alt)\s*=\s*("([^"]*)"|'([^']*)')""", re.IGNORECASE)
_H1_RE = re.compile(r"\s*<h1\b[^>]*>(.*?)</h1>\s*", re.IGNORECASE | re.DOTALL)
_TAG_RE = re.compile(r"<[^>]+>")
_NS = {
    "dc": "http://purl.org/dc/elements/1.1/",
    "dcterms": "http://purl.org/dc/terms/",
    "meta": "urn:oasis:names:tc:opendocument:xmlns:meta:1.0",
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
}


class _Failed(Exception):
    pass


def read_documents(paths: list[Path], options: ImportOptions) -> Iterator[ImportedArticle | ImportFailure]:
    for path in paths:
        try:
            yield _read_document(path, options)
        except _Failed as err:
            yield ImportFailure(path, str(err))
        except ProgramFailed as err:
            yield ImportFailure(path, f"cannot convert: {err}")


def _read_document(path: Path, options: ImportOptions) -> ImportedArticle:
    kind = _FORMATS[path.suffix.lower()]
    try:
        if path.stat().st_size > MAX_DOCUMENT_BYTES:
            raise _Failed(f"larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB")
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as err:
        raise _Failed(f"not a readable .{kind} file ({_why(err)})") from None
    with archive:
        entries = archive.infolist()
        if len(entries) > MAX_ENTRIES or sum(e.file_size for e in entries) > MAX_UNPACKED_BYTES:
            raise _Failed(f"refused: the .{kind} file unpacks to more than {MAX_UNPACKED_BYTES // 2**30} GB or {MAX_ENTRIES} parts")
        metadata = _metadata(archive, kind)
        fragment = _pandoc(path, kind)
        notes: list[str] = []
        fragment, media = _take_pictures(fragment, archive, kind, notes)
    title = metadata.get("title", "")
    heading = _H1_RE.match(fragment)
    if heading is not None:
        heading_text = _text_of(heading.group(1))
        if not title or " ".join(heading_text.split()) == " ".join(title.split()):
            title = title or heading_text
            fragment = fragment[heading.end():]  # the viewer shows the title; not twice
    title = title or path.stem.replace("_", " ").replace("-", " ")
    text = _text_of(fragment)
    if not text.strip() and not media:
        raise _Failed("empty: the document holds no text")
    return ImportedArticle(
        key=str(path), source=path, title=title, body=fragment.strip() + "\n", body_format="html",
        lang=options.lang or guess_lang(title + "\n" + text), date=date_from_name(path.name),
        summary=summary_of(text), tags=list(options.tags), authors=[metadata["creator"]] if metadata.get("creator") else [],
        media=media, slug_hint=title, words_kept=len(text.split()), notes=notes,
    )


@functools.cache
def _pandoc_command() -> tuple[str, ...]:
    pandoc = program("pandoc", "apt-get install pandoc")
    ran = run([pandoc, "--help"], timeout=30)
    sandbox = ("--sandbox",) if b"--sandbox" in ran.stdout else ()
    return (pandoc, *sandbox)


def _pandoc(path: Path, kind: str) -> str:
    command = [*_pandoc_command(), "--from", kind, "--to", "html5", "--wrap=none", "--quiet", os.path.abspath(path)]
    ran = run(command, cwd=Path(os.path.abspath(path)).parent)
    return ran.stdout.decode("utf-8", "replace")


def _take_pictures(fragment: str, archive: zipfile.ZipFile, kind: str, notes: list[str]) -> tuple[str, list[ImportedMedia]]:
    """Each <img> whose picture is inside the document becomes `image-N.ext` beside the article;
    any other <img> is replaced by its alt text."""
    names = set(archive.namelist())
    media: list[ImportedMedia] = []
    given: dict[str, str] = {}
    dropped: list[str] = []

    def replace(match: re.Match[str]) -> str:
        attributes = {m.group(1).lower(): html.unescape(m.group(3) if m.group(3) is not None else m.group(4))
                      for m in _ATTR_RE.finditer(match.group(0))}
        src, alt = attributes.get("src", ""), attributes.get("alt", "")
        inside = src if kind == "odt" else f"word/{src}"
        suffix = os.path.splitext(src)[1].lower()
        if inside not in names or media_kind(suffix) != "image":
            dropped.append(src.rsplit("/", 1)[-1] or "(unnamed)")
            return html.escape(alt)
        if inside not in given:
            given[inside] = f"image-{len(given) + 1}{'.jpg' if suffix == '.jpeg' else suffix}"
            media.append(ImportedMedia(given[inside], archive.read(inside)))
        alt_attribute = f' alt="{html.escape(alt)}"' if alt else ""
        return f'<img src="{given[inside]}"{alt_attribute}>'

    fragment = _IMG_RE.sub(replace, fragment)
    if dropped:
        notes.append(f"dropped {len(dropped)} picture(s) a bundle cannot show (e.g. EMF/WMF drawings): {', '.join(dropped[:3])}")
    return fragment, media


def _metadata(archive: zipfile.ZipFile, kind: str) -> dict[str, str]:
    """Title and author from the document's properties (docProps/core.xml or meta.xml)."""
    name = "docProps/core.xml" if kind == "docx" else "meta.xml"
    try:
        info = archive.getinfo(name)
        if info.file_size > MAX_METADATA_BYTES:
            return {}
        root = ElementTree.fromstring(archive.read(info))
    except (KeyError, ElementTree.ParseError, zipfile.BadZipFile, ValueError):
        return {}
    found = {}
    for key, paths in (("title", ("dc:title",)), ("creator", ("dc:creator", "meta:initial-creator"))):
        for xpath in paths:
            element = root.find(f".//{xpath}", _NS)
            if element is not None and element.text and element.text.strip():
                found[key] = " ".join(element.text.split())
                break
    return found


_BLOCK_END_RE = re.compile(r"</(?:p|h[1-6]|li|td|th|tr|div|blockquote|pre)\s*>|<br\s*/?>", re.IGNORECASE)


def _text_of(fragment: str) -> str:
    """Plain text, a blank line after each block, so `summary_of` finds the first paragraph."""
    return html.unescape(_TAG_RE.sub("", _BLOCK_END_RE.sub("\n\n", fragment)))


def _why(err: Exception) -> str:
    return getattr(err, "strerror", None) or str(err) or type(err).__name__
