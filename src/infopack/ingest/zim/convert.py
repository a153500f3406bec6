"""ZIM files -> imported articles: the `Reader` registered for `.zim` (ingest/registry.py).

What becomes what:
- front articles (the title listing's entries, or namespace A in old files) -> `ImportedArticle`s,
  HTML body without Kiwix's scripts, styles, navigation, edit links and reference markers;
- links inside the ZIM -> `infopack-import:KEY` (KEY = `<the ZIM file>#<the target's ZIM path>`,
  such as `/x/cities.zim#C/Seoul`, redirects followed), which the import writer turns into article
  links, or into text when the target was not imported. The file is part of every key because two
  ZIMs imported together commonly hold the same paths (`C/Main_Page`): their articles must stay
  apart, and a link inside one ZIM must land in that ZIM;
- images an article shows -> `ImportedMedia` beside it (unless --without-images);
- redirects -> `aliases` of the article they end at, so search finds it by the old name too;
- the ZIM's metadata -> the articles' language and date, and `zim_settings` for infopack.toml.

Articles are read in cluster order (each cluster decompressed once), so memory stays flat however
big the file is; the order of the articles handed back is therefore the file's, not the titles'.
"""

from __future__ import annotations

import html
import posixpath
import re
import time
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import unquote

from lxml import etree

from infopack.content.load import ISO_639_1
from infopack.errors import InfopackError
from infopack.ingest.html_tree import remove_keeping_tail
from infopack.ingest.model import IMPORT_LINK_SCHEME, ImportedArticle, ImportedMedia, ImportFailure, ImportOptions
from infopack.ingest.zim.languages import iso_639_1
from infopack.ingest.zim.reader import Entry, ZimArchive, ZimError
from infopack.progress import Progress

# Elements that are never article content in a Kiwix page.
DROPPED_TAGS = frozenset({"script", "style", "link", "meta", "noscript", "template", "iframe", "object", "embed", "form",
                          "input", "button", "select", "textarea", "nav", "svg", "math", "base", "title", "head",
                          # a ZIM's audio and video would need their own import; players without them would be empty
                          "audio", "video", "track", "map", "area"})
# MediaWiki / mwoffliner furniture, by class: edit links, navigation boxes, reference markers.
DROPPED_CLASSES = frozenset({"mw-editsection", "mw-jump-link", "navbox", "vertical-navbox", "navbox-styles", "noprint",
                             "catlinks", "mw-cite-backlink", "reference", "mw-empty-elt", "sistersitebox", "metadata",
                             "printfooter", "mw-indicators", "toc", "hatnote"})
DROPPED_IDS = frozenset({"toc", "catlinks", "mw-navigation", "footer-places", "siteSub", "contentSub", "jump-to-nav"})
KEPT_ATTRIBUTES = frozenset({"href", "alt", "title", "colspan", "rowspan", "id", "lang", "dir", "scope", "headers"})
WEB_SCHEMES = ("http:", "https:", "mailto:")  # links that stay links (the build decides how to show them)
VOID_ELEMENTS = frozenset({"area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"})
IMAGE_SUFFIX_BY_MIME = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp"}
IMAGE_SIGNATURES = {"image/png": (b"\x89PNG\r\n\x1a\n",), "image/jpeg": (b"\xff\xd8\xff",), "image/gif": (b"GIF87a", b"GIF89a")}
URL_WITH_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:|^//")
PROGRESS_EVERY_SECONDS = 2.0
MAX_MEDIA_NAME = 60
MEDIA_CACHE_BYTES = 32 * 1024 * 1024

clock: Callable[[], float] = time.monotonic  # tests replace it to see the progress lines


def zim_settings(path: Path) -> dict[str, object]:
    """What the ZIM's metadata says for infopack.toml: title, description, lang (ISO 639-1) and
    created (a date), each only when the ZIM has it. Raises ZimError for a damaged file."""
    with ZimArchive(path) as archive:
        meta = archive.metadata()
    settings: dict[str, object] = {}
    if meta.get("Title"):
        settings["title"] = meta["Title"]
    if meta.get("Description"):
        settings["description"] = meta["Description"]
    lang = _metadata_lang(meta)
    if lang:
        settings["lang"] = lang
    created = _metadata_date(meta)
    if created:
        settings["created"] = created
    return settings


def read_zims(paths: list[Path], options: ImportOptions, progress: Progress | None = None) -> Iterator[ImportedArticle | ImportFailure]:
    """The `Reader` for `.zim` files (see ingest/model.py); `progress` gets lines with an ETA."""
    for path in paths:
        try:
            with ZimArchive(path) as archive:
                yield from _Conversion(archive, options, progress).run()
        except InfopackError as exc:
            yield ImportFailure(path, exc.problems[0].message if exc.problems else str(exc))


def _metadata_lang(meta: dict[str, str]) -> str | None:
    lang = iso_639_1(meta.get("Language", ""))
    return lang if lang in ISO_639_1 else None


def _metadata_date(meta: dict[str, str]) -> date | None:
    try:
        return date.fromisoformat(meta.get("Date", "")[:10])
    except ValueError:
        return None


@dataclass
class _Selection:
    """Front articles to import (entry numbers, title order), their aliases and redirect targets."""

    chosen: array[int] = field(default_factory=lambda: array("I"))
    clusters: array[int] = field(default_factory=lambda: array("I"))  # the cluster of each chosen article
    aliases: dict[int, list[str]] = field(default_factory=dict)
    redirects: dict[str, str] = field(default_factory=dict)  # redirect path -> target path (chosen targets only)


class _Conversion:
    def __init__(self, archive: ZimArchive, options: ImportOptions, progress: Progress | None):
        self.archive = archive
        self.options = options
        self.progress = progress
        self.namespace = "C" if archive.new_namespaces else "A"
        self.meta = archive.metadata()
        self.lang = options.lang or _metadata_lang(self.meta)
        self.date = _metadata_date(self.meta)
        self.media_cache: dict[str, Entry | None] = {}
        self.media_bytes: dict[int, bytes] = {}
        self.media_bytes_size = 0

    # --- what to import ------------------------------------------------------------------------

    def _is_front(self, entry: Entry) -> bool:
        return entry.namespace == self.namespace and entry.kind == "content" and entry.mime.split(";")[0].strip() == "text/html"

    def _front_in_title_order(self) -> Iterator[Entry]:
        """Front articles by title: the title listing or old title list, else every HTML entry of
        the article namespace in path order."""
        found_any = False
        for index in self.archive.titles_in_order():
            found_any = True
            entry = self.archive.entry(index)
            if self._is_front(entry):
                yield entry
        if not found_any:
            for entry in self.archive.entries():
                if self._is_front(entry):
                    yield entry

    def select(self) -> _Selection:
        selection = _Selection()
        wanted = {" ".join(t.split()) for t in self.options.titles} if self.options.titles is not None else None
        chosen_bits = bytearray(self.archive.entry_count)
        # Redirects of the article namespace: (redirect, first target), 8 bytes each.
        redirect_from, redirect_to = array("I"), array("I")
        for entry in self.archive.entries():
            if entry.is_redirect and entry.namespace == self.namespace:
                redirect_from.append(entry.index)
                redirect_to.append(entry.target)
        finals = array("I", (self._final(t) for t in redirect_to))
        if wanted is not None:  # a wanted title may be the old name of an article (a redirect)
            for source, final in zip(redirect_from, finals):
                if final != 0xFFFFFFFF and self.archive.entry(source).shown_title in wanted:
                    wanted.add(self.archive.entry(final).shown_title)
        limit = self.options.limit
        for entry in self._front_in_title_order():
            if limit is not None and len(selection.chosen) >= limit:
                break
            if chosen_bits[entry.index] or (wanted is not None and entry.shown_title not in wanted):
                continue
            chosen_bits[entry.index] = 1
            selection.chosen.append(entry.index)
            selection.clusters.append(entry.cluster)
        for source, final in zip(redirect_from, finals):
            if final != 0xFFFFFFFF and chosen_bits[final]:
                redirect = self.archive.entry(source)
                target = self.archive.entry(final)
                selection.redirects[redirect.full_path] = target.full_path
                names = selection.aliases.setdefault(final, [])
                if redirect.shown_title not in names and redirect.shown_title != target.shown_title:
                    names.append(redirect.shown_title)
        return selection

    def _final(self, target: int) -> int:
        """Where a redirect ends, or 0xFFFFFFFF for a loop or a redirect to nothing front."""
        try:
            entry = self.archive.resolve(self.archive.entry(target))
        except ZimError:
            return 0xFFFFFFFF
        return entry.index if self._is_front(entry) else 0xFFFFFFFF

    # --- the pass -------------------------------------------------------------------------------

    def run(self) -> Iterator[ImportedArticle | ImportFailure]:
        if self.progress is not None:
            self.progress(f"{self.archive.path.name}: choosing among {self.archive.entry_count:,} entries")
        selection = self.select()
        order = array("Q", sorted(c << 32 | i for c, i in zip(selection.clusters, selection.chosen)))
        eta = _Eta(self.archive.path.name, len(order), self.progress)
        for key in order:
            index = key & 0xFFFFFFFF
            where = f"entry {index}"
            try:
                entry = self.archive.entry(index)
                where = entry.full_path
                data = self.archive.content(entry)
                yield self.article(entry, data, selection)
            except ZimError as exc:  # a damaged cluster loses its articles, not the whole file
                yield ImportFailure(self.archive.path, f"{where}: {exc.problems[0].message}")
            eta.step()
        eta.done()

    # --- one article ----------------------------------------------------------------------------

    def article(self, entry: Entry, data: bytes, selection: _Selection) -> ImportedArticle:
        notes: list[str] = []
        cut: list[str] = []
        try:
            # Bytes, not text: an XHTML page's <?xml encoding=...?> line is then no error.
            document = etree.fromstring(data, _html_parser()) if data.strip() else None
        except (etree.LxmlError, ValueError):
            document = None
        page_date = None
        if document is None:
            body_html, media, words, page_lang = "", [], 0, None
            notes.append("the page is empty")
        else:
            page_lang = document.get("lang")
            root = _content_root(document)
            _drop_furniture(root, entry.shown_title, cut)
            page_date = _leading_date(root, cut)
            media = self._rewrite(root, entry, selection, notes)
            _keep_only_plain_attributes(root)
            body_html = _serialize_children(root)
            words = len(_text(root).split())
        lang = self.lang or _page_lang(page_lang)
        if lang is None:
            lang = "en"
            notes.append("the ZIM names no language infopack knows; assumed en (use --lang)")
        return ImportedArticle(
            key=self.key_of(entry.full_path), source=self.archive.path, title=entry.shown_title, body=body_html, body_format="html",
            lang=lang, date=page_date or self.date, tags=list(self.options.tags), aliases=list(selection.aliases.get(entry.index, [])),
            media=media, slug_hint=entry.shown_title, words_kept=words, lines_cut=cut, notes=notes,
        )

    def key_of(self, zim_path: str) -> str:
        """The import key of the article at `zim_path` in this file (see the module's docstring)."""
        return f"{self.archive.path}#{zim_path}"

    def _target_path(self, entry: Entry, reference: str) -> str | None:
        """The ZIM path ("C/Busan") a relative reference in `entry`'s page points to, or None.

        Old files address pages as /A/Seoul and /I/flag.png; new files as /Seoul inside C. A
        reference is percent-decoded after it is cut at ? and #, as a browser would."""
        path = reference.partition("#")[0].partition("?")[0]
        if not path:
            return None
        if "%" in path:
            path = unquote(path)
        base = f"{entry.namespace}/{entry.path}" if not self.archive.new_namespaces else entry.path
        if not path.startswith("/"):
            folder = base.rpartition("/")[0]
            path = f"{folder}/{path}" if folder else path
        if "./" in path or path.endswith((".", "//")) or path.startswith("/"):
            path = posixpath.normpath("/" + path).lstrip("/")
        if not self.archive.new_namespaces:
            return path if len(path) > 2 and path[1] == "/" else None
        return f"C/{path}"

    def _rewrite(self, root: etree._Element, entry: Entry, selection: _Selection, notes: list[str]) -> list[ImportedMedia]:
        for anchor in root.iter("a"):
            href = (anchor.get("href") or "").strip()
            if not href or href.startswith("#"):
                continue
            if URL_WITH_SCHEME.match(href):
                if not href.lower().startswith(WEB_SCHEMES):  # javascript:, data:, file:, ...: text only
                    anchor.attrib.pop("href", None)
                continue
            target = self._target_path(entry, href)
            if target is None:
                anchor.attrib.pop("href", None)
                continue
            target = selection.redirects.get(target, target)
            fragment = href.partition("#")[2]
            anchor.set("href", IMPORT_LINK_SCHEME + self.key_of(target) + (f"#{fragment}" if fragment else ""))
        media: list[ImportedMedia] = []
        names: dict[str, str] = {}
        dropped = 0
        for image in list(root.iter("img")):
            source = (image.get("src") or image.get("data-src") or "").strip()
            name = None if self.options.without_images else self._media(entry, source, names, media)
            if name is None:
                remove_keeping_tail(image)
                dropped += 1
            else:
                image.set("src", name)
        for source in list(root.iter("source")):
            remove_keeping_tail(source)
        if dropped and not self.options.without_images:
            notes.append(f"dropped {dropped} image{'s' if dropped != 1 else ''} not in the ZIM, not an accepted kind "
                         "or not the picture its type says")
        return media

    def _media(self, entry: Entry, source: str, names: dict[str, str], media: list[ImportedMedia]) -> str | None:
        if not source or URL_WITH_SCHEME.match(source):
            return None
        path = self._target_path(entry, source)
        if path is None:
            return None
        if path in names:
            return names[path]
        if path not in self.media_cache:
            found = self.archive.entry_by_path(path)
            if len(self.media_cache) > 4096:
                self.media_cache.clear()
            self.media_cache[path] = self.archive.resolve(found) if found is not None else None
        image = self.media_cache[path]
        if image is None or image.kind != "content" or image.mime not in IMAGE_SUFFIX_BY_MIME:
            return None
        data = self._media_bytes(image)
        if not _looks_like(image.mime, data):
            return None  # the build would refuse it, and with it the whole library
        name = _media_name(path, IMAGE_SUFFIX_BY_MIME[image.mime], set(names.values()))
        media.append(ImportedMedia(name, data))
        names[path] = name
        return name


    def _media_bytes(self, image: Entry) -> bytes:
        """An image's bytes; icons and flags recur on many pages, so recent ones are kept (bounded)."""
        data = self.media_bytes.get(image.index)
        if data is None:
            data = self.archive.content(image)
            if self.media_bytes_size + len(data) > MEDIA_CACHE_BYTES:
                self.media_bytes.clear()
                self.media_bytes_size = 0
            if len(data) <= MEDIA_CACHE_BYTES // 16:
                self.media_bytes[image.index] = data
                self.media_bytes_size += len(data)
        return data


def _looks_like(mime: str, data: bytes) -> bool:
    """Whether an image's bytes begin as its MIME type says. A ZIM entry that is damaged, empty or
    mislabelled (an SVG or HTML page served as image/png) would make the build stop at that file;
    leaving it out keeps the rest of the import buildable."""
    if mime == "image/webp":
        return data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    return data.startswith(IMAGE_SIGNATURES.get(mime, (b"",)))


def _page_lang(value: str | None) -> str | None:
    code = (value or "").split("-")[0].lower()
    return code if code in ISO_639_1 else None


def _html_parser() -> etree.HTMLParser:
    """libxml2's forgiving HTML parser, without comments, processing instructions or network."""
    return etree.HTMLParser(remove_comments=True, remove_pis=True, no_network=True, recover=True,
                            default_doctype=False, encoding="utf-8")


def _text(element: etree._Element) -> str:
    return "".join(element.itertext())


ARTICLE_BLOCK_IDS = ("mw-content-text", "content")  # MediaWiki's article text, then its page body


def _content_root(document: etree._Element) -> etree._Element:
    """The part of a Kiwix page that is the article: MediaWiki's content block, else <main>, else <body>."""
    found: dict[str, etree._Element] = {}
    for element in document.iter():
        key = element.get("id") if element.get("id") in ARTICLE_BLOCK_IDS else ("main" if element.tag == "main" else None)
        if key and key not in found:
            found[key] = element
            if key == ARTICLE_BLOCK_IDS[0]:
                break
    for key in (*ARTICLE_BLOCK_IDS, "main"):
        if key in found:
            return found[key]
    body = document.find("body")
    return body if body is not None else document


def _drop_furniture(root: etree._Element, title: str, cut: list[str]) -> None:
    """Remove what is not article content; `cut` gets one line per kind of thing removed."""
    counts: dict[str, int] = {}
    doomed = []
    pending = list(root)
    while pending:
        element = pending.pop()
        reason = _furniture(element, title)
        if reason is None:
            pending.extend(element)
            continue
        doomed.append(element)
        if reason:
            counts[reason] = counts.get(reason, 0) + 1
    for element in doomed:
        remove_keeping_tail(element)
    cut.extend(f"{count} × {reason}" for reason, count in sorted(counts.items()))


def _furniture(element: etree._Element, title: str) -> str | None:
    """Why `element` is dropped ("" for comments), or None when it stays."""
    if not isinstance(element.tag, str):  # comments and processing instructions
        return ""
    classes = set((element.get("class") or "").split())
    if element.tag in DROPPED_TAGS:
        return str(element.tag)
    if classes & DROPPED_CLASSES:
        return str(sorted(classes & DROPPED_CLASSES)[0])
    if element.get("id") in DROPPED_IDS:
        return str(element.get("id"))
    if element.tag == "h1" and " ".join(_text(element).split()) == " ".join(title.split()):
        return "title heading"  # the build shows the title itself
    if element.tag == "a" and "action=edit" in (element.get("href") or ""):
        return "edit link"
    return None


def _leading_date(root: etree._Element, cut: list[str]) -> date | None:
    """The article's own date when the page opens with one under its title, as our own exports
    and many article pages do (`<h1>Title</h1><p class="meta"><time>2025-03-04</time></p>`): taken
    as the article's date (the ZIM's Date is only when the file was made) and removed from the
    body, which would otherwise start with it. Only a <time> that nothing but the title precedes."""
    time_element = next(root.iter("time"), None)
    if time_element is None:
        return None
    shown = " ".join(_text(time_element).split())
    try:
        found = date.fromisoformat((time_element.get("datetime") or shown)[:10])
    except ValueError:
        return None
    whole = _text(root)
    at = whole.find(shown) if shown else -1
    if at < 0 or whole[:at].strip():
        return None  # a date inside the text is part of it
    holder = time_element.getparent()
    if holder is not None and holder is not root and " ".join(_text(holder).split()) == shown:
        time_element = holder  # the line that holds only the date goes with it
    remove_keeping_tail(time_element)
    cut.append("the page's date line")
    return found




def _keep_only_plain_attributes(root: etree._Element) -> None:
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        for name in list(element.attrib):
            if name not in KEPT_ATTRIBUTES and not (name == "src" and element.tag == "img"):
                del element.attrib[name]


def _serialize_children(root: etree._Element) -> str:
    """The inside of `root` as HTML. Our own few lines rather than lxml's serializer, which
    percent-encodes non-ASCII characters in href/src: a link to C/서울 must stay C/서울."""
    out: list[str] = []
    if root.text:
        out.append(html.escape(root.text, quote=False))
    for child in root:
        _serialize(child, out)
    return "".join(out).strip()


def _serialize(element: etree._Element, out: list[str]) -> None:
    if isinstance(element.tag, str):  # comments are gone already; anything else non-element is skipped
        tag = element.tag.lower()
        attributes = "".join(f' {name}="{html.escape(value, quote=True)}"' for name, value in element.attrib.items())
        out.append(f"<{tag}{attributes}>")
        if tag not in VOID_ELEMENTS:
            if element.text:
                out.append(html.escape(element.text, quote=False))
            for child in element:
                _serialize(child, out)
            out.append(f"</{tag}>")
    if element.tail:
        out.append(html.escape(element.tail, quote=False))


def _media_name(path: str, suffix: str, taken: set[str]) -> str:
    """A FAT32-safe file name from the image's ZIM path, unique within the article."""
    stem = posixpath.basename(path)
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-_").lower()[:MAX_MEDIA_NAME] or "image"
    name = stem + suffix
    number = 2
    while name in taken:
        name = f"{stem}-{number}{suffix}"
        number += 1
    return name


class _Eta:
    """Progress lines with the share done and an estimate of the time left, every few seconds."""

    def __init__(self, label: str, total: int, progress: Progress | None):
        self.label, self.total, self.progress = label, total, progress
        self.done_count = 0
        self.started = self.last = clock()

    def step(self) -> None:
        self.done_count += 1
        if self.progress is None:
            return
        now = clock()
        if now - self.last < PROGRESS_EVERY_SECONDS or self.done_count >= self.total:
            return
        self.last = now
        rate = self.done_count / max(now - self.started, 1e-9)
        left = (self.total - self.done_count) / rate
        self.progress(f"{self.label}: {self.done_count:,} of {self.total:,} articles ({100 * self.done_count // self.total}%), "
                      f"about {_duration(left)} left")

    def done(self) -> None:
        if self.progress is not None:
            self.progress(f"{self.label}: {self.done_count:,} articles read in {_duration(clock() - self.started)}")


def _duration(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds // 60 % 60:02d} min"
