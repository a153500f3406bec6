"""`infopack new DIR`: a content folder to start from, with every setting explained in place."""

from __future__ import annotations

from pathlib import Path

from infopack.atomic import write_file_atomically
from infopack.content.load import ISO_639_1
from infopack.errors import InfopackError
from infopack.ingest.orchestrate import toml_string

SETTINGS_TEMPLATE = """\
# infopack.toml: what the bundle as a whole is called and how it is published.
# docs/CONTENT.md describes every setting. Text goes in "quotes".

title = {title}          # shown at the top of the library
lang = {lang}                   # main language, ISO 639-1: "ko", "en", ...
sequence = 1                    # raise by one for every new release of this library
# id = "my-library"             # a stable name for the bundle; default: made from the title
# description = ""              # one line under the title
# publisher = ""                # blank is safest: nothing on a card names who made it
# publish_authors = false       # true puts `authors:` on the cards (can endanger the people named)
# publish_sources = false       # true puts `source:` (the original URL) on the cards
"""

EXAMPLE_ARTICLE = """\
---
title: "An example article: delete or rewrite me"
date: "2025-01-01"
lang: {lang}
summary: "What the library card shows under the title."
tags: ["example"]
---
Every article is a folder under `articles/` holding `index.md` (or `index.html`, `index.txt`)
with this header between the `---` lines, and its pictures, audio and video beside it.

- Write pictures as `![what it shows](photo.jpg)` with the file in this folder.
- Bring in web pages, Word files, text and recordings with
  `infopack import SOURCE... --into THIS-FOLDER`.
- Look at the result with `infopack preview THIS-FOLDER`.
"""


def start_content_folder(directory: Path, *, title: str = "", lang: str = "ko") -> None:
    """Write infopack.toml and one example article into `directory`, which must be absent or empty."""
    directory = Path(directory)
    if lang not in ISO_639_1:
        raise InfopackError(f"{lang!r} is not an ISO 639-1 language code (ko, en, ...)", path="--lang")
    if directory.exists():
        if not directory.is_dir():
            raise InfopackError("exists and is not a folder", path=directory)
        if any(directory.iterdir()):
            raise InfopackError("is not empty; `infopack new` starts a folder from nothing (choose a new name)", path=directory)
    title = " ".join(title.split()) or directory.name.replace("-", " ").replace("_", " ").strip() or "Library"
    example = directory / "articles" / "example"
    example.mkdir(parents=True, exist_ok=True)
    write_file_atomically(example / "index.md", EXAMPLE_ARTICLE.format(lang=toml_string(lang)).encode("utf-8"))
    write_file_atomically(directory / "infopack.toml",
                          SETTINGS_TEMPLATE.format(title=toml_string(title), lang=toml_string(lang)).encode("utf-8"))
