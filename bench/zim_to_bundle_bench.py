"""End to end ZIM -> bundle (`infopack import` then `infopack build`) beside python-libzim merely
reading the same file.

    nice -n 10 python bench/zim_to_bundle_bench.py                 # 10,000 articles, generated once
    nice -n 10 python bench/zim_to_bundle_bench.py --articles 2000

The ZIM is written by python-libzim (GPL: a benchmark tool only) with its defaults (zstd, 2 MiB
clusters), no full-text index, cached under /tmp/infopack-bench/. Articles are the modest
Wikipedia-like pages of bench/zim_read_bench.py (~1.6 KB of HTML: four paragraphs, four links to
other articles, a stylesheet, script and edit link), each showing one of 200 real 16x12 PNG
pictures; one article in ten has a redirect. Each step runs as the real command in a fresh
process (`python -m infopack ...`), and its peak RSS is that process's (RUSAGE_CHILDREN, read
after each step in a fresh measuring process of its own):

- `libzim`: python-libzim reads every front article's content — the reference;
- `import`: `infopack import X.zim --into DIR --quiet` (read, clean, write every article folder);
- `build`: `infopack build DIR --out BUNDLE --quiet` (render, pictures cleaned, search index, pack).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from zim_read_bench import CACHE, IMAGES  # noqa: E402
from zim_read_bench import generate as generate_zim  # noqa: E402  (the same pages as the reader benchmark)

WORK = CACHE / "zim-to-bundle"


def pictures() -> list[bytes]:
    from PIL import Image

    found = []
    for number in range(IMAGES):
        out = io.BytesIO()
        Image.new("RGB", (16, 12), (number, 255 - number, (number * 7) % 256)).save(out, "PNG")
        found.append(out.getvalue())
    return found


def generate(path: Path, total: int) -> None:
    """The reader benchmark's ZIM, with real PNG pictures (the build decodes them)."""
    generate_zim(path, total, pictures())


def read_with_libzim(path: Path) -> int:
    from libzim.reader import Archive

    archive = Archive(str(path))
    articles = 0
    for number in range(archive.entry_count):
        entry = archive._get_entry_by_id(number)
        if entry.is_redirect:
            continue
        item = entry.get_item()
        if item.mimetype == "text/html":
            len(bytes(item.content))
            articles += 1
    return articles


def child(command: list[str]) -> None:
    """Run one step as a child of this fresh process, print wall time and the child's peak RSS."""
    started = time.perf_counter()
    if command[0] == "libzim":
        articles = read_with_libzim(Path(command[1]))
        rss = peak_rss_self_mb()
    else:
        env = dict(os.environ)
        subprocess.run([sys.executable, "-m", "infopack", *command], check=True, env=env, stdout=subprocess.DEVNULL)
        articles = 0
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"seconds": time.perf_counter() - started, "peak_rss_mb": rss, "articles": articles}))


def peak_rss_self_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def step(*command: str) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", *command], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--child", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    CACHE.mkdir(exist_ok=True)
    zim = CACHE / f"zim-e2e-{args.articles}.zim"
    if not zim.exists():
        started = time.perf_counter()
        generate(zim, args.articles)
        print(f"generated {zim} in {time.perf_counter() - started:.0f} s")
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    content, bundle = WORK / "content", WORK / "bundle"
    print(f"{zim}: {zim.stat().st_size / 1e6:.1f} MB, {args.articles:,} articles; {platform.machine()}, "
          f"Python {platform.python_version()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    results = {
        "libzim": step("libzim", str(zim)),
        "import": step("import", str(zim), "--into", str(content), "--quiet"),
        "build": step("build", str(content), "--out", str(bundle), "--quiet"),
    }
    reimport = step("import", str(zim), "--into", str(content), "--quiet")
    written = sum(1 for _ in (content / "articles").iterdir())
    bundle_mb = sum(p.stat().st_size for p in bundle.rglob("*") if p.is_file()) / 1e6
    base = results["libzim"]["seconds"]
    total = results["import"]["seconds"] + results["build"]["seconds"]
    print(f"articles written: {written:,}; bundle {bundle_mb:.1f} MB; load now {os.getloadavg()[0]:.1f}")
    print("| step | wall (s) | articles/s | peak RSS (MB) | time ratio to libzim reading |")
    print("|---|---:|---:|---:|---:|")
    rows = [("python-libzim reads every front article", base, results["libzim"]["peak_rss_mb"]),
            ("`infopack import X.zim` (read, clean, write folders)", results["import"]["seconds"], results["import"]["peak_rss_mb"]),
            ("`infopack build` of what was imported", results["build"]["seconds"], results["build"]["peak_rss_mb"]),
            ("ZIM -> bundle, import + build", total, max(results["import"]["peak_rss_mb"], results["build"]["peak_rss_mb"])),
            ("re-import, nothing changed", reimport["seconds"], reimport["peak_rss_mb"])]
    for label, seconds, rss in rows:
        print(f"| {label} | {seconds:.1f} | {written / seconds:,.0f} | {rss:.0f} | {seconds / base:.1f} |")


if __name__ == "__main__":
    main()
