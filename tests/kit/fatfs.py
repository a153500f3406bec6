"""Real FAT32 file systems for the copy tests, and a drive that lies about its size.

This kernel has no vfat driver and no device-mapper, so `mount -o loop` and `dmsetup` are not
available here. What it does have is FUSE, so:

- a FAT32 image is made by the real `mkfs.vfat -F 32` and mounted read-write by Debian's
  `fusefat` (a FAT driver in user space): the copy tool sees an ordinary mounted FAT32 folder,
  with real FAT name rules, real clusters in the image file and a real kernel page cache above it;
- a lying drive is a FUSE file system (this module run as a script under Debian's python3 with
  python3-fusepy) exposing one file `disk.img` that claims LOGICAL bytes while only REAL bytes
  exist behind it: every byte at or past REAL maps onto the start of the file again, the way a
  counterfeit stick wraps its second half onto its first. mkfs.vfat then formats the whole claimed
  size, and fusefat mounts it, so the file system on top believes every byte.

Every fixture skips with the reason when FUSE or one of the tools is missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's, where python3-fusepy is installed
MOUNT_WAIT_SECONDS = 10.0
# Where the wrapped writes land: past the boot sector and both FATs of the small images used here.
# A real counterfeit wraps onto address 0 and so destroys the FAT too; fusefat re-reads the FAT
# from the disk for every lookup and would then follow garbage cluster chains forever, whereas
# the kernel driver would keep its cached copy. Sparing the head keeps the test about what the
# copy tool must notice (data that does not come back) rather than about a hung test driver.
PROTECTED_HEAD_BYTES = 2 * 1024 * 1024


def missing_tools(*, lying: bool = False) -> str | None:
    """Why the FAT fixtures cannot run here, or None when they can."""
    if not Path("/dev/fuse").exists():
        return "no /dev/fuse (FUSE is needed to mount FAT32 images without a vfat kernel driver)"
    for tool in ("mkfs.vfat", "fusefat", "fusermount"):
        if shutil.which(tool) is None:
            return f"{tool} not found (apt-get install dosfstools fusefat fuse)"
    if lying:
        probe = subprocess.run([SYSTEM_PYTHON, "-c", "import fusepy"], capture_output=True)
        if probe.returncode != 0:
            return "Debian python3 with fusepy not found (apt-get install python3-fusepy)"
    return None


def make_fat32_image(path: Path, size_bytes: int) -> Path:
    """A fresh FAT32 file system in an image file (no volume label: fusefat lists it as a file)."""
    with open(path, "wb") as image:
        image.truncate(size_bytes)
    format_fat32(path)
    return path


def format_fat32(path: Path) -> None:
    """mkfs.vfat -F 32 with 4 KiB clusters: fusefat writes a cluster per request, so the default
    512-byte clusters of a small image make every test eight times slower. mkfs warns that so few
    clusters are below FAT32's recommended minimum, but the result is a FAT32 file system (and
    fsck.fat accepts it)."""
    subprocess.run(["mkfs.vfat", "-F", "32", "-s", "8", str(path)], check=True, capture_output=True)


def _wait_until(condition, what: str) -> None:
    deadline = time.monotonic() + MOUNT_WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _is_mountpoint(path: Path) -> bool:
    return os.path.ismount(path)


def unmount(mountpoint: Path) -> None:
    subprocess.run(["fusermount", "-u", "-z", str(mountpoint)], capture_output=True)
    _wait_until(lambda: not _is_mountpoint(mountpoint), f"{mountpoint} to unmount")


def stop_fuse(mountpoint: Path, process: subprocess.Popen) -> None:
    """Unmount and wait for our FUSE daemon to exit, so everything it had is in its image."""
    if _is_mountpoint(mountpoint):
        subprocess.run(["fusermount", "-u", str(mountpoint)], capture_output=True)
    try:
        process.wait(timeout=MOUNT_WAIT_SECONDS)
    except subprocess.TimeoutExpired:  # still busy: detach lazily, then stop our own child
        unmount(mountpoint)
        process.terminate()
        process.wait(timeout=MOUNT_WAIT_SECONDS)


@dataclass
class FatDrive:
    """A FAT32 image mounted read-write at `root` through fusefat (run in the foreground as our
    own child, so unmounting can wait until it has written everything and exited)."""

    image: Path
    root: Path
    process: subprocess.Popen | None = None

    def mount(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        # fusefat chatters on stderr; a pipe nobody reads would fill up and freeze the drive.
        log = self.root.parent / f"{self.root.name}.fusefat.log"
        with open(log, "ab") as log_file:
            self.process = subprocess.Popen(
                ["fusefat", "-f", "-o", "rw+", str(self.image), str(self.root)],
                stdout=log_file, stderr=log_file,
            )
        process = self.process
        _wait_until(lambda: _is_mountpoint(self.root) or process.poll() is not None, f"fusefat at {self.root}")
        if process.poll() is not None:
            raise RuntimeError(f"fusefat failed: {log.read_text(errors='replace')}")

    def unmount(self) -> None:
        if self.process is not None:
            stop_fuse(self.root, self.process)
            self.process = None

    def remount(self) -> None:
        """Unmount and mount again: nothing of the old mount's caches survives."""
        self.unmount()
        self.mount()

    def fsck(self) -> subprocess.CompletedProcess:
        """fsck.fat in check-only mode (the drive must be unmounted)."""
        return subprocess.run(["fsck.fat", "-n", str(self.image)], capture_output=True, text=True)


def fat_drive(directory: Path, size_bytes: int) -> FatDrive:
    directory.mkdir(parents=True, exist_ok=True)
    drive = FatDrive(make_fat32_image(directory / "fat32.img", size_bytes), directory / "mnt")
    drive.mount()
    return drive


@dataclass
class LyingDrive:
    """A FAT32 file system claiming `logical_bytes` on a disk that holds only `real_bytes`."""

    backing: Path
    disk_dir: Path
    fat: FatDrive
    process: subprocess.Popen
    real_bytes: int
    logical_bytes: int

    def close(self) -> None:
        self.fat.unmount()
        stop_fuse(self.disk_dir, self.process)


def lying_drive(directory: Path, real_bytes: int, logical_bytes: int,
                protected_head: int = PROTECTED_HEAD_BYTES) -> LyingDrive:
    directory.mkdir(parents=True, exist_ok=True)
    backing = directory / "real-flash.bin"
    with open(backing, "wb") as flash:
        flash.truncate(real_bytes)
    disk_dir = directory / "disk"
    disk_dir.mkdir()
    log = directory / "lying-disk.log"
    with open(log, "ab") as log_file:
        process = subprocess.Popen(
            [SYSTEM_PYTHON, __file__, "lying", str(backing), str(logical_bytes), str(protected_head),
             str(disk_dir)],
            stdout=log_file, stderr=log_file,
        )
    try:
        _wait_until(lambda: _is_mountpoint(disk_dir) or process.poll() is not None, "the lying disk")
        if process.poll() is not None:
            raise RuntimeError(f"lying disk failed: {log.read_text(errors='replace')}")
        image = disk_dir / "disk.img"
        format_fat32(image)
        fat = FatDrive(image, directory / "mnt")
        fat.mount()
    except BaseException:
        stop_fuse(disk_dir, process)  # never leave a daemon or a mount behind
        raise
    return LyingDrive(backing, disk_dir, fat, process, real_bytes, logical_bytes)


# ----------------------------------------------------------------------------- the lying disk
# Runs only under Debian's python3 (`python3 tests/fatfs.py lying BACKING LOGICAL MOUNTDIR`).


def _serve_lying_disk(backing: str, logical_bytes: int, protected_head: int, mountpoint: str) -> None:
    import errno
    import stat as stat_module

    import fusepy

    real_bytes = os.path.getsize(backing)
    fd = os.open(backing, os.O_RDWR)
    image_name = "/disk.img"

    def real_address(offset: int) -> int:
        """Addresses past the real flash wrap onto it again, after the protected head."""
        if offset < real_bytes:
            return offset
        return protected_head + (offset - real_bytes) % (real_bytes - protected_head)

    def spans(offset: int, length: int):
        """(real offset, count) pieces of a logical range, split where the mapping jumps."""
        while length > 0:
            real_offset = real_address(offset)
            count = min(length, real_bytes - real_offset)
            yield real_offset, count
            offset += count
            length -= count

    class LyingDisk(fusepy.Operations):
        def getattr(self, path, fh=None):
            now = time.time()
            if path == "/":
                return {"st_mode": stat_module.S_IFDIR | 0o755, "st_nlink": 2,
                        "st_atime": now, "st_mtime": now, "st_ctime": now}
            if path == image_name:
                return {"st_mode": stat_module.S_IFREG | 0o644, "st_nlink": 1,
                        "st_size": logical_bytes, "st_atime": now, "st_mtime": now, "st_ctime": now}
            raise fusepy.FuseOSError(errno.ENOENT)

        def readdir(self, path, fh):
            return [".", "..", image_name[1:]]

        def open(self, path, flags):
            if path != image_name:
                raise fusepy.FuseOSError(errno.ENOENT)
            return 0

        def truncate(self, path, length, fh=None):
            return 0  # the claimed size never changes

        def read(self, path, size, offset, fh):
            size = max(0, min(size, logical_bytes - offset))
            return b"".join(os.pread(fd, count, real) for real, count in spans(offset, size))

        def write(self, path, data, offset, fh):
            data = data[: max(0, logical_bytes - offset)]
            position = 0
            for real, count in spans(offset, len(data)):
                os.pwrite(fd, data[position:position + count], real)
                position += count
            return len(data)

        def flush(self, path, fh):
            return 0

        def fsync(self, path, datasync, fh):
            os.fsync(fd)
            return 0

    fusepy.FUSE(LyingDisk(), mountpoint, foreground=True, nothreads=True, big_writes=True, direct_io=True)


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "lying":
        _serve_lying_disk(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    else:
        sys.exit("usage: python3 fatfs.py lying BACKING LOGICAL_BYTES PROTECTED_HEAD MOUNTPOINT")
