"""Audio and video files: each becomes an article with a player, or (`--one-article`) each folder
of them becomes one article listing them all.

The title is the file's own title tag (read with ffprobe) or its file name; the date is its date
tag when it holds a whole date, else the writer's default. The file is copied as it is: the build
strips every tag and metadata block when it prepares media for a bundle, so a title or a
recorder's name in the tags never reaches a card. The artist tag goes into `authors:`, which
stays off the card unless the bundle's settings say `publish_authors`.
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from infopack.content.media_kinds import media_kind
from infopack.ingest.model import ImportedArticle, ImportedMedia, ImportFailure, ImportOptions
from infopack.ingest.programs import ProgramFailed, program, run
from infopack.ingest.slugs import slug_from
from infopack.ingest.text import guess_lang

MAX_MEDIA_BYTES = 1024 * 1024 * 1024  # held in memory until written; larger files go in by hand
PROBE_TIMEOUT_S = 60

# The demuxer ffprobe is told to use, by extension: it never guesses a playlist or concat reader.
_DEMUXER = {
    ".mp3": "mp3", ".m4a": "mov", ".aac": "aac", ".ogg": "ogg", ".oga": "ogg", ".opus": "ogg", ".wav": "wav",
    ".flac": "flac", ".mp4": "mov", ".m4v": "mov", ".mov": "mov", ".webm": "matroska", ".mkv": "matroska",
    ".ogv": "ogg",
}
_DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


@dataclass(frozen=True)
class _Recording:
    path: Path
    kind: str  # "audio" | "video"
    title: str
    date: date | None
    artist: str
    data: bytes


def read_media(paths: list[Path], options: ImportOptions) -> Iterator[ImportedArticle | ImportFailure]:
    recordings: list[_Recording] = []
    for path in paths:
        try:
            recordings.append(_read_one(path))
        except (_Failed, ProgramFailed) as err:
            yield ImportFailure(path, str(err))
    if options.one_article:
        folders: dict[Path, list[_Recording]] = {}
        for recording in recordings:
            folders.setdefault(recording.path.parent, []).append(recording)
        for folder, items in folders.items():
            yield _listing(folder, items, options)
    else:
        for recording in recordings:
            yield _single(recording, options)


class _Failed(Exception):
    pass


def _read_one(path: Path) -> _Recording:
    kind = media_kind(path.suffix)
    if kind not in ("audio", "video"):
        raise _Failed("not an audio or video file")
    try:
        if path.stat().st_size > MAX_MEDIA_BYTES:
            raise _Failed(f"larger than {MAX_MEDIA_BYTES // 2**30} GB; put it in an article folder by hand")
        data = path.read_bytes()
    except OSError as err:
        raise _Failed(f"cannot read: {err.strerror or err}") from None
    if not data:
        raise _Failed("empty file")
    tags = _tags(path)
    title = tags.get("title", "").strip() or _title_from_name(path)
    found = _DATE_RE.search(tags.get("date", "") or tags.get("creation_time", ""))
    when = None
    if found:
        try:
            when = date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
        except ValueError:
            when = None
    return _Recording(path, kind, " ".join(title.split()), when, " ".join(tags.get("artist", "").split()), data)


def _tags(path: Path) -> dict[str, str]:
    """The container's tags, lower-cased keys; a file ffprobe cannot read fails here."""
    ffprobe = program("ffprobe", "apt-get install ffmpeg")
    demuxer = _DEMUXER[path.suffix.lower()]
    command = [ffprobe, "-v", "error", "-print_format", "json", "-show_format",
               "-protocol_whitelist", "file", "-f", demuxer, "-i", "file:" + os.path.abspath(path)]
    ran = run(command, timeout=PROBE_TIMEOUT_S)
    try:
        info = json.loads(ran.stdout.decode("utf-8", "replace"))
    except json.JSONDecodeError:
        raise _Failed("not a readable audio or video file (ffprobe gave no answer)") from None
    tags = info.get("format", {}).get("tags", {}) or {}
    return {str(k).lower(): str(v) for k, v in tags.items()}


def _title_from_name(path: Path) -> str:
    return " ".join(re.split(r"[-_\s]+", path.stem)).strip() or path.name


def _media_name(recording: _Recording, taken: set[str]) -> str:
    base = slug_from(recording.path.stem)[:40].strip("-") or "recording"
    suffix = recording.path.suffix.lower()
    name, number = f"{base}{suffix}", 1
    while name.casefold() in taken:
        number += 1
        name = f"{base}-{number}{suffix}"
    taken.add(name.casefold())
    return name


def _player(recording: _Recording, name: str) -> str:
    return f'<{recording.kind} src="{html.escape(name)}" controls></{recording.kind}>'


def _single(recording: _Recording, options: ImportOptions) -> ImportedArticle:
    name = _media_name(recording, set())
    return ImportedArticle(
        key=str(recording.path), source=recording.path, title=recording.title,
        body=f"<p>{_player(recording, name)}</p>\n", body_format="html", lang=options.lang or guess_lang(recording.title),
        date=recording.date, tags=list(options.tags), authors=[recording.artist] if recording.artist else [],
        media=[ImportedMedia(name, recording.data)], slug_hint=recording.title,
    )


def _listing(folder: Path, recordings: list[_Recording], options: ImportOptions) -> ImportedArticle:
    taken: set[str] = set()
    parts, media = [], []
    for recording in recordings:
        name = _media_name(recording, taken)
        parts.append(f"<h2>{html.escape(recording.title)}</h2>\n<p>{_player(recording, name)}</p>")
        media.append(ImportedMedia(name, recording.data))
    dates = [r.date for r in recordings if r.date is not None]
    artists = sorted({r.artist for r in recordings if r.artist})
    title = " ".join(re.split(r"[-_\s]+", folder.name)).strip() or "Recordings"
    return ImportedArticle(
        key=str(folder), source=folder, title=title, body="\n".join(parts) + "\n", body_format="html",
        lang=options.lang or guess_lang(" ".join(r.title for r in recordings)), date=max(dates) if dates else None, tags=list(options.tags), authors=artists,
        media=media, slug_hint=title, notes=[f"{len(recordings)} recordings in one article"],
    )
