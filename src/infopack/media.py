"""Media that is safe to carry: cleaned, size-limited, deterministic copies of images, audio and video.

Every photo or clip can name the person who made it (GPS position, camera serial, artist, the
encoder's host). `prepare_media` writes a copy with none of that left, in a format that Chrome 109,
Firefox 115 and a cheap notel media player can all open:

- images: Pillow decodes, applies the EXIF orientation, converts to sRGB, downscales, and encodes a
  fresh baseline JPEG (PNG when the image really uses transparency) from bare pixels, so no block of
  the source (EXIF, XMP, IPTC, comments, thumbnails, ICC) can travel along;
- audio and video: ffmpeg keeps exactly one video and one audio stream (no data, subtitle or cover
  tracks, which is where dashcams and phones hide GPS tracks), drops container/stream metadata and
  chapters, strips H.264 SEI user data, and transcodes to H.264/AAC in MP4 or to MP3 when the source
  or the profile needs it. Each video also gets a JPEG poster frame.

Output is byte-identical across runs (bit-exact ffmpeg flags, a fixed x264 thread count, fixed
Pillow settings) because whole bundles must be reproducible.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageCms, ImageOps

from infopack.errors import InfopackError

# Sources that are drawn rather than photographed are usually smaller and sharper kept as PNG.
LOSSLESS_SOURCE_FORMATS = frozenset({"PNG", "GIF"})
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".gif", ".webp"})
AUDIO_EXTENSIONS = frozenset({".mp3", ".m4a", ".ogg", ".opus", ".wav"})
VIDEO_EXTENSIONS = frozenset({".mp4", ".m4v", ".webm", ".mov", ".mkv"})

# A source image with more pixels than this is refused before decoding: a small file can claim a
# huge canvas ("decompression bomb") and exhaust memory. 100 MP still admits any real camera photo.
MAX_SOURCE_PIXELS = 100_000_000
# FAT32 cannot hold a file of 4 GiB or more.
FAT32_MAX_FILE_BYTES = 4 * 1024**3 - 1

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
# SEI NAL units (type 6) carry encoder banners and, from some dashcams, GPS positions.
STRIP_SEI_ARGS = ["-bsf:v", "filter_units=remove_types=6"]


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
    suffix = Path(path).suffix.lower()
    if suffix in IMAGE_EXTENSIONS:
        return "image"
    if suffix in AUDIO_EXTENSIONS:
        return "audio"
    if suffix in VIDEO_EXTENSIONS:
        return "video"
    raise InfopackError(f"unknown media type {suffix or '(no extension)'!r}", path=path)


def prepare_media(src: Path, dst_stem: Path, profile: MediaProfile) -> PreparedMedia:
    """Write a cleaned copy of `src` as `dst_stem` + chosen extension (and a poster for video).

    `src` is only read. On bad input nothing is left behind and InfopackError says why in one line.
    """
    src, dst_stem = Path(src), Path(dst_stem)
    kind = media_kind(src)
    _require_file(src)
    if kind == "image":
        return _prepare_image(src, dst_stem, profile)
    return _prepare_av(src, dst_stem, profile, kind)


def estimate_media(src: Path, profile: MediaProfile) -> int:
    """Predicted bytes `prepare_media` writes for `src` (poster included), without writing anything.

    Exact for images (encoded in memory); container overhead added to the copied streams' sizes for
    stream copies; bitrate x duration when transcoding, which is close to an upper bound.
    """
    src = Path(src)
    kind = media_kind(src)
    _require_file(src)
    if kind == "image":
        return len(_encode_clean_image(src, profile).data)
    probe = probe_media(src, kind)
    plan = plan_av(probe, profile, kind)
    return _estimate_av_bytes(probe, plan)


def _require_file(src: Path) -> None:
    if not src.is_file():
        raise InfopackError("no such file", path=src)


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


def _guard_destination(src: Path, dst: Path) -> None:
    if _same_file(src, dst):
        raise InfopackError(f"output {dst.name} would overwrite the source", path=src)


# --------------------------------------------------------------------------------------- images


@dataclass(frozen=True)
class EncodedImage:
    data: bytes
    extension: str  # ".jpg" | ".png"
    mime: str
    width: int
    height: int


def _prepare_image(src: Path, dst_stem: Path, profile: MediaProfile) -> PreparedMedia:
    encoded = _encode_clean_image(src, profile)
    dst = dst_stem.with_name(dst_stem.name + encoded.extension)
    _guard_destination(src, dst)
    _write_atomically(dst, encoded.data)
    return PreparedMedia(dst, "image", encoded.mime, None, encoded.width, encoded.height, None, len(encoded.data))


def _encode_clean_image(src: Path, profile: MediaProfile) -> EncodedImage:
    image, source_format = load_clean_image(src, profile.max_image_px)
    return encode_image(image, profile.jpeg_quality, try_png=source_format in LOSSLESS_SOURCE_FORMATS)


def load_clean_image(src: Path, max_px: int) -> tuple[Image.Image, str]:
    """Decode `src` into bare, upright, sRGB pixels no larger than `max_px` on the longest side.

    The returned image carries no `info` at all: it is rebuilt from raw pixel bytes, so nothing of
    the source file's metadata can reach the encoder. Also returns Pillow's name for the source format.
    """
    try:
        with warnings.catch_warnings():
            # Our own pixel limit below replaces Pillow's warning; its hard error is still caught.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(src) as opened:
                return _clean_pixels(opened, max_px), str(opened.format)
    except InfopackError:
        raise
    except Exception as exc:  # Pillow raises many types for damaged files; all mean the same here.
        reason = _one_line(str(exc)) if str(exc).strip() else type(exc).__name__
        raise InfopackError(f"not a readable image: {reason}", path=src) from None


def _clean_pixels(opened: Image.Image, max_px: int) -> Image.Image:
    width, height = opened.size
    if width * height > MAX_SOURCE_PIXELS:
        raise InfopackError(
            f"not a readable image: {width}x{height} pixels exceeds the {MAX_SOURCE_PIXELS} pixel limit",
            path=opened.filename or "image",
        )
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
    return "not a readable audio file" if kind == "audio" else "not a readable video"


def probe_media(src: Path, kind: str = "video") -> AvProbe:
    """Ask ffprobe about `src`; InfopackError when ffprobe cannot read it or finds nothing to play."""
    command = [_tool("ffprobe"), "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(src)]
    result = subprocess.run(command, capture_output=True, text=True, errors="replace", check=False)
    if result.returncode != 0:
        raise InfopackError(f"{_unreadable(kind)}: {_one_line(result.stderr)}", path=src)
    try:
        info = json.loads(result.stdout)
    except json.JSONDecodeError:
        raise InfopackError(f"{_unreadable(kind)}: ffprobe gave no answer", path=src) from None
    streams = info.get("streams", [])
    video = _first_stream(streams, "video")
    audio = _first_stream(streams, "audio")
    fmt = info.get("format", {})
    duration = _float(fmt.get("duration")) or 0.0
    wanted = video if kind == "video" else audio
    if wanted is None or duration <= 0:
        raise InfopackError(f"{_unreadable(kind)}: no playable {kind} stream", path=src)
    names = frozenset(str(fmt.get("format_name", "")).split(","))
    return AvProbe(names, duration, int(fmt.get("size") or src.stat().st_size), video, audio)


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
    return _plan_audio_only(probe.audio, profile)


def _plan_audio_only(audio: AvStream, profile: MediaProfile) -> AvPlan:
    kbps = profile.audio_kbps
    if audio.codec == "mp3" and profile.audio in ("copy", "mp3") and _bitrate_fits(audio, profile):
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


def ffmpeg_arguments(src: Path, dst: Path, probe: AvProbe, plan: AvPlan) -> list[str]:
    """The complete ffmpeg command that carries out `plan` (public so benchmarks can compare)."""
    command = [_tool("ffmpeg"), "-nostdin", "-hide_banner", "-v", "error", "-y", "-i", str(src)]
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
    return command + [str(dst)]


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


def _prepare_av(src: Path, dst_stem: Path, profile: MediaProfile, kind: str) -> PreparedMedia:
    probe = probe_media(src, kind)
    plan = plan_av(probe, profile, kind)
    dst = dst_stem.with_name(dst_stem.name + plan.extension)
    _guard_destination(src, dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.partial")
    try:
        _run_ffmpeg(ffmpeg_arguments(src, tmp, probe, plan), src, kind)
        size = tmp.stat().st_size
        if size > FAT32_MAX_FILE_BYTES:
            raise InfopackError(f"cleaned file is {size} bytes, over the FAT32 limit; use a smaller profile", path=src)
        written = probe_media(tmp, kind)
        poster = _write_poster(tmp, dst_stem, profile, written) if plan.video else None
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)
    width = written.video.width if plan.video and written.video else None
    height = written.video.height if plan.video and written.video else None
    return PreparedMedia(dst, kind, plan.mime, poster, width, height, round(written.duration_s, 3), size)


def _run_ffmpeg(command: list[str], src: Path, kind: str) -> bytes:
    result = subprocess.run(command, capture_output=True, check=False)
    if result.returncode != 0:
        message = _one_line(result.stderr.decode("utf-8", "replace"))
        raise InfopackError(f"{_unreadable(kind)}: {message}", path=src)
    return result.stdout


def _write_poster(video_file: Path, dst_stem: Path, profile: MediaProfile, probe: AvProbe) -> Path:
    """A JPEG of one frame, from the cleaned video so it matches what is played."""
    at = min(POSTER_AT_S, probe.duration_s / 3)
    command = [_tool("ffmpeg"), "-nostdin", "-hide_banner", "-v", "error", "-ss", f"{at:.3f}", "-i", str(video_file)]
    command += ["-frames:v", "1", "-an", "-map_metadata", "-1"] + BITEXACT_ARGS
    command += ["-c:v", "png", "-f", "image2pipe", "-"]
    frame_png = _run_ffmpeg(command, video_file, "video")
    if not frame_png:
        raise InfopackError("not a readable video: no frame for a poster", path=video_file)
    with Image.open(io.BytesIO(frame_png)) as frame:
        pixels = _clean_pixels(frame, profile.max_image_px)
    encoded = encode_image(pixels.convert("RGB"), profile.jpeg_quality)
    poster = dst_stem.with_name(dst_stem.name + "-poster.jpg")
    _write_atomically(poster, encoded.data)
    return poster
