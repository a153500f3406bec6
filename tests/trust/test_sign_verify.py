"""Signing and verifying real bundles, cross-checked against Debian's minisign both ways."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from infopack.commands import main
from infopack.errors import InfopackError
from infopack.format.manifest import parse_manifest
from infopack.trust.keys import (
    SecretKey,
    generate_secret_key,
)
from infopack.trust.sign import read_manifest_bytes, sign_bundle
from infopack.trust.signature import TrustedComment, parse_trusted_comment, sign_manifest
from infopack.trust.verify import verify_bundle
from kit.bundles import (
    DEFAULT_FILES,
    make_bundle,
    minisign_key_pair,
    problems_of,
    signed_bundle,
)

MINISIGN = shutil.which("minisign")
needs_minisign = pytest.mark.skipif(MINISIGN is None, reason="apt-get install minisign")


@pytest.fixture
def key() -> SecretKey:
    return generate_secret_key("publisher")


def test_signed_bundle_verifies(tmp_path, key):
    bundle = signed_bundle(tmp_path / "b", key)
    report = verify_bundle(bundle, [key.public_key()])
    assert problems_of(report) == []
    assert report.exit_code == 0
    assert report.signed_by == [key.id_hex]
    assert report.files_checked == len(DEFAULT_FILES) + 1  # + SHA256SUMS
    assert report.signatures[0].trusted_comment == "infopack/1 id=demo seq=1 created=2026-03-01"


def test_manifest_is_canonical_and_round_trips(tmp_path):
    bundle = make_bundle(tmp_path / "b")
    data = read_manifest_bytes(bundle)
    manifest = parse_manifest(data)
    assert [entry.path for entry in manifest.files] == sorted(
        [*DEFAULT_FILES, "SHA256SUMS"], key=lambda p: p.encode()
    )
    assert data.endswith(b"]\n}\n")
    assert "데모".encode() in data  # non-ASCII is written literally, not escaped


def test_sha256sums_is_accepted_by_sha256sum(tmp_path):
    bundle = make_bundle(tmp_path / "b")
    result = subprocess.run(
        ["sha256sum", "--strict", "-c", "SHA256SUMS"], cwd=bundle, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


@needs_minisign
def test_minisign_verifies_our_signature(tmp_path, key):
    bundle = signed_bundle(tmp_path / "b", key)
    pub = tmp_path / "k.pub"
    pub.write_bytes(key.public_key().to_file_bytes())
    result = subprocess.run(
        [MINISIGN, "-V", "-m", str(bundle / "manifest.json"), "-p", str(pub),
         "-x", str(bundle / "signatures" / f"{key.id_hex}.minisig")],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "Trusted comment: infopack/1 id=demo seq=1 created=2026-03-01" in result.stdout


@needs_minisign
def test_minisign_rejects_what_we_reject(tmp_path, key):
    bundle = signed_bundle(tmp_path / "b", key)
    pub = tmp_path / "k.pub"
    pub.write_bytes(key.public_key().to_file_bytes())
    with open(bundle / "manifest.json", "ab") as handle:
        handle.write(b" ")
    result = subprocess.run(
        [MINISIGN, "-V", "-m", str(bundle / "manifest.json"), "-p", str(pub),
         "-x", str(bundle / "signatures" / f"{key.id_hex}.minisig")],
        capture_output=True, text=True,
    )
    assert result.returncode != 0
    assert verify_bundle(bundle, [key.public_key()]).exit_code == 1


@needs_minisign
def test_our_verifier_accepts_a_minisign_signature(tmp_path):
    secret_path, public = minisign_key_pair(tmp_path / "keys")
    bundle = make_bundle(tmp_path / "b", sequence=7)
    (bundle / "signatures").mkdir()
    subprocess.run(
        [MINISIGN, "-S", "-s", str(secret_path), "-m", str(bundle / "manifest.json"),
         "-x", str(bundle / "signatures" / f"{public.id_hex}.minisig"),
         "-t", "infopack/1 id=demo seq=7 created=2026-03-01"],
        check=True, capture_output=True,
    )
    report = verify_bundle(bundle, [public])
    assert problems_of(report) == []
    assert report.signed_by == [public.id_hex]


def test_co_signatures_meet_a_threshold_of_two(tmp_path, key):
    second = generate_secret_key("release manager")
    bundle = signed_bundle(tmp_path / "b", key)
    trusted = [key.public_key(), second.public_key()]
    assert verify_bundle(bundle, trusted, threshold=2).exit_code == 1
    sign_bundle(bundle, second)
    report = verify_bundle(bundle, trusted, threshold=2)
    assert problems_of(report) == []
    assert sorted(report.signed_by) == sorted([key.id_hex, second.id_hex])


def test_detached_signature_keeps_key_ids_out_of_the_readers_copy(tmp_path, key):
    bundle = make_bundle(tmp_path / "b")
    detached = tmp_path / "release.minisig"
    assert sign_bundle(bundle, key, signature_out=detached) == detached
    assert not (bundle / "signatures").exists()
    everything = b"".join(p.read_bytes() for p in bundle.rglob("*") if p.is_file())
    assert key.key_id not in everything and key.id_hex.encode() not in everything
    assert verify_bundle(bundle, [key.public_key()]).exit_code == 1
    report = verify_bundle(bundle, [key.public_key()], signature_files=[detached])
    assert problems_of(report) == []


def test_expired_signature_is_only_a_warning(tmp_path, key):
    bundle = make_bundle(tmp_path / "b")
    sign_bundle(bundle, key, expires="2026-04-01")
    report = verify_bundle(bundle, [key.public_key()], today=dt.date(2026, 5, 1))
    assert report.exit_code == 0
    assert any("expired on 2026-04-01" in str(w) for w in report.warnings)
    fresh = verify_bundle(bundle, [key.public_key()], today=dt.date(2026, 3, 15))
    assert fresh.warnings == []


def test_sign_refuses_a_manifest_that_does_not_parse(tmp_path, key):
    bundle = make_bundle(tmp_path / "b")
    (bundle / "manifest.json").write_bytes(b'{"format": "infopack/1"}\n')
    with pytest.raises(InfopackError, match="manifest"):
        sign_bundle(bundle, key)
    assert not (bundle / "signatures").exists()


def test_signature_files_and_directory_carry_the_content_date(tmp_path, key):
    bundle = make_bundle(tmp_path / "b", created="2026-03-01")
    written = sign_bundle(bundle, key)
    midnight_utc = 1772323200  # 2026-03-01T00:00:00Z
    assert int(written.stat().st_mtime) == midnight_utc
    assert int((bundle / "signatures").stat().st_mtime) == midnight_utc


def test_report_lists_every_problem(tmp_path, key):
    bundle = signed_bundle(tmp_path / "b", key)
    (bundle / "index.html").write_bytes(b"changed")
    (bundle / "media" / "seoul-1.mp3").unlink()
    (bundle / "stray.txt").write_bytes(b"?")
    report = verify_bundle(bundle, [key.public_key()])
    paths = {finding.path for finding in report.problems}
    assert {"index.html", "media/seoul-1.mp3", "stray.txt"} <= paths
    assert report.exit_code == 1


def test_cli_keygen_sign_verify_round_trip(tmp_path):
    runner = CliRunner()
    passphrase = tmp_path / "pass"
    passphrase.write_text("correct horse\n")
    name = tmp_path / "pub1"
    result = runner.invoke(
        main, ["keygen", str(name), "--passphrase-file", str(passphrase), "--kdf-cost", "min"]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "pub1.key").stat().st_mode & 0o777 == 0o600
    bundle = make_bundle(tmp_path / "b")
    result = runner.invoke(
        main, ["sign", str(bundle), "--key", str(tmp_path / "pub1.key"),
               "--passphrase-file", str(passphrase)],
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["verify", str(bundle), "--trust", str(tmp_path / "pub1.pub")])
    assert result.exit_code == 0, result.output
    assert "OK: demo sequence 1" in result.output
    result = runner.invoke(
        main, ["verify", str(bundle), "--trust", str(tmp_path / "pub1.pub"), "--json"]
    )
    document = json.loads(result.output)
    assert document["ok"] is True and document["exit_code"] == 0
    (bundle / "index.html").write_bytes(b"x")
    result = runner.invoke(
        main, ["verify", str(bundle), "--trust", str(tmp_path / "pub1.pub"), "--json"]
    )
    assert result.exit_code == 1
    assert json.loads(result.output)["problems"][0]["path"] == "index.html"


def test_cli_verify_usage_errors_exit_2_without_traceback(tmp_path, key):
    bundle = signed_bundle(tmp_path / "b", key)
    pub = tmp_path / "k.pub"
    pub.write_bytes(key.public_key().to_file_bytes())
    runner = CliRunner()
    cases = [
        ["verify", str(bundle), "--trust", str(tmp_path / "missing.pub")],
        ["verify", str(tmp_path / "nowhere"), "--trust", str(pub)],
        ["verify", str(bundle), "--trust", str(pub), "--threshold", "2"],
        ["verify", str(bundle), "--trust", str(pub), "--signature", str(tmp_path / "none.sig")],
        ["verify", str(bundle)],
    ]
    for args in cases:
        result = runner.invoke(main, args)
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output


def test_trusted_comment_round_trips():
    comment = TrustedComment("demo", 12, "2026-03-01", "2027-01-01")
    assert parse_trusted_comment(comment.to_text()) == comment
    assert comment.to_text() == "infopack/1 id=demo seq=12 created=2026-03-01 expires=2027-01-01"


def test_signing_is_deterministic(key):
    # Ed25519 is deterministic: the same manifest and comment give the same signature file.
    first = sign_manifest(b"{}\n", key, "c").to_bytes()
    assert first == sign_manifest(b"{}\n", key, "c").to_bytes()
