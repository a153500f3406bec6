"""`infopack preview`: build an unsigned bundle into a temporary folder and rebuild it when the
content changes (polling: no file-watching library, works on every file system).

The bundle is always at the same place (`<work>/bundle/index.html`), so the browser tab staff
opened only needs a reload. Media are prepared once and cached by content hash (MediaCache), so
after a text edit only the text is rebuilt.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from infopack.build.assemble import BuildResult, build_bundle
from infopack.build.media_cache import MediaCache
from infopack.errors import InfopackError


@dataclass
class Preview:
    content_dir: Path
    work_dir: Path
    media_cache: MediaCache = field(init=False)

    def __post_init__(self) -> None:
        self.content_dir = Path(self.content_dir)
        self.work_dir = Path(self.work_dir)
        self.media_cache = MediaCache(self.work_dir / "media-cache")

    @property
    def bundle_dir(self) -> Path:
        return self.work_dir / "bundle"

    @property
    def index_html(self) -> Path:
        return self.bundle_dir / "index.html"

    def build(self) -> BuildResult:
        """One build; InfopackError (bad content) leaves the last good bundle in place."""
        return build_bundle(self.content_dir, self.bundle_dir, force=True, media_cache=self.media_cache)

    def snapshot(self) -> tuple[tuple[str, int, int], ...]:
        """What a change looks like: every file's path, size and modification time."""
        seen = []
        for directory, folders, files in os.walk(self.content_dir):
            folders[:] = sorted(f for f in folders if not f.startswith("."))
            for name in sorted(files):
                if name.startswith("."):
                    continue
                path = os.path.join(directory, name)
                try:
                    stat = os.stat(path)
                except OSError:
                    continue
                seen.append((path, stat.st_size, stat.st_mtime_ns))
        return tuple(seen)

    def watch(self, report: Callable[[BuildResult | InfopackError, float], None], *, interval_s: float = 0.5,
              rounds: int | None = None) -> None:
        """Build, then rebuild whenever the content changes; `report` hears every result and its
        duration. Runs until interrupted (or `rounds` builds, for tests)."""
        built = 0
        last = None
        while rounds is None or built < rounds:
            current = self.snapshot()
            if current != last:
                time.sleep(interval_s / 2)  # let an editor finish writing
                current = self.snapshot()
                started = time.monotonic()
                try:
                    result: BuildResult | InfopackError = self.build()
                except InfopackError as err:
                    result = err
                report(result, time.monotonic() - started)
                last = current
                built += 1
                continue
            time.sleep(interval_s)
