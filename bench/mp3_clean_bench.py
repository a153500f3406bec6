"""Benchmark: cleaning a tagged MP3 (issue 10.2) by rebuilding it from its frames, as the build does,
against re-encoding it with ffmpeg/libmp3lame, side by side on the same file.

    python bench/mp3_clean_bench.py [minutes]

The source is a spoken-word-like MP3 (noise shaped by a slow tone, 64 kbit/s mono) with an ID3v2
tag, APE and Lyrics3 tags, an ID3v1 tag and junk between frames planted in it.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from media_bench import machine  # noqa: E402

from infopack.build.media import PROFILES, prepare_media  # noqa: E402

PLANTED = b"PLANTED-NAME-Kim-Chol"


def tagged_mp3(folder: Path, minutes: int) -> Path:
    plain = folder / "plain.mp3"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
         f"anoisesrc=d={minutes * 60}:c=pink:a=0.2,volume='0.5+0.5*sin(2*PI*t/3)':eval=frame",
         "-ac", "1", "-c:a", "libmp3lame", "-b:a", "64k", str(plain)],
        check=True,
    )  # fmt: skip
    data = plain.read_bytes()
    middle = len(data) // 2
    id3v2 = b"ID3\x03\x00\x00\x00\x00\x00\x2a" + b"TIT2" + (22).to_bytes(4, "big") + b"\x00\x00\x00" + PLANTED + b"\x00" * 10
    ape = b"APETAGEX" + PLANTED + b"\x00" * 16
    lyrics = b"LYRICSBEGIN" + PLANTED + b"LYRICS200"
    id3v1 = b"TAG" + PLANTED.ljust(125, b"\x00")
    tagged = folder / "tagged.mp3"
    tagged.write_bytes(id3v2 + data[:middle] + b"junk" + PLANTED + data[middle:] + ape + lyrics + id3v1)
    return tagged


def timed(work) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def main(minutes: int = 10, rounds: int = 3) -> None:
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        source = tagged_mp3(folder, minutes)
        rebuild, reencode = [], []
        for round_number in range(rounds):  # interleaved, so load on the machine hits both alike
            out = folder / f"rebuilt-{round_number}"
            rebuild.append(timed(lambda out=out: prepare_media(source, out, PROFILES["default"], shown="tagged.mp3")))
            encoded = folder / f"encoded-{round_number}.mp3"
            reencode.append(timed(lambda encoded=encoded: subprocess.run(
                ["ffmpeg", "-nostdin", "-v", "fatal", "-y", "-i", str(source), "-map_metadata", "-1",
                 "-write_xing", "0", "-id3v2_version", "0", "-c:a", "libmp3lame", "-b:a", "64k", str(encoded)],
                check=True)))  # fmt: skip
        rebuilt = next(folder.glob("rebuilt-0.*")).read_bytes()
        assert PLANTED not in rebuilt, "a planted string survived the rebuild"
        print(machine())
        print(f"source: {minutes} min, {source.stat().st_size:,} bytes")
        print(f"frame rebuild (build):  median {statistics.median(rebuild):.2f} s, {len(rebuilt):,} bytes, audio samples unchanged")
        print(f"ffmpeg re-encode:       median {statistics.median(reencode):.2f} s, {encoded.stat().st_size:,} bytes, a lossy generation")
        print(f"rebuild / re-encode:    {statistics.median(rebuild) / statistics.median(reencode):.2f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
