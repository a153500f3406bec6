"""The layout of `library.pack` (docs/FORMAT.md section 8a), with no build code: `build` writes the
file with it and `apply` rebuilds NEW's file with it from NEW's data files (section 17.1, kind
`derived`), so the two cannot drift apart. Large libraries: the payloads are never joined; the
file is a head (header and index) followed by each payload as it is."""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

LIBRARY_PACK_NAME = "library.pack"
MAGIC = b"infopack"
VERSION = 1
HEADER = struct.Struct("<8sII")  # magic, version, index length
FAT32_FILE_LIMIT = 2**32 - 1  # a larger file cannot be copied to the FAT32 cards readers use


@dataclass(frozen=True)
class PackEntry:
    """One payload as the index lists it (its offset follows from the entries before it)."""

    name: str
    length: int
    sha256: str


def pack_entry(name: str, payload: bytes) -> PackEntry:
    return PackEntry(name, len(payload), hashlib.sha256(payload).hexdigest())


def library_pack_index(bundle_id: str, sequence: int, entries: Iterable[PackEntry]) -> bytes:
    """The index: compact UTF-8 JSON, entries in the given (name) order, offsets from the data start."""
    listed = []
    offset = 0
    for entry in entries:
        listed.append([entry.name, offset, entry.length, entry.sha256])
        offset += entry.length
    index = {"format": "infopack/1", "bundle": bundle_id, "sequence": sequence, "payloads": listed}
    return json.dumps(index, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def library_pack_head(bundle_id: str, sequence: int, entries: Iterable[PackEntry]) -> bytes:
    """The bytes before the first payload: header, then index."""
    index = library_pack_index(bundle_id, sequence, entries)
    return HEADER.pack(MAGIC, VERSION, len(index)) + index


def library_pack_chunks(bundle_id: str, sequence: int, entries: list[PackEntry],
                        payload_of: Callable[[str], bytes]) -> Iterator[bytes]:
    """The whole file, one part at a time: the head, then PAYLOAD_OF(name) for each entry in order
    (one payload in memory at a time). The caller checks the result (`apply`: against NEW's
    manifest), so a payload that is not what its entry says only gives a file that fails."""
    yield library_pack_head(bundle_id, sequence, entries)
    for entry in entries:
        yield payload_of(entry.name)


def read_library_pack_index(head: bytes) -> tuple[int, list[PackEntry]] | None:
    """(data start, entries) from the first bytes of a file (at least the header and index),
    or None when they are not a version-1 library.pack head; offsets are checked to follow on."""
    if len(head) < HEADER.size:
        return None
    magic, version, index_length = HEADER.unpack_from(head)
    start = HEADER.size + index_length
    if magic != MAGIC or version != VERSION or len(head) < start:
        return None
    try:
        index = json.loads(head[HEADER.size : start].decode("utf-8"))
        entries = []
        offset = 0
        for name, at, length, digest in index["payloads"]:
            if at != offset or not isinstance(name, str) or type(length) is not int or not isinstance(digest, str):
                return None
            entries.append(PackEntry(name, length, digest))
            offset += length
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None
    return start, entries


def read_library_pack(data: bytes) -> dict[str, bytes]:
    """A whole pack, for tests and independent readers: payload name -> bytes, every hash checked.
    Raises ValueError for a file that is not a library.pack or a damaged payload."""
    found = read_library_pack_index(data)
    if found is None:
        raise ValueError("not a library.pack of format version 1")
    start, entries = found
    payloads = {}
    offset = start
    for entry in entries:
        payload = data[offset : offset + entry.length]
        if len(payload) != entry.length or hashlib.sha256(payload).hexdigest() != entry.sha256:
            raise ValueError(f"library.pack: payload {entry.name} is damaged")
        payloads[entry.name] = payload
        offset += entry.length
    return payloads
