"""Phones at any size (issue 15): what library.pack costs on the card, and how fast phone.html reads
a picked library.pack on an emulated cheap phone.

    nice -n 10 python bench/phone_pack_bench.py 10000 100000   # corpora/bundles cached in /tmp/readerdata-bench

For each size (generated corpora, bench/gen_corpus.py):
- card bytes: library.pack and the whole bundle in whole clusters of 32 KiB and 128 KiB, and the
  share library.pack adds; the per-article check's bytes (catalog with and without `check`)
  beside what zstd frame checksums (4 bytes per frame) would have cost;
- on an emulated phone (Chromium, 360x740 viewport, touch, CPU throttled 4x with
  Emulation.setCPUThrottlingRate): phone.html alone, library.pack picked -> first library row
  (timed from the file input's change event), then an article after a tap and a first search;
  side by side in the same browser, index.html with its data files (the computer's path) and,
  where the library fits inline, the inline phone.html: navigation start -> first library row.
phone.html is rendered from the cached bundle's root document with the current viewer code, so a
viewer change does not need the (slow) 100k build again.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import zstandard

sys.path.insert(0, str(Path(__file__).parent))
from gen_corpus import write_content_folder  # noqa: E402

from infopack.build.assemble import ONE_FILE_LIMIT, build_bundle  # noqa: E402
from infopack.build.library_pack import LIBRARY_PACK_NAME, read_library_pack  # noqa: E402
from infopack.build.pack import compress_json, inline_data_element, read_data_file  # noqa: E402
from infopack.build.viewer import render_viewer  # noqa: E402

CACHE = Path("/tmp/readerdata-bench")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]  # fmt: skip
THROTTLE = 4
RUNS = 3

WATCH = """
window.__seen = {};
document.addEventListener('change', function (event) {
  if (event.target && event.target.id === 'library-pack-input') window.__seen.change = performance.now();
}, true);
new MutationObserver(function () {
  [['picker', '#library-pack-button'], ['library', '.list li'], ['article', 'article .body > *'], ['result', '.list li mark']].forEach(function (pair) {
    if (!window.__seen[pair[0]] && document.querySelector(pair[1])) window.__seen[pair[0]] = performance.now();
  });
}).observe(document, { childList: true, subtree: true });
"""


def bundle_for(count: int) -> Path:
    content, bundle = CACHE / f"gen-{count}", CACHE / f"bundle-{count}"
    if not content.exists():
        write_content_folder(count, content)
    if not bundle.exists():
        build_bundle(content, bundle)
    return bundle


def root_of(page: Path) -> dict:
    html = page.read_text(encoding="utf-8")
    marker = '<script id="infopack-root" type="application/json">'
    start = html.index(marker) + len(marker)
    return json.loads(html[start : html.index("</script>", start)])


def on_card(size: int, cluster: int) -> int:
    return -(-size // cluster) * cluster


def card_bytes(bundle: Path) -> None:
    sizes = [p.stat().st_size for p in bundle.rglob("*") if p.is_file() and p.name != "bench-index.html"]
    pack = (bundle / LIBRARY_PACK_NAME).stat().st_size
    for cluster in (32 * 1024, 128 * 1024):
        total = sum(on_card(s, cluster) for s in sizes)
        added = on_card(pack, cluster)
        print(f"  cluster {cluster // 1024} KiB: bundle {total:,} bytes on the card, library.pack {added:,} "
              f"({added / (total - added):.1%} more than without it)")
    root = root_of(bundle / "index.html")
    with_check = without = 0
    for name, (length, _digest) in root["files"].items():
        if not name.startswith("cat/"):
            continue
        payload = read_data_file((bundle / "data" / f"{name}.js").read_bytes(), length)[1]
        rows = json.loads(zstandard.ZstdDecompressor().decompress(payload))
        with_check += len(payload)
        without += len(compress_json([row[:10] for row in rows]))
    articles = root["articles"]
    print(f"  per-article check: catalog {with_check:,} bytes with it, {without:,} without: "
          f"{(with_check - without) / articles:.1f} bytes per article; zstd frame checksums would cost 4.0")


def phone_page(bundle: Path, folder: Path) -> Path:
    """phone.html asking for library.pack, alone in a folder (a phone's content:// view of it)."""
    root = {**root_of(bundle / "index.html"), "one_file": True, "media_omitted": False, "library_pack": LIBRARY_PACK_NAME,
            "needs_pack": True}
    folder.mkdir(parents=True, exist_ok=True)
    page = folder / "phone.html"
    page.write_bytes(render_viewer(root, root["bundle"]["lang"]))
    return page


def index_page(bundle: Path) -> Path:
    """index.html with the current viewer code, beside the cached bundle's data/."""
    root = root_of(bundle / "index.html")
    page = bundle / "bench-index.html"
    page.write_bytes(render_viewer(root, root["bundle"]["lang"]))
    return page


def inline_phone_page(bundle: Path, folder: Path) -> Path | None:
    """Today's one-tap phone.html (every payload inline), current viewer code; None above the limit."""
    payloads = sorted(read_library_pack((bundle / LIBRARY_PACK_NAME).read_bytes()).items(), key=lambda item: item[0].encode())
    if sum(len(data) * 4 // 3 + len(name) + 48 for name, data in payloads) > ONE_FILE_LIMIT:
        return None
    root = {**root_of(bundle / "index.html"), "one_file": True, "media_omitted": False}
    inline = "".join(inline_data_element(name, data) + "\n" for name, data in payloads)
    folder.mkdir(parents=True, exist_ok=True)
    page = folder / "phone.html"
    page.write_bytes(render_viewer(root, root["bundle"]["lang"], inline_data=inline))
    return page


def phone_context(browser):
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.add_init_script(WATCH)
    session = context.new_cdp_session(page)
    session.send("Emulation.setCPUThrottlingRate", {"rate": THROTTLE})
    return context, page


def seen(page, key: str) -> float:
    """When `key` was first seen (page clock). Polled from here: wait_for_function evaluates a
    string in the page, which the viewer's CSP (no 'unsafe-eval') refuses."""
    deadline = time.time() + 180
    while time.time() < deadline:
        value = page.evaluate(f"window.__seen && window.__seen['{key}']")
        if value:
            return value
        time.sleep(0.02)
    raise TimeoutError(f"{key} never appeared")


def measure(browser, bundle: Path, count: int) -> None:
    page_file = phone_page(bundle, CACHE / f"phone-{count}")
    figures: dict[str, list[float]] = {"picker": [], "library": [], "article": [], "search": [], "index": []}
    requests: set[str] = set()
    for _ in range(RUNS):
        context, page = phone_context(browser)
        page.on("request", lambda request: requests.add(request.url))
        page.goto(page_file.as_uri())
        figures["picker"].append(seen(page, "picker"))
        page.set_input_files("#library-pack-input", str(bundle / LIBRARY_PACK_NAME))
        figures["library"].append(seen(page, "library") - seen(page, "change"))
        page.wait_for_timeout(300)
        start = page.evaluate("performance.now()")
        page.tap(".list li a.title >> nth=5")
        figures["article"].append(seen(page, "article") - start)
        page.wait_for_timeout(300)
        start = page.evaluate("performance.now()")
        page.fill("#search-input", "학교")
        page.press("#search-input", "Enter")
        figures["search"].append(seen(page, "result") - start)
        context.close()

        context, page = phone_context(browser)
        page.goto(index_page(bundle).as_uri())
        figures["index"].append(seen(page, "library"))
        context.close()
    median = {key: statistics.median(values) for key, values in figures.items()}
    print(f"  phone (360x740, CPU /{THROTTLE}), medians of {RUNS}: phone.html -> picker {median['picker']:.0f} ms; "
          f"library.pack picked -> library {median['library']:.0f} ms; article after a tap {median['article']:.0f} ms; "
          f"first search (typed, Enter) {median['search']:.0f} ms")
    print(f"  side by side: index.html with its data files -> library {median['index']:.0f} ms "
          f"(picked pack / data files: {median['library'] / median['index']:.2f}x)")
    inline = inline_phone_page(bundle, CACHE / f"phone-{count}" / "inline")
    if inline is not None:
        times = []
        for _ in range(RUNS):
            context, page = phone_context(browser)
            page.goto(inline.as_uri())
            times.append(seen(page, "library"))
            context.close()
        print(f"  side by side: inline phone.html ({inline.stat().st_size / 2**20:.0f} MiB) -> library "
              f"{statistics.median(times):.0f} ms")
    print(f"  requests made by the page: {sorted(requests)}")


def main(sizes: list[int]) -> None:
    from playwright.sync_api import sync_playwright

    CACHE.mkdir(exist_ok=True)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        print(f"chromium {browser.version}")
        for count in sizes:
            started = time.perf_counter()
            bundle = bundle_for(count)
            pack = (bundle / LIBRARY_PACK_NAME).stat().st_size
            print(f"{count:,} articles (ready in {time.perf_counter() - started:.0f} s): library.pack {pack:,} bytes")
            card_bytes(bundle)
            measure(browser, bundle, count)
        browser.close()


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10000])
