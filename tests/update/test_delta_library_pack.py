"""library.pack in an update: rebuilt by `apply` from NEW's data files (a `derived` record,
docs/FORMAT.md 17.1), never carried a second time, and checked against NEW's signed manifest like
every file. Attacks: a forged payload list, a payload list naming files outside NEW's data files,
a tampered data file the pack derives from; and a NEW whose pack cannot be derived travels whole."""

from __future__ import annotations

import json
import lzma
import shutil
from pathlib import Path

import pytest

from infopack.build.library_pack import library_pack_parts, read_library_pack
from infopack.build.output import write_manifest
from infopack.format.library_pack import HEADER, LIBRARY_PACK_NAME, read_library_pack_index
from infopack.format.manifest import parse_manifest
from infopack.trust.sign import read_manifest_bytes, sign_bundle
from infopack.update import delta as delta_module
from infopack.update.apply import apply_delta
from infopack.update.delta import make_delta, read_header
from kit.content import run_infopack
from kit.releases import files_of, refused, rewrite


@pytest.fixture(scope="module")
def update(releases, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("delta-pack") / "update.delta"
    make_delta(releases.old, releases.new, out)
    return out


def _header(delta: Path):
    with open(delta, "rb") as handle:
        return read_header(handle)


def _pack_record(delta: Path):
    return next(r for r in _header(delta).records if r.path == LIBRARY_PACK_NAME)


def test_library_pack_changed_and_travels_as_a_small_derived_record(releases, update, tmp_path, monkeypatch):
    old_pack = (releases.old / LIBRARY_PACK_NAME).read_bytes()
    new_pack = (releases.new / LIBRARY_PACK_NAME).read_bytes()
    assert old_pack != new_pack  # the edit moved offsets: without derivation it would travel
    record = _pack_record(update)
    assert record.kind == "derived" and record.size == 0 and not record.xz
    # The record names NEW's payloads and nothing else: the pack's index, minus offsets and hashes.
    _start, entries = read_library_pack_index(new_pack)
    assert list(record.payloads) == [(e.name, e.length) for e in entries]
    # The same delta with derivation switched off: the pack then travels as a patch (its
    # changed payloads once more), and the derived delta is smaller by at least that patch.
    monkeypatch.setattr(delta_module, "_derivable_pack", lambda *args: None)
    carried = tmp_path / "carried.delta"
    make_delta(releases.old, releases.new, carried)
    patch_record = _pack_record(carried)
    assert patch_record.kind in ("patch", "data") and patch_record.size > 0
    record_json = len(json.dumps([[n, length] for n, length in record.payloads]))
    assert update.stat().st_size <= carried.stat().st_size - patch_record.size + record_json + 200
    # X: below the bytes of the changed files other than library.pack (the goal was 1.2x
    # of all changed files, library.pack included).
    old_files, new_files = files_of(releases.old), files_of(releases.new)
    changed_besides_pack = sum(len(d) for p, d in new_files.items()
                               if old_files.get(p) != d and p != LIBRARY_PACK_NAME and not p.startswith("signatures/"))
    assert update.stat().st_size < changed_besides_pack


def test_apply_rebuilds_library_pack_and_the_result_verifies(releases, update, bundle):
    result = apply_delta(update, bundle, [releases.key.public_key()])
    assert result.report.ok
    assert (bundle / LIBRARY_PACK_NAME).read_bytes() == (releases.new / LIBRARY_PACK_NAME).read_bytes()
    assert files_of(bundle) == files_of(releases.new)
    check = run_infopack("verify", str(bundle), "--trust", str(releases.pub), timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr


def test_build_and_apply_share_one_layout(releases):
    # build's writer is format/library_pack.py's: its parts, joined, are the pack build wrote.
    new_pack = (releases.new / LIBRARY_PACK_NAME).read_bytes()
    payloads = read_library_pack(new_pack)
    parts = library_pack_parts("library", 2, sorted(payloads.items()))
    assert b"".join(parts) == new_pack


def _derived_payloads_changed(change):
    def header_change(header):
        record = next(r for r in header["files"] if r["path"] == LIBRARY_PACK_NAME)
        assert record["kind"] == "derived"
        change(record)
    return header_change


def test_forged_payload_length_in_derived_record_is_refused(releases, update, bundle, tmp_path):
    def shorten(record):
        record["payloads"][0][1] -= 1  # one byte less of the first payload: another pack
    forged = rewrite(update, tmp_path / "f.delta", header_change=_derived_payloads_changed(shorten))
    assert "does not match NEW's signed manifest" in refused(forged, bundle, releases.pub)


def test_forged_payload_order_in_derived_record_is_refused(releases, update, bundle, tmp_path):
    forged = rewrite(update, tmp_path / "f.delta",
                     header_change=_derived_payloads_changed(lambda r: r["payloads"].reverse()))
    assert "does not match NEW's signed manifest" in refused(forged, bundle, releases.pub)


@pytest.mark.parametrize("name", ["../../../etc/passwd", "../manifest", "x" * 300])
def test_derived_record_reading_outside_new_data_files_is_refused(releases, update, bundle, tmp_path, name):
    def point_outside(record):
        record["payloads"][0][0] = name
    forged = rewrite(update, tmp_path / "o.delta", header_change=_derived_payloads_changed(point_outside))
    assert "not a data file of NEW" in refused(forged, bundle, releases.pub)


def test_derived_record_asking_for_more_bytes_than_the_pack_is_refused(releases, update, bundle, tmp_path):
    def inflate(record):
        record["payloads"][0][1] = 2**40  # a lying length must not make apply work for hours
    forged = rewrite(update, tmp_path / "i.delta", header_change=_derived_payloads_changed(inflate))
    assert "more bytes than NEW's manifest" in refused(forged, bundle, releases.pub)


def test_data_file_record_passed_off_as_derived_is_refused(releases, update, bundle, tmp_path):
    # A data file "derived" from itself would let apply read a file it is still checking.
    def derive_a_data_file(header):
        record = next(r for r in header["files"] if r["path"].startswith("data/") and r["kind"] == "data")
        name = record["path"][len("data/"):-len(".js")]
        record.clear()
        record.update(path="data/" + name + ".js", kind="derived", layout="library-pack/1", payloads=[[name, 4]])
    forged = rewrite(update, tmp_path / "d.delta", header_change=derive_a_data_file)
    assert "only files outside data/ may be derived" in refused(forged, bundle, releases.pub)


def test_tampered_data_file_the_pack_derives_from_is_refused(releases, update, bundle, tmp_path):
    names = {name for name, _length in _pack_record(update).payloads}

    def flip(header, body):
        record = next(r for r in header["files"]
                      if r["kind"] == "data" and r["path"].startswith("data/") and r["path"][5:-3] in names)
        start, end = record["offset"], record["offset"] + record["size"]
        data = lzma.decompress(bytes(body[start:end])) if record["xz"] else bytes(body[start:end])
        # A valid data file with one payload byte changed (the UTF-16 unit after the opening quote).
        at = data.index(b'"\x00,\x00"\x00') + 6
        altered = data[:at] + bytes([data[at] ^ 1]) + data[at + 1 :]
        packed = lzma.compress(altered, format=lzma.FORMAT_XZ) if record["xz"] else altered
        body[start:end] = packed
        shift = len(packed) - record["size"]
        record["size"] = len(packed)
        for other in header["files"]:
            if other.get("offset", -1) > start:
                other["offset"] += shift

    message = refused(rewrite(update, tmp_path / "t.delta", body_change=flip), bundle, releases.pub)
    assert "does not match NEW's signed manifest" in message


def _hand_altered_release(releases, out: Path) -> Path:
    """NEW with a library.pack rewritten by hand (the same payloads, its index with spaces),
    re-listed and re-signed: a valid release whose pack `apply` could not derive."""
    shutil.copytree(releases.new, out)
    pack = (out / LIBRARY_PACK_NAME).read_bytes()
    start, _entries = read_library_pack_index(pack)
    index = json.loads(pack[HEADER.size : start])
    spaced = json.dumps(index).encode()
    (out / LIBRARY_PACK_NAME).write_bytes(HEADER.pack(b"infopack", 1, len(spaced)) + spaced + pack[start:])
    info = parse_manifest(read_manifest_bytes(releases.new)).bundle
    shutil.rmtree(out / "signatures")
    write_manifest(out, info)
    sign_bundle(out, releases.key)
    return out


def test_pack_that_cannot_be_derived_travels_as_bytes_and_applies(releases, bundle, tmp_path):
    altered = _hand_altered_release(releases, tmp_path / "altered")
    assert read_library_pack((altered / LIBRARY_PACK_NAME).read_bytes())  # still a valid pack
    out = tmp_path / "altered.delta"
    summary = make_delta(releases.old, altered, out)
    record = _pack_record(out)
    assert record.kind in ("patch", "data") and record.size > 0 and summary.derived == 0
    result = apply_delta(out, bundle, [releases.key.public_key()])
    assert result.report.ok
    assert files_of(bundle) == files_of(altered)
