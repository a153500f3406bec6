"""Our ZIM reader against python-libzim (the reference) on libzim-made and hand-made files, and
against damaged files the way an attacker would make them."""

from __future__ import annotations

import struct
import tracemalloc
from pathlib import Path

import pytest
import zstandard

from infopack.errors import InfopackError
from infopack.ingest.zim.reader import NO_PAGE, ZimArchive, ZimError
from kit.zim import CraftOptions, LibzimArticle, ZimItem, craft_zim, libzim_zim, old_style_items

libzim_reader = pytest.importorskip("libzim.reader")


def png(seed: int) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + bytes([seed % 256]) * (50 + seed)


def new_style_articles(count: int = 120) -> tuple[list[LibzimArticle], list[tuple[str, str, str]]]:
    articles = [LibzimArticle(f"Article_{n}", f"Article {n} 제목", f"<html><body><p>Text {n} " + "word " * (n % 40)
                              + f'<a href="Article_{(n + 1) % count}">next</a><img src="I/pic{n % 7}.png"></p></body></html>')
                for n in range(count)]
    articles += [LibzimArticle(f"I/pic{n}.png", "", png(n), mime="image/png", front=False) for n in range(7)]
    articles.append(LibzimArticle("s/style.css", "", "body{}", mime="text/css", front=False))
    redirects = [(f"Old_{n}", f"Old name {n}", f"Article_{n}") for n in range(0, count, 10)]
    return articles, redirects


@pytest.fixture(scope="module")
def libzim_file(tmp_path_factory) -> Path:
    articles, redirects = new_style_articles()
    metadata = {"Title": "Test wiki", "Description": "A test", "Language": "kor", "Date": "2024-03-05",
                "Name": "test_ko", "Creator": "t", "Publisher": "t"}
    # A small cluster size gives many clusters, so blob and cluster numbers are exercised.
    return libzim_zim(tmp_path_factory.mktemp("zim") / "new.zim", articles, redirects, metadata, main_path="Article_0",
                      cluster_size=4096)


def test_every_entry_equals_libzims_on_a_libzim_file(libzim_file):
    reference = libzim_reader.Archive(str(libzim_file))
    with ZimArchive(libzim_file) as ours:
        assert ours.new_namespaces and reference.has_new_namespace_scheme
        assert ours.entry_count == reference.all_entry_count
        content_entries = [e for e in ours.entries() if e.namespace == "C"]
        assert len(content_entries) == reference.entry_count
        assert len({e.cluster for e in content_entries}) > 3
        for entry in content_entries:
            theirs = reference._get_entry_by_id(entry.index)
            assert (theirs.path, theirs.title, theirs.is_redirect) == (entry.path, entry.shown_title, entry.is_redirect)
            if entry.is_redirect:
                assert theirs.get_redirect_entry().path == ours.entry(entry.target).path
            else:
                item = theirs.get_item()
                assert (bytes(item.content), item.mimetype) == (ours.content(entry), entry.mime)
        for name in reference.metadata_keys:
            meta = ours.entry_by_path(f"M/{name}")
            assert meta is not None and ours.content(meta) == bytes(reference.get_metadata(name))
        assert ours.main_entry().path == reference.main_entry.get_item().path
        assert ours.header.checksum_pos and reference.checksum == ours_md5(libzim_file)
        ours.check_checksum()


def ours_md5(path: Path) -> str:
    return path.read_bytes()[-16:].hex()


def test_random_access_by_path_and_title(libzim_file):
    with ZimArchive(libzim_file) as zim:
        assert zim.entry_by_path("C/Article_42").shown_title == "Article 42 제목"
        assert zim.entry_by_path("C/Nope") is None and zim.entry_by_path("nonsense") is None
        assert zim.entry_by_title("Article 7 제목").path == "Article_7"
        assert zim.entry_by_title("Old name 10").is_redirect
        assert zim.resolve(zim.entry_by_title("Old name 10")).path == "Article_10"
        assert zim.entry_by_title("Not there") is None
        titles = [zim.entry(i).shown_title for i in zim.titles_in_order()]
        assert titles == sorted(titles, key=lambda t: t.encode())
        assert zim.metadata()["Language"] == "kor"


def test_streaming_pass_reads_each_cluster_once(libzim_file, monkeypatch):
    with ZimArchive(libzim_file) as zim:
        inflated: list[int] = []
        original = zim._inflate
        monkeypatch.setattr(zim, "_inflate", lambda number, kind: inflated.append(number) or original(number, kind))
        entries = [e for e in zim.entries() if e.kind == "content"]
        seen = {entry.index: data for entry, data in zim.read_in_cluster_order(reversed(entries))}
        assert len(seen) == len(entries)
        assert len(inflated) == len(set(inflated))  # no compressed cluster decompressed twice
        assert seen[zim.entry_by_path("C/Article_3").index].startswith(b"<html>")


def test_old_namespaces_with_xz_and_extended_clusters_equal_libzims(tmp_path):
    crafted = craft_zim(old_style_items(), CraftOptions(compression={0: "xz", 1: "none"}, extended=frozenset({0, 1}),
                                                        main_path="A/Seoul"))
    path = crafted.write(tmp_path / "old.zim")
    reference = libzim_reader.Archive(str(path))
    assert reference.check()  # the hand-made file is a valid ZIM by libzim's own checks
    with ZimArchive(path) as zim:
        assert not zim.new_namespaces
        assert zim.entry_count == reference.entry_count
        for entry in zim.entries():
            theirs = reference._get_entry_by_id(entry.index)
            assert theirs.path == entry.full_path and theirs.title == entry.shown_title
            if not entry.is_redirect:
                assert bytes(theirs.get_item().content) == zim.content(entry)
        assert zim.entry_by_title("Hanyang").target == zim.entry_by_path("A/Seoul").index
        assert zim.entry_by_title("Busan").full_path == "A/Busan"
        assert zim.main_entry().full_path == "A/Seoul"
        assert zim.metadata() == {"Title": "Old cities", "Language": "kor", "Date": "2019-05-06"}
        zim.check_checksum()


@pytest.mark.parametrize("compression", ["none", "xz", "zstd"])
@pytest.mark.parametrize("extended", [False, True])
def test_each_cluster_kind_reads_back(tmp_path, compression, extended):
    items = [ZimItem("A", f"P{n}", f"page {n} ".encode() * n, title=f"P{n}") for n in range(30)]
    items.append(ZimItem("A", "Empty", b"", title="Empty"))
    crafted = craft_zim(items, CraftOptions(compression={0: compression}, extended=frozenset({0}) if extended else frozenset()))
    with ZimArchive(crafted.write(tmp_path / "k.zim")) as zim:
        for n in range(30):
            assert zim.content(zim.entry_by_path(f"A/P{n}")) == f"page {n} ".encode() * n
        assert zim.content(zim.entry_by_path("A/Empty")) == b""


def test_obsolete_link_target_and_deleted_entries_are_listed_without_content(tmp_path):
    items = [ZimItem("A", "Kept", b"<p>k</p>", title="Kept"), ZimItem("A", "Gone", title="Gone", obsolete=0xFFFD),
             ZimItem("A", "Target", title="Target", obsolete=0xFFFE)]
    path = craft_zim(items).write(tmp_path / "obsolete.zim")
    with ZimArchive(path) as zim:
        kinds = {e.path: e.kind for e in zim.entries()}
        assert kinds == {"Kept": "content", "Gone": "deleted", "Target": "linktarget"}
        assert zim.content(zim.entry_by_path("A/Kept")) == b"<p>k</p>"
    assert "has no content" in refused(path, lambda zim: zim.content(zim.entry_by_path("A/Gone")))


def test_new_namespaces_without_any_title_list_still_read_by_path(tmp_path):
    items = [ZimItem("C", "Only", b"<p>x</p>"), ZimItem("M", "Title", b"T", mime="text/plain")]
    crafted = craft_zim(items, CraftOptions(major=6, minor=1, title_list=False))
    with ZimArchive(crafted.write(tmp_path / "n.zim")) as zim:
        assert zim.new_namespaces and zim.header.main_page == NO_PAGE
        assert zim.content(zim.entry_by_path("C/Only")) == b"<p>x</p>"
        assert zim.entry_by_title("Only") is None and list(zim.titles_in_order()) == []


# --- attacks -------------------------------------------------------------------------------------


def refused(path: Path, action=None) -> str:
    """Open `path` and run `action(zim)`; return the one-line problem, failing if there is none."""
    with pytest.raises(ZimError) as caught:
        with ZimArchive(path) as zim:
            (action or read_everything)(zim)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(str(path) + ": "), message
    return message


def read_everything(zim: ZimArchive) -> None:
    for entry in zim.entries():
        if entry.kind == "content":
            zim.content(entry)
        elif entry.is_redirect:
            zim.resolve(entry)
    for index in zim.titles_in_order():
        zim.entry(index)
    zim.metadata()
    zim.main_entry()


def small_crafted(**options) -> ZimItem:
    return craft_zim(old_style_items(), CraftOptions(compression={0: "zstd", 1: "none"}, **options))


def test_truncated_file_is_refused_naming_the_file(tmp_path):
    data = small_crafted().data
    for size in (0, 10, 79, 80, 200, len(data) // 2, len(data) - 1):
        path = tmp_path / f"cut{size}.zim"
        path.write_bytes(data[:size])
        message = refused(path)
        assert "truncated" in message or "not a ZIM" in message, message


def test_wrong_magic_number_is_refused(tmp_path):
    data = bytearray(small_crafted().data)
    data[0:4] = b"PK\x03\x04"
    path = tmp_path / "zip.zim"
    path.write_bytes(bytes(data))
    assert "wrong magic number" in refused(path)


def test_unknown_major_version_is_refused(tmp_path):
    data = bytearray(small_crafted().data)
    data[4:6] = struct.pack("<H", 99)
    (tmp_path / "v.zim").write_bytes(bytes(data))
    assert "major version 99" in refused(tmp_path / "v.zim")


def patched(tmp_path: Path, name: str, data: bytes, at: int, value: bytes) -> Path:
    """The file with `value` written at byte `at` (the MD5 is then wrong, as an attacker's would be)."""
    changed = bytearray(data)
    changed[at : at + len(value)] = value
    path = tmp_path / name
    path.write_bytes(bytes(changed))
    return path


def test_pointers_past_the_end_are_refused(tmp_path):
    crafted = small_crafted()
    far = struct.pack("<Q", 2**40)
    cases = {
        "path list": 32,  # header: pathPtrPos
        "cluster list": 48,  # header: clusterPtrPos
        "title list": 40,
        "entry": crafted.path_ptr_pos,  # first directory entry pointer
        "cluster": crafted.cluster_ptr_pos,  # first cluster pointer
    }
    for name, at in cases.items():
        message = refused(patched(tmp_path, f"{name}.zim", crafted.data, at, far))
        assert "outside the file" in message or "past the end" in message, (name, message)


def test_counts_that_cannot_fit_the_file_are_refused_before_allocating(tmp_path):
    crafted = small_crafted()
    for at in (24, 28):  # entryCount, clusterCount
        path = patched(tmp_path, f"count{at}.zim", crafted.data, at, struct.pack("<I", 0xFFFFFFF0))
        tracemalloc.start()
        try:
            message = refused(path)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert "cannot fit" in message and peak < 1_000_000


def test_cluster_count_mismatch_is_refused(tmp_path):
    crafted = small_crafted()
    seoul = crafted.dirent_positions[crafted.index_of["A/Seoul"]]
    # The entry claims cluster 7 of a 2-cluster file; then blob 99 of a cluster with 2 blobs.
    message = refused(patched(tmp_path, "c.zim", crafted.data, seoul + 8, struct.pack("<I", 7)))
    assert "cluster 7" in message and "2 clusters" in message
    message = refused(patched(tmp_path, "b.zim", crafted.data, seoul + 12, struct.pack("<I", 99)))
    assert "blob 99" in message
    # The header claims one cluster more than the pointer list holds.
    message = refused(patched(tmp_path, "h.zim", crafted.data, 28, struct.pack("<I", 3)))
    assert "cluster" in message


def test_uncompressed_cluster_claiming_2_to_the_60_bytes_is_refused_without_allocating(tmp_path):
    crafted = small_crafted(extended=frozenset({1}))
    image_cluster = crafted.cluster_positions[1]
    for at, value in ((image_cluster + 1 + 8, 2**60), (image_cluster + 1, 2**60)):  # a blob end; the table size
        path = patched(tmp_path, f"huge{at}.zim", crafted.data, at, struct.pack("<Q", value))
        tracemalloc.start()
        try:
            message = refused(path)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert "cluster 1" in message and peak < 2_000_000, message


def test_compressed_cluster_claiming_2_to_the_60_bytes_is_refused_without_allocating(tmp_path):
    # A zstd frame whose header declares 2^60 bytes of content (frame content size field, 8 bytes).
    frame = bytearray(zstandard.ZstdCompressor(write_content_size=True).compress(b"\x08\x00\x00\x00\x08\x00\x00\x00" + b"x" * 300))
    descriptor = frame[4]
    assert descriptor >> 6 in (1, 2)  # the content size is stored; rewrite it as an 8-byte field
    single_segment = descriptor & 0x20
    size_bytes = {1: 2, 2: 4}[descriptor >> 6]
    rest = frame[5 + (0 if single_segment else 1) + size_bytes :]
    head = bytes([(descriptor & 0x3F) | 0xC0]) + (b"" if single_segment else bytes(frame[5:6]))
    bomb = bytes(frame[:4]) + head + struct.pack("<Q", 2**60) + bytes(rest)
    crafted = small_crafted()
    start = crafted.cluster_positions[0]
    end = crafted.cluster_positions[1]
    data = crafted.data[: start + 1] + bomb.ljust(end - start - 1, b"\0")[: end - start - 1] + crafted.data[end:]
    path = tmp_path / "bomb.zim"
    path.write_bytes(data)
    tracemalloc.start()
    try:
        message = refused(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "cluster 0" in message and peak < 20_000_000, message


def test_zstd_bomb_cluster_is_refused_at_the_allowance(tmp_path):
    # 40 MiB of zeros compress to a few KiB: a small file may not make the reader hold that much.
    compressor = zstandard.ZstdCompressor(level=1).compressobj()
    zeros = b"\0" * (1 << 20)
    table = struct.pack("<II", 8, 8 + 40 * (1 << 20))
    bomb = compressor.compress(table) + b"".join(compressor.compress(zeros) for _ in range(40)) + compressor.flush()
    crafted = small_crafted()
    start, end = crafted.cluster_positions[0], crafted.cluster_positions[1]
    data = crafted.data[: start + 1] + bomb + crafted.data[end:]
    shift = len(bomb) - (end - start - 1)
    # Later structures moved by `shift`: fix the second cluster pointer and the checksum position.
    fixed = bytearray(data)
    fixed[crafted.cluster_ptr_pos + 8 : crafted.cluster_ptr_pos + 16] = struct.pack("<Q", end + shift)
    (checksum_pos,) = struct.unpack_from("<Q", fixed, 72)
    fixed[72:80] = struct.pack("<Q", checksum_pos + shift)
    path = tmp_path / "bomb.zim"
    path.write_bytes(bytes(fixed))
    tracemalloc.start()
    try:
        message = refused(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "decompresses to more than 16 MiB" in message and peak < 40_000_000, message


def test_redirect_loop_is_reported_not_followed_forever(tmp_path):
    items = [ZimItem("A", "Real", b"<p>real</p>", title="Real"),
             ZimItem("A", "Loop1", redirect_to="A/Loop2", title="Loop1"),
             ZimItem("A", "Loop2", redirect_to="A/Loop1", title="Loop2")]
    path = craft_zim(items).write(tmp_path / "loop.zim")
    message = refused(path, lambda zim: zim.resolve(zim.entry_by_path("A/Loop1")))
    assert "redirect loop" in message
    with ZimArchive(path) as zim:
        assert zim.content(zim.entry_by_path("A/Real")) == b"<p>real</p>"


def test_redirect_to_nowhere_is_refused(tmp_path):
    crafted = craft_zim([ZimItem("A", "R", redirect_to="A/T", title="R"), ZimItem("A", "T", b"t", title="T")])
    at = crafted.dirent_positions[crafted.index_of["A/R"]] + 8
    message = refused(patched(tmp_path, "r.zim", crafted.data, at, struct.pack("<I", 5000)))
    assert "redirects to entry 5000" in message


def test_md5_mismatch_is_detected(tmp_path):
    crafted = small_crafted()
    good = crafted.write(tmp_path / "good.zim")
    with ZimArchive(good) as zim:
        seen = []
        zim.check_checksum(lambda done, total: seen.append((done, total)))
        assert seen[-1][0] == seen[-1][1] == len(crafted.data) - 16
    # One byte of the stylesheet changed: everything still reads, only the checksum tells.
    css = crafted.data.index(b"body{}")
    path = patched(tmp_path, "changed.zim", crafted.data, css, b"B")
    with ZimArchive(path) as zim:
        read_everything(zim)
    assert "MD5 checksum does not match" in refused(path, lambda zim: zim.check_checksum())


def test_obsolete_compression_is_named(tmp_path):
    crafted = small_crafted()
    path = patched(tmp_path, "zlib.zim", crafted.data, crafted.cluster_positions[0], b"\x02")
    assert "zlib compression" in refused(path)


def test_a_missing_file_is_one_line(tmp_path):
    with pytest.raises(InfopackError) as caught:
        ZimArchive(tmp_path / "absent.zim")
    assert str(caught.value).startswith(str(tmp_path / "absent.zim") + ": cannot open")
