"""`infopack export --zim`: a built and signed bundle becomes a ZIM that Debian's zimcheck passes,
python-libzim (the reference reader) reads, and Debian's kiwix-serve serves."""

from __future__ import annotations

import json
import re
import shutil
import struct
import time
import urllib.parse
import zlib
from pathlib import Path

import pytest

from infopack.export.zim import export_zim
from infopack.format.read import BundleReader
from kit.content import bundle_article_html, run_infopack
from kit.zim_export import EXTRA_ARTICLES, dirents, fetch, kiwix_serve, signed_bundle, uncompressed_blob, zimcheck

libzim_reader = pytest.importorskip("libzim.reader")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return signed_bundle(tmp_path_factory.mktemp("zim"))


@pytest.fixture(scope="module")
def exported(bundle, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("out") / "library.zim"
    result = run_infopack("export", str(bundle.path), "--zim", str(out), "--trust", str(bundle.public_file), timeout=120)
    assert result.returncode == 0, result.stderr
    assert f"wrote: {out}" in result.stdout
    return out


def header(path: Path) -> dict[str, int]:
    fields = struct.unpack("<IHH16sIIQQQQIIQ", path.read_bytes()[:80])
    names = ("magic", "major", "minor", "uuid", "entries", "clusters", "path_ptr", "title_ptr", "cluster_ptr",
             "mime_list", "main_page", "layout_page", "checksum")
    return dict(zip(names, fields, strict=True))


def text_of(html: str) -> str:
    """Visible words of an HTML page or fragment, with entities decoded, for comparisons."""
    import html as html_module

    return " ".join(html_module.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_debian_zimcheck_passes_every_check(exported):
    result = zimcheck(exported)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Overall Test Status: Pass" in result.stdout
    assert "[ERROR]" not in result.stdout


def test_libzim_reads_every_article_title_and_text_and_media_bytes(bundle, exported):
    archive = libzim_reader.Archive(str(exported))
    assert archive.check()  # libzim's own full check, MD5 included
    reader = BundleReader(bundle.path)
    expected_html = bundle_article_html(bundle.path)  # decoded independently of format/read.py
    catalog = list(reader.catalog())
    assert len(catalog) == 9 + len(EXTRA_ARTICLES)
    for entry in catalog:
        zim_entry = archive.get_entry_by_path(entry.slug)
        assert zim_entry.title == entry.title
        page = bytes(zim_entry.get_item().content).decode("utf-8")
        assert zim_entry.get_item().mimetype == "text/html"
        assert text_of(expected_html[entry.slug]) in text_of(page)
        assert f"<title>{entry.title.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')}</title>" in page
    media = sorted(p.relative_to(bundle.path).as_posix() for p in (bundle.path / "media").iterdir())
    assert media
    for path in media:
        assert bytes(archive.get_entry_by_path(path).get_item().content) == (bundle.path / path).read_bytes()


def test_main_page_lists_every_article_and_is_what_kiwix_opens(bundle, exported):
    archive = libzim_reader.Archive(str(exported))
    main = archive.main_entry
    assert main.is_redirect and main.path == "mainPage"
    page = bytes(main.get_item().content).decode("utf-8")
    for entry in BundleReader(bundle.path).catalog():
        assert f'href="{urllib.parse.quote(entry.slug, safe="")}"' in page


def test_metadata_kiwix_requires_within_its_limits(exported):
    archive = libzim_reader.Archive(str(exported))
    meta = {key: archive.get_metadata(key) for key in archive.metadata_keys}
    for key in ("Name", "Title", "Language", "Creator", "Publisher", "Date", "Description", "Illustration_48x48@1"):
        assert meta.get(key), key
    assert len(meta["Title"].decode()) <= 30
    assert len(meta["Description"].decode()) <= 80
    assert re.fullmatch(r"[a-z]{3}(,[a-z]{3})*", meta["Language"].decode())
    assert meta["Language"].decode().split(",")[0] == "kor"  # the bundle's language first
    assert "eng" in meta["Language"].decode()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", meta["Date"].decode())
    png = meta["Illustration_48x48@1"]
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and struct.unpack(">II", png[16:24]) == (48, 48)
    raw = zlib.decompress(png[png.index(b"IDAT") + 4 : png.index(b"IEND") - 8])
    assert len(raw) == 48 * (1 + 48 * 3)


def test_both_title_listings_are_written(exported):
    fields = header(exported)
    assert (fields["major"], fields["minor"]) == (6, 1)
    assert fields["checksum"] + 16 == exported.stat().st_size
    entries = dirents(exported)
    assert [(e.namespace + e.path).encode() for e in entries] == sorted((e.namespace + e.path).encode() for e in entries)
    # The old title pointer list, which Debian 12's zimcheck needs: every entry by namespace + title.
    assert fields["title_ptr"] != 2**64 - 1
    data = exported.read_bytes()
    by_title = struct.unpack_from(f"<{len(entries)}I", data, fields["title_ptr"])
    keys = [(entries[i].namespace + entries[i].title).encode() for i in by_title]
    assert sorted(by_title) == list(range(len(entries))) and keys == sorted(keys)
    # X/listing/titleOrdered/v1: the articles (front articles) by title, for current readers.
    listing = next(e for e in entries if (e.namespace, e.path) == ("X", "listing/titleOrdered/v1"))
    blob = uncompressed_blob(exported, listing.cluster, listing.blob)
    front = struct.unpack(f"<{len(blob) // 4}I", blob)
    articles = {e.index for e in entries if e.namespace == "C" and e.mime != 0xFFFF and "/" not in e.path and e.path != "_main"}
    assert set(front) == articles
    assert [entries[i].title.encode() for i in front] == sorted(entries[i].title.encode() for i in front)


def test_links_between_articles_are_zim_relative(exported):
    archive = libzim_reader.Archive(str(exported))
    page = bytes(archive.get_entry_by_path("tiny-en").get_item().content).decode("utf-8")
    assert f'<a href="{urllib.parse.quote("한국어-문서", safe="")}">both ways</a>' in page
    korean = bytes(archive.get_entry_by_path("한국어-문서").get_item().content).decode("utf-8")
    assert '<a href="water-cycle">' in korean and '<a href="welcome">' in korean
    assert "#/a/" not in korean
    welcome = bytes(archive.get_entry_by_path("welcome").get_item().content).decode("utf-8")
    assert 'src="media/welcome-1.png"' in welcome and 'poster="media/welcome-3-poster.jpg"' in welcome


def test_kiwix_serve_answers_main_page_article_media_and_title_suggestions(bundle, exported):
    # Debian 12's kiwix-serve (kiwix-tools 3.3.0, libkiwix 11) serves a book at /<file name>/<path>;
    # /suggest?content=<book>&term=<prefix> answers JSON from the title listing (no Xapian index).
    book = exported.stem
    with kiwix_serve(exported) as base:
        status, kind, body = fetch(f"{base}/{book}/")
        assert status == 200 and "text/html" in kind
        assert "Reading a map&#x27;s scale" in body.decode() or "Reading a map's scale" in body.decode()

        status, kind, body = fetch(f"{base}/{book}/" + urllib.parse.quote("한국어-문서"))
        assert status == 200 and "한국어 문서 &lt;견본&gt; &amp; 시험" in body.decode()

        status, kind, body = fetch(f"{base}/{book}/media/welcome-1.png")
        assert status == 200 and kind.startswith("image/png")
        assert body == (bundle.path / "media" / "welcome-1.png").read_bytes()

        status, kind, body = fetch(f"{base}/suggest?content={book}&term=" + urllib.parse.quote("How"))
        assert status == 200 and "json" in kind
        paths = {item.get("path") for item in json.loads(body)}
        assert {"how-vaccines-work", "reading-safely-en", "verify-card-en"} <= paths

        status, kind, body = fetch(f"{base}/suggest?content={book}&term=" + urllib.parse.quote("한국어"))
        assert "한국어-문서" in {item.get("path") for item in json.loads(body)}

        status, _, _ = fetch(f"{base}/{book}/no-such-article")
        assert status == 404


def test_two_exports_of_one_bundle_are_byte_identical_wherever_they_run(bundle, exported, tmp_path):
    # Nothing of the machine gets in: no clock, no folder name (a staff member's user name).
    elsewhere = tmp_path / "another-user" / "bundle"
    shutil.copytree(bundle.path, elsewhere)
    again = tmp_path / "again.zim"
    export_zim(elsewhere, again, [bundle.public])
    assert again.read_bytes() == exported.read_bytes()
    assert b"another-user" not in again.read_bytes() and str(tmp_path).encode() not in again.read_bytes()
    created = BundleReader(bundle.path).root["bundle"]["created"]
    assert time.strftime("%Y-%m-%d", time.gmtime(again.stat().st_mtime)) == created


def test_split_parts_join_to_the_unsplit_file_and_zimcheck_accepts_the_set(bundle, exported, tmp_path):
    out = tmp_path / "split.zim"
    result = run_infopack("export", str(bundle.path), "--zim", str(out), "--trust", str(bundle.public_file),
                          "--split", "--split-size", "40000", "--quiet", timeout=120)
    assert result.returncode == 0, result.stderr
    parts = sorted(tmp_path.glob("split.zima?"))
    assert [p.name for p in parts][:2] == ["split.zimaa", "split.zimab"]
    assert not out.exists()
    assert all(p.stat().st_size == 40000 for p in parts[:-1]) and 0 < parts[-1].stat().st_size <= 40000
    assert b"".join(p.read_bytes() for p in parts) == exported.read_bytes()
    check = zimcheck(out)  # libzim opens the set through OUT.zim when OUT.zimaa is there
    assert check.returncode == 0 and "Overall Test Status: Pass" in check.stdout, check.stdout


def test_split_leaves_a_small_export_whole(bundle, tmp_path):
    out = tmp_path / "whole.zim"
    result = export_zim(bundle.path, out, [bundle.public], split_size=4 * 1024**3 - 1024**2)
    assert result.paths == [out] and out.exists()
    assert not list(tmp_path.glob("whole.zima?"))
