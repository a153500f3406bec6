"""An f3-style capacity test: does this drive really hold what its file system claims?

A counterfeit stick reports, say, 64 GB while its flash holds 8 GB; writes past the real size
wrap onto earlier addresses or vanish, and the file system on top notices nothing. The only way
to know is to fill the free space with data whose every 4 KiB sector says where it belongs, flush
it to the device, drop it from the page cache and read it back:

- a sector that comes back intact is real storage;
- a sector that comes back holding *another* sector's header (same run, other position) means
  writes wrapped around;
- anything else (zeros, old data, garbage, a read error) means writes were lost.

The probe writes into its own folder on the target and removes it afterwards, whatever happens.
"""

from __future__ import annotations

import errno
import os
import shutil
import struct
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from infopack.errors import InfopackError

PROBE_DIR_NAME = ".infopack-probe"
SECTOR_BYTES = 4096
BLOCK_BYTES = 1024 * 1024  # written and read one block at a time
SECTORS_PER_BLOCK = BLOCK_BYTES // SECTOR_BYTES
# Well under FAT32's 4 GiB file limit, so a probe file never fails for the wrong reason.
PROBE_FILE_BYTES = 512 * 1024 * 1024
_HEADER = struct.Struct(">8sQQ")  # run nonce, sector number, sector number inverted
_FILLER_WORDS = (SECTOR_BYTES - _HEADER.size) // 8
_GOLDEN = 0x9E3779B97F4A7C15
_MASK64 = (1 << 64) - 1
# What a full file system says. fusefat says EPERM; a real vfat says ENOSPC.
_FULL_ERRNOS = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EPERM}


def sector_bytes(nonce: bytes, sector: int) -> bytes:
    """The 4 KiB a sector must hold: a header naming the run and the position, then a filler
    word that also depends on the position (so a sector shifted by whole blocks still differs)."""
    header = _HEADER.pack(nonce, sector, sector ^ _MASK64)
    filler = struct.pack(">Q", (sector * _GOLDEN) & _MASK64) * _FILLER_WORDS
    return header + filler


def block_bytes(nonce: bytes, block: int) -> bytes:
    first = block * SECTORS_PER_BLOCK
    return b"".join(sector_bytes(nonce, first + i) for i in range(SECTORS_PER_BLOCK))


@dataclass
class ProbeResult:
    target: str
    claimed_free_bytes: int | None  # what statvfs said before probing; None if it says nothing
    written_bytes: int = 0  # accepted by the file system before it said it was full
    # Came back exactly as written: the drive's real usable free space (f3's "data OK").
    intact_bytes: int = 0
    wrapped_sectors: int = 0  # came back holding another position's data
    lost_sectors: int = 0  # came back as something else, or could not be read
    notes: list[str] = field(default_factory=list)

    @property
    def lies(self) -> bool:
        return self.wrapped_sectors > 0 or self.lost_sectors > 0

    def summary(self) -> str:
        mb = 1_000_000
        if not self.lies:
            return f"probe OK: {self.intact_bytes / mb:,.1f} MB of free space written and read back"
        return (
            f"drive lies about its size: only {self.intact_bytes / mb:,.1f} MB of "
            f"{self.written_bytes / mb:,.1f} MB written read back intact "
            f"({self.wrapped_sectors} sectors wrapped, {self.lost_sectors} lost)"
        )


def claimed_free_bytes(directory: Path) -> int | None:
    """Free bytes for an unprivileged writer, or None when the file system reports no size
    (fusefat, for one, reports zero blocks)."""
    info = os.statvfs(directory)
    if info.f_blocks == 0:
        return None
    return info.f_bavail * info.f_frsize


@dataclass
class _Written:
    path: Path
    first_block: int
    blocks: int


def _write_probe_files(directory: Path, nonce: bytes, limit: int | None) -> list[_Written]:
    """Fill the free space (or `limit` bytes) with probe blocks until the file system is full."""
    written: list[_Written] = []
    block = 0
    blocks_per_file = PROBE_FILE_BYTES // BLOCK_BYTES
    full = False
    while not full and (limit is None or block * BLOCK_BYTES < limit):
        current = _Written(directory / f"probe-{len(written):04d}.bin", block, 0)
        fd = os.open(current.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        written.append(current)
        try:
            while current.blocks < blocks_per_file and (limit is None or block * BLOCK_BYTES < limit):
                data = block_bytes(nonce, block)
                if os.write(fd, data) != len(data):
                    full = True  # a short write: the file system ran out of room
                    break
                current.blocks += 1
                block += 1
            os.fsync(fd)
        except OSError as err:
            if err.errno not in _FULL_ERRNOS:
                raise
            full = True
        finally:
            os.close(fd)
    return written


def _classify_sector(nonce: bytes, expected_sector: int, actual: bytes) -> str:
    if len(actual) == SECTOR_BYTES:
        nonce_read, sector, inverted = _HEADER.unpack_from(actual)
        if nonce_read == nonce and sector ^ _MASK64 == inverted and sector != expected_sector:
            return "wrapped"
    return "lost"


def _read_back(files: list[_Written], nonce: bytes, result: ProbeResult) -> None:
    for item in files:
        fd = os.open(item.path, os.O_RDONLY)
        try:
            # The data was fsync'd, so its pages are clean and this drops them: the reads
            # below come from the drive, not from what we just wrote into memory.
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            for index in range(item.blocks):
                block = item.first_block + index
                expected = block_bytes(nonce, block)
                try:
                    actual = os.pread(fd, BLOCK_BYTES, index * BLOCK_BYTES)
                except OSError:
                    actual = b""
                if actual == expected:
                    result.intact_bytes += BLOCK_BYTES
                    continue
                _count_bad_sectors(nonce, block, expected, actual, result)
        finally:
            os.close(fd)


def _count_bad_sectors(nonce: bytes, block: int, expected: bytes, actual: bytes, result: ProbeResult) -> None:
    for i in range(SECTORS_PER_BLOCK):
        start = i * SECTOR_BYTES
        got = actual[start:start + SECTOR_BYTES]
        if got == expected[start:start + SECTOR_BYTES]:
            result.intact_bytes += SECTOR_BYTES
        elif _classify_sector(nonce, block * SECTORS_PER_BLOCK + i, got) == "wrapped":
            result.wrapped_sectors += 1
        else:
            result.lost_sectors += 1


def _remove_probe_dir(directory: Path, result: ProbeResult) -> None:
    """Remove only the probe's own folder (its name is ours; nothing else is touched)."""
    def note(_function: Callable, path: str, error: object) -> None:
        # 3.11 passes exc_info, 3.12+ the exception; either way a drive that lies may have
        # corrupted its own directory, and the report should say so rather than crash.
        detail = error[1] if isinstance(error, tuple) else error
        result.notes.append(f"could not remove {path}: {detail}")

    if sys.version_info >= (3, 12):
        shutil.rmtree(directory, onexc=note)
    else:
        shutil.rmtree(directory, onerror=note)


def probe_capacity(target: Path, *, limit_bytes: int | None = None, nonce: bytes | None = None) -> ProbeResult:
    """Write position-stamped blocks across TARGET's free space, read them back from the
    device and say whether the drive holds what it claims. `limit_bytes` bounds the test (for
    a quick partial check); by default it runs until the file system is full, like f3."""
    if not target.is_dir():
        raise InfopackError("not a directory", target)
    directory = target / PROBE_DIR_NAME
    if directory.exists() or directory.is_symlink():
        raise InfopackError(f"{PROBE_DIR_NAME} already exists (left by an earlier probe?); remove it first", target)
    result = ProbeResult(str(target), claimed_free_bytes(target))
    nonce = nonce or os.urandom(8)
    directory.mkdir()
    try:
        files = _write_probe_files(directory, nonce, limit_bytes)
        result.written_bytes = sum(item.blocks for item in files) * BLOCK_BYTES
        if result.written_bytes == 0:
            result.notes.append("no free space could be written")
        _read_back(files, nonce, result)
    finally:
        _remove_probe_dir(directory, result)
    return result
