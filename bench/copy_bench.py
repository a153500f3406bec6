"""Benchmark: `infopack copy` of one bundle to two targets, against `cp -r` + `sha256sum -c`
doing the same work in the same run.

Same work on both sides: check the source (our verifier / `sha256sum -c` in the bundle), write
it to both targets at once (our threads / two `cp -r` in parallel), flush to the disk (our
per-file fsync / `sync`), drop the targets' pages from the page cache (both with
posix_fadvise DONTNEED, so both read back from the disk), and check every file on both targets
(our read-back / two `sha256sum -c` in parallel).

    python3 bench/copy_bench.py --size-mb 2048 --work /var/tmp/copy-bench
    python3 bench/copy_bench.py --size-mb 256 --fat      # onto real FAT32 (fusefat) file systems
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from infopack.build.output import write_manifest
from infopack.drives.copy import copy_bundle
from infopack.format.manifest import BundleInfo
from infopack.trust.keys import generate_secret_key
from infopack.trust.sign import sign_bundle

MB = 1024 * 1024


def make_bundle(root: Path, size_mb: int, key) -> None:
    """A signed bundle shaped like a media-heavy release: a few large videos, many small data files."""
    (root / "media").mkdir(parents=True)
    (root / "data/text").mkdir(parents=True)
    (root / "index.html").write_bytes(b"<!doctype html><title>bench</title>\n")
    for number in range(400):  # ~16 MB of small data files
        (root / f"data/text/{number:04d}.js").write_bytes(os.urandom(40 * 1024))
    remaining = size_mb * MB - 400 * 40 * 1024
    videos = max(1, remaining // (256 * MB))
    for number in range(videos):
        with open(root / f"media/video-{number}.mp4", "wb") as out:
            for _ in range(remaining // videos // MB):
                out.write(os.urandom(MB))
    write_manifest(root, BundleInfo("bench", "Bench", "", "en", 1, "2026-11-01", ""))
    sign_bundle(root, key)


def drop_cache(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            os.close(fd)


def fresh(targets: list[Path], fat_bytes: int | None = None) -> None:
    """Empty target folders; with FAT_BYTES, each a freshly formatted FAT32 image mounted with
    fusefat (this kernel has no vfat driver; see tests/fatfs.py)."""
    for target in targets:
        if os.path.ismount(target):
            subprocess.run(["fusermount", "-u", str(target)], check=True)
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        if fat_bytes is not None:
            image = target.with_suffix(".img")
            image.unlink(missing_ok=True)
            with open(image, "wb") as handle:
                handle.truncate(fat_bytes)
            subprocess.run(["mkfs.vfat", "-F", "32", str(image)], check=True, capture_output=True)
            subprocess.run(["fusefat", "-o", "rw+", str(image), str(target)], check=True, capture_output=True)
            while not os.path.ismount(target):
                time.sleep(0.05)
    subprocess.run(["sync"], check=True)


def run_baseline(bundle: Path, targets: list[Path]) -> tuple[float, dict[str, float]]:
    """The plain tools; returns the total and each phase's seconds (to show where time goes)."""
    phases: dict[str, float] = {}
    started = last = time.monotonic()

    def phase(name: str) -> None:
        nonlocal last
        now = time.monotonic()
        phases[name] = now - last
        last = now

    subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=bundle, check=True)
    phase("sha256sum -c source")
    copies = [subprocess.Popen(["cp", "-r", f"{bundle}/.", str(target)]) for target in targets]
    assert all(process.wait() == 0 for process in copies)
    phase("cp -r x2")
    subprocess.run(["sync"], check=True)
    phase("sync")
    for target in targets:
        drop_cache(target)
    phase("drop cache")
    checks = [subprocess.Popen(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=target) for target in targets]
    assert all(process.wait() == 0 for process in checks)
    phase("sha256sum -c targets x2")
    return time.monotonic() - started, phases


def run_infopack(bundle: Path, targets: list[Path], key) -> float:
    started = time.monotonic()
    report = copy_bundle(bundle, targets, [key.public_key()])
    elapsed = time.monotonic() - started
    assert report.ok, report.table()
    print(report.table())
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=int, default=2048)
    parser.add_argument("--work", type=Path, default=Path("/var/tmp/copy-bench"))
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--fat", action="store_true", help="Targets are FAT32 images mounted with fusefat.")
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    key = generate_secret_key("bench")
    bundle = args.work / "bundle"
    made = time.monotonic()
    make_bundle(bundle, args.size_mb, key)
    files = sum(1 for path in bundle.rglob("*") if path.is_file())
    size = sum(path.stat().st_size for path in bundle.rglob("*") if path.is_file())
    print(f"bundle: {files} files, {size / 1e9:.2f} GB (made in {time.monotonic() - made:.0f} s)")
    targets = [args.work / "target-a", args.work / "target-b"]
    fat_bytes = (size * 5 // 4 + 64 * MB) if args.fat else None
    for round_number in range(1, args.rounds + 1):
        drop_cache(bundle)  # both sides start with the source on disk, not in memory
        fresh(targets, fat_bytes)
        baseline, phases = run_baseline(bundle, targets)
        print("baseline phases: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in phases.items()))
        drop_cache(bundle)
        fresh(targets, fat_bytes)
        ours = run_infopack(bundle, targets, key)
        print(f"round {round_number}: cp -r + sync + sha256sum -c: {baseline:.1f} s; "
              f"infopack copy: {ours:.1f} s; ratio {ours / baseline:.2f}x")
    fresh(targets)  # unmounts FAT targets
    shutil.rmtree(args.work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
