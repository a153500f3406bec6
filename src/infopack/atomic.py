"""Replacing a file in one step, for the whole package: readers see the old file or the new one,
never a part, and the new one survives a power cut once the call returns.

Imports nothing of infopack's: every layer may use it, as it may use `errors`.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def _default_mode() -> int:
    """The mode open() would give a new file: 0o666 less the umask. Linux shows the umask in
    /proc; elsewhere it is read by setting it back at once (not thread-safe, hence the preference)."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def write_file_atomically(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write DATA to PATH atomically (see write_atomically)."""
    write_atomically(path, lambda handle: handle.write(data), mode=mode)


def write_atomically(path: Path, write: Callable[[BinaryIO], object], *, mode: int | None = None) -> None:
    """Let WRITE fill a temporary file beside PATH, then flush it, rename it over PATH, and flush
    the folder so the rename itself is durable: readers see the old file or the new one.

    The temporary file has a random name and is created exclusively (mkstemp: O_EXCL), so no
    name can be predicted and a link planted at any name is never written through. A failed
    write removes it. MODE is the new file's permissions; None gives what open() would.
    """
    path = Path(path)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fchmod(handle.fileno(), _default_mode() if mode is None else mode)
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    fsync_directory(path.parent)


def fsync_directory(path: Path, *, strict: bool = False) -> None:
    """Flush a folder's list of names, so a rename or a new entry in it survives a power cut.

    By default this is best effort: some file systems (and Windows) cannot flush a folder, and a
    rename is still atomic without it. With `strict`, any failure is raised (copying to a drive,
    where an unflushed folder means the drive may not keep what was written)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        if strict:
            raise
        return
    try:
        os.fsync(fd)
    except OSError:
        if strict:
            raise
    finally:
        os.close(fd)
