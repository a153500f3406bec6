"""Small helpers for tests that need a content folder on disk."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_CONTENT = REPO / "content"
SEEDS = REPO.parent / "shared" / "seeds"  # real captures, present only in the full checkout
CAPTURES = REPO / "tests" / "fixtures" / "captures"  # our own captures in the same shape, always present


def write_content(root: Path, articles: dict[str, str], toml: str | None = None) -> Path:
    """`articles` maps a path under articles/ to the file's full text."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "infopack.toml").write_text(
        toml if toml is not None else 'title = "Test"\nlang = "en"\nsequence = 1\nid = "test"\n', encoding="utf-8"
    )
    for name, text in articles.items():
        path = root / "articles" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def article(title: str = "A title", date: str = "2025-01-01", lang: str = "en", body: str = "Body text.", **extra: str) -> str:
    lines = ["---", f"title: {title}", f"date: {date}", f"lang: {lang}"]
    lines += [f"{key}: {value}" for key, value in extra.items()]
    return "\n".join(lines + ["---", body, ""])


def _wrap_captures(paths: list[Path], prefix: str, lang_of) -> dict[str, str]:
    """Plain-text web captures wrapped in front matter (title = first headline-like line)."""
    found: dict[str, str] = {}
    for number, path in enumerate(paths):
        text = path.read_text(encoding="utf-8")
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        # Captures start with site menus and a logo strip; the title is the first line long enough to be one.
        title = next(
            line for line in lines
            if len(line) > 25 and not line.endswith("social") and "logo" not in line.lower() and "로고" not in line
        )
        title = title.replace('"', "'")
        found[f"{prefix}-{number}.txt"] = "\n".join(
            ["---", f'title: "{title}"', f"date: 2025-0{number + 1}-15", f"lang: {lang_of(path)}", "tags: [capture]", "---", text]
        )
    return found


def capture_articles() -> dict[str, str]:
    """The captures in tests/fixtures/captures (English and Korean, `<n>-<lang>-<name>.txt`), as articles."""
    return _wrap_captures(sorted(CAPTURES.glob("*.txt")), "capture", lambda path: path.name.split("-")[1])


def seed_articles() -> dict[str, str]:
    """The four real captures in ../shared/seeds, wrapped in front matter. Only in the full checkout:
    tests that use them skip when `SEEDS` is absent (see `seeds_present`)."""
    if not SEEDS.is_dir():
        raise FileNotFoundError(f"{SEEDS}: the seed captures (shared/seeds beside the repository) are missing")
    return _wrap_captures(sorted(SEEDS.glob("*.txt")), "seed", lambda path: "en")


def tree_digest(root: Path) -> str:
    """Hash of every path, content and mtime under root: proves a folder was not modified."""
    digest = hashlib.sha256()
    for directory, dirs, files in sorted(os.walk(root)):
        dirs.sort()
        for name in sorted(files):
            path = Path(directory) / name
            stat = path.stat()
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + str(stat.st_mtime_ns).encode())
    return digest.hexdigest()


def copy_example_content(dest: Path) -> Path:
    shutil.copytree(EXAMPLE_CONTENT, dest)
    return dest


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9-]", "-", name.lower())


def only_file(bundle: Path, name: str, tmp_path: Path) -> Path:
    """One file of a bundle alone in an empty folder: what a phone's file manager hands a browser."""
    alone = tmp_path / f"only-{name.replace('.', '-')}"
    alone.mkdir()
    shutil.copy(bundle / name, alone / name)
    return alone / name


def copy_with_flipped_bit(bundle: Path, tmp_path: Path, relative: str = "data/text/0000.js") -> Path:
    """A copy of the bundle with one bit flipped in the middle of one file, as a rotting card does."""
    damaged = tmp_path / "damaged"
    shutil.copytree(bundle, damaged)
    target = damaged / relative
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    return damaged


def run_infopack(*args: str, timeout: float = 10) -> subprocess.CompletedProcess[str]:
    """Run the real command line in a fresh process. The timeout turns a hang (say, YAML that
    expands for minutes) into a test failure instead of a stuck test run."""
    return subprocess.run(
        [sys.executable, "-m", "infopack.commands", *args],
        capture_output=True, text=True, encoding="utf-8", timeout=timeout, check=False,
    )


def link_safe_digest(root: Path) -> str:
    """Like tree_digest, but a symbolic link counts as its target text and is never followed, so it
    also works on folders holding dangling links or links to files outside them."""
    digest = hashlib.sha256()
    for directory, dirs, files in sorted(os.walk(root)):
        dirs.sort()
        for name in sorted(files + [d for d in dirs if os.path.islink(os.path.join(directory, d))]):
            path = Path(directory) / name
            info = os.lstat(path)
            data = os.fsencode(os.readlink(path)) if path.is_symlink() else path.read_bytes()
            digest.update(os.fsencode(path.relative_to(root)) + b"\0" + data + str(info.st_mtime_ns).encode())
    return digest.hexdigest()


def bundle_article_html(bundle: Path, rows: list[list] | None = None) -> dict[str, str]:
    """Each article's HTML as the viewer would show it, decoded from the bundle's data files as
    docs/FORMAT.md describes (UTF-16 data files, zstd frames, the trained dictionary if any).
    `rows`, when given, receives each catalog entry (FORMAT.md 5.1)."""
    import json

    import zstandard

    page = (bundle / "index.html").read_text(encoding="utf-8")
    root = json.loads(re.search(r'<script id="infopack-root" type="application/json">(.*?)</script>', page, re.DOTALL).group(1))

    def payload(name: str) -> bytes:
        text = (bundle / "data" / f"{name}.js").read_bytes()[2:].decode("utf-16-le")
        literal = text[len(f'infopackData("{name}","') : -4]
        units = re.sub(r"\\u([0-9a-f]{4})", lambda m: chr(int(m.group(1), 16)), literal)
        return units.encode("utf-16-le", errors="surrogatepass")[: root["files"][name][0]]

    plain = zstandard.ZstdDecompressor()
    dictionary = zstandard.ZstdCompressionDict(payload("dict")) if "dict" in root["files"] else None
    frames = zstandard.ZstdDecompressor(dict_data=dictionary) if dictionary else plain
    found: dict[str, str] = {}
    for name in sorted(n for n in root["files"] if n.startswith("cat/")):
        for row in json.loads(plain.decompress(payload(name))):
            slug, pack, offset, length = row[0], row[6], row[7], row[8]
            found[slug] = frames.decompress(payload(f"text/{pack:04d}")[offset : offset + length]).decode("utf-8")
            if rows is not None:
                rows.append(row)
    return found


def bundle_articles(bundle: Path) -> dict[str, tuple[str, str, list[str], str]]:
    """Title -> (slug, HTML as the viewer shows it, media paths, date) for every article of a bundle."""
    rows: list[list] = []
    html_of = bundle_article_html(bundle, rows)
    return {row[1]: (row[0], html_of[row[0]], list(row[9]), row[2]) for row in rows}


def search_postings(bundle: Path) -> dict[str, list]:
    """The bundle's title/alias search index as {token: [(doc, weight), ...]}, decoded as the viewer
    does (UTF-16 data files, the shard codec of build/search.py)."""
    import json

    from infopack.build.search import decode_shard

    page = (bundle / "index.html").read_text(encoding="utf-8")
    root = json.loads(re.search(r'<script id="infopack-root" type="application/json">(.*?)</script>', page, re.DOTALL).group(1))
    postings: dict[str, list] = {}
    for name in root["files"]:
        if name.startswith("search/t/"):
            text = (bundle / "data" / f"{name}.js").read_bytes()[2:].decode("utf-16-le")
            literal = text[len(f'infopackData("{name}","') : -4]
            units = re.sub(r"\\u([0-9a-f]{4})", lambda m: chr(int(m.group(1), 16)), literal)
            postings.update(decode_shard(units.encode("utf-16-le", errors="surrogatepass")[: root["files"][name][0]]))
    return postings


def search_finds(bundle: Path, query: str, *, as_title: bool = False) -> set:
    """The article numbers every token of `query` leads to in the bundle's search index; with
    `as_title`, only where the token is in the title or an alias (impact >= 48, FORMAT.md 9.2)."""
    from infopack.build.search import tokenize_for_index

    postings = search_postings(bundle)
    found: set | None = None
    for token in tokenize_for_index(query):
        docs = {doc for doc, impact in postings.get(token, []) if impact >= (48 if as_title else 0)}
        found = docs if found is None else found & docs
    return found or set()
