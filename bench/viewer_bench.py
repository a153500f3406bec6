"""Viewer speed at 1,000 / 10,000 / 100,000 generated articles, in headless Chromium from file://.

    python bench/viewer_bench.py 1000 10000 100000      # corpora and bundles cached in /tmp/infopack-bench

For each size: build the bundle (timed), then in one fresh browser page per measurement:
- library: navigation start -> first library row in the DOM (performance.now() in the page);
- article after a click: click on a library row -> article body in the DOM;
- deep link cold: a fresh page opened at #/a/<an article in the middle> -> article body;
- search first query (cold page opened at #/search?q=, shards loaded) -> first result row;
- search first query typed on the open library (Enter -> first result row), the usual way;
- JS heap after browsing (library, 5 pages of "more", 10 articles, 3 searches), via CDP;
- a baseline in the same browser: a static HTML page with 50 rows, navigation -> first row,
  so the viewer's figures can be read as a ratio to the cheapest possible page.
Viewer code bytes: our JS + CSS as inlined, raw and gzip -9.
"""

from __future__ import annotations

import gzip
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from gen_corpus import write_content_folder  # noqa: E402

from infopack.build.assemble import build_bundle  # noqa: E402
from infopack.build.viewer import SCRIPT_FILES, _asset  # noqa: E402

CACHE = Path("/tmp/infopack-bench")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]  # fmt: skip

WATCH = """
window.__firstSeen = {};
new MutationObserver(function () {
  [['library', '.list li'], ['article', 'article .body > *'], ['result', '.list li mark']].forEach(function (pair) {
    if (!window.__firstSeen[pair[0]] && document.querySelector(pair[1])) window.__firstSeen[pair[0]] = performance.now();
  });
}).observe(document, { childList: true, subtree: true });
"""


def bundle_for(count: int) -> tuple[Path, float | None]:
    content = CACHE / f"gen-{count}"
    bundle = CACHE / f"bundle-{count}"
    if not content.exists():
        write_content_folder(count, content)
    seconds = None
    if not bundle.exists():
        start = time.perf_counter()
        build_bundle(content, bundle)
        seconds = time.perf_counter() - start
    return bundle, seconds


def first_seen(page, key: str, timeout_ms: int = 60000) -> float:
    page.wait_for_function(f"window.__firstSeen && window.__firstSeen['{key}']", timeout=timeout_ms)
    return page.evaluate(f"window.__firstSeen['{key}']")


def fresh_page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.add_init_script(WATCH)
    return context, page


def measure(browser, bundle: Path, count: int, runs: int = 3) -> dict[str, float]:
    url = (bundle / "index.html").as_uri()
    figures: dict[str, list[float]] = {"library": [], "click": [], "deep": [], "search": [], "typed": [], "baseline": []}
    baseline = CACHE / "baseline.html"
    baseline.write_text("<!DOCTYPE html><meta charset=utf-8><ul class=list>" + "".join(
        f"<li><a>Title {i}</a><p>summary text for row {i}</p></li>" for i in range(50)) + "</ul>")  # fmt: skip
    middle = f"a{count // 2:06d}"
    for _ in range(runs):
        context, page = fresh_page(browser)
        page.goto(baseline.as_uri())
        figures["baseline"].append(page.evaluate("performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd"))
        context.close()

        context, page = fresh_page(browser)
        page.goto(url)
        figures["library"].append(first_seen(page, "library"))
        page.wait_for_timeout(200)
        figures["click"].append(page.evaluate("""() => new Promise(resolve => {
            const link = document.querySelectorAll('.list li a.title')[20];
            const start = performance.now();
            new MutationObserver((_, observer) => {
              if (document.querySelector('article .body > *')) { observer.disconnect(); resolve(performance.now() - start); }
            }).observe(document.getElementById('main'), { childList: true, subtree: true });
            link.click();
        })"""))
        context.close()

        context, page = fresh_page(browser)
        page.goto(url + "#/a/" + middle)
        figures["deep"].append(first_seen(page, "article"))
        context.close()

        context, page = fresh_page(browser)
        page.goto(url + "#/search?q=" + "학교")
        figures["search"].append(first_seen(page, "result"))
        context.close()

        # The usual way: the library is open, the reader types a query and presses Enter.
        context, page = fresh_page(browser)
        page.goto(url)
        first_seen(page, "library")
        page.wait_for_timeout(200)
        figures["typed"].append(page.evaluate("""() => new Promise(resolve => {
            const input = document.getElementById('search-input');
            input.value = '학교';
            const start = performance.now();
            new MutationObserver((_, observer) => {
              if (document.querySelector('.list li mark')) { observer.disconnect(); resolve(performance.now() - start); }
            }).observe(document.getElementById('main'), { childList: true, subtree: true });
            input.form.requestSubmit();
        })"""))
        context.close()
    result = {key: statistics.median(values) for key, values in figures.items()}
    result["heap_mb"] = browse_heap(browser, url)
    return result


def browse_heap(browser, url: str) -> float:
    context, page = fresh_page(browser)
    page.goto(url)
    first_seen(page, "library")
    for _ in range(5):
        page.click("text=더 보기")
        page.wait_for_timeout(150)
    for index in range(10):
        page.goto(url + "#/a/" + f"a{index * 7:06d}")
        page.wait_for_selector("article .body > *, .notice")
    for query in ("학교", "역사에", "library"):
        page.goto(url + "#/search?q=" + query)
        page.wait_for_selector(".list li, .meta")
        page.wait_for_timeout(300)
    session = context.new_cdp_session(page)
    session.send("HeapProfiler.collectGarbage")
    used = session.send("Runtime.getHeapUsage")["usedSize"] / 2**20
    context.close()
    return used


def code_bytes() -> tuple[int, int]:
    code = "".join(_asset(name) for name in SCRIPT_FILES) + _asset("style.css")
    raw = code.encode("utf-8")
    return len(raw), len(gzip.compress(raw, 9))


def main(sizes: list[int]) -> None:
    from playwright.sync_api import sync_playwright

    CACHE.mkdir(exist_ok=True)
    raw, gz = code_bytes()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; viewer code {raw:,} bytes, {gz:,} gzip -9")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        print(f"chromium {browser.version}")
        for count in sizes:
            bundle, build_seconds = bundle_for(count)
            figures = measure(browser, bundle, count)
            built = f"built in {build_seconds:.0f} s" if build_seconds else "bundle cached"
            print(
                f"{count:>7} articles ({built}): library {figures['library']:.0f} ms "
                f"(static 50-row page {figures['baseline']:.0f} ms, ratio {figures['library'] / figures['baseline']:.1f}x), "
                f"article after click {figures['click']:.0f} ms, deep link cold {figures['deep']:.0f} ms, "
                f"first search: deep link {figures['search']:.0f} ms, typed on the open library {figures['typed']:.0f} ms, "
                f"heap after browsing {figures['heap_mb']:.1f} MB"
            )
        browser.close()


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1000, 10000])
