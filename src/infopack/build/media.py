"""Media that is safe to carry: cleaned, size-limited, deterministic copies of images, audio and video.

Every photo or clip can name the person who made it (GPS position, camera serial, artist, the
encoder's host). `prepare_media` writes a copy with none of that left, in a format that Chrome 109,
Firefox 115 and a cheap notel media player can all open:

- images: Pillow decodes, applies the EXIF orientation, converts to sRGB, downscales, and encodes a
  fresh baseline JPEG (PNG when the image really uses transparency) from bare pixels, so no block of
  the source (EXIF, XMP, IPTC, comments, thumbnails, ICC) can travel along;
- audio and video: ffmpeg keeps exactly one video and one audio stream (no data, subtitle or cover
  tracks, which is where dashcams and phones hide GPS tracks), drops container/stream metadata and
  chapters, keeps only the H.264 units a player needs (no SEI user data), rebuilds a kept MP3 from
  its audio frames alone (`clean_mpeg_audio`), and transcodes to H.264/AAC in MP4 or to MP3 when the
  source or the profile needs it. Each video also gets a JPEG poster frame.

Nothing reads a source before `check_media_file` has confirmed it is the container its extension
allows (MEDIA_FORMATS), and ffmpeg/ffprobe then get it only through `_input_arguments` (forced
demuxer, `file` protocol only): a playlist saved as .mp4 can never make a build copy other files.

Output is byte-identical across runs (bit-exact ffmpeg flags, a fixed x264 thread count, fixed
Pillow settings) because whole bundles must be reproducible.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import Image, ImageCms, ImageOps

from infopack.content.media_kinds import MEDIA_KINDS
from infopack.errors import InfopackError, Problem
from infopack.format.constants import FAT32_MAX_FILE_BYTES

# Sources that are drawn rather than photographed are usually smaller and sharper kept as PNG.
LOSSLESS_SOURCE_FORMATS = frozenset({"PNG", "GIF"})


@dataclass(frozen=True)
class MediaFormat:
    """What a media file with one extension must really be before anything reads it.

    ffmpeg, ffprobe and Pillow all pick a reader from a file's *content*, and some of ffmpeg's
    readers are playlists (HLS, ffconcat, ...) that open the files they list: a text file saved as
    `talk.mp3` could make a build copy any recording on the staff machine into the bundle. So the
    extension decides the one container the file may be, its first bytes must say so (`signature`),
    the reader is forced (`reader`: the ffmpeg demuxer, or "pillow"), and what the reader reports
    must be one of `reported` (ffprobe's format names, or Pillow's format names).
    """

    kind: str  # "image" | "audio" | "video"
    reader: str
    reported: frozenset[str]
    signature: str  # a key of _SIGNATURES


_ISO_MEDIA = frozenset({"mov", "mp4", "m4a", "3gp", "3g2", "mj2"})  # what ffmpeg's "mov" demuxer reports
_OGG = frozenset({"ogg"})
_MATROSKA = frozenset({"matroska", "webm"})

# The allowlist: every media extension the build accepts, and what each must be. Nothing else is
# read. It covers exactly content/media_kinds.py's MEDIA_KINDS (checked below), the table the
# renderer and the planner read, so no extension is accepted by one stage and refused by another.
MEDIA_FORMATS: dict[str, MediaFormat] = {
    ".jpg": MediaFormat("image", "pillow", frozenset({"JPEG", "MPO"}), "jpeg"),  # MPO: phone cameras' JPEG
    ".jpeg": MediaFormat("image", "pillow", frozenset({"JPEG", "MPO"}), "jpeg"),
    ".png": MediaFormat("image", "pillow", frozenset({"PNG"}), "png"),
    ".gif": MediaFormat("image", "pillow", frozenset({"GIF"}), "gif"),
    ".webp": MediaFormat("image", "pillow", frozenset({"WEBP"}), "webp"),
    ".mp3": MediaFormat("audio", "mp3", frozenset({"mp3"}), "mpeg-audio"),
    ".m4a": MediaFormat("audio", "mov", _ISO_MEDIA, "iso-media"),
    ".aac": MediaFormat("audio", "aac", frozenset({"aac"}), "adts"),
    ".ogg": MediaFormat("audio", "ogg", _OGG, "ogg"),
    ".oga": MediaFormat("audio", "ogg", _OGG, "ogg"),
    ".opus": MediaFormat("audio", "ogg", _OGG, "ogg"),
    ".wav": MediaFormat("audio", "wav", frozenset({"wav"}), "wave"),
    ".flac": MediaFormat("audio", "flac", frozenset({"flac"}), "flac"),
    ".mp4": MediaFormat("video", "mov", _ISO_MEDIA, "iso-media"),
    ".m4v": MediaFormat("video", "mov", _ISO_MEDIA, "iso-media"),
    ".mov": MediaFormat("video", "mov", _ISO_MEDIA, "iso-media"),
    ".webm": MediaFormat("video", "matroska", _MATROSKA, "ebml"),
    ".mkv": MediaFormat("video", "matroska", _MATROSKA, "ebml"),
    ".ogv": MediaFormat("video", "ogg", _OGG, "ogg"),
}
if {ext: fmt.kind for ext, fmt in MEDIA_FORMATS.items()} != MEDIA_KINDS:  # pragma: no cover - a coding error
    raise RuntimeError("build/media.py MEDIA_FORMATS and content/media_kinds.py MEDIA_KINDS disagree")
IMAGE_EXTENSIONS = frozenset(ext for ext, fmt in MEDIA_FORMATS.items() if fmt.kind == "image")
AUDIO_EXTENSIONS = frozenset(ext for ext, fmt in MEDIA_FORMATS.items() if fmt.kind == "audio")
VIDEO_EXTENSIONS = frozenset(ext for ext, fmt in MEDIA_FORMATS.items() if fmt.kind == "video")

# A source image with more pixels than this is refused before decoding: a small file can claim a
# huge canvas ("decompression bomb") and exhaust memory. 100 MP still admits any real camera photo.
MAX_SOURCE_PIXELS = 100_000_000

# x264 must run on one thread: with frame threads, bitrate-capped (VBV) encodes differ from run to
# run (measured: 3 runs, 3 different streams), and reproducible builds matter more. A build gets its
# parallelism by preparing several files at once instead.
X264_THREADS = 1
X264_PRESET = "medium"
# Video frame rates above this are halved-ish to 30 fps: notels and old phones stutter on 60 fps.
MAX_VIDEO_FPS = 30
# Where the poster frame is taken: one second in, or a third of the way into shorter clips.
POSTER_AT_S = 1.0
# Rough JPEG cost of a poster frame, for estimates (about 1.2 bits per pixel at quality ~80).
POSTER_BYTES_PER_PIXEL = 0.15
# MP4/M4A container overhead for estimates: sample tables and headers, about 1 % plus a few KB.
CONTAINER_OVERHEAD = 1.01
CONTAINER_HEADER_BYTES = 4096

# H.264 profiles a notel and every target browser decode (no 10-bit, no 4:2:2/4:4:4).
PLAYABLE_H264_PROFILES = frozenset({"Baseline", "Constrained Baseline", "Main", "High"})
PLAYABLE_PIXEL_FORMATS = frozenset({"yuv420p", "yuvj420p"})
MP3_SAMPLE_RATES = frozenset({32000, 44100, 48000, 22050, 24000, 16000, 11025, 12000, 8000})

# Deterministic, metadata-free output for every ffmpeg run.
BITEXACT_ARGS = ["-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact"]
STRIP_METADATA_ARGS = ["-map_metadata", "-1", "-map_chapters", "-1"]
# Only the H.264 NAL units a player needs go on: slices (1, 5), parameter sets (7, 8), delimiters and
# end markers (9-11). SEI (6) carries encoder banners and, from some dashcams, GPS positions; filler,
# extension and reserved types (12 and up) are ignored by decoders and so can carry anything.
STRIP_SEI_ARGS = ["-bsf:v", "filter_units=pass_types=1|5|7-11"]


@dataclass(frozen=True)
class MediaProfile:
    """How far media are reduced. `video`/`audio` "copy" keeps streams that are already playable."""

    name: str
    max_image_px: int  # longest side of an image, in pixels
    jpeg_quality: int
    video: str  # "copy" (keep playable H.264, else transcode) | "h264" (always transcode)
    video_max_height: int
    video_kbps: int | None  # None: constant quality (CRF) instead of a bitrate
    audio: str  # "copy" (keep MP3/AAC, else MP3) | "aac" | "mp3"
    audio_kbps: int

    def __post_init__(self) -> None:
        if self.video not in ("copy", "h264"):
            raise InfopackError(f"video must be 'copy' or 'h264', not {self.video!r}", path=self.name)
        if self.audio not in ("copy", "aac", "mp3"):
            raise InfopackError(f"audio must be 'copy', 'aac' or 'mp3', not {self.audio!r}", path=self.name)
        if self.max_image_px < 16 or self.video_max_height < 16 or not 1 <= self.jpeg_quality <= 95:
            raise InfopackError("image size, video height or JPEG quality out of range", path=self.name)


PROFILES: dict[str, MediaProfile] = {
    profile.name: profile
    for profile in (
        MediaProfile("default", 1600, 82, "copy", 720, 1200, "copy", 128),
        MediaProfile("small", 1024, 75, "h264", 480, 600, "aac", 64),
        MediaProfile("tiny", 640, 70, "h264", 360, 300, "aac", 48),
    )
}


def get_profile(name: str) -> MediaProfile:
    """The named profile, or a one-line error listing the known names."""
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join(sorted(PROFILES))
        raise InfopackError(f"unknown media profile (known: {known})", path=name) from None


@dataclass(frozen=True)
class PreparedMedia:
    """One cleaned media file as written; `size` counts the main file only, not the poster."""

    path: Path
    kind: str  # "image" | "audio" | "video"
    mime: str
    poster: Path | None
    width: int | None
    height: int | None
    duration_s: float | None
    size: int


def media_kind(path: Path) -> str:
    """"image", "audio" or "video", judged by the file's extension."""
    return _format_for(Path(path), _Named(Path(path), str(path))).kind


def prepare_media(
    src: Path, dst_stem: Path, profile: MediaProfile, *, shown: str | None = None, used_by: str | None = None
) -> PreparedMedia:
    """Write a cleaned copy of `src` as `dst_stem` + chosen extension (and a poster for video).

    `src` is only read. On bad input nothing is left behind and InfopackError says why in one line.
    Errors name the file as `shown` (default: relative to its content folder when there is one) and,
    given `used_by`, the article that uses it first.
    """
    src, dst_stem = Path(src), Path(dst_stem)
    named = _Named(src, shown, used_by)
    fmt = check_media_file(src, named)
    if fmt.kind == "image":
        return _prepare_image(src, dst_stem, profile, fmt, named)
    return _prepare_av(src, dst_stem, profile, fmt, named)


def estimate_media(src: Path, profile: MediaProfile, *, shown: str | None = None, used_by: str | None = None) -> int:
    """Predicted bytes `prepare_media` writes for `src` (poster included), without writing anything.

    Exact for images (encoded in memory); container overhead added to the copied streams' sizes for
    stream copies; bitrate x duration when transcoding, which is close to an upper bound. The file
    passes the same checks as in `prepare_media` before anything reads it.
    """
    src = Path(src)
    named = _Named(src, shown, used_by)
    fmt = check_media_file(src, named)
    if fmt.kind == "image":
        return len(_encode_clean_image(src, profile, fmt, named).data)
    probe = _probe(src, fmt, named)
    plan = plan_av(probe, profile, fmt.kind)
    return _estimate_av_bytes(probe, plan)


class _Named:
    """How messages name a media file: never by the build machine's absolute path (it can hold a
    staff member's name), always as the user knows it, with the article that uses it when known."""

    def __init__(self, src: Path, shown: str | None = None, used_by: str | None = None):
        self.src = Path(src)
        self._shown = shown
        self.used_by = used_by

    @property
    def shown(self) -> str:
        if self._shown is None:
            self._shown = _shown_in_content(self.src)
        return self._shown

    def error(self, message: str) -> InfopackError:
        message = _scrub_paths(message)
        if self.used_by:
            return InfopackError(Problem(self.used_by, f"media file {self.shown}: {message}"))
        return InfopackError(message, path=self.shown)


def _shown_in_content(src: Path) -> str:
    """`src` as `<content folder>/<path inside it>` (the form content.py uses) when it lies in a
    content folder (one with an infopack.toml), else as given."""
    try:
        resolved = src.resolve()
    except OSError:
        return str(src)
    for folder in resolved.parents:
        if (folder / "infopack.toml").is_file():
            return str(Path(folder.name) / resolved.relative_to(folder))
    return str(src)


# An absolute path (optionally as a file: URL) inside a tool's complaint: keep only its last part.
_ABSOLUTE_PATH_RE = re.compile(r"(?:file:)?(?:/[^/\s'\"]+)+/([^/\s'\"]+)")


def _scrub_paths(message: str) -> str:
    """ffmpeg and Pillow quote the path they were given; a message must never carry the build
    machine's folders, so any absolute path is cut to its file name."""
    return _ABSOLUTE_PATH_RE.sub(r"\1", message)


# ------------------------------------------------------------------------ what a file really is


def _format_for(src: Path, named: _Named) -> MediaFormat:
    fmt = MEDIA_FORMATS.get(src.suffix.lower())
    if fmt is None:
        raise named.error(f"unknown media type {src.suffix.lower() or '(no extension)'!r}")
    return fmt


def check_media_file(src: Path, named: _Named | None = None) -> MediaFormat:
    """The gate every media source passes before any tool reads it; returns its allowed format.

    The extension must be in MEDIA_FORMATS, and the file's own first bytes must be that container
    (so a playlist or concat list saved as .mp4/.mp3/.m4a never reaches ffmpeg), and an MP4/MOV may
    not point at data in other files. ffprobe/ffmpeg are then only ever run through
    `_input_arguments`, which forces this container's demuxer and allows no protocol but `file`.
    """
    src = Path(src)
    named = named or _Named(src)
    fmt = _format_for(src, named)
    if not src.is_file():
        raise named.error("no such file")
    try:
        with open(src, "rb") as stream:
            problem = _SIGNATURES[fmt.signature](stream)
            if problem is None and fmt.signature == "iso-media":
                problem = _external_data_problem(stream)
    except OSError as exc:
        raise named.error(f"cannot be read: {exc.strerror or exc}") from None
    if problem is not None:
        raise named.error(f"{_unreadable(fmt.kind)}: {problem}")
    return fmt


# How much of a file's start is read to tell what it is.
HEAD_BYTES = 64
# Zero bytes some tools leave between an ID3v2 tag and the first frame; more than this is not MP3.
MAX_ZERO_PADDING = 64 * 1024


def _head(stream: BinaryIO, offset: int = 0, size: int = HEAD_BYTES) -> bytes:
    stream.seek(offset)
    return stream.read(size)


def _after_id3v2(stream: BinaryIO) -> int:
    """Offset just past any ID3v2 tags and zero padding at the start (MP3, ADTS and FLAC may carry them)."""
    offset = 0
    while True:
        head = _head(stream, offset, 10)
        if len(head) < 10 or head[:3] != b"ID3" or any(b & 0x80 for b in head[6:10]):
            break
        size = (head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9]
        offset += 10 + size + (10 if head[5] & 0x10 else 0)  # flag 0x10: a 10-byte footer follows
    padding = _head(stream, offset, MAX_ZERO_PADDING)
    return offset + len(padding) - len(padding.lstrip(b"\0"))


def _what_it_is(head: bytes) -> str:
    """A short description of what a file's first bytes show, for messages."""
    if not head:
        return "an empty file"
    for name, matches in _MAGIC.values():
        if matches(head):
            return f"{name} data"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"#EXT"):  # #EXTM3U, #EXTINF: HLS and other M3U playlists
        return "an HLS playlist, which ffmpeg would follow to other files"
    if text.lower().startswith(b"ffconcat"):
        return "an ffconcat list, which ffmpeg would follow to other files"
    if all(32 <= b < 127 or b in b"\t\r\n" for b in text[:HEAD_BYTES]):
        return "text (a playlist or list of files?)"
    return "unrecognised data"


def _is_mpeg_audio_header(head: bytes) -> bool:
    return len(head) >= 4 and _mpeg_header(head, 0) is not None


def _is_adts_header(head: bytes) -> bool:
    # 12-bit sync, then layer bits 00; frame length (13 bits) at least the 7-byte header
    return len(head) >= 7 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0 and (
        ((head[3] & 3) << 11) | (head[4] << 3) | (head[5] >> 5)) >= 7


# Top-level boxes an MP4/M4A/MOV may start with (QuickTime files need not begin with ftyp).
_ISO_FIRST_BOXES = frozenset({b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot"})


def _is_iso_media(head: bytes) -> bool:
    if len(head) < 8 or head[4:8] not in _ISO_FIRST_BOXES:
        return False
    size = struct.unpack(">I", head[:4])[0]
    return size in (0, 1) or size >= 8


# Container name and a test of a file's first bytes, by MediaFormat.signature.
_MAGIC = {
    "jpeg": ("JPEG", lambda h: h[:3] == b"\xff\xd8\xff"),
    "png": ("PNG", lambda h: h[:8] == b"\x89PNG\r\n\x1a\n"),
    "gif": ("GIF", lambda h: h[:6] in (b"GIF87a", b"GIF89a")),
    "webp": ("WebP", lambda h: h[:4] == b"RIFF" and h[8:12] == b"WEBP"),
    "iso-media": ("MP4/QuickTime", _is_iso_media),
    "ogg": ("Ogg", lambda h: h[:4] == b"OggS"),
    "wave": ("WAV", lambda h: h[:4] in (b"RIFF", b"RF64", b"BW64") and h[8:12] == b"WAVE"),
    "ebml": ("Matroska/WebM", lambda h: h[:4] == b"\x1a\x45\xdf\xa3"),
    "flac": ("FLAC", lambda h: h[:4] == b"fLaC"),
    "mpeg-audio": ("MPEG audio", _is_mpeg_audio_header),
    "adts": ("ADTS AAC", _is_adts_header),
}
_AFTER_ID3V2 = frozenset({"mpeg-audio", "adts", "flac"})  # containers that may start with an ID3v2 tag


def _signature_check(key: str) -> Callable[[BinaryIO], str | None]:
    name, matches = _MAGIC[key]

    def check(stream: BinaryIO) -> str | None:
        start = _after_id3v2(stream) if key in _AFTER_ID3V2 else 0
        if matches(_head(stream, start)):
            return None
        return f"named as {name} but it is {_what_it_is(_head(stream, start))}"

    return check


_SIGNATURES: dict[str, Callable[[BinaryIO], str | None]] = {key: _signature_check(key) for key in _MAGIC}

# The way from the top of an MP4 down to its data reference tables: moov/trak/mdia/minf/dinf/dref.
# Only this path is followed, so a file nesting boxes thousands deep cannot exhaust the stack.
_ISO_PATH_TO_DREF = (b"moov", b"trak", b"mdia", b"minf", b"dinf", b"dref")
# A header (moov) bigger than this is not something a phone or camera writes; refuse, not read it.
MAX_ISO_HEADER_BYTES = 256 * 1024 * 1024
# Boxes looked at in one file: a fragmented 10-hour recording has under 100,000; millions of tiny
# boxes would only make the check slow.
MAX_ISO_BOXES = 1_000_000


def _iso_boxes(stream: BinaryIO, start: int, end: int):
    """(type, body offset, end offset) of each box between `start` and `end`."""
    offset = start
    while offset + 8 <= end:
        head = _head(stream, offset, 16)
        if len(head) < 8:
            return
        size, kind = struct.unpack(">I4s", head[:8])
        body = offset + 8
        if size == 1 and len(head) == 16:
            size, body = struct.unpack(">Q", head[8:16])[0], offset + 16
        elif size == 0:
            size = end - offset
        if size < body - offset:
            return  # damaged; ffprobe will say so
        yield kind, body, min(offset + size, end)
        offset += size


def _external_data_problem(stream: BinaryIO) -> str | None:
    """An MP4/MOV track may keep its samples in another file (a `dref` entry without the
    self-contained flag). ffmpeg follows such references only when asked (enable_drefs, which we
    force off), but a file that makes them is not one whole recording, so it is refused."""
    seen = 0

    def walk(start: int, stop: int, depth: int) -> str | None:
        nonlocal seen
        for kind, body, box_end in _iso_boxes(stream, start, stop):
            seen += 1
            if seen > MAX_ISO_BOXES:
                return f"more than {MAX_ISO_BOXES:,} MP4 boxes"
            if kind != _ISO_PATH_TO_DREF[depth]:
                continue
            if kind == b"moov" and box_end - body > MAX_ISO_HEADER_BYTES:
                return "its MP4 header is implausibly large"
            problem = _dref_problem(_head(stream, body, box_end - body)) if kind == b"dref" else walk(body, box_end, depth + 1)
            if problem is not None:
                return problem
        return None

    return walk(0, stream.seek(0, os.SEEK_END), 0)


def _dref_problem(dref: bytes) -> str | None:
    """A data reference table: version/flags, entry count, then boxes each with version/flags,
    where flag 1 means "the data is in this same file"."""
    if len(dref) < 8:
        return "its MP4 data reference table is damaged"
    offset, count = 8, struct.unpack(">I", dref[4:8])[0]
    for _ in range(count):
        if offset + 12 > len(dref):
            return "its MP4 data reference table is damaged"
        size, kind, flags = struct.unpack(">I4sI", dref[offset : offset + 12])
        if not flags & 1:
            shown = kind.decode("latin-1").strip() or "?"
            return f"an MP4 track refers to data in another file ({shown!r} data reference); media must be self-contained"
        if size < 12:
            return "its MP4 data reference table is damaged"
        offset += size
    return None


def _input_arguments(src: Path, fmt: MediaFormat) -> list[str]:
    """The only way a file is handed to ffmpeg or ffprobe (as their input options).

    The demuxer is forced, so ffmpeg never guesses a playlist, concat or image-sequence reader from
    the content or name; only the `file` protocol is allowed, so nothing the file says can open a
    network or `concat:`/`subfile:` URL; the path goes in as an absolute `file:` URL, so a file
    named `concat:a.mp3` or `http:x.mp4` is just that file; and MP4 data references are not
    followed even if a future default changes.
    """
    arguments = ["-protocol_whitelist", "file", "-f", fmt.reader]
    if fmt.reader == "mov":
        arguments += ["-enable_drefs", "0", "-use_absolute_path", "0"]
    return arguments + ["-i", "file:" + os.path.abspath(src)]


def _output_argument(dst: Path) -> str:
    return "file:" + os.path.abspath(dst)


def _one_line(text: str) -> str:
    """The last meaningful line of a tool's or library's complaint, so errors stay one line."""
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[-1] if lines else "unknown error"


def _same_file(a: Path, b: Path) -> bool:
    return a.resolve() == b.resolve()


def _write_atomically(dst: Path, data: bytes) -> None:
    """Write via a temporary sibling so a failed run never leaves a half-written file."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.partial")
    tmp.write_bytes(data)
    os.replace(tmp, dst)


def _guard_destination(src: Path, dst: Path, named: _Named) -> None:
    if _same_file(src, dst):
        raise named.error(f"output {dst.name} would overwrite the source")


# --------------------------------------------------------------------------------------- images


@dataclass(frozen=True)
class EncodedImage:
    data: bytes
    extension: str  # ".jpg" | ".png"
    mime: str
    width: int
    height: int


def _prepare_image(src: Path, dst_stem: Path, profile: MediaProfile, fmt: MediaFormat, named: _Named) -> PreparedMedia:
    encoded = _encode_clean_image(src, profile, fmt, named)
    dst = dst_stem.with_name(dst_stem.name + encoded.extension)
    _guard_destination(src, dst, named)
    _write_atomically(dst, encoded.data)
    return PreparedMedia(dst, "image", encoded.mime, None, encoded.width, encoded.height, None, len(encoded.data))


def _encode_clean_image(src: Path, profile: MediaProfile, fmt: MediaFormat, named: _Named) -> EncodedImage:
    image, source_format = load_clean_image(src, profile.max_image_px, fmt, named)
    return encode_image(image, profile.jpeg_quality, try_png=source_format in LOSSLESS_SOURCE_FORMATS)


def load_clean_image(
    src: Path, max_px: int, fmt: MediaFormat | None = None, named: _Named | None = None
) -> tuple[Image.Image, str]:
    """Decode `src` into bare, upright, sRGB pixels no larger than `max_px` on the longest side.

    The returned image carries no `info` at all: it is rebuilt from raw pixel bytes, so nothing of
    the source file's metadata can reach the encoder. Also returns Pillow's name for the source format.
    Only the decoders MEDIA_FORMATS allows for the extension are tried (Pillow otherwise picks one
    of dozens by content, some of which hand the file to other programs).
    """
    src = Path(src)
    named = named or _Named(src, str(src))
    fmt = fmt or _format_for(src, named)
    try:
        with warnings.catch_warnings():
            # Our own pixel limit below replaces Pillow's warning; its hard error is still caught.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(src, formats=sorted(fmt.reported)) as opened:
                return _clean_pixels(opened, max_px, named), str(opened.format)
    except InfopackError:
        raise
    except Exception as exc:  # Pillow raises many types for damaged files; all mean the same here.
        reason = _one_line(str(exc)) if str(exc).strip() else type(exc).__name__
        raise named.error(f"not a readable image: {reason}") from None


def _clean_pixels(opened: Image.Image, max_px: int, named: _Named) -> Image.Image:
    width, height = opened.size
    if width * height > MAX_SOURCE_PIXELS:
        raise named.error(f"not a readable image: {width}x{height} pixels exceeds the {MAX_SOURCE_PIXELS} pixel limit")
    target = fit_within(opened.size, max_px)
    # For JPEG, decode at a reduced DCT scale when the image will be shrunk anyway: much faster and
    # still at least `target` pixels for the resampling below. The box is square, so orientation
    # does not change which scale is chosen.
    opened.draft(opened.mode, target)
    opened.load()
    upright = ImageOps.exif_transpose(opened)
    icc_profile = opened.info.get("icc_profile")
    pixels = _to_display_mode(upright, icc_profile)
    final_size = fit_within(pixels.size, max_px)
    if pixels.size != final_size:
        pixels = pixels.resize(final_size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    return Image.frombytes(pixels.mode, pixels.size, pixels.tobytes())


def fit_within(size: tuple[int, int], max_px: int) -> tuple[int, int]:
    """`size` scaled down (never up) so its longest side is at most `max_px`, aspect kept."""
    width, height = size
    longest = max(width, height)
    if longest <= max_px:
        return size
    scale = max_px / longest
    return max(1, round(width * scale)), max(1, round(height * scale))


def _to_display_mode(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """Convert to L, RGB, LA or RGBA in sRGB; alpha is kept only if some pixel is see-through."""
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N"):
        image = image.convert("I").point(lambda value: value / 256).convert("L")
    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
    if has_alpha:
        image = image.convert("LA" if image.mode in ("L", "LA", "La") else "RGBA")
        if image.getchannel("A").getextrema()[0] == 255:
            image = image.convert("L" if image.mode == "LA" else "RGB")
    elif image.mode in ("1", "L"):
        image = image.convert("L")
    if image.mode in ("L", "LA"):
        return image  # grey profiles are near enough sRGB's curve; the profile is simply dropped
    return _to_srgb(image, icc_profile)


def _to_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """Colour-convert from the embedded profile to sRGB, so no ICC block needs to be carried."""
    output_mode = "RGBA" if image.mode == "RGBA" else "RGB"
    if icc_profile:
        try:
            source_profile = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
            srgb = ImageCms.createProfile("sRGB")
            rgb_input = image if image.mode in ("RGB", "RGBA", "CMYK") else image.convert(output_mode)
            converted = ImageCms.profileToProfile(rgb_input, source_profile, srgb, outputMode=output_mode)
            if converted is not None:
                return converted
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # an unusable profile: fall back to treating the pixels as sRGB
    return image.convert(output_mode)


def encode_image(image: Image.Image, jpeg_quality: int, try_png: bool = False) -> EncodedImage:
    """Encode bare pixels as PNG when there is alpha, else as baseline JPEG (all browsers show both).

    With `try_png` (a PNG or GIF source: diagrams, screenshots) the PNG is kept when it is no larger
    than the JPEG, which keeps line art sharp; photos saved as PNG still become JPEG.
    """
    if image.mode in ("RGBA", "LA"):
        return _encode_png(image)
    jpeg = _encode_jpeg(image, jpeg_quality)
    if try_png:
        png = _encode_png(image)
        if len(png.data) <= len(jpeg.data):
            return png
    return jpeg


def _encode_png(image: Image.Image) -> EncodedImage:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return EncodedImage(buffer.getvalue(), ".png", "image/png", image.width, image.height)


def _encode_jpeg(image: Image.Image, jpeg_quality: int) -> EncodedImage:
    # Baseline (not progressive) with optimised Huffman tables; 4:2:0 is what cameras and browsers
    # expect. No exif/icc/comment arguments are given, and the image has no `info` to inherit.
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=jpeg_quality, optimize=True, progressive=False, subsampling="4:2:0")
    return EncodedImage(buffer.getvalue(), ".jpg", "image/jpeg", image.width, image.height)


# ------------------------------------------------------------------------------ audio and video


@dataclass(frozen=True)
class AvStream:
    """What ffprobe says about one stream that matters for copy-or-transcode decisions."""

    index: int
    codec: str
    bit_rate: int | None
    width: int | None = None  # as displayed, i.e. after any rotation
    height: int | None = None
    fps: float | None = None
    pix_fmt: str | None = None
    codec_profile: str | None = None
    sample_rate: int | None = None
    channels: int | None = None


@dataclass(frozen=True)
class AvProbe:
    format_names: frozenset[str]
    duration_s: float
    size: int
    video: AvStream | None
    audio: AvStream | None


@dataclass(frozen=True)
class AvPlan:
    """What `prepare_media` will do with one audio or video file."""

    container: str  # ffmpeg muxer: "mp4" | "mp3"
    extension: str  # ".mp4" | ".m4a" | ".mp3"
    mime: str
    video: str | None  # None (no video) | "copy" | "h264"
    audio: str | None  # None (no audio) | "copy" | "aac" | "mp3"
    video_height: int | None  # output height when transcoding video
    video_kbps: int | None  # when transcoding video; None means constant quality (CRF)
    audio_kbps: int  # when transcoding audio


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise InfopackError("not installed (apt-get install ffmpeg)", path=name)
    return found


def _unreadable(kind: str) -> str:
    return {"image": "not a readable image", "audio": "not a readable audio file"}.get(kind, "not a readable video")


def probe_media(src: Path, kind: str | None = None) -> AvProbe:
    """Ask ffprobe about `src` (after `check_media_file`); InfopackError when it is not an allowed
    container, ffprobe cannot read it, or it has nothing to play. `kind` defaults to the extension's."""
    src = Path(src)
    named = _Named(src)
    fmt = check_media_file(src, named)
    return _probe(src, fmt, named, kind)


def _probe(src: Path, fmt: MediaFormat, named: _Named, kind: str | None = None) -> AvProbe:
    """ffprobe on a file that has passed `check_media_file` (or that we wrote ourselves)."""
    kind = kind or fmt.kind
    command = [_tool("ffprobe"), "-v", "error", "-print_format", "json", "-show_format", "-show_streams"]
    result = _run_tool(command + _input_arguments(src, fmt), text=True, errors="replace")
    if result.returncode != 0:
        raise named.error(f"{_unreadable(kind)}: {_one_line(result.stderr)}")
    try:
        info = json.loads(result.stdout)
    except json.JSONDecodeError:
        raise named.error(f"{_unreadable(kind)}: ffprobe gave no answer") from None
    fmt_info = info.get("format", {})
    names = frozenset(str(fmt_info.get("format_name", "")).split(","))
    if not names <= fmt.reported:  # the forced demuxer is the only one; this says so independently
        raise named.error(f"{_unreadable(kind)}: read as {','.join(sorted(names))}, not {fmt.reader}")
    streams = info.get("streams", [])
    video = _first_stream(streams, "video")
    audio = _first_stream(streams, "audio")
    duration = _float(fmt_info.get("duration")) or 0.0
    wanted = video if kind == "video" else audio
    if wanted is None or duration <= 0:
        raise named.error(f"{_unreadable(kind)}: no playable {kind} stream")
    return AvProbe(names, duration, int(fmt_info.get("size") or src.stat().st_size), video, audio)


def _first_stream(streams: list[dict], codec_type: str) -> AvStream | None:
    for stream in streams:
        if stream.get("codec_type") != codec_type:
            continue
        if stream.get("disposition", {}).get("attached_pic"):
            continue  # cover art inside an MP3/MP4 is an image, not the video
        return _stream_facts(stream)
    return None


def _stream_facts(stream: dict) -> AvStream:
    width, height = stream.get("width"), stream.get("height")
    if width and height and _rotation(stream) % 180 == 90:
        width, height = height, width
    return AvStream(
        index=int(stream["index"]),
        codec=str(stream.get("codec_name", "")),
        bit_rate=_int(stream.get("bit_rate")),
        width=width,
        height=height,
        fps=_rate(stream.get("avg_frame_rate")) or _rate(stream.get("r_frame_rate")),
        pix_fmt=stream.get("pix_fmt"),
        codec_profile=stream.get("profile"),
        sample_rate=_int(stream.get("sample_rate")),
        channels=_int(stream.get("channels")),
    )


def _rotation(stream: dict) -> int:
    for side_data in stream.get("side_data_list", []):
        if "rotation" in side_data:
            return int(round(float(side_data["rotation"])))
    return int(stream.get("tags", {}).get("rotate", 0) or 0)


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _float(value: object) -> float | None:
    try:
        return float(str(value))
    except (TypeError, ValueError):
        return None


def _rate(value: object) -> float | None:
    numerator, _, denominator = str(value or "").partition("/")
    try:
        rate = float(numerator) / float(denominator or 1)
    except (ValueError, ZeroDivisionError):
        return None
    return rate if rate > 0 else None


def plan_av(probe: AvProbe, profile: MediaProfile, kind: str) -> AvPlan:
    """Decide copy or transcode for each stream, and the output container."""
    if kind == "video" and probe.video is not None:
        video = "copy" if _video_copyable(probe.video, profile) else "h264"
        audio = None if probe.audio is None else ("copy" if _aac_copyable(probe.audio, profile) else "aac")
        height = None if video == "copy" else _output_height(probe.video, profile)
        return AvPlan("mp4", ".mp4", "video/mp4", video, audio, height, profile.video_kbps, profile.audio_kbps)
    if probe.audio is None:  # probe_media refuses such files; this keeps the type checker honest
        raise InfopackError("not a readable audio file: no audio stream", path="audio")
    return _plan_audio_only(probe.audio, profile, in_mp3_file="mp3" in probe.format_names)


def _plan_audio_only(audio: AvStream, profile: MediaProfile, in_mp3_file: bool = True) -> AvPlan:
    kbps = profile.audio_kbps
    # MP3 is kept only from an .mp3 file, whose frames `clean_mpeg_audio` rebuilds before the copy.
    if audio.codec == "mp3" and in_mp3_file and profile.audio in ("copy", "mp3") and _bitrate_fits(audio, profile):
        return AvPlan("mp3", ".mp3", "audio/mpeg", None, "copy", None, None, kbps)
    if audio.codec == "aac" and profile.audio in ("copy", "aac") and _bitrate_fits(audio, profile):
        return AvPlan("mp4", ".m4a", "audio/mp4", None, "copy", None, None, kbps)
    if profile.audio == "aac":
        return AvPlan("mp4", ".m4a", "audio/mp4", None, "aac", None, None, kbps)
    # MP3 is what every notel plays, so it is the target for Ogg, Opus, WAV and friends.
    return AvPlan("mp3", ".mp3", "audio/mpeg", None, "mp3", None, None, kbps)


def _bitrate_fits(audio: AvStream, profile: MediaProfile) -> bool:
    """"copy" keeps any playable stream; "aac"/"mp3" keep one only if it is already small enough."""
    if profile.audio == "copy":
        return True
    return audio.bit_rate is not None and audio.bit_rate <= profile.audio_kbps * 1000 * 1.1


def _aac_copyable(audio: AvStream, profile: MediaProfile) -> bool:
    return audio.codec == "aac" and profile.audio in ("copy", "aac") and _bitrate_fits(audio, profile)


def _video_copyable(video: AvStream, profile: MediaProfile) -> bool:
    return (
        profile.video == "copy"
        and video.codec == "h264"
        and video.pix_fmt in PLAYABLE_PIXEL_FORMATS
        and video.codec_profile in PLAYABLE_H264_PROFILES
        and (video.height or 0) <= profile.video_max_height
        and (video.fps or 0) <= MAX_VIDEO_FPS + 1
    )


def _output_height(video: AvStream, profile: MediaProfile) -> int:
    height = min(video.height or profile.video_max_height, profile.video_max_height)
    return max(2, height - height % 2)


def _estimate_av_bytes(probe: AvProbe, plan: AvPlan) -> int:
    payload = _estimate_stream_bytes(probe, probe.video, plan.video, plan) + _estimate_stream_bytes(
        probe, probe.audio, plan.audio, plan
    )
    total = payload * CONTAINER_OVERHEAD + CONTAINER_HEADER_BYTES
    if plan.video is not None and probe.video is not None:
        width, height = _output_size(probe.video, plan)
        total += width * height * POSTER_BYTES_PER_PIXEL
    return int(total)


def _estimate_stream_bytes(probe: AvProbe, stream: AvStream | None, action: str | None, plan: AvPlan) -> float:
    if stream is None or action is None:
        return 0.0
    if action == "copy":
        if stream.bit_rate:
            return stream.bit_rate * probe.duration_s / 8
        return float(probe.size)  # e.g. Matroska gives no per-stream rate: the whole file bounds it
    return _target_bits_per_second(plan, action, stream) * probe.duration_s / 8


# Constant-quality x264 (no bitrate in the profile) lands near this many bits per pixel per frame
# on ordinary footage; only used for estimates.
CRF_BITS_PER_PIXEL = 0.1
CRF = 23


def _target_bits_per_second(plan: AvPlan, action: str, stream: AvStream) -> float:
    if action in ("aac", "mp3"):
        return plan.audio_kbps * 1000
    if plan.video_kbps is not None:
        return plan.video_kbps * 1000
    width, height = _output_size(stream, plan)
    return width * height * _output_fps(stream) * CRF_BITS_PER_PIXEL


def _output_size(video: AvStream, plan: AvPlan) -> tuple[int, int]:
    width, height = video.width or 0, video.height or 0
    if plan.video != "copy" and plan.video_height and height:
        width = round(width * plan.video_height / height / 2) * 2
        height = plan.video_height
    return width, height


def _output_fps(video: AvStream) -> float:
    return min(video.fps or MAX_VIDEO_FPS, MAX_VIDEO_FPS)


def ffmpeg_arguments(src: Path, dst: Path, probe: AvProbe, plan: AvPlan, fmt: MediaFormat | None = None) -> list[str]:
    """The complete ffmpeg command that carries out `plan` (public so benchmarks can compare).
    `src` is read as `fmt` (default: what its extension allows), and must have passed `check_media_file`."""
    fmt = fmt or _format_for(Path(src), _Named(Path(src)))
    command = [_tool("ffmpeg"), "-nostdin", "-hide_banner", "-v", "error", "-y"] + _input_arguments(src, fmt)
    # Exactly one stream of each kind: data, subtitle and cover-art tracks (GPS logs, names) stay out.
    for stream in (probe.video if plan.video else None, probe.audio if plan.audio else None):
        if stream is not None:
            command += ["-map", f"0:{stream.index}"]
    command += STRIP_METADATA_ARGS + BITEXACT_ARGS
    if plan.video is not None and probe.video is not None:
        command += _video_arguments(probe.video, plan)
    if plan.audio is not None and probe.audio is not None:
        command += _audio_arguments(probe.audio, plan)
    if plan.container == "mp4":
        command += ["-movflags", "+faststart", "-f", "mp4"]
    else:
        # No ID3 tag at all: there is nothing we want to say about the file.
        command += ["-id3v2_version", "0", "-write_id3v1", "0", "-f", "mp3"]
    return command + [_output_argument(dst)]


def _video_arguments(video: AvStream, plan: AvPlan) -> list[str]:
    if plan.video == "copy":
        return ["-c:v", "copy"] + STRIP_SEI_ARGS
    filters = []
    if (video.fps or 0) > MAX_VIDEO_FPS + 1:
        filters.append(f"fps={MAX_VIDEO_FPS}")
    if (video.height or 0) > (plan.video_height or 0):
        filters.append(f"scale=-2:{plan.video_height}")
    else:
        filters.append("scale=trunc(iw/2)*2:trunc(ih/2)*2")  # H.264 4:2:0 needs even sizes
    filters.append("format=yuv420p")
    arguments = ["-vf", ",".join(filters), "-c:v", "libx264", "-preset", X264_PRESET, "-profile:v", "main"]
    # ffmpeg names itself as the "compressor" in the MP4 sample description; a blank (an empty
    # value is ignored) keeps the file from saying what made it.
    arguments += ["-threads", str(X264_THREADS), "-metadata:s:v", "encoder= "]
    if plan.video_kbps is None:
        arguments += ["-crf", str(CRF)]
    else:
        kbps = plan.video_kbps
        # A capped average bitrate keeps the real size close to the planner's estimate.
        arguments += ["-b:v", f"{kbps}k", "-maxrate", f"{kbps * 3 // 2}k", "-bufsize", f"{kbps * 2}k"]
    return arguments + STRIP_SEI_ARGS


def _audio_arguments(audio: AvStream, plan: AvPlan) -> list[str]:
    if plan.audio == "copy":
        return ["-c:a", "copy"]
    codec = "libmp3lame" if plan.audio == "mp3" else "aac"
    arguments = ["-c:a", codec, "-b:a", f"{plan.audio_kbps}k", "-ac", str(min(audio.channels or 2, 2))]
    rate = audio.sample_rate or 44100
    if rate > 48000 or (plan.audio == "mp3" and rate not in MP3_SAMPLE_RATES):
        arguments += ["-ar", "44100"]
    return arguments


def _prepare_av(src: Path, dst_stem: Path, profile: MediaProfile, fmt: MediaFormat, named: _Named) -> PreparedMedia:
    kind = fmt.kind
    probe = _probe(src, fmt, named)
    plan = plan_av(probe, profile, kind)
    dst = dst_stem.with_name(dst_stem.name + plan.extension)
    _guard_destination(src, dst, named)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.partial")
    frames = dst.with_name(f".{dst.name}.frames")
    try:
        source, source_fmt, source_probe = src, fmt, probe
        if plan.container == "mp3" and plan.audio == "copy":
            # A stream copy keeps every byte between and inside the frames (tags, joined files'
            # headers, encoder strings); only the audio itself goes on, rebuilt frame by frame.
            cleaned = clean_mpeg_audio(src.read_bytes())
            if not cleaned:
                raise named.error(f"{_unreadable(kind)}: no run of MPEG audio layer III frames found")
            frames.write_bytes(cleaned)
            source, source_fmt = frames, MEDIA_FORMATS[".mp3"]
            source_probe = _probe(frames, source_fmt, named, kind)
        _run_ffmpeg(ffmpeg_arguments(source, tmp, source_probe, plan, source_fmt), named, kind)
        size = tmp.stat().st_size
        if size > FAT32_MAX_FILE_BYTES:
            raise named.error(f"cleaned file is {size} bytes, over the FAT32 limit; use a smaller profile")
        written = _probe(tmp, MEDIA_FORMATS[plan.extension], named, kind)
        poster = _write_poster(tmp, dst_stem, profile, written, named) if plan.video else None
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)
        frames.unlink(missing_ok=True)
    width = written.video.width if plan.video and written.video else None
    height = written.video.height if plan.video and written.video else None
    return PreparedMedia(dst, kind, plan.mime, poster, width, height, round(written.duration_s, 3), size)


# ffmpeg and ffprobe end with the build, even when it is killed with SIGKILL (no orphaned
# transcodes): setpriv sets PR_SET_PDEATHSIG between fork and exec. Threads may start them
# (plan), where a preexec_fn is not safe; setpriv (util-linux) is on every Debian.
_DIE_WITH_BUILD = (
    ["setpriv", "--pdeathsig", "KILL", "--"] if sys.platform.startswith("linux") and shutil.which("setpriv") else []
)


def _run_tool(command: list[str], **options) -> subprocess.CompletedProcess:
    """Run ffmpeg/ffprobe; a child stopped by Ctrl-C is an interruption, never a bad file."""
    result = subprocess.run(_DIE_WITH_BUILD + command, capture_output=True, check=False, **options)
    stderr = result.stderr.strip() if result.stderr else ""
    # ffmpeg exits 255 with nothing on stderr (-v error) when SIGINT stops it; ffprobe dies of it.
    if result.returncode == -signal.SIGINT or (result.returncode == 255 and not stderr):
        raise KeyboardInterrupt
    return result


def _run_ffmpeg(command: list[str], named: _Named, kind: str) -> bytes:
    result = _run_tool(command)
    if result.returncode != 0:
        message = _one_line(result.stderr.decode("utf-8", "replace"))
        raise named.error(f"{_unreadable(kind)}: {message}")
    return result.stdout


def _write_poster(video_file: Path, dst_stem: Path, profile: MediaProfile, probe: AvProbe, named: _Named) -> Path:
    """A JPEG of one frame, from the cleaned video so it matches what is played."""
    at = min(POSTER_AT_S, probe.duration_s / 3)
    command = [_tool("ffmpeg"), "-nostdin", "-hide_banner", "-v", "error", "-ss", f"{at:.3f}"]
    command += _input_arguments(video_file, MEDIA_FORMATS[".mp4"])
    command += ["-frames:v", "1", "-an", "-map_metadata", "-1"] + BITEXACT_ARGS
    command += ["-c:v", "png", "-f", "image2pipe", "-"]
    frame_png = _run_ffmpeg(command, named, "video")
    if not frame_png:
        raise named.error("not a readable video: no frame for a poster")
    with Image.open(io.BytesIO(frame_png), formats=["PNG"]) as frame:
        pixels = _clean_pixels(frame, profile.max_image_px, named)
    encoded = encode_image(pixels.convert("RGB"), profile.jpeg_quality)
    poster = dst_stem.with_name(dst_stem.name + "-poster.jpg")
    _write_atomically(poster, encoded.data)
    return poster


# ---------------------------------------------------------------------------- MP3 frame rebuild
#
# An MP3 file is MPEG audio frames with anything at all between and around them: ID3v1/ID3v2, APE
# and Lyrics3 tags, the tags and Xing/Info header of every file that was joined onto it, and, inside
# each frame after the audio bits, "ancillary data" where encoders write their name. ffmpeg's stream
# copy passes much of that on (measured: bytes between frames, a second ID3v2 tag, a second Info
# frame) and exiftool does not see it. So a copied MP3 is rebuilt here from its frames alone, with
# every bit that the decoder does not use set to zero; the decoded audio is unchanged.

_MPEG_KBPS = {  # (MPEG-1 or 2/2.5, layer) -> kbit/s by the header's 4-bit index
    (1, 1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (1, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (1, 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (2, 1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (2, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (2, 3): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MPEG_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}  # by version bits
MPEG1 = 3  # version bits: 3 MPEG-1, 2 MPEG-2, 0 MPEG-2.5
# Frames that must follow one another, each where the last one ends, before bytes after junk count
# as audio again; a single valid-looking header inside a tag or picture is common, three are not.
FRAMES_TO_RESYNC = 3
_ENCODER_NAMES = (b"LAME", b"Lavf", b"Lavc")  # prefixes for which ffmpeg reads the encoder delay


@dataclass(frozen=True)
class MpegFrame:
    stream: tuple[int, int, int, bool]  # version bits, layer, sample rate, mono: fixed within a stream
    length: int  # bytes, header included
    protected: bool  # a 16-bit CRC follows the header


def _mpeg_header(data: bytes, pos: int) -> MpegFrame | None:
    """The MPEG audio frame whose header starts at `pos`, or None if none does there."""
    if pos + 4 > len(data) or data[pos] != 0xFF or data[pos + 1] & 0xE0 != 0xE0:
        return None
    b1, b2, b3 = data[pos + 1], data[pos + 2], data[pos + 3]
    version, layer = (b1 >> 3) & 3, 4 - ((b1 >> 1) & 3)
    bitrate_index, rate_index, padding = b2 >> 4, (b2 >> 2) & 3, (b2 >> 1) & 1
    # Reserved version or layer, free-format or "bad" bitrate, reserved rate or emphasis: not a frame.
    if version == 1 or layer == 4 or bitrate_index in (0, 15) or rate_index == 3 or b3 & 3 == 2:
        return None
    kbps = _MPEG_KBPS[(1 if version == MPEG1 else 2, layer)][bitrate_index]
    rate = _MPEG_RATES[version][rate_index]
    if layer == 1:
        length = (12000 * kbps // rate + padding) * 4
    elif layer == 2 or version == MPEG1:
        length = 144000 * kbps // rate + padding
    else:
        length = 72000 * kbps // rate + padding
    return MpegFrame((version, layer, rate, b3 >> 6 == 3), length, not b1 & 1)


def _side_info_bytes(stream: tuple[int, int, int, bool]) -> int:
    version, _, _, mono = stream
    if version == MPEG1:
        return 17 if mono else 32
    return 9 if mono else 17


def _run_starts_at(data: bytes, pos: int, stream: tuple | None) -> bool:
    """Whether layer III frames of one stream (`stream`, if given) follow each other from `pos`,
    FRAMES_TO_RESYNC of them or fewer that end exactly at the end of the data."""
    first = _mpeg_header(data, pos)
    if first is None or first.stream[1] != 3 or (stream is not None and first.stream != stream):
        return False
    for _ in range(FRAMES_TO_RESYNC):
        frame = _mpeg_header(data, pos)
        if frame is None or frame.stream != first.stream or pos + frame.length > len(data):
            return False
        pos += frame.length
        if pos == len(data):
            break
    return True


def mpeg_frames(data: bytes) -> list[tuple[int, MpegFrame]]:
    """(offset, frame) of every layer III frame of the file's one audio stream, in order: a run
    continues while each frame starts where the last ended; after anything else, audio resumes only
    where a new run of FRAMES_TO_RESYNC frames of the same stream starts."""
    found: list[tuple[int, MpegFrame]] = []
    stream = None
    pos = 0
    while True:
        frame = _mpeg_header(data, pos) if stream is not None else None
        if frame is not None and frame.stream == stream and pos + frame.length <= len(data):
            found.append((pos, frame))
            pos += frame.length
            continue
        pos = data.find(b"\xff", pos)
        while pos != -1 and not _run_starts_at(data, pos, stream):
            pos = data.find(b"\xff", pos + 1)
        if pos == -1:
            return found
        if stream is None:
            stream = _mpeg_header(data, pos).stream


def _vbr_header(data: bytes, pos: int, frame: MpegFrame) -> str | None:
    """"xing" or "vbri" when the frame is an encoder's summary frame (no audio), else None."""
    at = pos + 4 + _side_info_bytes(frame.stream)  # where LAME and ffmpeg put it, CRC or not
    if data[at : at + 4] in (b"Xing", b"Info"):
        return "xing"
    if data[pos + 36 : pos + 40] == b"VBRI":
        return "vbri"
    return None


def clean_mpeg_audio(data: bytes) -> bytes:
    """The MP3 `data` rebuilt from its audio frames alone (empty when it has none).

    Kept: every frame of the audio stream, and the first frame if it is a Xing/Info/VBRI summary
    (ffmpeg takes the frame count, seek table, encoder delay and gain from it, then writes its own),
    with the encoder's name and everything after the summary blanked. Dropped: all bytes between or
    around frames and any later summary frame (files joined together). Zeroed: ancillary data, the
    bytes in frames after the bits the decoder reads.
    """
    out = bytearray()
    audio: list[tuple[int, MpegFrame]] = []
    for pos, frame in mpeg_frames(data):
        summary = _vbr_header(data, pos, frame)
        if summary is not None:
            if not out:
                out += _blank_summary_frame(data[pos : pos + frame.length], frame, summary)
            continue
        audio.append((len(out), frame))
        out += data[pos : pos + frame.length]
    _zero_ancillary_data(out, audio)
    return bytes(out)


def _blank_summary_frame(frame_bytes: bytes, frame: MpegFrame, summary: str) -> bytes:
    out = bytearray(frame_bytes)
    if summary == "vbri":
        # "VBRI", version, delay, quality, bytes, frames, then a seek table of entries x entry size.
        entries, entry_size = struct.unpack(">H2xH", out[36 + 18 : 36 + 24]) if len(out) >= 60 else (0, 0)
        end = min(len(out), 36 + 26 + entries * entry_size)
        out[end:] = bytes(len(out) - end)
        return bytes(out)
    at = 4 + _side_info_bytes(frame.stream) + 4
    flags = struct.unpack(">I", out[at : at + 4])[0] if len(out) >= at + 4 else 0
    # Optional fields by flag: frames (4), bytes (4), seek table (100), quality (4); then LAME's tag.
    tag = at + 4 + 4 * bool(flags & 1) + 4 * bool(flags & 2) + 100 * bool(flags & 4) + 4 * bool(flags & 8)
    if tag + 36 > len(out) or bytes(out[tag : tag + 4]) not in _ENCODER_NAMES:
        out[tag:] = bytes(max(0, len(out) - tag))
        return bytes(out)
    # LAME's 36-byte tag: 9-byte encoder name, ..., encoder delay/padding, ..., a CRC of the frame up
    # to the CRC. Keep the 4-byte prefix (ffmpeg reads the delay only after one it knows), blank the
    # rest of the name, and re-sign the CRC when it was valid so ffmpeg still reads the gain values.
    crc_was_valid = _crc16(out[: tag + 34]) == struct.unpack(">H", out[tag + 34 : tag + 36])[0]
    out[tag + 4 : tag + 9] = bytes(5)
    if crc_was_valid:
        struct.pack_into(">H", out, tag + 34, _crc16(out[: tag + 34]))
    out[tag + 36 :] = bytes(len(out) - tag - 36)
    return bytes(out)


def _crc16(data: bytes | bytearray) -> int:
    """CRC-16/ARC (polynomial 0x8005 reflected, as 0xA001), the check LAME's tag carries."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def _granule_bits(side_info: bytes, stream: tuple[int, int, int, bool]) -> tuple[int, int]:
    """(main_data_begin, audio bits) from a layer III frame's side information: where its audio
    starts, counted back into earlier frames (the "bit reservoir"), and how long it is."""
    version, _, _, mono = stream
    value, total = int.from_bytes(side_info, "big"), len(side_info) * 8

    def field(offset: int, width: int) -> int:
        return (value >> (total - offset - width)) & ((1 << width) - 1)

    channels = 1 if mono else 2
    if version == MPEG1:  # 9-bit pointer, private bits, scale factor selection; 2 granules x 59 bits
        begin, first, blocks, block_bits = field(0, 9), 9 + (5 if mono else 3) + 4 * channels, 2 * channels, 59
    else:  # MPEG-2/2.5: 8-bit pointer, private bits; 1 granule x 63 bits
        begin, first, blocks, block_bits = field(0, 8), 8 + (1 if mono else 2), channels, 63
    # part2_3_length, the first 12 bits of each granule/channel block, counts its scale factors and
    # Huffman bits: everything the decoder reads.
    return begin, sum(field(first + i * block_bits, 12) for i in range(blocks))


def _zero_ancillary_data(out: bytearray, audio: list[tuple[int, MpegFrame]]) -> None:
    """Zero every byte (and trailing bit) of the frames' main data that no granule uses.

    The main data of all frames forms one stream (the bytes after each frame's side information);
    a frame's audio starts `main_data_begin` bytes before its own part of that stream and runs for
    its part2_3_length bits. Whatever no frame claims is ancillary data, which decoders skip.
    """
    areas: list[tuple[int, int]] = []  # (offset in out, length) of each frame's main data
    claims: list[tuple[int, int]] = []  # (start in the main-data stream, bits)
    stream_length = 0
    for offset, frame in audio:
        side = offset + 4 + (2 if frame.protected else 0)
        main = side + _side_info_bytes(frame.stream)
        length = max(0, offset + frame.length - main)
        begin, bits = _granule_bits(bytes(out[side:main]), frame.stream)
        areas.append((main, length))
        claims.append((stream_length - begin, bits))
        stream_length += length
    keep = bytearray(stream_length)
    for start, bits in claims:
        whole, rest = divmod(bits, 8)
        low, high = max(start, 0), min(start + whole, stream_length)
        if high > low:
            keep[low:high] = b"\xff" * (high - low)
        if rest and 0 <= start + whole < stream_length:
            keep[start + whole] |= (0xFF << (8 - rest)) & 0xFF
    at = 0
    for main, length in areas:
        if length:
            kept = int.from_bytes(out[main : main + length], "big") & int.from_bytes(keep[at : at + length], "big")
            out[main : main + length] = kept.to_bytes(length, "big")
        at += length
