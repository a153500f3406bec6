"""export/zimfile.py on its own: what python-libzim (the reference reader) makes of what it writes."""

from __future__ import annotations

import pytest

from infopack.errors import InfopackError
from infopack.export import zimfile
from infopack.export.zimfile import Blob, Entry, ZimWriter

libzim_reader = pytest.importorskip("libzim.reader")
UUID = bytes(range(16))


def small_set() -> tuple[list[Entry], list[Blob]]:
    entries = [
        Entry("C", "a", "Alpha", "text/html", front=True),
        Entry("C", "b", "Beta", "text/html", front=True),
        Entry("C", "pic.png", "", "image/png", compress=False),
        Entry("C", "alias", "Gamma", front=True, target=("C", "a")),
        Entry("W", "mainPage", target=("C", "a")),
        Entry("M", "Title", "", "text/plain;charset=UTF-8"),
    ]
    picture = bytes(range(256)) * 50
    blobs = [
        Blob(("C", "b"), data=b"<html><body>beta</body></html>"),
        Blob(("C", "a"), data=b"<html><body>alpha</body></html>"),
        Blob(("C", "pic.png"), size=len(picture), pieces=iter([picture[:1000], picture[1000:]])),
        Blob(("M", "Title"), data="제목".encode()),
    ]
    return entries, blobs


def write(path, entries, blobs) -> None:
    with open(path, "w+b") as handle:
        ZimWriter(handle, entries, uuid=UUID, main_page=("W", "mainPage")).write(blobs)


def test_libzim_reads_content_redirects_and_streamed_media(tmp_path):
    entries, blobs = small_set()
    write(tmp_path / "t.zim", entries, blobs)
    archive = libzim_reader.Archive(str(tmp_path / "t.zim"))
    assert archive.check()
    assert bytes(archive.get_entry_by_path("a").get_item().content) == b"<html><body>alpha</body></html>"
    assert archive.get_entry_by_path("alias").get_redirect_entry().path == "a"
    assert archive.main_entry.get_item().path == "a"
    assert bytes(archive.get_entry_by_path("pic.png").get_item().content) == bytes(range(256)) * 50
    assert archive.get_metadata("Title").decode() == "제목"
    assert archive.get_entry_by_title("Beta").path == "b"


def test_extended_clusters_with_64_bit_offsets_read_by_libzim(tmp_path, monkeypatch):
    # Clusters over 4 GiB are too big for a test; lowering the limit writes the same structure.
    monkeypatch.setattr(zimfile, "OFFSET_LIMIT", 16)
    entries, blobs = small_set()
    write(tmp_path / "x.zim", entries, blobs)
    data = (tmp_path / "x.zim").read_bytes()
    assert data.count(bytes([zimfile.COMPRESSION_NONE | zimfile.EXTENDED])) >= 1
    archive = libzim_reader.Archive(str(tmp_path / "x.zim"))
    assert archive.check()
    assert bytes(archive.get_entry_by_path("pic.png").get_item().content) == bytes(range(256)) * 50
    assert bytes(archive.get_entry_by_path("b").get_item().content) == b"<html><body>beta</body></html>"


def test_media_shorter_than_announced_is_refused(tmp_path):
    entries, blobs = small_set()
    blobs[2] = Blob(("C", "pic.png"), size=5000, pieces=iter([b"x" * 10]))
    with pytest.raises(InfopackError, match="is 10 bytes, expected 5000"):
        write(tmp_path / "t.zim", entries, blobs)


def test_entry_without_content_or_given_twice_is_refused(tmp_path):
    entries, blobs = small_set()
    with pytest.raises(InfopackError, match="no content for ZIM entry C/b"):
        write(tmp_path / "t.zim", entries, [b for b in blobs if b.key != ("C", "b")])
    entries, blobs = small_set()
    with pytest.raises(InfopackError, match="given twice"):
        write(tmp_path / "t.zim", entries, [*blobs, blobs[0]])
    entries, blobs = small_set()
    with pytest.raises(InfopackError, match="points to a missing entry"):
        write(tmp_path / "t.zim", [*entries, Entry("C", "dangling", target=("C", "nowhere"))], blobs)
