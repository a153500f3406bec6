"""Property tests: no input makes `verify` raise; anything but the genuine bundle fails.

Three kinds of hostile input: mutated manifest bytes (stopped by the signature), mutated
signature files (stopped by the parser or the signature), and mutated manifests that a key
trusted by the verifier *did* sign, so they reach the manifest parser and the file checks.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infopack.errors import InfopackError, UsageProblem
from infopack.format.manifest import parse_manifest
from infopack.trust.keys import generate_secret_key
from infopack.trust.sign import sign_bundle
from infopack.trust.signature import parse_signature_file, sign_manifest
from infopack.trust.verify import verify_bundle
from kit.bundles import make_bundle

KEY = generate_secret_key("fuzz")
FUZZ = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def genuine(tmp_path_factory) -> tuple[Path, bytes, bytes]:
    bundle = make_bundle(tmp_path_factory.mktemp("fuzz") / "b")
    signature_path = sign_bundle(bundle, KEY)
    return bundle, (bundle / "manifest.json").read_bytes(), signature_path.read_bytes()


@st.composite
def mutated(draw, original: bytes) -> bytes:
    """Byte-level damage: flips, insertions, deletions, truncation, splices of odd bytes."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "splice"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 16))]
        elif kind == "truncate":
            del data[at:]
        else:
            data[at:at] = draw(st.sampled_from(
                [b"\r", b"\x00", b"\n", b"==", b'"', b"\\u0000", b"[" * 50, b"\xff\xfe", b"\t"]
            ))
    return bytes(data)


def run_verify(bundle: Path, **kwargs) -> int:
    try:
        return verify_bundle(bundle, [KEY.public_key()], **kwargs).exit_code
    except UsageProblem:
        return 2


def signed_parts(signature_file: bytes) -> tuple | None:
    try:
        parsed = parse_signature_file(signature_file, "fuzz")
    except InfopackError:
        return None
    return (parsed.key_id, parsed.signature, parsed.trusted_comment, parsed.global_signature)


def restore(bundle: Path, manifest: bytes, signature: bytes) -> None:
    (bundle / "manifest.json").write_bytes(manifest)
    (bundle / "signatures" / f"{KEY.id_hex}.minisig").write_bytes(signature)


@FUZZ
@given(data=st.data())
def test_mutated_manifest_never_verifies_and_never_raises(genuine, data):
    bundle, manifest, signature = genuine
    hostile = data.draw(mutated(manifest))
    try:
        (bundle / "manifest.json").write_bytes(hostile)
        assert run_verify(bundle) == (0 if hostile == manifest else 1)
    finally:
        restore(bundle, manifest, signature)


@FUZZ
@given(data=st.data())
def test_mutated_signature_file_never_verifies_and_never_raises(genuine, data, tmp_path):
    bundle, manifest, signature = genuine
    hostile = data.draw(st.one_of(mutated(signature), st.binary(max_size=300)))
    detached = tmp_path / "detached.minisig"
    try:
        (bundle / "signatures" / f"{KEY.id_hex}.minisig").write_bytes(hostile)
        detached.write_bytes(hostile)
        # The untrusted comment is not signed: changing only it still verifies, as in minisign.
        expected = (0,) if signed_parts(hostile) == signed_parts(signature) else (1, 2)
        assert run_verify(bundle) in expected
        shutil.move(bundle / "signatures", bundle.parent / "moved-signatures")
        try:
            assert run_verify(bundle, signature_files=[detached]) in expected
        finally:
            shutil.move(bundle.parent / "moved-signatures", bundle / "signatures")
    finally:
        restore(bundle, manifest, signature)


@FUZZ
@given(data=st.data())
def test_signed_hostile_manifest_is_refused_without_exception(genuine, data):
    # The signer's key is trusted, so these reach the parser and the directory checks.
    bundle, manifest, signature = genuine
    hostile = data.draw(mutated(manifest))
    signed = sign_manifest(hostile, KEY, "infopack/1 id=demo seq=1 created=2026-03-01")
    try:
        (bundle / "manifest.json").write_bytes(hostile)
        (bundle / "signatures" / f"{KEY.id_hex}.minisig").write_bytes(signed.to_bytes())
        outcome = run_verify(bundle)
        assert outcome in (0, 1)
        if outcome == 0:
            # A signed change to the bundle's metadata (say its title) is a genuine release;
            # but it must still list exactly the files that are there.
            assert parse_manifest(hostile).files == parse_manifest(manifest).files
    finally:
        restore(bundle, manifest, signature)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


PLAUSIBLE = {
    "path": st.sampled_from(["SHA256SUMS", "index.html", "../x", "CON", "a/./b", "A", "a", ""]),
    "size": st.one_of(st.integers(-1, 2**33), st.booleans(), st.floats()),
    "sha256": st.one_of(st.just("0" * 64), st.just("A" * 64), st.text(max_size=70)),
}
ENTRY = st.one_of(
    JSON_VALUES,
    st.fixed_dictionaries({key: PLAUSIBLE[key] | JSON_VALUES for key in ("path", "size", "sha256")}),
    st.dictionaries(st.sampled_from(["path", "size", "sha256", "mode"]), JSON_VALUES, max_size=4),
)
BUNDLE = st.one_of(
    JSON_VALUES,
    st.fixed_dictionaries({key: JSON_VALUES for key in
                           ("id", "title", "description", "lang", "sequence", "created", "publisher")}),
)


def laid_out(bundle: object, entries: list[object]) -> bytes:
    """Section 6.1's line layout around hostile content, so it reaches the type checks."""
    files = ",\n".join(json.dumps(entry, ensure_ascii=False) for entry in entries)
    bundle_line = json.dumps(bundle, ensure_ascii=False)
    text = f'{{\n"format": "infopack/1",\n"bundle": {bundle_line},\n"files": [\n{files}\n]\n}}\n'
    return text.encode("utf-8", errors="surrogatepass")


@FUZZ
@given(bundle=BUNDLE, entries=st.lists(ENTRY, max_size=6))
def test_structurally_hostile_manifests_raise_only_infopack_errors(bundle, entries):
    with pytest.raises(InfopackError):
        parse_manifest(laid_out(bundle, entries))


@FUZZ
@given(raw=st.binary(max_size=400))
def test_arbitrary_bytes_as_signature_raise_only_infopack_errors(raw):
    try:
        parse_signature_file(raw, "fuzz.minisig")
    except InfopackError as err:
        assert len(err.problems) == 1 and "\n" not in str(err)
