"""Benchmark: the search index (src/infopack/build/search.py) and its query engine (viewer/search.js).

    python bench/search_bench.py [--articles 10000 100000] [--cold 12] [--text-sample 10]

For each corpus size, generated Korean + English articles (bench/gen_corpus.py, 2-8 KB of body
each) are indexed, and a file:// page is written to /tmp with the search payloads as data files
(docs/FORMAT.md section 2), search.js and the viewer's zstd decoder. Headless Chromium then runs:

  first query   a fresh page per query; time from search() to results, shard loading (script tags,
                base64, SHA-256 check, zstd) included; bytes = payloads that query loaded
  typing        a fresh page per phrase, searching at every keystroke state (ㅎ, 하, 한, 한ㄱ, 한구, ...)
  warm queries  the whole query set once to load shards, then again, timing each query
  text          article HTML compressed as the bundle does (zstd 19, trained dictionary, one frame
                per article) on every Nth article (--text-sample), scaled up to the corpus

Goals (issue 5) at 100,000 articles: first query <= 300 ms, warm p95 <= 50 ms, index <= 60 % of
the compressed text.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html
import json
import os
import platform
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "src"))
from gen_corpus import KO_NOUNS, generate_articles  # noqa: E402

from infopack.build.pack import compress_frames, train_dictionary  # noqa: E402
from infopack.build.search import SearchDoc, build_search_index  # noqa: E402

SEARCH_JS = ROOT / "src" / "infopack" / "build" / "viewer" / "search.js"
ZSTD_JS = ROOT / "src" / "infopack" / "build" / "viewer" / "zstd.js"
PAGE = ROOT / "tests" / "js" / "search_runner.html"  # the loader page, shared with the tests
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]

# What readers type: words with particles, half-typed syllables, initials, Northern spellings,
# English words, prefixes and capitals, two-word queries, and a language filter.
QUERIES = [
    ("학교", None), ("학교에서", None), ("역사를", None), ("한구", None), ("한국", None), ("ㅎㄱ", None),
    ("ㄱㅈ", None), ("로동", None), ("력사", None), ("리용", None), ("녀자", None), ("량식", None),
    ("세계사 과거", None), ("민주주", None), ("도서과", None), ("자ㄷ", None), ("산", None), ("강 바다", None),
    ("library", None), ("librar", None), ("History", None), ("electr", None), ("rice farming", None),
    ("democracy elec", None), ("Hospitals", None), ("the", None), ("w", None), ("역사", "ko"), ("history", "en"),
    ("기차 철도", "ko"),
]
QUERIES += [(noun, None) for noun in KO_NOUNS[::7]]
# Search as you type: every keystroke state an IME shows, each searched on arrival.
TYPING = [
    ["ㅎ", "하", "한", "한ㄱ", "한구", "한국", "한국ㅇ", "한국으", "한국의", "한국의 ", "한국의 ㅇ", "한국의 여", "한국의 역",
     "한국의 역ㅅ", "한국의 역사"],
    ["h", "hi", "his", "hist", "histo", "histor", "history", "history ", "history o", "history of"],
    ["ㄹ", "로", "롣", "로도", "로동", "로동ㅈ", "로동자"],
]


def article_html(body: str) -> bytes:
    return "".join(f"<p>{html.escape(p)}</p>" for p in body.split("\n\n")).encode("utf-8")


def write_page(directory: Path, payloads: dict[str, bytes], meta: dict) -> dict[str, int]:
    """A file:// page with the payloads as data files; returns each data file's size."""
    if directory.exists():
        shutil.rmtree(directory)
    files, sizes = {}, {}
    for name, payload in payloads.items():
        target = directory / "data" / f"{name}.js"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(f'infopackData("{name}","{base64.b64encode(payload).decode()}");\n', "ascii")
        files[name] = [len(payload), hashlib.sha256(payload).hexdigest()]
        sizes[name] = target.stat().st_size
    shutil.copy(SEARCH_JS, directory / "search.js")
    shutil.copy(ZSTD_JS, directory / "decoder.js")
    root = json.dumps({"files": files, "search": meta}, ensure_ascii=False).replace("<", "\\u003c")
    (directory / "index.html").write_text(PAGE.read_text("utf-8").replace("ROOT_JSON", root), "utf-8")
    return sizes


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def run_browser(page_dir: Path, cold: int) -> dict:
    from playwright.sync_api import sync_playwright

    url = (page_dir / "index.html").as_uri()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        firsts = []
        for query, lang in QUERIES[:cold]:
            context = browser.new_context()
            page = context.new_page()
            page.goto(url)
            firsts.append(page.evaluate("([q, lang]) => timeQuery(q, lang)", [query, lang]))
            context.close()
        typing = []
        for keystrokes in TYPING:
            context = browser.new_context()
            page = context.new_page()
            page.goto(url)
            typing += page.evaluate("states => timeAll(states.map(s => [s, null]))", keystrokes)
            context.close()
        context = browser.new_context()
        page = context.new_page()
        page.goto(url)
        loading = page.evaluate("queries => timeAll(queries)", QUERIES)
        warm = page.evaluate("queries => timeAll(queries)", QUERIES) + page.evaluate("queries => timeAll(queries)", QUERIES)
        context.close()
        browser.close()
    return {"first": firsts, "typing": typing, "loading": loading, "warm": warm}


def bench(count: int, cold: int, text_sample: int) -> dict:
    started = time.perf_counter()
    articles = list(generate_articles(count))
    generated = time.perf_counter() - started
    docs = [SearchDoc(i, a.lang, a.title, a.summary, a.body) for i, a in enumerate(articles)]
    started = time.perf_counter()
    index = build_search_index(docs)
    build_seconds = time.perf_counter() - started
    index_bytes = sum(len(p) for p in index.payloads.values())

    sample = [article_html(a.body) for a in articles[::text_sample]]
    started = time.perf_counter()
    dictionary = train_dictionary(sample)
    frames = compress_frames(sample, dictionary)
    text_seconds = time.perf_counter() - started
    text_bytes = sum(len(f) for f in frames) * count / len(sample) + len(dictionary or b"")
    raw_text = sum(len(article_html(a.body)) for a in articles)
    del articles, docs, sample, frames

    page_dir = Path(f"/tmp/infopack-search-bench-{count}")
    file_sizes = write_page(page_dir, index.payloads, index.meta)
    runs = run_browser(page_dir, cold)
    firsts = runs["first"]
    warm_ms = [r["ms"] for r in runs["warm"]]
    return {
        "articles": count,
        "generate_s": round(generated, 1),
        "build_s": round(build_seconds, 1),
        "terms": index.stats["terms"],
        "postings": index.stats["postings"],
        "shards": len(index.meta["shards"]),
        "meta_bytes": len(json.dumps(index.meta, ensure_ascii=False).encode()),
        "index_bytes": index_bytes,
        "index_file_bytes": sum(file_sizes.values()),
        "raw_html_bytes": raw_text,
        "text_bytes_est": round(text_bytes),
        "text_compress_s_sample": round(text_seconds, 1),
        "index_share": round(index_bytes / text_bytes, 3),
        "first_ms_median": round(statistics.median(r["ms"] for r in firsts), 1),
        "first_ms_max": round(max(r["ms"] for r in firsts), 1),
        "first_bytes_median": round(statistics.median(r["bytes"] for r in firsts)),
        "first_bytes_max": max(r["bytes"] for r in firsts),
        "first_slowest": max(firsts, key=lambda r: r["ms"])["q"],
        "loading_ms_p95": round(percentile([r["ms"] for r in runs["loading"]], 0.95), 1),
        "warm_ms_p50": round(percentile(warm_ms, 0.5), 2),
        "warm_ms_p95": round(percentile(warm_ms, 0.95), 2),
        "warm_ms_max": round(max(warm_ms), 2),
        "warm_slowest": max(runs["warm"], key=lambda r: r["ms"])["q"],
        "typing_keystroke_ms_p50": round(percentile([r["ms"] for r in runs["typing"]], 0.5), 1),
        "typing_keystroke_ms_max": round(max(r["ms"] for r in runs["typing"]), 1),
        "typing_slowest": max(runs["typing"], key=lambda r: r["ms"])["q"],
        "typing_bytes_total": sum(r["bytes"] for r in runs["typing"]),
        "queries": len(QUERIES),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, nargs="+", default=[10000, 100000])
    parser.add_argument("--cold", type=int, default=12, help="queries timed on a fresh page each")
    parser.add_argument("--text-sample", type=int, default=10, help="compress every Nth article's text")
    args = parser.parse_args()
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    for count in args.articles:
        print(json.dumps(bench(count, args.cold, args.text_sample), ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
