"""format/read.py: our bundles read back as docs/FORMAT.md states them, checked as it requires."""

from __future__ import annotations

import re
import shutil

import pytest

from infopack.errors import InfopackError
from infopack.format.manifest import parse_manifest
from infopack.format.read import BundleReader, decode_data_file
from kit.content import bundle_article_html, copy_with_flipped_bit
from kit.zim_export import EXTRA_ARTICLES, signed_bundle


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return signed_bundle(tmp_path_factory.mktemp("reader"))


def test_every_article_reads_back_as_an_independent_decoder_reads_it(bundle):
    expected = bundle_article_html(bundle.path)
    found = {article.entry.slug: article.html for article in BundleReader(bundle.path).articles()}
    assert found == expected
    assert len(found) == 9 + len(EXTRA_ARTICLES)


def test_catalog_is_in_library_order_with_its_fields(bundle):
    entries = list(BundleReader(bundle.path).catalog())
    assert [e.number for e in entries] == list(range(len(entries)))
    dates = [e.date for e in entries]
    assert dates == sorted(dates, reverse=True)  # newest first
    welcome = next(e for e in entries if e.slug == "welcome")
    assert welcome.media == ("media/welcome-1.png", "media/welcome-2.mp3", "media/welcome-3.mp4")
    assert next(e for e in entries if e.slug == "한국어-문서").title == "한국어 문서 <견본> & 시험"


def test_media_reads_back_byte_for_byte_with_the_manifest(bundle):
    manifest = parse_manifest((bundle.path / "manifest.json").read_bytes())
    reader = BundleReader(bundle.path, manifest)
    paths = reader.media_paths()
    assert "media/welcome-3-poster.jpg" in paths  # from the manifest, not only the catalog
    for path in paths:
        assert b"".join(reader.media_chunks(path)) == (bundle.path / path).read_bytes()
        assert reader.media_size(path) == (bundle.path / path).stat().st_size


def test_damaged_text_pack_is_refused_not_decoded(bundle, tmp_path):
    damaged = copy_with_flipped_bit(bundle.path, tmp_path)
    with pytest.raises(InfopackError) as caught:
        list(BundleReader(damaged).articles())
    assert "data/text/0000.js" in str(caught.value) and "\n" not in str(caught.value)


def test_file_not_in_the_verified_manifest_is_refused(bundle, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(bundle.path, copy)
    manifest = parse_manifest((copy / "manifest.json").read_bytes())
    (copy / "media" / "planted.png").write_bytes(b"\x89PNG")
    reader = BundleReader(copy, manifest)
    with pytest.raises(InfopackError, match="not listed in the verified manifest"):
        list(reader.media_chunks("media/planted.png"))


def test_root_document_claiming_more_articles_than_the_catalog_is_refused(bundle, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(bundle.path, copy)
    page = (copy / "index.html").read_text(encoding="utf-8")
    page = re.sub(r'"articles":\s*(\d+)', lambda m: f'"articles": {int(m.group(1)) + 1}', page, count=1)
    (copy / "index.html").write_text(page, encoding="utf-8")
    with pytest.raises(InfopackError, match="catalog shard must hold"):
        list(BundleReader(copy).catalog())


def test_data_file_with_a_wrong_length_is_refused():
    raw = "\ufeffinfopackData(\"cat/0000\",\"AB\");\n".encode("utf-16-le")
    assert decode_data_file(raw, 4, "x")[1] == "AB".encode("utf-16-le")
    with pytest.raises(InfopackError, match="the root document says 9"):
        decode_data_file(raw, 9, "x")
    with pytest.raises(InfopackError, match="byte order mark"):
        decode_data_file(raw[2:], 4, "x")
