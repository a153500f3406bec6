"""Time infopack's media cleaning against plain Pillow and plain ffmpeg doing the same work.

Inputs are generated here (photo-like JPEGs with EXIF, a 720p H.264/AAC clip with metadata), so
the comparison needs nothing but the tools themselves. Each task runs REPEATS times, infopack and
plain interleaved so that load from other users of the machine hits both alike; medians of wall time
and of CPU time (this process plus its ffmpeg children, steadier on a shared machine) are reported,
with ratio = infopack / plain (1.00 = no overhead).

    python bench/media_bench.py [--images N] [--seconds S] [--repeats R]

Bounded: the defaults finish in about two to three minutes on two cores.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, features

from infopack.build.media import MAX_VIDEO_FPS, PROFILES, X264_PRESET, prepare_media

DEFAULT = PROFILES["default"]
SMALL = PROFILES["small"]


@dataclass(frozen=True)
class Timing:
    wall_s: float
    cpu_s: float


@dataclass(frozen=True)
class Result:
    task: str
    ours: Timing
    plain: Timing
    plain_label: str


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure(work: Callable[[int], None], attempt: int) -> Timing:
    wall, cpu = time.perf_counter(), cpu_seconds()
    work(attempt)
    return Timing(time.perf_counter() - wall, cpu_seconds() - cpu)


def median(timings: list[Timing]) -> Timing:
    return Timing(statistics.median(t.wall_s for t in timings), statistics.median(t.cpu_s for t in timings))


def compare(task: str, ours: Callable[[int], None], plain: Callable[[int], None], label: str, repeats: int) -> Result:
    """Run both `repeats` times, alternating, and keep the medians."""
    ours_timings, plain_timings = [], []
    for attempt in range(repeats):
        ours_timings.append(measure(ours, attempt))
        plain_timings.append(measure(plain, attempt))
    return Result(task, median(ours_timings), median(plain_timings), label)


def ffmpeg(*arguments: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *arguments], check=True)


# --------------------------------------------------------------------------------------- inputs


def make_photos(folder: Path, count: int) -> list[Path]:
    """12 MP camera-like JPEGs (noise over a gradient, so they do not compress to nothing) with EXIF."""
    base = Image.linear_gradient("L").resize((4000, 3000)).convert("RGB")
    photos = []
    for index in range(count):
        noise = Image.effect_noise((4000, 3000), 20 + index).convert("RGB")
        photo = Image.blend(base, noise, 0.35)
        exif = Image.Exif()
        exif[0x013B] = "Bench Artist"
        exif[0x0112] = 1 + index % 2 * 5  # every other photo stored sideways
        path = folder / f"photo-{index:02d}.jpg"
        photo.save(path, "JPEG", quality=90, exif=exif)
        photos.append(path)
    return photos


def make_clip(folder: Path, seconds: int) -> Path:
    path = folder / "clip.mp4"
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate=30:duration={seconds}",
           "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
           "-c:v", "libx264", "-preset", "veryfast", "-b:v", "2500k", "-pix_fmt", "yuv420p",
           "-c:a", "aac", "-b:a", "128k", "-metadata", "artist=Bench Artist",
           "-metadata", "creation_time=2024-01-01T00:00:00Z", str(path))
    return path


# ------------------------------------------------------------------------------------ baselines


def plain_pillow(source: Path, target: Path) -> None:
    """What a careful script would do with Pillow alone: upright, thumbnail, re-encode."""
    with Image.open(source) as image:
        image.thumbnail((DEFAULT.max_image_px, DEFAULT.max_image_px), Image.Resampling.LANCZOS)
        upright = ImageOps.exif_transpose(image)
        upright.convert("RGB").save(target, "JPEG", quality=DEFAULT.jpeg_quality, optimize=True)


def plain_remux(source: Path, target: Path) -> None:
    ffmpeg("-i", str(source), "-map", "0:v:0", "-map", "0:a:0", "-c", "copy", "-map_metadata", "-1",
           "-movflags", "+faststart", str(target))


def plain_transcode(source: Path, target: Path, threads: str) -> None:
    kbps = SMALL.video_kbps or 0
    ffmpeg("-i", str(source), "-vf", f"scale=-2:{SMALL.video_max_height}", "-c:v", "libx264",
           "-preset", X264_PRESET, "-threads", threads, "-b:v", f"{kbps}k", "-maxrate", f"{kbps * 3 // 2}k",
           "-bufsize", f"{kbps * 2}k", "-r", str(MAX_VIDEO_FPS), "-c:a", "aac", "-b:a", f"{SMALL.audio_kbps}k",
           "-movflags", "+faststart", str(target))


# ---------------------------------------------------------------------------------------- tasks


def bench_images(photos: list[Path], out: Path, repeats: int) -> Result:
    def ours(attempt: int) -> None:
        for photo in photos:
            prepare_media(photo, out / f"ours-{attempt}-{photo.stem}", DEFAULT)

    def plain(attempt: int) -> None:
        for photo in photos:
            plain_pillow(photo, out / f"plain-{attempt}-{photo.name}")

    return compare(f"{len(photos)} photos 4000x3000 -> 1600 px JPEG", ours, plain,
                   "Pillow thumbnail + exif_transpose + save", repeats)


def bench_remux(clip: Path, seconds: int, out: Path, repeats: int) -> Result:
    return compare(f"{seconds} s 720p H.264/AAC, stream copy (default)",
                   lambda n: prepare_media(clip, out / f"remux-ours-{n}", DEFAULT),
                   lambda n: plain_remux(clip, out / f"remux-plain-{n}.mp4"),
                   "ffmpeg -c copy -map_metadata -1 +faststart", repeats)


def bench_transcode(clip: Path, seconds: int, out: Path, repeats: int, threads: str) -> Result:
    return compare(f"{seconds} s 720p -> 480p H.264 600k + AAC (small)",
                   lambda n: prepare_media(clip, out / f"small-ours-{threads}-{n}", SMALL),
                   lambda n: plain_transcode(clip, out / f"small-plain-{threads}-{n}.mp4", threads),
                   f"ffmpeg libx264 {X264_PRESET} 600k, -threads {threads}", repeats)


def machine() -> str:
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    ffmpeg_version = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout.split()[2]
    return (f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"Pillow {Image.__version__} (libjpeg-turbo {features.version('libjpeg_turbo')}), ffmpeg {ffmpeg_version}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=12)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    options = parser.parse_args()
    if shutil.which("ffmpeg") is None:
        raise SystemExit("ffmpeg is required")
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        inputs, out = work / "in", work / "out"
        inputs.mkdir()
        out.mkdir()
        photos = make_photos(inputs, options.images)
        clip = make_clip(inputs, options.seconds)
        results = [
            bench_images(photos, out, options.repeats),
            bench_remux(clip, options.seconds, out, options.repeats),
            bench_transcode(clip, options.seconds, out, options.repeats, threads="1"),
            bench_transcode(clip, options.seconds, out, options.repeats, threads="0"),
        ]
    print(f"machine: {machine()}")
    print(f"median of {options.repeats} runs\n")
    print("| task | infopack wall / CPU (s) | plain wall / CPU (s) | plain command | ratio wall / CPU |")
    print("|---|---:|---:|---|---:|")
    for r in results:
        print(f"| {r.task} | {r.ours.wall_s:.2f} / {r.ours.cpu_s:.2f} | {r.plain.wall_s:.2f} / {r.plain.cpu_s:.2f} "
              f"| {r.plain_label} | {r.ours.wall_s / r.plain.wall_s:.2f} / {r.ours.cpu_s / r.plain.cpu_s:.2f} |")


if __name__ == "__main__":
    main()
