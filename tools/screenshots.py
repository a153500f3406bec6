"""Regenerate the README's screenshots from the example content (headless Debian Chromium).

    python tools/screenshots.py            # writes docs/screenshots/*.png
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from infopack.build.assemble import build_bundle

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "docs" / "screenshots"
VIEWS = {
    "library": "",
    "article": "#/a/welcome",
    "search": "#/search?q=" + "도서관",
}
SIZES = {"desktop": (1100, 760), "phone": (390, 780)}
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--hide-scrollbars"]  # fmt: skip


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        bundle = Path(work) / "bundle"
        build_bundle(REPO / "content", bundle)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            for size_name, (width, height) in SIZES.items():
                for ui in ("ko", "en"):
                    for view, route in VIEWS.items():
                        page = browser.new_page(viewport={"width": width, "height": height})
                        page.goto((bundle / "index.html").as_uri() + route)
                        page.wait_for_selector("main h1")
                        if ui == "en":
                            page.click("#lang-switch")
                        selector = {"library": ".list li", "article": "article .body > *", "search": ".list li mark"}[view]
                        page.wait_for_selector(selector)
                        page.wait_for_timeout(300)
                        target = OUT / f"{view}-{size_name}-{ui}.png"
                        page.screenshot(path=str(target))
                        page.close()
                        print(target.relative_to(REPO))
            browser.close()


if __name__ == "__main__":
    sys.exit(main())
