"""A reader for ZIM files (Kiwix's offline archives), written from the openZIM format description.

libzim and python-libzim are GPL, so infopack reads ZIM itself: the standard library's lzma and
zstandard decompress clusters, everything else is struct unpacking. The facts this relies on are in
docs/FORMAT.md "ZIM files we read"; in short (little-endian throughout):

- an 80-byte header: counts and the positions of the lists below, the main page, the checksum's
  position (the file ends with the MD5 of everything before it);
- the MIME list (NUL-terminated strings, ended by an empty one);
- the path pointer list (u64 per entry, sorted by namespace + path), an optional old title pointer
  list (u32 entry numbers sorted by namespace + title), and the cluster pointer list (u64 each);
- directory entries: content (MIME, namespace, cluster, blob, path, title) or redirect (target);
- clusters: one byte of flags (compression in the low nibble, bit 0x10 = 64-bit offsets), then,
  possibly xz- or zstd-compressed, n+1 offsets and the n blobs they delimit.

The file is untrusted: every position and count is checked against the file size before it is used,
every allocation is bounded by the file size (or by MAX_CLUSTER_BYTES for what decompression makes),
and every problem is a `ZimError`, one line naming the file, never a traceback.
"""

from __future__ import annotations

import hashlib
import io
import lzma
import os
import struct
import sys
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

import zstandard

from infopack.errors import InfopackError, Problem

MAGIC = 72173914
HEADER = struct.Struct("<IHH16sIIQQQQIIQ")  # 80 bytes
NO_POSITION = 0xFFFFFFFFFFFFFFFF
NO_PAGE = 0xFFFFFFFF

REDIRECT_MIME = 0xFFFF
LINKTARGET_MIME = 0xFFFE  # obsolete (old files): an entry with no data
DELETED_MIME = 0xFFFD  # obsolete (old files): an entry with no data
DIRENT_FIXED = struct.Struct("<HBcI")  # mime, parameter length, namespace, revision

COMPRESSION_NONE = (0, 1)
COMPRESSION_XZ = 4
COMPRESSION_ZSTD = 5
EXTENDED_FLAG = 0x10

TITLE_LISTING = "X/listing/titleOrdered/v1"

# What one cluster may decompress to. libzim's clusters are about 2 MiB; a single big item gets a
# cluster of its own. Above this a cluster is refused rather than allocated.
MAX_CLUSTER_BYTES = 256 * 1024 * 1024
# A cluster may decompress to at most this many times the whole file's size (zip-bomb guard for
# small files), but always to MIN_CLUSTER_ALLOWANCE.
MAX_EXPANSION = 100
MIN_CLUSTER_ALLOWANCE = 16 * 1024 * 1024
MAX_STRING_BYTES = 64 * 1024
DIRENT_READ = 512  # bytes read at once for a directory entry: most paths and titles fit  # a path, title or MIME type longer than this is damage
MAX_MIME_TYPES = 4096
MAX_REDIRECT_HOPS = 64
CACHED_CLUSTERS = 8
CACHED_CLUSTER_BYTES = 64 * 1024 * 1024
READ_CHUNK = 1024 * 1024


def _little_endian_array(code: str, data: bytes) -> array[int]:
    """Little-endian u32 ("I") or u64 ("Q") numbers as an array (4 and 8 bytes on every CPython
    platform infopack runs on)."""
    numbers = array(code)
    numbers.frombytes(data)
    if sys.byteorder == "big":  # pragma: no cover - no big-endian machine here
        numbers.byteswap()
    return numbers


class ZimError(InfopackError):
    """A ZIM file that cannot be read as one: `FILE: problem`, one line."""

    def __init__(self, path: Path | str, message: str):
        super().__init__(Problem(str(path), message))


@dataclass(frozen=True)
class ZimHeader:
    major: int
    minor: int
    uuid: bytes
    entry_count: int
    cluster_count: int
    path_ptr_pos: int
    title_ptr_pos: int
    cluster_ptr_pos: int
    mime_list_pos: int
    main_page: int
    layout_page: int
    checksum_pos: int

    @property
    def has_title_list(self) -> bool:
        return self.title_ptr_pos != NO_POSITION and self.title_ptr_pos != 0


@dataclass(frozen=True)
class Entry:
    """One directory entry. `kind` is "content", "redirect", "linktarget" or "deleted"."""

    index: int
    namespace: str
    path: str  # without the namespace
    title: str  # as stored: empty means "the path is the title"
    kind: str
    mime: str = ""  # content entries only
    cluster: int = 0
    blob: int = 0
    target: int = 0  # redirects only: the entry number redirected to

    @property
    def full_path(self) -> str:
        return f"{self.namespace}/{self.path}"

    @property
    def shown_title(self) -> str:
        return self.title or self.path

    @property
    def is_redirect(self) -> bool:
        return self.kind == "redirect"


class _Window(io.RawIOBase):
    """Bytes [start, end) of an open file, read sequentially: what a decompressor is fed from."""

    def __init__(self, file: BinaryIO, start: int, end: int):
        self._file, self._pos, self._end = file, start, end

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        size = min(len(buffer), self._end - self._pos)
        if size <= 0:
            return 0
        self._file.seek(self._pos)
        data = self._file.read(size)
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)


@dataclass
class _Cluster:
    """A decompressed cluster: its bytes and the n+1 blob offsets into them."""

    data: bytes
    offsets: array[int]


class ZimArchive:
    """Random access to a ZIM file by entry number, path and title, plus a streaming pass.

    Use as a context manager (or call close()). Nothing is read eagerly except the header, the MIME
    list and the cluster pointer list (8 bytes per cluster).
    """

    def __init__(self, path: Path | str):
        self.path = Path(path)
        try:
            self._file: BinaryIO = open(self.path, "rb", buffering=64 * 1024)  # noqa: SIM115 - closed by close()
        except OSError as exc:
            raise ZimError(self.path, f"cannot open: {exc.strerror or exc}") from None
        try:
            self.size = os.fstat(self._file.fileno()).st_size
            self.header = self._read_header()
            self.mime_types = self._read_mime_list()
            self._cluster_ptrs = self._read_cluster_pointers()
            self._cluster_ends = self._cluster_bounds()
        except BaseException:
            self._file.close()
            raise
        self._clusters: OrderedDict[int, _Cluster] = OrderedDict()
        self._cached_bytes = 0
        self._listing: array[int] | None = None
        self._broken: dict[int, str] = {}
        self._flags = bytearray(b"\xff") * self.header.cluster_count  # 0xFF: not read yet

    # --- housekeeping -------------------------------------------------------------------------------

    def close(self) -> None:
        self._file.close()
        self._clusters.clear()

    def __enter__(self) -> ZimArchive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fail(self, message: str) -> ZimError:
        return ZimError(self.path, message)

    def _read(self, position: int, size: int) -> bytes:
        """Exactly `size` bytes at `position`, which must lie inside the data part of the file."""
        if position < 0 or size < 0 or position + size > self._data_end:
            raise self.fail(f"damaged: a structure at byte {position} runs past the end of the file ({self.size} bytes)")
        try:
            self._file.seek(position)
            data = self._file.read(size)
        except OSError as exc:
            raise self.fail(f"cannot read: {exc.strerror or exc}") from None
        if len(data) != size:
            raise self.fail("truncated: the file got shorter while it was read")
        return data

    # --- header and lists -----------------------------------------------------------------------------

    def _read_header(self) -> ZimHeader:
        self._data_end = self.size
        if self.size < HEADER.size:
            raise self.fail(f"not a ZIM file: only {self.size} bytes, shorter than the 80-byte header")
        fields = HEADER.unpack(self._read(0, HEADER.size))
        if fields[0] != MAGIC:
            raise self.fail("not a ZIM file: wrong magic number")
        header = ZimHeader(*fields[1:])
        if header.major not in (5, 6):
            raise self.fail(f"unsupported ZIM major version {header.major} (5 and 6 are read)")
        if header.checksum_pos:
            if header.checksum_pos + 16 != self.size:
                state = "truncated" if header.checksum_pos + 16 > self.size else "damaged"
                raise self.fail(f"{state}: the header says {header.checksum_pos + 16} bytes, the file has {self.size}")
            self._data_end = header.checksum_pos
        limit = self._data_end
        # Every entry needs at least a pointer (8 bytes) and a 10-byte directory entry, so a count
        # the file cannot hold is damage, found before anything is allocated for it.
        if header.entry_count * 18 > limit or header.cluster_count * 9 > limit:
            raise self.fail(f"damaged: {header.entry_count} entries and {header.cluster_count} clusters cannot fit in {self.size} bytes")
        spans = [("path pointer list", header.path_ptr_pos, header.entry_count * 8),
                 ("cluster pointer list", header.cluster_ptr_pos, header.cluster_count * 8),
                 ("MIME list", header.mime_list_pos, 1)]
        if header.has_title_list:
            spans.append(("title pointer list", header.title_ptr_pos, header.entry_count * 4))
        for name, start, length in spans:
            if start < HEADER.size or start + length > limit:
                raise self.fail(f"damaged: the {name} at byte {start} lies outside the file ({self.size} bytes)")
        if header.main_page != NO_PAGE and header.main_page >= header.entry_count:
            raise self.fail(f"damaged: main page {header.main_page} is not one of the {header.entry_count} entries")
        return header

    def _read_mime_list(self) -> list[str]:
        """The MIME types, read in small steps: the list is short, the file may not be."""
        types: list[str] = []
        position = self.header.mime_list_pos
        pending = b""
        while True:
            end = pending.find(b"\0")
            if end < 0:
                if len(pending) > MAX_STRING_BYTES or position >= self._data_end:
                    raise self.fail("damaged: the MIME type list has no end")
                step = min(4096, self._data_end - position)
                pending += self._read(position, step)
                position += step
                continue
            if end == 0:
                return types
            if len(types) >= MAX_MIME_TYPES:
                raise self.fail("damaged: the MIME type list is implausibly long")
            types.append(pending[:end].decode("utf-8", "replace"))
            pending = pending[end + 1 :]

    def _read_cluster_pointers(self) -> array[int]:
        pointers = _little_endian_array("Q", self._read(self.header.cluster_ptr_pos, self.header.cluster_count * 8))
        for number, pointer in enumerate(pointers):
            if not HEADER.size <= pointer < self._data_end:
                raise self.fail(f"damaged: cluster {number} starts at byte {pointer}, outside the file")
        return pointers

    def _cluster_bounds(self) -> array[int]:
        """Where each cluster must end at the latest: the next structure that starts after it.

        The old title pointer list is not one of them: libzim 7 and 8 (Debian 12's zimwriterfs)
        store it as the blob of an `X/listing/titleOrdered/v0` entry, inside a cluster, and point
        the header at that blob."""
        header = self.header
        starts = sorted({*self._cluster_ptrs, header.path_ptr_pos, header.cluster_ptr_pos, header.mime_list_pos, self._data_end})
        position = {start: number for number, start in enumerate(starts)}
        ends = array("Q", [0]) * len(self._cluster_ptrs)
        for number, start in enumerate(self._cluster_ptrs):
            ends[number] = starts[position[start] + 1] if position[start] + 1 < len(starts) else self._data_end
        return ends

    # --- directory entries ------------------------------------------------------------------------

    @property
    def entry_count(self) -> int:
        return self.header.entry_count

    @property
    def new_namespaces(self) -> bool:
        """True for files with the C/M/W/X namespaces (6.1 and later); old files use A/I/-/M."""
        return self.header.major >= 6 and self.header.minor >= 1

    def _pointer(self, index: int) -> int:
        if not 0 <= index < self.header.entry_count:
            raise self.fail(f"damaged: entry {index} does not exist (the file has {self.header.entry_count})")
        (pointer,) = struct.unpack("<Q", self._read(self.header.path_ptr_pos + 8 * index, 8))
        return int(pointer)

    def entry(self, index: int) -> Entry:
        return self._entry_at(index, self._pointer(index))

    def _entry_at(self, index: int, pointer: int) -> Entry:
        if not HEADER.size <= pointer < self._data_end:
            raise self.fail(f"damaged: entry {index} points to byte {pointer}, outside the file")
        # One read usually holds the whole entry (fixed part, path and title); longer ones read on.
        chunk = self._read(pointer, min(DIRENT_READ, self._data_end - pointer))
        if len(chunk) < DIRENT_FIXED.size + 2:  # the smallest entry: fixed part and two empty strings
            raise self.fail(f"damaged: entry {index} is cut off by the end of the file")
        mime, parameter_length, namespace_byte, _revision = DIRENT_FIXED.unpack_from(chunk)
        namespace = namespace_byte.decode("latin-1")
        offset = DIRENT_FIXED.size
        cluster = blob = target = 0
        if mime == REDIRECT_MIME:
            kind = "redirect"
            if len(chunk) < offset + 4:
                raise self.fail(f"damaged: entry {index} is cut off by the end of the file")
            (target,) = struct.unpack_from("<I", chunk, offset)
            offset += 4
            if target >= self.header.entry_count:
                raise self.fail(f"damaged: entry {index} redirects to entry {target}, which does not exist")
        elif mime in (LINKTARGET_MIME, DELETED_MIME):
            kind = "linktarget" if mime == LINKTARGET_MIME else "deleted"
        else:
            kind = "content"
            if mime >= len(self.mime_types):
                raise self.fail(f"damaged: entry {index} has MIME type number {mime}, but the list has {len(self.mime_types)}")
            if len(chunk) < offset + 8:
                raise self.fail(f"damaged: entry {index} is cut off by the end of the file")
            cluster, blob = struct.unpack_from("<II", chunk, offset)
            offset += 8
            if cluster >= self.header.cluster_count:
                raise self.fail(f"damaged: entry {index} is in cluster {cluster}, but the file has {self.header.cluster_count} clusters")
        path_end = chunk.find(b"\0", offset)
        title_end = chunk.find(b"\0", path_end + 1) if path_end >= 0 else -1
        if title_end >= 0:
            path = chunk[offset:path_end].decode("utf-8", "replace")
            title = chunk[path_end + 1 : title_end].decode("utf-8", "replace")
            position = pointer + title_end + 1
        else:
            path, position = self._string(pointer + offset, index)
            title, position = self._string(position, index)
        if parameter_length and position + parameter_length > self._data_end:
            raise self.fail(f"damaged: entry {index} is cut off by the end of the file")
        return Entry(index, namespace, path, title, kind, self.mime_types[mime] if kind == "content" else "", cluster, blob, target)

    def _string(self, position: int, index: int) -> tuple[str, int]:
        """A NUL-terminated UTF-8 string at `position` and the position after its NUL."""
        size = 1024
        while True:
            available = min(size, self._data_end - position)
            chunk = self._read(position, available)
            end = chunk.find(b"\0")
            if end >= 0:
                return chunk[:end].decode("utf-8", "replace"), position + end + 1
            if available < size or size >= MAX_STRING_BYTES:
                raise self.fail(f"damaged: entry {index} has a path or title without an end")
            size *= 4

    def entries(self) -> Iterator[Entry]:
        """Every entry, in path order (namespace, then path), reading pointers in batches."""
        batch = 8192
        for first in range(0, self.header.entry_count, batch):
            count = min(batch, self.header.entry_count - first)
            pointers = struct.unpack(f"<{count}Q", self._read(self.header.path_ptr_pos + 8 * first, 8 * count))
            for offset, pointer in enumerate(pointers):
                yield self._entry_at(first + offset, pointer)

    def _search(self, count: int, index_at: Callable[[int], int], key_of: Callable[[Entry], bytes], wanted: bytes) -> Entry | None:
        """Binary search over a sorted list of `count` entries."""
        low, high = 0, count
        while low < high:
            middle = (low + high) // 2
            entry = self.entry(index_at(middle))
            key = key_of(entry)
            if key == wanted:
                return entry
            if key < wanted:
                low = middle + 1
            else:
                high = middle
        return None

    def entry_by_path(self, full_path: str) -> Entry | None:
        """The entry at "N/path" (namespace, slash, path), or None."""
        namespace, slash, path = full_path.partition("/")
        if len(namespace) != 1 or not slash:
            return None
        wanted = (namespace + path).encode("utf-8")
        return self._search(self.header.entry_count, lambda i: i, lambda e: (e.namespace + e.path).encode("utf-8"), wanted)

    def entry_by_title(self, title: str, namespace: str | None = None) -> Entry | None:
        """The front entry with this title: through the old title pointer list when there is one
        (namespace A in old files, C in new), else through X/listing/titleOrdered/v1."""
        namespace = namespace or ("C" if self.new_namespaces else "A")
        if self.header.has_title_list:
            position = self.header.title_ptr_pos
            index_at = lambda i: struct.unpack("<I", self._read(position + 4 * i, 4))[0]
            wanted = (namespace + title).encode("utf-8")
            return self._search(self.header.entry_count, index_at, lambda e: (e.namespace + e.shown_title).encode("utf-8"), wanted)
        listing = self.title_listing()
        if listing is None:
            return None
        return self._search(len(listing), lambda i: listing[i], lambda e: e.shown_title.encode("utf-8"), title.encode("utf-8"))

    def title_listing(self) -> array[int] | None:
        """X/listing/titleOrdered/v1 as entry numbers (front articles by title), or None."""
        if self._listing is None:
            entry = self.entry_by_path(TITLE_LISTING)
            if entry is None or entry.kind != "content":
                return None
            data = self.content(entry)
            if len(data) % 4:
                raise self.fail(f"damaged: {TITLE_LISTING} is not a list of 4-byte entry numbers")
            listing = _little_endian_array("I", data)
            if listing and max(listing) >= self.header.entry_count:
                raise self.fail(f"damaged: {TITLE_LISTING} names an entry that does not exist")
            self._listing = listing
        return self._listing

    def titles_in_order(self) -> Iterator[int]:
        """Entry numbers of front articles in title order: the new listing, else the old title
        pointer list restricted to namespace A (old files), else nothing."""
        listing = self.title_listing()
        if listing is not None:
            yield from listing
            return
        if not self.header.has_title_list:
            return
        batch = 16384
        for first in range(0, self.header.entry_count, batch):
            count = min(batch, self.header.entry_count - first)
            for index in struct.unpack(f"<{count}I", self._read(self.header.title_ptr_pos + 4 * first, 4 * count)):
                if index >= self.header.entry_count:
                    raise self.fail(f"damaged: the title pointer list names entry {index}, which does not exist")
                yield index

    def resolve(self, entry: Entry) -> Entry:
        """Follow redirects to the entry they end at; a loop or a very long chain is damage."""
        seen = {entry.index}
        while entry.is_redirect:
            entry = self.entry(entry.target)
            if entry.index in seen or len(seen) > MAX_REDIRECT_HOPS:
                raise self.fail(f"damaged: redirect loop through {entry.full_path}")
            seen.add(entry.index)
        return entry

    def main_entry(self) -> Entry | None:
        if self.header.main_page == NO_PAGE:
            return None
        return self.resolve(self.entry(self.header.main_page))

    def metadata(self) -> dict[str, str]:
        """The M/ namespace's text entries (Title, Description, Language, Date, ...)."""
        found: dict[str, str] = {}
        for name in ("Name", "Title", "Description", "LongDescription", "Language", "Date", "Creator", "Publisher", "Source", "License", "Tags"):
            entry = self.entry_by_path(f"M/{name}")
            if entry is not None and entry.kind == "content" and entry.mime.startswith("text/"):
                found[name] = self.content(entry).decode("utf-8", "replace").strip()
        return found

    # --- clusters and blobs ---------------------------------------------------------------------

    def content(self, entry: Entry) -> bytes:
        """The bytes of a content entry (redirects are followed)."""
        entry = self.resolve(entry)
        if entry.kind != "content":
            raise self.fail(f"damaged: {entry.full_path} has no content")
        flags = self._cluster_flags(entry.cluster)
        if flags & 0x0F in COMPRESSION_NONE:
            return self._uncompressed_blob(entry.cluster, entry.blob, flags & EXTENDED_FLAG != 0)
        cluster = self._cluster(entry.cluster, flags)
        if entry.blob + 1 >= len(cluster.offsets):
            raise self.fail(f"damaged: {entry.full_path} is blob {entry.blob} of cluster {entry.cluster}, which has {len(cluster.offsets) - 1}")
        return cluster.data[cluster.offsets[entry.blob] : cluster.offsets[entry.blob + 1]]

    def _cluster_flags(self, number: int) -> int:
        if self._flags[number] != 0xFF:
            return self._flags[number]
        flags = self._read(self._cluster_ptrs[number], 1)[0]
        if flags & 0x0F not in (*COMPRESSION_NONE, COMPRESSION_XZ, COMPRESSION_ZSTD):
            kind = {2: "zlib", 3: "bzip2"}.get(flags & 0x0F, f"unknown ({flags & 0x0F})")
            raise self.fail(f"cluster {number} uses {kind} compression, which this reader does not read")
        self._flags[number] = flags
        return flags

    def _uncompressed_blob(self, number: int, blob: int, extended: bool) -> bytes:
        """A blob read straight from the file: an uncompressed cluster is never loaded whole."""
        start = self._cluster_ptrs[number] + 1
        room = self._cluster_ends[number] - start
        width = 8 if extended else 4
        layout = "<QQ" if extended else "<II"
        (first,) = struct.unpack(layout[:2], self._read(start, width))
        count = first // width - 1
        if first % width or count < 0 or first > room:
            raise self.fail(f"damaged: cluster {number} has a broken offset table")
        if blob >= count:
            raise self.fail(f"damaged: blob {blob} of cluster {number} does not exist (it has {count})")
        begin, end = struct.unpack(layout, self._read(start + width * blob, 2 * width))
        if not first <= begin <= end <= room:
            raise self.fail(f"damaged: blob {blob} of cluster {number} claims bytes {begin}..{end} of a {room}-byte cluster")
        return self._read(start + begin, end - begin)

    def _cluster(self, number: int, flags: int) -> _Cluster:
        cached = self._clusters.get(number)
        if cached is not None:
            self._clusters.move_to_end(number)
            return cached
        if number in self._broken:  # each of its entries asks again: fail fast, decompress once
            raise self.fail(self._broken[number])
        try:
            data = self._inflate(number, flags & 0x0F)
            cluster = _Cluster(data, self._offsets(number, data, flags & EXTENDED_FLAG != 0))
        except ZimError as exc:
            self._broken[number] = exc.problems[0].message
            raise
        self._clusters[number] = cluster
        self._cached_bytes += len(data)
        while len(self._clusters) > 1 and (len(self._clusters) > CACHED_CLUSTERS or self._cached_bytes > CACHED_CLUSTER_BYTES):
            _, dropped = self._clusters.popitem(last=False)
            self._cached_bytes -= len(dropped.data)
        return cluster

    def cluster_allowance(self) -> int:
        return min(MAX_CLUSTER_BYTES, max(MIN_CLUSTER_ALLOWANCE, MAX_EXPANSION * self.size))

    def _inflate(self, number: int, compression: int) -> bytes:
        """Decompress cluster `number`, reading and producing at most bounded amounts."""
        allowance = self.cluster_allowance()
        window = _Window(self._file, self._cluster_ptrs[number] + 1, self._cluster_ends[number])
        pieces: list[bytes] = []
        total = 0
        try:
            if compression == COMPRESSION_ZSTD:
                decompressor = zstandard.ZstdDecompressor(max_window_size=1 << 27)
                with decompressor.stream_reader(cast(BinaryIO, window), read_size=READ_CHUNK, closefd=False) as reader:
                    while piece := reader.read(READ_CHUNK):
                        total += len(piece)
                        if total > allowance:
                            raise self._too_big(number, allowance)
                        pieces.append(piece)
            else:
                xz = lzma.LZMADecompressor(memlimit=1 << 28)
                while not xz.eof:
                    feed = window.read(READ_CHUNK) if xz.needs_input else b""
                    if xz.needs_input and not feed:
                        raise self.fail(f"damaged: cluster {number} is cut off (its xz stream has no end)")
                    piece = xz.decompress(feed, max_length=READ_CHUNK)
                    total += len(piece)
                    if total > allowance:
                        raise self._too_big(number, allowance)
                    pieces.append(piece)
        except (zstandard.ZstdError, lzma.LZMAError) as exc:
            raise self.fail(f"damaged: cluster {number} does not decompress ({exc})") from None
        except OSError as exc:
            raise self.fail(f"cannot read cluster {number}: {exc.strerror or exc}") from None
        return b"".join(pieces)

    def _too_big(self, number: int, allowance: int) -> ZimError:
        return self.fail(f"damaged: cluster {number} decompresses to more than {allowance // (1024 * 1024)} MiB; refused")

    def _offsets(self, number: int, data: bytes, extended: bool) -> array[int]:
        width = 8 if extended else 4
        if len(data) < width:
            raise self.fail(f"damaged: cluster {number} is empty")
        first = int.from_bytes(data[:width], "little")
        if first % width or first < width or first > len(data):
            raise self.fail(f"damaged: cluster {number} has a broken offset table")
        offsets = _little_endian_array("Q" if extended else "I", data[:first])
        previous = first
        for offset in offsets:
            if not previous <= offset <= len(data):
                raise self.fail(f"damaged: cluster {number} has offsets that do not add up ({offset} in {len(data)} bytes)")
            previous = offset
        return offsets

    # --- a pass over many entries ---------------------------------------------------------------

    def read_in_cluster_order(self, entries: Iterable[Entry]) -> Iterator[tuple[Entry, bytes]]:
        """(entry, content) for each content entry given, ordered so that each cluster is read once.

        Memory: 8 bytes per entry for the ordering plus the cluster cache, whatever the content size.
        """
        by_cluster = array("Q")
        for entry in entries:
            if entry.kind == "content":
                by_cluster.append(entry.cluster << 32 | entry.index)
        # array has no in-place sort; sorting a list of ints costs more memory, but only briefly
        # and only for the numbers (no content), which is what "flat" means here.
        order = array("Q", sorted(by_cluster))
        del by_cluster
        for key in order:
            entry = self.entry(key & 0xFFFFFFFF)
            yield entry, self.content(entry)

    def check_checksum(self, progress: Callable[[int, int], None] | None = None) -> None:
        """Compare the MD5 at the end of the file with the MD5 of the rest, reading 1 MiB at a time."""
        if not self.header.checksum_pos:
            raise self.fail("has no checksum to check")
        digest = hashlib.md5(usedforsecurity=False)
        done = 0
        try:
            self._file.seek(0)
            while done < self.header.checksum_pos:
                chunk = self._file.read(min(READ_CHUNK, self.header.checksum_pos - done))
                if not chunk:
                    raise self.fail("truncated: the file got shorter while it was read")
                digest.update(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, self.header.checksum_pos)
            self._file.seek(self.header.checksum_pos)
            stored = self._file.read(16)
        except OSError as exc:
            raise self.fail(f"cannot read: {exc.strerror or exc}") from None
        if stored != digest.digest():
            raise self.fail("damaged: the MD5 checksum does not match the contents")
