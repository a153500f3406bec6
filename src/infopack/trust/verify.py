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
    ROTATION_SIGNATURE_NAME,
    ROTATION_STATEMENT_NAME,
    SHA256SUMS_NAME,
    SIGNATURE_SUFFIX,
    SIGNATURES_DIR,
    SIGNATURES_DIR_ENTRY,
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
from infopack.trust.rotation import (
    Chains,
    KnownRotation,
    RotationStatement,
    build_chains,
    check_signed_rotation,
)
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
# Written instead of /1 once a rotation is remembered: an older infopack, which cannot honour a
# rotation, then refuses the state rather than silently dropping what it remembers.
STATE_FORMAT_ROTATIONS = "infopack-verify-state/2"
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
    status: str  # valid | invalid | untrusted-key | retired | malformed | wrong-bundle | duplicate
    detail: str = ""
    # Shown only once the signature over it has verified.
    trusted_comment: str | None = None
    # The trusted key this signer speaks for through rotation statements (None: it is trusted itself).
    trusted_via: str | None = None


@dataclass(frozen=True)
class RotationResult:
    """One rotation statement met in this verification (carried in signatures/, or remembered)."""

    source: str
    bundle_id: str
    old_key_id: str
    new_key_id: str
    from_sequence: int
    created: str
    status: str  # applied | valid | remembered | other-bundle | untrusted-key | conflict
    detail: str = ""

    @classmethod
    def of(cls, known: KnownRotation, status: str, detail: str = "") -> RotationResult:
        statement = known.statement
        return cls(
            known.source, statement.bundle_id, statement.old_key.id_hex, statement.new_key.id_hex,
            statement.from_sequence, statement.created, status, detail,
        )

    def to_text(self) -> str:
        line = (
            f"rotation {self.source}: {self.status}: key {self.old_key_id} hands its trust to key "
            f"{self.new_key_id} for {self.bundle_id} from sequence {self.from_sequence} "
            f"(dated {self.created})"
        )
        return line + (f": {self.detail}" if self.detail else "")


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
    rotations: list[RotationResult] = field(default_factory=list)
    # Valid statements for this bundle, remembered in --state after a fully successful verify.
    rotations_to_remember: list[RotationStatement] = field(default_factory=list)
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
            "rotations": [asdict(result) for result in self.rotations],
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
            if result.trusted_via is not None:
                line += f"\n  trusted through rotation from key {result.trusted_via}"
            if result.trusted_comment is not None:
                line += f"\n  trusted comment: {result.trusted_comment}"
            lines.append(line)
        lines += [result.to_text() for result in self.rotations]
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
    """Files kept in BUNDLE/signatures/: regular files named <key id>.minisig, and rotation
    statements with their signatures (rotation-<old>-<new>.txt and .txt.minisig)."""
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
        elif not SIGNATURES_DIR_ENTRY.fullmatch(entry.name):
            if _is_harmless_housekeeping(relative):
                # Finder's .DS_Store, or the ._ file a Mac writes beside a signature it copied.
                report.housekeeping.add(relative)
            else:
                report.problem(
                    relative,
                    "unexpected file in signatures/ "
                    "(expected <key id>.minisig or rotation-<old>-<new>.txt[.minisig])",
                )
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
    root: PublicKey  # the trusted key it counts for: KEY itself, or the start of KEY's chain
    path: tuple[KnownRotation, ...] = ()


class _ChainsByBundle:
    """The chain rule's outcome per bundle id, worked out once each (FORMAT.md 10.6.3)."""

    def __init__(self, trusted: Sequence[PublicKey], known: Sequence[KnownRotation]) -> None:
        self.trusted = trusted
        self.known = known
        self._chains: dict[str, Chains] = {}

    def __call__(self, bundle_id: str) -> Chains:
        if bundle_id not in self._chains:
            self._chains[bundle_id] = build_chains(self.trusted, self.known, bundle_id)
        return self._chains[bundle_id]

    def keys(self) -> list[PublicKey]:
        """The trusted keys and every key a chain leads to, for any bundle id."""
        found = {key.key: key for key in self.trusted}
        for bundle_id in sorted({known.statement.bundle_id for known in self.known}):
            for known in self(bundle_id).edges.values():
                found.setdefault(known.statement.new_key.key, known.statement.new_key)
        return list(found.values())


def _split_rotation_files(
    sources: Sequence[tuple[str, bytes]], report: VerifyReport
) -> tuple[list[tuple[str, bytes]], list[KnownRotation]]:
    """Separate signatures/rotation-* files from signatures; check each statement's signature
    by its old key (whether that key is trusted is the chain rule's business, later)."""
    signatures, statements, rotation_sigs = [], {}, {}
    for source, data in sources:
        folder, _, name = source.rpartition("/")
        if folder == SIGNATURES_DIR and ROTATION_STATEMENT_NAME.fullmatch(name):
            statements[source] = data
        elif folder == SIGNATURES_DIR and ROTATION_SIGNATURE_NAME.fullmatch(name):
            rotation_sigs[source] = data
        else:
            signatures.append((source, data))
    for source in sorted(set(rotation_sigs) - {name + SIGNATURE_SUFFIX for name in statements}):
        report.problem(source, "rotation signature without its statement (the same name without .minisig)")
    carried = []
    for source, data in sorted(statements.items()):
        signature = rotation_sigs.get(source + SIGNATURE_SUFFIX)
        if signature is None:
            report.problem(source, f"rotation statement without its signature ({source}{SIGNATURE_SUFFIX})")
            continue
        try:
            signed = check_signed_rotation(data, signature, source)
        except InfopackError as err:
            report.problem(source, err.problems[0].message)
            continue
        if source != f"{SIGNATURES_DIR}/{signed.statement.file_name()}":
            report.problem(source, f"file name does not match its keys ({signed.statement.file_name()})")
            continue
        carried.append(KnownRotation(signed.statement, source))
    return signatures, carried


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
        _untrusted(report, SignatureResult(source, sig.key_id_hex, "untrusted-key"), "")
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


def _untrusted(report: VerifyReport, result: SignatureResult, why: str) -> None:
    """A signature that counts for nothing: reported, and a warning (a co-signature by someone
    the partner does not trust is no reason to refuse a bundle that enough trusted keys signed)."""
    report.signatures.append(result)
    message = why or f"signed by key {result.key_id}, which is not trusted; ignored"
    report.warn(result.source, message)


def _place_in_chain(
    key: PublicKey, comment: TrustedComment, chains_for: _ChainsByBundle, report: VerifyReport
) -> tuple[PublicKey, tuple[KnownRotation, ...]] | None:
    """Which trusted key KEY's valid signature counts for, for the release its comment names;
    None (and the report says why) when it counts for none."""
    role = chains_for(comment.bundle_id).role(key.key, comment.sequence)
    if role.root is not None:
        if role.root.key != key.key:
            result = report.signatures[-1]
            report.signatures[-1] = SignatureResult(
                result.source, result.key_id, result.status, result.detail,
                result.trusted_comment, role.root.id_hex,
            )
        return role.root, role.path
    result = report.signatures.pop()
    if role.retired_by is not None:
        handed = role.retired_by
        why = (
            f"key {key.id_hex} is retired for this release: {handed.statement.describe()} "
            f"({'remembered in the state' if handed.remembered else handed.source}); "
            "its signature no longer counts"
        )
        status = "retired"
    elif role.not_yet is not None:
        why = (
            f"signed by key {key.id_hex}, which a rotation trusts only from sequence "
            f"{role.not_yet.statement.from_sequence}, not for sequence {comment.sequence}; ignored"
        )
        status = "untrusted-key"
    else:
        why = ""
        status = "untrusted-key"
    _untrusted(
        report, SignatureResult(result.source, result.key_id, status, why, result.trusted_comment), why
    )
    return None


def _check_signatures(
    manifest_bytes: bytes,
    sources: Iterable[tuple[str, bytes]],
    chains_for: _ChainsByBundle,
    report: VerifyReport,
) -> list[_ValidSignature]:
    """Cryptographically valid signatures by trusted keys, at most one per trusted key: a key
    and the keys its chain hands over to count once together (a threshold counts people)."""
    keys_by_id: dict[bytes, list[PublicKey]] = {}
    for key in chains_for.keys():
        keys_by_id.setdefault(key.key_id, []).append(key)
    digest = prehash(manifest_bytes)
    valid: dict[bytes, _ValidSignature] = {}
    for source, data in sources:
        outcome = _check_one_signature(source, data, digest, keys_by_id, report)
        if outcome is None:
            continue
        key, comment = outcome
        placed = _place_in_chain(key, comment, chains_for, report)
        if placed is None:
            continue
        root, path = placed
        if root.key in valid:
            same = "same key" if valid[root.key].key.key == key.key else "same trusted key's chain"
            result = report.signatures[-1]
            report.signatures[-1] = SignatureResult(
                source, key.id_hex, "duplicate", f"{same} as an earlier signature; counted once",
                result.trusted_comment, result.trusted_via,
            )
            continue
        valid[root.key] = _ValidSignature(key, comment, len(report.signatures) - 1, root, path)
    return list(valid.values())


def _report_rotations(
    carried: Sequence[KnownRotation],
    chains_for: _ChainsByBundle,
    valid: Sequence[_ValidSignature],
    bundle_id: str | None,
    report: VerifyReport,
) -> None:
    """Say what became of each statement; note which ones --state should remember.

    BUNDLE_ID is the manifest's, once it is parsed (None before): statements for another
    bundle are then ignored, and only this bundle's valid ones are remembered."""
    used = {known.statement.edge for signature in valid for known in signature.path}
    for known in carried:
        statement = known.statement
        verdict = chains_for(statement.bundle_id).verdicts[known]
        if verdict.status == "conflict":
            report.rotations.append(RotationResult.of(known, "conflict", verdict.detail))
            report.problem(known.source, f"rotation statement refused: {verdict.detail}")
        elif verdict.status != "valid":
            report.rotations.append(RotationResult.of(known, verdict.status, verdict.detail))
            report.warn(known.source, verdict.detail)
        elif bundle_id is not None and statement.bundle_id != bundle_id:
            why = f"the statement is for bundle {statement.bundle_id}, not {bundle_id}; ignored"
            report.rotations.append(RotationResult.of(known, "other-bundle", why))
            report.warn(known.source, why)
        else:
            status = "applied" if statement.edge in used else "valid"
            report.rotations.append(RotationResult.of(known, status, verdict.detail))
            if bundle_id is not None:
                report.rotations_to_remember.append(statement)
    for signature in valid:
        for known in signature.path:
            if known.remembered:
                report.rotations.append(RotationResult.of(known, "remembered"))


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


@dataclass
class VerifyState:
    """What --state remembers: the highest sequence verified per bundle id, and the rotation
    statements seen in fully verified releases (FORMAT.md 10.4 step 4 and 10.6.4)."""

    highest_sequence: dict[str, int] = field(default_factory=dict)
    rotations: list[RotationStatement] = field(default_factory=list)

    def to_bytes(self) -> bytes:
        """/1 while no rotation is remembered (so older infopack versions keep reading it)."""
        document: dict[str, object] = {
            "format": STATE_FORMAT_ROTATIONS if self.rotations else STATE_FORMAT,
            "highest_sequence": dict(sorted(self.highest_sequence.items())),
        }
        if self.rotations:
            document["rotations"] = [statement.to_state() for statement in self.rotations]
        return (json.dumps(document, indent=1) + "\n").encode("utf-8")

    def remember(self, statement: RotationStatement) -> str | None:
        """Add STATEMENT unless the same hand-over is known; why it contradicts one, or None."""
        for known in self.rotations:
            if known.bundle_id != statement.bundle_id:
                continue
            if known.edge == statement.edge:
                return None
            if statement.old_key.key == known.old_key.key or statement.new_key.key == known.new_key.key:
                return f"contradicts a rotation remembered in the state: {known.describe()}"
        self.rotations.append(statement)
        return None


def _parse_state(data: bytes) -> VerifyState:
    """The state document, strictly; ValueError (and friends) when it is damaged."""
    document = json.loads(data.decode("utf-8"))
    if len(data) > STATE_MAX_BYTES or document.get("format") not in (STATE_FORMAT, STATE_FORMAT_ROTATIONS):
        raise ValueError
    highest = document["highest_sequence"]
    if not isinstance(highest, dict) or not all(
        isinstance(value, int) and not isinstance(value, bool) for value in highest.values()
    ):
        raise ValueError
    rotations: list[RotationStatement] = []
    if document["format"] == STATE_FORMAT_ROTATIONS:
        listed = document["rotations"]
        if not isinstance(listed, list):
            raise ValueError
        rotations = [RotationStatement.from_state(item) for item in listed]
    return VerifyState(dict(highest), rotations)


def _load_state(path: Path) -> VerifyState:
    try:
        # A FIFO or device at the state path is refused here, not read forever.
        with open_regular_file(path, "state") as handle:
            data = handle.read(STATE_MAX_BYTES + 1)
    except MissingFile:  # no state yet (or a link to a state not yet written)
        return VerifyState()
    except InfopackError as err:
        raise UsageProblem(err.problems[0].message, path) from None
    except OSError as err:
        raise UsageProblem(f"cannot read state: {err.strerror or err}", path) from None
    try:
        return _parse_state(data)
    except (ValueError, AttributeError, KeyError, TypeError, RecursionError):
        raise UsageProblem(
            "state file is damaged; refusing to guess which releases were seen", path
        ) from None


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


def _write_state(target: Path, state: VerifyState) -> None:
    """Replace TARGET atomically: a crash leaves the old state or the new one, never half.

    The temporary file has a random name and is created exclusively (mkstemp: O_EXCL), so no
    name can be predicted and a link planted at any name is never written through."""
    data = state.to_bytes()
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = 0o644
    write_file_atomically(target, data, mode=mode)


def _record_sequence(state_file: Path, info: BundleInfo, report: VerifyReport) -> None:
    """After a successful verification: remember INFO's sequence for its id, and the rotation
    statements the bundle carried (so its retired keys stay retired, section 10.6.4).

    Several verifies may run at once (a partner checking volumes in parallel). Each re-reads
    the state under the lock, so a sequence another run stored meanwhile is never lost: the
    stored value per id only ever grows. A run that finds a newer sequence stored since it
    started is a rollback like any other."""
    target = _state_target(state_file)
    try:
        with _StateLock(target):
            state = _load_state(target)
            stored = state.highest_sequence.get(info.id, 0)
            if info.sequence < stored:
                report.problem(
                    MANIFEST_NAME,
                    f"rollback: sequence {info.sequence} is older than {stored}, "
                    f"already verified for {info.id}",
                )
                return
            remembered = len(state.rotations)
            for statement in report.rotations_to_remember:
                conflict = state.remember(statement)
                if conflict is not None:  # stored by a parallel verify since we read the state
                    report.problem(f"{SIGNATURES_DIR}/{statement.file_name()}", conflict)
            if report.problems:
                return
            if info.sequence > stored or len(state.rotations) > remembered:
                state.highest_sequence[info.id] = max(stored, info.sequence)
                _write_state(target, state)
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
    highest_seen: dict[str, int] | VerifyState,
    today: dt.date,
    report: VerifyReport,
) -> Manifest | None:
    """Is MANIFEST_BYTES a release that enough trusted keys signed, and not a rollback?

    SOURCES are (name, bytes) of every file in `signatures/` (signatures and rotation statements,
    named `signatures/<name>`) and of detached signatures. HIGHEST_SEEN is the state (give the
    whole VerifyState, from load_verify_state, so remembered rotations count: a key the state
    knows to be retired is then refused). Shared by `verify` and `apply` (which checks a delta's
    new manifest before writing anything). Returns the parsed manifest when it may be acted on (a
    rollback is reported but the manifest is still returned, so the tree can be checked too);
    None when it must not be read further. Afterwards, record_release stores what the state
    should remember."""
    state = highest_seen if isinstance(highest_seen, VerifyState) else VerifyState(highest_seen)
    signatures, carried = _split_rotation_files(sources, report)
    remembered = [KnownRotation(statement, "state", remembered=True) for statement in state.rotations]
    chains_for = _ChainsByBundle(trusted, [*remembered, *carried])
    valid = _check_signatures(manifest_bytes, signatures, chains_for, report)
    if len(valid) < threshold:
        _report_rotations(carried, chains_for, valid, None, report)
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
        _report_rotations(carried, chains_for, valid, None, report)
        report.add_error(err)
        return None
    _bind_to_manifest(valid, manifest, today, report)
    counted = [s for s in valid if report.signatures[s.result_index].status == "valid"]
    _report_rotations(carried, chains_for, counted, manifest.bundle.id, report)
    if len(report.signed_by) < threshold:
        report.problem(MANIFEST_NAME, "not enough signatures for this release (see above)")
        return None
    report.bundle = manifest.bundle
    info = manifest.bundle
    highest = state.highest_sequence
    if info.sequence < highest.get(info.id, 0):
        report.problem(
            MANIFEST_NAME,
            f"rollback: sequence {info.sequence} is older than {highest[info.id]}, "
            f"already verified for {info.id}",
        )
    return manifest


def load_state(path: Path) -> dict[str, int]:
    """The rollback state: the highest sequence verified so far, per bundle id."""
    return _load_state(path).highest_sequence


def load_verify_state(path: Path) -> VerifyState:
    """The whole state: highest sequences and remembered rotations (for check_release)."""
    return _load_state(path)


def record_release(state_file: Path, info: BundleInfo, report: VerifyReport) -> None:
    """After a fully successful check: store INFO's sequence and the rotations REPORT saw."""
    _record_sequence(state_file, info, report)


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
    state = _load_state(state_file) if state_file is not None else VerifyState()
    report = VerifyReport(str(bundle_dir), threshold)
    today = today or dt.datetime.now(dt.UTC).date()

    try:
        manifest_bytes = read_manifest_bytes(bundle_dir)
    except InfopackError as err:
        report.add_error(err)
        return report
    sources = _bundle_signature_files(bundle_dir, report) + detached
    manifest = check_release(manifest_bytes, sources, trusted, threshold, state, today, report)
    if manifest is None:
        return report
    info = manifest.bundle

    present = _compare_tree(manifest, scan_bundle_tree(bundle_dir, report), allow_extra, report)
    hash_files(bundle_dir, present, report, workers)
    _check_sha256sums(bundle_dir, manifest, report)

    if report.ok and state_file is not None:
        _record_sequence(state_file, info, report)
    return report
