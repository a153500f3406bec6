"""Source folders of the kinds staff hold, made in the test with the real tools (pandoc, ffmpeg)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from kit.content import CAPTURES

KOREAN = "산골 마을을 찾아가는 이동 도서관 버스는 열 번째 겨울을 맞았다. 눈이 쌓인 고갯길을 넘어 노란색 버스가 마을 회관 앞에 멈춘다.\n"
WESTERN = "Café owners in Zürich said the naïve plan “worked” — mostly. The façade was repainted in spring.\n"


def png(path: Path, color: str = "red") -> Path:
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"color=c={color}:s=32x24", "-frames:v", "1", str(path)],
                   check=True, timeout=60)
    return path


def mp3(path: Path, title: str = "", date: str = "") -> Path:
    command = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=440:duration=1"]
    for key, value in (("title", title), ("date", date)):
        if value:
            command += ["-metadata", f"{key}={value}"]
    subprocess.run(command + [str(path)], check=True, timeout=60)
    return path


def mp4(path: Path) -> Path:
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=5:duration=1",
                    "-pix_fmt", "yuv420p", "-c:v", "libx264", str(path)], check=True, timeout=60)
    return path


def document(path: Path, markdown: str, picture: Path | None = None) -> Path:
    """A .docx or .odt made by pandoc from Markdown (with `picture` embedded when given)."""
    work = path.parent / f".make-{path.stem}"
    work.mkdir(parents=True)
    if picture is not None:
        shutil.copy(picture, work / picture.name)
    (work / "doc.md").write_text(markdown, encoding="utf-8")
    subprocess.run(["pandoc", "doc.md", "-o", str(path.resolve())], cwd=work, check=True, timeout=60)
    shutil.rmtree(work)
    return path


def mixed_sources(root: Path) -> Path:
    """captures/ (text copied from web pages), notes/ (.md without and with front matter, a picture),
    legacy/ (CP949 and UTF-16 text), documents/ (.docx with a picture, .odt), recordings/."""
    root.mkdir(parents=True)
    shutil.copytree(CAPTURES, root / "captures")
    notes = root / "notes"
    notes.mkdir()
    png(notes / "photo.png", "blue")
    (notes / "2025-03-04-river-notes.md").write_text(
        "# River notes\n\nThe river school opened its second room this spring, and the teachers say so.\n\n"
        "![The new room](photo.png)\n\nMore text follows here about the school and its families.\n", encoding="utf-8")
    (notes / "ready.md").write_text('---\ntitle: "Ready: already has front matter"\ndate: 2024-12-01\nlang: en\n'
                                    "tags: [ready]\npriority: 3\n---\nThis one was written for infopack already.\n",
                                    encoding="utf-8")
    legacy = root / "legacy"
    legacy.mkdir()
    (legacy / "korean-windows.txt").write_bytes(("이동 도서관 버스 이야기\n\n" + KOREAN).encode("cp949"))
    (legacy / "notepad-unicode.txt").write_bytes(("이동 도서관 버스의 겨울 풍경\n\n" + KOREAN + "\n올해는 주민들이 새 타이어를 마련했다.\n").encode("utf-16"))
    (legacy / "western.txt").write_bytes(("A story from Zurich cafes\n\n" + WESTERN).encode("cp1252"))
    documents = root / "documents"
    documents.mkdir()
    picture = png(root / ".picture.png", "green")
    document(documents / "testimony.docx", "---\ntitle: \"Testimony: the crossing\"\n---\n\nWe walked for three nights before"
             " we reached the river, and my daughter carried the small bag.\n\n![The river bank](.picture.png)\n\n"
             "Afterwards we waited in the village for a week.\n", picture)
    document(documents / "report.odt", "# Winter report\n\nThe market opened in the cold and people came from "
             "three villages to trade seeds and wool.\n")
    picture.unlink()
    recordings = root / "recordings"
    recordings.mkdir()
    mp3(recordings / "interview-1.mp3", title="첫 번째 인터뷰", date="2024-05-06")
    mp4(recordings / "market_day.mp4")
    return root
