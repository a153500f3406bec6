"""Writing a bundle out: the manifest last of all, flushing, and putting the finished folder in place.

A build writes into a locked, hidden staging folder beside its output (`Staging`), lists it in
SHA256SUMS and manifest.json (`write_manifest`), and swaps it in whole (`move_into_place`); the
next build sweeps what a killed one left (`sweep_leftovers`). docs/FORMAT.md section 6.4.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import hashlib
import os
import platform
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Self

from infopack.errors import InfopackError
from infopack.format.constants import MANIFEST_NAME, SHA256SUMS_NAME, SIGNATURES_DIR
from infopack.format.manifest import BundleInfo, FileEntry, Manifest, render_manifest, render_sha256sums
from infopack.progress import Progress


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


def fsync_fd(fd: int) -> None:
    """fsync, where the file system can; some cannot flush a folder, and have nothing more to do."""
    try:
        os.fsync(fd)
    except OSError as err:
        # Some file systems cannot flush a folder (EINVAL); there is nothing more to do there.
        if err.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise


def fsync_folder(path: Path) -> None:
    """Flush a folder's list of names: the entry a rename created or removed in it."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        fsync_fd(fd)
    finally:
        os.close(fd)


# --- putting a finished folder in place ---------------------------------------------------------
#
# A build works in `.NAME.partial-<pid>-<random>` beside NAME and holds an flock on that folder for
# as long as it lives. The kernel drops the lock when the process dies, however it dies, so the
# next build can tell a killed build's leftovers (no lock, pid gone) from a live concurrent one's.


def _leftover_prefixes(name: str) -> tuple[str, str]:
    return f".{name}.partial-", f".{name}.old-"


class Staging:
    """A locked, hidden folder beside `out_dir` to build in; removed on leaving unless moved in.

    `with Staging(out) as staging: ...write into staging.path...; staging.move_into_place(force)`
    """

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = Path(out_dir)
        self.parent = self.out_dir.resolve().parent
        self.parent.mkdir(parents=True, exist_ok=True)
        # The pid in the name says whose folder this is even where locks do not work.
        prefix = _leftover_prefixes(self.out_dir.name)[0] + f"{os.getpid()}-"
        self.path = Path(tempfile.mkdtemp(prefix=prefix, dir=self.parent))
        self._lock = _lock_folder(self.path)
        self.moved = False

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            if not self.moved:
                shutil.rmtree(self.path, ignore_errors=True)
        finally:
            if self._lock is not None:
                os.close(self._lock)

    def move_into_place(self, force: bool) -> None:
        """Put the finished folder at `out_dir`, replacing what is there only with `force`."""
        move_into_place(self.path, self.out_dir, force)
        self.moved = True


def _lock_folder(path: Path) -> int | None:
    """An exclusive flock on the folder itself (no lock file that could end up in a bundle)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # held by someone else, or no locks on this file system: the pid has to do
        os.close(fd)
        return None
    return fd


def move_into_place(staging: Path, out_dir: Path, force: bool) -> None:
    """Rename the finished `staging` to `out_dir`; an existing `out_dir` is swapped out in one step
    where the system allows it, then removed.

    Without an atomic swap (not Linux, or a file system such as FAT that refuses it) the old
    folder is first renamed to `.NAME.old-<pid>-<random>`: a build killed before the second
    rename leaves nothing at NAME but that complete old folder beside it, and the next build
    (sweep_leftovers) renames it back before doing anything else.
    """
    parent = staging.parent
    if not os.path.lexists(out_dir):
        os.rename(staging, out_dir)
        fsync_folder(parent)
        return
    if not force:
        raise InfopackError("already exists; use --force to replace it", out_dir)
    if exchange_paths(staging, out_dir):
        # The old folder now has the staging name (still marked with our pid: nobody else
        # removes it while we live; if we die now the next build removes it).
        fsync_folder(parent)
        shutil.rmtree(staging, ignore_errors=True)
        return
    retired = parent / staging.name.replace(".partial-", ".old-", 1)
    lock = _lock_folder(out_dir)  # a concurrent build's sweep must not restore it under our feet
    try:
        try:
            os.rename(out_dir, retired)
            os.rename(staging, out_dir)
        except BaseException:  # an error or Ctrl-C between the renames: put the old one back
            if not os.path.lexists(out_dir) and os.path.lexists(retired):
                os.rename(retired, out_dir)
            raise
        fsync_folder(parent)
        shutil.rmtree(retired, ignore_errors=True)
    finally:
        if lock is not None:
            os.close(lock)


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_SYS_RENAMEAT2 = {"x86_64": 316, "amd64": 316, "aarch64": 276, "arm64": 276}
# What renameat2 answers when the kernel or the file system cannot swap: fall back, don't fail.
_NO_EXCHANGE = {errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM}


def exchange_paths(first: Path, second: Path) -> bool:
    """Swap two existing paths in one step (Linux renameat2 RENAME_EXCHANGE); False if the system
    or the file system cannot, in which case nothing was changed."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return False
    old, new = os.fsencode(first), os.fsencode(second)
    wrapper = getattr(libc, "renameat2", None)  # glibc 2.28 and later
    if wrapper is not None:
        wrapper.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
        result = wrapper(_AT_FDCWD, old, _AT_FDCWD, new, _RENAME_EXCHANGE)
    else:
        number = _SYS_RENAMEAT2.get(platform.machine().lower())
        if number is None:
            return False
        result = libc.syscall(ctypes.c_long(number), ctypes.c_long(_AT_FDCWD), ctypes.c_char_p(old),
                              ctypes.c_long(_AT_FDCWD), ctypes.c_char_p(new), ctypes.c_long(_RENAME_EXCHANGE))
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in _NO_EXCHANGE:
        return False
    raise OSError(code, os.strerror(code), str(first), None, str(second))


_PID_IN_NAME = re.compile(r"(\d+)(?:-|\Z)")


def sweep_leftovers(out_dir: Path, say: Progress | None = None) -> None:
    """Clear what killed builds left beside `out_dir`: `.NAME.partial-*` folders are removed, and a
    `.NAME.old-*` folder is renamed back to NAME when NAME is missing (a build killed between the
    two renames of the fallback swap), else removed. A folder still locked by a live build, or
    named with the pid of a live process, is left alone; nothing not named like ours is touched.
    """
    out_dir = Path(out_dir)
    parent = out_dir.resolve().parent
    try:
        entries = sorted(os.scandir(parent), key=lambda entry: entry.name)
    except FileNotFoundError:
        return
    partial, old = _leftover_prefixes(out_dir.name)
    for entry in entries:
        kind = "partial" if entry.name.startswith(partial) else "old" if entry.name.startswith(old) else None
        if kind is None or not entry.is_dir(follow_symlinks=False):
            continue
        suffix = entry.name[len(partial if kind == "partial" else old) :]
        pid = _PID_IN_NAME.match(suffix)
        if pid is not None and _process_alive(int(pid.group(1))):
            continue
        path = Path(entry.path)
        try:
            lock = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue
        try:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live build (perhaps in another pid namespace) is using it
            except OSError:
                pass  # no locks here: the pid check above is all there is
            if kind == "old" and not os.path.lexists(out_dir) and (path / MANIFEST_NAME).is_file():
                os.rename(path, out_dir)
                fsync_folder(parent)
                if say is not None:
                    say(f"put back {out_dir}, which a killed build had moved aside")
            else:
                shutil.rmtree(path, ignore_errors=True)
        finally:
            os.close(lock)


def _process_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True
