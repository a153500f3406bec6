"""The viewer on an emulated cheap phone (issue 15): headless Chromium at 360×740 with the CPU
throttled 4× (DevTools Emulation.setCPUThrottlingRate), from file://, on a generated library.

    nice -n 10 python bench/phone_bench.py 100000 [--base-src DIR] [--cache DIR]

The bundle comes from bench/viewer_bench.py's cache (built once; its data files do not depend on the
viewer). Its index.html is rendered again from the root document it embeds with the viewer in this
checkout, so a cached bundle always measures the current viewer. With --base-src (a `src` folder of
an older checkout), index-base.html is rendered with that viewer too, and every figure is measured
for both side by side: "new / base" is the ratio.

Figures (medians of --runs fresh pages; times from performance.now() inside the page):
- library: navigation start -> first library row;
- article after a click on a library row -> article body; related articles -> their list shown;
- deep link cold: a fresh page at #/a/<an article in the middle> -> article body;
- first search typed on the open library (Enter -> first highlighted result);
- suggestions: each keystroke of a Korean and an English word (half-typed syllables included), from
  the input event to the suggestion list for exactly that text, 250 ms between keystrokes;
- the same without throttling, at desktop size (1100×760), against the targets of issue 4.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import zstandard

sys.path.insert(0, str(Path(__file__).parent))
import viewer_bench  # noqa: E402
from viewer_bench import CHROMIUM_ARGS, WATCH, first_seen  # noqa: E402

from infopack.build.pack import data_file_text, read_data_file  # noqa: E402
from infopack.build.suggest import SuggestDoc, build_suggest_index  # noqa: E402
from infopack.build.viewer import render_viewer  # noqa: E402

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1100, "height": 760}
THROTTLE = 4
KOREAN_KEYS = ["ㅎ", "학", "학ㄱ", "학교", "학교ㅇ", "학교에"]  # what an IME shows while 학교에 is typed
ENGLISH_KEYS = ["m", "ma", "mar", "mark", "marke", "market"]
ROOT_RE_START = '<script id="infopack-root" type="application/json">'

RENDER_SCRIPT = """
import json, sys
from infopack.build.viewer import render_viewer
root = json.loads(sys.stdin.read())
sys.stdout.buffer.write(render_viewer(root, root["bundle"].get("lang") or "ko"))
"""


def embedded_root(index_html: Path) -> dict:
    text = index_html.read_text(encoding="utf-8")
    start = text.index(ROOT_RE_START) + len(ROOT_RE_START)
    return json.loads(text[start : text.index("</script>", start)])


def with_suggestions(bundle: Path, root: dict) -> dict:
    """A bundle cached before the title-suggestion index (docs/FORMAT.md 9.6) existed gets it here,
    built from its catalog (slug, title, language: the generated corpus has no aliases or
    priorities), written as data files beside the others and added to the root document, instead
    of a rebuild of the whole library (34 minutes at 100,000 articles on this machine)."""
    if "suggest" in root["search"]:
        return root
    saved = bundle / "root-suggest.json"
    if saved.exists():
        return json.loads(saved.read_text("utf-8"))
    docs = []
    for name in sorted(n for n in root["files"] if n.startswith("cat/")):
        _name, payload = read_data_file((bundle / "data" / f"{name}.js").read_bytes(), root["files"][name][0])
        rows = json.loads(zstandard.ZstdDecompressor().decompress(payload))
        docs += [SuggestDoc(row[0], row[3], row[1]) for row in rows]
    start = time.perf_counter()
    index = build_suggest_index(docs)
    print(f"suggestion index for {len(docs)} titles built in {time.perf_counter() - start:.0f} s: "
          f"{len(index.payloads)} files, {sum(len(p) for p in index.payloads.values()):,} payload bytes")  # fmt: skip
    for name, payload in index.payloads.items():
        target = bundle / "data" / f"{name}.js"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data_file_text(name, payload))
        root["files"][name] = [len(payload), hashlib.sha256(payload).hexdigest()]
    root["search"]["suggest"] = index.meta
    saved.write_text(json.dumps(root, ensure_ascii=False), "utf-8")
    return root


def render_pages(bundle: Path, base_src: Path | None) -> dict[str, Path]:
    """index-current.html (this checkout's viewer) and, with base_src, index-base.html."""
    source = bundle / "index.html"
    if not (bundle / "index-built.html").exists():
        (bundle / "index-built.html").write_bytes(source.read_bytes())
    root = with_suggestions(bundle, embedded_root(bundle / "index-built.html"))
    pages = {"new": bundle / "index-current.html"}
    pages["new"].write_bytes(render_viewer(root, root["bundle"].get("lang") or "ko"))
    if base_src:
        env = dict(os.environ, PYTHONPATH=str(base_src))
        html = subprocess.run([sys.executable, "-c", RENDER_SCRIPT], input=json.dumps(root).encode(), env=env,
                              capture_output=True, check=True).stdout  # fmt: skip
        pages["base"] = bundle / "index-base.html"
        pages["base"].write_bytes(html)
    return pages


def fresh_page(browser, viewport: dict, throttle: int):
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.add_init_script(WATCH)
    if throttle > 1:
        context.new_cdp_session(page).send("Emulation.setCPUThrottlingRate", {"rate": throttle})
    return context, page


CLICK_ROW = """(waitRelated) => new Promise(resolve => {
    const link = document.querySelectorAll('.list li a.title')[2];
    const start = performance.now();
    let body = 0;
    const observer = new MutationObserver(() => {
      if (!body && document.querySelector('article .body > *')) body = performance.now() - start;
      if (body && (!waitRelated || document.querySelector('.related li'))) {
        observer.disconnect();
        resolve([body, performance.now() - start]);
      }
    });
    observer.observe(document.getElementById('main'), { childList: true, subtree: true });
    setTimeout(() => { observer.disconnect(); resolve([body, NaN]); }, 15000); // no related article at all
    link.click();
})"""

TYPED_SEARCH = """() => new Promise(resolve => {
    const input = document.getElementById('search-input');
    input.value = '학교';
    const start = performance.now();
    new MutationObserver((_, observer) => {
      if (document.querySelector('.list li mark')) { observer.disconnect(); resolve(performance.now() - start); }
    }).observe(document.getElementById('main'), { childList: true, subtree: true });
    input.form.requestSubmit();
})"""

# [first list for exactly this text (the last list narrowed, or the index's answer), the index's answer]
KEYSTROKE = """(text) => new Promise(resolve => {
    const input = document.getElementById('search-input');
    const box = document.getElementById('search-suggestions');
    input.focus();
    const start = performance.now();
    let first = 0;
    const observer = new MutationObserver(() => {
      if (!first && box.getAttribute('data-query') === text) first = performance.now() - start;
      if (box.getAttribute('data-complete') === text) { observer.disconnect(); resolve([first, performance.now() - start]); }
    });
    observer.observe(box, { attributes: true, childList: true });
    input.value = text;
    input.dispatchEvent(new Event('input', { bubbles: true }));
})"""


def measure(browser, url: str, count: int, viewport: dict, throttle: int, runs: int, comforts: bool) -> dict[str, float]:
    keys = ("library", "click", "related", "deep", "typed", "suggest_first", "suggest", "suggest_complete")
    figures: dict[str, list[float]] = {k: [] for k in keys}
    middle = f"a{count // 2:06d}"
    for _ in range(runs):
        context, page = fresh_page(browser, viewport, throttle)
        page.goto(url)
        figures["library"].append(first_seen(page, "library"))
        page.wait_for_timeout(300)
        body, related = page.evaluate(CLICK_ROW, comforts)
        figures["click"].append(body)
        if comforts:
            figures["related"].append(related)
        context.close()

        context, page = fresh_page(browser, viewport, throttle)
        page.goto(url + "#/a/" + middle)
        figures["deep"].append(first_seen(page, "article"))
        context.close()

        context, page = fresh_page(browser, viewport, throttle)
        page.goto(url)
        first_seen(page, "library")
        page.wait_for_timeout(300)
        figures["typed"].append(page.evaluate(TYPED_SEARCH))
        context.close()

        # Suggestions on a fresh library page: the first keystroke pays for the first index shards.
        for keys in (KOREAN_KEYS, ENGLISH_KEYS) if comforts else ():
            context, page = fresh_page(browser, viewport, throttle)
            page.goto(url)
            first_seen(page, "library")
            page.wait_for_timeout(300)
            for index, text in enumerate(keys):
                shown, complete = page.evaluate(KEYSTROKE, text)
                if index == 0:
                    figures["suggest_first"].append(complete)
                else:
                    figures["suggest"].append(shown)
                    figures["suggest_complete"].append(complete)
                page.wait_for_timeout(250)
            context.close()
    result = {key: statistics.median(values) for key, values in figures.items() if values}
    if comforts:
        for key in ("suggest", "suggest_complete"):
            ordered = sorted(figures[key])
            result[key + "_p90"] = ordered[int(0.9 * (len(ordered) - 1))]
            result[key + "_max"] = ordered[-1]
    return result


def keystrokes(browser, url: str, viewport: dict, throttle: int, runs: int, gap: int) -> dict[str, list[float]]:
    """Only the suggestions, `gap` ms between keystrokes: per typed text, the times until the
    index's list for it is shown. Below 180 ms the viewer's live search (started 180 ms after the
    last keystroke) never runs between them; at 250 ms it does, and competes for the page."""
    times: dict[str, list[float]] = {}
    for _ in range(runs):
        for keys in (KOREAN_KEYS, ENGLISH_KEYS):
            context, page = fresh_page(browser, viewport, throttle)
            page.goto(url)
            first_seen(page, "library")
            page.wait_for_timeout(300)
            for text in keys:
                times.setdefault(text, []).append(page.evaluate(KEYSTROKE, text)[1])
                page.wait_for_timeout(gap)
            context.close()
    return times


def describe_keystrokes(name: str, times: dict[str, list[float]]) -> str:
    after_first = sorted(t for keys in (KOREAN_KEYS, ENGLISH_KEYS) for text in keys[1:] for t in times[text])
    p90 = after_first[int(0.9 * (len(after_first) - 1))]
    slowest = ", ".join(f"{text} {statistics.median(values):.0f}" for text, values in times.items())
    return (f"{name}: suggestions complete per keystroke median {statistics.median(after_first):.0f} / p90 {p90:.0f} / "
            f"max {after_first[-1]:.0f} ms ({len(after_first)} keystrokes); medians by text: {slowest}")  # fmt: skip


def describe(name: str, f: dict[str, float]) -> str:
    text = (f"{name}: library {f['library']:.0f} ms, article after click {f['click']:.0f} ms, "
            f"deep link cold {f['deep']:.0f} ms, first search typed {f['typed']:.0f} ms")  # fmt: skip
    if "suggest" in f:
        text += (f"; related shown {f['related']:.0f} ms after the click; suggestions per keystroke, first list "
                 f"for the text median {f['suggest']:.0f} / p90 {f['suggest_p90']:.0f} / max {f['suggest_max']:.0f} ms, "
                 f"the index's first eight median {f['suggest_complete']:.0f} / p90 {f['suggest_complete_p90']:.0f} / "
                 f"max {f['suggest_complete_max']:.0f} ms (first keystroke on a fresh page {f['suggest_first']:.0f} ms)")  # fmt: skip
    return text


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("count", type=int)
    parser.add_argument("--base-src", type=Path)
    parser.add_argument("--cache", type=Path, default=viewer_bench.CACHE)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--suggest-only", type=int, metavar="GAP_MS",
                        help="measure only the suggestions, on the phone, GAP_MS between keystrokes, every viewer")  # fmt: skip
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    viewer_bench.CACHE = args.cache
    args.cache.mkdir(exist_ok=True)
    bundle, seconds = viewer_bench.bundle_for(args.count)
    pages = render_pages(bundle, args.base_src)
    facets = sorted((bundle / "data" / "facet").glob("*.js"))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; "
          f"{args.count} articles ({f'built in {seconds:.0f} s' if seconds else 'bundle cached'}); "
          f"facet files {len(facets)}, {sum(p.stat().st_size for p in facets):,} bytes")  # fmt: skip
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        print(f"chromium {browser.version}")
        if args.suggest_only is not None:
            for name, page in pages.items():
                times = keystrokes(browser, page.as_uri(), PHONE, THROTTLE, args.runs, args.suggest_only)
                print(describe_keystrokes(f"phone, CPU 4x slower, {args.suggest_only} ms between keystrokes, {name} viewer", times))
            browser.close()
            return
        for label, viewport, throttle in (("phone 360x740, CPU 4x slower", PHONE, THROTTLE), ("desktop, unthrottled", DESKTOP, 1)):
            results = {name: measure(browser, page.as_uri(), args.count, viewport, throttle, args.runs, name == "new")
                       for name, page in pages.items()}  # fmt: skip
            for name, figures in results.items():
                print(describe(f"{label}, {name} viewer", figures))
            if "base" in results:
                ratio = {k: results["new"][k] / results["base"][k] for k in ("library", "click", "deep", "typed")}
                print(f"{label}, new / base: " + ", ".join(f"{k} {v:.2f}x" for k, v in ratio.items()))
        browser.close()


if __name__ == "__main__":
    main()
