"""`infopack delta OLD NEW --out FILE`: the difference between two releases as one file.

The file (docs/FORMAT.md section 17) holds NEW's manifest.json and signatures, every file of NEW
that OLD lacks or holds with other bytes, the paths NEW no longer has, and the SHA-256 of OLD's
manifest it applies to. A file whose bytes OLD holds under another path (a media file that only
moved) is named, not carried; a changed file that mostly repeats OLD's file at the same path
(index.html, phone.html: the same viewer and payloads around a new root document; a text pack
with one article changed) travels as a patch of ranges copied from OLD and new bytes.
`library.pack`, which repeats every payload of NEW's data files, travels as a `derived` record:
the list of payloads `apply` rebuilds it from with the layout of format/library_pack.py (kept only
when rebuilding it here gives NEW's file exactly). Two runs on the same bundles give the same bytes.

Nothing here is trusted by `apply`: it checks the result of every record against NEW's signed
manifest. Imports only format and trust (tests/test_layers.py), so a partner's `apply` needs no
build code.
"""

from __future__ import annotations

import base64
import hashlib
import json
import lzma
import os
import re
import stat
import struct
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from infopack.atomic import write_atomically
from infopack.errors import InfopackError
from infopack.format.constants import MANIFEST_MAX_BYTES, SIGNATURES_DIR, SIGNATURES_DIR_ENTRY
from infopack.format.datafile import read_data_file
from infopack.format.library_pack import (
    HEADER as PACK_HEADER,
)
from infopack.format.library_pack import (
    LIBRARY_PACK_NAME,
    PackEntry,
    library_pack_chunks,
    pack_entry,
    read_library_pack_index,
)
from infopack.format.manifest import FileEntry, load_strict_json, parse_manifest
from infopack.format.names import check_bundle_path
from infopack.trust.sign import read_manifest_bytes

MAGIC = b"INFOPACK-DELTA/1\n"
FORMAT = "infopack-delta/1"
HEADER_MAX_BYTES = 64 * 1024 * 1024
CHUNK = 1024 * 1024
SIGNATURE_MAX_BYTES = 4096
XZ_MEMLIMIT = 64 * 1024 * 1024  # preset 6 needs ~9 MiB to decompress; a hostile header asks more
# Patches are built and applied in memory; larger changed files travel whole.
PATCH_MAX_BYTES = 64 * 1024 * 1024
PATCH_BLOCK = 64  # bytes after an anchor indexed as one block; a copy record costs 17 bytes
# Where blocks start: after a zero byte, a line end, a tag end or Q/q (~1 in 30 bytes of base64,
# ~1 in 50 of compressed UTF-16 payload, ~1 in 100 of HTML).
PATCH_ANCHOR = re.compile(rb"[\x00\n>Qq]")
PATCH_COPY = b"C"
PATCH_LITERAL = b"L"
PATCH_DERIVED = b"D"  # base64 of a payload of NEW's data files: phone.html's inline copies
_U64 = struct.Struct(">Q")
_U16 = struct.Struct(">H")
PHONE_PAGE = "phone.html"
MEDIA_PREFIX = "media/"  # photos, sound and video are compressed already: never xz
DATA_PREFIX = "data/"
DERIVED_LAYOUT = "library-pack/1"  # the only derived layout: FORMAT.md section 8a
DERIVED_PAYLOADS_MAX = 1_000_000  # a hostile header must not ask for unbounded work
XZ_PRESET = 6


@dataclass(frozen=True)
class Record:
    """One file of NEW the delta accounts for: `data` (its bytes are in the body), `patch` (a
    patch against OLD's file at the same path is in the body), `copy` (OLD holds its bytes at
    `source`) or `derived` (library.pack of NEW's data files' `payloads`: name, length)."""

    path: str
    kind: str
    offset: int = 0
    size: int = 0  # bytes in the body (compressed, with xz)
    source: str = ""
    xz: bool = False  # the body bytes are an xz stream of the data or patch
    payloads: tuple[tuple[str, int], ...] = ()  # derived: payload names (data/NAME.js) and lengths


@dataclass(frozen=True)
class Blob:
    name: str
    offset: int
    size: int


@dataclass
class DeltaHeader:
    base_id: str
    base_sequence: int
    base_manifest_sha256: str
    target_sequence: int
    manifest: Blob
    signatures: list[Blob] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    body_start: int = 0  # file offset of the body, set when read


# ----------------------------------------------------------------------------- writing


@dataclass
class DeltaSummary:
    carried: int  # files whose bytes (or patch) travel
    derived: int  # files apply rebuilds from other files of NEW (library.pack)
    copied: int  # files taken from another path of OLD
    removed: int
    delta_bytes: int
    changed_bytes: int  # size of every file of NEW that OLD lacks at its path with its bytes


def _read_checked(bundle_dir: Path, entry: FileEntry) -> bytes:
    """A listed file's bytes, refused unless they are what the manifest says (not a link)."""
    path = bundle_dir / entry.path
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as err:
        raise InfopackError(f"cannot open: {err.strerror or err}", path) from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise InfopackError("not a regular file", path)
        data = handle.read(entry.size + 1)
    if len(data) != entry.size or hashlib.sha256(data).hexdigest() != entry.sha256:
        raise InfopackError("does not match its manifest entry; verify the bundle first", path)
    return data


def _hash_stream(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def make_patch(old: bytes, new: bytes, derived: Sequence[tuple[int, int, bytes]] = ()) -> bytes:
    """NEW as ranges copied from OLD and new bytes. Both files are cut at the same kind of
    places, found by content (after each byte PATCH_ANCHOR matches), so a stretch of OLD that
    moved by any number of bytes is cut the same way in NEW; the PATCH_BLOCK bytes after each of
    OLD's anchors are indexed, NEW's are looked up, and a match is extended both ways as far as
    the bytes agree. The regular-expression search runs in C: the Python loop runs once per
    anchor (every 30-300 bytes in base64, UTF-16 data files and HTML), not once per byte.
    DERIVED: (start, end, operation) ranges of NEW given by a ready operation (PATCH_DERIVED)."""
    where: dict[bytes, int] = {}
    for anchor in PATCH_ANCHOR.finditer(old):
        at = anchor.end()
        where.setdefault(old[at : at + PATCH_BLOCK], at)
    out = bytearray()
    done = 0
    for start, end, operation in sorted(derived):
        _match_segment(old, new, done, start, where, out)
        out += operation
        done = end
    _match_segment(old, new, done, len(new), where, out)
    return bytes(out)


def _match_segment(old: bytes, new: bytes, begin: int, end: int, where: dict[bytes, int], out: bytearray) -> None:
    """Copy and literal operations for new[begin:end] (make_patch)."""
    literal_start = begin  # NEW's bytes from here up to a match are not matched yet
    position = begin
    while (match := PATCH_ANCHOR.search(new, position, end)) is not None:
        position = match.end()
        if position + PATCH_BLOCK > end:
            break
        found = where.get(new[position : position + PATCH_BLOCK])
        if found is None:
            continue
        start, source = position, found
        while start > literal_start and source > 0 and new[start - 1] == old[source - 1]:
            start, source = start - 1, source - 1  # grow back into what looked new
        length = _common_length(old, source, new[:end], start)
        if start > literal_start:
            out += PATCH_LITERAL + _U64.pack(start - literal_start) + new[literal_start:start]
        out += PATCH_COPY + _U64.pack(source) + _U64.pack(length)
        position = literal_start = start + length
    if literal_start < end:
        out += PATCH_LITERAL + _U64.pack(end - literal_start) + new[literal_start:end]


def derived_operation(data_path: str, length: int) -> bytes:
    """The operation "base64 of the first LENGTH payload bytes of NEW's data file DATA_PATH"."""
    name = data_path.encode("utf-8")
    return PATCH_DERIVED + _U16.pack(len(name)) + name + _U64.pack(length)


_INLINE_PAYLOAD = re.compile(rb'<script type="text/plain" data-payload="([a-z0-9/]+)">([A-Za-z0-9+/=]*)</script>')


def inline_payload_ranges(new_page: bytes, carried: dict[str, bytes]) -> list[tuple[int, int, bytes]]:
    """phone.html holds each data file's payload again, in base64 (docs/FORMAT.md section 8). For
    a data file the delta carries anyway (CARRIED: path -> NEW's bytes), its base64 becomes one
    derived operation instead of travelling a second time."""
    found = []
    for match in _INLINE_PAYLOAD.finditer(new_page):
        path = "data/" + match.group(1).decode("ascii") + ".js"
        data_file = carried.get(path)
        if data_file is None:
            continue
        encoded = match.group(2)
        try:
            payload = base64.b64decode(encoded, validate=True)
            _name, from_file = read_data_file(data_file, len(payload))
        except ValueError:
            continue
        if from_file == payload:
            found.append((match.start(2), match.end(2), derived_operation(path, len(payload))))
    return found


def data_path_of(name: str) -> str:
    """The data file holding payload NAME (FORMAT.md section 2)."""
    return f"{DATA_PREFIX}{name}.js"


PayloadOf = Callable[[str, int], bytes]  # (payload name, length) -> NEW's payload, or ValueError


def derived_entries(payloads: Sequence[tuple[str, int]], payload_of: PayloadOf) -> list[PackEntry]:
    """First pass of a derivation: each payload's index entry (its SHA-256 needs its bytes)."""
    return [pack_entry(name, payload_of(name, length)) for name, length in payloads]


def derived_chunks(bundle_id: str, sequence: int, entries: list[PackEntry], payload_of: PayloadOf) -> Iterator[bytes]:
    """Second pass: library.pack's bytes, head then one payload at a time (FORMAT.md 8a)."""
    length_of = {entry.name: entry.length for entry in entries}
    return library_pack_chunks(bundle_id, sequence, entries, lambda name: payload_of(name, length_of[name]))


def _derivable_pack(new_dir: Path, new_by_path: dict[str, FileEntry], entry: FileEntry,
                    bundle_id: str, sequence: int) -> tuple[tuple[str, int], ...] | None:
    """The payload list that rebuilds NEW's library.pack exactly from NEW's data files, or None
    (a pack built some other way, or hand-altered: it then travels as any other file). Decided
    by trying: the same two passes `apply` runs, hashed against NEW's manifest entry."""
    with open(new_dir / entry.path, "rb") as handle:
        head = handle.read(PACK_HEADER.size)
        if len(head) == PACK_HEADER.size:
            head += handle.read(PACK_HEADER.unpack_from(head)[2])
    found = read_library_pack_index(head)
    if found is None:
        return None
    payloads = tuple((item.name, item.length) for item in found[1])
    if len({name for name, _length in payloads}) != len(payloads):
        return None

    def payload_of(name: str, length: int) -> bytes:
        data_entry = new_by_path.get(data_path_of(name))
        if data_entry is None or data_entry.size > PATCH_MAX_BYTES:
            raise ValueError(f"no data file for payload {name!r}")
        payload = read_data_file(_read_checked(new_dir, data_entry), length)[1]
        if len(payload) != length:
            raise ValueError(f"payload {name!r} is shorter than {length} bytes")
        return payload

    try:
        entries = derived_entries(payloads, payload_of)
        digest, size = hashlib.sha256(), 0
        for chunk in derived_chunks(bundle_id, sequence, entries, payload_of):
            digest.update(chunk)
            size += len(chunk)
    except ValueError:
        return None
    return payloads if (size, digest.hexdigest()) == (entry.size, entry.sha256) else None


def _common_length(old: bytes, source: int, new: bytes, start: int) -> int:
    """How many bytes from old[source] and new[start] agree: doubling steps, then halving."""
    limit = min(len(old) - source, len(new) - start)
    low, step = 0, PATCH_BLOCK
    while low + step <= limit and old[source + low : source + low + step] == new[start + low : start + low + step]:
        low += step
        step *= 2
    while step > 1:
        step //= 2
        if low + step <= limit and old[source + low : source + low + step] == new[start + low : start + low + step]:
            low += step
    return low


def apply_patch(old: bytes, patch: bytes, limit: int, derive: Callable[[str, int], bytes] | None = None) -> bytes:
    """Inverse of make_patch; refuses a patch that reads outside OLD or grows past LIMIT. DERIVE
    gives the base64 a derived operation stands for (None: such operations are refused)."""
    out = bytearray()
    position = 0
    while position < len(patch):
        kind = patch[position : position + 1]
        position += 1
        if kind == PATCH_DERIVED:
            if derive is None or position + _U16.size > len(patch):
                raise ValueError("derived data where none may be")
            (name_length,) = _U16.unpack_from(patch, position)
            position += _U16.size
            name = patch[position : position + name_length].decode("utf-8", errors="strict")
            position += name_length
            if position + _U64.size > len(patch):
                raise ValueError("damaged patch")
            (length,) = _U64.unpack_from(patch, position)
            position += _U64.size
            if len(out) + (length + 2) // 3 * 4 > limit:
                raise ValueError("patch grows past the file's size")
            out += derive(name, length)
            continue
        if kind not in (PATCH_COPY, PATCH_LITERAL) or position + _U64.size > len(patch):
            raise ValueError("damaged patch")
        (first,) = _U64.unpack_from(patch, position)
        position += _U64.size
        if kind == PATCH_COPY:
            if position + _U64.size > len(patch):
                raise ValueError("damaged patch")
            (length,) = _U64.unpack_from(patch, position)
            position += _U64.size
            if first + length > len(old) or len(out) + length > limit:
                raise ValueError("patch copies outside the old file")
            out += old[first : first + length]
        else:
            if position + first > len(patch) or len(out) + first > limit:
                raise ValueError("damaged patch")
            out += patch[position : position + first]
            position += first
    return bytes(out)


def _signature_blobs(new_dir: Path) -> list[tuple[str, bytes]]:
    folder = new_dir / SIGNATURES_DIR
    if not folder.is_dir():
        return []
    found = []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if SIGNATURES_DIR_ENTRY.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
            data = Path(entry.path).read_bytes()[: SIGNATURE_MAX_BYTES + 1]
            if len(data) > SIGNATURE_MAX_BYTES:
                raise InfopackError(f"larger than {SIGNATURE_MAX_BYTES} bytes: not a signature", entry.path)
            found.append((entry.name, data))
    return found


def make_delta(old_dir: Path, new_dir: Path, out_file: Path, *, check_sequence: bool = True) -> DeltaSummary:
    """Write the delta that turns bundle OLD_DIR into NEW_DIR, atomically, to OUT_FILE.
    (`check_sequence=False` only lets tests craft the rollback an attacker would send.)"""
    old_dir, new_dir, out_file = Path(old_dir), Path(new_dir), Path(out_file)
    old_bytes = read_manifest_bytes(old_dir)
    new_bytes = read_manifest_bytes(new_dir)
    old, new = parse_manifest(old_bytes), parse_manifest(new_bytes)
    if old.bundle.id != new.bundle.id:
        raise InfopackError(f"OLD is bundle {old.bundle.id!r} and NEW is {new.bundle.id!r}", new_dir)
    if check_sequence and new.bundle.sequence <= old.bundle.sequence:
        raise InfopackError(
            f"NEW's sequence {new.bundle.sequence} is not higher than OLD's {old.bundle.sequence}", new_dir
        )
    signatures = _signature_blobs(new_dir)
    if not signatures:
        raise InfopackError("NEW is not signed; sign it before making a delta (infopack sign)", new_dir)
    old_by_path = {entry.path: entry for entry in old.files}
    old_path_of_hash: dict[str, str] = {}
    for entry in old.files:
        old_path_of_hash.setdefault(entry.sha256, entry.path)

    blobs: list[tuple[str, Path | bytes]] = [("manifest.json", new_bytes)]
    header_signatures = []
    offset = len(new_bytes)
    for name, data in signatures:
        header_signatures.append(Blob(name, offset, len(data)))
        blobs.append((name, data))
        offset += len(data)
    records: list[Record] = []
    changed_bytes = 0
    carried_data: dict[str, bytes] = {}  # data files the delta carries: phone.html may derive from them
    new_by_path = {entry.path: entry for entry in new.files}
    for entry in new.files:
        before = old_by_path.get(entry.path)
        if before is not None and (before.sha256, before.size) == (entry.sha256, entry.size):
            continue
        changed_bytes += entry.size
        source = old_path_of_hash.get(entry.sha256)
        if source is not None:
            records.append(Record(entry.path, "copy", source=source))
            continue
        if entry.path == LIBRARY_PACK_NAME:
            payloads = _derivable_pack(new_dir, new_by_path, entry, new.bundle.id, new.bundle.sequence)
            if payloads is not None:
                records.append(Record(entry.path, "derived", payloads=payloads))
                continue
        body: Path | bytes = new_dir / entry.path
        kind = "data"
        if before is not None and entry.size <= PATCH_MAX_BYTES and before.size <= PATCH_MAX_BYTES:
            new_data = body = _read_checked(new_dir, entry)
            derived = inline_payload_ranges(new_data, carried_data) if entry.path == PHONE_PAGE else []
            patch = make_patch(_read_checked(old_dir, before), new_data, derived)
            if len(patch) < entry.size * 3 // 4:
                body, kind = patch, "patch"
        elif entry.path.startswith("data/") and entry.size <= PATCH_MAX_BYTES:
            new_data = body = _read_checked(new_dir, entry)
        elif _hash_stream(new_dir / entry.path) != (entry.size, entry.sha256):
            raise InfopackError("does not match its manifest entry; verify the bundle first", new_dir / entry.path)
        if entry.path.startswith("data/") and isinstance(body, bytes):
            carried_data[entry.path] = new_data
        xz = False
        if isinstance(body, bytes) and not entry.path.startswith(MEDIA_PREFIX):
            packed = lzma.compress(body, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32, preset=XZ_PRESET)
            if len(packed) < len(body) * 19 // 20:  # worth it only when it saves 5 %
                body, xz = packed, True
        size = len(body) if isinstance(body, bytes) else entry.size
        records.append(Record(entry.path, kind, offset, size, xz=xz))
        blobs.append((entry.path, body))
        offset += size
    listed = {entry.path for entry in new.files}
    removed = sorted((path for path in old_by_path if path not in listed), key=lambda p: p.encode("utf-8"))
    header = DeltaHeader(
        base_id=old.bundle.id,
        base_sequence=old.bundle.sequence,
        base_manifest_sha256=hashlib.sha256(old_bytes).hexdigest(),
        target_sequence=new.bundle.sequence,
        manifest=Blob("manifest.json", 0, len(new_bytes)),
        signatures=header_signatures,
        records=records,
        removed=removed,
    )
    total = _write_delta(out_file, render_header(header), blobs)
    return DeltaSummary(
        carried=sum(1 for r in records if r.kind in ("data", "patch")),
        derived=sum(1 for r in records if r.kind == "derived"),
        copied=sum(1 for r in records if r.kind == "copy"),
        removed=len(removed),
        delta_bytes=total,
        changed_bytes=changed_bytes,
    )


def render_header(header: DeltaHeader) -> bytes:
    """The header's JSON: keys in the order of docs/FORMAT.md section 17, compact, UTF-8."""
    files: list[dict[str, object]] = []
    for record in header.records:
        if record.kind == "copy":
            files.append({"path": record.path, "kind": "copy", "from": record.source})
        elif record.kind == "derived":
            files.append({"path": record.path, "kind": "derived", "layout": DERIVED_LAYOUT,
                          "payloads": [[name, length] for name, length in record.payloads]})
        else:
            files.append({"path": record.path, "kind": record.kind, "offset": record.offset, "size": record.size,
                          "xz": record.xz})
    value = {
        "format": FORMAT,
        "base": {"id": header.base_id, "sequence": header.base_sequence, "manifest_sha256": header.base_manifest_sha256},
        "target_sequence": header.target_sequence,
        "manifest": {"offset": header.manifest.offset, "size": header.manifest.size},
        "signatures": [{"name": b.name, "offset": b.offset, "size": b.size} for b in header.signatures],
        "files": files,
        "removed": header.removed,
    }
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _write_delta(out_file: Path, header: bytes, blobs: list[tuple[str, Path | bytes]]) -> int:
    """MAGIC, header length, header, blobs: written atomically (a temporary file beside OUT_FILE)."""
    out_file.parent.mkdir(parents=True, exist_ok=True)
    total = 0

    def write(out: BinaryIO) -> None:
        nonlocal total
        out.write(MAGIC + _U64.pack(len(header)) + header)
        for _name, body in blobs:
            if isinstance(body, bytes):
                out.write(body)
            else:
                with open(body, "rb") as source:
                    while chunk := source.read(CHUNK):
                        out.write(chunk)
        total = out.tell()

    write_atomically(out_file, write)
    return total


# ----------------------------------------------------------------------------- reading


class DeltaError(InfopackError):
    """The delta file is damaged, malformed or not what it claims."""


def _int(value: object, what: str) -> int:
    if type(value) is not int or value < 0:
        raise ValueError(f"{what} is not a whole number")
    return value


def _str(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} is not a string")
    return value


def _obj(value: object, keys: tuple[str, ...], what: str) -> dict[str, object]:
    if not isinstance(value, dict) or set(value) != set(keys):
        raise ValueError(f"{what} must have exactly the keys {', '.join(keys)}")
    return value


def _list(value: object, what: str) -> list[object]:
    if not isinstance(value, list):
        raise ValueError(f"{what} is not a list")
    return value


def _safe_path(value: object, what: str) -> str:
    path = _str(value, what)
    problem = check_bundle_path(path)
    if problem is not None:
        raise ValueError(f"{what} {path!r}: {problem}")
    return path


def read_header(handle: BinaryIO) -> DeltaHeader:
    """Parse and check the header of an open delta file; raises DeltaError."""
    start = handle.read(len(MAGIC) + _U64.size)
    if len(start) != len(MAGIC) + _U64.size or not start.startswith(MAGIC):
        raise DeltaError("not an infopack delta file")
    (length,) = _U64.unpack_from(start, len(MAGIC))
    if length > HEADER_MAX_BYTES:
        raise DeltaError(f"header larger than {HEADER_MAX_BYTES} bytes")
    raw = handle.read(length)
    if len(raw) != length:
        raise DeltaError("truncated header")
    try:
        header = _parse_header(load_strict_json(raw))
    except (ValueError, UnicodeDecodeError, RecursionError) as err:
        raise DeltaError(f"malformed header: {err}") from None
    header.body_start = len(start) + length
    return header


def _parse_header(value: object) -> DeltaHeader:
    top = _obj(value, ("format", "base", "target_sequence", "manifest", "signatures", "files", "removed"), "header")
    if top["format"] != FORMAT:
        raise ValueError(f"format is not {FORMAT}")
    base = _obj(top["base"], ("id", "sequence", "manifest_sha256"), "base")
    manifest = _obj(top["manifest"], ("offset", "size"), "manifest")
    signatures = []
    for item in _list(top["signatures"], "signatures"):
        blob = _obj(item, ("name", "offset", "size"), "signature")
        name = _str(blob["name"], "signature name")
        if not SIGNATURES_DIR_ENTRY.fullmatch(name):
            raise ValueError(f"signature name {name!r} is not <key id>.minisig")
        size = _int(blob["size"], "signature size")
        if size > SIGNATURE_MAX_BYTES:
            raise ValueError(f"signature {name} larger than {SIGNATURE_MAX_BYTES} bytes")
        signatures.append(Blob(name, _int(blob["offset"], "offset"), size))
    records = []
    for item in _list(top["files"], "files"):
        kind = item.get("kind") if isinstance(item, dict) else None
        if kind == "copy":
            fields = _obj(item, ("path", "kind", "from"), "copy record")
            records.append(Record(_safe_path(fields["path"], "path"), "copy", source=_safe_path(fields["from"], "from")))
        elif kind == "derived":
            fields = _obj(item, ("path", "kind", "layout", "payloads"), "derived record")
            if fields["layout"] != DERIVED_LAYOUT:
                raise ValueError(f"a derived record's layout is not {DERIVED_LAYOUT}")
            records.append(Record(_safe_path(fields["path"], "path"), "derived",
                                  payloads=_derived_payloads(fields["payloads"])))
        elif kind in ("data", "patch"):
            fields = _obj(item, ("path", "kind", "offset", "size", "xz"), f"{kind} record")
            if not isinstance(fields["xz"], bool):
                raise ValueError("xz is not true or false")
            records.append(Record(_safe_path(fields["path"], "path"), str(kind),
                                  _int(fields["offset"], "offset"), _int(fields["size"], "size"), xz=fields["xz"]))
        else:
            raise ValueError("a file record's kind is not data, patch, copy or derived")
    removed = [_safe_path(path, "removed path") for path in _list(top["removed"], "removed")]
    digest = _str(base["manifest_sha256"], "base manifest_sha256")
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError("base manifest_sha256 is not 64 lower-case hex digits")
    manifest_size = _int(manifest["size"], "manifest size")
    if manifest_size > MANIFEST_MAX_BYTES:
        raise ValueError("manifest larger than allowed")
    return DeltaHeader(
        base_id=_str(base["id"], "base id"),
        base_sequence=_int(base["sequence"], "base sequence"),
        base_manifest_sha256=digest,
        target_sequence=_int(top["target_sequence"], "target_sequence"),
        manifest=Blob("manifest.json", _int(manifest["offset"], "manifest offset"), manifest_size),
        signatures=signatures,
        records=records,
        removed=removed,
    )


def _derived_payloads(value: object) -> tuple[tuple[str, int], ...]:
    items = _list(value, "payloads")
    if len(items) > DERIVED_PAYLOADS_MAX:
        raise ValueError("a derived record lists too many payloads")
    payloads = []
    for item in items:
        pair = _list(item, "payload")
        if len(pair) != 2:
            raise ValueError("a payload is not [name, length]")
        payloads.append((_str(pair[0], "payload name"), _int(pair[1], "payload length")))
    if len({name for name, _length in payloads}) != len(payloads):
        raise ValueError("a derived record lists a payload twice")
    return tuple(payloads)


def read_blob(handle: BinaryIO, header: DeltaHeader, offset: int, size: int) -> bytes:
    handle.seek(header.body_start + offset)
    data = handle.read(size)
    if len(data) != size:
        raise DeltaError("truncated: a record reaches past the end of the file")
    return data


def unxz_stream(chunks: Iterable[bytes], limit: int) -> Iterator[bytes]:
    """Decompress an xz stream chunk by chunk, never past LIMIT bytes (a small record must not
    unpack into gigabytes); the caller checks the total against the manifest."""
    decompressor = lzma.LZMADecompressor(format=lzma.FORMAT_XZ, memlimit=XZ_MEMLIMIT)
    produced = 0
    try:
        for chunk in chunks:
            data = decompressor.decompress(chunk, max_length=limit - produced + 1)
            while True:
                produced += len(data)
                if produced > limit:
                    raise DeltaError("an xz record unpacks to more than the manifest says")
                yield data
                if decompressor.eof or decompressor.needs_input:
                    break
                data = decompressor.decompress(b"", max_length=limit - produced + 1)
        if not decompressor.eof:
            raise DeltaError("an xz record is truncated")
    except lzma.LZMAError as err:
        raise DeltaError(f"an xz record is damaged: {err}") from None


def stream_blob(handle: BinaryIO, header: DeltaHeader, offset: int, size: int) -> Iterator[bytes]:
    """A record's bytes in chunks of at most CHUNK (memory does not grow with the file)."""
    handle.seek(header.body_start + offset)
    left = size
    while left:
        chunk = handle.read(min(CHUNK, left))
        if not chunk:
            raise DeltaError("truncated: a record reaches past the end of the file")
        left -= len(chunk)
        yield chunk

