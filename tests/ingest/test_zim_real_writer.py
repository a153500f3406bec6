"""ZIM files made by Kiwix's own packaging tool, Debian 12's `zimwriterfs` (libzim 8), not only by
python-libzim (libzim 9) or our hand-crafted files. libzim 8 keeps the old title pointer list as
the blob of an entry inside a cluster; a reader that took the header's pointer to it as the end of
the cluster before it refused every such file as damaged (found on real GIMP help pages)."""

from __future__ import annotations

import struct
import subprocess
import zlib
from pathlib import Path

from click.testing import CliRunner

from infopack.commands import main
from infopack.content.load import load_content
from infopack.ingest.zim.reader import ZimArchive


def _png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _site(root: Path, pages: int) -> Path:
    site = root / "site"
    (site / "images").mkdir(parents=True)
    (site / "images" / "river.png").write_bytes(_png(40, 30, (20, 90, 160)))
    (site / "illustration.png").write_bytes(_png(48, 48, (200, 200, 200)))
    links = "".join(f'<li><a href="page{n}.html">강 이야기 {n}</a></li>' for n in range(pages))
    (site / "index.html").write_text(f'<html lang="ko"><head><meta charset="utf-8"><title>차례</title></head>'
                                     f"<body><h1>차례</h1><ul>{links}</ul></body></html>", encoding="utf-8")
    for n in range(pages):
        body = "".join(f"<p>강물은 마을을 지나 바다로 흐른다. {n}번째 글의 {k}번째 문단이다.</p>" for k in range(40))
        (site / f"page{n}.html").write_text(
            f'<html lang="ko"><head><meta charset="utf-8"><title>강 이야기 {n}</title></head><body>'
            f'<h1>강 이야기 {n}</h1><p><img src="images/river.png" alt="강"></p>{body}'
            f'<p><a href="page{(n + 1) % pages}.html">다음 글</a></p></body></html>', encoding="utf-8")
    return site


def _zimwriterfs(site: Path, out: Path) -> Path:
    subprocess.run(
        ["zimwriterfs", "-w", "index.html", "-I", "illustration.png", "-l", "kor", "-t", "강 이야기",
         "-d", "시험용 묶음", "-c", "test", "-p", "test", "-n", "river-test", str(site), str(out)],
        check=True, capture_output=True, timeout=300,
    )
    return out


def test_a_zim_made_by_kiwix_zimwriterfs_reads_imports_and_builds(tmp_path):
    # zimwriterfs puts the old title list, the new one and the pictures in one uncompressed cluster.
    zim = _zimwriterfs(_site(tmp_path, 30), tmp_path / "river.zim")
    archive = ZimArchive(zim)
    archive.check_checksum()
    assert archive.header.has_title_list
    content = tmp_path / "library"
    result = CliRunner().invoke(main, ["import", str(zim), "--into", str(content), "--quiet"])
    assert result.exit_code == 0, result.output
    loaded = load_content(content)
    titles = {article.title for article in loaded.articles}
    assert {f"강 이야기 {n}" for n in range(30)} <= titles
    built = CliRunner().invoke(main, ["build", str(content), "--out", str(tmp_path / "bundle"), "--quiet"])
    assert built.exit_code == 0, built.output
