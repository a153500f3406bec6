"""The bundle writer: format, determinism, atomic writes, and that it never touches the source."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import zstandard

from infopack.build.assemble import build_bundle
from infopack.errors import InfopackError
from kit.content import REPO, article, copy_example_content, tree_digest, write_content


def read_root(bundle: Path) -> dict:
    html = (bundle / "index.html").read_text(encoding="utf-8")
    match = re.search(r'<script id="infopack-root" type="application/json">(.*?)</script>', html, re.S)
    assert match, "root document missing"
    return json.loads(match.group(1))


def payload(bundle: Path, name: str) -> bytes:
    """Read a data file exactly as docs/FORMAT.md section 2 states it, without infopack's code."""
    raw = (bundle / "data" / f"{name}.js").read_bytes()
    assert raw[:2] == b"\xff\xfe"
    text = raw[2:].decode("utf-16-le")
    prefix = f'infopackData("{name}","'
    assert text.startswith(prefix) and text.endswith('");\n')
    literal = text[len(prefix) : -4]
    units = re.sub(r"\\u([0-9a-f]{4})", lambda m: chr(int(m.group(1), 16)), literal)
    length = read_root(bundle)["files"][name][0]
    return units.encode("utf-16-le", errors="surrogatepass")[:length]


def all_files(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*")) if p.is_file()
    }  # fmt: skip


@pytest.fixture(scope="module")
def example_bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("b") / "bundle"
    build_bundle(REPO / "content", out)
    return out


def test_two_builds_are_byte_identical_including_file_times(tmp_path, example_bundle):
    again = tmp_path / "again"
    build_bundle(REPO / "content", again)
    assert all_files(again) == all_files(example_bundle)
    dirs = {p.relative_to(again).as_posix(): p.stat().st_mtime_ns for p in again.rglob("*") if p.is_dir()}
    assert len(set(dirs.values())) == 1


def test_file_times_come_from_the_content_not_the_clock(example_bundle):
    root = read_root(example_bundle)
    created = root["bundle"]["created"]
    stamp = (example_bundle / "index.html").stat().st_mtime
    assert time.strftime("%Y-%m-%d", time.gmtime(stamp)) == created


def test_manifest_lists_every_file_with_size_and_sha256(example_bundle):
    manifest = json.loads((example_bundle / "manifest.json").read_bytes())
    assert manifest["format"] == "infopack/1"
    listed = {entry["path"]: entry for entry in manifest["files"]}
    on_disk = {p.relative_to(example_bundle).as_posix() for p in example_bundle.rglob("*") if p.is_file()}
    assert set(listed) == on_disk - {"manifest.json"}
    for path, entry in listed.items():
        data = (example_bundle / path).read_bytes()
        assert entry["size"] == len(data)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
    sums = (example_bundle / "SHA256SUMS").read_text()
    assert sums.count("\n") == len(listed) - 1


def test_every_payload_matches_its_recorded_hash(example_bundle):
    root = read_root(example_bundle)
    data_files = {p.relative_to(example_bundle / "data").as_posix()[:-3] for p in (example_bundle / "data").rglob("*.js")}
    assert data_files == set(root["files"])
    for name, (size, digest) in root["files"].items():
        data = payload(example_bundle, name)
        assert (len(data), hashlib.sha256(data).hexdigest()) == (size, digest)


def test_article_frames_decode_with_reference_zstd(example_bundle):
    root = read_root(example_bundle)
    dict_data = zstandard.ZstdCompressionDict(payload(example_bundle, "dict")) if "dict" in root["files"] else None
    decoder = zstandard.ZstdDecompressor(dict_data=dict_data) if dict_data else zstandard.ZstdDecompressor()
    catalog = json.loads(zstandard.ZstdDecompressor().decompress(payload(example_bundle, "cat/0000")))
    assert len(catalog) == root["articles"]
    dates = [row[2] for row in catalog]
    assert dates == sorted(dates, reverse=True)
    for slug, _title, _date, _lang, _summary, _tags, pack, offset, length, _media, digest in catalog:
        frame = payload(example_bundle, f"text/{pack:04d}")[offset : offset + length]
        assert digest == hashlib.sha256(frame).hexdigest()[:16]  # the per-article check (FORMAT.md 4)
        html = decoder.decompress(frame).decode("utf-8")
        assert "<script" not in html and len(html) > 50, slug


def test_refuses_to_overwrite_without_force_and_replaces_with_force(tmp_path):
    content = write_content(tmp_path / "c", {"a.md": article(title="First")})
    out = tmp_path / "out"
    build_bundle(content, out)
    with pytest.raises(InfopackError, match="already exists; use --force"):
        build_bundle(content, out)
    (content / "articles" / "a.md").write_text(article(title="Second"))
    build_bundle(content, out, force=True)
    assert "Second" in zstandard.ZstdDecompressor().decompress(payload(out, "cat/0000")).decode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c", "out"]


def test_force_never_replaces_a_folder_that_is_not_a_bundle(tmp_path):
    content = write_content(tmp_path / "c", {"a.md": article()})
    precious = tmp_path / "documents"
    precious.mkdir()
    (precious / "letter.txt").write_text("keep me")
    with pytest.raises(InfopackError, match="not a bundle"):
        build_bundle(content, precious, force=True)
    assert (precious / "letter.txt").read_text() == "keep me"


def test_failed_build_leaves_nothing_bundle_shaped(tmp_path):
    (tmp_path / "c" / "media").mkdir(parents=True)
    (tmp_path / "c" / "media" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    content = write_content(tmp_path / "c", {"a.md": article(body="![x](../media/broken.jpg)")})
    before = tree_digest(content)
    with pytest.raises(InfopackError):
        build_bundle(content, tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c"]
    assert tree_digest(content) == before


def test_killed_build_leaves_nothing_that_looks_like_a_bundle(tmp_path):
    sys.path.insert(0, str(REPO / "bench"))
    from gen_corpus import write_content_folder

    content = write_content_folder(1500, tmp_path / "c")
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "infopack.commands", "build", str(content), "--out", str(out), "--quiet"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.time() + 60
    while time.time() < deadline and not any(p.name.startswith(".out.partial-") for p in tmp_path.iterdir()):
        time.sleep(0.02)
    time.sleep(0.3)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert not out.exists()
    for leftover in tmp_path.iterdir():
        if leftover.name != "c":
            assert leftover.name.startswith("."), leftover  # hidden, and not named like the bundle
            assert not (leftover / "manifest.json").exists()


def test_bundle_holds_no_build_machine_traces(tmp_path):
    content = copy_example_content(tmp_path / "private-folder-of-staff")
    out = tmp_path / "out"
    build_bundle(content, out)
    needles = [str(tmp_path).encode(), b"private-folder-of-staff", b"/root", b"/home/"]
    if len(os.uname().nodename) >= 6:  # a short host name like "vm" occurs in base64 by chance
        needles.append(os.uname().nodename.encode())
    for path in out.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for needle in needles:
                assert needle not in data, (path, needle)


def all_payload_text(bundle: Path) -> str:
    """Every payload decoded and decompressed (text frames with the dictionary): what a reader could see."""
    root = read_root(bundle)
    dict_data = zstandard.ZstdCompressionDict(payload(bundle, "dict")) if "dict" in root["files"] else None
    plain = zstandard.ZstdDecompressor()
    with_dict = zstandard.ZstdDecompressor(dict_data=dict_data) if dict_data else plain
    texts = []
    for name in root["files"]:
        data = payload(bundle, name)
        if name.startswith("text/"):
            catalog = json.loads(plain.decompress(payload(bundle, "cat/0000")))
            texts += [with_dict.decompress(data[o : o + n]).decode() for _s, _t, _d, _l, _m, _g, p, o, n, _x, _c in catalog if f"text/{p:04d}" == name]
        elif name != "dict":
            texts.append(plain.decompress(data).decode("utf-8", "replace"))
    return "\n".join(texts) + (bundle / "index.html").read_text() + (bundle / "manifest.json").read_text()


def test_authors_and_sources_stay_off_the_card_unless_settings_allow(tmp_path):
    body = article(authors="[Kim Chol-su]", source="https://witness.example/kim")
    content = write_content(tmp_path / "c", {"a.md": body})
    build_bundle(content, tmp_path / "private")
    published = all_payload_text(tmp_path / "private")
    assert "Kim Chol-su" not in published and "witness.example" not in published
    (content / "infopack.toml").write_text(
        'title = "Test"\nlang = "en"\nsequence = 1\nid = "test"\npublish_authors = true\npublish_sources = true\n'
    )
    build_bundle(content, tmp_path / "credited")
    published = all_payload_text(tmp_path / "credited")
    assert "Kim Chol-su" in published and "https://witness.example/kim" in published
