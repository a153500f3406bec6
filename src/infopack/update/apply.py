"""`infopack apply DELTA BUNDLE --trust KEY.pub`: turn a bundle into the next release, or not at all.

Everything is checked before anything is written (docs/FORMAT.md section 15.3): NEW's manifest is
signed by enough trusted keys and is not a rollback (`check_release`, shared with verify); its
sequence is higher than BUNDLE's; BUNDLE is exactly the release the delta was made from (its
manifest's hash, and every file's size and SHA-256, with verify's hashing); each file the delta
carries, patches or copies gives the bytes NEW's signed manifest lists. A refusal is one line and
leaves BUNDLE as it was.

Then the switch, built for FAT32, which has no atomic exchange of two folders (section 15.4):
1. prepare: the new and changed files, NEW's manifest and signatures are written and flushed in a
   staging folder `.NAME.infopack-apply/new` beside BUNDLE. A failure here (a full card) removes
   the staging folder: BUNDLE was never touched.
2. commit: `journal.json` is written into the staging folder (atomically). From now on the update
   is finished, whatever happens: by this run, or by the next `apply` or `verify` on BUNDLE.
3. roll forward: each file NEW keeps unchanged is moved (renamed, never copied) from BUNDLE into
   `new/`; BUNDLE is renamed to `.../old`, `new/` to BUNDLE; the staging folder is removed.
   If a step fails while this run is still alive, it rolls back instead: the journal is deleted
   first, then the moved files go back to BUNDLE.
Recovery reads only the journal's presence: with it, roll forward; without it, roll back. Every
step is repeatable, so recovery interrupted in its turn is finished by the next one.

Imports only format and trust: a partner's `apply` loads no build code (tests/test_layers.py).
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import hashlib
import json
import os
import shutil
import stat
from calendar import timegm
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

from infopack.atomic import fsync_directory
from infopack.errors import InfopackError, UsageProblem
from infopack.format.constants import MANIFEST_NAME, SIGNATURES_DIR
from infopack.format.manifest import FileEntry, Manifest, parse_date, parse_manifest
from infopack.format.names import housekeeping_root
from infopack.trust.keys import PublicKey
from infopack.trust.sign import read_manifest_bytes
from infopack.trust.verify import (
    VerifyReport,
    check_release,
    hash_files,
    load_state,
    scan_bundle_tree,
    verify_bundle,
)
from infopack.update.delta import (
    CHUNK,
    DeltaError,
    DeltaHeader,
    Record,
    apply_patch,
    read_blob,
    read_header,
    stream_blob,
)

STAGING_SUFFIX = ".infopack-apply"
JOURNAL_NAME = "journal.json"
JOURNAL_FORMAT = "infopack-apply-journal/1"
# A test hook: called with a step name before each step of the switch (kill -9 tests stop there).
Hook = Callable[[str], None]


def staging_for(bundle_dir: Path) -> Path:
    return bundle_dir.parent / f".{bundle_dir.name}{STAGING_SUFFIX}"


@dataclass
class _Plan:
    old: Manifest
    new: Manifest
    new_bytes: bytes
    signatures: list[tuple[str, bytes]]
    carried: list[tuple[Record, FileEntry]]  # records to write, with NEW's entry for each
    kept: list[FileEntry]  # NEW's files BUNDLE already holds with the same bytes at the same path


def _refuse(message: str, where: str | Path = "") -> DeltaError:
    return DeltaError(message, str(where) if where != "" else None)


# ----------------------------------------------------------------------------- checking


def _check_release(handle: BinaryIO, header: DeltaHeader, delta_file: Path, trusted: Sequence[PublicKey],
                   threshold: int, highest: dict[str, int], today: dt.date) -> tuple[Manifest, bytes, list]:
    new_bytes = read_blob(handle, header, header.manifest.offset, header.manifest.size)
    signatures = [(blob.name, read_blob(handle, header, blob.offset, blob.size)) for blob in header.signatures]
    report = VerifyReport(str(delta_file), threshold)
    sources = [(f"{SIGNATURES_DIR}/{name}", data) for name, data in signatures]
    manifest = check_release(new_bytes, sources, trusted, threshold, highest, today, report)
    if manifest is None or report.problems:
        first = report.problems[0] if report.problems else None
        raise _refuse(f"the update's manifest: {first.path}: {first.message}" if first else "the update is not signed", delta_file)
    return manifest, new_bytes, signatures


def _check_bundle_is_base(bundle_dir: Path, old: Manifest) -> None:
    """BUNDLE holds exactly OLD's files with OLD's bytes: nothing missing, nothing added (OS
    housekeeping aside), no links or special files, also in signatures/."""
    report = VerifyReport(str(bundle_dir), 1)
    on_disk = scan_bundle_tree(bundle_dir, report)
    listed = {entry.path for entry in old.files}
    for path in sorted(on_disk - listed):
        if housekeeping_root(path) is None:
            report.problem(path, "not listed in the manifest")
    for path in sorted(listed - on_disk):
        report.problem(path, "listed in the manifest but missing or not a regular file")
    signatures = bundle_dir / SIGNATURES_DIR
    if os.path.lexists(signatures):
        if not stat.S_ISDIR(os.lstat(signatures).st_mode):
            report.problem(SIGNATURES_DIR, "not a folder")
        else:
            for entry in os.scandir(signatures):
                if not entry.is_file(follow_symlinks=False):
                    report.problem(f"{SIGNATURES_DIR}/{entry.name}", "not a regular file")
    if not report.problems:
        hash_files(bundle_dir, [e for e in old.files if e.path in on_disk], report)
    if report.problems:
        first = report.problems[0]
        raise _refuse(f"BUNDLE is not exactly the release this update applies to: {first.path}: {first.message}", bundle_dir)


def _plan(header: DeltaHeader, old: Manifest, new: Manifest, new_bytes: bytes, signatures: list,
          body_size: int) -> _Plan:
    """Every record accounted for by NEW's manifest, every file of NEW accounted for by a record
    or by BUNDLE, and the removed list exactly what the two manifests say."""
    old_by_path = {entry.path: entry for entry in old.files}
    new_by_path = {entry.path: entry for entry in new.files}
    carried: list[tuple[Record, FileEntry]] = []
    seen: set[str] = set()
    for record in header.records:
        entry = new_by_path.get(record.path)
        if entry is None:
            raise _refuse(f"the update carries {record.path!r}, which NEW's signed manifest does not list")
        if record.path in seen:
            raise _refuse(f"the update carries {record.path!r} twice")
        seen.add(record.path)
        if record.kind == "copy":
            source = old_by_path.get(record.source)
            if source is None or (source.sha256, source.size) != (entry.sha256, entry.size):
                raise _refuse(f"the update copies {record.path!r} from {record.source!r}, which does not hold its bytes")
        elif record.offset + record.size > body_size:
            raise _refuse(f"the update is truncated: {record.path!r} reaches past its end")
        carried.append((record, entry))
    kept = []
    for entry in new.files:
        if entry.path in seen:
            continue
        before = old_by_path.get(entry.path)
        if before is None or (before.sha256, before.size) != (entry.sha256, entry.size):
            raise _refuse(f"the update does not carry {entry.path!r}, which changed")
        kept.append(entry)
    removed = sorted((p for p in old_by_path if p not in new_by_path), key=lambda p: p.encode("utf-8"))
    if header.removed != removed:
        raise _refuse("the update's list of removed files does not match the two manifests")
    for blob in (header.manifest, *header.signatures):
        if blob.offset + blob.size > body_size:
            raise _refuse("the update is truncated")
    return _Plan(old, new, new_bytes, signatures, carried, kept)


def _carried_bytes(handle: BinaryIO, header: DeltaHeader, bundle_dir: Path, record: Record,
                   entry: FileEntry, old_by_path: dict[str, FileEntry]):
    """The chunks a record gives (patches and copies are read whole; data is streamed)."""
    if record.kind == "data":
        if record.size != entry.size:
            raise _refuse(f"the update's {record.path!r} is {record.size} bytes, NEW's manifest says {entry.size}")
        yield from stream_blob(handle, header, record.offset, record.size)
        return
    source = record.source if record.kind == "copy" else record.path
    before = old_by_path.get(source)
    if before is None:
        raise _refuse(f"the update patches {record.path!r}, which BUNDLE does not hold")
    if record.kind == "copy":
        with open(bundle_dir / source, "rb") as old_file:
            while chunk := old_file.read(CHUNK):
                yield chunk
        return
    old_data = (bundle_dir / source).read_bytes()
    if hashlib.sha256(old_data).hexdigest() != before.sha256:
        raise _refuse(f"BUNDLE's {source!r} changed while the update was applied", bundle_dir)
    try:
        yield apply_patch(old_data, read_blob(handle, header, record.offset, record.size), entry.size)
    except ValueError as err:
        raise _refuse(f"the update's patch for {record.path!r}: {err}") from None


def _check_carried(handle: BinaryIO, header: DeltaHeader, bundle_dir: Path, plan: _Plan) -> None:
    old_by_path = {entry.path: entry for entry in plan.old.files}
    for record, entry in plan.carried:
        digest = hashlib.sha256()
        size = 0
        for chunk in _carried_bytes(handle, header, bundle_dir, record, entry, old_by_path):
            digest.update(chunk)
            size += len(chunk)
        if (size, digest.hexdigest()) != (entry.size, entry.sha256):
            raise _refuse(f"the update's {record.path!r} does not match NEW's signed manifest (damaged or altered)")


# ----------------------------------------------------------------------------- the switch


def _stamp(created: str) -> int:
    day = parse_date(created) or dt.date(1980, 1, 1)
    return timegm(day.timetuple())


def _write_file(path: Path, chunks, stamp: int) -> tuple[int, str]:  # noqa: ANN001
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
    with os.fdopen(fd, "wb") as out:
        for chunk in chunks:
            out.write(chunk)
            digest.update(chunk)
            size += len(chunk)
        out.flush()
        os.fsync(out.fileno())
        os.utime(out.fileno(), (stamp, stamp))
    return size, digest.hexdigest()


def _prepare(handle: BinaryIO, header: DeltaHeader, bundle_dir: Path, plan: _Plan, staging: Path) -> None:
    """Step 1: NEW's new and changed files, manifest and signatures, flushed, in staging/new."""
    new_dir = staging / "new"
    new_dir.mkdir(parents=True)
    stamp = _stamp(plan.new.bundle.created)
    old_by_path = {entry.path: entry for entry in plan.old.files}
    for record, entry in plan.carried:
        written = _write_file(new_dir / record.path, _carried_bytes(handle, header, bundle_dir, record, entry, old_by_path), stamp)
        if written != (entry.size, entry.sha256):  # the delta or BUNDLE changed since the check
            raise _refuse(f"{record.path!r} changed while the update was applied")
    for name, data in plan.signatures:
        _write_file(new_dir / SIGNATURES_DIR / name, [data], stamp)
    _write_file(new_dir / MANIFEST_NAME, [plan.new_bytes], stamp)
    for directory, _dirs, _files in os.walk(new_dir, topdown=False):
        fsync_directory(Path(directory))
    fsync_directory(staging)


def _journal_bytes(old_bytes: bytes, new_bytes: bytes) -> bytes:
    return json.dumps({
        "format": JOURNAL_FORMAT,
        "old_manifest_sha256": hashlib.sha256(old_bytes).hexdigest(),
        "new_manifest_sha256": hashlib.sha256(new_bytes).hexdigest(),
    }).encode("ascii") + b"\n"


def _write_journal(staging: Path, data: bytes) -> None:
    """Step 2, the commit: the journal appears whole or not at all (written beside, flushed,
    renamed). Not atomic.write_file_atomically: FAT through FUSE refuses its chmod."""
    partial = staging / (JOURNAL_NAME + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.rename(partial, staging / JOURNAL_NAME)
    fsync_directory(staging)


def _journal_valid(staging: Path) -> bool:
    """The commit record: present, readable, and naming the manifest staged beside it."""
    try:
        journal = json.loads((staging / JOURNAL_NAME).read_bytes())
        staged = staging / "new" / MANIFEST_NAME
        if not staged.exists():  # the swap is done; only the cleanup is left
            return journal.get("format") == JOURNAL_FORMAT
        return bool(
            journal.get("format") == JOURNAL_FORMAT
            and journal.get("new_manifest_sha256") == hashlib.sha256(staged.read_bytes()).hexdigest()
        )
    except (OSError, ValueError, AttributeError):
        return False


def _roll_forward(bundle_dir: Path, staging: Path, hook: Hook) -> None:
    """Step 3, repeatable from any point: move kept files into new/, swap the folders, clean up."""
    new_dir, old_dir = staging / "new", staging / "old"
    if new_dir.is_dir():
        if bundle_dir.is_dir() and not old_dir.exists():
            manifest = parse_manifest((new_dir / MANIFEST_NAME).read_bytes())
            stamp = _stamp(manifest.bundle.created)
            moved = 0
            for entry in manifest.files:
                target = new_dir / entry.path
                if not os.path.lexists(target):
                    if moved % 16 == 0:
                        hook("move")
                    moved += 1
                    target.parent.mkdir(parents=True, exist_ok=True)
                    os.rename(bundle_dir / entry.path, target)
                    os.utime(target, (stamp, stamp), follow_symlinks=False)
            for directory, _dirs, _files in os.walk(new_dir, topdown=False):
                os.utime(directory, (stamp, stamp))
                fsync_directory(Path(directory))
            hook("swap-out")
            os.rename(bundle_dir, old_dir)
            fsync_directory(staging)
        hook("swap-in")
        os.rename(new_dir, bundle_dir)
        fsync_directory(bundle_dir.parent)
    hook("cleanup")
    shutil.rmtree(old_dir, ignore_errors=True)
    _remove_staging(staging)


def _roll_back(bundle_dir: Path, staging: Path, hook: Hook) -> None:
    """Undo, repeatable from any point: the journal goes first (so a crash now still rolls
    back), then BUNDLE comes back from old/ if it was moved there and each kept file that was
    moved into new/ goes back where it was."""
    journal = staging / JOURNAL_NAME
    if os.path.lexists(journal):
        os.unlink(journal)
        fsync_directory(staging)
    new_dir, old_dir = staging / "new", staging / "old"
    if not bundle_dir.exists() and old_dir.is_dir():
        os.rename(old_dir, bundle_dir)
        fsync_directory(bundle_dir.parent)
    if new_dir.is_dir() and bundle_dir.is_dir():
        try:
            old = parse_manifest(read_manifest_bytes(bundle_dir))
        except InfopackError:
            old = None
        for entry in old.files if old is not None else ():
            hook("move-back")
            source = new_dir / entry.path
            if not os.path.lexists(bundle_dir / entry.path) and os.path.lexists(source):
                os.rename(source, bundle_dir / entry.path)
    _remove_staging(staging)


def _remove_staging(staging: Path) -> None:
    shutil.rmtree(staging / "new", ignore_errors=True)
    shutil.rmtree(staging / "old", ignore_errors=True)
    try:
        os.unlink(staging / JOURNAL_NAME)
    except FileNotFoundError:
        pass
    shutil.rmtree(staging, ignore_errors=True)
    fsync_directory(staging.parent)


class _ParentLock:
    """An exclusive flock on the folder holding BUNDLE: one apply (or recovery) at a time."""

    def __init__(self, bundle_dir: Path) -> None:
        self.fd = os.open(bundle_dir.resolve().parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))

    def __enter__(self) -> _ParentLock:
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                os.close(self.fd)
                raise UsageProblem("another apply is running on this folder") from None
            # no locks on this file system: go on; the journal still decides any recovery
        return self

    def __exit__(self, *_exc: object) -> None:
        os.close(self.fd)


def _recover_locked(bundle_dir: Path, hook: Hook) -> str | None:
    staging = staging_for(bundle_dir)
    if not os.path.lexists(staging):
        return None
    if not staging.is_dir() or staging.is_symlink():
        raise InfopackError("is in the way of updates and is not ours; remove it", staging)
    if _journal_valid(staging):
        _roll_forward(bundle_dir, staging, hook)
        return "finished an interrupted update (it had been committed)"
    _roll_back(bundle_dir, staging, hook)
    return "undid an interrupted update (it had not been committed)"


def recover(bundle_dir: Path, hook: Hook | None = None) -> str | None:
    """Finish or undo an update a crash interrupted; say which, or None if there was none."""
    bundle_dir = Path(bundle_dir)
    if not os.path.lexists(staging_for(bundle_dir)):
        return None
    with _ParentLock(bundle_dir):
        return _recover_locked(bundle_dir, hook or (lambda step: None))


# ----------------------------------------------------------------------------- entry point


@dataclass
class ApplyResult:
    report: VerifyReport  # the verification of the result
    recovered: str | None
    carried: int
    kept: int
    removed: int


def apply_delta(
    delta_file: Path,
    bundle_dir: Path,
    trusted_keys: Sequence[PublicKey],
    *,
    threshold: int = 1,
    state_file: Path | None = None,
    today: dt.date | None = None,
    hook: Hook | None = None,
) -> ApplyResult:
    """Apply DELTA_FILE to BUNDLE_DIR (see the module's docstring). Raises DeltaError (exit 1) when
    the update is refused, with BUNDLE untouched; UsageProblem (exit 2) for bad arguments."""
    delta_file, bundle_dir = Path(delta_file), Path(bundle_dir)
    step = hook or (lambda name: None)
    trusted = list({key.key: key for key in trusted_keys}.values())
    if not trusted:
        raise UsageProblem("give at least one trusted public key (--trust)", "apply")
    if not 1 <= threshold <= len(trusted):
        raise UsageProblem(f"threshold {threshold} needs between 1 and {len(trusted)} distinct trusted keys", "apply")
    highest = load_state(state_file) if state_file is not None else {}
    today = today or dt.datetime.now(dt.UTC).date()
    if not bundle_dir.is_dir() and not os.path.lexists(staging_for(bundle_dir)):
        raise UsageProblem("not a directory", bundle_dir)
    try:
        handle = open(delta_file, "rb")  # noqa: SIM115  (closed below, after the switch)
    except OSError as err:
        raise UsageProblem(f"cannot open: {err.strerror or err}", delta_file) from None
    try:
        with handle, _ParentLock(bundle_dir):
            return _apply_locked(handle, delta_file, bundle_dir, trusted, threshold, state_file, highest, today, step)
    except DeltaError as err:  # name the delta file where a problem names no file
        where = str(delta_file)
        raise DeltaError([replace(p, path=where) if p.path == "infopack" else p for p in err.problems]) from None


def _apply_locked(handle: BinaryIO, delta_file: Path, bundle_dir: Path, trusted: list[PublicKey], threshold: int,
                  state_file: Path | None, highest: dict[str, int], today: dt.date, step: Hook) -> ApplyResult:
    recovered = _recover_locked(bundle_dir, step)
    header = read_header(handle)
    body_size = os.fstat(handle.fileno()).st_size - header.body_start
    old_bytes = read_manifest_bytes(bundle_dir)
    if hashlib.sha256(old_bytes).hexdigest() != header.base_manifest_sha256:
        raise _refuse("this update is for another release than BUNDLE holds (its base manifest differs)", bundle_dir)
    old = parse_manifest(old_bytes)
    new, new_bytes, signatures = _check_release(handle, header, delta_file, trusted, threshold, highest, today)
    if new.bundle.id != old.bundle.id:
        raise _refuse(f"the update is for bundle {new.bundle.id!r}, BUNDLE is {old.bundle.id!r}", bundle_dir)
    if new.bundle.sequence <= old.bundle.sequence:
        raise _refuse(f"older sequence: the update's {new.bundle.sequence} is not higher than BUNDLE's {old.bundle.sequence}", bundle_dir)
    plan = _plan(header, old, new, new_bytes, signatures, body_size)
    _check_bundle_is_base(bundle_dir, old)
    _check_carried(handle, header, bundle_dir, plan)
    # Checked; from here on BUNDLE changes, all at once or not at all.
    staging = staging_for(bundle_dir)
    try:
        step("prepare")
        _prepare(handle, header, bundle_dir, plan, staging)
        step("commit")
        _write_journal(staging, _journal_bytes(old_bytes, new_bytes))
    except BaseException as err:
        _remove_staging(staging)
        if isinstance(err, OSError):
            raise InfopackError(f"could not write the update ({err.strerror or err}); BUNDLE is unchanged",
                                err.filename or staging) from None
        raise
    try:
        _roll_forward(bundle_dir, staging, step)
    except OSError as err:
        _roll_back(bundle_dir, staging, step)
        raise InfopackError(f"could not switch to the update ({err.strerror or err}); BUNDLE is unchanged",
                            bundle_dir) from None
    report = verify_bundle(bundle_dir, trusted, threshold=threshold, state_file=state_file, today=today)
    return ApplyResult(report, recovered, len(plan.carried), len(plan.kept), len(header.removed))
