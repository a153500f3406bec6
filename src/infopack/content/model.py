"""The typed content model that flows through the pipeline: content -> render -> media -> pack -> bundle."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path


@dataclass(frozen=True)
class BundleSettings:
    """What `content/infopack.toml` says about the bundle as a whole."""

    id: str
    title: str
    description: str
    lang: str
    sequence: int
    publisher: str = ""  # blank is the safe default: nothing on a card names the publisher
    publish_authors: bool = False  # `authors` front matter reaches the bundle only when staff opt in
    publish_sources: bool = False  # likewise `source`
    created: date | None = None  # override; otherwise the newest article date


@dataclass
class Article:
    """One article as loaded and validated from the content folder (nothing rendered yet)."""

    slug: str
    title: str
    date: date
    lang: str
    summary: str
    tags: list[str]
    body: str
    body_format: str  # "md" | "html" | "txt"
    source_path: Path  # absolute path of the article file, for error messages and media lookup
    rel_path: str  # path relative to the content folder, the only form that appears in messages
    authors: list[str] = field(default_factory=list)
    source: str = ""
    priority: int = 0
    body_line: int = 1  # the file's line where the body starts, for `path:line` messages
    aliases: list[str] = field(default_factory=list)  # other titles search finds it by (ZIM redirects)
    imported: str = ""  # set by `infopack import`; never reaches the bundle


@dataclass
class Content:
    root: Path
    settings: BundleSettings
    articles: list[Article]
    # What the build would silently get wrong (a .docx in articles/, `lang: kr`, ...): one line
    # each, `path[:line]: what and the fix`. Not errors: the build goes on and prints them.
    warnings: list[str] = field(default_factory=list)

    @property
    def created(self) -> date:
        """The bundle's date: from the content, never from the clock, so builds are reproducible."""
        if self.settings.created is not None:
            return self.settings.created
        return max(article.date for article in self.articles)
