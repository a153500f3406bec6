"""The one table of media extensions infopack accepts, and what kind of media each is.

Rendering (which element an article's media reference becomes), planning (what a file will be
named on the card) and media preparation (build/media.py's MEDIA_FORMATS, which must cover exactly
these extensions) all read it, so an extension is either accepted everywhere or refused by the
renderer, with the article's path and line, before anything reads the file.
"""

from __future__ import annotations

MEDIA_KINDS: dict[str, str] = {
    ".jpg": "image",
    ".jpeg": "image",
    ".png": "image",
    ".gif": "image",
    ".webp": "image",
    ".mp3": "audio",
    ".m4a": "audio",
    ".aac": "audio",
    ".ogg": "audio",
    ".oga": "audio",
    ".opus": "audio",
    ".wav": "audio",
    ".flac": "audio",
    ".mp4": "video",
    ".m4v": "video",
    ".mov": "video",
    ".webm": "video",
    ".mkv": "video",
    ".ogv": "video",
}

IMAGE_SUFFIXES = frozenset(ext for ext, kind in MEDIA_KINDS.items() if kind == "image")
AUDIO_SUFFIXES = frozenset(ext for ext, kind in MEDIA_KINDS.items() if kind == "audio")
VIDEO_SUFFIXES = frozenset(ext for ext, kind in MEDIA_KINDS.items() if kind == "video")


def media_kind(suffix: str) -> str | None:
    """"image", "audio" or "video" for an accepted extension (any case), None otherwise."""
    return MEDIA_KINDS.get(suffix.lower())


def describe_accepted() -> str:
    """The accepted extensions, for messages: `.jpg .jpeg ... .ogv`."""
    return " ".join(MEDIA_KINDS)
