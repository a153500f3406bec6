"""`library.pack`: every data payload of a bundle in one file (docs/FORMAT.md section 8a).

A phone's file manager hands the browser one file, so phone.html cannot read `data/`; when the
library is too big to sit inline in phone.html, the reader picks this one file instead and the
viewer reads each payload as a slice of it. The payloads are the same bytes as in the data files
(without their UTF-16 wrapper), so the root document's lengths and SHA-256s check them as they are.
"""

from __future__ import annotations

# One definition of the layout, shared with `apply` (which rebuilds the file from data files).
from infopack.format.library_pack import (
    FAT32_FILE_LIMIT,
    HEADER,
    LIBRARY_PACK_NAME,
    library_pack_chunks,
    pack_entry,
    read_library_pack,
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
