"""What every importer hands back, before anything is written into a content folder.

The pipeline is: sources -> readers (one per kind of source: web pages, web archives, plain-text
captures, documents, media folders, ZIM files) -> `ImportedArticle`s -> the writer, which picks
slugs, resolves links between articles imported together, and writes each article and its media
atomically into `CONTENT_DIR/articles/` in the formats `content/load.py` reads. Readers never write
and never touch the content folder; the writer never parses sources. Sources are only ever read.

Links between articles imported together: a reader cannot know the other article's final file
name, so it writes `href="infopack-import:KEY"` where KEY is the other article's `key`. The writer
turns it into the target's relative file name, or into plain text when the target was not
imported. Media are referenced in the body by their `ImportedMedia.name`, which the writer keeps
(it writes them beside the article, in the article's own folder).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

IMPORT_LINK_SCHEME = "infopack-import:"


@dataclass(frozen=True)
class ImportOptions:
    """The options of `infopack import` that readers need to see."""

    lang: str | None = None  # --lang: overrides what a reader detects
    tags: tuple[str, ...] = ()  # --tag (repeatable): added to every article
    one_article: bool = False  # --one-article: a folder of audio/video becomes one listing article
    limit: int | None = None  # --limit N (ZIM): take at most N front articles
    titles: tuple[str, ...] | None = None  # --titles FILE (ZIM): take only these titles
    without_images: bool = False  # --without-images (ZIM)
    today: date | None = None  # the date used when a source has none (tests pin it)


@dataclass(frozen=True)
class ImportedMedia:
    """A picture, recording or video that an article uses, with the bytes to write beside it."""

    name: str  # file name as the body references it: FAT32-safe, unique within the article
    data: bytes


@dataclass
class ImportedArticle:
    """One article as a reader produced it."""

    key: str  # identity among this import's sources: the page's URL, or the source path
    source: Path  # the file it came from (a page inside a WARC names the WARC)
    title: str
    body: str  # in body_format; links to other imported articles use IMPORT_LINK_SCHEME
    body_format: str  # "html" | "md" | "txt", as content/load.py reads them
    lang: str  # ISO 639-1
    date: date | None = None  # None: the writer uses ImportOptions.today
    summary: str = ""
    tags: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    source_url: str = ""  # becomes front matter `source:`
    aliases: list[str] = field(default_factory=list)  # other titles (ZIM redirects)
    media: list[ImportedMedia] = field(default_factory=list)
    slug_hint: str = ""  # what the slug should be made from (title or file name); the writer decides
    priority: int = 0  # front matter `priority` (kept when an article with front matter is copied)
    words_kept: int = 0
    lines_cut: list[str] = field(default_factory=list)  # what cleaning removed, for the report / --dry-run
    notes: list[str] = field(default_factory=list)  # one line each: "dropped 3 remote images", "assumed CP949"


@dataclass(frozen=True)
class ImportFailure:
    """A source that could not be imported: one line naming it. The other sources still import."""

    source: Path
    problem: str


# A reader gets every source of its kind at once (text captures of one site clean best together;
# pages link to each other) and yields articles and failures as it goes.
Reader = Callable[[list[Path], ImportOptions], Iterator[ImportedArticle | ImportFailure]]
