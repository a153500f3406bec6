"""Which reader takes which source, by file name ending. Readers are imported only when used.

Longest ending wins (`.warc.gz` before `.gz`). A source no reader takes is reported, not guessed at.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from infopack.ingest.model import Reader

# ending -> "module:function" of a `Reader`
READERS: dict[str, str] = {
    ".html": "infopack.ingest.web:read_pages",
    ".htm": "infopack.ingest.web:read_pages",
    ".xhtml": "infopack.ingest.web:read_pages",
    ".mhtml": "infopack.ingest.web:read_pages",
    ".mht": "infopack.ingest.web:read_pages",
    ".warc": "infopack.ingest.web:read_pages",
    ".warc.gz": "infopack.ingest.web:read_pages",
    ".wacz": "infopack.ingest.web:read_pages",
    ".txt": "infopack.ingest.text:read_texts",
    ".md": "infopack.ingest.text:read_texts",
    ".markdown": "infopack.ingest.text:read_texts",
    ".docx": "infopack.ingest.documents:read_documents",
    ".odt": "infopack.ingest.documents:read_documents",
    ".zim": "infopack.ingest.zim.convert:read_zims",
}
for _ending in (".mp3", ".m4a", ".aac", ".ogg", ".oga", ".opus", ".wav", ".flac",
                ".mp4", ".m4v", ".mov", ".webm", ".mkv", ".ogv"):
    READERS[_ending] = "infopack.ingest.media_folder:read_media"


def reader_name_for(path: Path) -> str | None:
    """The "module:function" that reads `path`, or None when no reader takes it."""
    name = path.name.lower()
    for ending in sorted(READERS, key=len, reverse=True):
        if name.endswith(ending):
            return READERS[ending]
    return None


def load_reader(name: str) -> Reader:
    module, function = name.split(":")
    reader: Reader = getattr(importlib.import_module(module), function)
    return reader
