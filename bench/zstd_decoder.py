"""Benchmark: our JS zstd decoder (src/infopack/build/viewer/zstd.js) against fzstd, in one Chromium run.

    python bench/zstd_decoder.py [--articles 3000] [--rounds 11] [--workdir DIR]

The corpus is the generated Korean + English article text of bench/gen_corpus.py, rendered as
simple HTML fragments. It is compressed three ways (zstd level 19, as the bundle does):

  (a) large frames: the corpus cut into ~2 MiB pieces, no dictionary; both decoders decode these
  (b) small frames: one frame per article with a trained dictionary, no dict ID, content size
      written (the bundle's text frames); ours only, since fzstd has no dictionary support
  (c) small frames: one frame per article without a dictionary; both decoders

Both decoders run in the same headless Chromium page, loaded from file:// as classic scripts.
A warm-up round checks every output byte against the corpus; then each round decodes every set
with each decoder once (interleaved, so load changes on a shared machine hit all alike), and
the fastest and median rounds are reported.
Throughput is MB/s (10^6 bytes) of decompressed output.
"""

from __future__ import annotations

import argparse
import base64
import json
import platform
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import zstandard

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from gen_corpus import generate_articles  # noqa: E402

DECODER = ROOT / "src" / "infopack" / "build" / "viewer" / "zstd.js"
FZSTD = ROOT / "node_modules" / "fzstd" / "umd" / "index.js"
CHROMIUM = "/usr/bin/chromium"
LEVEL = 19
LARGE_FRAME = 2 * 1024 * 1024
DICT_SIZE = 64 * 1024


@dataclass
class FrameSet:
    """Frames laid end to end in one buffer; frame i is blob[offsets[i]:offsets[i+1]]."""

    blob: bytes
    offsets: list[int]

    @classmethod
    def of(cls, frames: list[bytes]) -> FrameSet:
        offsets = [0]
        for frame in frames:
            offsets.append(offsets[-1] + len(frame))
        return cls(b"".join(frames), offsets)

    def to_js(self) -> dict:
        return {"blob": base64.b64encode(self.blob).decode(), "offsets": self.offsets}


def article_html(count: int) -> list[bytes]:
    articles = []
    for article in generate_articles(count, seed=7):
        paragraphs = "".join(f"<p>{p}</p>\n" for p in article.body.split("\n\n"))
        articles.append(f'<h1 lang="{article.lang}">{article.title}</h1>\n{paragraphs}'.encode())
    return articles


def build_sets(articles: list[bytes]) -> tuple[dict[str, FrameSet], bytes, bytes]:
    corpus = b"".join(articles)
    plain = zstandard.ZstdCompressor(level=LEVEL)
    large = [plain.compress(corpus[i : i + LARGE_FRAME]) for i in range(0, len(corpus), LARGE_FRAME)]
    trained = zstandard.train_dictionary(DICT_SIZE, articles[:: max(1, len(articles) // 2000)], level=LEVEL)
    with_dict = zstandard.ZstdCompressor(
        level=LEVEL, dict_data=trained, write_dict_id=False, write_checksum=False, write_content_size=True
    )
    sets = {
        "large": FrameSet.of(large),
        "small_dict": FrameSet.of([with_dict.compress(a) for a in articles]),
        "small_plain": FrameSet.of([plain.compress(a) for a in articles]),
    }
    return sets, trained.as_bytes(), corpus


PAGE_SCRIPT = r"""
function bytes(b64) {
  var s = atob(b64), out = new Uint8Array(s.length);
  for (var i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
function frames(set) {
  var blob = bytes(set.blob), list = [];
  for (var i = 0; i + 1 < set.offsets.length; i++) list.push(blob.subarray(set.offsets[i], set.offsets[i + 1]));
  return list;
}
function decodeAll(list, decode) {
  var parts = [], total = 0;
  for (var i = 0; i < list.length; i++) { var out = decode(list[i]); parts.push(out); total += out.length; }
  return {parts: parts, total: total};
}
function sameAsCorpus(parts, corpus) {
  var at = 0;
  for (var i = 0; i < parts.length; i++) {
    var p = parts[i];
    for (var j = 0; j < p.length; j++) if (p[j] !== corpus[at + j]) return false;
    at += p.length;
  }
  return at === corpus.length;
}
function timeOnce(list, decode) {
  var t0 = performance.now();
  decodeAll(list, decode);
  return performance.now() - t0;
}
function runBenchmark(rounds) {
  var corpus = bytes(benchData.corpus);
  var dict = InfopackZstd.prepareDictionary(bytes(benchData.dict));
  var large = frames(benchData.sets.large), smallDict = frames(benchData.sets.small_dict),
      smallPlain = frames(benchData.sets.small_plain);
  var ours = function (f) { return InfopackZstd.decompress(f); };
  var oursDict = function (f) { return InfopackZstd.decompress(f, dict); };
  var theirs = function (f) { return fzstd.decompress(f); };
  var cases = [
    ['large_ours', large, ours], ['large_fzstd', large, theirs],
    ['small_dict_ours', smallDict, oursDict], ['small_plain_fzstd', smallPlain, theirs],
    ['small_plain_ours', smallPlain, ours]
  ];
  var results = {};
  cases.forEach(function (c) {
    // Warm-up round, which is also the correctness check.
    var first = decodeAll(c[1], c[2]);
    if (!sameAsCorpus(first.parts, corpus)) throw new Error(c[0] + ': decoded output differs from the corpus');
    results[c[0]] = {bytes: first.total, frames: c[1].length, times: []};
  });
  // Every case once per round, so that changes in machine load hit all of them alike.
  for (var r = 0; r < rounds; r++) {
    cases.forEach(function (c) { results[c[0]].times.push(timeOnce(c[1], c[2])); });
  }
  Object.keys(results).forEach(function (name) {
    var res = results[name], times = res.times.slice().sort(function (a, b) { return a - b; });
    res.best_ms = times[0];
    res.median_ms = times[times.length >> 1];
    res.mb_per_s = res.bytes / 1e6 / (res.best_ms / 1000);
    res.median_mb_per_s = res.bytes / 1e6 / (res.median_ms / 1000);
  });
  return results;
}
"""


def chromium_version() -> str:
    done = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, check=False)
    return done.stdout.strip()


def cpu_model() -> str:
    done = subprocess.run(["lscpu"], capture_output=True, text=True, check=False)
    fields = dict(line.split(":", 1) for line in done.stdout.splitlines() if ":" in line)
    return f"{fields.get('Model name', '?').strip()}, {fields.get('CPU(s)', '?').strip()} CPUs"


def run_in_chromium(work: Path, rounds: int) -> dict:
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT / "tests"))
    from kit.browser import CHROMIUM_ARGS

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        urls: list[str] = []
        page.on("request", lambda request: urls.append(request.url))
        page.goto((work / "bench.html").as_uri())
        raw = page.evaluate(f"runBenchmark({rounds})")
        browser.close()
    assert all(url.startswith("file:") for url in urls), urls
    return raw


def report(results: dict, sizes: dict[str, int], corpus_bytes: int, articles: int) -> str:
    def row(label: str, key: str) -> str:
        r = results[key]
        return f"| {label} | {r['frames']} | {r['mb_per_s']:.1f} | {r['median_mb_per_s']:.1f} |"

    def ratio(ours: str, theirs: str, key: str) -> float:
        return results[ours][key] / results[theirs][key]

    pairs = {"a": ("large_ours", "large_fzstd"), "b": ("small_dict_ours", "small_plain_fzstd"),
             "c": ("small_plain_ours", "small_plain_fzstd")}
    best = {k: ratio(*pair, "mb_per_s") for k, pair in pairs.items()}
    median = {k: ratio(*pair, "median_mb_per_s") for k, pair in pairs.items()}
    lines = [
        f"Corpus: {articles} generated articles, {corpus_bytes / 1e6:.1f} MB of HTML; zstd level {LEVEL}.",
        f"Compressed: large frames {sizes['large'] / 1e6:.2f} MB, per-article with {DICT_SIZE // 1024} KiB "
        f"dictionary {sizes['small_dict'] / 1e6:.2f} MB (+ dictionary), per-article plain "
        f"{sizes['small_plain'] / 1e6:.2f} MB.",
        "",
        "| case | frames | best MB/s | median MB/s |",
        "|---|---|---|---|",
        row("(a) large frames, ours", "large_ours"),
        row("(a) large frames, fzstd", "large_fzstd"),
        row("(b) per-article + dictionary, ours", "small_dict_ours"),
        row("(b) per-article plain, fzstd", "small_plain_fzstd"),
        row("(c) per-article plain, ours", "small_plain_ours"),
        "",
        f"Ratio ours/fzstd, best rounds: (a) {best['a']:.2f}x, (b) {best['b']:.2f}x "
        f"(ours with dictionary vs fzstd without), (c) {best['c']:.2f}x (same plain frames); "
        f"median rounds: (a) {median['a']:.2f}x, (b) {median['b']:.2f}x, (c) {median['c']:.2f}x.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--workdir", type=Path, help="keep the compressed corpus here and reuse it next time")
    args = parser.parse_args()
    if args.workdir is None:
        with tempfile.TemporaryDirectory(prefix="zstd-bench-") as tmp:
            run(Path(tmp), args.articles, args.rounds)
    else:
        args.workdir.mkdir(parents=True, exist_ok=True)
        run(args.workdir, args.articles, args.rounds)


def run(work: Path, article_count: int, rounds: int) -> None:
    data_file = work / f"data-{article_count}.js"
    sizes_file = work / f"sizes-{article_count}.json"
    if not data_file.exists():
        sets, dictionary, corpus = build_sets(article_html(article_count))
        data = {
            "corpus": base64.b64encode(corpus).decode(),
            "dict": base64.b64encode(dictionary).decode(),
            "sets": {name: s.to_js() for name, s in sets.items()},
        }
        sizes = {name: len(s.blob) for name, s in sets.items()} | {"corpus": len(corpus)}
        data_file.write_text("var benchData = " + json.dumps(data) + ";\n")
        sizes_file.write_text(json.dumps(sizes))
    sizes = json.loads(sizes_file.read_text())
    shutil.copy(DECODER, work / "zstd.js")
    shutil.copy(FZSTD, work / "fzstd.js")
    (work / "bench.js").write_text(PAGE_SCRIPT)
    (work / "bench.html").write_text(
        "<!doctype html><meta charset=utf-8><title>zstd bench</title>"
        "<script src='zstd.js'></script><script src='fzstd.js'></script>"
        f"<script src='{data_file.name}'></script><script src='bench.js'></script>"
    )
    raw = run_in_chromium(work, rounds)
    results = raw
    print(f"command: python bench/zstd_decoder.py --articles {article_count} --rounds {rounds}")
    print(f"machine: {cpu_model()}, {platform.system()} {platform.release()}; {chromium_version()}")
    print()
    print(report(results, sizes, sizes["corpus"], article_count))



if __name__ == "__main__":
    main()
