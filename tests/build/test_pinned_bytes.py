"""Refactoring must not change what a build writes: the example bundle and a small generated
library are pinned to the hashes they had when the layers were reshaped (issue 11).

Bundle bytes also depend on the tools that write them (zstd, Pillow, ffmpeg encode media and text),
so each pin names the versions it was taken with; with other versions the test is skipped, saying
so. Re-pin (run this file with INFOPACK_REPIN=1 and copy the printed line) only for a change that is
meant to change bundles, and say so in the commit.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import PIL
import pytest
import zstandard

from infopack.build.assemble import build_bundle
from kit.content import EXAMPLE_CONTENT, article, write_content

# (zstandard, Pillow, ffmpeg) -> {library: hash of every path, mtime and byte of the bundle}
PINS = {
    ("0.25.0", "13.0.0", "5.1.9-0+deb12u1"): {
        "example": "5bc8647c0e8c8039cbb04dce200473b1687696bc109cca7839a15485fe7ebbdc",
        "generated": "135fd9865ddbfca8d3e6a770d0bc45a2fe2f6e962e7ad7c366c16b6c44bdd39d",
    },
}


def versions() -> tuple[str, str, str]:
    banner = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout.split()
    return zstandard.__version__, PIL.__version__, banner[2] if len(banner) > 2 else "?"


def bundle_hash(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + str(int(path.lstat().st_mtime)).encode() + b"\0")
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def generated_library(root: Path) -> Path:
    """Forty articles in Korean and English with tags, links between them, a table and lists."""
    articles = {}
    for number in range(40):
        korean = number % 2 == 0
        body = (
            f"## 제{number}장\n\n학교에서 공부하는 {number}번째 이야기입니다. 로동과 노동, 력사와 역사.\n\n"
            f"- 하나\n- 둘\n\n[다음 글](a{(number + 1) % 40}.md)\n"
            if korean
            else f"## Part {number}\n\nThe {number}th story about rivers, maps and radios.\n\n"
            f"| a | b |\n|---|---|\n| {number} | {number * 2} |\n\n[next](a{(number + 1) % 40}.md)\n"
        )
        articles[f"a{number}.md"] = article(
            title=f"{'글' if korean else 'Story'} {number}", date=f"2025-{number % 12 + 1:02d}-{number % 28 + 1:02d}",
            lang="ko" if korean else "en", body=body, tags=f"[{'과학' if number % 3 else '역사'}, t{number % 5}]",
        )
    return write_content(root, articles)


@pytest.mark.parametrize("library", ["example", "generated"])
def test_refactoring_leaves_bundle_bytes_unchanged(library, tmp_path):
    pins = PINS.get(versions())
    if os.environ.get("INFOPACK_REPIN"):
        pins = None
    content = EXAMPLE_CONTENT if library == "example" else generated_library(tmp_path / "content")
    built = bundle_hash(build_bundle(content, tmp_path / "bundle").bundle_dir)
    if pins is None or pins[library] is None:
        pytest.skip(f"no pin for {library} with zstandard/Pillow/ffmpeg {versions()}: {library} = {built}")
    assert built == pins[library]
