"""Attacks through media files (issue 10, classes 1 and 2), against real ffmpeg and real files.

Class 1: a media file must be what its extension says and come only from itself. ffmpeg picks a
reader from a file's content, and some readers are playlists: an HLS playlist or ffconcat list saved
as `.mp4`/`.mp3`/`.m4a` made a build copy an unpublished recording from elsewhere on the staff
machine onto the card. Every such file is now refused, in one line naming the article and the file,
and the recording's bytes appear nowhere in the output.

Class 2: nothing but audio survives in audio. A stream-copied MP3 kept the bytes between and inside
its frames (tags of joined files, junk, encoder strings); these tests plant distinctive strings
everywhere a file can hold them, in every container the build accepts, and search the output's raw
bytes (UTF-8 and UTF-16) for them: exiftool's silence is not the test.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from infopack.build.assemble import build_bundle
from infopack.build.media import PROFILES, estimate_media, prepare_media
from infopack.commands import main
from infopack.errors import InfopackError
from infopack.plan.budget import parse_budget
from infopack.plan.planner import make_plan
from kit.content import article, write_content

ACCEPTED = ".jpg .jpeg .png .gif .webp .mp3 .m4a .aac .ogg .oga .opus .wav .flac .mp4 .m4v .mov .webm .mkv .ogv"

DEFAULT = PROFILES["default"]
SMALL = PROFILES["small"]


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is required (apt-get install ffmpeg)")
    return found


def ffmpeg(*arguments: str | Path) -> None:
    subprocess.run([tool("ffmpeg"), "-nostdin", "-v", "error", "-y", *map(str, arguments)], check=True)


def decoded_pcm(path: Path) -> bytes:
    return subprocess.run([tool("ffmpeg"), "-nostdin", "-v", "error", "-i", str(path), "-f", "s16le", "-"],
                          check=True, capture_output=True).stdout  # fmt: skip


def every_file(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()] if folder.exists() else []


def encodings(text: str) -> list[bytes]:
    """How a tag may store `text`: UTF-8/Latin-1, and UTF-16 in both byte orders (ID3, MP4, WAV)."""
    return [text.encode("utf-8"), text.encode("utf-16-le"), text.encode("utf-16-be")]


def assert_absent(texts: list[str], *paths: Path) -> None:
    for path in paths:
        raw = path.read_bytes()
        for text in texts:
            for encoded in encodings(text):
                assert encoded not in raw, f"planted {text!r} ({encoded!r}) survives in {path.name}"


# ------------------------------------------------------------------------ the unpublished recording


@dataclass(frozen=True)
class Secret:
    """An unpublished recording on the staff machine, outside any content folder, and byte slices
    of it that a build which really included it would carry (so their absence means something)."""

    folder: Path
    mp4: Path
    ts: Path  # the same recording as a broadcast capture (MPEG-TS), the form HLS playlists list
    wav: Path
    slices: tuple[bytes, ...]

    def assert_not_in(self, folder: Path, but: Path | None = None) -> None:
        """No file under `folder` (except under `but`, the content folder itself) carries it."""
        for path in every_file(folder):
            if but is not None and path.is_relative_to(but):
                continue
            raw = path.read_bytes()
            found = sum(1 for piece in self.slices if piece in raw)
            assert found == 0, f"{found} pieces of the unpublished recording in {path}"


@pytest.fixture(scope="module")
def secret(tmp_path_factory) -> Secret:
    folder = tmp_path_factory.mktemp("unpublished")
    mp4 = folder / "interview-unpublished.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=3", "-f", "lavfi", "-i", "sine=frequency=1234:duration=3",
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-metadata", "title=UNPUBLISHED", mp4)
    ts = folder / "interview-unpublished.ts"
    ffmpeg("-i", mp4, "-c", "copy", "-f", "mpegts", ts)
    wav = folder / "interview-unpublished.wav"
    ffmpeg("-i", mp4, "-vn", "-c:a", "pcm_s16le", wav)
    # What a build that really carried this recording writes: the marker slices are the pieces of
    # that output which are also bytes of the capture (its copied H.264 and AAC samples).
    control = prepare_media(mp4, folder / "control" / "clip", DEFAULT)
    source, written = ts.read_bytes(), control.path.read_bytes()
    slices = tuple({written[i : i + 32] for i in range(1024, len(written) - 32, 211)
                    if written[i : i + 32] in source and len(set(written[i : i + 32])) > 8})  # fmt: skip
    assert len(slices) > 100, "too few marker slices: the detector would prove nothing"
    shutil.rmtree(folder / "control")
    return Secret(folder, mp4, ts, wav, slices)


# ----------------------------------------------------------------- class 1: playlists in disguise


def hls(target: str) -> str:
    return f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:3.0,\n{target}\n#EXT-X-ENDLIST\n"


def absolute(secret: Secret, media_dir: Path) -> str:
    return str(secret.ts)


def file_url(secret: Secret, media_dir: Path) -> str:
    return secret.ts.as_uri()


def parent_path(secret: Secret, media_dir: Path) -> str:
    return os.path.relpath(secret.ts, media_dir)  # ../../../unpublished0/interview-unpublished.ts


def concat_absolute(secret: Secret, media_dir: Path) -> str:
    return f"ffconcat version 1.0\nfile '{secret.wav}'\n"


def concat_unreferenced(secret: Secret, media_dir: Path) -> str:
    """ffconcat's "safe" mode still reads any plain relative name: here a draft in the content
    folder that no article publishes."""
    drafts = media_dir / "drafts"
    drafts.mkdir(parents=True, exist_ok=True)
    shutil.copy(secret.ts, drafts / "draft.ts")
    return "ffconcat version 1.0\nfile 'drafts/draft.ts'\n"


DISGUISES = {
    "hls-absolute-path-as-mp4": (".mp4", lambda s, d: hls(absolute(s, d))),
    "hls-absolute-path-as-mp3": (".mp3", lambda s, d: hls(absolute(s, d))),
    "hls-absolute-path-as-m4a": (".m4a", lambda s, d: hls(absolute(s, d))),
    "hls-file-url-as-mp4": (".mp4", lambda s, d: hls(file_url(s, d))),
    "hls-file-url-as-mp3": (".mp3", lambda s, d: hls(file_url(s, d))),
    "hls-file-url-as-m4a": (".m4a", lambda s, d: hls(file_url(s, d))),
    "hls-parent-path-as-mp4": (".mp4", lambda s, d: hls(parent_path(s, d))),
    "hls-parent-path-as-mp3": (".mp3", lambda s, d: hls(parent_path(s, d))),
    "hls-parent-path-as-m4a": (".m4a", lambda s, d: hls(parent_path(s, d))),
    "ffconcat-absolute-path-as-mp3": (".mp3", concat_absolute),
    "ffconcat-unreferenced-draft-as-mp3": (".mp3", concat_unreferenced),
}


def disguised_content(tmp_path: Path, secret: Secret, disguise: str) -> tuple[Path, str]:
    """A content folder whose one article plays `media/talk<ext>`, which is really a list of files."""
    extension, make = DISGUISES[disguise]
    root = tmp_path / "content"
    media = root / "media"
    media.mkdir(parents=True)
    name = f"talk{extension}"
    (media / name).write_text(make(secret, media), encoding="utf-8")
    write_content(root, {"talk.md": article(title="Talk", body=f"![A talk](../media/{name})")})
    return root, name


def assert_refusal_names_file_not_machine(message: str, name: str) -> None:
    assert "\n" not in message.strip(), message
    assert f"content/media/{name}" in message, message
    assert "would follow to other files" in message or "text" in message, message
    # Relative paths only: the build machine's folders (a user name, a project name) stay off screen.
    assert not re.search(r"(^|[\s'\"(])(file:)?/", message), message


@pytest.mark.parametrize("disguise", sorted(DISGUISES))
def test_playlist_disguised_as_media_cannot_pull_a_recording_into_a_build(disguise, secret, tmp_path):
    root, name = disguised_content(tmp_path, secret, disguise)
    with pytest.raises(InfopackError) as caught:
        build_bundle(root, tmp_path / "bundle")
    (problem,) = caught.value.problems
    assert_refusal_names_file_not_machine(str(problem), name)
    assert not (tmp_path / "bundle").exists()
    secret.assert_not_in(tmp_path, but=root)


@pytest.mark.parametrize("disguise", sorted(DISGUISES))
def test_playlist_disguised_as_media_cannot_be_read_by_plan(disguise, secret, tmp_path):
    root, name = disguised_content(tmp_path, secret, disguise)
    with pytest.raises(InfopackError) as caught:
        make_plan(root, parse_budget("sd-16g"))
    (problem,) = caught.value.problems
    assert problem.path == "content/articles/talk.md"
    assert_refusal_names_file_not_machine(str(problem), name)
    secret.assert_not_in(tmp_path, but=root)


@pytest.mark.parametrize("disguise", ["hls-file-url-as-m4a", "hls-parent-path-as-mp4", "ffconcat-absolute-path-as-mp3"])
@pytest.mark.parametrize("command", [["build", "--out", "{out}", "--quiet"], ["plan", "--budget", "sd-16g"],
                                     ["build", "--out", "{out}", "--budget", "sd-16g", "--quiet"]])  # fmt: skip
def test_cli_refuses_disguised_playlist_in_one_line_with_exit_1(disguise, command, secret, tmp_path):
    root, name = disguised_content(tmp_path, secret, disguise)
    out = tmp_path / "bundle"
    arguments = [command[0], str(root)] + [part.replace("{out}", str(out)) for part in command[1:]]
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), "a traceback, not one line"
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.output
    assert_refusal_names_file_not_machine(errors[0], name)
    assert not out.exists()
    secret.assert_not_in(tmp_path, but=root)


def test_build_refusal_names_the_article_using_the_disguised_file(secret, tmp_path):
    root, _ = disguised_content(tmp_path, secret, "hls-absolute-path-as-mp4")
    with pytest.raises(InfopackError) as caught:
        build_bundle(root, tmp_path / "bundle")
    assert caught.value.problems[0].path == "content/articles/talk.md"


def test_file_named_like_a_protocol_url_is_read_as_that_file(secret, tmp_path, monkeypatch):
    """`concat:...` (or `http:...`) handed to ffmpeg as a bare name is a URL: ffmpeg would read
    the file the name lists instead of the file itself."""
    monkeypatch.chdir(tmp_path)
    shutil.copy(secret.mp4, tmp_path / "interview.mp4")  # what the name points at
    own = tmp_path / "own.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=160x120:rate=10:duration=2", "-c:v", "libx264", "-preset", "ultrafast",
           "-pix_fmt", "yuv420p", own)  # fmt: skip
    os.rename(own, tmp_path / "concat:interview.mp4")
    result = prepare_media(Path("concat:interview.mp4"), tmp_path / "out" / "clip", DEFAULT)
    secret.assert_not_in(tmp_path / "out")
    assert result.duration_s == pytest.approx(2.0, abs=0.2)  # the file itself: 2 s, not the 3 s interview


def real_recording_under_wrong_name(tmp_path: Path, name: str) -> Path:
    """A content folder whose article plays `media/<name>`: a real recording of another container."""
    root = tmp_path / "content"
    media = root / "media"
    media.mkdir(parents=True)
    real = media / ("real" + {".mp3": ".wav", ".mkv": ".mp4", ".jpg": ".png"}[Path(name).suffix])
    if real.suffix == ".png":
        ffmpeg("-f", "lavfi", "-i", "color=c=blue:s=64x48", "-frames:v", "1", real)
    else:
        ffmpeg("-f", "lavfi", "-i", "testsrc=size=160x120:rate=10:duration=1", "-f", "lavfi", "-i", "sine=duration=1",
               "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", *(["-vn"] if real.suffix == ".wav" else []), real)  # fmt: skip
    real.rename(media / name)
    write_content(root, {"talk.md": article(title="Talk", body=f"![A talk](../media/{name})")})
    return root


@pytest.mark.parametrize("name, really", [("talk.mp3", "WAV"), ("talk.mkv", "MP4/QuickTime"), ("talk.jpg", "PNG")])
def test_recording_saved_under_another_containers_extension_is_refused(name, really, tmp_path):
    """ffmpeg and Pillow would read it by its content; a file must be what its extension says."""
    root = real_recording_under_wrong_name(tmp_path, name)
    for attempt in (lambda: make_plan(root, parse_budget("sd-16g")), lambda: build_bundle(root, tmp_path / "bundle")):
        with pytest.raises(InfopackError) as caught:
            attempt()
        (problem,) = caught.value.problems
        assert f"content/media/{name}: " in str(problem) and f"but it is {really} data" in str(problem), str(problem)
        assert str(tmp_path) not in str(problem)
    assert not (tmp_path / "bundle").exists()


def test_unknown_media_type_is_named_relative_to_the_content_folder(tmp_path):
    """Refused by the renderer, with the article's path and line, before any tool reads the file."""
    root = tmp_path / "content"
    (root / "media").mkdir(parents=True)
    (root / "media" / "notes.txt").write_text("file '/home/staff/unpublished.wav'\n", encoding="utf-8")
    write_content(root, {"talk.md": article(title="Talk", body="Intro.\n\n![Notes](../media/notes.txt)")})
    expected = f"content/articles/talk.md:8: unsupported media type '.txt' (../media/notes.txt; accepted: {ACCEPTED})"
    with pytest.raises(InfopackError) as planned:
        make_plan(root, parse_budget("sd-16g"))
    assert str(planned.value) == expected
    with pytest.raises(InfopackError) as built:
        build_bundle(root, tmp_path / "bundle")
    assert str(built.value) == expected
    assert str(tmp_path) not in str(built.value)


def test_unsupported_media_in_an_html_article_names_its_line(tmp_path):
    root = tmp_path / "content"
    (root / "media").mkdir(parents=True)
    (root / "media" / "clip.xyz").write_bytes(b"\0" * 64)
    body = "<p>Before.</p>\n<p>Still before.</p>\n<video src=\"../media/clip.xyz\"></video>"
    write_content(root, {"clip.html": article(title="Clip", body=body)})
    with pytest.raises(InfopackError) as built:
        build_bundle(root, tmp_path / "bundle")
    (problem,) = built.value.problems
    assert str(problem) == f"content/articles/clip.html:8: unsupported media type '.xyz' (../media/clip.xyz; accepted: {ACCEPTED})"
    assert not (tmp_path / "bundle").exists()


def test_renderer_and_media_stage_accept_the_same_extensions(tmp_path):
    """A clip the renderer accepts but the media stage does not failed late, naming the build
    machine's absolute path. Every extension the media stage allows (MEDIA_FORMATS) renders, as
    the kind the media stage will prepare; any other is a render problem."""
    from infopack.build.media import MEDIA_FORMATS
    from infopack.build.render import render_article
    from infopack.content.load import load_content
    from infopack.content.media_kinds import MEDIA_KINDS

    assert {ext: fmt.kind for ext, fmt in MEDIA_FORMATS.items()} == MEDIA_KINDS
    root = tmp_path / "content"
    (root / "media").mkdir(parents=True)
    unsupported = [".txt", ".m3u8", ".svg", ".avi", ".bmp", ".tiff", ".ffconcat"]
    for ext in [*MEDIA_FORMATS, *unsupported]:
        (root / "media" / f"f{ext}").write_bytes(b"x")
    write_content(root, {f"a{n}.md": article(body=f"![x](../media/f{ext})") for n, ext in enumerate([*MEDIA_FORMATS, *unsupported])})
    content = load_content(root)
    by_slug = {a.slug: a for a in content.articles}
    for n, ext in enumerate([*MEDIA_FORMATS, *unsupported]):
        rendered = render_article(by_slug[f"a{n}"], root, {}, set())
        if ext in MEDIA_FORMATS:
            assert rendered.problems == [], (ext, rendered.problems)
            element = {"image": "<img ", "audio": "<audio ", "video": "<video "}[MEDIA_FORMATS[ext].kind]
            assert element in rendered.html, (ext, rendered.html)
        else:
            assert rendered.problems == [f"unsupported media type {ext!r} (../media/f{ext}; accepted: {ACCEPTED})"], ext
            assert rendered.problem_lines == [6] and rendered.media == [], ext


# --------------------------------------------------------- class 1: MP4 that points at other files


def iso_path(data: bytes, names: list[bytes], start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """(offset, size) of each box along `names`, e.g. moov/trak/.../dref."""
    end = len(data) if end is None else end
    while start + 8 <= end:
        size, kind = struct.unpack(">I4s", data[start : start + 8])
        if kind == names[0]:
            if len(names) == 1:
                return [(start, size)]
            inner = iso_path(data, names[1:], start + 8, start + size)
            if inner:
                return [(start, size)] + inner
        start += size
    return []


def alias_dref_entry(target: Path) -> bytes:
    """A Mac alias data reference (what QuickTime writes for media kept in another file), in the
    layout ffmpeg's mov demuxer reads: volume, file name, then an absolute path record."""
    path = str(target).encode()
    body = bytes(10) + bytes([3]) + b"vol".ljust(27, b"\0") + bytes(12)
    body += bytes([len(target.name)]) + target.name.encode()[:63].ljust(63, b"\0") + bytes(16)
    body += struct.pack(">hh", -1, -1) + bytes(16)
    body += struct.pack(">hH", 2, len(path)) + path + (b"\0" if len(path) % 2 else b"") + struct.pack(">hH", -1, 0)
    entry = b"alis" + struct.pack(">I", 0) + body  # flags 0: the data is NOT in this file
    return struct.pack(">I", len(entry) + 4) + entry


@pytest.fixture
def mp4_pointing_outside(secret, tmp_path) -> Path:
    plain = tmp_path / "plain.m4a"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=700:duration=3", "-c:a", "aac", "-b:a", "64k", plain)  # moov after mdat
    data = bytearray(plain.read_bytes())
    boxes = iso_path(bytes(data), [b"moov", b"trak", b"mdia", b"minf", b"dinf", b"dref"])
    dref_at, dref_size = boxes[-1]
    entry = alias_dref_entry(secret.wav)
    new_dref = struct.pack(">I4sII", 16 + len(entry), b"dref", 0, 1) + entry
    data[dref_at : dref_at + dref_size] = new_dref
    for at, size in boxes[:-1]:  # every enclosing box grows; mdat comes first, so no offset moves
        struct.pack_into(">I", data, at, size + len(new_dref) - dref_size)
    root = write_content(tmp_path / "content", {"voice.md": article(title="Voice", body="![A voice](../media/voice.m4a)")})
    path = root / "media" / "voice.m4a"
    path.parent.mkdir(parents=True)
    path.write_bytes(bytes(data))
    # The construction is a real attack: with external references enabled ffmpeg copies the
    # unpublished recording's bytes as this file's audio.
    pulled = tmp_path / "pulled.m4a"
    ffmpeg("-enable_drefs", "1", "-use_absolute_path", "1", "-i", path, "-c", "copy", "-f", "mp4", pulled)
    wav = secret.wav.read_bytes()
    pulled_bytes = pulled.read_bytes()  # the samples sit where the m4a's own mdat was: the first ~24 KB
    assert sum(wav[i : i + 32] in pulled_bytes for i in range(1024, 20000, 512)) > 20
    pulled.unlink()
    return path


def test_mp4_whose_track_points_into_another_file_is_refused(mp4_pointing_outside, secret, tmp_path):
    for attempt in (lambda: prepare_media(mp4_pointing_outside, tmp_path / "out" / "voice", DEFAULT),
                    lambda: estimate_media(mp4_pointing_outside, DEFAULT)):  # fmt: skip
        with pytest.raises(InfopackError) as caught:
            attempt()
        message = str(caught.value)
        assert "\n" not in message and "content/media/voice.m4a: " in message, message
        assert "refers to data in another file" in message, message
        assert str(tmp_path) not in message, message
    assert not every_file(tmp_path / "out")


# --------------------------------------------------------------------- class 2: MP3 tags and junk

ID3_NAME = "ID3v2 Kim Secret"
ID3_KOREAN = "김비밀 평양"  # non-Latin text: ffmpeg stores it in UTF-16, BOM and all
MIDDLE_NAME = "Joined Park Hidden"
JUNK = "JUNK-BETWEEN-FRAMES"
APE_NAME = "APE Choi Planted"
LYRICS_NAME = "LYRICS Lee Planted"
ID3V1_NAME = "ID3v1 Jang Planted"
FIRST_ENCODER = "KIMSECRET"  # 9 bytes: the size of the encoder name in a LAME/Info tag
JOINED_ENCODER = "PARKHIDDN"
ANCILLARY = "ANCILLARY-Yoon-Planted"
MP3_PLANTS = [ID3_NAME, ID3_KOREAN, MIDDLE_NAME, JUNK, APE_NAME, LYRICS_NAME, ID3V1_NAME, FIRST_ENCODER,
              JOINED_ENCODER, ANCILLARY]  # fmt: skip


def frame_starts(data: bytes) -> list[int]:
    """Offsets of the MPEG frames of an ffmpeg/LAME MP3 (found by walking from the first sync),
    computed here independently of the code under test."""
    rates = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000)}
    kbps = {3: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
            2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)}  # fmt: skip
    pos = data.index(b"\xff\xfb")  # MPEG-1 layer III without CRC, as ffmpeg's libmp3lame writes it
    starts = []
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        version = (data[pos + 1] >> 3) & 3
        length = (144 if version == 3 else 72) * 1000 * kbps[version][data[pos + 2] >> 4] // rates[version][(data[pos + 2] >> 2) & 3]
        starts.append(pos)
        pos += length + ((data[pos + 2] >> 1) & 1)
    return starts


def id3v2(text_frames: dict[bytes, str]) -> bytes:
    """An ID3v2.3 tag; text that is not Latin-1 is stored as UTF-16 with a BOM, as taggers do."""
    body = b""
    for frame_id, text in text_frames.items():
        try:
            value = b"\x00" + text.encode("latin-1")
        except UnicodeEncodeError:
            value = b"\x01" + text.encode("utf-16")
        body += frame_id + struct.pack(">IH", len(value), 0) + value
    size = len(body)
    syncsafe = bytes([(size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F])
    return b"ID3\x03\x00\x00" + syncsafe + body


def ape_tag(text: str) -> bytes:
    item = struct.pack("<II", len(text), 0) + b"Artist\0" + text.encode()
    header = lambda flags: b"APETAGEX" + struct.pack("<IIII", 2000, len(item) + 32, 1, flags) + bytes(8)
    return header(0xA0000000) + item + header(0x80000000)


def lyrics3v2(text: str) -> bytes:
    field = b"LYR" + f"{len(text):05d}".encode() + text.encode()
    content = b"LYRICSBEGIN" + b"IND0000210" + field
    return content + f"{len(content):06d}".encode() + b"LYRICS200"


def rename_encoder(mp3: bytearray, first_frame: int, name: str) -> None:
    """Overwrite the 9-byte encoder name in the Info frame at `first_frame`."""
    at = mp3.index(b"Lav", first_frame, first_frame + 200)
    mp3[at : at + 9] = name.encode()


def plant_in_ancillary_data(mp3: bytearray, text: str) -> int:
    """Write `text` over LAME's ancillary padding ("LAME3.100UUUU...") inside audio frames: bytes
    after the audio bits, which a decoder never reads. Returns how many frames now carry it."""
    count = 0
    for match in re.finditer(rb"LAME3\.\d+U{%d,}" % len(text), bytes(mp3)):
        mp3[match.start() : match.start() + len(text)] = text.encode()
        count += 1
    return count


@pytest.fixture(scope="module")
def dirty_mp3(tmp_path_factory) -> Path:
    """Two recordings joined the careless way (`cat a.mp3 b.mp3`), each with its own ID3v2 tag and
    Info frame, junk between frames, APE, Lyrics3 and ID3v1 tags at the end, named encoders, and
    text in the frames' ancillary data."""
    folder = tmp_path_factory.mktemp("dirty-mp3")
    first, second = folder / "a.mp3", folder / "b.mp3"
    for path, frequency in ((first, 300), (second, 500)):
        ffmpeg("-f", "lavfi", "-i", f"sine=frequency={frequency}:duration=4", "-ac", "2", "-c:a", "libmp3lame", "-b:a", "128k",
               "-id3v2_version", "0", path)  # fmt: skip
    a, b = bytearray(first.read_bytes()), bytearray(second.read_bytes())
    rename_encoder(a, 0, FIRST_ENCODER)
    rename_encoder(b, 0, JOINED_ENCODER)
    assert plant_in_ancillary_data(a, ANCILLARY) > 5 and plant_in_ancillary_data(b, ANCILLARY) > 5
    cut = frame_starts(bytes(a))[40]
    joined = (id3v2({b"TIT2": ID3_NAME, b"TPE1": ID3_KOREAN}) + a[:cut] + JUNK.encode() + a[cut:]
              + id3v2({b"TPE1": MIDDLE_NAME}) + b + ape_tag(APE_NAME) + lyrics3v2(LYRICS_NAME)
              + b"TAG" + ID3V1_NAME.encode().ljust(125, b"\0"))  # fmt: skip
    path = folder / "talk.mp3"
    path.write_bytes(joined)
    raw = path.read_bytes()
    for text in MP3_PLANTS:
        assert any(encoded in raw for encoded in encodings(text)), f"{text!r} was not planted"
    return path


def test_tags_junk_and_joined_headers_in_an_mp3_do_not_reach_the_card(dirty_mp3, tmp_path):
    result = prepare_media(dirty_mp3, tmp_path / "talk", DEFAULT)
    assert result.path.suffix == ".mp3" and result.duration_s == pytest.approx(8.0, abs=0.2)
    assert_absent(MP3_PLANTS, result.path)


def test_mp3_rebuild_changes_no_audio_sample(tmp_path):
    """Only bits the decoder never reads are dropped or zeroed: an ordinary LAME MP3 (with text in
    its ancillary data) decodes to exactly the same samples before and after."""
    source = tmp_path / "speech.mp3"
    wav = tmp_path / "speech.wav"
    subprocess.run([tool("espeak-ng"), "-w", str(wav), "Read this offline. Nobody can see what you read."], check=True)
    ffmpeg("-i", wav, "-c:a", "libmp3lame", "-b:a", "64k", "-metadata", f"artist={ID3_NAME}", source)
    data = bytearray(source.read_bytes())
    assert plant_in_ancillary_data(data, ANCILLARY) > 0
    source.write_bytes(bytes(data))
    result = prepare_media(source, tmp_path / "out" / "speech", DEFAULT)
    assert_absent([ANCILLARY, ID3_NAME, "LAME3."], result.path)
    assert decoded_pcm(result.path) == decoded_pcm(source)


def test_built_bundle_carries_no_planted_string_from_an_mp3(dirty_mp3, tmp_path):
    root = tmp_path / "content"
    (root / "media").mkdir(parents=True)
    shutil.copy(dirty_mp3, root / "media" / "talk.mp3")
    write_content(root, {"talk.md": article(title="Talk", body="![A talk](../media/talk.mp3)")})
    build_bundle(root, tmp_path / "bundle")
    assert_absent(MP3_PLANTS, *every_file(tmp_path / "bundle"))


# ----------------------------------------------- class 2: every other container the build accepts

NAME = "Kim Secret Name"
PLACE = "Secret Village 39.03N"
KOREAN = "김비밀"
PLANTS = [NAME, PLACE, KOREAN]


def metadata_arguments() -> list[str]:
    return ["-metadata", f"artist={NAME}", "-metadata", f"title={KOREAN}", "-metadata", f"comment={PLACE}",
            "-metadata", f"author={NAME}", "-metadata", f"location={PLACE}"]  # fmt: skip


def iso_box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def with_extra_iso_boxes(path: Path) -> None:
    """Top-level boxes players skip ('free', 'uuid', 'udta'), each holding the planted text."""
    text = " ".join(PLANTS).encode()
    extra = iso_box(b"free", text) + iso_box(b"uuid", bytes(16) + text) + iso_box(b"udta", iso_box(b"\xa9nam", text))
    path.write_bytes(path.read_bytes() + extra)


def flac_with_application_block(path: Path) -> None:
    """Insert an APPLICATION metadata block (type 2) holding the planted text after STREAMINFO."""
    data = path.read_bytes()
    assert data[:4] == b"fLaC" and data[4] & 0x7F == 0  # STREAMINFO first
    streaminfo_end = 8 + 34
    payload = b"TEST" + " ".join(PLANTS).encode()
    was_last = data[4] & 0x80  # the new block takes over STREAMINFO's "last block" flag
    block = bytes([was_last | 2]) + len(payload).to_bytes(3, "big") + payload
    path.write_bytes(data[:4] + bytes([0]) + data[5:streaminfo_end] + block + data[streaminfo_end:])


def wav_with_extra_chunks(path: Path) -> None:
    """Add a 'bext' (broadcast: originator and description) and an 'id3 ' chunk to a WAV."""
    data = bytearray(path.read_bytes())
    text = " ".join(PLANTS).encode()
    bext = b"bext" + struct.pack("<I", len(text) + (len(text) % 2)) + text + (b"\0" if len(text) % 2 else b"")
    tag = id3v2({b"TPE1": NAME, b"TIT2": KOREAN})
    id3 = b"id3 " + struct.pack("<I", len(tag) + (len(tag) % 2)) + tag + (b"\0" if len(tag) % 2 else b"")
    data[12:12] = bext + id3  # right after "RIFF....WAVE"
    struct.pack_into("<I", data, 4, len(data) - 8)
    path.write_bytes(bytes(data))


def adts_with_tags(path: Path) -> None:
    """ID3v2 in front, junk between ADTS frames, an ID3v1 tag at the end (as rippers leave them)."""
    data = path.read_bytes()
    frames, pos = [], 0
    while pos + 7 <= len(data):
        frames.append(pos)
        pos += ((data[pos + 3] & 3) << 11) | (data[pos + 4] << 3) | (data[pos + 5] >> 5)
    cut = frames[len(frames) // 2]
    path.write_bytes(id3v2({b"TPE1": NAME, b"TIT2": KOREAN}) + data[:cut] + PLACE.encode() + data[cut:]
                     + b"TAG" + NAME.encode().ljust(125, b"\0"))  # fmt: skip


def make_m4a(path: Path) -> None:
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-c:a", "aac", "-b:a", "96k", *metadata_arguments(),
           "-metadata:s:a", f"handler_name={NAME}", "-movflags", "+use_metadata_tags", path)  # fmt: skip
    with_extra_iso_boxes(path)


def make_mp4(path: Path, container: str = "mp4") -> None:
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=2", "-f", "lavfi", "-i", "sine=frequency=440:duration=2",
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", *metadata_arguments(),
           "-metadata:s:v", f"handler_name={PLACE}", "-f", container, path)  # fmt: skip
    with_extra_iso_boxes(path)


def make_mkv(path: Path) -> None:
    attachment = path.with_suffix(".txt")
    attachment.write_text(" ".join(PLANTS), encoding="utf-8")
    chapters = path.with_suffix(".meta")
    chapters.write_text(f";FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=1000\ntitle={NAME}\n", encoding="utf-8")
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=2", "-f", "lavfi", "-i", "sine=frequency=440:duration=2",
           "-i", chapters, "-map", "0", "-map", "1", "-map_chapters", "2", "-c:v", "libx264", "-preset", "ultrafast",
           "-pix_fmt", "yuv420p", "-c:a", "aac", *metadata_arguments(), "-metadata:s:a", f"title={PLACE}",
           "-attach", attachment, "-metadata:s:t", "mimetype=text/plain", path)  # fmt: skip


def make_webm(path: Path) -> None:
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=176x144:rate=15:duration=1", "-f", "lavfi", "-i", "sine=frequency=440:duration=1",
           "-c:v", "libvpx-vp9", "-b:v", "100k", "-c:a", "libopus", *metadata_arguments(), path)  # fmt: skip


def make_ogv(path: Path) -> None:
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=176x144:rate=15:duration=1", "-f", "lavfi", "-i", "sine=frequency=440:duration=1",
           "-c:v", "libtheora", "-c:a", "libvorbis", *metadata_arguments(), "-f", "ogg", path)  # fmt: skip


def make_audio(codec: str, container: str, after=None):
    def make(path: Path) -> None:
        cover = path.with_suffix(".jpg")
        ffmpeg("-f", "lavfi", "-i", "color=c=red:s=32x32:d=1", "-frames:v", "1", cover)
        extra = ["-i", cover, "-map", "0", "-map", "1", "-c:v", "mjpeg", "-disposition:v", "attached_pic"] if container == "flac" else []
        ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=2", *extra, "-c:a", codec, *metadata_arguments(),
               "-f", container, path)  # fmt: skip
        if after is not None:
            after(path)

    return make


CONTAINERS = {
    "clip.m4a": make_m4a,
    "clip.mp4": make_mp4,
    "clip.m4v": make_mp4,
    "clip.mov": lambda path: make_mp4(path, "mov"),
    "clip.mkv": make_mkv,
    "clip.webm": make_webm,
    "clip.ogv": make_ogv,
    "voice.ogg": make_audio("libvorbis", "ogg"),
    "voice.oga": make_audio("libvorbis", "ogg"),
    "voice.opus": make_audio("libopus", "ogg"),
    "voice.flac": make_audio("flac", "flac", flac_with_application_block),
    "voice.wav": make_audio("pcm_s16le", "wav", wav_with_extra_chunks),
    "voice.aac": make_audio("aac", "adts", adts_with_tags),
}


@pytest.mark.parametrize("profile", [DEFAULT, SMALL], ids=["default", "small"])
@pytest.mark.parametrize("name", sorted(CONTAINERS))
def test_text_planted_anywhere_in_an_accepted_container_does_not_reach_the_card(name, profile, tmp_path):
    source = tmp_path / name
    CONTAINERS[name](source)
    raw = source.read_bytes()
    for text in PLANTS:
        assert any(encoded in raw for encoded in encodings(text)), f"{text!r} was not planted in {name}"
    result = prepare_media(source, tmp_path / "out" / "x", profile)
    assert_absent(PLANTS, *every_file(tmp_path / "out"))
    assert result.size > 0 and result.duration_s


def test_h264_units_a_decoder_ignores_do_not_reach_the_card(tmp_path):
    """Filler, extension and reserved NAL unit types are skipped by players, so a stream copy must
    not carry them (SEI alone was removed before)."""
    annexb = tmp_path / "clip.h264"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=10:duration=2", "-c:v", "libx264", "-preset", "ultrafast",
           "-pix_fmt", "yuv420p", "-bsf:v", "h264_mp4toannexb", "-f", "h264", annexb)  # fmt: skip
    data = annexb.read_bytes()
    units = [bytes([0, 0, 0, 1, header]) + text.encode() + b"\x80"
             for header, text in ((12, NAME), (0x60 | 13, PLACE), (0x60 | 23, "RESERVED-UNIT-PLANT"))]  # fmt: skip
    first_slice = next(m.start() for m in re.finditer(b"\x00\x00\x01", data) if data[m.start() + 3] & 0x1F == 5)
    at = first_slice - 1 if data[first_slice - 1] == 0 else first_slice
    annexb.write_bytes(data[:at] + b"".join(units) + data[at:])
    source = tmp_path / "clip.mp4"
    ffmpeg("-f", "h264", "-r", "10", "-i", annexb, "-c", "copy", source)
    assert NAME.encode() in source.read_bytes()
    result = prepare_media(source, tmp_path / "out" / "clip", DEFAULT)
    assert_absent([NAME, PLACE, "RESERVED-UNIT-PLANT"], result.path)
    assert result.duration_s == pytest.approx(2.0, abs=0.3) and result.poster is not None
