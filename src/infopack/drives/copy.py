"""`infopack copy`: write one verified bundle onto many drives and prove each copy is right.

Order (each step only runs when the one before succeeded):
1. verify the source bundle with the verifier (signatures, then every file); keep the verified
   manifest: it, not the source files, is what every drive is checked against;
2. check FAT32's limits and every target (exists, holds nothing else unless --force, has room)
   before anything is written anywhere;
3. per target, on a thread each: optionally probe the free space (probe.py), remove what an
   earlier copy of the same bundle id left that this release no longer lists, write each file
   under a temporary name, fsync it, rename it into place, fsync the folders;
4. read every file back from the device and compare size and SHA-256 with the verified manifest.

Reading back "from the device": after fsync a file's pages in the page cache are clean copies of
what the drive was told to store, and reading them would prove nothing. Before each read-back
`posix_fadvise(POSIX_FADV_DONTNEED)` drops the file's clean pages, so the read goes to the
driver and the drive. We chose it over O_DIRECT because it works on every Linux file system
(vfat, exFAT, FUSE drivers) with ordinary buffers, while O_DIRECT needs aligned buffers and is
refused or silently buffered by some drivers. tests/test_copy.py proves it: bytes changed
directly in the FAT image underneath a mounted copy are invisible to a plain read and caught by
the read-back.

Resuming: nothing extra is stored on a drive. manifest.json is written first, so a half-written
drive names its bundle id; files appear under their final names only once complete and flushed,
so on the next run a file already at its final name is read back and kept when its size and hash
are right, and rewritten otherwise. index.html is written last: a reader never sees an entry
point on a drive that is still being filled.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from infopack.atomic import fsync_directory
from infopack.drives.probe import (
    PROBE_DIR_NAME,
    ProbeResult,
    claimed_free_bytes,
    probe_capacity,
)
from infopack.errors import InfopackError, Problem, ProblemList
from infopack.format.constants import FAT32_MAX_FILE_BYTES, MANIFEST_NAME, SIGNATURES_DIR, SIGNATURES_DIR_ENTRY
from infopack.format.manifest import FileEntry, Manifest, parse_manifest
from infopack.format.names import (
    OS_HOUSEKEEPING_DIRS,
    check_bundle_path,
    find_collisions,
)
from infopack.progress import Progress
from infopack.trust.keys import PublicKey
from infopack.trust.sign import read_manifest_bytes
from infopack.trust.verify import hash_listed_file, verify_bundle

CHUNK_BYTES = 1024 * 1024
ENTRY_POINT = "index.html"  # written last
TEMP_PREFIX = ".infopack-part-"
_TEMP_NAME = re.compile(re.escape(TEMP_PREFIX) + r"[0-9]+")
# Folders an operating system puts on a fresh drive by itself. They do not make a drive "hold
# other files", and they are never touched. One table with `verify`, which ignores the same ones.
OS_HOUSEKEEPING = OS_HOUSEKEEPING_DIRS



# ----------------------------------------------------------------------------- what to copy


@dataclass(frozen=True)
class CopyFile:
    """One file to put on every target, with the size and hash it must read back with."""

    path: str  # relative, '/'-separated, checked by names.check_bundle_path
    size: int
    sha256: str


@dataclass(frozen=True)
class VerifiedSource:
    bundle_dir: Path
    manifest: Manifest
    files: tuple[CopyFile, ...]  # in write order: manifest.json first, index.html last

    @property
    def bundle_id(self) -> str:
        return self.manifest.bundle.id

    @property
    def total_bytes(self) -> int:
        return sum(item.size for item in self.files)


def _small_file_entry(path: str, data: bytes) -> CopyFile:
    return CopyFile(path, len(data), hashlib.sha256(data).hexdigest())


def _signature_files(bundle_dir: Path) -> dict[str, bytes]:
    directory = bundle_dir / SIGNATURES_DIR
    if not directory.is_dir():
        return {}
    found = {}
    for entry in os.scandir(directory):
        if SIGNATURES_DIR_ENTRY.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
            found[f"{SIGNATURES_DIR}/{entry.name}"] = Path(entry.path).read_bytes()
    return found


def _write_order(files: list[CopyFile]) -> tuple[CopyFile, ...]:
    def rank(item: CopyFile) -> tuple[int, str]:
        if item.path == MANIFEST_NAME:
            return (0, "")
        if item.path == ENTRY_POINT:
            return (2, "")
        return (1, item.path)

    return tuple(sorted(files, key=rank))


def verify_source(
    bundle_dir: Path,
    trusted_keys: Sequence[PublicKey],
    *,
    threshold: int = 1,
    with_signatures: bool = True,
) -> VerifiedSource:
    """Verify BUNDLE with the verifier; raise InfopackError with every problem if it fails.

    manifest.json and the signatures are read before and after verification and must not
    change in between: their expected hashes are taken from the bytes that verified, so every
    target is checked against exactly those.
    """
    manifest_before = read_manifest_bytes(bundle_dir)
    signatures_before = _signature_files(bundle_dir)
    report = verify_bundle(bundle_dir, trusted_keys, threshold=threshold)
    if not report.ok:
        problems = [Problem(f"{bundle_dir}/{finding.path}", finding.message) for finding in report.problems]
        problems.append(Problem(str(bundle_dir), "bundle did not verify; nothing was copied"))
        raise InfopackError(problems)
    if read_manifest_bytes(bundle_dir) != manifest_before or _signature_files(bundle_dir) != signatures_before:
        raise InfopackError("bundle changed while it was being verified; nothing was copied", bundle_dir)
    manifest = parse_manifest(manifest_before)
    files = [CopyFile(entry.path, entry.size, entry.sha256) for entry in manifest.files]
    files.append(_small_file_entry(MANIFEST_NAME, manifest_before))
    if with_signatures:
        files += [_small_file_entry(path, data) for path, data in sorted(signatures_before.items())]
    return VerifiedSource(bundle_dir, manifest, _write_order(files))


def check_fat32_limits(source: VerifiedSource) -> None:
    """Every file must fit FAT32 (size, names, no two names the same to FAT)."""
    problems = ProblemList()
    for item in source.files:
        if item.size > FAT32_MAX_FILE_BYTES:
            problems.add(item.path, f"{item.size:,} bytes is over FAT32's limit of {FAT32_MAX_FILE_BYTES:,}")
        name_problem = check_bundle_path(item.path)
        if name_problem is not None:
            problems.add(item.path, name_problem)
    for first, second in find_collisions(item.path for item in source.files):
        problems.add(second, f"same name as {first} on FAT32 (case or Unicode form differs only)")
    problems.raise_if_any()


# ----------------------------------------------------------------------------- inside a target


def _check_no_links(root: Path, relative: str) -> None:
    """Refuse a path whose existing parent folders are links or files: writing or deleting
    through one could reach outside the bundle's folder on the target."""
    current = root
    for part in relative.split("/")[:-1]:
        current = current / part
        try:
            info = os.lstat(current)
        except FileNotFoundError:
            return
        if not stat.S_ISDIR(info.st_mode):
            raise InfopackError(f"{relative}: {current} is a link or a file, not a folder", root)


def _list_tree(root: Path) -> list[str]:
    """Relative paths of everything on the target below ROOT (links not followed), skipping
    OS housekeeping folders at the top."""
    found: list[str] = []
    pending = [("", root)]
    while pending:
        prefix, directory = pending.pop()
        for entry in os.scandir(directory):
            relative = prefix + entry.name
            if not prefix and entry.name in OS_HOUSEKEEPING:
                continue
            if entry.is_dir(follow_symlinks=False):
                pending.append((relative + "/", Path(entry.path)))
            else:
                found.append(relative)
    return found


def _previous_manifest(root: Path, bundle_id: str) -> Manifest | None:
    """The manifest of an earlier copy of the same bundle id on the target, if there is one.

    It is not trusted for anything but naming files the earlier copy wrote: its paths have
    passed the manifest's strict name rules, so none leaves the target folder.
    """
    path = root / MANIFEST_NAME
    if path.is_symlink() or not path.is_file():
        return None
    try:
        manifest = parse_manifest(read_manifest_bytes(root))
    except (InfopackError, OSError):
        return None
    return manifest if manifest.bundle.id == bundle_id else None


@dataclass
class TargetPlan:
    root: Path
    previous_copy: bool  # an earlier copy of the same bundle id is there (resume or replace)
    stale: list[str]  # files of that earlier copy this release does not have: removed first
    foreign: list[str]  # files that are not ours: refused without --force, never touched
    free_bytes: int | None
    needed_bytes: int
    warnings: list[str] = field(default_factory=list)


def _is_ours(path: str, previous_paths: set[str] | None, wanted: set[str]) -> bool:
    """Was PATH written by infopack copy? Without an earlier copy's manifest only our
    temporary names qualify: a stranger's index.html is not ours to overwrite."""
    name = path.rsplit("/", 1)[-1]
    if _TEMP_NAME.fullmatch(name) or path.startswith(PROBE_DIR_NAME + "/"):
        return True
    if previous_paths is None:
        return False
    if path == MANIFEST_NAME or path in wanted or path in previous_paths:
        return True
    return path.startswith(SIGNATURES_DIR + "/") and SIGNATURES_DIR_ENTRY.fullmatch(name) is not None


def _round_up(size: int, unit: int) -> int:
    return -(-size // unit) * unit


def plan_target(root: Path, source: VerifiedSource, *, force: bool = False) -> TargetPlan:
    """Look at a target before writing anything; raise InfopackError if it must be refused."""
    if root.is_symlink() or not root.is_dir():
        raise InfopackError("target is not a folder (mount the drive and give its folder)", root)
    previous = _previous_manifest(root, source.bundle_id)
    present = _list_tree(root)
    wanted = {item.path for item in source.files}
    previous_paths = None if previous is None else {entry.path for entry in previous.files}
    foreign = [path for path in present if not _is_ours(path, previous_paths, wanted)]
    if foreign and not force:
        shown = ", ".join(sorted(foreign)[:3]) + (", ..." if len(foreign) > 3 else "")
        raise InfopackError(f"target holds other files ({shown}); use an empty drive or --force", root)
    stale = sorted(path for path in present if path not in wanted and path not in foreign)
    foreign = [path for path in foreign if path not in wanted]  # with --force these are replaced
    for path in [*wanted, *stale]:
        _check_no_links(root, path)
    free = claimed_free_bytes(root)
    cluster = os.statvfs(root).f_frsize or 4096
    sizes_there = {path: _size_or_zero(root / path) for path in [*wanted, *stale]}
    # The new files, cluster-rounded, less what they replace or what is removed; and while a
    # file is rewritten its old version still takes room beside the temporary new one.
    old_sizes = [_round_up(size, cluster) for size in sizes_there.values()]
    needed = sum(_round_up(item.size, cluster) for item in source.files) - sum(old_sizes)
    needed += max(old_sizes, default=0)
    plan = TargetPlan(root, previous is not None, stale, foreign, free, max(needed, 0))
    if free is None:
        plan.warnings.append("the file system does not report its free space; a full drive will show as a write error")
    elif plan.needed_bytes > free:
        raise InfopackError(
            f"not enough free space: {free:,} bytes free, the bundle needs about {plan.needed_bytes:,}", root
        )
    if foreign:
        plan.warnings.append(f"{len(foreign)} other file(s) on the target are kept (--force)")
    return plan


def _size_or_zero(path: Path) -> int:
    try:
        info = os.lstat(path)
    except OSError:
        return 0
    return info.st_size if stat.S_ISREG(info.st_mode) else 0


def plan_targets(targets: Sequence[Path], source: VerifiedSource, *, force: bool = False) -> list[TargetPlan]:
    """Plan every target; any refusal stops the whole copy before a byte is written."""
    problems: list[Problem] = []
    seen: dict[tuple[int, int], Path] = {}
    plans = []
    for root in targets:
        try:
            if root.resolve() == source.bundle_dir.resolve() or root.resolve().is_relative_to(source.bundle_dir.resolve()):
                raise InfopackError("target is the bundle itself or inside it", root)
            plan = plan_target(root, source, force=force)
            info = os.stat(root)
            if (info.st_dev, info.st_ino) in seen:
                raise InfopackError(f"same folder as {seen[(info.st_dev, info.st_ino)]}", root)
            seen[(info.st_dev, info.st_ino)] = root
            plans.append(plan)
        except InfopackError as err:
            problems += err.problems
        except OSError as err:
            problems.append(Problem(str(root), f"cannot look at target: {err.strerror or err}"))
    if problems:
        raise InfopackError(problems)
    return plans


# ----------------------------------------------------------------------------- write and read back


def drop_cached_pages(path: Path) -> None:
    """Drop PATH's clean pages from the page cache (they belong to the file, not to one open
    descriptor), so the next read is served by the driver and the drive."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def read_back(root: Path, expected: CopyFile) -> str | None:
    """Read ROOT/path from the device (not the page cache) and compare size and SHA-256 with
    EXPECTED, using the verifier's own file check. Returns what is wrong, or None."""
    try:
        drop_cached_pages(root / expected.path)
    except OSError as err:
        return f"cannot open: {err.strerror or err}"
    problem = hash_listed_file(root, FileEntry(expected.path, expected.size, expected.sha256))
    if problem is not None and "SHA-256" in problem:
        return "read back with a different SHA-256 than the verified manifest (the drive did not keep it)"
    return problem


def _write_file(source_path: Path, destination: Path, temporary: Path, mtime: float) -> int:
    """Copy to TEMPORARY, flush to the device, then rename: a file under its final name is
    always complete. Returns the bytes written."""
    written = 0
    with open(source_path, "rb") as reader:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
        try:
            while chunk := reader.read(CHUNK_BYTES):
                view = memoryview(chunk)
                while view:
                    count = os.write(fd, view)
                    view = view[count:]
                written += len(chunk)
            os.fsync(fd)
        finally:
            os.close(fd)
    os.utime(temporary, (mtime, mtime))  # FORMAT.md 6.2: file times are the release date
    os.replace(temporary, destination)
    return written


@dataclass
class TargetResult:
    root: str
    bytes_written: int = 0
    files_written: int = 0
    files_kept: int = 0  # already there from an interrupted copy, read back and found right
    seconds: float = 0.0
    failed_files: list[str] = field(default_factory=list)  # "path: problem"
    error: str | None = None  # the copy stopped: drive refused, full, pulled out, ...
    probe: ProbeResult | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None and not self.failed_files

    @property
    def megabytes_per_second(self) -> float:
        return self.bytes_written / 1e6 / self.seconds if self.seconds > 0 else 0.0

    @property
    def read_back_text(self) -> str:
        if self.error is not None:
            return f"FAILED: {self.error}"
        if self.failed_files:
            return f"FAILED: {len(self.failed_files)} file(s): " + "; ".join(self.failed_files)
        return "OK"


def _remove_stale(root: Path, stale: list[str]) -> None:
    """Remove files an earlier copy of this bundle left that this release does not have,
    and folders that become empty. Only paths planned inside ROOT are touched."""
    parents: set[Path] = set()
    for relative in stale:
        _check_no_links(root, relative)
        path = root / relative
        if os.path.lexists(path):
            os.unlink(path)
        parents.update(p for p in path.parents if p != root and p.is_relative_to(root))
    for directory in sorted(parents, key=lambda p: len(p.parts), reverse=True):
        try:
            directory.rmdir()  # only succeeds when empty: an empty folder would fail verification
        except OSError:
            pass


def _write_target(plan: TargetPlan, source: VerifiedSource, result: TargetResult, progress: Progress) -> None:
    mtime = os.stat(source.bundle_dir / MANIFEST_NAME).st_mtime
    touched: set[Path] = {plan.root}
    for number, item in enumerate(source.files):
        destination = plan.root / item.path
        _check_no_links(plan.root, item.path)
        if os.path.lexists(destination) and read_back(plan.root, item) is None:
            result.files_kept += 1  # resumed: this file was already complete and right
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        temporary = destination.parent / f"{TEMP_PREFIX}{number}"
        result.bytes_written += _write_file(source.bundle_dir / item.path, destination, temporary, mtime)
        result.files_written += 1
        touched.add(destination.parent)
    for directory in sorted(touched, key=lambda p: len(p.parts), reverse=True):
        fsync_directory(directory, strict=True)  # the renames are on the device too
    progress(f"{plan.root}: written {result.bytes_written:,} bytes, reading back")


def _read_back_target(root: Path, source: VerifiedSource, result: TargetResult) -> None:
    for item in source.files:
        problem = read_back(root, item)
        if problem is not None:
            result.failed_files.append(f"{item.path}: {problem}")


def read_back_target(root: Path, source: VerifiedSource) -> list[str]:
    """Every file on ROOT read back from the device and checked; returns "path: problem" lines."""
    result = TargetResult(str(root))
    _read_back_target(root, source, result)
    return result.failed_files


def copy_to_target(
    plan: TargetPlan, source: VerifiedSource, *, probe: bool = False, progress: Progress | None = None
) -> TargetResult:
    """Probe (optionally), write and read back one target. Never raises for a bad drive: what
    went wrong is in the result, so the other targets carry on."""
    progress = progress or (lambda message: None)
    result = TargetResult(str(plan.root), warnings=list(plan.warnings))
    started = time.monotonic()
    try:
        if probe:
            progress(f"{plan.root}: probing the free space")
            result.probe = probe_capacity(plan.root)
            result.warnings += result.probe.notes
            if result.probe.lies:
                result.error = result.probe.summary() + "; refused, nothing written"
                return result
        _remove_stale(plan.root, plan.stale)
        _write_target(plan, source, result, progress)
        _read_back_target(plan.root, source, result)
    except InfopackError as err:
        result.error = "; ".join(str(problem) for problem in err.problems)
    except OSError as err:  # full, read-only, pulled out, failing flash
        where = f"{err.filename}: " if err.filename else ""
        result.error = f"{where}{err.strerror or err}"
    finally:
        result.seconds = time.monotonic() - started
    return result


@dataclass
class CopyReport:
    source: VerifiedSource
    targets: list[TargetResult]

    @property
    def ok(self) -> bool:
        return all(target.ok for target in self.targets)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def table(self) -> str:
        headers = ("target", "written", "kept", "time", "MB/s", "read-back")
        rows = [
            (t.root, f"{t.bytes_written:,} B", str(t.files_kept), f"{t.seconds:.1f} s",
             f"{t.megabytes_per_second:.1f}", t.read_back_text)
            for t in self.targets
        ]
        widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers) - 1)]
        lines = []
        for row in [headers, *rows]:
            cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths)]
            lines.append("  ".join([*cells, row[-1]]))
        return "\n".join(lines)


def copy_bundle(
    bundle_dir: Path,
    targets: Sequence[Path],
    trusted_keys: Sequence[PublicKey],
    *,
    threshold: int = 1,
    with_signatures: bool = True,
    probe: bool = False,
    force: bool = False,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> CopyReport:
    """Verify BUNDLE, check every target, then copy to all of them at once and read each back.

    Raises InfopackError (nothing written anywhere) when the bundle does not verify, breaks
    FAT32's limits or a target is refused; otherwise the report says how each target went.
    """
    if not targets:
        raise InfopackError("give at least one target folder", "copy")
    if jobs is not None and jobs < 1:
        raise InfopackError("--jobs must be at least 1", "copy")
    source = verify_source(bundle_dir, trusted_keys, threshold=threshold, with_signatures=with_signatures)
    check_fat32_limits(source)
    plans = plan_targets(targets, source, force=force)
    lock = threading.Lock()

    def say(message: str) -> None:
        if progress is not None:
            with lock:
                progress(message)

    workers = jobs or len(plans)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="copy") as pool:
        results = list(pool.map(lambda plan: copy_to_target(plan, source, probe=probe, progress=say), plans))
    return CopyReport(source, results)
