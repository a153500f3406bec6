"""Builders for the card-budget tests: photo-like JPEGs, real clips, budgets, reading a built bundle."""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import zstandard
from PIL import Image

from infopack.build.pack import read_data_file
from infopack.plan.budget import USABLE_FRACTION, on_card
from kit.content import article, write_content

CLUSTER = 32 * 1024


def noise_photo(path: Path, seed: int, size: tuple[int, int] = (1200, 900)) -> Path:
    """A photo-like JPEG that compresses like a real one: smooth noise, so each profile shrinks it."""
    rng = random.Random(seed)
    small = Image.frombytes("RGB", (size[0] // 4, size[1] // 4), rng.randbytes(size[0] // 4 * (size[1] // 4) * 3))
    path.parent.mkdir(parents=True, exist_ok=True)
    small.resize(size, Image.Resampling.BICUBIC).save(path, quality=90)
    return path


def clip(path: Path, seconds: int = 2, height: int = 360, kbps: int = 2000) -> Path:
    """A real H.264/AAC MP4 at a high bitrate, so a reduced profile really transcodes it smaller."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        pytest.fail("ffmpeg is required (apt-get install ffmpeg)")
    path.parent.mkdir(parents=True, exist_ok=True)
    width = height * 16 // 9
    subprocess.run(
        [ffmpeg, "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=s={width}x{height}:r=30:d={seconds}",
         "-f", "lavfi", "-i", f"sine=f=440:d={seconds}", "-c:v", "libx264", "-preset", "ultrafast", "-b:v", f"{kbps}k",
         "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", "-shortest", str(path)],
        check=True,
    )  # fmt: skip
    return path


def stretched_video(path: Path, seconds: int) -> Path:
    """A real 1080p MP4 of three frames whose timestamps span `seconds`: ffprobe reports the long
    duration, so bitrate x duration estimates pass 4 GiB while the file itself stays a few KB."""
    path.parent.mkdir(parents=True, exist_ok=True)
    stretch = seconds // 3
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "color=c=blue:s=1920x1080:r=1:d=3",
         "-vf", f"setpts=PTS*{stretch}", "-r", f"1/{stretch}", "-c:v", "libx264", "-preset", "ultrafast", str(path)],
        check=True,
    )  # fmt: skip
    return path


def big_and_small(root: Path, big: tuple[int, int], small: tuple[int, int], extra: dict[str, str] | None = None) -> Path:
    """An important article with a big photo (big.jpg) and a minor one with a small photo."""
    noise_photo(root / "media" / "big.jpg", 4, big)
    noise_photo(root / "media" / "small.jpg", 5, small)
    return write_content(root, {
        "big.md": media_article("Big", "2025-01-01", 9, ["big.jpg"]),
        "small.md": media_article("Small", "2025-01-02", 1, ["small.jpg"]),
        **(extra or {}),
    })  # fmt: skip


def media_article(title: str, date: str, priority: int, media: list[str], body: str = "Some text.") -> str:
    refs = "\n\n".join(f"![{title} {n}](../media/{name})" for n, name in enumerate(media, start=1))
    return article(title=title, date=date, body=f"{body}\n\n{refs}\n", priority=str(priority))


def read_root(bundle: Path) -> dict:
    html = (bundle / "index.html").read_text(encoding="utf-8")
    match = re.search(r'<script id="infopack-root" type="application/json">(.*?)</script>', html, re.S)
    assert match, "root document missing"
    return json.loads(match.group(1))


def catalog(bundle: Path) -> list[list]:
    root = read_root(bundle)
    entries: list[list] = []
    for name in sorted(n for n in root["files"] if n.startswith("cat/")):
        found, data = read_data_file((bundle / "data" / f"{name}.js").read_bytes(), root["files"][name][0])
        assert found == name
        entries += json.loads(zstandard.ZstdDecompressor().decompress(data))
    return entries


def card_bytes(bundle: Path) -> int:
    return sum(on_card(p.stat().st_size, CLUSTER) for p in bundle.rglob("*") if p.is_file())


def budget_for(usable: int) -> str:
    """A `--budget` text whose usable part is `usable` bytes (within a byte)."""
    return f"{usable / USABLE_FRACTION + 1:.0f}B"
