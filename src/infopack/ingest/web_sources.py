"""Getting pages out of the ways browsers and crawlers save them, without touching the network.

Every format becomes `LoadedPage`s: the page's HTML, the URL it was captured from (when the capture
says), and a resolver that answers "what bytes does this capture hold for that image address?".
A resolver only ever answers from the capture itself: a saved page's own folder, an MHTML part, a
WARC record. It never opens a URL, and for a saved page never follows a path or symlink out of the
page's folder. Sizes are checked before anything large is read, so a record or zip entry that
declares gigabytes (or decompresses to them) is refused, not read.
"""

from __future__ import annotations

import base64
import binascii
import email
import email.policy
import gzip
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin, urlsplit, urlunsplit

MAX_PAGE_BYTES = 32 * 1024 * 1024  # an HTML page (or an MHTML file) larger than this is not a page we can import
MAX_IMAGE_BYTES = 32 * 1024 * 1024
MAX_ARCHIVE_IMAGES_BYTES = 512 * 1024 * 1024  # images kept in memory from one WARC/WACZ
MAX_WACZ_ENTRY_BYTES = 4 * 1024 * 1024 * 1024
MAX_WACZ_RATIO = 200  # a real WARC compresses 3-10x; more than this is a zip bomb

IMAGE_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
)


def image_extension(data: bytes) -> str | None:
    """The file ending for bytes that really are a JPEG, PNG, GIF or WebP; None for anything else
    (SVG, HTML, scripts, or a file named .jpg that is not one)."""
    for magic, ending in IMAGE_MAGIC:
        if data.startswith(magic):
            return ending
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


class CaptureProblem(Exception):
    """A source that cannot be read as a page: the message names the problem, not the file."""


Resolver = Callable[[str], "bytes | None"]


@dataclass
class LoadedPage:
    source: Path  # the file it came from (an archive names the archive)
    html: str
    url: str = ""  # where it was captured from, "" when the capture does not say
    local_base: str = ""  # file:// URI of a page saved on disk: relative links to its siblings resolve against it
    resolve: Resolver = field(default=lambda address: None)
    notes: list[str] = field(default_factory=list)


def normal_url(url: str) -> str:
    """The form in which two addresses of the same page compare equal: lower-case scheme and host,
    no default port, no fragment, no tracking parameters, "/" for an empty path."""
    url = urldefrag(url.strip())[0]
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port if parts.port not in (None, 80, 443) else None
    netloc = f"{host}:{port}" if port else host
    query = "&".join(sorted(item for item in parts.query.split("&") if item and not item.lower().startswith("utm_")))
    path = parts.path or "/"
    return urlunsplit((scheme, netloc, path, query, ""))


def decode_html(data: bytes, declared: str | None = None) -> str:
    """HTML bytes as text: a byte-order mark, then the charset the capture or the page declares,
    then UTF-8, then a guess."""
    for bom, bom_codec in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom):].decode(bom_codec, errors="replace")
    head = data[:4096].decode("ascii", errors="replace")
    meta = re.search(r"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_\-]+)""", head, re.IGNORECASE)
    candidates: list[str | None] = [declared, meta.group(1) if meta else None, "utf-8"]
    for codec in candidates:
        if not codec:
            continue
        try:
            return data.decode(_codec_name(codec))
        except (LookupError, UnicodeDecodeError):
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    return str(best) if best is not None else data.decode("utf-8", errors="replace")


def _codec_name(name: str) -> str:
    name = name.lower()
    # Korean pages that say EUC-KR are very often CP949 (its superset); decoding as CP949 loses nothing.
    return "cp949" if name in ("euc-kr", "euckr", "ks_c_5601-1987", "ksc5601") else name


def data_uri_bytes(address: str) -> bytes | None:
    """The bytes of a `data:` URI, or None when it is not one (or is malformed)."""
    if not address.startswith("data:") or "," not in address:
        return None
    header, payload = address[5:].split(",", 1)
    try:
        if header.endswith(";base64"):
            return base64.b64decode(payload.strip(), validate=False)
        return unquote(payload).encode("latin-1", errors="replace")
    except (binascii.Error, ValueError):
        return None


# --- saved pages: "Web page, complete" (NAME.html + NAME_files/) and single-file HTML ---------------

SAVED_FROM = re.compile(r"<!--\s*saved from url=\(\d+\)\s*(\S+?)\s*-->", re.IGNORECASE)


def is_saved_page_part(path: Path) -> bool:
    """A page inside another saved page's NAME_files/ folder (a saved iframe): not an article.
    A folder that merely ends in "_files" with no NAME.html beside it is an ordinary folder."""
    for parent in path.parents:
        if parent.name.endswith("_files"):
            stem = parent.name[: -len("_files")]
            if any((parent.parent / f"{stem}{ending}").is_file() for ending in (".html", ".htm", ".xhtml", ".HTML", ".HTM")):
                return True
    return False


def load_saved_page(path: Path) -> LoadedPage:
    size = path.stat().st_size
    if size > MAX_PAGE_BYTES:
        raise CaptureProblem(f"page of {size} bytes is larger than {MAX_PAGE_BYTES} bytes")
    html = decode_html(path.read_bytes())
    saved_from = SAVED_FROM.search(html[:4096])
    folder = path.parent.resolve()
    notes: list[str] = []

    def resolve(address: str) -> bytes | None:
        data = data_uri_bytes(address)
        if data is not None or address.startswith("data:"):
            return data
        parts = urlsplit(address)
        if parts.scheme or parts.netloc or not parts.path:
            return None  # http(s): remote; file: never read
        target = (path.parent / unquote(parts.path)).resolve()
        try:
            target.relative_to(folder)
        except ValueError:
            notes.append(f"refused an image outside the page's folder: {parts.path}")
            return None
        if not target.is_file() or target.stat().st_size > MAX_IMAGE_BYTES:
            return None
        return target.read_bytes()

    return LoadedPage(
        source=path,
        html=html,
        url=saved_from.group(1) if saved_from else "",
        local_base=path.resolve().as_uri(),
        resolve=resolve,
        notes=notes,
    )


# --- MHTML (RFC 2557): one MIME multipart/related message ----------------------------------------


def load_mhtml(path: Path) -> LoadedPage:
    size = path.stat().st_size
    if size > MAX_PAGE_BYTES * 4:
        raise CaptureProblem(f"MHTML of {size} bytes is larger than {MAX_PAGE_BYTES * 4} bytes")
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.compat32)
    page_part = None
    by_location: dict[str, bytes] = {}
    by_id: dict[str, bytes] = {}
    for part in message.walk():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        if page_part is None and part.get_content_type() in ("text/html", "application/xhtml+xml"):
            page_part = (part, payload)
            continue
        # Parts are only ever looked up by the address the page uses; a part that names
        # file:///etc/passwd is just a key here, nothing on disk is read for it.
        location = part.get("Content-Location")
        if location:
            by_location[normal_url(str(location))] = payload
            by_location.setdefault(str(location).strip(), payload)
        content_id = part.get("Content-ID")
        if content_id:
            by_id[str(content_id).strip().strip("<>")] = payload
    if page_part is None:
        raise CaptureProblem("MHTML holds no HTML part")
    part, payload = page_part
    page_url = str(part.get("Content-Location") or message.get("Snapshot-Content-Location") or "").strip()
    html = decode_html(payload, part.get_content_charset())

    def resolve(address: str) -> bytes | None:
        data = data_uri_bytes(address)
        if data is not None or address.startswith("data:"):
            return data
        if address.startswith("cid:"):
            return by_id.get(unquote(address[4:]))
        absolute = urljoin(page_url, address) if page_url else address
        return by_location.get(normal_url(absolute)) or by_location.get(address.strip())

    return LoadedPage(source=path, html=html, url=page_url if _is_web(page_url) else "", resolve=resolve)


# --- WARC and WACZ --------------------------------------------------------------------------------


def _is_web(url: str) -> bool:
    return urlsplit(url).scheme in ("http", "https")


def _looks_like_warc(head: bytes) -> bool:
    """WARC records start with "WARC/"; a .warc.gz is gzip members. Anything else is not scanned
    (warcio would read a large junk file line by line before giving up)."""
    return head.startswith((b"WARC/", b"\x1f\x8b"))


MAX_GZIP_RATIO = 200  # real WARCs inflate 3-10x; a gzip bomb inflates 1000x
GZIP_RATIO_GRACE = 8 * 1024 * 1024  # below this many inflated bytes the ratio is not checked


class GzipBomb(OSError):
    pass


class _Counted(io.RawIOBase):
    """Counts the compressed bytes read through it."""

    def __init__(self, stream: io.IOBase | zipfile.ZipExtFile) -> None:
        self.stream = stream
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.stream.read(len(buffer))
        buffer[: len(data)] = data
        self.count += len(data)
        return len(data)


class _Inflated(io.RawIOBase):
    """A .warc.gz inflated by us (not by warcio), so that a gzip bomb stops after a bounded amount
    of work instead of inflating gigabytes of zeros."""

    def __init__(self, stream: io.IOBase | zipfile.ZipExtFile) -> None:
        self.counted = _Counted(stream)
        self.inflater = gzip.GzipFile(fileobj=self.counted, mode="rb")  # reads every member in turn
        self.inflated = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.inflater.read(len(buffer))
        buffer[: len(data)] = data
        self.inflated += len(data)
        if self.inflated > GZIP_RATIO_GRACE and self.inflated > MAX_GZIP_RATIO * max(self.counted.count, 1):
            raise GzipBomb(f"inflates more than {MAX_GZIP_RATIO} times its size: a gzip bomb")
        return len(data)


def _warc_reader(stream: io.IOBase | zipfile.ZipExtFile, head: bytes) -> io.BufferedReader | io.IOBase | zipfile.ZipExtFile:
    return io.BufferedReader(_Inflated(stream), 1024 * 1024) if head.startswith(b"\x1f\x8b") else stream


def load_warc(path: Path) -> Iterator[LoadedPage]:
    with path.open("rb") as stream:
        head = stream.read(5)
        if not _looks_like_warc(head):
            raise CaptureProblem("not a web archive (no WARC record at the start)")
        stream.seek(0)
        yield from _pages_from_warc_stream(_warc_reader(stream, head), path)  # type: ignore[arg-type]


def _pages_from_warc_stream(stream: io.BufferedIOBase | io.RawIOBase | zipfile.ZipExtFile, source: Path) -> Iterator[LoadedPage]:
    """One page per HTML response (the last capture of each URL), with the archive's images."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    pages: dict[str, tuple[str, bytes, str | None]] = {}  # normal URL -> (URL, HTML bytes, charset)
    images: dict[str, bytes] = {}
    notes: list[str] = []
    image_total = 0
    try:
        for record in ArchiveIterator(stream):
            if record.rec_type not in ("response", "resource"):
                continue
            url = (record.rec_headers.get_header("WARC-Target-URI") or "").strip().strip("<>")
            if not url:
                continue
            if record.http_headers is not None:
                status = record.http_headers.get_statuscode()
                if status and not status.startswith("2"):
                    continue
                content_type = (record.http_headers.get_header("Content-Type") or "").lower()
            else:
                content_type = (record.rec_headers.get_header("Content-Type") or "").lower()
            is_html = "html" in content_type
            limit = MAX_PAGE_BYTES if is_html else MAX_IMAGE_BYTES
            if record.length is not None and record.length > limit + 65536:
                notes.append(f"skipped a record of {record.length} bytes (larger than {limit}): {url}")
                continue  # never read: a declared 2 GB record costs nothing
            body = record.content_stream().read(limit + 1)
            if len(body) > limit:
                notes.append(f"skipped a record larger than {limit} bytes: {url}")
                continue
            if is_html:
                declared = re.search(r"charset=([\w\-]+)", content_type)
                pages[normal_url(url)] = (url, body, declared.group(1) if declared else None)
            elif image_extension(body) and image_total + len(body) <= MAX_ARCHIVE_IMAGES_BYTES:
                images[normal_url(url)] = body
                image_total += len(body)
    except (ArchiveLoadFailed, EOFError, OSError, ValueError, zipfile.BadZipFile) as problem:
        reason = " ".join(str(problem).split())[:100]
        if not pages:
            raise CaptureProblem(f"not a readable web archive ({reason})") from None
        notes.append(f"the archive ends early or is damaged after {len(pages)} pages ({reason})")
    if not pages:
        raise CaptureProblem("the web archive holds no HTML page" + (f" ({notes[0]})" if notes else ""))

    for url, body, charset in pages.values():
        yield LoadedPage(source=source, html=decode_html(body, charset), url=url, resolve=_archive_resolver(url, images),
                         notes=list(notes))


def _archive_resolver(page_url: str, images: dict[str, bytes]) -> Resolver:
    def resolve(address: str) -> bytes | None:
        data = data_uri_bytes(address)
        if data is not None or address.startswith("data:"):
            return data
        return images.get(normal_url(urljoin(page_url, address)))

    return resolve


def _safe_entry_name(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    return not name.startswith(("/", "\\")) and ".." not in parts and ":" not in parts[0]


def load_wacz(path: Path) -> Iterator[LoadedPage]:
    """A WACZ is a zip whose archive/ folder holds the WARCs. Entries are read in memory, never
    extracted, and refused when their names climb out (../) or their sizes look like a bomb."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as problem:
        raise CaptureProblem(f"not a readable WACZ ({problem})") from None
    with archive:
        warcs = []
        refused: list[str] = []
        for info in archive.infolist():
            name = info.filename
            if not re.match(r"^archive/[^/]+\.warc(\.gz)?$", name):
                if name.lower().endswith((".warc", ".warc.gz")) and not _safe_entry_name(name):
                    refused.append(f"refused an entry whose name leaves the archive: {name!r}")
                continue
            if info.file_size > MAX_WACZ_ENTRY_BYTES or (
                info.file_size > 16 * 1024 * 1024 and info.file_size > MAX_WACZ_RATIO * max(info.compress_size, 1)
            ):
                refused.append(f"refused {name}: {info.file_size} bytes from {info.compress_size} looks like a zip bomb")
                continue
            warcs.append(info)
        if not warcs:
            raise CaptureProblem("WACZ holds no archive/*.warc(.gz)" + (f" ({refused[0]})" if refused else ""))
        found = 0
        for info in warcs:
            with archive.open(info) as stream:
                head = stream.read(5)
            if not _looks_like_warc(head):
                refused.append(f"skipped {info.filename}: not a web archive")
                continue
            try:
                with archive.open(info) as stream:
                    pages = list(_pages_from_warc_stream(_warc_reader(stream, head), path))  # type: ignore[arg-type]
            except CaptureProblem as problem:
                refused.append(f"skipped {info.filename}: {problem}")
                continue
            for page in pages:
                page.notes[:0] = refused
                found += 1
                yield page
        if not found:
            raise CaptureProblem("WACZ holds no readable HTML page" + (f" ({refused[0]})" if refused else ""))
