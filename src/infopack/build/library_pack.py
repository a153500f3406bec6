"""`library.pack`: every data payload of a bundle in one file (docs/FORMAT.md section 8a).

A phone's file manager hands the browser one file, so phone.html cannot read `data/`; when the
library is too big to sit inline in phone.html, the reader picks this one file instead and the
viewer reads each payload as a slice of it. The payloads are the same bytes as in the data files
(without their UTF-16 wrapper), so the root document's lengths and SHA-256s check them as they are.
"""

from __future__ import annotations

import hashlib
import json

# One definition of the layout, shared with `apply` (which rebuilds the file from data files).
from infopack.format.library_pack import (
    FAT32_FILE_LIMIT,
    HEADER,
    LIBRARY_PACK_NAME,
    MAGIC,
    VERSION,
    library_pack_chunks,
    pack_entry,
)

__all__ = ["FAT32_FILE_LIMIT", "HEADER", "LIBRARY_PACK_NAME", "library_pack_parts", "library_pack_size",
           "read_library_pack"]


def library_pack_parts(bundle_id: str, sequence: int, payloads: list[tuple[str, bytes]]) -> list[bytes]:
    """The file as consecutive parts (header + index, then each payload), so that a large library
    is written without joining hundreds of megabytes into one more copy."""
    entries = [pack_entry(name, payload) for name, payload in payloads]
    by_name = dict(payloads)
    return list(library_pack_chunks(bundle_id, sequence, entries, by_name.__getitem__))


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
