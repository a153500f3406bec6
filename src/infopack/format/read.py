"""Reading a bundle's articles back, exactly as docs/FORMAT.md states them (sections 2-5 and 7).

For exports (ZIM) and independent checks: each article's slug, title, date, language, summary,
tags, media list and HTML, and the media files themselves. Every payload is checked against the
root document's length and SHA-256 before it is used (section 2). Given the manifest of a
verified bundle, every file read is also checked against the manifest's size and SHA-256, so a
file swapped after verification (between `verify` and the read) is caught, not exported.

zstandard is imported inside the functions that decompress: `verify` imports `format`, and must
never load it (tests/test_layers.py).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infopack.errors import InfopackError
from infopack.format.manifest import FileEntry, Manifest

if TYPE_CHECKING:
    import zstandard

ROOT_ELEMENT = re.compile(rb'<script id="infopack-root" type="application/json">(.*?)</script>', re.S)
_DATA_FILE = re.compile(r'infopackData\("([a-z0-9/]+)","(.*)"\);\n', re.S)
_UNIT_ESCAPE = re.compile(r"\\u([0-9a-f]{4})")

# Limits that keep a malformed bundle from exhausting memory. The format's own limits are far
# below them: text packs are at most 256 KiB unless one article is larger.
MAX_INDEX_BYTES = 512 * 1024 * 1024
MAX_DATA_FILE_BYTES = 1024 * 1024 * 1024
MAX_ARTICLE_BYTES = 256 * 1024 * 1024
MAX_JSON_BYTES = 512 * 1024 * 1024
CHUNK = 1024 * 1024
CATALOG_FIELDS = 11


@dataclass(frozen=True)
class CatalogEntry:
    """One row of the catalog (section 5.1), in library order; `number` is the article number."""

    number: int
    slug: str
    title: str
    date: str
    lang: str
    summary: str
    tags: tuple[str, ...]
    pack: int
    offset: int
    length: int
    media: tuple[str, ...]
    check: str  # first 16 hex digits of the frame's SHA-256 (section 4, "Per-article check")


@dataclass(frozen=True)
class BundleArticle:
    entry: CatalogEntry
    html: str


def decode_data_file(data: bytes, length: int, source: str) -> tuple[str, bytes]:
    """(name, payload) of a data file (section 2): UTF-16LE with a byte order mark, the payload's
    bytes as little-endian code units in a string literal, cut to `length`."""
    if not data.startswith(b"\xff\xfe"):
        raise InfopackError("not an infopack data file (no UTF-16LE byte order mark)", source)
    try:
        text = data[2:].decode("utf-16-le", errors="surrogatepass")
    except UnicodeDecodeError:
        raise InfopackError("not an infopack data file (odd length)", source) from None
    match = _DATA_FILE.fullmatch(text)
    if match is None:
        raise InfopackError("not an infopack data file", source)
    units = _UNIT_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), match.group(2))
    payload = units.encode("utf-16-le", errors="surrogatepass")
    if len(payload) < length or len(payload) > length + 1:
        raise InfopackError(f"payload is {len(payload)} bytes, the root document says {length}", source)
    return match.group(1), payload[:length]


def _decompress(frame: bytes, decompressor: zstandard.ZstdDecompressor, limit: int, source: str) -> bytes:
    """One zstd frame, never more than `limit` bytes out whatever its header claims."""
    import zstandard

    try:
        reader = decompressor.stream_reader(io.BytesIO(frame), read_across_frames=False)
        out = bytearray()
        while len(out) <= limit:
            piece = reader.read(CHUNK)
            if not piece:
                break
            out += piece
    except zstandard.ZstdError as err:
        raise InfopackError(f"damaged zstd frame: {err}", source) from None
    if len(out) > limit:
        raise InfopackError(f"decompresses to more than {limit} bytes", source)
    return bytes(out)


def _string(value: object) -> bool:
    return isinstance(value, str)


def _plain_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _catalog_entry(number: int, row: object, source: str) -> CatalogEntry:
    if not isinstance(row, list) or len(row) != CATALOG_FIELDS:
        raise InfopackError(f"catalog entry {number} is not an array of {CATALOG_FIELDS} items", source)
    slug, title, date, lang, summary, tags, pack, offset, length, media, check = row
    if not isinstance(check, str) or not re.fullmatch(r"[0-9a-f]{16}", check):
        raise InfopackError(f"catalog entry {number}: check must be 16 lower-case hex digits", source)
    if not all(_string(v) for v in (slug, title, date, lang, summary)) or not slug:
        raise InfopackError(f"catalog entry {number}: slug, title, date, lang and summary must be strings", source)
    if not all(_plain_int(v) for v in (pack, offset, length)):
        raise InfopackError(f"catalog entry {number}: pack, offset and length must be integers", source)
    if not isinstance(tags, list) or not all(_string(t) for t in tags):
        raise InfopackError(f"catalog entry {number}: tags must be a list of strings", source)
    if not isinstance(media, list) or not all(_string(m) and m.startswith("media/") for m in media):
        raise InfopackError(f"catalog entry {number}: media must be a list of media/... paths", source)
    return CatalogEntry(number, slug, title, date, lang, summary, tuple(tags), pack, offset, length, tuple(media), check)


class BundleReader:
    """Articles and media of the bundle at `bundle_dir`, read on demand.

    With `manifest` (the parsed manifest of a verified bundle), each file is read only if the
    manifest lists it, and must have the listed size and SHA-256.
    """

    def __init__(self, bundle_dir: Path, manifest: Manifest | None = None) -> None:
        self.bundle_dir = Path(bundle_dir)
        self._listed: dict[str, FileEntry] | None = (
            {entry.path: entry for entry in manifest.files} if manifest is not None else None
        )
        self.root = self._root_document()
        files = self.root.get("files")
        if not isinstance(files, dict):
            raise InfopackError("root document has no `files` object", "index.html")
        self._payload_info: dict[str, Any] = files
        self._dictionary: bytes | None = None
        self._text_cache: tuple[int, bytes] | None = None

    # ------------------------------------------------------------------ files

    def read_file(self, relative: str, limit: int) -> bytes:
        """A regular file of the bundle (never through a link), checked against the manifest."""
        path = self.bundle_dir / relative
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            raise InfopackError("missing", relative) from None
        except OSError as err:
            raise InfopackError(f"cannot read: {err.strerror or err}", relative) from None
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise InfopackError("not a regular file", relative)
            data = handle.read(limit + 1)
        if len(data) > limit:
            raise InfopackError(f"larger than {limit} bytes", relative)
        self._check_listed(relative, len(data), hashlib.sha256(data).hexdigest())
        return data

    def _check_listed(self, relative: str, size: int, digest: str) -> None:
        if self._listed is None:
            return
        entry = self._listed.get(relative)
        if entry is None:
            raise InfopackError("not listed in the verified manifest", relative)
        if entry.size != size or entry.sha256 != digest:
            raise InfopackError("changed since the bundle was verified (size or SHA-256 differs)", relative)

    def media_paths(self) -> list[str]:
        """Every `media/...` file: from the manifest when given, else from the catalog."""
        if self._listed is not None:
            return sorted((p for p in self._listed if p.startswith("media/")), key=lambda p: p.encode("utf-8"))
        found = {m for entry in self.catalog() for m in entry.media}
        return sorted(found, key=lambda p: p.encode("utf-8"))

    def media_size(self, relative: str) -> int:
        if self._listed is not None and relative in self._listed:
            return self._listed[relative].size
        try:
            return os.lstat(self.bundle_dir / relative).st_size
        except OSError as err:
            raise InfopackError(f"cannot read: {err.strerror or err}", relative) from None

    def media_chunks(self, relative: str) -> Iterator[bytes]:
        """A media file in 1 MiB pieces. With a manifest, the last piece is only handed out after
        the whole file matched its listed size and SHA-256 (a mismatch raises instead)."""
        if not relative.startswith("media/") or ".." in relative.split("/"):
            raise InfopackError("not a media path", relative)
        path = self.bundle_dir / relative
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError as err:
            raise InfopackError(f"cannot read: {err.strerror or err}", relative) from None
        digest = hashlib.sha256()
        size = 0
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise InfopackError("not a regular file", relative)
            held: bytes | None = None
            while piece := handle.read(CHUNK):
                digest.update(piece)
                size += len(piece)
                if held is not None:
                    yield held
                held = piece
        self._check_listed(relative, size, digest.hexdigest())
        if held is not None:
            yield held

    def _root_document(self) -> dict[str, Any]:
        page = self.read_file("index.html", MAX_INDEX_BYTES)
        match = ROOT_ELEMENT.search(page)
        if match is None:
            raise InfopackError("no root document (script#infopack-root)", "index.html")
        try:
            root = json.loads(match.group(1).decode("utf-8"))
        except (ValueError, RecursionError) as err:
            raise InfopackError(f"root document is not valid JSON: {str(err)[:120]}", "index.html") from None
        if not isinstance(root, dict) or root.get("format") != "infopack/1":
            raise InfopackError("root document is not infopack/1", "index.html")
        return root

    def payload(self, name: str) -> bytes:
        """A data file's payload, checked against the root document's length and SHA-256."""
        info = self._payload_info.get(name)
        source = f"data/{name}.js"
        if not (isinstance(info, list) and len(info) == 2 and _plain_int(info[0]) and _string(info[1])):
            raise InfopackError(f"payload {name!r} is not in the root document", "index.html")
        length, expected = info
        raw = self.read_file(source, min(MAX_DATA_FILE_BYTES, 8 * length + 64))
        found_name, payload = decode_data_file(raw, length, source)
        if found_name != name:
            raise InfopackError(f"holds payload {found_name!r}, expected {name!r}", source)
        if hashlib.sha256(payload).hexdigest() != expected:
            raise InfopackError("payload SHA-256 differs from the root document", source)
        return payload

    # ------------------------------------------------------------------ catalog and text

    @property
    def article_count(self) -> int:
        count = self.root.get("articles")
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise InfopackError("root document: `articles` must be an integer", "index.html")
        return count

    def catalog(self) -> Iterator[CatalogEntry]:
        """Every catalog entry in library order, one shard in memory at a time."""
        import zstandard

        count = self.article_count
        shard_size = self._positive_int("catalog_shard_size") if count else 1
        plain = zstandard.ZstdDecompressor()
        number = 0
        shard = 0
        while number < count:
            name = f"cat/{shard:04d}"
            rows = self._json_payload(name, plain)
            expected = min(shard_size, count - number)
            if not isinstance(rows, list) or len(rows) != expected:
                raise InfopackError(f"catalog shard must hold {expected} entries", f"data/{name}.js")
            for row in rows:
                yield _catalog_entry(number, row, f"data/{name}.js")
                number += 1
            shard += 1

    def _positive_int(self, key: str) -> int:
        value = self.root.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise InfopackError(f"root document: `{key}` must be a positive integer", "index.html")
        return value

    def _json_payload(self, name: str, plain: zstandard.ZstdDecompressor) -> object:
        text = _decompress(self.payload(name), plain, MAX_JSON_BYTES, f"data/{name}.js")
        try:
            return json.loads(text.decode("utf-8"))
        except (ValueError, RecursionError) as err:
            raise InfopackError(f"not valid JSON: {str(err)[:120]}", f"data/{name}.js") from None

    def _text_decompressor(self) -> zstandard.ZstdDecompressor:
        import zstandard

        if "dict" in self._payload_info:
            if self._dictionary is None:
                self._dictionary = self.payload("dict")
            return zstandard.ZstdDecompressor(dict_data=zstandard.ZstdCompressionDict(self._dictionary))
        return zstandard.ZstdDecompressor()

    def _pack(self, pack: int) -> bytes:
        # Articles are stored in library order, so one cached pack serves a sequential pass.
        if self._text_cache is None or self._text_cache[0] != pack:
            self._text_cache = (pack, self.payload(f"text/{pack:04d}"))
        return self._text_cache[1]

    def article_html(self, entry: CatalogEntry, decompressor: zstandard.ZstdDecompressor | None = None) -> str:
        source = f"data/text/{entry.pack:04d}.js"
        data = self._pack(entry.pack)
        if entry.offset + entry.length > len(data):
            raise InfopackError(f"article {entry.slug!r} lies outside its text pack", source)
        frame = data[entry.offset : entry.offset + entry.length]
        if hashlib.sha256(frame).hexdigest()[:16] != entry.check:
            raise InfopackError(f"article {entry.slug!r} is damaged (its frame does not match the catalog's check)", source)
        html = _decompress(frame, decompressor or self._text_decompressor(), MAX_ARTICLE_BYTES, source)
        try:
            return html.decode("utf-8")
        except UnicodeDecodeError:
            raise InfopackError(f"article {entry.slug!r} is not UTF-8", source) from None

    def articles(self) -> Iterator[BundleArticle]:
        """Every article with its HTML, in library order."""
        decompressor = self._text_decompressor()
        for entry in self.catalog():
            yield BundleArticle(entry, self.article_html(entry, decompressor))

