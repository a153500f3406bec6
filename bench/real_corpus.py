"""Turn real HTML manuals that Debian ships into infopack content folders (for benchmarks).

    python bench/real_corpus.py /tmp/infopack-corpora      # -> .../gimp-ko and .../python-en

Downloads `gimp-help-ko` (Korean GIMP manual, partly translated) and `python3.11-doc` (English Python
docs) with `apt-get download` (no install), unpacks them with `dpkg-deb -x`, and writes one article
per page: title from <h1> (else <title>), the page's body as an HTML fragment, links between pages
rewritten to the new file names, images dropped (these benchmarks compare text + index only).
"""

from __future__ import annotations

import html
import re
import subprocess
import sys
from pathlib import Path

PACKAGES = {
    "gimp-ko": ("gimp-help-ko", "usr/share/gimp/2.0/help/ko", "ko"),
    "python-en": ("python3.11-doc", "usr/share/doc/python3.11/html", "en"),
}
BODY_RE = re.compile(r"<body[^>]*>(.*)</body>", re.S | re.I)
MAIN_RE = re.compile(r'<div class="body" role="main">(.*?)<div class="sphinxsidebar"', re.S)
TITLE_RE = re.compile(r"<h1[^>]*>(.*?)</h1>", re.S | re.I)
HEAD_TITLE_RE = re.compile(r"<title[^>]*>(.*?)</title>", re.S | re.I)
HREF_RE = re.compile(r'href="([^"#:]*\.html)(#[^"]*)?"')
IMG_RE = re.compile(r"<img[^>]*>", re.I)
TAG_RE = re.compile(r"<[^>]+>")


def fetch(package: str, cache: Path) -> Path:
    unpacked = cache / f"{package}-unpacked"
    if unpacked.is_dir():
        return unpacked
    cache.mkdir(parents=True, exist_ok=True)
    subprocess.run(["apt-get", "download", package], cwd=cache, check=True, capture_output=True)
    deb = sorted(cache.glob(f"{package}_*.deb"))[-1]
    subprocess.run(["dpkg-deb", "-x", str(deb), str(unpacked)], check=True)
    return unpacked


def slug_for(relative: Path) -> str:
    stem = relative.with_suffix("").as_posix()
    return re.sub(r"[^A-Za-z0-9]+", "-", stem).strip("-").lower()[:100] or "index"


def plain(fragment: str) -> str:
    return " ".join(html.unescape(TAG_RE.sub(" ", fragment)).split())


def convert(source_root: Path, out: Path, lang: str, title: str) -> int:
    pages = sorted(p for p in source_root.rglob("*.html") if p.is_file())
    slugs = {p: slug_for(p.relative_to(source_root)) for p in pages}
    articles = out / "articles"
    articles.mkdir(parents=True, exist_ok=True)
    (out / "infopack.toml").write_text(
        f'title = "{title}"\nlang = "{lang}"\nsequence = 1\nid = "{out.name}"\n', encoding="utf-8"
    )
    written = 0
    for page in pages:
        raw = page.read_text(encoding="utf-8", errors="replace")
        body_match = MAIN_RE.search(raw) or BODY_RE.search(raw)
        if not body_match:
            continue
        body = IMG_RE.sub("", body_match.group(1))
        heading = TITLE_RE.search(body) or HEAD_TITLE_RE.search(raw)
        page_title = plain(heading.group(1)) if heading else slugs[page]
        if not page_title or not plain(body):
            continue

        def relink(match: re.Match[str], page: Path = page) -> str:  # used at once, in this iteration
            target = (page.parent / match.group(1)).resolve()
            slug = slugs.get(target)
            return f'href="{slug}.html"' if slug else 'href="#"'

        body = HREF_RE.sub(relink, body)
        front = f'---\ntitle: "{page_title.replace(chr(92), "").replace(chr(34), chr(39))}"\ndate: 2024-01-01\nlang: {lang}\n---\n'
        (articles / f"{slugs[page]}.html").write_text(front + body, encoding="utf-8")
        written += 1
    return written


def main(cache: Path) -> None:
    for name, (package, subdir, lang) in PACKAGES.items():
        unpacked = fetch(package, cache)
        out = cache / name
        if out.exists():
            print(f"{out}: exists")
            continue
        count = convert(unpacked / subdir, out, lang, f"{package} (benchmark corpus)")
        print(f"{out}: {count} articles")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/infopack-corpora"))
