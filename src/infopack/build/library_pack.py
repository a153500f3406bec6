"""`library.pack`: every data payload of a bundle in one file (docs/FORMAT.md section 8a).

A phone's file manager hands the browser one file, so phone.html cannot read `data/`; when the
library is too big to sit inline in phone.html, the reader picks this one file instead and the
viewer reads each payload as a slice of it. The payloads are the same bytes as in the data files
(without their UTF-16 wrapper), so the root document's lengths and SHA-256s check them as they are.
"""

from __future__ import annotations

import hashlib
import json
import struct

LIBRARY_PACK_NAME = "library.pack"
MAGIC = b"infopack"
VERSION = 1
HEADER = struct.Struct("<8sII")  # magic, version, index length
FAT32_FILE_LIMIT = 2**32 - 1  # a larger file cannot be copied to the FAT32 cards readers use


def library_pack_index(bundle_id: str, sequence: int, payloads: list[tuple[str, bytes]]) -> bytes:
    """The index: compact UTF-8 JSON, payloads in the given (name) order, offsets from the data start."""
    entries = []
    offset = 0
    for name, payload in payloads:
        entries.append([name, offset, len(payload), hashlib.sha256(payload).hexdigest()])
        offset += len(payload)
    index = {"format": "infopack/1", "bundle": bundle_id, "sequence": sequence, "payloads": entries}
    return json.dumps(index, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def library_pack_parts(bundle_id: str, sequence: int, payloads: list[tuple[str, bytes]]) -> list[bytes]:
    """The file as consecutive parts (header + index, then each payload), so that a large library
    is written without joining hundreds of megabytes into one more copy."""
    index = library_pack_index(bundle_id, sequence, payloads)
    return [HEADER.pack(MAGIC, VERSION, len(index)) + index] + [payload for _name, payload in payloads]


def library_pack_size(parts: list[bytes]) -> int:
    return sum(len(part) for part in parts)


def read_library_pack(data: bytes) -> dict[str, bytes]:
    """Inverse, for tests and independent readers: payload name -> bytes, every hash checked."""
    if len(data) < HEADER.size:
        raise ValueError("not a library.pack: shorter than its header")
    magic, version, index_length = HEADER.unpack_from(data)
    if magic != MAGIC or version != VERSION:
        raise ValueError("not a library.pack of format version 1")
    start = HEADER.size + index_length
    index = json.loads(data[HEADER.size : start].decode("utf-8"))
    payloads = {}
    for name, offset, length, digest in index["payloads"]:
        payload = data[start + offset : start + offset + length]
        if len(payload) != length or hashlib.sha256(payload).hexdigest() != digest:
            raise ValueError(f"library.pack: payload {name} is damaged")
        payloads[name] = payload
    return payloads
