"""Bundle size and build time on a generated corpus, against `tar | zstd -19` of the same HTML.

    python bench/build_bench.py 10000

Side by side in one run: (1) `infopack build` of the generated content folder (timed, whole
pipeline); (2) the same rendered article HTML written as files, `tar c | zstd -19 -T0` (whole-corpus
compression: the floor for random-access formats). Text bytes = dictionary + text packs + catalog.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import zstandard

sys.path.insert(0, str(Path(__file__).parent))
from gen_corpus import write_content_folder  # noqa: E402

from infopack.build.assemble import build_bundle  # noqa: E402
from infopack.build.render import finish_html, render_article  # noqa: E402
from infopack.content.load import load_content  # noqa: E402


def payload_bytes(bundle: Path, prefix: str) -> int:
    html = (bundle / "index.html").read_text(encoding="utf-8")
    start = html.index('<script id="infopack-root" type="application/json">') + 51
    root = json.loads(html[start : html.index("</script>", start)])
    return sum(size for name, (size, _digest) in root["files"].items() if name.startswith(prefix))


def disk_bytes(root: Path, sub: str) -> int:
    return sum(p.stat().st_size for p in (root / sub).rglob("*") if p.is_file())


def main(count: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="infopack-bench-"))
    try:
        content = write_content_folder(count, work / "content")
        start = time.perf_counter()
        build_bundle(content, work / "bundle")
        build_seconds = time.perf_counter() - start

        # The same article HTML the bundle holds, as plain files, compressed as one stream.
        loaded = load_content(content)
        html_dir = work / "html"
        html_dir.mkdir()
        slugs = {str(a.source_path.resolve()): a.slug for a in loaded.articles}
        for article in loaded.articles:
            rendered = render_article(article, content, slugs, set(slugs.values()))
            (html_dir / f"{article.slug}.html").write_text(finish_html(rendered.html, [], []), encoding="utf-8")
        html_bytes = sum(p.stat().st_size for p in html_dir.iterdir())
        start = time.perf_counter()
        tar = subprocess.run(f"tar -C {html_dir} -cf - . | zstd -19 -T0 -q -c", shell=True, check=True, capture_output=True)
        tar_seconds = time.perf_counter() - start
        tar_bytes = len(tar.stdout)

        text_payload = payload_bytes(work / "bundle", "text/") + payload_bytes(work / "bundle", "dict")
        catalog_payload = payload_bytes(work / "bundle", "cat/") + payload_bytes(work / "bundle", "slug/")
        search_payload = payload_bytes(work / "bundle", "search/")
        data_on_disk = disk_bytes(work / "bundle", "data")
        print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}, zstandard {zstandard.__version__}")
        print(f"articles: {count}, article HTML: {html_bytes:,} bytes")
        print(f"tar | zstd -19 -T0 (whole corpus): {tar_bytes:,} bytes in {tar_seconds:.1f} s")
        print(f"infopack text payload (dict + frames): {text_payload:,} bytes = {text_payload / tar_bytes:.2f}x tar|zstd")
        print(f"infopack text + catalog + slug payloads: {text_payload + catalog_payload:,} bytes = {(text_payload + catalog_payload) / tar_bytes:.2f}x")
        print(f"search index payload: {search_payload:,} bytes = {search_payload / text_payload:.0%} of compressed text")
        print(f"data/ on disk (base64 .js files): {data_on_disk:,} bytes")
        print(f"infopack build, whole pipeline: {build_seconds:.1f} s ({count / build_seconds:.0f} articles/s)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10000)
