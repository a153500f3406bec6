"""ZIM files for tests: hand-made bytes for what libzim no longer writes, and libzim-made files.

`craft_zim` lays out a ZIM by hand (old namespaces A/I/-/M with the old title pointer list, xz
clusters, extended clusters with 64-bit offsets, deliberate damage); `libzim_zim` uses python-libzim,
the reference writer (GPL: a test tool only, never imported by infopack). Layout of crafted files:
header | MIME list | path pointers | title pointers | directory entries | cluster pointers |
clusters | MD5.
"""

from __future__ import annotations

import hashlib
import lzma
import struct
from dataclasses import dataclass, field
from pathlib import Path

import zstandard

MAGIC = 72173914


@dataclass
class ZimItem:
    namespace: str
    path: str
    content: bytes = b""
    mime: str = "text/html"
    title: str = ""
    redirect_to: str | None = None  # "N/path" of the target: makes this a redirect
    cluster: int = 0  # which cluster the content goes into
    obsolete: int | None = None  # 0xFFFE (link target) or 0xFFFD (deleted): old kinds with no data


@dataclass
class Crafted:
    """The bytes of a crafted ZIM and where its parts are, so tests can damage them precisely."""

    data: bytes
    index_of: dict[str, int]
    cluster_ptr_pos: int
    cluster_positions: list[int]
    dirent_positions: list[int]
    path_ptr_pos: int
    title_ptr_pos: int

    def write(self, path: Path) -> Path:
        path.write_bytes(self.data)
        return path


@dataclass
class CraftOptions:
    major: int = 5
    minor: int = 0
    compression: dict[int, str] = field(default_factory=dict)  # cluster -> "none" | "xz" | "zstd"; default zstd
    extended: frozenset[int] = frozenset()  # clusters with 64-bit offsets
    title_list: bool = True
    main_path: str | None = None


def _cluster_bytes(blobs: list[bytes], compression: str, extended: bool) -> bytes:
    width = 8 if extended else 4
    offsets = [width * (len(blobs) + 1)]
    for blob in blobs:
        offsets.append(offsets[-1] + len(blob))
    body = struct.pack(f"<{len(offsets)}{'Q' if extended else 'I'}", *offsets) + b"".join(blobs)
    flag = 0x10 if extended else 0
    if compression == "none":
        return bytes([flag | 1]) + body
    if compression == "xz":
        return bytes([flag | 4]) + lzma.compress(body, format=lzma.FORMAT_XZ)
    return bytes([flag | 5]) + zstandard.ZstdCompressor(level=3).compress(body)


def craft_zim(items: list[ZimItem], options: CraftOptions | None = None) -> Crafted:
    options = options or CraftOptions()
    items = sorted(items, key=lambda i: (i.namespace + i.path).encode("utf-8"))
    index_of = {f"{i.namespace}/{i.path}": n for n, i in enumerate(items)}
    mimes = sorted({i.mime for i in items if i.redirect_to is None and i.obsolete is None})
    mime_list = b"".join(m.encode() + b"\0" for m in mimes) + b"\0"

    # Clusters: blobs in item order within each cluster number.
    cluster_numbers = sorted({i.cluster for i in items if i.redirect_to is None and i.obsolete is None}) or [0]
    blobs: dict[int, list[bytes]] = {n: [] for n in cluster_numbers}
    place: dict[int, tuple[int, int]] = {}
    for n, item in enumerate(items):
        if item.redirect_to is None and item.obsolete is None:
            place[n] = (cluster_numbers.index(item.cluster), len(blobs[item.cluster]))
            blobs[item.cluster].append(item.content)

    dirents = []
    for n, item in enumerate(items):
        path_title = item.path.encode() + b"\0" + item.title.encode() + b"\0"
        if item.obsolete is not None:
            dirents.append(struct.pack("<HBcI", item.obsolete, 0, item.namespace.encode(), 0) + path_title)
        elif item.redirect_to is not None:
            dirents.append(struct.pack("<HBcII", 0xFFFF, 0, item.namespace.encode(), 0, index_of[item.redirect_to]) + path_title)
        else:
            cluster, blob = place[n]
            dirents.append(struct.pack("<HBcIII", mimes.index(item.mime), 0, item.namespace.encode(), 0, cluster, blob) + path_title)

    titles = sorted(range(len(items)), key=lambda n: (items[n].namespace + (items[n].title or items[n].path)).encode("utf-8"))

    path_ptr_pos = 80 + len(mime_list)
    title_ptr_pos = path_ptr_pos + 8 * len(items)
    dirent_pos = title_ptr_pos + (4 * len(items) if options.title_list else 0)
    dirent_positions = []
    position = dirent_pos
    for dirent in dirents:
        dirent_positions.append(position)
        position += len(dirent)
    cluster_ptr_pos = position
    clusters = [_cluster_bytes(blobs[c], options.compression.get(c, "zstd"), c in options.extended) for c in cluster_numbers]
    position = cluster_ptr_pos + 8 * len(clusters)
    cluster_positions = []
    for cluster in clusters:
        cluster_positions.append(position)
        position += len(cluster)
    checksum_pos = position

    main = index_of[options.main_path] if options.main_path else 0xFFFFFFFF
    header = struct.pack("<IHH16sIIQQQQIIQ", MAGIC, options.major, options.minor, b"u" * 16, len(items), len(clusters),
                         path_ptr_pos, title_ptr_pos if options.title_list else 0xFFFFFFFFFFFFFFFF, cluster_ptr_pos, 80,
                         main, 0xFFFFFFFF, checksum_pos)
    body = (header + mime_list + struct.pack(f"<{len(items)}Q", *dirent_positions)
            + (struct.pack(f"<{len(items)}I", *titles) if options.title_list else b"")
            + b"".join(dirents) + struct.pack(f"<{len(clusters)}Q", *cluster_positions) + b"".join(clusters))
    assert len(body) == checksum_pos
    return Crafted(body + hashlib.md5(body).digest(), index_of, cluster_ptr_pos, cluster_positions, dirent_positions,
                   path_ptr_pos, title_ptr_pos)


def old_style_items() -> list[ZimItem]:
    """A small old-namespace archive: articles in A, an image in I, a stylesheet in -, metadata in M."""
    return [
        ZimItem("A", "Seoul", b"<html><body><h1>Seoul</h1><p>Capital. See <a href=\"Busan\">Busan</a>."
                b"<img src=\"../I/flag.png\"></p></body></html>", title="Seoul"),
        ZimItem("A", "Busan", b"<html><body><p>Port city, not far from <a href=\"../A/Seoul\">Seoul</a>.</p></body></html>", title="Busan"),
        ZimItem("A", "Hanyang", redirect_to="A/Seoul", title="Hanyang"),
        ZimItem("I", "flag.png", b"\x89PNG\r\n\x1a\nfake", mime="image/png", cluster=1),
        ZimItem("-", "style.css", b"body{}", mime="text/css", cluster=1),
        ZimItem("M", "Title", b"Old cities", mime="text/plain"),
        ZimItem("M", "Language", b"kor", mime="text/plain"),
        ZimItem("M", "Date", b"2019-05-06", mime="text/plain"),
    ]


# --- python-libzim (reference writer) -------------------------------------------------------------


@dataclass
class LibzimArticle:
    path: str
    title: str
    content: bytes | str
    mime: str = "text/html"
    front: bool = True


def libzim_zim(target: Path, articles: list[LibzimArticle], redirects: list[tuple[str, str, str]] = (),  # type: ignore[assignment]
               metadata: dict[str, str] | None = None, main_path: str | None = None, compression: str = "zstd",
               cluster_size: int | None = None) -> Path:
    """Write a ZIM with python-libzim. `redirects`: (path, title, target path)."""
    from libzim.writer import Compression, Creator, Hint, Item, StringProvider  # GPL: tests only

    class _Item(Item):
        def __init__(self, article: LibzimArticle):
            super().__init__()
            self.article = article

        def get_path(self) -> str:
            return self.article.path

        def get_title(self) -> str:
            return self.article.title

        def get_mimetype(self) -> str:
            return self.article.mime

        def get_contentprovider(self) -> StringProvider:
            return StringProvider(self.article.content)

        def get_hints(self) -> dict:
            return {Hint.FRONT_ARTICLE: self.article.front}

    creator = Creator(str(target)).config_indexing(False, "eng").config_compression(getattr(Compression, compression))
    if cluster_size:
        creator.config_clustersize(cluster_size)
    with creator as c:
        if main_path:
            c.set_mainpath(main_path)
        for name, value in (metadata or {"Title": "Test", "Language": "eng"}).items():
            c.add_metadata(name, value)
        for article in articles:
            c.add_item(_Item(article))
        for path, title, to in redirects:
            c.add_redirection(path, title, to, {Hint.FRONT_ARTICLE: True})
    return target
