"""library.pack (docs/FORMAT.md section 8a), phone.html's two forms, --no-phone, per-article checks
and media fingerprints, read back byte by byte the way an independent reader would."""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

import pytest
import zstandard

from infopack.build.assemble import build_bundle
from infopack.build.library_pack import read_library_pack
from infopack.format.manifest import parse_manifest
from kit.content import EXAMPLE_CONTENT, run_infopack
from kit.damage import payload, root_document


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    return build_bundle(EXAMPLE_CONTENT, tmp_path_factory.mktemp("lp") / "bundle").bundle_dir


def test_library_pack_holds_every_payload_as_format_section_8a_states(bundle):
    data = (bundle / "library.pack").read_bytes()
    assert data[:8] == b"infopack"
    version, index_length = struct.unpack_from("<II", data, 8)
    assert version == 1
    index = json.loads(data[16 : 16 + index_length].decode("utf-8"))
    root = root_document(bundle)
    assert list(index) == ["format", "bundle", "sequence", "payloads"]
    assert (index["format"], index["bundle"], index["sequence"]) == ("infopack/1", root["bundle"]["id"], root["bundle"]["sequence"])
    names = [entry[0] for entry in index["payloads"]]
    assert names == sorted(root["files"], key=lambda n: n.encode("utf-8"))
    position = 16 + index_length
    for name, offset, length, digest in index["payloads"]:
        assert 16 + index_length + offset == position  # contiguous, no padding
        assert data[position : position + length] == payload(bundle, name)  # the same bytes as data/<name>.js
        assert [length, digest] == root["files"][name]
        position += length
    assert position == len(data)  # nothing after the last payload
    assert read_library_pack(data).keys() == set(root["files"])


def test_library_pack_is_in_the_manifest_like_every_file(bundle):
    manifest = parse_manifest((bundle / "manifest.json").read_bytes())
    entry = next(f for f in manifest.files if f.path == "library.pack")
    assert entry.sha256 == hashlib.sha256((bundle / "library.pack").read_bytes()).hexdigest()
    assert "  library.pack\n" in (bundle / "SHA256SUMS").read_text()


def test_swapped_byte_in_library_pack_is_refused_by_the_reference_reader(bundle):
    data = bytearray((bundle / "library.pack").read_bytes())
    data[-10] ^= 0x01
    with pytest.raises(ValueError, match="damaged"):
        read_library_pack(bytes(data))


def test_small_library_keeps_inline_phone_html(bundle):
    html = (bundle / "phone.html").read_text(encoding="utf-8")
    assert 'data-payload="cat/0000"' in html and '"needs_pack"' not in html
    assert root_document(bundle, "phone.html")["library_pack"] == root_document(bundle)["library_pack"] == "library.pack"


def test_big_library_gets_phone_html_that_asks_for_library_pack(tmp_path):
    result = build_bundle(EXAMPLE_CONTENT, tmp_path / "big", one_file_limit=1000)
    assert result.phone_picks_pack and result.library_pack == tmp_path / "big" / "library.pack"
    root = root_document(tmp_path / "big", "phone.html")
    assert root["needs_pack"] is True and root["library_pack"] == "library.pack" and root["one_file"] is True
    html = (tmp_path / "big" / "phone.html").read_text(encoding="utf-8")
    assert "<script type=\"text/plain\" data-payload=" not in html and len(html) < 400_000  # the viewer alone


def test_no_phone_leaves_out_phone_html_and_library_pack_and_summary_says_which_file(tmp_path):
    plain = run_infopack("build", str(EXAMPLE_CONTENT), "--out", str(tmp_path / "computer"), "--no-phone", "--quiet", timeout=120)
    assert plain.returncode == 0, plain.stderr
    assert not (tmp_path / "computer" / "phone.html").exists() and not (tmp_path / "computer" / "library.pack").exists()
    assert "library_pack" not in root_document(tmp_path / "computer")  # no second copy to offer
    assert "phone readers: none" in plain.stdout
    default = run_infopack("build", str(EXAMPLE_CONTENT), "--out", str(tmp_path / "card"), "--quiet", timeout=120)
    assert f"open on a phone (one file): {(tmp_path / 'card' / 'phone.html').resolve()}" in default.stdout


def test_catalog_check_is_the_frame_sha256_prefix_and_media_fingerprints_match_files(bundle):
    root = root_document(bundle)
    rows = json.loads(zstandard.ZstdDecompressor().decompress(payload(bundle, "cat/0000")))
    for row in rows:
        frame = payload(bundle, f"text/{row[6]:04d}")[row[7] : row[7] + row[8]]
        assert row[10] == hashlib.sha256(frame).hexdigest()[:16]
    media = json.loads(zstandard.ZstdDecompressor().decompress(payload(bundle, "media")))
    files = sorted((bundle / "media").iterdir(), key=lambda p: p.name.encode("utf-8"))
    assert media == [[f"media/{p.name}", p.stat().st_size, hashlib.sha256(p.read_bytes()).hexdigest()] for p in files]
    assert "media" in root["files"]
