"""Media cleaning against real tools: media are made with Pillow, ffmpeg and exiftool carrying GPS,
serials, names, XMP, IPTC, ID3 and MP4 tags, then cleaned, then read back with ffprobe and with
exiftool (an independent reader) to prove nothing identifying survives.

Each "dirty" fixture is also checked to really carry its metadata, so a cleaner that silently did
nothing, or a generator that silently wrote nothing, makes these tests fail.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import struct
import subprocess
import zlib
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image, ImageCms, PngImagePlugin, TiffImagePlugin

from infopack.build.media import (
    PROFILES,
    MediaProfile,
    estimate_media,
    get_profile,
    media_kind,
    prepare_media,
)
from infopack.errors import InfopackError

DEFAULT = PROFILES["default"]
SMALL = PROFILES["small"]

# Distinctive values planted in the dirty media; none may appear in any cleaned output.
ARTIST = "Kim Secret"
SERIAL = "SN-SECRET-0042"
MAKE = "SecretCam"
XMP_CREATOR = "secretxmpcreator"
IPTC_BYLINE = "secretiptcbyline"
COMMENT = "secretjpegcomment"
TITLE = "SecretTitle"
ISO6709 = "+39.0392+125.7625+030.000/"  # Pyongyang
LATITUDE, LONGITUDE = "39.03", "125.76"
TEXT_SECRETS = [ARTIST, SERIAL, MAKE, XMP_CREATOR, IPTC_BYLINE, COMMENT, TITLE, "secretchapter", "secretsubtitle"]

# exiftool groups a clean file may show: file-system facts and the format's own structure only.
CLEAN_IMAGE_GROUPS = {"ExifTool", "System", "File", "JFIF", "PNG", "Composite"}
CLEAN_AV_GROUPS = {"ExifTool", "System", "File", "QuickTime", "Track1", "Track2", "MPEG", "Composite"}


def require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} is required for the media tests (apt-get install ffmpeg libimage-exiftool-perl)")
    return path


def run(*command: str) -> str:
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def exiftool(path: Path) -> dict:
    """Everything exiftool finds, every group, embedded and unknown tags included."""
    output = run(require("exiftool"), "-j", "-a", "-G1", "-u", "-ee", str(path))
    return json.loads(output)[0]


def ffprobe(path: Path) -> dict:
    return json.loads(
        run(require("ffprobe"), "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
            "-show_chapters", str(path))
    )


def ffmpeg(*arguments: str) -> None:
    run(require("ffmpeg"), "-nostdin", "-v", "error", "-y", *arguments)


def groups(tags: dict) -> set[str]:
    return {key.split(":", 1)[0] for key in tags if ":" in key}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_no_secrets(path: Path) -> None:
    """Neither the raw bytes nor exiftool's reading of them may contain a planted value."""
    raw = path.read_bytes()
    dump = json.dumps(exiftool(path), ensure_ascii=False)
    for secret in TEXT_SECRETS:
        assert secret.encode() not in raw, f"{secret!r} in bytes of {path.name}"
        assert secret not in dump, f"{secret!r} in exiftool output for {path.name}"
    assert LATITUDE not in dump and LONGITUDE not in dump, f"GPS position in {path.name}"
    assert "GPS" not in dump, f"a GPS tag in {path.name}"


# ------------------------------------------------------------------------------------ fixtures


def two_colour_image(size: tuple[int, int]) -> Image.Image:
    """Left half red, right half blue: after a 90 degree turn it shows which way the turn went."""
    image = Image.new("RGB", size, (220, 20, 20))
    image.paste((20, 20, 220), (size[0] // 2, 0, size[0], size[1]))
    return image


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("dirty-media")


@pytest.fixture(scope="module")
def dirty_jpeg(media_dir: Path) -> Path:
    """A 400x300 photo stored sideways (Orientation 6) with EXIF GPS, serial, artist, a comment, an
    ICC profile (Pillow), plus XMP, IPTC and an EXIF thumbnail (written by exiftool)."""
    path = media_dir / "photo.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 degrees clockwise to display
    exif[0x013B] = ARTIST
    exif[0x010F] = MAKE
    exif.get_ifd(0x8769)[0xA431] = SERIAL  # BodySerialNumber
    gps = exif.get_ifd(0x8825)
    gps[1], gps[3] = "N", "E"
    gps[2] = tuple(TiffImagePlugin.IFDRational(v) for v in (39, 2, 21))
    gps[4] = tuple(TiffImagePlugin.IFDRational(v) for v in (125, 45, 45))
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    two_colour_image((400, 300)).save(path, "JPEG", quality=90, exif=exif, comment=COMMENT, icc_profile=icc)
    thumbnail = media_dir / "thumb.jpg"
    two_colour_image((80, 60)).save(thumbnail, "JPEG")
    run(require("exiftool"), "-q", "-overwrite_original", f"-XMP-dc:Creator={XMP_CREATOR}",
        f"-IPTC:By-line={IPTC_BYLINE}", f"-ThumbnailImage<={thumbnail}", str(path))
    return path


@pytest.fixture(scope="module")
def dirty_png(media_dir: Path) -> Path:
    """A PNG that uses transparency, with text chunks and EXIF naming its author."""
    path = media_dir / "diagram.png"
    image = Image.new("RGBA", (120, 80), (0, 0, 0, 0))
    image.paste((10, 200, 10, 255), (10, 10, 60, 60))
    text = PngImagePlugin.PngInfo()
    text.add_text("Author", ARTIST)
    text.add_itxt("Comment", COMMENT)
    exif = Image.Exif()
    exif[0x013B] = ARTIST
    image.save(path, "PNG", pnginfo=text, exif=exif)
    return path


@pytest.fixture(scope="module")
def dirty_mp3(media_dir: Path) -> Path:
    """Two seconds of tone with ID3 title/artist/comment and embedded cover art."""
    tone = media_dir / "tone.mp3"
    cover = media_dir / "cover.jpg"
    two_colour_image((64, 64)).save(cover, "JPEG")
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-c:a", "libmp3lame", "-b:a", "64k", str(tone))
    path = media_dir / "talk.mp3"
    ffmpeg("-i", str(tone), "-i", str(cover), "-map", "0", "-map", "1", "-c", "copy", "-id3v2_version", "3",
           "-metadata", f"title={TITLE}", "-metadata", f"artist={ARTIST}", "-metadata", f"comment={COMMENT}",
           "-metadata:s:v", f"title={SERIAL}", str(path))
    return path


@pytest.fixture(scope="module")
def dirty_mp4(media_dir: Path) -> Path:
    """Two seconds of H.264/AAC with title, artist, creation_time, Apple ISO 6709 location, a
    chapter, a named handler and a subtitle track (where dashcams keep GPS logs)."""
    chapters = media_dir / "chapters.txt"
    chapters.write_text(";FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=1000\ntitle=secretchapter\n")
    subtitles = media_dir / "gps.srt"
    subtitles.write_text("1\n00:00:00,000 --> 00:00:01,500\nsecretsubtitle 39.0392 125.7625\n")
    path = media_dir / "clip.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=2",
           "-f", "lavfi", "-i", "sine=frequency=330:duration=2",
           "-i", str(subtitles), "-i", str(chapters),
           "-map", "0", "-map", "1", "-map", "2", "-map_chapters", "3",
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-c:s", "mov_text",
           "-metadata", f"title={TITLE}", "-metadata", f"artist={ARTIST}",
           "-metadata", "creation_time=2024-05-06T07:08:09Z",
           "-metadata", f"location={ISO6709}",
           "-metadata", f"com.apple.quicktime.location.ISO6709={ISO6709}",
           "-metadata", f"com.apple.quicktime.make={MAKE}",
           "-metadata:s:v", f"handler_name={SERIAL}",
           "-movflags", "+use_metadata_tags", str(path))
    return path


@pytest.fixture(scope="module")
def dirty_mkv(media_dir: Path) -> Path:
    """MPEG-4 part 2 + Vorbis in Matroska: a notel cannot play it, so it must be transcoded."""
    path = media_dir / "old.mkv"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=176x144:rate=15:duration=1",
           "-f", "lavfi", "-i", "sine=frequency=550:duration=1",
           "-c:v", "mpeg4", "-c:a", "libvorbis", "-metadata", f"artist={ARTIST}", "-metadata", f"title={TITLE}",
           str(path))
    return path


@pytest.fixture(scope="module")
def dirty_wav(media_dir: Path) -> Path:
    path = media_dir / "voice.wav"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=500:duration=1:sample_rate=96000",
           "-metadata", f"artist={ARTIST}", "-metadata", f"title={TITLE}", str(path))
    return path


# ------------------------------------------------------------------- the fixtures are really dirty


def test_dirty_jpeg_really_carries_every_kind_of_metadata(dirty_jpeg: Path):
    tags = exiftool(dirty_jpeg)
    assert {"IFD0", "ExifIFD", "GPS", "IFD1", "XMP-dc", "IPTC", "ICC_Profile"} <= groups(tags)
    assert tags["IFD0:Artist"] == ARTIST and tags["ExifIFD:SerialNumber"] == SERIAL
    assert tags["File:Comment"] == COMMENT and "IFD1:ThumbnailImage" in tags


def test_dirty_av_really_carries_metadata(dirty_mp4: Path, dirty_mp3: Path):
    mp4 = exiftool(dirty_mp4)
    assert mp4["Keys:Artist"] == ARTIST and LATITUDE in json.dumps(mp4)
    probe = ffprobe(dirty_mp4)
    # video, audio, subtitles, and the chapter text track MP4 keeps chapters in
    assert len(probe["streams"]) == 4 and probe["chapters"]
    assert probe["format"]["tags"]["creation_time"].startswith("2024")
    mp3 = exiftool(dirty_mp3)
    assert mp3["ID3v2_3:Artist"] == ARTIST and "ID3v2_3:Picture" in mp3


# ------------------------------------------------------------------------------------- images


def test_photo_is_stripped_upright_and_baseline_jpeg(dirty_jpeg: Path, tmp_path: Path):
    result = prepare_media(dirty_jpeg, tmp_path / "article-1", DEFAULT)
    assert result.path == tmp_path / "article-1.jpg" and result.mime == "image/jpeg" and result.kind == "image"
    assert result.size == result.path.stat().st_size and result.poster is None
    tags = exiftool(result.path)
    assert groups(tags) <= CLEAN_IMAGE_GROUPS, groups(tags) - CLEAN_IMAGE_GROUPS
    assert "File:Comment" not in tags
    assert_no_secrets(result.path)
    with Image.open(result.path) as image:
        assert image.format == "JPEG" and not image.info.get("progressive")
        assert not image.getexif() and "icc_profile" not in image.info and "comment" not in image.info
        # Orientation 6 turned the 400x300 landscape into 300x400, red (the left) now on top.
        assert image.size == (300, 400) == (result.width, result.height)
        red, _, blue = image.convert("RGB").getpixel((150, 40))
        assert red > 180 and blue < 80
        red, _, blue = image.convert("RGB").getpixel((150, 360))
        assert blue > 180 and red < 80


def test_photo_is_downscaled_to_the_profile(dirty_jpeg: Path, tmp_path: Path):
    tiny = replace(DEFAULT, name="thumb", max_image_px=100)
    result = prepare_media(dirty_jpeg, tmp_path / "small", tiny)
    with Image.open(result.path) as image:
        assert image.size == (75, 100)


def test_png_with_transparency_stays_png_without_text_chunks(dirty_png: Path, tmp_path: Path):
    assert ARTIST in json.dumps(exiftool(dirty_png))  # the source really names its author
    result = prepare_media(dirty_png, tmp_path / "diagram", DEFAULT)
    assert result.path.suffix == ".png" and result.mime == "image/png"
    tags = exiftool(result.path)
    assert groups(tags) <= CLEAN_IMAGE_GROUPS, groups(tags) - CLEAN_IMAGE_GROUPS
    assert_no_secrets(result.path)
    with Image.open(result.path) as image:
        assert image.mode == "RGBA" and image.getpixel((0, 0))[3] == 0 and image.getpixel((20, 20))[3] == 255
        assert not image.text


def test_opaque_png_photo_becomes_jpeg_but_flat_diagram_stays_png(tmp_path: Path):
    photo = tmp_path / "photo.png"
    Image.effect_noise((200, 150), 60).convert("RGBA").save(photo)  # opaque alpha, photo-like noise
    assert prepare_media(photo, tmp_path / "out-photo", DEFAULT).path.suffix == ".jpg"
    diagram = tmp_path / "diagram.png"
    two_colour_image((200, 150)).save(diagram)
    result = prepare_media(diagram, tmp_path / "out-diagram", DEFAULT)
    assert result.path.suffix == ".png" and result.mime == "image/png"
    with Image.open(result.path) as image:
        assert image.mode == "RGB" and image.getpixel((10, 10)) == (220, 20, 20)


def test_animated_gif_keeps_its_first_frame(tmp_path: Path):
    source = tmp_path / "anim.gif"
    frames = [Image.new("RGB", (40, 30), colour) for colour in ((250, 0, 0), (0, 0, 250))]
    frames[0].save(source, save_all=True, append_images=frames[1:], comment=COMMENT.encode())
    result = prepare_media(source, tmp_path / "anim", DEFAULT)
    assert_no_secrets(result.path)
    with Image.open(result.path) as image:
        assert image.convert("RGB").getpixel((20, 15))[0] > 200


@pytest.mark.parametrize("mode, extension", [
    ("1", ".png"), ("L", ".jpg"), ("LA", ".png"), ("P", ".jpg"), ("CMYK", ".jpg"), ("I;16", ".png"),
    ("RGB", ".jpg"),
])
def test_every_pixel_mode_becomes_a_browser_format(mode, extension, tmp_path: Path):
    """Every mode comes out as L/RGB(A); noise makes JPEG the smaller choice for 8-bit PNG sources."""
    source = tmp_path / ("src.jpg" if mode in ("CMYK", "RGB") else "src.png")
    noise = Image.effect_noise((64, 48), 50)
    image = noise.convert(mode) if mode != "LA" else Image.merge("LA", (noise, noise.point(lambda v: v // 2)))
    image.save(source)
    result = prepare_media(source, tmp_path / "out", DEFAULT)
    assert result.path.suffix == extension
    with Image.open(result.path) as cleaned:
        assert cleaned.mode in ("L", "RGB", "LA", "RGBA") and cleaned.size == (64, 48)


def test_image_estimate_is_exact(dirty_jpeg: Path, dirty_png: Path, tmp_path: Path):
    for source in (dirty_jpeg, dirty_png):
        assert estimate_media(source, SMALL) == prepare_media(source, tmp_path / source.stem, SMALL).size


# ------------------------------------------------------------------------------ audio and video


def assert_clean_av(path: Path, streams: int) -> dict:
    probe = ffprobe(path)
    assert len(probe["streams"]) == streams
    assert not probe["chapters"]
    assert set(probe["format"].get("tags", {})) <= {"major_brand", "minor_version", "compatible_brands"}
    for stream in probe["streams"]:
        tags = stream.get("tags", {})
        assert set(tags) <= {"language", "handler_name", "vendor_id", "encoder"}, tags
        assert not tags.get("encoder", "").strip(), tags
        assert tags.get("handler_name", "VideoHandler") in ("VideoHandler", "SoundHandler")
        assert not stream.get("disposition", {}).get("attached_pic")
    tags = exiftool(path)
    assert groups(tags) <= CLEAN_AV_GROUPS, groups(tags) - CLEAN_AV_GROUPS
    for key, value in tags.items():
        if key.endswith("Date") and not key.startswith("System:"):  # System: is our own file's mtime
            assert str(value).startswith("0000"), (key, value)  # no creation time, not even "now"
    assert_no_secrets(path)
    return probe


def test_mp4_copy_keeps_the_stream_and_drops_all_metadata(dirty_mp4: Path, tmp_path: Path):
    result = prepare_media(dirty_mp4, tmp_path / "clip", DEFAULT)
    assert result.path.name == "clip.mp4" and result.mime == "video/mp4" and result.kind == "video"
    probe = assert_clean_av(result.path, streams=2)
    codecs = sorted(stream["codec_name"] for stream in probe["streams"])
    assert codecs == ["aac", "h264"]
    assert (result.width, result.height) == (320, 240) and 1.9 < result.duration_s < 2.1
    assert b"x264 - core" not in result.path.read_bytes()  # encoder banner (SEI) removed
    # faststart: the index (moov) comes before the media data (mdat) so playback starts at once.
    raw = result.path.read_bytes()
    assert raw.index(b"moov") < raw.index(b"mdat")


def test_mp4_poster_is_a_clean_jpeg_of_the_video(dirty_mp4: Path, tmp_path: Path):
    result = prepare_media(dirty_mp4, tmp_path / "clip", DEFAULT)
    assert result.poster == tmp_path / "clip-poster.jpg"
    tags = exiftool(result.poster)
    assert groups(tags) <= CLEAN_IMAGE_GROUPS
    with Image.open(result.poster) as poster:
        assert poster.format == "JPEG" and poster.size == (320, 240)


def test_mp4_transcoded_to_a_smaller_profile(dirty_mp4: Path, tmp_path: Path):
    profile = replace(SMALL, video_max_height=120, video_kbps=200, audio_kbps=48)
    result = prepare_media(dirty_mp4, tmp_path / "small", profile)
    probe = assert_clean_av(result.path, streams=2)
    video = next(s for s in probe["streams"] if s["codec_type"] == "video")
    assert (video["codec_name"], video["profile"], video["pix_fmt"]) == ("h264", "Main", "yuv420p")
    assert (video["width"], video["height"]) == (160, 120) == (result.width, result.height)
    assert b"x264 - core" not in result.path.read_bytes()


def test_unplayable_container_is_transcoded_to_h264_aac_mp4(dirty_mkv: Path, tmp_path: Path):
    result = prepare_media(dirty_mkv, tmp_path / "old", DEFAULT)
    assert result.path.suffix == ".mp4"
    probe = assert_clean_av(result.path, streams=2)
    assert sorted(s["codec_name"] for s in probe["streams"]) == ["aac", "h264"]


@pytest.fixture(scope="module")
def rotated_mp4(media_dir: Path) -> Path:
    """A phone-style clip: 320x240 stored, to be shown turned 90 degrees (display matrix)."""
    path = media_dir / "portrait.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=1",
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path))
    run(require("exiftool"), "-q", "-overwrite_original", "-Rotation=90", str(path))
    return path


def test_rotated_video_copy_keeps_rotation_and_poster_is_upright(rotated_mp4: Path, tmp_path: Path):
    result = prepare_media(rotated_mp4, tmp_path / "portrait", DEFAULT)
    assert (result.width, result.height) == (240, 320)
    assert_clean_av(result.path, streams=1)
    with Image.open(result.poster) as poster:
        assert poster.size == (240, 320)


def test_rotated_video_transcode_applies_rotation(rotated_mp4: Path, tmp_path: Path):
    result = prepare_media(rotated_mp4, tmp_path / "portrait", replace(SMALL, video_max_height=160))
    video = assert_clean_av(result.path, streams=1)["streams"][0]
    assert (video["width"], video["height"]) == (120, 160) == (result.width, result.height)
    assert not any("rotation" in side for side in video.get("side_data_list", []))


def test_mp3_loses_id3_tags_and_cover_art(dirty_mp3: Path, tmp_path: Path):
    result = prepare_media(dirty_mp3, tmp_path / "talk", DEFAULT)
    assert result.path.name == "talk.mp3" and result.mime == "audio/mpeg" and result.poster is None
    assert result.width is None and 1.9 < result.duration_s < 2.2
    assert not result.path.read_bytes().startswith(b"ID3")
    probe = assert_clean_av(result.path, streams=1)
    assert probe["streams"][0]["codec_name"] == "mp3"


def test_mp3_to_aac_for_an_aac_profile(dirty_mp3: Path, tmp_path: Path):
    result = prepare_media(dirty_mp3, tmp_path / "talk", replace(SMALL, audio_kbps=32))
    assert result.path.suffix == ".m4a" and result.mime == "audio/mp4"
    assert_clean_av(result.path, streams=1)


def test_hi_res_wav_becomes_mp3(dirty_wav: Path, tmp_path: Path):
    result = prepare_media(dirty_wav, tmp_path / "voice", DEFAULT)
    probe = assert_clean_av(result.path, streams=1)
    assert probe["streams"][0]["codec_name"] == "mp3" and probe["streams"][0]["sample_rate"] == "44100"


def test_av_estimates_are_close(dirty_mp4: Path, dirty_mp3: Path, tmp_path: Path):
    for source, profile in ((dirty_mp4, DEFAULT), (dirty_mp3, DEFAULT), (dirty_mp4, SMALL)):
        result = prepare_media(source, tmp_path / f"{source.stem}-{profile.name}", profile)
        written = result.size + (result.poster.stat().st_size if result.poster else 0)
        estimate = estimate_media(source, profile)
        assert 0.6 < written / estimate < 1.25, (source.name, profile.name, written, estimate)


# ------------------------------------------------------------------------- determinism, safety


@pytest.mark.parametrize("fixture, profile", [
    ("dirty_jpeg", DEFAULT), ("dirty_png", DEFAULT), ("dirty_mp3", DEFAULT),
    ("dirty_mp4", DEFAULT), ("dirty_mp4", SMALL), ("dirty_wav", SMALL),
])
def test_two_runs_are_byte_identical_and_source_untouched(fixture, profile, request, tmp_path: Path):
    source: Path = request.getfixturevalue(fixture)
    before = sha256(source), source.stat().st_mtime_ns
    first = prepare_media(source, tmp_path / "a" / "x", profile)
    second = prepare_media(source, tmp_path / "b" / "x", profile)
    assert first.path.read_bytes() == second.path.read_bytes()
    if first.poster:
        assert first.poster.read_bytes() == second.poster.read_bytes()
    assert (sha256(source), source.stat().st_mtime_ns) == before


def test_output_names_no_source_path(dirty_mp4: Path, tmp_path: Path):
    source = tmp_path / "kim-secret-home" / "IMG_0001.mp4"
    source.parent.mkdir()
    shutil.copy(dirty_mp4, source)
    result = prepare_media(source, tmp_path / "out" / "clip", DEFAULT)
    for written in (result.path, result.poster):
        raw = written.read_bytes()
        assert b"kim-secret-home" not in raw and b"IMG_0001" not in raw


def assert_one_line_error(excinfo, source: Path, words: str) -> None:
    message = str(excinfo.value)
    assert "\n" not in message and message.startswith(f"{source}: {words}"), message


@pytest.mark.parametrize("name, content", [
    ("broken.jpg", b"\xff\xd8\xff\xe0 not really a jpeg"),
    ("empty.png", b""),
    ("noise.webp", bytes(range(256)) * 4),
])
def test_corrupt_image_is_one_line_error_and_nothing_written(name, content, tmp_path: Path):
    source = tmp_path / name
    source.write_bytes(content)
    with pytest.raises(InfopackError) as excinfo:
        prepare_media(source, tmp_path / "out" / "x", DEFAULT)
    assert_one_line_error(excinfo, source, "not a readable image")
    assert not (tmp_path / "out").exists()
    assert source.read_bytes() == content


def test_truncated_jpeg_is_refused(dirty_jpeg: Path, tmp_path: Path):
    source = tmp_path / "cut.jpg"
    source.write_bytes(dirty_jpeg.read_bytes()[:1500])
    with pytest.raises(InfopackError) as excinfo:
        prepare_media(source, tmp_path / "x", DEFAULT)
    assert_one_line_error(excinfo, source, "not a readable image")


def png_claiming(width: int, height: int) -> bytes:
    """A tiny, valid-looking PNG whose header claims a huge canvas (a "decompression bomb")."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("width, height", [(12000, 12000), (40000, 40000)])
def test_decompression_bomb_is_refused_before_decoding(width, height, tmp_path: Path):
    """Over our 100 MP limit, and over Pillow's own hard limit: both refused in one line."""
    source = tmp_path / "bomb.png"
    source.write_bytes(png_claiming(width, height))
    with pytest.raises(InfopackError) as excinfo:
        prepare_media(source, tmp_path / "x", DEFAULT)
    assert_one_line_error(excinfo, source, "not a readable image")
    assert "pixel" in str(excinfo.value) and not list(tmp_path.glob("x*"))


@pytest.mark.parametrize("name", ["broken.mp4", "broken.mp3", "broken.mkv"])
def test_corrupt_audio_or_video_is_one_line_error_and_nothing_written(name, tmp_path: Path):
    source = tmp_path / name
    source.write_bytes(b"\x00\x00\x00\x18ftypisom" + bytes(range(256)) * 8)
    with pytest.raises(InfopackError) as excinfo:
        prepare_media(source, tmp_path / "out" / "x", DEFAULT)
    assert_one_line_error(excinfo, source, "not a readable")
    assert not (tmp_path / "out").exists()
    with pytest.raises(InfopackError):
        estimate_media(source, DEFAULT)


def test_truncated_mp4_is_refused(dirty_mp4: Path, tmp_path: Path):
    source = tmp_path / "cut.mp4"
    source.write_bytes(dirty_mp4.read_bytes()[:4000])
    with pytest.raises(InfopackError) as excinfo:
        prepare_media(source, tmp_path / "out" / "x", DEFAULT)
    assert_one_line_error(excinfo, source, "not a readable video")


def test_refuses_to_overwrite_its_source(tmp_path: Path):
    source = tmp_path / "same.jpg"
    two_colour_image((20, 20)).save(source)
    before = sha256(source)
    with pytest.raises(InfopackError, match="overwrite"):
        prepare_media(source, tmp_path / "same", DEFAULT)
    assert sha256(source) == before


def test_missing_file(tmp_path: Path):
    with pytest.raises(InfopackError, match="no such file"):
        prepare_media(tmp_path / "gone.mp4", tmp_path / "x", DEFAULT)


# ----------------------------------------------------------------------------- kinds, profiles


@pytest.mark.parametrize("name, kind", [
    ("a.JPG", "image"), ("b.jpeg", "image"), ("c.png", "image"), ("d.gif", "image"), ("e.webp", "image"),
    ("f.mp3", "audio"), ("g.m4a", "audio"), ("h.ogg", "audio"), ("i.opus", "audio"), ("j.wav", "audio"),
    ("k.mp4", "video"), ("l.m4v", "video"), ("m.webm", "video"), ("n.MOV", "video"), ("o.mkv", "video"),
])
def test_media_kind_by_extension(name, kind):
    assert media_kind(Path(name)) == kind


@pytest.mark.parametrize("name", ["notes.txt", "README", "movie.avi"])
def test_unknown_kind_names_the_file(name):
    with pytest.raises(InfopackError) as excinfo:
        media_kind(Path("media") / name)
    assert str(excinfo.value).startswith(f"media/{name}: ") and "\n" not in str(excinfo.value)


def test_profiles():
    assert DEFAULT.max_image_px == 1600 and DEFAULT.video == "copy" and DEFAULT.audio == "copy"
    assert SMALL.max_image_px < DEFAULT.max_image_px and SMALL.video_kbps < DEFAULT.video_kbps
    assert get_profile("small") is SMALL
    with pytest.raises(InfopackError, match="unknown media profile"):
        get_profile("huge")
    with pytest.raises(InfopackError):
        MediaProfile("bad", 1600, 80, "vp9", 720, None, "copy", 128)


# ------------------------------------------------------------------------------- example media

EXAMPLE_MEDIA = Path(__file__).resolve().parents[2] / "content" / "media"


@pytest.mark.parametrize("name, streams", [
    ("check-signature.png", 0), ("welcome-ko.mp3", 1), ("verify-before-copy.mp4", 2),
])
def test_committed_example_media_are_small_clean_and_playable(name, streams):
    path = EXAMPLE_MEDIA / name
    assert path.stat().st_size < 150_000
    tags = exiftool(path)
    assert groups(tags) <= CLEAN_IMAGE_GROUPS | CLEAN_AV_GROUPS, groups(tags)
    if streams:
        probe = assert_clean_av(path, streams)
        codecs = sorted(stream["codec_name"] for stream in probe["streams"])
        assert codecs == (["mp3"] if streams == 1 else ["aac", "h264"])
