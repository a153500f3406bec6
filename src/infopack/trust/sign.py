"""What is signed and how: the manifest (FORMAT.md section 6) and minisign signatures (section 10).

The manifest is the one file a signature covers; it lists every other file with its size and
SHA-256. A signature is a minisign "ED" signature (Ed25519 over BLAKE2b-512 of the manifest
bytes) plus a trusted comment that binds it to one release of one bundle:

    infopack/1 id=<bundle id> seq=<sequence> created=<YYYY-MM-DD>[ expires=<YYYY-MM-DD>]

Parsers here are strict and raise InfopackError; they are also what the verifier uses, so the
signer and the verifier cannot disagree about what a file means.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nacl.exceptions

from infopack.errors import InfopackError, ProblemList
from infopack.format.names import check_bundle_path, collision_key, find_collisions
from infopack.trust.keys import (
    KEY_ID_BYTES,
    UNTRUSTED_PREFIX,
    PublicKey,
    SecretKey,
    check_comment,
    decode_base64_exact,
    key_id_hex,
    split_text_lines,
)

FORMAT_VERSION = "infopack/1"
MANIFEST_NAME = "manifest.json"
SHA256SUMS_NAME = "SHA256SUMS"
SIGNATURES_DIR = "signatures"
SIGNATURE_SUFFIX = ".minisig"

# A manifest of a million files is ~120 MB; 64 MiB covers any real bundle (~500k files) while
# stopping an "endless data" manifest from exhausting memory before its signature is checked.
MANIFEST_MAX_BYTES = 64 * 1024 * 1024
SIGNATURE_MAX_BYTES = 4096
FAT32_MAX_FILE_BYTES = 0xFFFFFFFF

SIGNATURE_ALGORITHM_PREHASHED = b"ED"  # minisign: Ed25519 over BLAKE2b-512 of the data
SIGNATURE_ALGORITHM_LEGACY = b"Ed"  # minisign: Ed25519 over the data itself; not accepted
ED25519_SIGNATURE_BYTES = 64
SIGNATURE_BLOB_BYTES = 2 + KEY_ID_BYTES + ED25519_SIGNATURE_BYTES  # 74
TRUSTED_PREFIX = "trusted comment: "

BUNDLE_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
SHA256_HEX = re.compile(r"[0-9a-f]{64}")
BUNDLE_KEYS = ("id", "title", "description", "lang", "sequence", "created", "publisher")
_FORMAT_LINE = f'"format": "{FORMAT_VERSION}",'
_FILES_OPEN = '"files": ['
_FIRST_FILE_LINE = 5  # 1-based line number of the first files entry
MAX_REPORTED_ENTRY_PROBLEMS = 100
FILE_KEYS = ("path", "size", "sha256")


def parse_date(text: str) -> dt.date | None:
    """A strict YYYY-MM-DD date, or None."""
    if not isinstance(text, str) or not ISO_DATE.fullmatch(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def is_plain_int(value: object) -> bool:
    # JSON true/false arrive as bool, which Python counts as int.
    return isinstance(value, int) and not isinstance(value, bool)


# ----------------------------------------------------------------------------- manifest


@dataclass(frozen=True)
class BundleInfo:
    id: str
    title: str
    description: str
    lang: str
    sequence: int
    created: str
    publisher: str = ""


@dataclass(frozen=True)
class FileEntry:
    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    bundle: BundleInfo
    files: tuple[FileEntry, ...]


def _json_string(value: str) -> str:
    # ensure_ascii=False: JSON escapes only where JSON requires them, UTF-8 otherwise.
    return json.dumps(value, ensure_ascii=False)


def _bundle_line(info: BundleInfo) -> str:
    fields = ", ".join(
        f"{_json_string(key)}: {json.dumps(getattr(info, key), ensure_ascii=False)}"
        for key in BUNDLE_KEYS
    )
    return f'"bundle": {{{fields}}},'


def _file_line(entry: FileEntry) -> str:
    """One entry without its separating comma."""
    return f'{{"path": {_json_string(entry.path)}, "size": {entry.size}, "sha256": "{entry.sha256}"}}'


def render_manifest(manifest: Manifest) -> bytes:
    """The exact bytes of manifest.json (section 6.1); files are sorted here."""
    entries = sorted(manifest.files, key=lambda entry: entry.path.encode("utf-8"))
    file_lines = ",\n".join(_file_line(entry) for entry in entries)
    text = (
        f"{{\n{_FORMAT_LINE}\n{_bundle_line(manifest.bundle)}\n{_FILES_OPEN}\n"
        + (file_lines + "\n" if file_lines else "")
        + "]\n}\n"
    )
    return text.encode("utf-8")


def render_sha256sums(manifest: Manifest) -> bytes:
    """SHA256SUMS (section 6.3): every manifest entry except SHA256SUMS itself, same order."""
    lines = [
        f"{entry.sha256}  {entry.path}\n"
        for entry in sorted(manifest.files, key=lambda entry: entry.path.encode("utf-8"))
        if entry.path != SHA256SUMS_NAME
    ]
    return "".join(lines).encode("utf-8")


class _DuplicateKey(ValueError):
    pass


def _object_without_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    # Two parsers that keep different copies of a repeated key would read one signed manifest
    # two ways; refuse the ambiguity instead.
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(f"duplicate key {key!r}")
        result[key] = value
    return result


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _load_strict_json(data: bytes) -> object:
    return json.loads(
        data.decode("utf-8"),
        object_pairs_hook=_object_without_duplicates,
        parse_constant=_refuse_constant,
    )


def _check_keys(
    obj: object, expected: tuple[str, ...], what: str, problems: ProblemList, line: int
) -> bool:
    if not isinstance(obj, dict):
        problems.add(MANIFEST_NAME, f"{what} must be an object", line)
        return False
    if tuple(obj) != expected:
        problems.add(MANIFEST_NAME, f"{what} must have exactly the keys {', '.join(expected)}", line)
        return False
    return True


def _parse_bundle_info(obj: object, problems: ProblemList) -> BundleInfo | None:
    line = 3
    if not _check_keys(obj, BUNDLE_KEYS, "bundle", problems, line):
        return None
    assert isinstance(obj, dict)
    before = len(problems.items)
    for key in ("id", "title", "description", "lang", "created", "publisher"):
        if not isinstance(obj[key], str):
            problems.add(MANIFEST_NAME, f"bundle.{key} must be a string", line)
    if isinstance(obj["id"], str) and not BUNDLE_ID.fullmatch(obj["id"]):
        problems.add(MANIFEST_NAME, "bundle.id must match [a-z0-9][a-z0-9-]{0,63}", line)
    if not is_plain_int(obj["sequence"]) or obj["sequence"] < 1:
        problems.add(MANIFEST_NAME, "bundle.sequence must be an integer >= 1", line)
    if isinstance(obj["created"], str) and parse_date(obj["created"]) is None:
        problems.add(MANIFEST_NAME, "bundle.created must be a date YYYY-MM-DD", line)
    if len(problems.items) > before:
        return None
    return BundleInfo(**{key: obj[key] for key in BUNDLE_KEYS})


def _parse_file_entry(obj: object, line: int, problems: ProblemList) -> FileEntry | None:
    if not _check_keys(obj, FILE_KEYS, "file entry", problems, line):
        return None
    assert isinstance(obj, dict)
    path, size, digest = obj["path"], obj["size"], obj["sha256"]
    if not isinstance(path, str):
        problems.add(MANIFEST_NAME, "path must be a string", line)
        return None
    problem = check_bundle_path(path)
    # Compared as FAT compares names: a listed `MANIFEST.JSON` would overwrite the manifest
    # when the bundle is copied onto a card.
    if problem is None and (
        collision_key(path) == MANIFEST_NAME or collision_key(path.split("/")[0]) == SIGNATURES_DIR
    ):
        problem = "manifest.json and signatures/ are never listed"
    if problem is not None:
        shown = repr(path) if len(path) <= 200 else repr(path[:200]) + "…"
        problems.add(MANIFEST_NAME, f"{problem}: {shown}", line)
        return None
    if not is_plain_int(size) or not 0 <= size <= FAT32_MAX_FILE_BYTES:
        problems.add(MANIFEST_NAME, f"size must be an integer 0..{FAT32_MAX_FILE_BYTES}", line)
        return None
    if not isinstance(digest, str) or not SHA256_HEX.fullmatch(digest):
        problems.add(MANIFEST_NAME, "sha256 must be 64 lower-case hex digits", line)
        return None
    return FileEntry(path, size, digest)


def _check_file_list(entries: list[FileEntry], problems: ProblemList) -> None:
    previous = b""
    for entry in entries:
        key = entry.path.encode("utf-8")
        if key <= previous:
            problems.add(MANIFEST_NAME, f"files not sorted or repeated at {entry.path!r}")
            break
        previous = key
    for first, second in find_collisions(entry.path for entry in entries):
        problems.add(MANIFEST_NAME, f"names collide under case folding/NFC: {first!r} and {second!r}")
    if SHA256SUMS_NAME not in {entry.path for entry in entries}:
        problems.add(MANIFEST_NAME, f"{SHA256SUMS_NAME} is not listed")


class _NotCanonical(ValueError):
    pass


_LAYOUT_HEAD = b"{\n"
_LAYOUT_TAIL = b"\n]\n}\n"


def _lines_between(data: bytes, start: int, end: int) -> Iterator[str]:
    """Decoded lines of data[start:end], one at a time (no list of every line)."""
    while start <= end:
        stop = data.find(b"\n", start, end)
        stop = end if stop < 0 else stop
        yield data[start:stop].decode("utf-8")  # UnicodeDecodeError is a ValueError
        start = stop + 1


def _split_layout(data: bytes) -> tuple[str, str, Iterator[tuple[int, str]]]:
    """(format line, bundle line, numbered file lines without commas) of the layout of 6.1.

    The manifest is read line by line so memory stays near the size of the result: one small
    JSON object at a time, never a parsed document of every entry at once.
    """
    if not data.startswith(_LAYOUT_HEAD) or not data.endswith(_LAYOUT_TAIL):
        raise _NotCanonical("must start with '{' and end with ']' and '}' on their own lines")
    lines = _lines_between(data, len(_LAYOUT_HEAD), len(data) - len(_LAYOUT_TAIL))
    format_line, bundle_line, files_open = (next(lines, "") for _ in range(3))
    if files_open != _FILES_OPEN:
        raise _NotCanonical(f"line 4 must be {_FILES_OPEN!r}")
    return format_line, bundle_line, _file_lines(lines)


def _file_lines(lines: Iterator[str]) -> Iterator[tuple[int, str]]:
    """Entries with their line numbers; every entry but the last ends with a comma."""
    previous = next(lines, None)
    number = _FIRST_FILE_LINE
    for line in lines:
        if not previous or not previous.endswith(","):
            raise _NotCanonical(f"line {number}: entry must end with ','")
        yield number, previous[:-1]
        previous, number = line, number + 1
    if previous is not None:
        yield number, previous


def _load_line(text: str, line: int, problems: ProblemList) -> object | None:
    try:
        return _load_strict_json(text.encode("utf-8"))
    except RecursionError:
        problems.add(MANIFEST_NAME, "JSON nested too deeply", line)
    except ValueError as err:  # JSONDecodeError, duplicates, huge ints, NaN
        problems.add(MANIFEST_NAME, f"not valid JSON: {str(err)[:120]}", line)
    return None


def parse_manifest(data: bytes) -> Manifest:
    """Parse and check manifest.json; InfopackError listing every problem otherwise.

    Only call this on bytes whose signature has been checked: it is the verifier's rule that
    nothing unsigned is parsed.
    """
    problems = ProblemList()
    try:
        return _parse_manifest_lines(data, problems)
    except ValueError as err:  # bad layout or UTF-8, found while reading lines
        problems.add(MANIFEST_NAME, f"not in the canonical form of section 6.1: {err}")
        raise InfopackError(problems.items) from None


def _parse_manifest_lines(data: bytes, problems: ProblemList) -> Manifest:
    format_line, bundle_line, file_lines = _split_layout(data)
    if format_line != _FORMAT_LINE:
        # The format fixes the hash algorithm; an input naming anything else is refused.
        problems.add(MANIFEST_NAME, f"format line must be exactly {_FORMAT_LINE!r}", 2)
    bundle = None
    if not bundle_line.startswith('"bundle": ') or not bundle_line.endswith(","):
        problems.add(MANIFEST_NAME, "expected the bundle object", 3)
    else:
        bundle_object = _load_line(bundle_line[len('"bundle": ') : -1], 3, problems)
        bundle = None if bundle_object is None else _parse_bundle_info(bundle_object, problems)
        if bundle is not None and _bundle_line(bundle) != bundle_line:
            problems.add(MANIFEST_NAME, "bundle not written in canonical form (section 6.1)", 3)
    files = []
    for number, text in file_lines:
        if len(problems.items) > MAX_REPORTED_ENTRY_PROBLEMS:
            problems.add(MANIFEST_NAME, "too many problems; stopped reading")
            break
        obj = _load_line(text, number, problems)
        entry = None if obj is None else _parse_file_entry(obj, number, problems)
        if entry is not None and _file_line(entry) != text:
            problems.add(MANIFEST_NAME, "entry not written in canonical form (section 6.1)", number)
        elif entry is not None:
            files.append(entry)
    _check_file_list(files, problems)
    problems.raise_if_any()
    assert bundle is not None
    return Manifest(bundle, tuple(files))


def read_manifest_bytes(bundle_dir: Path) -> bytes:
    """The raw bytes of BUNDLE/manifest.json: a regular file (not a symlink), size-limited."""
    path = bundle_dir / MANIFEST_NAME
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode):
            raise InfopackError("is not a regular file", MANIFEST_NAME)
        if info.st_size > MANIFEST_MAX_BYTES:
            raise InfopackError(f"larger than {MANIFEST_MAX_BYTES} bytes", MANIFEST_NAME)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as handle:
            data = handle.read(MANIFEST_MAX_BYTES + 1)
    except FileNotFoundError:
        raise InfopackError("missing", MANIFEST_NAME) from None
    except OSError as err:
        raise InfopackError(f"cannot read: {err.strerror or err}", MANIFEST_NAME) from None
    if len(data) > MANIFEST_MAX_BYTES:
        raise InfopackError(f"larger than {MANIFEST_MAX_BYTES} bytes", MANIFEST_NAME)
    return data


def _hash_file(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def write_manifest(bundle_dir: Path, info: BundleInfo) -> Manifest:
    """List every file of BUNDLE, write SHA256SUMS and manifest.json, return the manifest.

    For the bundle writer (and tests): call it last, once every other file is in place.
    """
    entries = []
    for root, dirs, files in os.walk(bundle_dir):
        relative_root = Path(root).relative_to(bundle_dir).as_posix()
        prefix = "" if relative_root == "." else relative_root + "/"
        if not prefix:
            dirs[:] = [d for d in dirs if d != SIGNATURES_DIR]
        for name in files:
            path = prefix + name
            if path not in (MANIFEST_NAME, SHA256SUMS_NAME):
                full = Path(root) / name
                entries.append(FileEntry(path, full.stat().st_size, _hash_file(full)))
    listed = Manifest(info, tuple(entries))
    sums = render_sha256sums(listed)
    (bundle_dir / SHA256SUMS_NAME).write_bytes(sums)
    sums_entry = FileEntry(SHA256SUMS_NAME, len(sums), hashlib.sha256(sums).hexdigest())
    manifest = Manifest(
        info, tuple(sorted([*entries, sums_entry], key=lambda e: e.path.encode("utf-8")))
    )
    (bundle_dir / MANIFEST_NAME).write_bytes(render_manifest(manifest))
    return manifest


# ----------------------------------------------------------------------------- trusted comment


@dataclass(frozen=True)
class TrustedComment:
    """The signed statement: which bundle, which release, and until when the signer vouches."""

    bundle_id: str
    sequence: int
    created: str
    expires: str | None = None

    def to_text(self) -> str:
        text = f"{FORMAT_VERSION} id={self.bundle_id} seq={self.sequence} created={self.created}"
        return text + (f" expires={self.expires}" if self.expires else "")

    @classmethod
    def for_manifest(cls, manifest: Manifest, expires: str | None = None) -> TrustedComment:
        info = manifest.bundle
        return cls(info.id, info.sequence, info.created, expires)

    def mismatch(self, manifest: Manifest) -> str | None:
        """Why this comment does not describe `manifest` (a mix-and-match), or None."""
        info = manifest.bundle
        for name, signed, listed in (
            ("id", self.bundle_id, info.id),
            ("seq", self.sequence, info.sequence),
            ("created", self.created, info.created),
        ):
            if signed != listed:
                return f"signed {name}={signed} but the manifest says {listed}"
        return None


_TRUSTED_COMMENT = re.compile(
    re.escape(FORMAT_VERSION)
    + r" id=(?P<id>[a-z0-9][a-z0-9-]{0,63}) seq=(?P<seq>[1-9][0-9]{0,17})"
    r" created=(?P<created>[0-9-]{10})(?: expires=(?P<expires>[0-9-]{10}))?"
)


def parse_trusted_comment(text: str) -> TrustedComment:
    """Parse a verified trusted comment; ValueError when it is not an infopack/1 comment."""
    match = _TRUSTED_COMMENT.fullmatch(text)
    if not match:
        raise ValueError(f"trusted comment is not '{FORMAT_VERSION} id=… seq=… created=…'")
    for name in ("created", "expires"):
        if match[name] is not None and parse_date(match[name]) is None:
            raise ValueError(f"trusted comment has a bad {name} date")
    return TrustedComment(match["id"], int(match["seq"]), match["created"], match["expires"])


# ----------------------------------------------------------------------------- signature files


@dataclass(frozen=True)
class SignatureFile:
    """A minisign signature file: four lines, of which the last three are signed."""

    key_id: bytes
    signature: bytes
    trusted_comment: str
    global_signature: bytes
    untrusted_comment: str = ""

    @property
    def key_id_hex(self) -> str:
        return key_id_hex(self.key_id)

    def to_bytes(self) -> bytes:
        blob = SIGNATURE_ALGORITHM_PREHASHED + self.key_id + self.signature
        untrusted = self.untrusted_comment or f"infopack signature from key {self.key_id_hex}"
        return (
            f"{UNTRUSTED_PREFIX}{untrusted}\n"
            f"{base64.b64encode(blob).decode()}\n"
            f"{TRUSTED_PREFIX}{self.trusted_comment}\n"
            f"{base64.b64encode(self.global_signature).decode()}\n"
        ).encode()


def parse_signature_file(data: bytes, source: str) -> SignatureFile:
    """Parse a minisign signature strictly: no CR or control characters, exact lengths."""
    try:
        if len(data) > SIGNATURE_MAX_BYTES:
            raise ValueError(f"signature file larger than {SIGNATURE_MAX_BYTES} bytes")
        lines = split_text_lines(data, "signature file")
        if len(lines) != 4:
            raise ValueError(f"signature file has {len(lines)} lines, expected 4")
        untrusted_line, blob_line, trusted_line, global_line = lines
        if not untrusted_line.startswith(UNTRUSTED_PREFIX):
            raise ValueError("line 1 must start with 'untrusted comment: '")
        if not trusted_line.startswith(TRUSTED_PREFIX):
            raise ValueError("line 3 must start with 'trusted comment: '")
        untrusted = untrusted_line[len(UNTRUSTED_PREFIX) :]
        trusted = trusted_line[len(TRUSTED_PREFIX) :]
        for text, what in ((untrusted, "untrusted comment"), (trusted, "trusted comment")):
            problem = check_comment(text, what)
            if problem:
                raise ValueError(problem)
        blob = decode_base64_exact(blob_line, SIGNATURE_BLOB_BYTES, "signature")
        if blob[:2] == SIGNATURE_ALGORITHM_LEGACY:
            raise ValueError("legacy (non-prehashed) minisign signature; sign with 'ED'")
        if blob[:2] != SIGNATURE_ALGORITHM_PREHASHED:
            raise ValueError("unknown signature algorithm")
        global_signature = decode_base64_exact(
            global_line, ED25519_SIGNATURE_BYTES, "trusted comment signature"
        )
    except ValueError as err:
        raise InfopackError(str(err), source) from None
    return SignatureFile(
        key_id=blob[2:10],
        signature=blob[10:],
        trusted_comment=trusted,
        global_signature=global_signature,
        untrusted_comment=untrusted,
    )


def prehash(data: bytes) -> bytes:
    """minisign's prehash: BLAKE2b-512 of the signed file."""
    return hashlib.blake2b(data, digest_size=64).digest()


def sign_manifest(manifest_bytes: bytes, secret: SecretKey, trusted_comment: str) -> SignatureFile:
    """A minisign "ED" signature over `manifest_bytes` with a signed trusted comment."""
    problem = check_comment(trusted_comment, "trusted comment")
    if problem:
        raise InfopackError(problem, "sign")
    signing_key = secret.signing_key()
    signature = signing_key.sign(prehash(manifest_bytes)).signature
    global_signature = signing_key.sign(signature + trusted_comment.encode()).signature
    return SignatureFile(secret.key_id, signature, trusted_comment, global_signature)


def check_signature(manifest_digest: bytes, sig: SignatureFile, key: PublicKey) -> str | None:
    """Why `sig` is not `key`'s valid signature over the data with BLAKE2b-512 `manifest_digest`.

    Both signatures must hold, as in minisign: the one over the data and the one over
    (signature || trusted comment), so the comment cannot be swapped.
    """
    if sig.key_id != key.key_id:
        return "signature key ID does not match the key"
    verify_key = key.verify_key()
    try:
        verify_key.verify(manifest_digest, sig.signature)
    except (nacl.exceptions.CryptoError, ValueError):
        return "signature does not match the manifest"
    try:
        verify_key.verify(sig.signature + sig.trusted_comment.encode(), sig.global_signature)
    except (nacl.exceptions.CryptoError, ValueError):
        return "trusted comment signature does not match"
    return None


# ----------------------------------------------------------------------------- signing a bundle


def signature_file_name(key_id: bytes) -> str:
    return f"{key_id_hex(key_id)}{SIGNATURE_SUFFIX}"


def _set_created_time(path: Path, created: str) -> None:
    # Section 6.2: bundle files carry the content's date, not the build machine's clock.
    moment = dt.datetime.combine(parse_date(created) or dt.date(1980, 1, 1), dt.time(), dt.UTC)
    stamp = moment.timestamp()
    os.utime(path, (stamp, stamp))


def _write_atomically(path: Path, data: bytes) -> None:
    """Readers see the old file or the new one, never a part: write beside, flush, rename, and
    flush the folder so the rename itself survives a power cut. A failed write leaves no
    temporary file in signatures/, where verify would meet it."""
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)


def _fsync_folder(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot flush a folder; the file itself is already on disk
    finally:
        os.close(fd)


def sign_bundle(
    bundle_dir: Path,
    secret_key: SecretKey,
    *,
    signature_out: Path | None = None,
    expires: str | None = None,
) -> Path:
    """Sign BUNDLE/manifest.json; return the signature file written.

    By default the signature goes to BUNDLE/signatures/<key id>.minisig (a second key adds a
    co-signature beside it); `signature_out` writes it elsewhere so the readers' copy need not
    carry any key ID. The manifest must parse: a signer never vouches for a malformed one.
    """
    if expires is not None and parse_date(expires) is None:
        raise InfopackError(f"expiry date must be YYYY-MM-DD, got {expires!r}", "sign")
    if not bundle_dir.is_dir():
        raise InfopackError("bundle is not a directory", bundle_dir)
    manifest_bytes = read_manifest_bytes(bundle_dir)
    manifest = parse_manifest(manifest_bytes)
    comment = TrustedComment.for_manifest(manifest, expires).to_text()
    signature = sign_manifest(manifest_bytes, secret_key, comment)
    if signature_out is not None:
        _write_atomically(signature_out, signature.to_bytes())
        return signature_out
    directory = bundle_dir / SIGNATURES_DIR
    if not directory.is_dir():
        directory.mkdir()
        _fsync_folder(bundle_dir)  # the new signatures/ entry, before a signature is put in it
    target = directory / signature_file_name(secret_key.key_id)
    _write_atomically(target, signature.to_bytes())
    _set_created_time(target, manifest.bundle.created)
    _set_created_time(directory, manifest.bundle.created)
    return target
