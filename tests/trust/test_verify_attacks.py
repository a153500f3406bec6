"""One test per attack on a bundle a partner verifies offline (TUF's list, plus file-system tricks).

Each test builds a real signed bundle, applies the attack, and checks that `verify` refuses it
with a problem that names the attack, while the untouched bundle is accepted.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner

from infopack.commands import main
from infopack.errors import InfopackError, UsageProblem
from infopack.format.constants import MANIFEST_MAX_BYTES
from infopack.format.manifest import BundleInfo, FileEntry, Manifest, render_manifest, render_sha256sums
from infopack.format.names import check_bundle_path, find_collisions
from infopack.trust.keys import generate_secret_key, load_secret_key
from infopack.trust.sign import sign_bundle
from infopack.trust.signature import TrustedComment, sign_manifest
from infopack.trust.verify import verify_bundle
from kit.bundles import make_bundle, minisign_key_pair, problems_of, signed_bundle

MINISIGN = shutil.which("minisign")


@pytest.fixture
def key():
    return generate_secret_key("publisher")


@pytest.fixture
def bundle(tmp_path, key):
    return signed_bundle(tmp_path / "bundle", key)


def verify(bundle_dir, key, **kwargs):
    return verify_bundle(bundle_dir, [key.public_key()], **kwargs)


def assert_rejected(report, *fragments: str) -> None:
    text = "\n".join(problems_of(report))
    assert report.exit_code == 1, "bundle was accepted"
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not in:\n{text}"


def resign_manifest(bundle_dir: Path, key, manifest_bytes: bytes, comment: str | None = None) -> None:
    """Write `manifest_bytes` and a valid signature over them: a signer who signs anything.

    Attacks on the manifest's *content* need this, or the signature check would stop them first.
    """
    (bundle_dir / "manifest.json").write_bytes(manifest_bytes)
    signature = sign_manifest(
        manifest_bytes, key, comment or "infopack/1 id=demo seq=1 created=2026-03-01"
    )
    (bundle_dir / "signatures" / f"{key.id_hex}.minisig").write_bytes(signature.to_bytes())


def hostile_manifest(entries: list[FileEntry], sequence: int = 1) -> Manifest:
    return Manifest(BundleInfo("demo", "t", "", "ko", sequence, "2026-03-01", ""), tuple(entries))


def sums_entry_for(entries: list[FileEntry]) -> FileEntry:
    sums = render_sha256sums(hostile_manifest(entries))
    return FileEntry("SHA256SUMS", len(sums), hashlib.sha256(sums).hexdigest())


# ----------------------------------------------------------------------------- wrong signer


def test_untouched_bundle_accepted(bundle, key):
    assert verify(bundle, key).exit_code == 0


def test_wrong_key_rejected(bundle):
    stranger = generate_secret_key("stranger")
    report = verify(bundle, stranger)
    assert_rejected(report, "0 valid signature(s)")
    assert report.signatures[0].status == "untrusted-key"


def test_attacker_key_with_same_key_id_rejected(tmp_path, key):
    # Key IDs are hints: an attacker can pick ours. Only the Ed25519 key decides.
    forger = generate_secret_key()
    forger = type(forger)(key.key_id, forger.seed)
    bundle = signed_bundle(tmp_path / "b", forger)
    assert_rejected(verify(bundle, key), "bad signature by trusted key", "0 valid signature(s)")


def test_unsigned_bundle_rejected(tmp_path, key):
    assert_rejected(verify(make_bundle(tmp_path / "b"), key), "0 valid signature(s)")


def test_untrusted_co_signature_ignored_not_counted(bundle, key):
    partner = generate_secret_key("partner")
    sign_bundle(bundle, partner)
    report = verify(bundle, key)
    assert report.exit_code == 0
    assert report.signed_by == [key.id_hex]
    assert any("not trusted; ignored" in str(w) for w in report.warnings)


# ----------------------------------------------------------------------------- the signed bytes


def test_unsigned_data_appended_to_manifest_rejected(bundle, key):
    with open(bundle / "manifest.json", "ab") as handle:
        handle.write(b'{"path": "evil.exe", "size": 1, "sha256": "' + b"0" * 64 + b'"}\n')
    assert_rejected(verify(bundle, key), "signature does not match the manifest")


def test_edited_manifest_is_never_parsed(bundle, key):
    # Broken JSON behind a bad signature: the only complaint is the signature, proving the
    # manifest was not parsed before the signature check.
    (bundle / "manifest.json").write_bytes(b'{"format": "infopack/1", "files": [')
    report = verify(bundle, key)
    assert_rejected(report, "signature does not match")
    assert not any("JSON" in p for p in problems_of(report))


def test_truncated_signature_rejected(bundle, key):
    path = bundle / "signatures" / f"{key.id_hex}.minisig"
    path.write_bytes(path.read_bytes()[:100])
    assert_rejected(verify(bundle, key), "malformed signature")


def test_signature_with_carriage_returns_rejected(bundle, key):
    path = bundle / "signatures" / f"{key.id_hex}.minisig"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert_rejected(verify(bundle, key), "carriage return")


def test_trusted_comment_edited_rejected(bundle, key):
    path = bundle / "signatures" / f"{key.id_hex}.minisig"
    path.write_bytes(path.read_bytes().replace(b"seq=1 ", b"seq=9 "))
    assert_rejected(verify(bundle, key), "trusted comment signature does not match")


def test_oversized_signature_rejected(bundle, key):
    path = bundle / "signatures" / f"{key.id_hex}.minisig"
    path.write_bytes(path.read_bytes() + b"A" * 10_000)
    assert_rejected(verify(bundle, key), "larger than")


def test_endless_manifest_rejected_without_reading_it(bundle, key):
    with open(bundle / "manifest.json", "r+b") as handle:
        handle.truncate(MANIFEST_MAX_BYTES + 1)  # sparse: no disk, no time
    assert_rejected(verify(bundle, key), "larger than")


def test_legacy_unhashed_minisign_signature_rejected(bundle, key):
    path = bundle / "signatures" / f"{key.id_hex}.minisig"
    lines = path.read_text().splitlines()
    blob = bytearray(base64.b64decode(lines[1]))
    blob[:2] = b"Ed"
    lines[1] = base64.b64encode(bytes(blob)).decode()
    path.write_text("\n".join(lines) + "\n")
    assert_rejected(verify(bundle, key), "legacy")


# ----------------------------------------------------------------------------- mix-and-match


def test_mix_and_match_signature_from_other_bundle_rejected(tmp_path, key):
    other = signed_bundle(tmp_path / "other", key, bundle_id="other", files={"a.txt": b"a"})
    target = signed_bundle(tmp_path / "target", key)
    name = f"{key.id_hex}.minisig"
    shutil.copy(other / "signatures" / name, target / "signatures" / name)
    assert_rejected(verify(target, key), "signature does not match the manifest")


def test_mix_and_match_trusted_comment_from_other_release_rejected(tmp_path, key):
    old = signed_bundle(tmp_path / "old", key, sequence=1)
    new = signed_bundle(tmp_path / "new", key, sequence=2)
    name = f"{key.id_hex}.minisig"
    new_lines = (new / "signatures" / name).read_text().splitlines()
    old_lines = (old / "signatures" / name).read_text().splitlines()
    # Keep the new data signature, graft the old (validly signed) comment and its signature.
    grafted = [new_lines[0], new_lines[1], old_lines[2], old_lines[3]]
    (new / "signatures" / name).write_text("\n".join(grafted) + "\n")
    assert_rejected(verify(new, key), "trusted comment signature does not match")


def test_signature_whose_comment_names_another_release_rejected(bundle, key):
    manifest = (bundle / "manifest.json").read_bytes()
    resign_manifest(bundle, key, manifest, TrustedComment("demo", 5, "2026-03-01").to_text())
    report = verify(bundle, key)
    assert_rejected(report, "signature is for another release", "signed seq=5")
    assert report.signatures[0].status == "wrong-bundle"


@pytest.mark.skipif(MINISIGN is None, reason="apt-get install minisign")
def test_plain_minisign_signature_without_bundle_binding_not_counted(tmp_path):
    secret_path, public = minisign_key_pair(tmp_path / "keys")
    bundle = make_bundle(tmp_path / "b")
    (bundle / "signatures").mkdir()
    subprocess.run(  # minisign's default trusted comment: a timestamp and file name only
        [MINISIGN, "-S", "-s", str(secret_path), "-m", str(bundle / "manifest.json"),
         "-x", str(bundle / "signatures" / f"{public.id_hex}.minisig")],
        check=True, capture_output=True,
    )
    report = verify_bundle(bundle, [public])
    assert_rejected(report, "trusted comment is not 'infopack/1")


# ----------------------------------------------------------------------------- thresholds


def test_duplicate_signature_counts_once(tmp_path, bundle, key):
    second = generate_secret_key("second")
    copy = tmp_path / "copy.minisig"
    shutil.copy(bundle / "signatures" / f"{key.id_hex}.minisig", copy)
    trusted = [key.public_key(), second.public_key()]
    report = verify_bundle(bundle, trusted, threshold=2, signature_files=[copy])
    assert_rejected(report, "1 valid signature(s) by distinct trusted keys, 2 required")
    assert [s.status for s in report.signatures] == ["valid", "duplicate"]


def test_same_key_trusted_twice_counts_once(tmp_path, bundle, key):
    renamed = type(key.public_key())(key.key_id, key.public_key().key, "alias")
    with pytest.raises(UsageProblem, match="threshold 2 needs between 1 and 1"):
        verify_bundle(bundle, [key.public_key(), renamed], threshold=2)


# ----------------------------------------------------------------------------- rollback


def test_rollback_rejected_with_state(tmp_path, key):
    state = tmp_path / "state.json"
    newer = signed_bundle(tmp_path / "v2", key, sequence=2)
    older = signed_bundle(tmp_path / "v1", key, sequence=1)
    assert verify(older, key, state_file=state).exit_code == 0
    assert verify(newer, key, state_file=state).exit_code == 0
    assert json.loads(state.read_text())["highest_sequence"] == {"demo": 2}
    assert_rejected(verify(older, key, state_file=state), "rollback: sequence 1 is older than 2")
    assert verify(newer, key, state_file=state).exit_code == 0  # the same release again is fine


def test_failed_verify_does_not_advance_rollback_state(tmp_path, key):
    state = tmp_path / "state.json"
    bad = signed_bundle(tmp_path / "v9", key, sequence=9)
    (bad / "index.html").write_bytes(b"tampered")
    assert verify(bad, key, state_file=state).exit_code == 1
    assert not state.exists()


def test_damaged_state_file_is_a_usage_error(tmp_path, bundle, key):
    state = tmp_path / "state.json"
    state.write_text('{"format": "infopack-verify-state/1", "highest_sequence": {"demo": "x"}}')
    with pytest.raises(UsageProblem, match="state file is damaged"):
        verify(bundle, key, state_file=state)


# ----------------------------------------------------------------------------- the files


def test_tampered_file_rejected(bundle, key):
    (bundle / "data" / "dict.js").write_bytes(b'infopackData("dict","BBBB");\n')
    assert_rejected(verify(bundle, key), "data/dict.js: content does not match")


@pytest.mark.parametrize("workers", [1, 2])
def test_tampered_large_file_rejected(tmp_path, key, workers):
    # Larger than the 1 MiB read chunk, so the streaming path is the one tested.
    big = bytes(range(256)) * (3 * 4096 + 17)
    bundle = signed_bundle(tmp_path / "b", key, files={"media/film.mp4": big, "index.html": b"i"})
    assert verify(bundle, key, workers=workers).exit_code == 0
    with open(bundle / "media" / "film.mp4", "r+b") as handle:
        handle.seek(len(big) - 1)
        handle.write(bytes([big[-1] ^ 1]))
    assert_rejected(verify(bundle, key, workers=workers), "media/film.mp4: content does not match")


def test_truncated_file_rejected(bundle, key):
    path = bundle / "media" / "seoul-1.mp3"
    path.write_bytes(path.read_bytes()[:-1])
    assert_rejected(verify(bundle, key), "media/seoul-1.mp3: size is")


def test_missing_file_rejected(bundle, key):
    (bundle / "index.html").unlink()
    assert_rejected(verify(bundle, key), "index.html: listed in the manifest but missing")


def test_extra_file_rejected(bundle, key):
    (bundle / "data" / "payload.js").write_bytes(b"alert(1)")
    assert_rejected(verify(bundle, key), "data/payload.js: not listed in the manifest")
    relaxed = verify(bundle, key, allow_extra=True)
    assert relaxed.exit_code == 0 and "payload.js" in str(relaxed.warnings[0])


def test_extra_file_with_reserved_name_rejected_even_with_allow_extra(bundle, key):
    (bundle / "media" / "nul.txt").write_bytes(b"x")
    assert_rejected(verify(bundle, key, allow_extra=True), "reserved device name")


def test_hidden_file_in_signatures_dir_rejected(bundle, key):
    (bundle / "signatures" / ".payload").write_bytes(b"x")
    assert_rejected(verify(bundle, key), "unexpected file in signatures/")


def test_empty_directory_rejected(bundle, key):
    (bundle / "data" / "empty").mkdir()
    assert_rejected(verify(bundle, key), "empty directory")


def test_sha256sums_that_disagrees_with_manifest_rejected(tmp_path, key):
    bundle = make_bundle(tmp_path / "b")
    manifest = (bundle / "manifest.json").read_bytes().decode()
    fake_sums = b"0" * 64 + b"  index.html\n"
    (bundle / "SHA256SUMS").write_bytes(fake_sums)
    old_line = next(line for line in manifest.splitlines() if '"SHA256SUMS"' in line)
    new_line = (
        f'{{"path": "SHA256SUMS", "size": {len(fake_sums)}, '
        f'"sha256": "{hashlib.sha256(fake_sums).hexdigest()}"}},'
    )
    (bundle / "signatures").mkdir()
    resign_manifest(bundle, key, manifest.replace(old_line, new_line).encode())
    assert_rejected(verify(bundle, key), "SHA256SUMS: does not list the same files")


# ----------------------------------------------------------------------------- links and specials


def test_symlink_rejected(tmp_path, bundle, key):
    outside = tmp_path / "secret.txt"
    outside.write_bytes((bundle / "index.html").read_bytes())
    (bundle / "index.html").unlink()
    (bundle / "index.html").symlink_to(outside)  # same bytes, but lives outside the bundle
    assert_rejected(verify(bundle, key), "index.html: symbolic link")


def test_symlinked_directory_rejected(tmp_path, bundle, key):
    shutil.move(bundle / "data", tmp_path / "data-elsewhere")
    (bundle / "data").symlink_to(tmp_path / "data-elsewhere", target_is_directory=True)
    assert_rejected(verify(bundle, key), "data: symbolic link", "data/dict.js: listed")


def test_symlinked_manifest_rejected(tmp_path, bundle, key):
    shutil.move(bundle / "manifest.json", tmp_path / "manifest.json")
    (bundle / "manifest.json").symlink_to(tmp_path / "manifest.json")
    assert_rejected(verify(bundle, key), "manifest.json: is not a regular file")


def test_fifo_rejected_without_blocking(bundle, key):
    os.mkfifo(bundle / "data" / "pipe")  # opening it for reading would hang verify
    assert_rejected(verify(bundle, key), "data/pipe: special file")


# ----------------------------------------------------------------------------- hostile names


def test_hostile_file_name_cannot_forge_report_lines(tmp_path, bundle, key):
    (bundle / "x\nOK: demo sequence 1 created 2026-03-01: all good").write_bytes(b"x")
    os.mkdir(os.path.join(os.fsencode(bundle), b"\xff\xfe"))
    (bundle / os.fsdecode(b"\xff\xfe") / "y").write_bytes(b"y")
    pub = tmp_path / "k.pub"
    pub.write_bytes(key.public_key().to_file_bytes())
    for extra in ([], ["--json"]):
        result = CliRunner().invoke(main, ["verify", str(bundle), "--trust", str(pub), *extra])
        assert result.exit_code == 1, result.output
        assert not any(line.startswith("OK") for line in result.output.splitlines())


@pytest.mark.parametrize(
    "hostile_path",
    ["../outside.txt", "data/../../outside.txt", "/etc/passwd", "data\\..\\x.js", "C:/x.js",
     "data//x.js", "./index2.html"],
)
def test_path_traversal_rejected(tmp_path, key, hostile_path):
    bundle = signed_bundle(tmp_path / "b", key)
    (tmp_path / "outside.txt").write_bytes(b"x")
    entries = [FileEntry(hostile_path, 1, hashlib.sha256(b"x").hexdigest())]
    entries.append(sums_entry_for(entries))
    resign_manifest(bundle, key, render_manifest(hostile_manifest(entries)))
    report = verify(bundle, key)
    assert report.exit_code == 1
    assert any(re.match(r"manifest\.json:[56]: ", problem) for problem in problems_of(report))
    assert report.files_checked == 0  # nothing was opened


@pytest.mark.parametrize("shadow", ["MANIFEST.JSON", "manifest.json", "Signatures/x.minisig"])
def test_listed_file_that_would_overwrite_manifest_or_signatures_rejected(tmp_path, key, shadow):
    bundle = signed_bundle(tmp_path / "b", key)
    entries = [FileEntry(shadow, 1, hashlib.sha256(b"x").hexdigest())]
    entries.append(sums_entry_for(entries))
    resign_manifest(bundle, key, render_manifest(hostile_manifest(entries)))
    assert_rejected(verify(bundle, key), "are never listed")


@pytest.mark.parametrize(
    "reserved", ["media/CON", "media/aux.mp3", "media/Lpt1.txt", "media/x.", "media/x ", "a:b",
                 "media/a\x07.mp3", "media/a|b"],
)
def test_reserved_fat_name_rejected(reserved):
    assert check_bundle_path(reserved) is not None


@pytest.mark.parametrize(
    ("first", "second"),
    [("media/Photo.jpg", "media/photo.jpg"),
     ("media/" + unicodedata.normalize("NFC", "é.mp3"), "media/" + unicodedata.normalize("NFD", "é.mp3")),
     ("Data/a.js", "data/b.js"),
     ("media/STRASSE.txt", "media/straße.txt")],
)
def test_case_collision_rejected(tmp_path, key, first, second):
    assert find_collisions([first, second])
    bundle = make_bundle(tmp_path / "b", files={first: b"1", second: b"2"})
    (bundle / "signatures").mkdir()
    # `sign` refuses such a manifest; a careless or hostile signer may not.
    resign_manifest(bundle, key, (bundle / "manifest.json").read_bytes())
    report = verify(bundle, key)
    assert_rejected(report, "names collide under case folding/NFC")


def test_signing_refuses_colliding_names(tmp_path, key):
    bundle = make_bundle(tmp_path / "b", files={"a/X.txt": b"1", "a/x.txt": b"2"})
    with pytest.raises(InfopackError, match="collide"):
        sign_bundle(bundle, key)


# ----------------------------------------------------------------------------- the manifest parser


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda m: m.replace('"format": "infopack/1"', '"format": "infopack/2"'), "format line must"),
        (lambda m: m.replace('"id": "demo"', '"id": "demo", "id": "evil"'), "duplicate key"),
        (lambda m: m.replace('"size": 35,', '"size": 35, "hash": "md5",'), "exactly the keys"),
        (lambda m: m.replace('"sequence": 1', '"sequence": true'), "sequence must be"),
        (lambda m: m.replace('"sequence": 1', '"sequence": 1.0'), "sequence must be"),
        (lambda m: m.replace('"size": 35', '"size": ' + "[" * 100_000), "nested too deeply|JSON"),
        (lambda m: m.replace('"files": [', '"files": [[', 1), "canonical form"),
        (lambda m: m.replace('"size": 35', '"size": 035'), "not valid JSON"),
        (lambda m: m.replace('"size": 35, ', '"size":35, '), "canonical form"),
        (lambda m: m.replace('"sequence": 1', '"sequence": ' + "9" * 5000), "not valid JSON"),
        (lambda m: m.replace('"sequence": 1', '"sequence": NaN'), "not valid JSON"),
        (lambda m: m.replace("\n", "\r\n"), "canonical"),
        (lambda m: m.replace('"size": 35', '"size": -1'), "size must be"),
    ],
)
def test_hostile_signed_manifest_rejected_with_one_line_problem(bundle, key, edit, problem):
    manifest = (bundle / "manifest.json").read_text()
    assert '"size": 35' in manifest
    resign_manifest(bundle, key, edit(manifest).encode())
    report = verify(bundle, key)
    assert report.exit_code == 1
    assert any(re.search(problem, p) for p in problems_of(report)), problems_of(report)


def test_cli_reports_attack_with_exit_1_and_no_traceback(tmp_path, bundle, key):
    pub = tmp_path / "k.pub"
    pub.write_bytes(key.public_key().to_file_bytes())
    with open(bundle / "manifest.json", "ab") as handle:
        handle.write(b"\n")
    result = CliRunner().invoke(main, ["verify", str(bundle), "--trust", str(pub)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output and "FAILED" in result.output


def test_secret_key_never_in_bundle(tmp_path):
    runner = CliRunner()
    passphrase = tmp_path / "pass"
    passphrase.write_text("long enough passphrase\n")
    runner.invoke(main, ["keygen", str(tmp_path / "k"), "--passphrase-file", str(passphrase),
                         "--kdf-cost", "min"])
    bundle = make_bundle(tmp_path / "b")
    result = runner.invoke(main, ["sign", str(bundle), "--key", str(tmp_path / "k.key"),
                                  "--passphrase-file", str(passphrase)])
    assert result.exit_code == 0, result.output
    secret = load_secret_key(tmp_path / "k.key", b"long enough passphrase")
    key_file = (tmp_path / "k.key").read_bytes()
    forbidden = [secret.seed, secret.seed.hex().encode(), base64.b64encode(secret.seed),
                 b"long enough passphrase", key_file.splitlines()[-1]]
    for path in bundle.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert not any(item in content for item in forbidden), path
    assert not any(item.decode(errors="replace") in result.output for item in forbidden)


def test_signing_refuses_a_key_kept_inside_the_bundle(tmp_path):
    bundle = make_bundle(tmp_path / "b")
    result = CliRunner().invoke(main, ["keygen", str(bundle / "k"), "--unencrypted"])
    assert result.exit_code == 0
    result = CliRunner().invoke(main, ["sign", str(bundle), "--key", str(bundle / "k.key")])
    assert result.exit_code == 1
    assert "inside the bundle" in result.output
    assert not (bundle / "signatures").exists()
