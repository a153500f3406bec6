"""How small is a monthly update, and how fast is it applied? (issue 14)

A generated library of ARTICLES articles (default 10,000) with an image every 25th article is built
and signed (OLD); one article is edited and one added (the newest, as a monthly release would add
it, so every article number after it shifts), and the next release is built twice: with
`--base OLD` (NEW) and from scratch (SCRATCH). Reported, side by side:

- the bytes that really changed: every file of NEW that OLD does not hold with the same bytes at
  the same path (what any file-level update must carry at least);
- `infopack delta OLD NEW` (stable rebuild) and `infopack delta OLD SCRATCH` (no --base);
- the same OLD -> NEW delta with library.pack carried like any file (a patch) instead of derived
  (FORMAT.md 17.1), to show what deriving it saves;
- `rsync -a --only-write-batch` from NEW to a copy of OLD, as rsync does it locally (whole files)
  and with `--no-whole-file` (its rolling-checksum delta);
- `apply` on a copy of OLD (checks OLD file by file, writes, switches, verifies NEW) against
  copying NEW whole (`shutil.copytree` + sync) and against copy + `verify`; with --fat, apply and
  copy also on a FAT32 image mounted through fusefat, whose slow writes are closer to a card's.

    nice -n 10 python bench/delta_bench.py [--articles 10000] [--fat]
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
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the shared library generator in tests/kit

from infopack.trust.keys import generate_secret_key  # noqa: E402
from infopack.trust.verify import verify_bundle  # noqa: E402
from infopack.update import delta as delta_module  # noqa: E402
from infopack.update.apply import apply_delta  # noqa: E402
from infopack.update.delta import make_delta, read_header  # noqa: E402
from kit.content import write_content  # noqa: E402
from kit.releases import add_article, build, edit_article, files_of, library_articles, set_sequence  # noqa: E402

IMAGE_EVERY = 25


def write_photos(content: Path, numbers: list[int]) -> None:
    """Noisy 320x240 JPEGs (~20-30 KB each): media that compresses like photos, not like flat colour."""
    from PIL import Image

    media = content / "media"
    media.mkdir(parents=True, exist_ok=True)
    for number in numbers:
        rng = random.Random(number)
        image = Image.frombytes("RGB", (320, 240), rng.randbytes(320 * 240 * 3))
        image.save(media / f"img-{number}.png".replace(".png", ".jpg"), quality=70)


def make_content(root: Path, count: int) -> Path:
    articles = library_articles(count, paragraphs=3, media_every=IMAGE_EVERY)
    articles = {name: text.replace(".png)", ".jpg)") for name, text in articles.items()}
    write_content(root, articles, 'title = "Library"\nlang = "en"\nsequence = 1\nid = "library"\n')
    write_photos(root, [n for n in range(count) if n % IMAGE_EVERY == 0])
    return root


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def rsync_batch(new: Path, old: Path, work: Path, *extra: str) -> int:
    target = work / "rsync-target"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(old, target)
    batch = work / "rsync.batch"
    subprocess.run(["rsync", "-a", "--delete", *extra, f"--only-write-batch={batch}", f"{new}/", f"{target}/"],
                   check=True, capture_output=True)
    size = batch.stat().st_size
    batch.unlink()
    shutil.rmtree(target)
    return size


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--fat", action="store_true", help="also time apply and copy on a FAT32 image (fusefat)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="delta-bench-"))
    try:
        run(work, args.articles, args.rounds, args.fat)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(work: Path, count: int, rounds: int, fat: bool) -> None:
    key = generate_secret_key("bench")
    public = key.public_key()
    content_old = make_content(work / "content-1", count)
    seconds = timed(lambda: build(content_old, work / "old", key))
    old = work / "old"
    print(f"OLD: {count} articles, {folder_bytes(old):,} bytes, built in {seconds:.0f} s")
    content_new = work / "content-2"
    shutil.copytree(content_old, content_new)
    set_sequence(content_new, 2)
    edit_article(content_new, "a00042.md")
    add_article(content_new, "added.md", date="2025-12-31")  # newer than every other article
    seconds = timed(lambda: build(content_new, work / "new", key, base=old))
    new = work / "new"
    print(f"NEW (--base): built in {seconds:.0f} s")
    build(content_new, work / "scratch", key)
    scratch = work / "scratch"

    before, after = files_of(old), files_of(new)
    changed = {path: data for path, data in after.items() if before.get(path) != data and not path.startswith("signatures/")}
    changed_bytes = sum(len(data) for data in changed.values())
    bundle = folder_bytes(new)
    delta = make_delta(old, new, work / "base.delta").delta_bytes
    delta_scratch = make_delta(old, scratch, work / "scratch.delta").delta_bytes
    derivable = delta_module._derivable_pack
    delta_module._derivable_pack = lambda *args: None  # library.pack then travels as a patch
    try:
        delta_pack_carried = make_delta(old, new, work / "carried.delta").delta_bytes
    finally:
        delta_module._derivable_pack = derivable
    (work / "carried.delta").unlink()
    rsync_whole = rsync_batch(new, old, work)
    rsync_rolling = rsync_batch(new, old, work, "--no-whole-file")
    rsync_scratch = rsync_batch(scratch, old, work, "--no-whole-file")
    with open(work / "base.delta", "rb") as handle:
        records = read_header(handle).records
    heaviest = sorted(records, key=lambda r: -r.size)[:8]
    largest = sorted(changed.items(), key=lambda item: -len(item[1]))[:6]

    applies, copies, copy_verifies = [], [], []
    card = work / "card"
    for _ in range(rounds):
        shutil.rmtree(card, ignore_errors=True)
        shutil.copytree(old, card)
        os.sync()
        applies.append(timed(lambda: apply_delta(work / "base.delta", card, [public])))
        assert files_of(card) == after
        shutil.rmtree(card)
        os.sync()
        copies.append(timed(lambda: (shutil.copytree(new, card), os.sync())))
        shutil.rmtree(card)
        os.sync()
        copy_verifies.append(timed(lambda: (shutil.copytree(new, card), os.sync(),
                                            verify_bundle(card, [public]))))
        shutil.rmtree(card)
    apply_s, copy_s, copy_verify_s = (sorted(v)[len(v) // 2] for v in (applies, copies, copy_verifies))

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"bundle (NEW): {bundle:,} bytes, {len(after)} files; files that changed: {len(changed)}, {changed_bytes:,} bytes")
    print("largest changed files: " + ", ".join(f"{path} {len(data):,}" for path, data in largest))
    pack = next((r for r in records if r.path == "library.pack"), None)
    print(f"library.pack record: {pack.kind if pack else 'none'}"
          + (f", {len(pack.payloads)} payloads" if pack and pack.kind == "derived" else ""))
    print("heaviest delta records: " + ", ".join(f"{r.path} {r.kind}{'+xz' if r.xz else ''} {r.size:,}" for r in heaviest))
    print("| what travels | bytes | share of the bundle | x changed bytes |")
    print("|---|---:|---:|---:|")
    for label, size in (
        ("files that really changed (NEW vs OLD, --base)", changed_bytes),
        ("`infopack delta` OLD -> NEW (--base)", delta),
        ("`infopack delta` OLD -> NEW (--base), library.pack carried as a patch, not derived", delta_pack_carried),
        ("`infopack delta` OLD -> SCRATCH (no --base)", delta_scratch),
        ("`rsync -a --only-write-batch` (whole files, rsync's local default)", rsync_whole),
        ("`rsync -a --no-whole-file --only-write-batch`", rsync_rolling),
        ("`rsync -a --no-whole-file --only-write-batch` OLD -> SCRATCH (no --base)", rsync_scratch),
    ):
        print(f"| {label} | {size:,} | {size / bundle:.2%} | {size / changed_bytes:.2f} |")
    print(f"apply (check OLD, write, switch, verify NEW): {apply_s:.2f} s; copy NEW whole + sync: {copy_s:.2f} s "
          f"(ratio {apply_s / copy_s:.2f}); copy + verify: {copy_verify_s:.2f} s (ratio {apply_s / copy_verify_s:.2f}); "
          f"medians of {rounds}")
    if fat:
        on_fat(work, old, new, public, after)


def on_fat(work: Path, old: Path, new: Path, public, after: dict[str, bytes]) -> None:  # noqa: ANN001
    """The same on a FAT32 image through fusefat (user-space FAT: slow writes, like a cheap card)."""
    from kit.fatfs import fat_drive, missing_tools

    if (reason := missing_tools()) is not None:
        print(f"FAT32: skipped ({reason})")
        return
    size = 3 * folder_bytes(new) + 64 * 1024 * 1024
    drive = fat_drive(work / "fat-apply", size)
    try:
        card = drive.root / "library"
        _copy_plain(old, card)
        drive.remount()
        applied = timed(lambda: apply_delta(work / "base.delta", card, [public]))
        assert files_of(card) == after
    finally:
        drive.unmount()
    drive = fat_drive(work / "fat-copy", size)
    try:
        copied = timed(lambda: (_copy_plain(new, drive.root / "library"), os.sync()))
    finally:
        drive.unmount()
    print(f"FAT32 (fusefat): apply {applied:.1f} s; copy NEW whole + sync {copied:.1f} s (ratio {applied / copied:.2f})")


def _copy_plain(source: Path, target: Path) -> None:
    """Files only, no permissions (FAT has none to set)."""
    for path in sorted(source.rglob("*")):
        destination = target / path.relative_to(source)
        if path.is_dir():
            destination.mkdir(parents=True, exist_ok=True)
        else:
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)


if __name__ == "__main__":
    main()
