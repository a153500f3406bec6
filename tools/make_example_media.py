"""Generate the example media under content/media/: a diagram, a spoken welcome and a short video.

Everything is made here from nothing (shapes drawn with Pillow and its built-in font, speech from
espeak-ng, video frames from the same drawing code), then passed through `prepare_media`, so the
committed files carry no metadata and re-running the script gives byte-identical files.

Usage: python tools/make_example_media.py [OUT_DIR]   (default: content/media next to this tool)
Needs: ffmpeg and espeak-ng (apt-get install ffmpeg espeak-ng).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from infopack.build.media import PROFILES, PreparedMedia, prepare_media
from infopack.errors import InfopackError

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "content" / "media"

# The drawing is laid out on this canvas and scaled for the video.
CANVAS = (800, 450)
INK = (30, 41, 59)
PAPER = (248, 250, 252)
CARD = (59, 130, 246)
SHIELD = (22, 163, 74)
HIGHLIGHT = (250, 204, 21)
CAPTION = "Check the signature before copying"
STATIONS = ((130, "bundle"), (400, "verify"), (670, "copy"))  # centre x, label

WELCOME_KO = "도서관에 오신 것을 환영합니다. 복사하기 전에 서명을 확인하세요."
NARRATION_EN = "Check the signature before copying."

VIDEO_SIZE = (480, 270)
VIDEO_FPS = 15
VIDEO_SECONDS = 3


# ------------------------------------------------------------------------------------- drawing


def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's own default font: no font file of ours travels with the bundle."""
    return ImageFont.load_default(size=size)


def draw_card(draw: ImageDraw.ImageDraw, centre_x: int, top: int, colour: tuple[int, int, int]) -> None:
    """An SD card: a rounded body with a cut corner and contact stripes."""
    left, right, bottom = centre_x - 45, centre_x + 45, top + 120
    draw.rounded_rectangle((left, top, right, bottom), radius=10, fill=colour, outline=INK, width=3)
    draw.polygon(((right - 28, top - 1), (right + 1, top - 1), (right + 1, top + 28)), fill=PAPER)
    draw.line(((right - 28, top), (right, top + 28)), fill=INK, width=3)
    for stripe in range(4):
        x = left + 14 + stripe * 14
        draw.rectangle((x, top + 10, x + 7, top + 34), fill=HIGHLIGHT)


def draw_shield_with_check(draw: ImageDraw.ImageDraw, centre_x: int, top: int) -> None:
    outline = (
        (centre_x - 55, top), (centre_x + 55, top), (centre_x + 55, top + 60),
        (centre_x, top + 130), (centre_x - 55, top + 60),
    )
    draw.polygon(outline, fill=SHIELD, outline=INK, width=3)
    draw.line(((centre_x - 28, top + 55), (centre_x - 6, top + 80), (centre_x + 30, top + 30)), fill=PAPER, width=12)


def draw_arrow(draw: ImageDraw.ImageDraw, start_x: int, end_x: int, y: int) -> None:
    draw.line(((start_x, y), (end_x - 18, y)), fill=INK, width=8)
    draw.polygon(((end_x, y), (end_x - 26, y - 18), (end_x - 26, y + 18)), fill=INK)


def draw_diagram(active_station: int | None = None) -> Image.Image:
    """bundle -> verify -> copy, with the caption; `active_station` gets a highlight ring."""
    image = Image.new("RGB", CANVAS, PAPER)
    draw = ImageDraw.Draw(image)
    if active_station is not None:
        centre_x = STATIONS[active_station][0]
        draw.ellipse((centre_x - 95, 70, centre_x + 95, 260), outline=HIGHLIGHT, width=10)
    (bundle_x, _), (verify_x, _), (copy_x, _) = STATIONS
    draw_card(draw, bundle_x, 105, CARD)
    draw_arrow(draw, bundle_x + 70, verify_x - 75, 165)
    draw_shield_with_check(draw, verify_x, 100)
    draw_arrow(draw, verify_x + 75, copy_x - 80, 165)
    draw_card(draw, copy_x - 18, 95, CARD)
    draw_card(draw, copy_x + 18, 115, CARD)
    label_font = font(26)
    for centre_x, label in STATIONS:
        draw.text((centre_x, 305), label, font=label_font, fill=INK, anchor="ms")  # common baseline
    draw.text((CANVAS[0] // 2, 370), CAPTION, font=font(36), fill=INK, anchor="mm")
    return image


# ----------------------------------------------------------------------------------- commands


def run(command: list[str], stdin: bytes | None = None) -> None:
    result = subprocess.run(command, input=stdin, capture_output=True, check=False)
    if result.returncode != 0:
        problem = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise InfopackError(problem[-1] if problem else "failed", path=command[0])


def speak(text: str, voice: str, wav: Path) -> None:
    run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(wav), text])


def keep_main_file(prepared: PreparedMedia, out_dir: Path) -> Path:
    """Move the cleaned file into `out_dir`; a content poster is not wanted (builds make their own)."""
    target = out_dir / prepared.path.name
    shutil.move(prepared.path, target)
    if prepared.poster is not None:
        prepared.poster.unlink()
    return target


# ------------------------------------------------------------------------------------ products


def make_diagram(work: Path, out_dir: Path) -> Path:
    source = work / "diagram-source.png"
    draw_diagram().save(source)
    return keep_main_file(prepare_media(source, work / "check-signature", PROFILES["default"]), out_dir)


def make_welcome_audio(work: Path, out_dir: Path) -> Path:
    wav = work / "welcome.wav"
    speak(WELCOME_KO, "ko", wav)
    voice_profile = replace(PROFILES["default"], name="voice", audio="mp3", audio_kbps=48)
    return keep_main_file(prepare_media(wav, work / "welcome-ko", voice_profile), out_dir)


def video_frames() -> bytes:
    """Raw RGB frames: the highlight moves bundle -> verify -> copy, one station per second."""
    frames = []
    total = VIDEO_FPS * VIDEO_SECONDS
    for index in range(total):
        station = min(index * len(STATIONS) // total, len(STATIONS) - 1)
        frame = draw_diagram(active_station=station).resize(VIDEO_SIZE, Image.Resampling.LANCZOS)
        frames.append(frame.tobytes())
    return b"".join(frames)


def make_video(work: Path, out_dir: Path) -> Path:
    narration = work / "narration.wav"
    speak(NARRATION_EN, "en", narration)
    encoded = work / "verify-source.mp4"
    width, height = VIDEO_SIZE
    command = [
        "ffmpeg", "-nostdin", "-v", "error", "-y",
        "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", str(VIDEO_FPS), "-i", "-",
        "-i", str(narration),
        "-filter_complex", f"[1:a]apad,atrim=0:{VIDEO_SECONDS}[a]", "-map", "0:v", "-map", "[a]",
        "-c:v", "libx264", "-threads", "1", "-preset", "slow", "-crf", "30", "-pix_fmt", "yuv420p",
        "-profile:v", "main", "-c:a", "aac", "-b:a", "48k", "-ac", "1", "-ar", "22050",
        "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact", "-t", str(VIDEO_SECONDS),
        str(encoded),
    ]
    run(command, stdin=video_frames())
    # Already H.264/AAC: the default profile copies the streams and only strips what ffmpeg added.
    return keep_main_file(prepare_media(encoded, work / "verify-before-copy", PROFILES["default"]), out_dir)


def main(argv: list[str]) -> int:
    out_dir = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUT
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        with tempfile.TemporaryDirectory() as scratch:
            work = Path(scratch)
            for made in (make_diagram(work, out_dir), make_welcome_audio(work, out_dir), make_video(work, out_dir)):
                print(f"{made.relative_to(out_dir.parent) if made.is_relative_to(out_dir.parent) else made}: "
                      f"{made.stat().st_size} bytes")
    except InfopackError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
