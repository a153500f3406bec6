"""`infopack verify`: is this directory exactly the bundle its trusted signers released?

Order matters (FORMAT.md section 10.4):
1. read manifest.json as bytes (size-limited) and check signatures over those raw bytes;
   nothing is parsed or acted on until enough distinct trusted keys have signed them;
2. parse the manifest strictly and check each signature's trusted comment names this bundle,
   sequence and date (mix-and-match), the sequence against the rollback state, the expiry;
3. walk the directory without following links, compare it with the manifest and stream every
   listed file through SHA-256 on a thread pool.
Every problem is collected; the report lists all of them.

This module shares no state with `build`: it imports only the format's own parsers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import stat
import sys
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Self

from infopack.atomic import write_file_atomically
from infopack.errors import EXIT_FAILED, EXIT_OK, InfopackError, UsageProblem
from infopack.format.constants import (
    MANIFEST_NAME,
    SHA256SUMS_NAME,
    SIGNATURE_NAME,
    SIGNATURES_DIR,
)
from infopack.format.manifest import (
    BundleInfo,
    FileEntry,
    Manifest,
    parse_date,
    parse_manifest,
    render_sha256sums,
)
from infopack.format.names import (
    auto_acted_reason,
    check_bundle_path,
    collision_key,
    housekeeping_root,
    is_housekeeping_dir,
    undecodable_reason,
)
from infopack.trust.keys import MissingFile, PublicKey, open_regular_file
from infopack.trust.sign import read_manifest_bytes
from infopack.trust.signature import (
    SIGNATURE_MAX_BYTES,
    SignatureFile,
    TrustedComment,
    check_signature,
    parse_signature_file,
    parse_trusted_comment,
    prehash,
    signature_file_name,
)

HASH_CHUNK_BYTES = 1024 * 1024
# Small files are hashed in batches so a bundle of 100k tiny files does not pay a thread-pool
# round trip per file.
BATCH_MAX_FILES = 256
BATCH_MAX_BYTES = 8 * HASH_CHUNK_BYTES
STATE_FORMAT = "infopack-verify-state/1"
STATE_MAX_BYTES = 16 * 1024 * 1024
# The text report names at most this many housekeeping items; --json lists all of them (a Mac
# writes a `._` file beside every file it touched, so there can be thousands).
HOUSEKEEPING_SHOWN = 10




def displayable(path: str) -> str:
    """A file name as it may be shown: a hostile name with a newline could otherwise forge an
    "OK" line in the report, and undecodable bytes could not be printed or put in JSON."""
    return path if path.isprintable() else ascii(path)


@dataclass(frozen=True)
class Finding:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(frozen=True)
class SignatureResult:
    source: str
    key_id: str | None
    status: str  # valid | invalid | untrusted-key | malformed | wrong-bundle | duplicate
    detail: str = ""
    # Shown only once the signature over it has verified.
    trusted_comment: str | None = None


@dataclass
class VerifyReport:
    bundle_dir: str
    threshold: int
    problems: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    signatures: list[SignatureResult] = field(default_factory=list)
    signed_by: list[str] = field(default_factory=list)  # key IDs counted toward the threshold
    bundle: BundleInfo | None = None
    # Unlisted files and folders an operating system wrote by itself (names.housekeeping_root):
    # reported on their own, never a problem.
    housekeeping: set[str] = field(default_factory=set)
    files_checked: int = 0
    bytes_checked: int = 0

    def add_error(self, err: InfopackError) -> None:
        for problem in err.problems:
            where = f"{problem.path}:{problem.line}" if problem.line else problem.path
            self.problem(where, problem.message)

    def problem(self, path: str, message: str) -> None:
        self.problems.append(Finding(displayable(path), message))

    def warn(self, path: str, message: str) -> None:
        self.warnings.append(Finding(displayable(path), message))

    @property
    def ok(self) -> bool:
        return not self.problems and len(self.signed_by) >= self.threshold

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.ok else EXIT_FAILED

    def to_json(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "exit_code": self.exit_code,
            "bundle_dir": self.bundle_dir,
            "bundle": asdict(self.bundle) if self.bundle else None,
            "threshold": self.threshold,
            "signed_by": list(self.signed_by),
            "signatures": [asdict(result) for result in self.signatures],
            "problems": [asdict(finding) for finding in self.problems],
            "warnings": [asdict(finding) for finding in self.warnings],
            "housekeeping": self.housekeeping_shown(),
            "files_checked": self.files_checked,
            "bytes_checked": self.bytes_checked,
        }

    def housekeeping_shown(self) -> list[str]:
        return [displayable(path) for path in sorted(self.housekeeping)]

    def to_text(self) -> str:
        lines = []
        for result in self.signatures:
            line = f"signature {result.source}: {result.status}"
            line += f" (key {result.key_id})" if result.key_id else ""
            line += f": {result.detail}" if result.detail else ""
            if result.trusted_comment is not None:
                line += f"\n  trusted comment: {result.trusted_comment}"
            lines.append(line)
        lines += [f"warning: {finding}" for finding in self.warnings]
        if self.housekeeping:
            shown = self.housekeeping_shown()
            more = len(shown) - HOUSEKEEPING_SHOWN
            listed = ", ".join(shown[:HOUSEKEEPING_SHOWN]) + (f" and {more} more" if more > 0 else "")
            lines.append(f"housekeeping written by an operating system: {listed}; ignored")
        lines += [f"error: {finding}" for finding in self.problems]
        signed = f"signed by {len(self.signed_by)} trusted key(s), {self.threshold} required"
        if self.ok and self.bundle is not None:
            info = self.bundle
            lines.append(
                f"OK: {info.id} sequence {info.sequence} created {info.created}: "
                f"{self.files_checked} files, {self.bytes_checked} bytes checked, {signed}"
            )
        else:
            lines.append(f"FAILED: {len(self.problems)} problem(s); {signed}")
        return "\n".join(lines)


# ----------------------------------------------------------------------------- signatures


def _read_detached_signature(path: Path) -> bytes:
    try:
        # A FIFO is refused rather than read forever; one byte over the limit is read so the
        # parser reports an oversized file as a malformed signature.
        with open_regular_file(path, "signature") as handle:
            return handle.read(SIGNATURE_MAX_BYTES + 1)
    except InfopackError as err:
        raise UsageProblem(err.problems[0].message, path) from None
    except OSError as err:
        raise UsageProblem(f"cannot read signature: {err.strerror or err}", path) from None


def _bundle_signature_files(bundle_dir: Path, report: VerifyReport) -> list[tuple[str, bytes]]:
    """Signature files kept in BUNDLE/signatures/: regular files named <key id>.minisig."""
    directory = bundle_dir / SIGNATURES_DIR
    try:
        info = os.lstat(directory)
    except FileNotFoundError:
        return []
    if not stat.S_ISDIR(info.st_mode):
        report.problem(SIGNATURES_DIR, "is not a directory")
        return []
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError as err:
        report.problem(SIGNATURES_DIR, f"cannot list directory: {err.strerror or err}")
        return []
    found = []
    for entry in entries:
        relative = f"{SIGNATURES_DIR}/{entry.name}"
        if not entry.is_file(follow_symlinks=False):
            report.problem(relative, "not a regular file (symlinks and directories are refused)")
        elif not SIGNATURE_NAME.fullmatch(entry.name):
            if _is_harmless_housekeeping(relative):
                # Finder's .DS_Store, or the ._ file a Mac writes beside a signature it copied.
                report.housekeeping.add(relative)
            else:
                report.problem(relative, "unexpected file in signatures/ (expected <key id>.minisig)")
        else:
            try:
                with open(entry.path, "rb") as handle:
                    found.append((relative, handle.read(SIGNATURE_MAX_BYTES + 1)))
            except OSError as err:
                report.problem(relative, f"cannot read: {err.strerror or err}")
    return found


def _is_harmless_housekeeping(path: str) -> bool:
    return housekeeping_root(path) == path and not any(
        check(path) for check in (undecodable_reason, check_bundle_path, auto_acted_reason)
    )


@dataclass(frozen=True)
class _ValidSignature:
    key: PublicKey
    comment: TrustedComment
    result_index: int


def _check_one_signature(
    source: str,
    data: bytes,
    digest: bytes,
    keys_by_id: dict[bytes, list[PublicKey]],
    report: VerifyReport,
) -> tuple[PublicKey, TrustedComment] | None:
    try:
        sig: SignatureFile = parse_signature_file(data, source)
    except InfopackError as err:
        message = err.problems[0].message
        report.signatures.append(SignatureResult(source, None, "malformed", message))
        report.problem(source, f"malformed signature: {message}")
        return None
    if source.startswith(f"{SIGNATURES_DIR}/") and source != (
        f"{SIGNATURES_DIR}/{signature_file_name(sig.key_id)}"
    ):
        report.problem(source, f"file name does not match its key ID {sig.key_id_hex}")
    candidates = keys_by_id.get(sig.key_id, [])
    if not candidates:
        # Key IDs are hints: an unknown one may be a partner's co-signature. It counts for nothing.
        report.signatures.append(SignatureResult(source, sig.key_id_hex, "untrusted-key"))
        report.warn(source, f"signed by key {sig.key_id_hex}, which is not trusted; ignored")
        return None
    failures = [check_signature(digest, sig, key) for key in candidates]
    key = next((k for k, failure in zip(candidates, failures) if failure is None), None)
    if key is None:
        report.signatures.append(SignatureResult(source, sig.key_id_hex, "invalid", failures[0] or ""))
        report.problem(source, f"bad signature by trusted key {sig.key_id_hex}: {failures[0]}")
        return None
    try:
        comment = parse_trusted_comment(sig.trusted_comment)
    except ValueError as err:
        report.signatures.append(
            SignatureResult(source, sig.key_id_hex, "wrong-bundle", str(err), sig.trusted_comment)
        )
        report.problem(source, str(err))
        return None
    report.signatures.append(SignatureResult(source, sig.key_id_hex, "valid", "", sig.trusted_comment))
    return key, comment


def _check_signatures(
    manifest_bytes: bytes,
    sources: Iterable[tuple[str, bytes]],
    trusted: Sequence[PublicKey],
    report: VerifyReport,
) -> list[_ValidSignature]:
    """Cryptographically valid signatures by trusted keys, at most one per distinct key."""
    keys_by_id: dict[bytes, list[PublicKey]] = {}
    for key in trusted:
        keys_by_id.setdefault(key.key_id, []).append(key)
    digest = prehash(manifest_bytes)
    valid: dict[bytes, _ValidSignature] = {}
    for source, data in sources:
        outcome = _check_one_signature(source, data, digest, keys_by_id, report)
        if outcome is None:
            continue
        key, comment = outcome
        if key.key in valid:
            # The same key signing twice is still one signer (a threshold counts people).
            report.signatures[-1] = SignatureResult(
                source, key.id_hex, "duplicate", "same key as an earlier signature; counted once",
                report.signatures[-1].trusted_comment,
            )
            continue
        valid[key.key] = _ValidSignature(key, comment, len(report.signatures) - 1)
    return list(valid.values())


def _bind_to_manifest(
    valid: list[_ValidSignature], manifest: Manifest, today: dt.date, report: VerifyReport
) -> None:
    """Count signatures whose trusted comment names this very release; warn on expiry."""
    for signature in valid:
        result = report.signatures[signature.result_index]
        mismatch = signature.comment.mismatch(manifest)
        if mismatch is not None:
            report.signatures[signature.result_index] = SignatureResult(
                result.source, result.key_id, "wrong-bundle", mismatch, result.trusted_comment
            )
            report.problem(result.source, f"signature is for another release: {mismatch}")
            continue
        expires = parse_date(signature.comment.expires or "")
        if expires is not None and today > expires:
            report.warn(
                result.source,
                f"signature expired on {expires} (today is {today} by this machine's clock, "
                "which may be wrong offline)",
            )
        report.signed_by.append(signature.key.id_hex)


# ----------------------------------------------------------------------------- rollback state


def _load_state(path: Path) -> dict[str, int]:
    try:
        # A FIFO or device at the state path is refused here, not read forever.
        with open_regular_file(path, "state") as handle:
            data = handle.read(STATE_MAX_BYTES + 1)
    except MissingFile:  # no state yet (or a link to a state not yet written)
        return {}
    except InfopackError as err:
        raise UsageProblem(err.problems[0].message, path) from None
    except OSError as err:
        raise UsageProblem(f"cannot read state: {err.strerror or err}", path) from None
    try:
        document = json.loads(data.decode("utf-8"))
        if len(data) > STATE_MAX_BYTES or document.get("format") != STATE_FORMAT:
            raise ValueError
        highest = document["highest_sequence"]
        if not isinstance(highest, dict) or not all(
            isinstance(value, int) and not isinstance(value, bool) for value in highest.values()
        ):
            raise ValueError
    except (ValueError, AttributeError, KeyError, TypeError, RecursionError):
        raise UsageProblem(
            "state file is damaged; refusing to guess which releases were seen", path
        ) from None
    return dict(highest)


def _state_target(path: Path) -> Path:
    """The file the state really lives in. A state path that is a symbolic link (say, to a
    shared folder) must keep being that link: the replacement is written beside its final
    target, and the target is replaced, not the link."""
    return Path(os.path.realpath(path))


class _StateLock:
    """An exclusive lock on `<state>.lock`, beside the state file, held while the state is
    re-read, merged and replaced. A separate file, because the state file itself is replaced
    by rename: a lock on it would be held on an inode that is no longer the state.

    The lock file is never written, and is opened without following a link, so one planted
    at its name can neither be written through nor make us lock someone else's file."""

    def __init__(self, target: Path) -> None:
        self.path = target.with_name(target.name + ".lock")
        self.fd = -1

    def __enter__(self) -> Self:
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            self.fd = os.open(self.path, flags, 0o644)
            if not stat.S_ISREG(os.fstat(self.fd).st_mode):
                raise UsageProblem("state lock is not a regular file", self.path)
            _lock_exclusive(self.fd)
        except OSError as err:
            self.__exit__()
            raise UsageProblem(f"cannot lock state: {err.strerror or err}", self.path) from None
        except UsageProblem:
            self.__exit__()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # closing the descriptor releases the lock
            self.fd = -1


def _lock_exclusive(fd: int) -> None:
    """Wait until no other verify is updating the state."""
    if sys.platform == "win32":
        import msvcrt

        while True:  # LK_LOCK itself gives up after about 10 s; another verify may take longer
            try:
                msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
                return
            except OSError:
                continue
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX)


def _write_state(target: Path, highest: dict[str, int]) -> None:
    """Replace TARGET atomically: a crash leaves the old state or the new one, never half.

    The temporary file has a random name and is created exclusively (mkstemp: O_EXCL), so no
    name can be predicted and a link planted at any name is never written through."""
    document = {"format": STATE_FORMAT, "highest_sequence": dict(sorted(highest.items()))}
    data = (json.dumps(document, indent=1) + "\n").encode("utf-8")
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = 0o644
    write_file_atomically(target, data, mode=mode)


def _record_sequence(state_file: Path, info: BundleInfo, report: VerifyReport) -> None:
    """After a successful verification: remember INFO's sequence for its id.

    Several verifies may run at once (a partner checking volumes in parallel). Each re-reads
    the state under the lock, so a sequence another run stored meanwhile is never lost: the
    stored value per id only ever grows. A run that finds a newer sequence stored since it
    started is a rollback like any other."""
    target = _state_target(state_file)
    try:
        with _StateLock(target):
            highest = _load_state(target)
            stored = highest.get(info.id, 0)
            if info.sequence < stored:
                report.problem(
                    MANIFEST_NAME,
                    f"rollback: sequence {info.sequence} is older than {stored}, "
                    f"already verified for {info.id}",
                )
            elif info.sequence > stored:
                _write_state(target, {**highest, info.id: info.sequence})
    except OSError as err:
        raise UsageProblem(f"cannot write state: {err.strerror or err}", state_file) from None


# ----------------------------------------------------------------------------- the directory


def scan_bundle_tree(bundle_dir: Path, report: VerifyReport) -> set[str]:
    """Relative paths of the regular files on disk, outside manifest.json and signatures/.

    Links are never followed; links, devices, FIFOs and sockets are reported, not opened.
    """
    found: set[str] = set()
    pending = [("", bundle_dir)]
    while pending:
        prefix, directory = pending.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError as err:
            report.problem(prefix or ".", f"cannot list directory: {err.strerror or err}")
            continue
        if not entries and prefix:
            top = prefix.split("/", 1)[0]
            if is_housekeeping_dir(top):
                # An empty .Trashes/ or .fseventsd/ is as much the OS's as a full one.
                report.housekeeping.add(top + "/")
            else:
                report.problem(prefix, "empty directory (not allowed in a bundle)")
        for entry in entries:
            relative = f"{prefix}{entry.name}"
            if relative in (MANIFEST_NAME, SIGNATURES_DIR):
                continue
            if entry.is_symlink():
                report.problem(relative, "symbolic link (not allowed in a bundle)")
            elif entry.is_dir(follow_symlinks=False):
                pending.append((relative + "/", Path(entry.path)))
            elif entry.is_file(follow_symlinks=False):
                found.add(relative)
            else:
                report.problem(relative, "special file (device, FIFO or socket)")
    return found


def _occupied_names(manifest: Manifest) -> dict[str, str]:
    """Every name the bundle occupies, under FAT32's folding: each listed path, each folder on
    a listed path, and manifest.json and signatures/ (present or not; a copy may add them)."""
    occupied: dict[str, str] = {}
    for name in (MANIFEST_NAME, SIGNATURES_DIR):
        occupied[collision_key(name)] = name
    for entry in manifest.files:
        parts = entry.path.split("/")
        for i in range(1, len(parts) + 1):
            name = "/".join(parts[:i])
            occupied.setdefault(collision_key(name), name)
    return occupied


def _extra_refusals(
    path: str, occupied: dict[str, str], extras_seen: dict[str, str]
) -> list[str]:
    """Why an unlisted file fails whatever the options: a name FAT32 cannot hold as it is, or
    one that a copy onto FAT32 (case-insensitive, and NFC/NFD blind on macOS and Windows)
    would merge with a listed file or folder, or with another unlisted file. On ext4 the two
    are separate files; on the card the later copy replaces the bundle's own."""
    reasons = [
        reason
        for reason in (undecodable_reason(path), check_bundle_path(path), auto_acted_reason(path))
        if reason is not None
    ]
    parts = path.split("/")
    for i in range(1, len(parts) + 1):
        name = "/".join(parts[:i])
        key = collision_key(name)
        listed = occupied.get(key)
        if listed is not None and listed != name:
            reasons.append(f"same name on FAT32 as {displayable(listed)}, which the bundle holds")
            break
        other = extras_seen.setdefault(key, name)
        if other != name:
            reasons.append(f"same name on FAT32 as {displayable(other)}, another unlisted file")
            break
    return reasons


def _compare_tree(
    manifest: Manifest, on_disk: set[str], allow_extra: bool, report: VerifyReport
) -> list[FileEntry]:
    """Report missing and unlisted files; return the listed files that exist.

    An unlisted file passes only if nothing can come of it: housekeeping an operating system
    wrote (always), or, with --allow-extra, any file with a safe name. Either way it must not
    collide with another name on FAT32 nor be something a computer acts on by itself.
    """
    listed = {entry.path for entry in manifest.files}
    occupied = _occupied_names(manifest)
    extras_seen: dict[str, str] = {}
    for path in sorted(on_disk - listed):
        reasons = _extra_refusals(path, occupied, extras_seen)
        root = housekeeping_root(path)
        if reasons:
            report.problem(path, "; ".join(["not listed in the manifest", *reasons]))
        elif root is not None:
            report.housekeeping.add(root)
        elif allow_extra:
            report.warn(path, "not listed in the manifest (allowed by --allow-extra)")
        else:
            report.problem(path, "not listed in the manifest")
    for entry in manifest.files:
        if entry.path not in on_disk:
            report.problem(entry.path, "listed in the manifest but missing or not a regular file")
        else:
            refused = auto_acted_reason(entry.path)
            if refused is not None:  # signed or not, a bundle never needs one
                report.problem(entry.path, refused)
    return [entry for entry in manifest.files if entry.path in on_disk]


# ----------------------------------------------------------------------------- hashing

_buffers = threading.local()


def _chunk_buffer() -> memoryview:
    buffer = getattr(_buffers, "view", None)
    if buffer is None:
        buffer = _buffers.view = memoryview(bytearray(HASH_CHUNK_BYTES))
    return buffer


def hash_listed_file(bundle_dir: Path, entry: FileEntry) -> str | None:
    """Check one file's size and SHA-256 against its entry; return the problem or None.

    Memory is one 1 MiB buffer per thread whatever the file's size.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(bundle_dir / entry.path, flags)
    except OSError as err:
        return f"cannot open: {err.strerror or err}"
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return "not a regular file"
        if info.st_size != entry.size:
            return f"size is {info.st_size} bytes, the manifest says {entry.size}"
        digest = hashlib.sha256()
        total = 0
        if entry.size < HASH_CHUNK_BYTES:
            data = os.read(fd, entry.size + 1)  # small file: one read, one update
            total = len(data)
            digest.update(data)
        else:
            view = _chunk_buffer()
            while count := os.readv(fd, [view]):
                total += count
                digest.update(view[:count])
                if total > entry.size:
                    break
    except OSError as err:  # e.g. EIO from a card that is losing its charge
        return f"cannot read: {err.strerror or err}"
    finally:
        os.close(fd)
    if total != entry.size:
        return f"read {total} bytes, the manifest says {entry.size} (file changed while reading?)"
    if digest.hexdigest() != entry.sha256:
        return "content does not match the manifest's SHA-256 (damaged or altered)"
    return None


def _batches(entries: list[FileEntry]) -> list[list[FileEntry]]:
    """Largest files first (so the pool does not end on one big file), small ones grouped."""
    ordered = sorted(entries, key=lambda entry: entry.size, reverse=True)
    batches: list[list[FileEntry]] = []
    current: list[FileEntry] = []
    current_bytes = 0
    for entry in ordered:
        if entry.size >= BATCH_MAX_BYTES:
            batches.append([entry])
            continue
        if len(current) >= BATCH_MAX_FILES or current_bytes + entry.size > BATCH_MAX_BYTES:
            batches.append(current)
            current, current_bytes = [], 0
        current.append(entry)
        current_bytes += entry.size
    if current:
        batches.append(current)
    return batches


def _hash_batch(bundle_dir: Path, batch: list[FileEntry]) -> list[tuple[FileEntry, str | None]]:
    return [(entry, hash_listed_file(bundle_dir, entry)) for entry in batch]


def hash_files(
    bundle_dir: Path, entries: list[FileEntry], report: VerifyReport, workers: int | None = None
) -> None:
    """Hash every entry on a thread pool (hashlib releases the GIL); record problems."""
    workers = workers or min(4, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="verify-hash") as pool:
        for results in pool.map(lambda batch: _hash_batch(bundle_dir, batch), _batches(entries)):
            for entry, problem in results:
                if problem is None:
                    report.files_checked += 1
                    report.bytes_checked += entry.size
                else:
                    report.problem(entry.path, problem)


def _check_sha256sums(bundle_dir: Path, manifest: Manifest, report: VerifyReport) -> None:
    """SHA256SUMS must say what the manifest says, or `sha256sum -c` users check other things."""
    if any(finding.path == SHA256SUMS_NAME for finding in report.problems):
        return  # already reported as missing or damaged
    try:
        actual = (bundle_dir / SHA256SUMS_NAME).read_bytes()
    except OSError as err:
        report.problem(SHA256SUMS_NAME, f"cannot read: {err.strerror or err}")
        return
    if actual != render_sha256sums(manifest):
        report.problem(SHA256SUMS_NAME, "does not list the same files and hashes as the manifest")


# ----------------------------------------------------------------------------- entry point


def _distinct_trusted_keys(trusted: Sequence[PublicKey]) -> list[PublicKey]:
    distinct: dict[bytes, PublicKey] = {}
    for key in trusted:
        distinct.setdefault(key.key, key)
    return list(distinct.values())


def check_release(
    manifest_bytes: bytes,
    sources: Sequence[tuple[str, bytes]],
    trusted: Sequence[PublicKey],
    threshold: int,
    highest_seen: dict[str, int],
    today: dt.date,
    report: VerifyReport,
) -> Manifest | None:
    """Is MANIFEST_BYTES a release that enough trusted keys signed, and not a rollback?

    SOURCES are (name, bytes) of the signature files (`signatures/...` and detached ones). Shared by
    `verify` and `apply` (which checks a delta's new manifest before writing anything). Returns the
    parsed manifest when it may be acted on (a rollback is reported but the manifest is still
    returned, so the tree can be checked too); None when it must not be read further."""
    valid = _check_signatures(manifest_bytes, sources, trusted, report)
    if len(valid) < threshold:
        report.problem(
            MANIFEST_NAME,
            f"{len(valid)} valid signature(s) by distinct trusted keys, {threshold} required; "
            "the manifest was not read further",
        )
        return None

    # From here on the bytes are signed by enough trusted keys.
    try:
        manifest = parse_manifest(manifest_bytes)
    except InfopackError as err:
        report.add_error(err)
        return None
    _bind_to_manifest(valid, manifest, today, report)
    if len(report.signed_by) < threshold:
        report.problem(MANIFEST_NAME, "not enough signatures for this release (see above)")
        return None
    report.bundle = manifest.bundle
    info = manifest.bundle
    if info.sequence < highest_seen.get(info.id, 0):
        report.problem(
            MANIFEST_NAME,
            f"rollback: sequence {info.sequence} is older than {highest_seen[info.id]}, "
            f"already verified for {info.id}",
        )
    return manifest


def load_state(path: Path) -> dict[str, int]:
    """The rollback state: the highest sequence verified so far, per bundle id."""
    return _load_state(path)


def verify_bundle(
    bundle_dir: Path,
    trusted_keys: Sequence[PublicKey],
    *,
    threshold: int = 1,
    signature_files: Sequence[Path] = (),
    state_file: Path | None = None,
    allow_extra: bool = False,
    today: dt.date | None = None,
    workers: int | None = None,
) -> VerifyReport:
    """Verify BUNDLE; the report says what is wrong. Raises UsageProblem (exit 2) only for
    bad arguments or unreadable inputs outside the bundle (keys, detached signatures, state)."""
    trusted = _distinct_trusted_keys(trusted_keys)
    if not trusted:
        raise UsageProblem("give at least one trusted public key (--trust)", "verify")
    if not 1 <= threshold <= len(trusted):
        raise UsageProblem(
            f"threshold {threshold} needs between 1 and {len(trusted)} distinct trusted keys", "verify"
        )
    if not bundle_dir.is_dir():
        raise UsageProblem("not a directory", bundle_dir)
    detached = [(str(path), _read_detached_signature(path)) for path in signature_files]
    highest_seen = _load_state(state_file) if state_file is not None else {}
    report = VerifyReport(str(bundle_dir), threshold)
    today = today or dt.datetime.now(dt.UTC).date()

    try:
        manifest_bytes = read_manifest_bytes(bundle_dir)
    except InfopackError as err:
        report.add_error(err)
        return report
    sources = _bundle_signature_files(bundle_dir, report) + detached
    manifest = check_release(manifest_bytes, sources, trusted, threshold, highest_seen, today, report)
    if manifest is None:
        return report
    info = manifest.bundle

    present = _compare_tree(manifest, scan_bundle_tree(bundle_dir, report), allow_extra, report)
    hash_files(bundle_dir, present, report, workers)
    _check_sha256sums(bundle_dir, manifest, report)

    if report.ok and state_file is not None:
        _record_sequence(state_file, info, report)
    return report
