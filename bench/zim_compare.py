"""infopack vs a ZIM (libzim, the format Kiwix reads) of the same articles: bytes and build time.

    pip install libzim          # GPL: a benchmark comparator only, never an infopack dependency
    python bench/real_corpus.py /tmp/infopack-corpora
    python bench/zim_compare.py /tmp/infopack-corpora/gimp-ko /tmp/infopack-corpora/python-en
    python bench/zim_compare.py --generated 10000

Both get the same article HTML: the ZIM is fed the HTML our renderer produced, so the comparison
is of packing + indexing, not of rendering. The ZIM has a full-text index for Korean ("kor"; its
Xapian index with CJK n-grams) plus its title index, libzim's defaults (zstd, 2 MiB clusters), and
2 worker threads. infopack's bytes are what the card holds for text + index: every file under data/
as written (base64 in .js) plus index.html (viewer code and root document). phone.html (the
one-file variant for phones, which repeats all data) is shown separately. Build times are wall
clock on the same 2 cores, run one after the other in this process.
"""

from __future__ import annotations

import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from infopack.build.assemble import build_bundle  # noqa: E402
from infopack.build.render import finish_html, render_article  # noqa: E402
from infopack.content.load import load_content  # noqa: E402


def rendered_articles(content: Path) -> list[tuple[str, str, str]]:
    loaded = load_content(content)
    slugs = {str(a.source_path.resolve()): a.slug for a in loaded.articles}
    result = []
    for article in loaded.articles:
        rendered = render_article(article, content, slugs, set(slugs.values()))
        fragment = finish_html(rendered.html, [""] * len(rendered.media), [None] * len(rendered.media))
        page = f"<!DOCTYPE html><html lang={article.lang}><head><meta charset=utf-8><title>{article.title}</title></head><body><h1>{article.title}</h1>{fragment}</body></html>"
        result.append((article.slug, article.title, page))
    return result


def build_zim(pages: list[tuple[str, str, str]], out: Path, language: str) -> float:
    from libzim.writer import Creator, Hint, Item, StringProvider

    class Page(Item):
        def __init__(self, slug: str, title: str, html: str):
            super().__init__()
            self.slug, self.title, self.html = slug, title, html

        def get_path(self) -> str:
            return f"a/{self.slug}"

        def get_title(self) -> str:
            return self.title

        def get_mimetype(self) -> str:
            return "text/html"

        def get_contentprovider(self):
            return StringProvider(self.html)

        def get_hints(self):
            return {Hint.FRONT_ARTICLE: True}

    start = time.perf_counter()
    creator = Creator(str(out)).config_indexing(True, language).config_nbworkers(2)
    with creator:
        creator.set_mainpath(f"a/{pages[0][0]}")
        for key, value in (("Name", "bench"), ("Title", "bench"), ("Language", language), ("Creator", "bench"),
                           ("Publisher", "bench"), ("Date", "2024-01-01"), ("Description", "benchmark")):  # fmt: skip
            creator.add_metadata(key, value)
        for slug, title, html in pages:
            creator.add_item(Page(slug, title, html))
    return time.perf_counter() - start


def text_and_index_bytes(bundle: Path) -> tuple[int, int]:
    data = sum(p.stat().st_size for p in (bundle / "data").rglob("*") if p.is_file())
    phone = bundle / "phone.html"
    return data + (bundle / "index.html").stat().st_size, phone.stat().st_size if phone.exists() else 0


def compare(content: Path, work: Path) -> None:
    pages = rendered_articles(content)
    start = time.perf_counter()
    build_bundle(content, work / "bundle")
    ours_seconds = time.perf_counter() - start
    ours_bytes, phone_bytes = text_and_index_bytes(work / "bundle")
    zim_seconds = build_zim(pages, work / "out.zim", "kor")
    zim_bytes = (work / "out.zim").stat().st_size
    print(f"## {content.name}: {len(pages)} articles, {sum(len(p[2].encode()) for p in pages):,} bytes of HTML")
    print(f"ZIM (libzim, kor full-text index): {zim_bytes:,} bytes, built in {zim_seconds:.1f} s")
    print(f"infopack data/ + index.html:       {ours_bytes:,} bytes = {ours_bytes / zim_bytes:.2f}x ZIM, built in {ours_seconds:.1f} s = {ours_seconds / zim_seconds:.2f}x ZIM's time")
    if phone_bytes:
        print(f"  + phone.html (one-file variant):  {phone_bytes:,} bytes; with it {(ours_bytes + phone_bytes) / zim_bytes:.2f}x ZIM")


def main(argv: list[str]) -> None:
    import libzim  # noqa: F401  (fail early with a clear message if the comparator is missing)

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}")
    work = Path(tempfile.mkdtemp(prefix="infopack-zim-"))
    try:
        if argv and argv[0] == "--generated":
            from gen_corpus import write_content_folder

            count = int(argv[1])
            targets = [write_content_folder(count, work / f"generated-{count}")]
        else:
            targets = [Path(a) for a in argv]
        for number, content in enumerate(targets):
            run_dir = work / f"run{number}"
            run_dir.mkdir()
            compare(content, run_dir)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
