"""Our ZIM reader (and read_zims) against python-libzim reading the same 100,000-article ZIM.

    nice -n 10 python bench/zim_read_bench.py              # 100,000 articles, generated once
    nice -n 10 python bench/zim_read_bench.py --articles 20000

The ZIM is written by python-libzim (GPL: a benchmark tool only) with its defaults (zstd, 2 MiB
clusters), no full-text index, and cached under /tmp/infopack-bench/. Articles are modest Wikipedia-
like pages (~1.5 KB of HTML: a title, four paragraphs, links to other articles, one image out of
200); one article in ten also has a redirect. Each measurement runs in a fresh Python process, so
its peak RSS (ru_maxrss) is its own:

- `libzim`: python-libzim reads every front article's content (through the title listing, as a
  Kiwix-like reader does) — the reference;
- `ours`: our ZimArchive reads the same articles' content, in cluster order;
- `import`: read_zims — the same plus HTML cleaning, link and image rewriting, redirects as aliases
  (what `infopack import FILE.zim` does before writing; the articles are dropped, not written).

Rates are articles per second (wall clock); the ratio is ours / libzim.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

CACHE = Path("/tmp/infopack-bench")
IMAGES = 200
WORDS = ("river mountain city history people language school water market music road bridge village "
         "festival winter summer harbour temple library garden").split()


def page(number: int, total: int) -> str:
    rng = (number * 2654435761) & 0xFFFFFFFF
    paragraphs = []
    for p in range(4):
        words = [WORDS[(rng >> (i % 24) ^ i * 7 + p) % len(WORDS)] for i in range(40)]
        link = (number * 31 + p * 977) % total
        paragraphs.append(f"<p>{' '.join(words[:20])} <a href=\"Article_{link}\">Article {link}</a> {' '.join(words[20:])}.</p>")
    return (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Article {number}</title>"
            f"<link rel=\"stylesheet\" href=\"./s/style.css\"><script src=\"./s/script.js\"></script></head><body>"
            f"<h1>Article {number}</h1><img src=\"I/image_{number % IMAGES}.png\" alt=\"\">{''.join(paragraphs)}"
            f"<span class=\"mw-editsection\"><a href=\"?action=edit\">edit</a></span></body></html>")


def generate(path: Path, total: int, images: list[bytes] | None = None) -> None:
    """A ZIM of TOTAL articles with python-libzim; IMAGES are the pictures' bytes (default: stand-ins
    that only start like a PNG, which a reader copies without decoding)."""
    from libzim.writer import Creator, Hint, Item, StringProvider

    class Page(Item):
        def __init__(self, item_path: str, title: str, mime: str, content: bytes | str, front: bool):
            super().__init__()
            self.values = (item_path, title, mime, content, front)

        def get_path(self) -> str:
            return self.values[0]

        def get_title(self) -> str:
            return self.values[1]

        def get_mimetype(self) -> str:
            return self.values[2]

        def get_contentprovider(self) -> StringProvider:
            return StringProvider(self.values[3])

        def get_hints(self) -> dict:
            return {Hint.FRONT_ARTICLE: self.values[4]}

    png = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000")
    partial = path.with_suffix(".partial")
    with Creator(str(partial)).config_indexing(False, "eng").config_nbworkers(2) as creator:
        creator.set_mainpath("Article_0")
        for name, value in {"Title": "Bench wiki", "Language": "eng", "Date": "2026-01-01", "Name": "bench",
                            "Description": "generated", "Creator": "bench", "Publisher": "bench"}.items():
            creator.add_metadata(name, value)
        for number in range(IMAGES):
            data = images[number] if images is not None else png + bytes([number]) * 300
            creator.add_item(Page(f"I/image_{number}.png", "", "image/png", data, False))
        creator.add_item(Page("s/style.css", "", "text/css", "body{}", False))
        creator.add_item(Page("s/script.js", "", "application/javascript", "x()", False))
        for number in range(total):
            creator.add_item(Page(f"Article_{number}", f"Article {number}", "text/html", page(number, total), True))
            if number % 10 == 0:
                creator.add_redirection(f"Other_name_{number}", f"Other name {number}", f"Article_{number}", {Hint.FRONT_ARTICLE: True})
    partial.rename(path)


def measure(kind: str, path: Path) -> dict:
    started = time.perf_counter()
    articles = 0
    content_bytes = 0
    if kind == "libzim":
        from libzim.reader import Archive

        archive = Archive(str(path))
        for number in range(archive.entry_count):
            entry = archive._get_entry_by_id(number)
            if entry.is_redirect:
                continue
            item = entry.get_item()
            if item.mimetype == "text/html":
                content_bytes += len(bytes(item.content))
                articles += 1
    elif kind == "ours":
        from infopack.ingest.zim.reader import ZimArchive

        with ZimArchive(path) as zim:
            front = (zim.entry(i) for i in zim.titles_in_order())
            for _entry, data in zim.read_in_cluster_order(e for e in front if e.kind == "content" and e.mime == "text/html"):
                content_bytes += len(data)
                articles += 1
    else:
        from infopack.ingest.model import ImportedArticle, ImportOptions
        from infopack.ingest.zim.convert import read_zims

        for item in read_zims([path], ImportOptions()):
            if isinstance(item, ImportedArticle):
                articles += 1
                content_bytes += len(item.body)
    seconds = time.perf_counter() - started
    return {"kind": kind, "seconds": seconds, "articles": articles, "bytes": content_bytes,
            "peak_rss_mb": peak_rss_mb()}


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: per process image, unlike ru_maxrss, which a
    child inherits from the parent it was forked from)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(kind: str, path: Path) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", kind, str(path)], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--child", nargs=2, metavar=("KIND", "PATH"))
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child[0], Path(args.child[1]))))
        return
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"zim-read-{args.articles}.zim"
    if not path.exists():
        started = time.perf_counter()
        generate(path, args.articles)
        print(f"generated {path} in {time.perf_counter() - started:.0f} s")
    print(f"{path}: {path.stat().st_size / 1e6:.1f} MB, {args.articles:,} articles; "
          f"{platform.machine()}, Python {platform.python_version()}")
    results = {kind: run_child(kind, path) for kind in ("libzim", "ours", "import")}
    base = results["libzim"]
    print("| reader | articles | wall (s) | articles/s | peak RSS (MB) | time ratio to libzim | RSS ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for kind, label in (("libzim", "python-libzim, content of every front article"), ("ours", "ours (ZimArchive), the same"),
                        ("import", "ours, read_zims (clean, links, images, aliases)")):
        r = results[kind]
        print(f"| {label} | {r['articles']:,} | {r['seconds']:.1f} | {r['articles'] / r['seconds']:,.0f} | {r['peak_rss_mb']:.0f} "
              f"| {r['seconds'] / base['seconds']:.2f} | {r['peak_rss_mb'] / base['peak_rss_mb']:.2f} |")


if __name__ == "__main__":
    main()
