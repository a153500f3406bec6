"""A writer of the openZIM file format (version 6.1), our own: libzim is GPL.

What is written, in file order (facts checked in ../shared/NOTES.md, "ZIM files"):

    header (80 bytes, written last)  mime list  clusters...  directory entries
    path pointer list  title pointer list  cluster pointer list  MD5 of all before it

- Entries are sorted by namespace + path (raw UTF-8 bytes); an entry's index is its place there.
- The old title pointer list (every entry by namespace + title, the path when the title is
  empty) is written because Debian 12's zimcheck (zim-tools 3.1.3) rejects files without it;
  `X/listing/titleOrdered/v1` (the front articles by title) is added for current readers.
- Text goes into zstd clusters of about `cluster_size` bytes; media into uncompressed ones. A
  cluster whose offsets would not fit 32 bits is an extended cluster (64-bit offsets).
- Deterministic: the same entries and blobs give the same bytes (no clock; the UUID is given).

The caller supplies entries (paths, titles, MIME types) first and the blobs afterwards, in any
order and one at a time, so memory stays near one cluster whatever the size of the file.
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import BinaryIO

from infopack.errors import InfopackError

MAGIC = 72173914
MAJOR = 6
MINOR = 1  # new namespaces (C, M, W, X) with the old title pointer list still present
HEADER_SIZE = 80
NO_PAGE = 0xFFFFFFFF
REDIRECT_MIME = 0xFFFF
COMPRESSION_NONE = 1
COMPRESSION_ZSTD = 5
EXTENDED = 0x10
LISTING_PATH = "listing/titleOrdered/v1"
LISTING_MIME = "application/octet-stream+zimlisting"
DEFAULT_CLUSTER_SIZE = 2 * 1024 * 1024  # libzim's default
DEFAULT_LEVEL = 19  # libzim's default zstd level
COPY_CHUNK = 1024 * 1024
# A cluster whose last offset would exceed this uses 64-bit offsets (an extended cluster).
OFFSET_LIMIT = 0xFFFFFFFF

Key = tuple[str, str]  # (namespace, path)


@dataclass(frozen=True)
class Entry:
    """A content entry (`target` None) or a redirect to `target`."""

    namespace: str
    path: str
    title: str = ""
    mime: str = ""
    compress: bool = True
    front: bool = False  # listed in X/listing/titleOrdered/v1 (what title search finds)
    target: Key | None = None

    @property
    def key(self) -> Key:
        return (self.namespace, self.path)

    @property
    def shown_title(self) -> str:
        return self.title or self.path


@dataclass(frozen=True)
class Blob:
    """The content of one entry: whole bytes, or `size` bytes in pieces (media streamed from disk)."""

    key: Key
    data: bytes | None = None
    size: int = 0
    pieces: Iterable[bytes] = ()

    @property
    def length(self) -> int:
        return len(self.data) if self.data is not None else self.size


@dataclass
class _Cluster:
    compressed: bool
    blobs: list[Blob] = field(default_factory=list)
    size: int = 0


def _sort_key(namespace: str, text: str) -> bytes:
    return namespace.encode("utf-8") + text.encode("utf-8")


def _check_entries(entries: list[Entry]) -> None:
    seen: set[Key] = set()
    for entry in entries:
        if len(entry.namespace) != 1 or not entry.path or "\0" in entry.path + entry.title:
            raise InfopackError(f"bad ZIM entry {entry.namespace}/{entry.path!r}", "zim")
        if entry.key in seen:
            raise InfopackError(f"ZIM entry {entry.namespace}/{entry.path} given twice", "zim")
        seen.add(entry.key)
    for entry in entries:
        if entry.target is not None and entry.target not in seen:
            raise InfopackError(f"redirect {entry.namespace}/{entry.path} points to a missing entry", "zim")


def _cluster_bytes(cluster: _Cluster) -> tuple[int, bytes]:
    """(info byte, offset table) of a cluster; the blobs follow the table."""
    count = len(cluster.blobs)
    total = sum(blob.length for blob in cluster.blobs)
    width = 4 if (count + 1) * 4 + total <= OFFSET_LIMIT else 8
    offsets = [(count + 1) * width]
    for blob in cluster.blobs:
        offsets.append(offsets[-1] + blob.length)
    table = struct.pack(f"<{count + 1}{'I' if width == 4 else 'Q'}", *offsets)
    info = (COMPRESSION_ZSTD if cluster.compressed else COMPRESSION_NONE) | (EXTENDED if width == 8 else 0)
    return info, table


def _compress_cluster(cluster: _Cluster, level: int) -> bytes:
    import zstandard

    info, table = _cluster_bytes(cluster)
    raw = table + b"".join(blob.data or b"" for blob in cluster.blobs)
    # Content size in the frame lets a reader allocate once; no dictionary, no threads (determinism).
    compressor = zstandard.ZstdCompressor(level=level, write_content_size=True, write_checksum=False)
    return bytes([info]) + compressor.compress(raw)


class ZimWriter:
    """Write one ZIM file to `handle` (opened "w+b"; it is read back for the MD5)."""

    def __init__(
        self,
        handle: BinaryIO,
        entries: list[Entry],
        *,
        uuid: bytes,
        main_page: Key | None = None,
        cluster_size: int = DEFAULT_CLUSTER_SIZE,
        level: int = DEFAULT_LEVEL,
        workers: int | None = None,
    ) -> None:
        if len(uuid) != 16:
            raise ValueError("a ZIM UUID is 16 bytes")
        self.handle = handle
        self.uuid = uuid
        self.cluster_size = cluster_size
        self.level = level
        self.workers = workers or os.cpu_count() or 1
        listing = Entry("X", LISTING_PATH, mime=LISTING_MIME, compress=False)
        all_entries = [*entries, listing]
        _check_entries(all_entries)
        self.entries = sorted(all_entries, key=lambda e: _sort_key(e.namespace, e.path))
        self.index = {entry.key: number for number, entry in enumerate(self.entries)}
        self.mimes = sorted({e.mime for e in self.entries if e.target is None})
        self.main_page = self.index[main_page] if main_page is not None else NO_PAGE
        self.location: dict[Key, tuple[int, int]] = {}  # key -> (cluster, blob)
        self._given: set[Key] = set()
        self.cluster_offsets: list[int] = []
        self._open: dict[bool, _Cluster] = {True: _Cluster(True), False: _Cluster(False)}
        self._pending: list[tuple[_Cluster, Future[bytes] | None]] = []
        self._pool = ThreadPoolExecutor(max_workers=self.workers)

    # ------------------------------------------------------------------ listings

    def _title_order(self, entries: Iterable[Entry]) -> list[int]:
        chosen = sorted(entries, key=lambda e: (_sort_key(e.namespace, e.shown_title), _sort_key(e.namespace, e.path)))
        return [self.index[e.key] for e in chosen]

    def listing_blob(self) -> Blob:
        front = self._title_order(e for e in self.entries if e.front)
        return Blob(("X", LISTING_PATH), data=struct.pack(f"<{len(front)}I", *front))

    # ------------------------------------------------------------------ writing

    def write(self, blobs: Iterable[Blob]) -> None:
        """Write the whole file: every content entry must get exactly one blob."""
        self.handle.seek(0)
        self.handle.truncate()
        self.handle.write(b"\0" * HEADER_SIZE)
        self.handle.write(b"".join(m.encode("utf-8") + b"\0" for m in self.mimes) + b"\0")
        try:
            for blob in _then(blobs, self.listing_blob):
                self._add(blob)
            for compressed in (True, False):
                self._close_cluster(compressed)
            self._drain(0)
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)
        missing = [e for e in self.entries if e.target is None and e.key not in self.location]
        if missing:
            raise InfopackError(f"no content for ZIM entry {missing[0].namespace}/{missing[0].path}", "zim")
        self._write_tail()

    def _add(self, blob: Blob) -> None:
        entry_number = self.index.get(blob.key)
        if entry_number is None or self.entries[entry_number].target is not None:
            raise InfopackError(f"content for an unknown ZIM entry {blob.key[0]}/{blob.key[1]}", "zim")
        if blob.key in self._given:
            raise InfopackError(f"content for ZIM entry {blob.key[0]}/{blob.key[1]} given twice", "zim")
        self._given.add(blob.key)
        compressed = self.entries[entry_number].compress
        cluster = self._open[compressed]
        if cluster.blobs and cluster.size + blob.length > self.cluster_size:
            self._close_cluster(compressed)
            cluster = self._open[compressed]
        # The cluster number is the order clusters are closed in, known only at close time.
        cluster.blobs.append(blob)
        cluster.size += blob.length
        if not compressed and blob.data is None:
            self._close_cluster(False)  # streamed media: written at once, never held

    def _close_cluster(self, compressed: bool) -> None:
        cluster = self._open[compressed]
        if not cluster.blobs:
            return
        self._open[compressed] = _Cluster(compressed)
        number = len(self._pending) + len(self.cluster_offsets)
        for position, blob in enumerate(cluster.blobs):
            self.location[blob.key] = (number, position)
        future = self._pool.submit(_compress_cluster, cluster, self.level) if compressed else None
        self._pending.append((cluster, future))
        self._drain(2 * self.workers)  # bounded: at most a few clusters in memory

    def _drain(self, keep: int) -> None:
        while len(self._pending) > keep:
            cluster, future = self._pending.pop(0)
            self.cluster_offsets.append(self.handle.tell())
            if future is not None:
                self.handle.write(future.result())
            else:
                self._write_plain_cluster(cluster)

    def _write_plain_cluster(self, cluster: _Cluster) -> None:
        info, table = _cluster_bytes(cluster)
        self.handle.write(bytes([info]) + table)
        for blob in cluster.blobs:
            if blob.data is not None:
                self.handle.write(blob.data)
                continue
            written = 0
            for piece in blob.pieces:
                written += len(piece)
                if written > blob.size:
                    break
                self.handle.write(piece)
            if written != blob.size:
                raise InfopackError(f"is {written} bytes, expected {blob.size}", "/".join(blob.key[1:]))

    def _dirent(self, entry: Entry) -> bytes:
        title = b"" if entry.title in ("", entry.path) else entry.title.encode("utf-8")
        names = entry.path.encode("utf-8") + b"\0" + title + b"\0"
        namespace = entry.namespace.encode("ascii")
        if entry.target is not None:
            return struct.pack("<HBcII", REDIRECT_MIME, 0, namespace, 0, self.index[entry.target]) + names
        cluster, blob = self.location[entry.key]
        return struct.pack("<HBcIII", self.mimes.index(entry.mime), 0, namespace, 0, cluster, blob) + names

    def _write_tail(self) -> None:
        out = self.handle
        dirent_offsets = []
        for entry in self.entries:
            dirent_offsets.append(out.tell())
            out.write(self._dirent(entry))
        path_pointers = out.tell()
        out.write(struct.pack(f"<{len(dirent_offsets)}Q", *dirent_offsets))
        title_pointers = out.tell()
        every = self._title_order(self.entries)
        out.write(struct.pack(f"<{len(every)}I", *every))
        cluster_pointers = out.tell()
        out.write(struct.pack(f"<{len(self.cluster_offsets)}Q", *self.cluster_offsets))
        checksum_position = out.tell()
        header = struct.pack(
            "<IHH16sIIQQQQIIQ", MAGIC, MAJOR, MINOR, self.uuid, len(self.entries), len(self.cluster_offsets),
            path_pointers, title_pointers, cluster_pointers, HEADER_SIZE, self.main_page, NO_PAGE,
            checksum_position,
        )
        out.seek(0)
        out.write(header)
        out.flush()
        out.seek(0)
        digest = hashlib.md5(usedforsecurity=False)
        remaining = checksum_position
        while remaining:
            piece = out.read(min(COPY_CHUNK, remaining))
            if not piece:
                raise InfopackError("the ZIM file shrank while it was written", "zim")
            digest.update(piece)
            remaining -= len(piece)
        out.seek(checksum_position)
        out.write(digest.digest())
        out.flush()


def _then(blobs: Iterable[Blob], last: Callable[[], Blob]) -> Iterator[Blob]:
    yield from blobs
    yield last()
