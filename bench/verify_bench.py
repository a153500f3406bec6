"""Benchmark `infopack verify` against `sha256sum -c` on the same generated bundle.

    python bench/verify_bench.py [--gib 2.0] [--small-files 20000] [--workdir /tmp]

Makes a signed bundle of many small files and a few large ones in a temporary directory (deleted
afterwards), warms the page cache, then runs each tool twice as a child process and reports the
second run: wall time, throughput, peak RSS (per child, from GNU time's %M). Two smaller bundles
show what verify's memory follows: one with the same files but small media (bytes), one with an
eighth of the files (file count).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from infopack.build.output import write_manifest
from infopack.format.manifest import BundleInfo
from infopack.trust.keys import generate_secret_key
from infopack.trust.sign import sign_bundle

MIB = 1024 * 1024
GNU_TIME = "/usr/bin/time"  # Debian package `time`


@dataclass
class Run:
    seconds: float
    peak_rss_mib: float
    exit_code: int


def generate_bundle(root: Path, total_bytes: int, small_files: int, seed: int = 1) -> int:
    """Write ~total_bytes: `small_files` files of 1-64 KiB, the rest in four large media files."""
    rng = random.Random(seed)
    pool = os.urandom(64 * MIB)  # content is irrelevant to hashing speed; slices keep files distinct
    written = 0
    for number in range(small_files):
        size = rng.randint(1024, 64 * 1024)
        start = rng.randrange(0, len(pool) - size)
        path = root / "data" / "text" / f"{number // 1000:02d}" / f"{number:05d}.js"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pool[start : start + size])
        written += size
    large = max(total_bytes - written, 4 * 16 * MIB) // 4
    for number in range(4):
        path = root / "media" / f"video-{number + 1}.mp4"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as handle:
            remaining = large
            while remaining:
                piece = min(remaining, len(pool) - 1 - number)
                handle.write(pool[number : number + piece])
                remaining -= piece
        written += large
    write_manifest(root, BundleInfo("bench", "bench", "", "en", 1, "2026-01-01", ""))
    return written


def run_child(command: list[str], cwd: Path) -> Run:
    """Run through GNU time: a child forked straight from this Python process would report
    this process's RSS as its own peak (Linux counts the pre-exec image in ru_maxrss)."""
    with tempfile.NamedTemporaryFile("r") as stats:
        start = time.perf_counter()
        completed = subprocess.run(
            [GNU_TIME, "-f", "%M", "-o", stats.name, *command], cwd=cwd, stdout=subprocess.DEVNULL
        )
        seconds = time.perf_counter() - start
        peak_kib = int(stats.read().split()[-1])
    return Run(seconds, peak_kib / 1024, completed.returncode)


def warm(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                while handle.read(8 * MIB):
                    pass


def measure(bundle: Path, pub: Path) -> tuple[Run, Run]:
    sha_command = ["sha256sum", "--quiet", "--strict", "-c", "SHA256SUMS"]
    verify_command = [
        sys.executable, "-c", "from infopack.commands import main; main()",
        "verify", str(bundle), "--trust", str(pub),
    ]
    warm(bundle)
    runs = {}
    for name, command in (("sha256sum", sha_command), ("verify", verify_command)):
        run_child(command, bundle)  # first run: discarded
        runs[name] = run_child(command, bundle)
        if runs[name].exit_code != 0:
            raise SystemExit(f"{name} failed with exit code {runs[name].exit_code}")
    return runs["sha256sum"], runs["verify"]


def report_line(name: str, run: Run, size: int) -> str:
    rate = size / run.seconds / MIB
    return f"| {name} | {run.seconds:.2f} s | {rate:.0f} MiB/s | {run.peak_rss_mib:.1f} MiB |"


@dataclass
class Result:
    size: int
    small_files: int
    sha256sum: Run
    verify: Run


def bench_one(workdir: Path, total: int, small_files: int, key, pub: Path) -> Result:
    bundle = workdir / f"bundle-{total // MIB}"
    try:
        size = generate_bundle(bundle, total, small_files)
        sign_bundle(bundle, key)
        sha, ours = measure(bundle, pub)
    finally:
        shutil.rmtree(bundle, ignore_errors=True)
    return Result(size, small_files, sha, ours)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=2.0)
    parser.add_argument("--small-files", type=int, default=20000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp"))
    args = parser.parse_args()
    key = generate_secret_key("bench")
    with tempfile.TemporaryDirectory(dir=args.workdir, prefix="verify-bench-") as temporary:
        workdir = Path(temporary)
        pub = workdir / "bench.pub"
        pub.write_bytes(key.public_key().to_file_bytes())
        total = int(args.gib * 1024 * MIB)
        results = [
            bench_one(workdir, total, args.small_files, key, pub),
            # Same number of files, a third of the bytes: does memory follow the bytes?
            bench_one(workdir, 0, args.small_files, key, pub),
            # An eighth of the files: memory per listed file.
            bench_one(workdir, total // 8, args.small_files // 8, key, pub),
        ]
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}")
    print("| tool | wall (2nd run) | throughput | peak RSS |")
    print("|---|---|---|---|")
    for result in results:
        size, sha, ours = result.size, result.sha256sum, result.verify
        print(f"| **bundle {size / MIB:.0f} MiB, {result.small_files} small + 4 large files** | | | |")
        print(report_line("sha256sum -c", sha, size))
        print(report_line("infopack verify", ours, size))
        print(f"| ratio (sha256sum time / verify time) | {sha.seconds / ours.seconds:.2f}x | | |")


if __name__ == "__main__":
    main()
