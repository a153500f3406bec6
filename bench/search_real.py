"""Benchmark: the search index on real pages nobody here wrote (Debian's HTML manuals).

    apt-get download gimp-help-ko python3.11-doc      # in /tmp
    dpkg-deb -x gimp-help-ko_*.deb /tmp/realcorpus/ko
    dpkg-deb -x python3.11-doc_*.deb /tmp/realcorpus/en
    python bench/search_real.py /tmp/realcorpus

Generated text has a small vocabulary, so its index share flatters; real prose has a long tail of
terms. Each HTML page becomes one article (title from <title>, plain text of <body>), compressed
as the bundle does (zstd 19, trained dictionary, one frame per article), then indexed; the same
Chromium timings as search_bench.py follow.
"""

from __future__ import annotations

import json
import re
import statistics
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from search_bench import percentile, run_browser, write_page  # noqa: E402

from infopack.build.pack import compress_frames, train_dictionary  # noqa: E402
from infopack.build.search import SearchDoc, build_search_index  # noqa: E402


class TextExtractor(HTMLParser):
    """Title and visible body text; script, style and head contents are skipped."""

    def __init__(self) -> None:
        super().__init__()
        self.title: list[str] = []
        self.body: list[str] = []
        self.stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.stack.append(tag)

    def handle_endtag(self, tag):
        while self.stack and self.stack.pop() != tag:
            pass

    def handle_data(self, data):
        if "title" in self.stack:
            self.title.append(data)
        elif "body" in self.stack and not {"script", "style"} & set(self.stack):
            self.body.append(data)


def load_pages(root: Path, lang: str) -> list[tuple[str, str, bytes]]:
    pages = []
    for path in sorted(root.rglob("*.html")):
        raw = path.read_bytes()
        parser = TextExtractor()
        parser.feed(raw.decode("utf-8", "replace"))
        title = " ".join("".join(parser.title).split())
        body = re.sub(r"[ \t]*\n\s*", "\n", "".join(parser.body)).strip()
        if body:
            pages.append((lang, title, body, raw))
    return pages


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/realcorpus")
    pages = load_pages(root / "ko", "ko") + load_pages(root / "en", "en")
    docs = [SearchDoc(i, lang, title, "", body) for i, (lang, title, body, _) in enumerate(pages)]
    started = time.perf_counter()
    index = build_search_index(docs)
    build_seconds = time.perf_counter() - started
    html_docs = [raw for *_, raw in pages]
    dictionary = train_dictionary(html_docs)
    html_bytes = sum(len(f) for f in compress_frames(html_docs, dictionary)) + len(dictionary or b"")
    text_docs = [body.encode("utf-8") for _, _, body, _ in pages]
    text_dictionary = train_dictionary(text_docs)
    text_bytes = sum(len(f) for f in compress_frames(text_docs, text_dictionary)) + len(text_dictionary or b"")
    index_bytes = sum(len(p) for p in index.payloads.values())
    page_dir = Path("/tmp/infopack-search-real")
    write_page(page_dir, index.payloads, index.meta)
    runs = run_browser(page_dir, cold=12)
    warm = [r["ms"] for r in runs["warm"]]
    print(json.dumps({
        "articles": len(docs),
        "ko": sum(1 for d in docs if d.lang == "ko"),
        "raw_text_bytes": sum(len(t) for t in text_docs),
        "build_s": round(build_seconds, 2),
        "terms": index.stats["terms"],
        "postings": index.stats["postings"],
        "shards": len(index.meta["shards"]),
        "index_bytes": index_bytes,
        "compressed_html_bytes": html_bytes,
        "compressed_plain_text_bytes": text_bytes,
        "index_share_of_html": round(index_bytes / html_bytes, 3),
        "index_share_of_plain_text": round(index_bytes / text_bytes, 3),
        "first_ms_median": round(statistics.median(r["ms"] for r in runs["first"]), 1),
        "first_ms_max": round(max(r["ms"] for r in runs["first"]), 1),
        "first_bytes_max": max(r["bytes"] for r in runs["first"]),
        "warm_ms_p50": round(percentile(warm, 0.5), 2),
        "warm_ms_p95": round(percentile(warm, 0.95), 2),
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
