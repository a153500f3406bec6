"""Prepared media kept between builds of the same content (for `infopack preview`).

Preparing media (re-encoding pictures, transcoding audio and video, posters) is most of a build's
time. A preview rebuilds after every edit; with this cache a text edit costs only the text: each
source is looked up by the SHA-256 of its bytes and the profile, and a hit copies the cleaned
files made last time. The cache lives in the preview's temporary folder and goes with it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
from pathlib import Path

from infopack.build import media as media_stage


class MediaCache:
    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._hashes: dict[tuple[str, int, int], str] = {}  # (path, size, mtime) -> content hash
        self._prepared: dict[str, media_stage.PreparedMedia] = {}
        self.hits = 0

    def prepare(self, src: Path, dst_stem: Path, profile: media_stage.MediaProfile, *, used_by: str | None = None
                ) -> media_stage.PreparedMedia:
        key = f"{self._content_hash(src)}-{profile.name}"
        cached = self._prepared.get(key)
        if cached is None:
            entry = self.folder / key
            shutil.rmtree(entry, ignore_errors=True)
            entry.mkdir()
            cached = media_stage.prepare_media(src, entry / "media", profile, used_by=used_by)
            self._prepared[key] = cached
        else:
            self.hits += 1
        path = dst_stem.with_name(dst_stem.name + cached.path.suffix)
        shutil.copyfile(cached.path, path)
        poster = None
        if cached.poster is not None:
            poster = dst_stem.with_name(dst_stem.name + "-poster" + cached.poster.suffix)
            shutil.copyfile(cached.poster, poster)
        return dataclasses.replace(cached, path=path, poster=poster)

    def _content_hash(self, src: Path) -> str:
        stat = src.stat()
        memo = (str(src), stat.st_size, stat.st_mtime_ns)
        if memo not in self._hashes:
            digest = hashlib.sha256()
            with open(src, "rb") as handle:
                while chunk := handle.read(1 << 20):
                    digest.update(chunk)
            self._hashes[memo] = digest.hexdigest()
        return self._hashes[memo]
