"""`infopack apply DELTA BUNDLE --trust KEY.pub`: turn a bundle into the next release, or not at all.

Everything is checked before anything is written (docs/FORMAT.md section 17.2): NEW's manifest is
signed by enough trusted keys and is not a rollback (`check_release`, shared with verify); its
sequence is higher than BUNDLE's; BUNDLE is exactly the release the delta was made from (its
manifest's hash, and every file's size and SHA-256, with verify's hashing); each file the delta
carries, patches, copies or derives gives the bytes NEW's signed manifest lists (library.pack,
`derived`, is rebuilt from NEW's data files with format/library_pack.py, streamed, and hashed
like every other file). A refusal is one line and
leaves BUNDLE as it was.

Then the switch, built for FAT32, which has no atomic exchange of two folders, and where renaming
a folder is not even safe through every driver (fusefat loses its contents), so only files are
renamed (section 17.3):
1. prepare: the new and changed files, NEW's manifest and signatures are written and flushed in a
   staging folder `.NAME.infopack-apply/new` beside BUNDLE, with `journal.json`, the plan of the
   switch (which paths leave BUNDLE, which arrive), and a reserve file holding the room the
   switch's folders may need. A failure here (a full card) removes the staging folder: BUNDLE
   was never touched.
2. commit: an empty file `committed` is created there and flushed. From now on the update is
   finished whatever happens: by this run, or by the next `apply` or `verify` on BUNDLE.
3. roll forward: the reserve is freed; OLD's manifest, signatures and each file NEW does not keep as it is move
   (rename) to `old/` in the staging folder; NEW's files move from `new/` into BUNDLE, manifest
   last; folders left empty and the staging folder are removed. Files NEW keeps are not touched.
   If a step fails while this run is alive (a full card), it rolls back instead: `committed` is
   deleted first, then every file goes back where it was. Renames free as much space as they
   take, so rolling back needs none.
Recovery looks at `committed`: present, roll forward; absent, roll back. Every step is repeatable
(a file already moved is skipped), so a recovery interrupted in its turn is finished by the next.

Imports only format and trust: a partner's `apply` loads no build code (tests/test_layers.py).
"""

from __future__ import annotations

import base64
import datetime as dt
import errno
import fcntl
import hashlib
import json
import os
import shutil
import stat
from calendar import timegm
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO

from infopack.atomic import fsync_directory
from infopack.errors import InfopackError, UsageProblem
from infopack.format.constants import MANIFEST_NAME, SIGNATURES_DIR
from infopack.format.datafile import read_data_file
from infopack.format.library_pack import PackEntry
from infopack.format.manifest import FileEntry, Manifest, parse_date, parse_manifest
from infopack.format.names import check_bundle_path, housekeeping_root
from infopack.trust.keys import PublicKey
from infopack.trust.sign import read_manifest_bytes
from infopack.trust.verify import (
    VerifyReport,
    VerifyState,
    check_release,
    hash_files,
    load_verify_state,
    scan_bundle_tree,
    verify_bundle,
)
from infopack.update.delta import (
    CHUNK,
    PATCH_MAX_BYTES,
    DeltaError,
    DeltaHeader,
    Record,
    apply_patch,
    data_path_of,
    derived_chunks,
    derived_entries,
    read_blob,
    read_header,
    stream_blob,
    unxz_stream,
)

DATA_PREFIX = "data/"
STAGING_SUFFIX = ".infopack-apply"
JOURNAL_NAME = "journal.json"  # the plan of the switch
COMMIT_NAME = "committed"  # present: the switch goes forward
RESERVE_NAME = "reserve"  # room for the switch's folders, freed when it starts
RESERVE_BASE_BYTES = 64 * 1024
RESERVE_BYTES_PER_MOVE = 256  # a FAT long name takes up to ~9 entries of 32 bytes
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
    # A derived file's index entries, by path: worked out once (a pass over every payload) and
    # used by the check and by the write.
    pack_entries: dict[str, list[PackEntry]] = field(default_factory=dict)


def _refuse(message: str, where: str | Path = "") -> DeltaError:
    return DeltaError(message, str(where) if where != "" else None)


# ----------------------------------------------------------------------------- checking


def _check_release(handle: BinaryIO, header: DeltaHeader, delta_file: Path, trusted: Sequence[PublicKey],
                   threshold: int, highest: VerifyState | dict[str, int], today: dt.date) -> tuple[Manifest, bytes, list[tuple[str, bytes]]]:
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


def _plan(header: DeltaHeader, old: Manifest, new: Manifest, new_bytes: bytes, signatures: list[tuple[str, bytes]],
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
        elif record.kind == "derived":
            _check_derived(record, entry, new_by_path)
        elif record.offset + record.size > body_size:
            raise _refuse(f"the update is truncated: {record.path!r} reaches past its end")
        elif record.kind == "patch":  # patches are applied in memory: both files must be small
            before = old_by_path.get(record.path)
            if before is None or max(before.size, entry.size) > PATCH_MAX_BYTES or record.size > 2 * PATCH_MAX_BYTES:
                raise _refuse(f"the update patches {record.path!r}, which BUNDLE does not hold or is too large to patch")
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


def _check_derived(record: Record, entry: FileEntry, new_by_path: dict[str, FileEntry]) -> None:
    """A derived file is made of payloads of NEW's data files, and is larger than they are: a
    header cannot make apply read files NEW does not have or work past the file's size, nor
    derive a data file (from itself, while it is being checked)."""
    if record.path.startswith(DATA_PREFIX):
        raise _refuse(f"the update derives {record.path!r}: only files outside data/ may be derived")
    for name, _length in record.payloads:
        source = new_by_path.get(data_path_of(name))
        if source is None or source.size > PATCH_MAX_BYTES:
            raise _refuse(f"the update derives {record.path!r} from payload {name!r}, which is not a data file of NEW")
    if sum(length for _name, length in record.payloads) > entry.size:
        raise _refuse(f"the update derives {record.path!r} from more bytes than NEW's manifest gives it")


def _carried_bytes(handle: BinaryIO, header: DeltaHeader, bundle_dir: Path, record: Record,
                   entry: FileEntry, old_by_path: dict[str, FileEntry], plan: _Plan | None = None) -> Iterator[bytes]:
    """The chunks a record gives (patches and copies are read whole; data is streamed). PLAN lets
    a patch outside data/ derive base64 from NEW's data files (phone.html), and a derived record
    be rebuilt from them (library.pack)."""
    if record.kind == "derived":
        if plan is None:
            raise _refuse(f"the update derives {record.path!r} where nothing may be derived")
        yield from _derived_bytes(handle, header, bundle_dir, record, plan)
        return
    if record.kind == "data":
        chunks = stream_blob(handle, header, record.offset, record.size)
        if record.xz:
            yield from unxz_stream(chunks, entry.size)
            return
        if record.size != entry.size:
            raise _refuse(f"the update's {record.path!r} is {record.size} bytes, NEW's manifest says {entry.size}")
        yield from chunks
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
    patch = read_blob(handle, header, record.offset, record.size)
    if record.xz:  # a patch is at most its file's size plus 17 bytes per operation
        patch = b"".join(unxz_stream([patch], 2 * entry.size + 1024))
    derive = None
    if plan is not None and not record.path.startswith(DATA_PREFIX):
        payload_of = _payload_source(handle, header, bundle_dir, plan)
        derive = lambda name, length: base64.b64encode(payload_of(name, length))  # noqa: E731
    try:
        yield apply_patch(old_data, patch, entry.size, derive)
    except ValueError as err:
        raise _refuse(f"the update's patch for {record.path!r}: {err}") from None


def _derived_bytes(handle: BinaryIO, header: DeltaHeader, bundle_dir: Path, record: Record, plan: _Plan) -> Iterator[bytes]:
    """library.pack rebuilt from NEW's payloads (FORMAT.md 8a, 17.1), one payload in memory at a
    time; the caller compares the result with NEW's manifest entry, as for every record."""
    source = _payload_source(handle, header, bundle_dir, plan)

    def payload_of(name: str, length: int) -> bytes:
        try:
            return source(data_path_of(name), length)
        except ValueError as err:
            raise _refuse(f"the update's {record.path!r}: {err}") from None

    entries = plan.pack_entries.get(record.path)
    if entries is None:
        entries = plan.pack_entries[record.path] = derived_entries(record.payloads, payload_of)
    yield from derived_chunks(plan.new.bundle.id, plan.new.bundle.sequence, entries, payload_of)


def _payload_source(handle: BinaryIO, header: DeltaHeader, bundle_dir: Path, plan: _Plan) -> Callable[[str, int], bytes]:
    """The first LENGTH payload bytes of NEW's data file NAME, taken from the delta (itself
    checked against NEW's manifest) or from BUNDLE: what a derived operation or record stands for."""
    new_by_path = {entry.path: entry for entry in plan.new.files}
    carried = {record.path: (record, entry) for record, entry in plan.carried}
    old_by_path = {entry.path: entry for entry in plan.old.files}

    def derive(name: str, length: int) -> bytes:
        entry = new_by_path.get(name)
        if entry is None or not name.startswith(DATA_PREFIX) or entry.size > PATCH_MAX_BYTES:
            raise ValueError(f"derives from {name!r}, which is not a data file of NEW")
        if name in carried:
            record, _entry = carried[name]
            data = b"".join(_carried_bytes(handle, header, bundle_dir, record, entry, old_by_path))
        else:
            data = (bundle_dir / name).read_bytes()
        if hashlib.sha256(data).hexdigest() != entry.sha256:
            raise ValueError(f"derives from {name!r}, which does not match NEW's signed manifest")
        payload = read_data_file(data, length)[1]
        if len(payload) != length:
            raise ValueError(f"derives more bytes from {name!r} than it holds")
        return payload

    return derive


def _check_carried(handle: BinaryIO, header: DeltaHeader, bundle_dir: Path, plan: _Plan) -> None:
    old_by_path = {entry.path: entry for entry in plan.old.files}
    for record, entry in plan.carried:
        digest = hashlib.sha256()
        size = 0
        for chunk in _carried_bytes(handle, header, bundle_dir, record, entry, old_by_path, plan):
            digest.update(chunk)
            size += len(chunk)
        if (size, digest.hexdigest()) != (entry.size, entry.sha256):
            raise _refuse(f"the update's {record.path!r} does not match NEW's signed manifest (damaged or altered)")


# ----------------------------------------------------------------------------- the switch


def _set_time(target: int | Path, stamp: int) -> None:
    """Section 6.2's file time, where the file system keeps one (fusefat may refuse)."""
    try:
        os.utime(target, (stamp, stamp))
    except OSError as err:
        if err.errno not in (errno.ENOSYS, errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise


def _stamp(created: str) -> int:
    day = parse_date(created) or dt.date(1980, 1, 1)
    return timegm(day.timetuple())


def _write_file(path: Path, chunks: Iterable[bytes], stamp: int) -> tuple[int, str]:
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
        _set_time(out.fileno(), stamp)
    return size, digest.hexdigest()


def _prepare(handle: BinaryIO, header: DeltaHeader, bundle_dir: Path, plan: _Plan, staging: Path) -> list[str]:
    """Step 1: NEW's new and changed files, manifest and signatures, flushed, in staging/new.
    Returns the paths written there (relative), the files that will move into BUNDLE."""
    new_dir = staging / "new"
    new_dir.mkdir(parents=True)
    stamp = _stamp(plan.new.bundle.created)
    old_by_path = {entry.path: entry for entry in plan.old.files}
    incoming = []
    for record, entry in plan.carried:
        written = _write_file(new_dir / record.path, _carried_bytes(handle, header, bundle_dir, record, entry, old_by_path, plan), stamp)
        if written != (entry.size, entry.sha256):  # the delta or BUNDLE changed since the check
            raise _refuse(f"{record.path!r} changed while the update was applied")
        incoming.append(record.path)
    for name, data in plan.signatures:
        _write_file(new_dir / SIGNATURES_DIR / name, [data], stamp)
        incoming.append(f"{SIGNATURES_DIR}/{name}")
    _write_file(new_dir / MANIFEST_NAME, [plan.new_bytes], stamp)
    incoming.append(MANIFEST_NAME)  # last in: until then BUNDLE does not claim to be NEW
    for directory, _dirs, _files in os.walk(new_dir, topdown=False):
        fsync_directory(Path(directory))
    return incoming


def _outgoing(bundle_dir: Path, plan: _Plan) -> list[str]:
    """What leaves BUNDLE: OLD's manifest first (BUNDLE stops claiming to be OLD), OLD's
    signatures, and each file of OLD that NEW does not keep as it is (changed or removed)."""
    kept = {entry.path for entry in plan.kept}
    signatures = bundle_dir / SIGNATURES_DIR
    names = sorted(e.name for e in os.scandir(signatures)) if signatures.is_dir() else []
    return [MANIFEST_NAME] + [f"{SIGNATURES_DIR}/{n}" for n in names] + [
        e.path for e in plan.old.files if e.path not in kept]


def _write_new_file(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    fsync_directory(path.parent)


def _plan_bytes(old_bytes: bytes, new_bytes: bytes, outgoing: list[str], incoming: list[str]) -> bytes:
    return json.dumps({
        "format": JOURNAL_FORMAT,
        "old_manifest_sha256": hashlib.sha256(old_bytes).hexdigest(),
        "new_manifest_sha256": hashlib.sha256(new_bytes).hexdigest(),
        "out": outgoing,
        "in": incoming,
    }, ensure_ascii=False).encode("utf-8") + b"\n"


@dataclass
class _Journal:
    outgoing: list[str]
    incoming: list[str]


def _read_journal(staging: Path) -> _Journal | None:
    """The plan of the switch, written before it began; None if absent or not ours. Its paths
    are checked like a manifest's, so a planted journal cannot move files outside the bundle."""
    try:
        value = json.loads((staging / JOURNAL_NAME).read_bytes())
        if not isinstance(value, dict) or value.get("format") != JOURNAL_FORMAT:
            return None
        lists = [value["out"], value["in"]]
        for paths in lists:
            if not isinstance(paths, list) or not all(isinstance(p, str) and check_bundle_path(p) is None for p in paths):
                return None
        return _Journal(lists[0], lists[1])
    except (OSError, ValueError, KeyError):
        return None


def _reserve_room(staging: Path, journal: _Journal) -> None:
    """Make, before the commit, the room the switch will need: the folders under old/, and a
    reserve file the switch deletes first, so that a folder growing by a cluster finds one free
    even if the card is full by then. (A rename that fails for want of space is not harmless on
    every FAT driver: fusefat then loses the file.)"""
    for path in journal.outgoing:
        (staging / "old" / path).parent.mkdir(parents=True, exist_ok=True)
    size = RESERVE_BASE_BYTES + RESERVE_BYTES_PER_MOVE * (len(journal.outgoing) + len(journal.incoming))
    _write_new_file(staging / RESERVE_NAME, bytes(size))


def _move(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    os.rename(source, target)


def _roll_forward(bundle_dir: Path, staging: Path, journal: _Journal, hook: Hook) -> None:
    """Step 3, repeatable from any point: OLD's outgoing files to staging/old, NEW's incoming
    files into BUNDLE, empty folders removed, staging removed. A file already moved is skipped,
    and an outgoing file is moved only while its staging/old place is free, so a NEW file that
    already arrived under the same path is never taken for OLD's."""
    old_dir, new_dir = staging / "old", staging / "new"
    if os.path.lexists(staging / RESERVE_NAME):
        os.unlink(staging / RESERVE_NAME)  # its clusters are the switch's room
    incoming = set(journal.incoming)
    for number, path in enumerate(journal.outgoing):
        if number % 16 == 0:
            hook("move-out")
        still_old = path not in incoming or os.path.lexists(new_dir / path)  # NEW's has not arrived
        if still_old and os.path.lexists(bundle_dir / path) and not os.path.lexists(old_dir / path):
            _move(bundle_dir / path, old_dir / path)
    for number, path in enumerate(journal.incoming):
        if number % 16 == 0:
            hook("move-in")
        if os.path.lexists(new_dir / path):
            _move(new_dir / path, bundle_dir / path)
    for directory in (bundle_dir, staging):
        fsync_directory(directory)
    hook("cleanup")
    _remove_empty_folders(bundle_dir)
    _stamp_release(bundle_dir)
    _remove_staging(staging)


def _stamp_release(bundle_dir: Path) -> None:
    """Every file and folder gets NEW's date (section 6.2), kept files too: no trace of when the
    update was applied."""
    try:
        manifest = parse_manifest(read_manifest_bytes(bundle_dir))
    except InfopackError:
        return  # verify, run next, says what is wrong
    stamp = _stamp(manifest.bundle.created)
    for directory, _dirs, names in os.walk(bundle_dir, topdown=False):
        for name in names:
            _set_time(Path(directory) / name, stamp)
        _set_time(Path(directory), stamp)


def _roll_back(bundle_dir: Path, staging: Path, journal: _Journal | None, hook: Hook) -> None:
    """Undo, repeatable from any point: the commit mark goes first (so a crash now still rolls
    back), then NEW's files that arrived go back to staging/new and OLD's come home."""
    mark = staging / COMMIT_NAME
    if os.path.lexists(mark):
        os.unlink(mark)
        fsync_directory(staging)
    if journal is not None:
        old_dir, new_dir = staging / "old", staging / "new"
        for path in journal.incoming:
            hook("move-back")
            if not os.path.lexists(new_dir / path) and os.path.lexists(bundle_dir / path):
                _move(bundle_dir / path, new_dir / path)
        for path in journal.outgoing:
            if os.path.lexists(old_dir / path) and not os.path.lexists(bundle_dir / path):
                _move(old_dir / path, bundle_dir / path)
        fsync_directory(bundle_dir)
        _remove_empty_folders(bundle_dir)
    _remove_staging(staging)


def _remove_empty_folders(bundle_dir: Path) -> None:
    """A bundle has no empty folders (section 1): those whose files all left go too."""
    for directory, dirs, files in os.walk(bundle_dir, topdown=False):
        if directory != str(bundle_dir) and not dirs and not files:
            try:
                os.rmdir(directory)
            except OSError:
                pass


def _remove_staging(staging: Path) -> None:
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
            # no locks on this file system: go on; the commit mark still decides any recovery
        return self

    def __exit__(self, *_exc: object) -> None:
        os.close(self.fd)


def _recover_locked(bundle_dir: Path, hook: Hook) -> str | None:
    staging = staging_for(bundle_dir)
    if not os.path.lexists(staging):
        return None
    if staging.is_symlink() or not staging.is_dir():
        raise InfopackError("is in the way of updates and is not ours; remove it", staging)
    journal = _read_journal(staging)
    if journal is not None and os.path.lexists(staging / COMMIT_NAME):
        _roll_forward(bundle_dir, staging, journal, hook)
        return "finished an interrupted update (it had been committed)"
    _roll_back(bundle_dir, staging, journal, hook)
    return "undid an interrupted update (it had not been committed)"


def recover(bundle_dir: Path, hook: Hook | None = None) -> str | None:
    """Finish or undo an update a crash interrupted; say which, or None if there was none."""
    bundle_dir = Path(os.path.abspath(bundle_dir))
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
    # Absolute and normalised: `.`, `..` or a trailing slash must still name the folder whose
    # staging folder sits beside it.
    delta_file, bundle_dir = Path(delta_file), Path(os.path.abspath(bundle_dir))
    step = hook or (lambda name: None)
    trusted = list({key.key: key for key in trusted_keys}.values())
    if not trusted:
        raise UsageProblem("give at least one trusted public key (--trust)", "apply")
    if not 1 <= threshold <= len(trusted):
        raise UsageProblem(f"threshold {threshold} needs between 1 and {len(trusted)} distinct trusted keys", "apply")
    # The whole state, rotations included: a key it has seen retired must not get an update in.
    highest: VerifyState | dict[str, int] = load_verify_state(state_file) if state_file is not None else {}
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
                  state_file: Path | None, highest: VerifyState | dict[str, int], today: dt.date, step: Hook) -> ApplyResult:
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
    if (header.base_id, header.base_sequence, header.target_sequence) != (old.bundle.id, old.bundle.sequence, new.bundle.sequence):
        raise _refuse("the update's header does not name the releases its manifests are (altered?)")
    plan = _plan(header, old, new, new_bytes, signatures, body_size)
    _check_bundle_is_base(bundle_dir, old)
    _check_carried(handle, header, bundle_dir, plan)
    # Checked; from here on BUNDLE changes, all at once or not at all.
    staging = staging_for(bundle_dir)
    try:
        step("prepare")
        staging.mkdir()
        incoming = _prepare(handle, header, bundle_dir, plan, staging)
        journal = _Journal(_outgoing(bundle_dir, plan), incoming)
        _reserve_room(staging, journal)
        _write_new_file(staging / JOURNAL_NAME, _plan_bytes(old_bytes, new_bytes, journal.outgoing, journal.incoming))
        step("commit")
        _write_new_file(staging / COMMIT_NAME, b"")
    except BaseException as err:
        _remove_staging(staging)
        if isinstance(err, OSError):
            raise InfopackError(f"could not write the update ({err.strerror or err}); BUNDLE is unchanged",
                                err.filename or staging) from None
        raise
    try:
        _roll_forward(bundle_dir, staging, journal, step)
    except OSError as err:
        _roll_back(bundle_dir, staging, journal, step)
        raise InfopackError(f"could not switch to the update ({err.strerror or err}); BUNDLE is unchanged",
                            bundle_dir) from None
    report = verify_bundle(bundle_dir, trusted, threshold=threshold, state_file=state_file, today=today)
    return ApplyResult(report, recovered, len(plan.carried), len(plan.kept), len(header.removed))
