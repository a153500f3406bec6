"""`infopack export --zim` against the libzim writer (what Kiwix's own files are made with) on the
same entries: time and bytes.

    pip install libzim      # GPL: a benchmark comparator only, never an infopack dependency
    nice -n 10 python bench/zim_export_bench.py [--articles 5000] [--rounds 2]

Generated articles (bench/gen_corpus.py: ~60 % Korean, 2-8 KB of text each) are built into a
bundle and signed; `export_zim` then verifies the bundle and writes the ZIM (our writer: zstd
level 19, 2 MiB clusters, like libzim's defaults). libzim gets exactly the entries we wrote
(every C/ page and file, read back from our ZIM, the same metadata and main page) and writes
them twice: without its full-text index (it still builds its Xapian title index), and with the
full-text index for Korean, for reference. Both use both cores (ours: cluster compression in
threads; libzim: config_nbworkers(2)). Rounds are interleaved and medians reported, since the
machine is shared. Our time includes verifying the bundle (hashing every file, checking the
signature), which libzim does not do; it is also shown alone.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from gen_corpus import write_content_folder  # noqa: E402

from infopack.build.assemble import build_bundle  # noqa: E402
from infopack.export.zim import export_zim  # noqa: E402
from infopack.trust.keys import generate_secret_key  # noqa: E402
from infopack.trust.sign import sign_bundle  # noqa: E402
from infopack.trust.verify import verify_bundle  # noqa: E402


def entries_of(zim: Path) -> tuple[list[tuple[str, str, str, bytes]], dict[str, bytes], str]:
    """(path, title, mime, content) of every C entry, the metadata, and the main page's path."""
    from libzim.reader import Archive

    archive = Archive(str(zim))
    items = []
    for number in range(archive.all_entry_count):
        entry = archive._get_entry_by_id(number)
        if entry.is_redirect:
            continue
        # python-libzim shows paths without their namespace: a C entry is one found by its path.
        if not archive.has_entry_by_path(entry.path) or archive.get_entry_by_path(entry.path)._index != number:
            continue
        item = entry.get_item()
        items.append((entry.path, entry.title if entry.title != entry.path else "", item.mimetype, bytes(item.content)))
    metadata = {key: bytes(archive.get_metadata(key)) for key in archive.metadata_keys if key != "Counter"}
    return items, metadata, archive.main_entry.get_item().path


def libzim_write(out: Path, items, metadata: dict[str, bytes], main_path: str, fulltext: bool) -> tuple[float, float]:
    from libzim.writer import Creator, Hint, Item, StringProvider

    class Entry(Item):
        def __init__(self, path: str, title: str, mime: str, content: bytes):
            super().__init__()
            self.values = (path, title, mime, content)

        def get_path(self) -> str:
            return self.values[0]

        def get_title(self) -> str:
            return self.values[1]

        def get_mimetype(self) -> str:
            return self.values[2]

        def get_contentprovider(self):
            return StringProvider(self.values[3])

        def get_hints(self):
            front = self.values[2] == "text/html" and self.values[0] != main_path
            return {Hint.FRONT_ARTICLE: front, Hint.COMPRESS: self.values[2].startswith("text/")}

    start, cpu = time.perf_counter(), time.process_time()
    creator = Creator(str(out)).config_indexing(fulltext, "kor").config_nbworkers(2)
    with creator:
        creator.set_mainpath(main_path)
        for key, value in sorted(metadata.items()):
            if key.startswith("Illustration_"):
                creator.add_illustration(48, value)
            else:
                creator.add_metadata(key, value.decode("utf-8"))
        for path, title, mime, content in items:
            creator.add_item(Entry(path, title, mime, content))
    return time.perf_counter() - start, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    import libzim  # noqa: F401  (fail early if the comparator is missing)

    work = Path(tempfile.mkdtemp(prefix="infopack-zimexport-"))
    try:
        content = write_content_folder(args.articles, work / "content")
        key = generate_secret_key()
        start = time.perf_counter()
        build_bundle(content, work / "bundle", sign=lambda folder: sign_bundle(folder, key))
        build_seconds = time.perf_counter() - start
        bundle_bytes = sum(p.stat().st_size for p in (work / "bundle").rglob("*") if p.is_file())

        times: dict[str, list[float]] = {"ours": [], "verify": [], "libzim": [], "libzim_ft": []}
        cpus: dict[str, list[float]] = {label: [] for label in times}
        sizes: dict[str, int] = {}
        items = metadata = main_path = None
        for round_number in range(args.rounds):
            out = work / f"ours{round_number}.zim"
            start, cpu = time.perf_counter(), time.process_time()
            export_zim(work / "bundle", out, [key.public_key()])
            times["ours"].append(time.perf_counter() - start)
            cpus["ours"].append(time.process_time() - cpu)
            sizes["ours"] = out.stat().st_size
            start, cpu = time.perf_counter(), time.process_time()
            assert verify_bundle(work / "bundle", [key.public_key()]).ok
            times["verify"].append(time.perf_counter() - start)
            cpus["verify"].append(time.process_time() - cpu)
            if items is None:
                items, metadata, main_path = entries_of(out)
            for label, fulltext in (("libzim", False), ("libzim_ft", True)):
                target = work / f"{label}{round_number}.zim"
                wall, cpu_seconds = libzim_write(target, items, metadata, main_path, fulltext)
                times[label].append(wall)
                cpus[label].append(cpu_seconds)
                sizes[label] = target.stat().st_size
                target.unlink()
            if round_number:
                assert out.read_bytes() == (work / "ours0.zim").read_bytes()  # deterministic
        assert items is not None
        html_bytes = sum(len(c) for _, _, mime, c in items if mime == "text/html")
        median = {label: statistics.median(values) for label, values in times.items()}
        cpu_median = {label: statistics.median(values) for label, values in cpus.items()}
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores (shared), python {platform.python_version()}")
        print(f"{args.articles:,} generated articles, {len(items):,} C entries, {html_bytes:,} bytes of HTML pages; "
              f"bundle {bundle_bytes:,} bytes, built + signed in {build_seconds:.1f} s; {args.rounds} rounds, medians")
        print("| writer | wall (s) | CPU (s) | bytes | wall / CPU vs ours | bytes vs ours |")
        print("|---|---:|---:|---:|---:|---:|")
        print(f"| infopack export (verify + write) | {median['ours']:.2f} | {cpu_median['ours']:.2f} | "
              f"{sizes['ours']:,} | 1.00 / 1.00 | 1.00 |")
        print(f"| of which verifying the bundle | {median['verify']:.2f} | {cpu_median['verify']:.2f} | | | |")
        for label, name in (("libzim", "libzim, no full-text index (title index only)"),
                            ("libzim_ft", "libzim, full-text index (kor), for reference")):
            print(f"| {name} | {median[label]:.2f} | {cpu_median[label]:.2f} | {sizes[label]:,} | "
                  f"{median[label] / median['ours']:.2f} / {cpu_median[label] / cpu_median['ours']:.2f} | "
                  f"{sizes[label] / sizes['ours']:.2f} |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
