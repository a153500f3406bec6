"""`infopack apply`: every refusal is one line, exit 1, and leaves the partner's bundle exactly as it
was (files, bytes and times); what is accepted becomes NEW byte for byte and verifies."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infopack.trust.keys import generate_secret_key
from infopack.trust.sign import sign_bundle
from infopack.update.apply import apply_delta, staging_for
from infopack.update.delta import DeltaError, Record, make_delta, read_header
from kit.content import run_infopack
from kit.releases import build, files_of, refused, rewrite, set_sequence


@pytest.fixture(scope="session")
def update(releases, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("delta") / "update.delta"
    make_delta(releases.old, releases.new, out)
    return out




def test_an_update_turns_old_into_new_byte_for_byte(releases, update, bundle, tmp_path):
    state = tmp_path / "state.json"
    result = run_infopack("apply", str(update), str(bundle), "--trust", str(releases.pub), "--state", str(state), timeout=60)
    assert result.returncode == 0, result.stderr
    assert files_of(bundle) == files_of(releases.new)
    times = lambda root: {p.relative_to(root): int(p.stat().st_mtime) for p in root.rglob("*")}  # noqa: E731
    assert times(bundle) == times(releases.new)  # section 6.2: NEW's date, kept files too
    assert json.loads(state.read_text())["highest_sequence"] == {"library": 2}
    assert not staging_for(bundle).exists()
    again = run_infopack("verify", str(bundle), "--trust", str(releases.pub), timeout=60)
    assert again.returncode == 0, again.stdout


def test_the_update_is_small_and_made_the_same_way_twice(releases, update, tmp_path):
    second = tmp_path / "again.delta"
    make_delta(releases.old, releases.new, second)
    assert second.read_bytes() == update.read_bytes()
    changed = sum(len(data) for path, data in files_of(releases.new).items()
                  if files_of(releases.old).get(path) != data)
    assert update.stat().st_size < 1.2 * changed


def test_tampered_carried_file_is_refused(releases, update, bundle, tmp_path):
    def flip(header, body):
        record = next(r for r in header["files"] if r["kind"] == "data" and r["path"].startswith("data/text/"))
        body[record["offset"] + record["size"] // 2] ^= 1

    message = refused(rewrite(update, tmp_path / "bad.delta", body_change=flip), bundle, releases.pub)
    assert "does not match NEW's signed manifest" in message or "xz record is damaged" in message


def test_carried_file_swapped_for_other_well_formed_bytes_is_refused(releases, update, bundle, tmp_path):
    # Not a damaged stream but a valid one (xz check and all) holding other bytes: only the
    # signed manifest's hash can tell.
    import lzma

    def swap(header, body):
        record = next(r for r in header["files"] if r["kind"] == "data" and r["xz"])
        start, end = record["offset"], record["offset"] + record["size"]
        original = lzma.decompress(bytes(body[start:end]))
        forged = lzma.compress(original.replace(b"i", b"I", 1), format=lzma.FORMAT_XZ)
        body[start:end] = forged
        shift = len(forged) - record["size"]
        record["size"] = len(forged)
        for other in header["files"]:
            if other.get("offset", -1) > start:
                other["offset"] += shift

    message = refused(rewrite(update, tmp_path / "forged.delta", body_change=swap), bundle, releases.pub)
    assert "does not match NEW's signed manifest" in message


def test_xz_bomb_in_a_record_is_refused_without_unpacking_it(releases, update, bundle, tmp_path):
    import lzma

    bomb = lzma.compress(bytes(512 * 1024 * 1024), format=lzma.FORMAT_XZ)  # 512 MiB of zeros, ~75 KB

    def plant(header, body):
        record = next(r for r in header["files"] if r["kind"] == "data" and r["path"].startswith("data/"))
        record.update(offset=len(body), size=len(bomb), xz=True)
        body.extend(bomb)

    assert "unpacks to more" in refused(rewrite(update, tmp_path / "bomb.delta", body_change=plant), bundle, releases.pub)


def test_tampered_patch_is_refused(releases, update, bundle, tmp_path):
    def flip(header, body):
        record = next(r for r in header["files"] if r["kind"] == "patch")
        body[record["offset"] + record["size"] - 1] ^= 1

    refused(rewrite(update, tmp_path / "bad.delta", body_change=flip), bundle, releases.pub)


def test_tampered_manifest_inside_the_update_is_refused(releases, update, bundle, tmp_path):
    def flip(header, body):
        start = header["manifest"]["offset"]
        text = bytes(body[start : start + header["manifest"]["size"]])
        body[start : start + len(text)] = text.replace(b'"size": 1', b'"size": 2', 1)

    message = refused(rewrite(update, tmp_path / "bad.delta", body_change=flip), bundle, releases.pub)
    assert "signature" in message


def test_tampered_removed_list_is_refused(releases, update, bundle, tmp_path):
    # Removing a file NEW still lists would break the card; keeping one NEW dropped would leave junk.
    more = rewrite(update, tmp_path / "more.delta", header_change=lambda h: h["removed"].append("media/img-0.png"))
    assert "removed files does not match" in refused(more, bundle, releases.pub)
    fewer = rewrite(update, tmp_path / "fewer.delta", header_change=lambda h: h["removed"].append("index.html"))
    refused(fewer, bundle, releases.pub)


def test_a_dropped_record_is_refused(releases, update, bundle, tmp_path):
    dropped = rewrite(update, tmp_path / "d.delta", header_change=lambda h: h["files"].pop())
    assert "does not carry" in refused(dropped, bundle, releases.pub)


def test_an_extra_record_for_an_unlisted_file_is_refused(releases, update, bundle, tmp_path):
    def extra(header):
        header["files"].append({"path": "autorun.inf", "kind": "data", "offset": 0, "size": 10, "xz": False})

    assert "does not list" in refused(rewrite(update, tmp_path / "x.delta", header_change=extra), bundle, releases.pub)


def test_a_copy_from_the_wrong_file_is_refused(releases, update, bundle, tmp_path):
    def wrong(header):
        record = next(r for r in header["files"] if r["kind"] == "data" and r["path"].startswith("data/text/"))
        header["files"][header["files"].index(record)] = {"path": record["path"], "kind": "copy", "from": "index.html"}

    assert "does not hold its bytes" in refused(rewrite(update, tmp_path / "c.delta", header_change=wrong), bundle, releases.pub)


def test_delta_for_another_base_is_refused(releases, update, bundle, tmp_path):
    other = rewrite(update, tmp_path / "o.delta", header_change=lambda h: h["base"].update(manifest_sha256="0" * 64))
    assert "for another release" in refused(other, bundle, releases.pub)


def test_delta_applied_twice_is_refused_the_second_time(releases, update, bundle):
    assert apply_delta(update, bundle, [releases.key.public_key()]).report.ok
    refused(update, bundle, releases.pub)


def test_base_bundle_modified_is_refused(releases, update, bundle):
    kept = bundle / "media" / "a00010-1.png"  # a file the update keeps, so only a full check sees it
    assert kept.exists()
    data = bytearray(kept.read_bytes())
    data[-1] ^= 1
    kept.write_bytes(bytes(data))
    assert "not exactly the release" in refused(update, bundle, releases.pub)


def test_extra_file_planted_in_base_is_refused(releases, update, bundle):
    (bundle / "data" / "evil.js").write_bytes(b"alert(1)")
    assert "not listed" in refused(update, bundle, releases.pub)


def test_untrusted_signer_is_refused(releases, bundle, tmp_path):
    impostor = tmp_path / "impostor"
    shutil.copytree(releases.new, impostor)
    shutil.rmtree(impostor / "signatures")
    sign_bundle(impostor, generate_secret_key("impostor"))
    delta = tmp_path / "impostor.delta"
    make_delta(releases.old, impostor, delta)
    assert "valid signature" in refused(delta, bundle, releases.pub)


def test_threshold_not_met_is_refused(releases, update, bundle, tmp_path):
    second = tmp_path / "second.pub"
    second.write_bytes(generate_secret_key("second").public_key().to_file_bytes())
    refused(update, bundle, releases.pub, "--trust", str(second), "--threshold", "2")


def test_older_sequence_is_refused(releases, tmp_path):
    # A partner on release 2 is sent a correctly signed update "to" release 1.
    card = tmp_path / "card" / "library"
    card.parent.mkdir()
    shutil.copytree(releases.new, card)
    backwards = tmp_path / "back.delta"
    make_delta(releases.new, releases.old, backwards, check_sequence=False)
    assert "older sequence" in refused(backwards, card, releases.pub)


def test_rollback_below_the_state_is_refused(releases, update, bundle, tmp_path):
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"format": "infopack-verify-state/1", "highest_sequence": {"library": 5}}))
    assert "rollback" in refused(update, bundle, releases.pub, "--state", str(state))


@pytest.mark.parametrize("where, value", [
    ("path", "../outside.js"),
    ("path", "/etc/outside.js"),
    ("path", "data/../../outside.js"),
    ("path", "data\\..\\..\\outside.js"),
    ("from", "../../../etc/passwd"),
    ("removed", "../library-sibling/index.html"),
    ("signature", "../../outside.minisig"),
])
def test_path_traversal_names_inside_the_delta_are_refused(releases, update, bundle, tmp_path, where, value):
    def evil(header):
        if where == "removed":
            header["removed"].append(value)
        elif where == "signature":
            header["signatures"][0]["name"] = value
        elif where == "from":
            header["files"].append({"path": "media/x.png", "kind": "copy", "from": value})
        else:
            header["files"][0]["path"] = value

    message = refused(rewrite(update, tmp_path / "evil.delta", header_change=evil), bundle, releases.pub)
    assert "malformed header" in message or "does not" in message
    assert not (tmp_path / "outside.js").exists() and not (bundle.parent.parent / "outside.js").exists()


def test_truncated_delta_is_refused(releases, update, bundle, tmp_path):
    cut = tmp_path / "cut.delta"
    cut.write_bytes(update.read_bytes()[:-100])
    refused(cut, bundle, releases.pub)


def test_a_file_that_is_not_a_delta_is_refused(releases, bundle, tmp_path):
    junk = tmp_path / "junk.delta"
    junk.write_bytes(b"PK\x03\x04" + bytes(100))
    assert "not an infopack delta" in refused(junk, bundle, releases.pub)


def test_symlink_planted_in_bundle_is_refused(releases, update, bundle, tmp_path):
    # The link points at a file with the right bytes: only refusing links outright stops it.
    target = bundle / "media" / "a00010-1.png"
    outside = tmp_path / "outside.png"
    shutil.copy(target, outside)
    target.unlink()
    target.symlink_to(outside)
    assert "symbolic link" in refused(update, bundle, releases.pub)


def test_symlink_planted_in_bundle_signatures_is_refused(releases, update, bundle, tmp_path):
    outside = tmp_path / "x.minisig"
    outside.write_bytes(b"x")
    (bundle / "signatures" / "0000000000000000.minisig").symlink_to(outside)
    refused(update, bundle, releases.pub)


def test_symlink_planted_as_the_staging_folder_is_refused(releases, update, bundle, tmp_path):
    # A link where apply stages its files would send NEW's files (and the moved OLD ones) elsewhere.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    staging_for(bundle).symlink_to(elsewhere)
    result = run_infopack("apply", str(update), str(bundle), "--trust", str(releases.pub), timeout=60)
    assert result.returncode == 1 and "not ours" in result.stderr
    assert list(elsewhere.iterdir()) == []
    assert files_of(bundle) == files_of(releases.old)


def test_moved_media_travel_as_a_copy_not_as_bytes(releases, tmp_path):
    # An article renamed: its image is now media/<new slug>-1.png, with the same bytes.
    content = tmp_path / "content"
    shutil.copytree(releases.content_old, content)
    set_sequence(content, 2)
    (content / "articles" / "a00010.md").rename(content / "articles" / "renamed.md")
    new = build(content, tmp_path / "new", releases.key, base=releases.old)
    assert (new / "media" / "renamed-1.png").read_bytes() == (releases.old / "media" / "a00010-1.png").read_bytes()
    delta = tmp_path / "moved.delta"
    make_delta(releases.old, new, delta)
    with open(delta, "rb") as handle:
        records = read_header(handle).records
    assert Record("media/renamed-1.png", "copy", source="media/a00010-1.png") in records
    assert not any(r.path.startswith("media/") and r.kind != "copy" for r in records)
    card = tmp_path / "card" / "library"
    card.parent.mkdir()
    shutil.copytree(releases.old, card)
    assert apply_delta(delta, card, [releases.key.public_key()]).report.ok
    assert files_of(card) == files_of(new)


def test_library_refusals_raise_delta_error(releases, update, bundle, tmp_path):
    other = rewrite(update, tmp_path / "o.delta", header_change=lambda h: h["base"].update(manifest_sha256="1" * 64))
    with pytest.raises(DeltaError):
        apply_delta(other, bundle, [releases.key.public_key()])


def test_apply_from_inside_the_bundle_as_dot(releases, update, bundle):
    # `cd card/library && infopack apply ../../update.delta .`: the staging folder still goes beside it.
    result = subprocess.run([sys.executable, "-m", "infopack.commands", "apply", str(update), ".",
                             "--trust", str(releases.pub)], cwd=bundle, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert files_of(bundle) == files_of(releases.new)
    assert sorted(p.name for p in bundle.parent.iterdir()) == [bundle.name]


def test_a_header_naming_other_releases_is_refused(releases, update, bundle, tmp_path):
    lying = rewrite(update, tmp_path / "l.delta", header_change=lambda h: h.update(target_sequence=99))
    assert "does not name the releases" in refused(lying, bundle, releases.pub)


def _phone_patch_swap(header, body, old_name: bytes, new_name: bytes) -> None:
    """Rewrite the name inside phone.html's derived operations (same length, offsets kept)."""
    import lzma

    record = next(r for r in header["files"] if r["path"] == "phone.html")
    assert record["kind"] == "patch" and record["xz"]
    start, end = record["offset"], record["offset"] + record["size"]
    patch = lzma.decompress(bytes(body[start:end]))
    assert b"D" + len(old_name).to_bytes(2, "big") + old_name in patch
    forged = lzma.compress(patch.replace(old_name, new_name), format=lzma.FORMAT_XZ)
    body[start:end] = forged
    shift = len(forged) - record["size"]
    record["size"] = len(forged)
    for other in header["files"]:
        if other.get("offset", -1) > start:
            other["offset"] += shift


def _derived_name(update: Path) -> bytes:
    """A data file phone.html's patch derives from (the update carries its bytes once)."""
    import lzma

    with open(update, "rb") as handle:
        header = read_header(handle)
        record = next(r for r in header.records if r.path == "phone.html")
        handle.seek(header.body_start + record.offset)
        patch = lzma.decompress(handle.read(record.size))
    import re

    found = re.search(rb"D(..)data/", patch, re.S)  # "D", the name's length (2 bytes), the name
    assert found is not None, "phone.html's patch derives nothing"
    length = int.from_bytes(found.group(1), "big")
    return patch[found.start() + 3 : found.start() + 3 + length]


def test_phone_page_is_rebuilt_from_the_carried_data_files(releases, update, bundle):
    name = _derived_name(update)  # the update does derive, and applying it gives NEW exactly
    assert name.startswith(b"data/")
    assert apply_delta(update, bundle, [releases.key.public_key()]).report.ok
    assert files_of(bundle) == files_of(releases.new)


def test_derived_operation_pointing_at_another_data_file_is_refused(releases, update, bundle, tmp_path):
    name = _derived_name(update)
    other = next(p for p in files_of(releases.new) if p.startswith("data/") and len(p) == len(name)
                 and p.encode() != name).encode()
    forged = rewrite(update, tmp_path / "f.delta", body_change=lambda h, b: _phone_patch_swap(h, b, name, other))
    message = refused(forged, bundle, releases.pub)
    assert "does not match NEW's signed manifest" in message or "more bytes" in message


def test_derived_operation_pointing_outside_the_data_files_is_refused(releases, update, bundle, tmp_path):
    name = _derived_name(update)
    outside = b"../../etc/passwd".ljust(len(name), b"x")[: len(name)]
    forged = rewrite(update, tmp_path / "o.delta", body_change=lambda h, b: _phone_patch_swap(h, b, name, outside))
    assert "not a data file of NEW" in refused(forged, bundle, releases.pub)


def test_delta_command_writes_one_file_and_says_how_small(releases, tmp_path):
    out = tmp_path / "update.delta"
    result = run_infopack("delta", str(releases.old), str(releases.new), "--out", str(out), timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"wrote {out}: ") and "x the" in result.stdout
    assert [p.name for p in tmp_path.iterdir()] == ["update.delta"]  # no temporary file left


def test_delta_command_refuses_an_unsigned_or_older_release_in_one_line(releases, tmp_path):
    unsigned = tmp_path / "unsigned"
    shutil.copytree(releases.new, unsigned)
    shutil.rmtree(unsigned / "signatures")
    result = run_infopack("delta", str(releases.old), str(unsigned), "--out", str(tmp_path / "u.delta"), timeout=120)
    assert result.returncode == 1 and result.stderr.count("\n") == 1 and "not signed" in result.stderr
    result = run_infopack("delta", str(releases.new), str(releases.old), "--out", str(tmp_path / "o.delta"), timeout=120)
    assert result.returncode == 1 and result.stderr.count("\n") == 1 and "not higher" in result.stderr
    assert not (tmp_path / "u.delta").exists() and not (tmp_path / "o.delta").exists()
