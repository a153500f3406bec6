"""Small helpers for tests that need a content folder on disk."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_CONTENT = REPO / "content"
SEEDS = REPO.parent / "shared" / "seeds"


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


def seed_articles() -> dict[str, str]:
    """The four real captures in ../shared/seeds, wrapped in front matter (title = first heading-like line)."""
    found: dict[str, str] = {}
    if not SEEDS.is_dir():
        raise FileNotFoundError(f"{SEEDS}: the seed captures (shared/seeds beside the repository) are missing")
    for number, path in enumerate(sorted(SEEDS.glob("*.txt"))):
        text = path.read_text(encoding="utf-8")
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        # The captures start with site menus; the title is the first line long enough to be one.
        title = next(line for line in lines if len(line) > 25 and not line.endswith("social"))
        title = title.replace('"', "'")
        found[f"seed-{number}.txt"] = "\n".join(
            ["---", f'title: "{title}"', f"date: 2025-0{number + 1}-15", "lang: en", "tags: [capture]", "---", text]
        )
    return found


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
