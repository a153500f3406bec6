"""Keys: RFC 8032 vectors, the key file formats, passphrases, and the fixed signing vector set.

Run `python tests/test_keys.py --write` to regenerate tests/vectors/signing-v1 after a
deliberate format change (and say so in FORMAT.md).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nacl.signing
import pytest
from click.testing import CliRunner

from infopack.build.output import write_manifest
from infopack.commands import main
from infopack.errors import InfopackError
from infopack.format.manifest import BundleInfo
from infopack.trust.keys import (
    PASSPHRASE_ENV,
    SecretKey,
    encode_secret_key,
    generate_secret_key,
    load_public_key,
    load_secret_key,
    parse_public_key,
    parse_secret_key,
    resolve_passphrase,
    write_key_pair,
)
from infopack.trust.sign import sign_bundle
from infopack.trust.signature import prehash
from infopack.trust.verify import verify_bundle

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
SIGNING_VECTOR = VECTORS / "signing-v1"
MINISIGN = shutil.which("minisign")

# Fixed inputs of the signing vector set; everything else follows from them.
VECTOR_SEED = bytes(range(32))
VECTOR_KEY_ID = bytes.fromhex("0102030405060708")
VECTOR_PASSPHRASE = b"infopack test passphrase"
VECTOR_SALT = bytes(range(0x10, 0x20))
VECTOR_NONCE = bytes(range(0x20, 0x38))
VECTOR_FILES = {
    "index.html": b"<!doctype html><meta charset=utf-8><title>vector</title>\n",
    "data/text/0000.js": b'infopackData("text/0000","aGVsbG8=");\n',
    "media/\ud3c9\uc591-1.txt": "평양 test file\n".encode(),
}
VECTOR_INFO = BundleInfo(
    "vector", 'Test "vector" 시험', "line one\nline two", "ko", 42, "2026-01-15", ""
)
VECTOR_EXPIRES = "2030-01-01"


def test_rfc8032_ed25519_vectors():
    document = json.loads((VECTORS / "ed25519-rfc8032.json").read_text())
    assert [v["name"] for v in document["vectors"]] == ["TEST 1", "TEST 2", "TEST 3"]
    for vector in document["vectors"]:
        signing_key = nacl.signing.SigningKey(bytes.fromhex(vector["secret_key"]))
        message = bytes.fromhex(vector["message"])
        assert bytes(signing_key.verify_key).hex() == vector["public_key"]
        assert signing_key.sign(message).signature.hex() == vector["signature"]
        verify_key = nacl.signing.VerifyKey(bytes.fromhex(vector["public_key"]))
        verify_key.verify(message, bytes.fromhex(vector["signature"]))
        with pytest.raises(nacl.exceptions.BadSignatureError):
            verify_key.verify(message + b"\x00", bytes.fromhex(vector["signature"]))


def write_signing_vector(directory: Path) -> None:
    """Make the signing vector set from the fixed inputs above."""
    secret = SecretKey(VECTOR_KEY_ID, VECTOR_SEED, comment="test vector")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "test.pub").write_bytes(secret.public_key().to_file_bytes())
    (directory / "test.key").write_bytes(
        encode_secret_key(secret, VECTOR_PASSPHRASE, kdf="min", salt=VECTOR_SALT, nonce=VECTOR_NONCE)
    )
    bundle = directory / "bundle"
    for relative, content in VECTOR_FILES.items():
        (bundle / relative).parent.mkdir(parents=True, exist_ok=True)
        (bundle / relative).write_bytes(content)
    write_manifest(bundle, VECTOR_INFO)
    signature_path = sign_bundle(bundle, secret, expires=VECTOR_EXPIRES)
    manifest = (bundle / "manifest.json").read_bytes()
    lines = signature_path.read_text().splitlines()
    blob = base64.b64decode(lines[1])
    expected = {
        "about": "infopack signing vector v1; see docs/FORMAT.md section 10",
        "seed": VECTOR_SEED.hex(),
        "key_id_bytes": VECTOR_KEY_ID.hex(),
        "key_id_display": secret.id_hex,
        "public_key": secret.public_key().key.hex(),
        "secret_key_passphrase": VECTOR_PASSPHRASE.decode(),
        "manifest_sha256": hashlib.sha256(manifest).hexdigest(),
        "manifest_blake2b512": prehash(manifest).hex(),
        "signature_algorithm": blob[:2].decode(),
        "signature": blob[10:].hex(),
        "trusted_comment": lines[2].removeprefix("trusted comment: "),
        "global_signature": base64.b64decode(lines[3]).hex(),
    }
    (directory / "vector.json").write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n")


def _all_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_signing_vector_set_is_reproduced_byte_for_byte(tmp_path):
    write_signing_vector(tmp_path / "v")
    stored = _all_files(SIGNING_VECTOR)
    stored.pop("README.md", None)
    assert _all_files(tmp_path / "v") == stored


def test_signing_vector_set_verifies(tmp_path):
    expected = json.loads((SIGNING_VECTOR / "vector.json").read_text())
    public = load_public_key(SIGNING_VECTOR / "test.pub")
    assert public.key.hex() == expected["public_key"]
    assert public.id_hex == expected["key_id_display"]
    secret = load_secret_key(SIGNING_VECTOR / "test.key", expected["secret_key_passphrase"].encode())
    assert secret.seed.hex() == expected["seed"]
    report = verify_bundle(SIGNING_VECTOR / "bundle", [public])
    assert report.problems == [] and report.exit_code == 0
    # The Ed25519 layer alone, as another implementation would check it:
    verify_key = nacl.signing.VerifyKey(bytes.fromhex(expected["public_key"]))
    signature = bytes.fromhex(expected["signature"])
    verify_key.verify(bytes.fromhex(expected["manifest_blake2b512"]), signature)
    verify_key.verify(
        signature + expected["trusted_comment"].encode(), bytes.fromhex(expected["global_signature"])
    )


@pytest.mark.skipif(MINISIGN is None, reason="apt-get install minisign")
def test_signing_vector_set_verifies_with_minisign():
    bundle = SIGNING_VECTOR / "bundle"
    signatures = list((bundle / "signatures").iterdir())
    result = subprocess.run(
        [MINISIGN, "-V", "-m", str(bundle / "manifest.json"), "-p", str(SIGNING_VECTOR / "test.pub"),
         "-x", str(signatures[0])],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(MINISIGN is None, reason="apt-get install minisign")
def test_public_key_made_by_minisign_is_accepted(tmp_path):
    subprocess.run(
        [MINISIGN, "-G", "-W", "-p", str(tmp_path / "m.pub"), "-s", str(tmp_path / "m.key")],
        check=True, capture_output=True,
    )
    public = load_public_key(tmp_path / "m.pub")
    # minisign shows the ID in upper case without leading zeros; ours is 16 lower-case digits.
    shown_by_minisign = (tmp_path / "m.pub").read_text().splitlines()[0].split()[-1]
    assert int(shown_by_minisign, 16) == int(public.id_hex, 16)
    assert len(public.id_hex) == 16


def test_wrong_passphrase_is_one_clear_error_that_reveals_nothing(tmp_path):
    secret = generate_secret_key()
    data = encode_secret_key(secret, b"right horse", kdf="min")
    with pytest.raises(InfopackError) as caught:
        parse_secret_key(data, b"wrong horse", "k.key")
    message = str(caught.value)
    assert message == "k.key: wrong passphrase (or the key file is damaged)"
    for secret_form in (secret.seed.hex(), base64.b64encode(secret.seed).decode(), "horse"):
        assert secret_form not in message


def test_encrypted_key_without_passphrase_is_refused():
    data = encode_secret_key(generate_secret_key(), b"pw", kdf="min")
    with pytest.raises(InfopackError, match="encrypted: give a passphrase"):
        parse_secret_key(data, None)


def test_tampered_secret_key_file_rejected():
    data = encode_secret_key(generate_secret_key(), b"pw", kdf="min")
    lines = data.decode().splitlines()
    raw = bytearray(base64.b64decode(lines[-1].removeprefix("data: ")))
    raw[5] ^= 1
    lines[-1] = "data: " + base64.b64encode(bytes(raw)).decode()
    with pytest.raises(InfopackError, match="wrong passphrase"):
        parse_secret_key(("\n".join(lines) + "\n").encode(), b"pw")


def test_hostile_kdf_cost_in_key_file_refused_before_deriving():
    data = encode_secret_key(generate_secret_key(), b"pw", kdf="min").decode()
    hostile = data.replace("memlimit: 8192", "memlimit: 1099511627776")
    with pytest.raises(InfopackError, match="bad memlimit"):
        parse_secret_key(hostile.encode(), b"pw")


def test_unencrypted_key_round_trips_and_public_key_matches():
    secret = generate_secret_key("c")
    loaded = parse_secret_key(encode_secret_key(secret, None), None)
    assert loaded == secret
    assert loaded.public_key().key == bytes(nacl.signing.SigningKey(secret.seed).verify_key)


def test_secret_key_file_is_private_and_never_overwritten(tmp_path):
    secret = generate_secret_key()
    key_path, pub_path = write_key_pair(tmp_path / "k", secret, b"pw", kdf="min")
    assert key_path.stat().st_mode & 0o777 == 0o600
    assert load_secret_key(key_path, b"pw") == secret
    assert load_public_key(pub_path) == secret.public_key()
    with pytest.raises(InfopackError, match="refusing to overwrite"):
        write_key_pair(tmp_path / "k", generate_secret_key(), b"pw", kdf="min")
    assert load_secret_key(key_path, b"pw") == secret


def test_keygen_force_does_not_follow_a_planted_symlink(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (tmp_path / "k.key").symlink_to(victim)
    with pytest.raises(InfopackError):
        write_key_pair(tmp_path / "k", generate_secret_key(), b"pw", kdf="min", overwrite=True)
    assert victim.read_text() == "precious"


def test_keygen_refusal_leaves_no_half_key_pair(tmp_path):
    (tmp_path / "k.pub").write_text("someone else's key")
    with pytest.raises(InfopackError, match="refusing to overwrite"):
        write_key_pair(tmp_path / "k", generate_secret_key(), b"pw", kdf="min")
    assert not (tmp_path / "k.key").exists()


def test_secret_seed_never_in_repr_or_str():
    secret = generate_secret_key()
    for text in (repr(secret), str(secret)):
        assert secret.seed.hex() not in text and repr(secret.seed) not in text


def test_cli_unencrypted_keygen_warns_loudly(tmp_path):
    result = CliRunner().invoke(main, ["keygen", str(tmp_path / "k"), "--unencrypted"])
    assert result.exit_code == 0
    assert "WARNING" in result.output and "WITHOUT a passphrase" in result.output


def test_cli_wrong_passphrase_is_one_line_without_traceback(tmp_path):
    runner = CliRunner()
    good, bad = tmp_path / "good", tmp_path / "bad"
    good.write_text("good one\n")
    bad.write_text("bad one\n")
    runner.invoke(main, ["keygen", str(tmp_path / "k"), "--passphrase-file", str(good),
                         "--kdf-cost", "min"])
    (tmp_path / "b").mkdir()
    result = runner.invoke(main, ["sign", str(tmp_path / "b"), "--key", str(tmp_path / "k.key"),
                                  "--passphrase-file", str(bad)])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"error: {tmp_path / 'k.key'}: wrong passphrase (or the key file is damaged)"
    ]


def test_passphrase_comes_from_file_then_environment_then_prompt(tmp_path):
    file = tmp_path / "p"
    file.write_bytes(b"from file\n")
    env = {PASSPHRASE_ENV: "from env"}
    asked = []

    def prompt(text: str) -> str:
        asked.append(text)
        return "typed"

    assert resolve_passphrase(file, environ=env, prompt=prompt) == b"from file"
    assert resolve_passphrase(None, environ=env, prompt=prompt) == b"from env"
    assert resolve_passphrase(None, environ={}, prompt=prompt) == b"typed"
    assert asked == ["Passphrase: "]


def test_passphrase_problems_are_clear_errors(tmp_path):
    empty = tmp_path / "empty"
    empty.write_bytes(b"\n")
    with pytest.raises(InfopackError, match="empty passphrase"):
        resolve_passphrase(empty, environ={})

    def no_terminal(text: str) -> str:
        raise EOFError

    with pytest.raises(InfopackError, match="no terminal"):
        resolve_passphrase(None, environ={}, prompt=no_terminal)
    answers = iter(["one", "two"])
    with pytest.raises(InfopackError, match="differ"):
        resolve_passphrase(None, environ={}, prompt=lambda _: next(answers), confirm=True)


@pytest.mark.parametrize(
    ("mutation", "problem"),
    [
        (lambda t: t.replace("\n", "\r\n"), "carriage return"),
        (lambda t: t.rstrip("\n"), "newline"),
        (lambda t: t + "extra\n", "3 lines"),
        (lambda t: t.replace("untrusted comment: ", "comment: "), "untrusted comment"),
        (lambda t: t[:-6] + "!!!!=\n", "base64"),
        (lambda t: t[:-10] + "\n", "base64|bytes"),
        (lambda t: t.replace("RW", "Rk", 1), "Ed25519"),
        (lambda t: t.replace("public key", "public\x1bkey", 1), "control character"),
    ],
)
def test_malformed_public_key_files_rejected(mutation, problem):
    good = generate_secret_key().public_key().to_file_bytes().decode()
    assert parse_public_key(good.encode()).key  # the unmutated file is fine
    with pytest.raises(InfopackError, match=problem):
        parse_public_key(mutation(good).encode(), "k.pub")


def test_oversized_public_key_file_rejected(tmp_path):
    path = tmp_path / "huge.pub"
    path.write_bytes(b"x" * 100_000)
    with pytest.raises(InfopackError, match="larger than"):
        load_public_key(path)


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    shutil.rmtree(SIGNING_VECTOR / "bundle", ignore_errors=True)
    write_signing_vector(SIGNING_VECTOR)
    os.sync()
