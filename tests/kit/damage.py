"""Damage as a rotting card does it: one flipped bit, aimed at one article's stored text."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import zstandard

from infopack.build.library_pack import HEADER, read_library_pack
from infopack.build.pack import data_file_text, read_data_file


@dataclass
class StoredArticle:
    slug: str
    title: str
    pack: str  # payload name, e.g. text/0000
    offset: int
    length: int


def root_document(bundle: Path, page: str = "index.html") -> dict:
    html = (bundle / page).read_text(encoding="utf-8")
    start = html.index('<script id="infopack-root" type="application/json">') + len('<script id="infopack-root" type="application/json">')
    return json.loads(html[start : html.index("</script>", start)])


def payload(bundle: Path, name: str) -> bytes:
    length = root_document(bundle)["files"][name][0]
    return read_data_file((bundle / "data" / f"{name}.js").read_bytes(), length)[1]


def catalog(bundle: Path) -> list[StoredArticle]:
    root = root_document(bundle)
    rows = []
    for shard in range(-(-root["articles"] // root["catalog_shard_size"])):
        data = zstandard.ZstdDecompressor().decompress(payload(bundle, f"cat/{shard:04d}"))
        rows += json.loads(data)
    return [StoredArticle(r[0], r[1], f"text/{r[6]:04d}", r[7], r[8]) for r in rows]


def neighbours_in_one_pack(bundle: Path) -> tuple[StoredArticle, StoredArticle]:
    """Two articles whose text is in the same text pack."""
    by_pack: dict[str, list[StoredArticle]] = {}
    for stored in catalog(bundle):
        by_pack.setdefault(stored.pack, []).append(stored)
    group = max(by_pack.values(), key=len)
    assert len(group) >= 2, "every article has a pack of its own: the test needs two in one"
    return group[0], group[1]


def copy_with_article_bit_flipped(bundle: Path, out: Path, stored: StoredArticle) -> Path:
    """A copy of `bundle` with one bit flipped in the middle of `stored`'s frame in its data file
    (the payload is rewritten in the data file's encoding, as the flip would read back)."""
    shutil.copytree(bundle, out)
    target = out / "data" / f"{stored.pack}.js"
    name, data = read_data_file(target.read_bytes(), root_document(bundle)["files"][stored.pack][0])
    damaged = bytearray(data)
    damaged[stored.offset + stored.length // 2] ^= 0x10
    target.write_bytes(data_file_text(name, bytes(damaged)))
    return out


def flip_bit_in_library_pack(pack_file: Path, name: str, inside: int) -> None:
    """Flip one bit `inside` bytes into payload `name` of library.pack, in place."""
    data = bytearray(pack_file.read_bytes())
    assert name in read_library_pack(bytes(data))
    magic, version, index_length = HEADER.unpack_from(data)
    index = json.loads(data[HEADER.size : HEADER.size + index_length])
    offset = next(item[1] for item in index["payloads"] if item[0] == name)
    data[HEADER.size + index_length + offset + inside] ^= 0x01
    pack_file.write_bytes(bytes(data))
