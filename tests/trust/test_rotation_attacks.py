"""Key rotation (FORMAT.md 10.6), attacked: every test is named after what it stops.

Real keys, real signatures, real bundles; Debian's minisign checks the statement both ways.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from infopack.commands import main
from infopack.errors import InfopackError
from infopack.format.constants import SIGNATURES_DIR
from infopack.trust.keys import (
    PublicKey,
    SecretKey,
    generate_secret_key,
    parse_public_key,
    write_key_pair,
)
from infopack.trust.rotation import (
    RotationStatement,
    SignedRotation,
    check_signed_rotation,
    make_rotation,
    parse_statement,
)
from infopack.trust.sign import sign_bundle
from infopack.trust.signature import SignatureFile, sign_manifest
from infopack.trust.verify import VerifyReport, verify_bundle
from kit.bundles import make_bundle, minisign_key_pair, problems_of

MINISIGN = shutil.which("minisign")
needs_minisign = pytest.mark.skipif(MINISIGN is None, reason="apt-get install minisign")
CREATED = "2026-04-01"


@pytest.fixture(scope="module")
def keys() -> dict[str, SecretKey]:
    return {name: generate_secret_key(name) for name in ("A", "B", "C", "D", "X")}


def pub(secret: SecretKey) -> PublicKey:
    return secret.public_key()


def rotation(old: SecretKey, new: SecretKey, *, bundle_id: str = "demo", from_sequence: int = 1) -> SignedRotation:
    return make_rotation(old, pub(new), bundle_id, from_sequence, CREATED)


def carry(bundle: Path, *rotations: SignedRotation) -> None:
    """Put statements into signatures/ by hand, as an attacker (or a copy tool) could."""
    directory = bundle / SIGNATURES_DIR
    directory.mkdir(exist_ok=True)
    for item in rotations:
        name = item.statement.file_name()
        (directory / name).write_bytes(item.statement_bytes)
        (directory / (name + ".minisig")).write_bytes(item.signature_bytes)


def release(
    root: Path, signers: list[SecretKey], *rotations: SignedRotation, sequence: int = 2
) -> Path:
    """A bundle of SEQUENCE signed by each of SIGNERS, carrying ROTATIONS."""
    make_bundle(root, sequence=sequence)
    carry(root, *rotations)
    for signer in signers:
        sign_bundle(root, signer)
    return root


def statuses(report: VerifyReport) -> dict[str, str]:
    return {result.key_id or result.source: result.status for result in report.signatures}


def rotation_statuses(report: VerifyReport) -> list[tuple[str, str, str]]:
    return [(r.old_key_id, r.new_key_id, r.status) for r in report.rotations]


# ----------------------------------------------------------------------------- happy paths


def test_one_rotation_is_accepted_by_a_partner_who_trusts_only_the_old_key(tmp_path, keys):
    a, b = keys["A"], keys["B"]
    bundle = make_bundle(tmp_path / "b", sequence=2)
    sign_bundle(bundle, b, rotations=[rotation(a, b)])
    report = verify_bundle(bundle, [pub(a)])
    assert problems_of(report) == []
    assert report.ok
    assert report.signed_by == [b.id_hex]
    assert report.signatures[0].trusted_via == a.id_hex
    assert rotation_statuses(report) == [(a.id_hex, b.id_hex, "applied")]
    names = sorted(path.name for path in (bundle / SIGNATURES_DIR).iterdir())
    assert names == sorted([
        f"{b.id_hex}.minisig",
        f"rotation-{a.id_hex}-{b.id_hex}.txt",
        f"rotation-{a.id_hex}-{b.id_hex}.txt.minisig",
    ])


def test_two_rotations_in_a_row_are_followed(tmp_path, keys):
    a, b, c = keys["A"], keys["B"], keys["C"]
    bundle = make_bundle(tmp_path / "b", sequence=3)
    sign_bundle(bundle, c, rotations=[rotation(a, b), rotation(b, c)])
    report = verify_bundle(bundle, [pub(a)])
    assert problems_of(report) == []
    assert report.signed_by == [c.id_hex]
    assert report.signatures[0].trusted_via == a.id_hex
    assert sorted(rotation_statuses(report)) == sorted(
        [(a.id_hex, b.id_hex, "applied"), (b.id_hex, c.id_hex, "applied")]
    )


def test_cli_rotate_sign_and_verify_json_show_the_rotation(tmp_path, keys):
    a, b = generate_secret_key("old"), generate_secret_key("new")
    write_key_pair(tmp_path / "old", a, None)
    write_key_pair(tmp_path / "new", b, None)
    bundle = make_bundle(tmp_path / "b", sequence=7)
    runner = CliRunner()
    statement = tmp_path / "handover.txt"
    result = runner.invoke(main, [
        "rotate", "--old", str(tmp_path / "old.key"), "--new", str(tmp_path / "new.pub"),
        "--out", str(statement), "--bundle-id", "demo", "--from-sequence", "7",
    ])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "handover.txt.minisig").is_file()
    result = runner.invoke(main, [
        "sign", str(bundle), "--key", str(tmp_path / "new.key"), "--rotation", str(statement),
    ])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["verify", str(bundle), "--trust", str(tmp_path / "old.pub"), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["ok"] is True
    [shown] = document["rotations"]
    assert (shown["old_key_id"], shown["new_key_id"], shown["status"]) == (a.id_hex, b.id_hex, "applied")
    assert (shown["bundle_id"], shown["from_sequence"]) == ("demo", 7)
    assert document["signatures"][0]["trusted_via"] == a.id_hex
    text = runner.invoke(main, ["verify", str(bundle), "--trust", str(tmp_path / "old.pub")]).output
    assert f"rotation signatures/rotation-{a.id_hex}-{b.id_hex}.txt: applied: key {a.id_hex} " in text
    assert f"trusted through rotation from key {a.id_hex}" in text


def test_remembered_rotation_trusts_a_later_release_that_no_longer_carries_it(tmp_path, keys):
    a, b = keys["A"], keys["B"]
    state = tmp_path / "state.json"
    assert verify_bundle(release(tmp_path / "r2", [b], rotation(a, b)), [pub(a)], state_file=state).ok
    document = json.loads(state.read_text())
    assert document["format"] == "infopack-verify-state/2"
    assert document["rotations"][0]["from_sequence"] == 1
    report = verify_bundle(release(tmp_path / "r3", [b], sequence=3), [pub(a)], state_file=state)
    assert problems_of(report) == []
    assert rotation_statuses(report) == [(a.id_hex, b.id_hex, "remembered")]


def test_old_state_files_still_load_and_stay_version_1_until_a_rotation_is_seen(tmp_path, keys):
    a, b = keys["A"], keys["B"]
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"format": "infopack-verify-state/1", "highest_sequence": {"demo": 1}}))
    assert verify_bundle(release(tmp_path / "plain", [a]), [pub(a)], state_file=state).ok
    assert json.loads(state.read_text()) == {
        "format": "infopack-verify-state/1", "highest_sequence": {"demo": 2}
    }
    report = verify_bundle(release(tmp_path / "rot", [b], rotation(a, b), sequence=3), [pub(a)], state_file=state)
    assert report.ok
    assert json.loads(state.read_text())["format"] == "infopack-verify-state/2"


# ----------------------------------------------------------------------------- attacks


def test_new_key_with_no_statement_is_untrusted(tmp_path, keys):
    a, b = keys["A"], keys["B"]
    report = verify_bundle(release(tmp_path / "b", [b]), [pub(a)])
    assert not report.ok
    assert statuses(report) == {b.id_hex: "untrusted-key"}


def test_statement_signed_by_the_new_key_itself_is_refused(tmp_path, keys):
    a, b = keys["A"], keys["B"]
    statement = RotationStatement("demo", pub(a), pub(b), 1, CREATED)
    data = statement.to_bytes()
    forged = sign_manifest(data, b, statement.trusted_comment())  # B vouches for itself
    bundle = release(tmp_path / "b", [b], SignedRotation(statement, data, forged.to_bytes()))
    report = verify_bundle(bundle, [pub(a)])
    assert not report.ok
    assert statuses(report) == {b.id_hex: "untrusted-key"}
    assert any("only the old key can hand over its trust" in p for p in problems_of(report))
    with pytest.raises(InfopackError, match="only the old key"):
        check_signed_rotation(data, forged.to_bytes(), "statement")


def test_statement_handing_a_key_to_itself_is_refused(keys):
    a = keys["A"]
    with pytest.raises(InfopackError, match="to itself"):
        make_rotation(a, pub(a), "demo", 1, CREATED)


def test_cycle_a_to_b_to_a_is_refused_and_the_check_ends(tmp_path, keys):
    a, b = keys["A"], keys["B"]
    expected = {a.id_hex: "retired", b.id_hex: "valid"}
    for signer in (a, b):
        bundle = release(tmp_path / signer.id_hex, [signer], rotation(a, b), rotation(b, a))
        report = verify_bundle(bundle, [pub(a)])
        assert not report.ok, signer
        # B -> A leads back into a trusted key: refused, and A does not come back to life.
        assert (b.id_hex, a.id_hex, "conflict") in rotation_statuses(report)
        assert any("rotation statement refused" in p for p in problems_of(report))
        assert statuses(report) == {signer.id_hex: expected[signer.id_hex]}


def test_cycle_among_untrusted_keys_gives_them_no_trust(tmp_path, keys):
    a, b, c = keys["A"], keys["B"], keys["C"]
    bundle = release(tmp_path / "b", [c], rotation(b, c), rotation(c, b))
    report = verify_bundle(bundle, [pub(a)])
    assert not report.ok
    assert statuses(report) == {c.id_hex: "untrusted-key"}
    assert {status for _, _, status in rotation_statuses(report)} == {"untrusted-key"}


def test_chain_through_an_untrusted_key_is_refused(tmp_path, keys):
    a, b, c, x = keys["A"], keys["B"], keys["C"], keys["X"]
    # A -> B is real; X -> C is signed by a key nobody trusts, so C gains nothing.
    bundle = release(tmp_path / "b", [c], rotation(a, b), rotation(x, c))
    report = verify_bundle(bundle, [pub(a)])
    assert not report.ok
    assert statuses(report) == {c.id_hex: "untrusted-key"}
    assert (x.id_hex, c.id_hex, "untrusted-key") in rotation_statuses(report)


def test_statement_for_another_key_does_not_trust_the_signer(tmp_path, keys):
    a, b, c = keys["A"], keys["B"], keys["C"]
    bundle = release(tmp_path / "b", [c], rotation(a, b))  # signed by C, the statement names B
    report = verify_bundle(bundle, [pub(a)])
    assert not report.ok
    assert statuses(report) == {c.id_hex: "untrusted-key"}


def test_statement_for_another_bundle_does_not_transfer_this_one(tmp_path, keys):
    a, b = keys["A"], keys["B"]
    bundle = release(tmp_path / "b", [b], rotation(a, b, bundle_id="other-library"))
    report = verify_bundle(bundle, [pub(a)])
    assert not report.ok
    assert statuses(report) == {b.id_hex: "untrusted-key"}
    with pytest.raises(InfopackError, match="for bundle other-library"):
        sign_bundle(make_bundle(tmp_path / "c"), b, rotations=[rotation(a, b, bundle_id="other-library")])


def test_new_key_below_the_from_sequence_is_not_accepted_through_the_statement(tmp_path, keys):
    a, b = keys["A"], keys["B"]
    early = verify_bundle(release(tmp_path / "s4", [b], rotation(a, b, from_sequence=5), sequence=4), [pub(a)])
    assert not early.ok
    assert statuses(early) == {b.id_hex: "untrusted-key"}
    assert any("only from sequence 5" in str(w) for w in early.warnings)
    on_time = verify_bundle(release(tmp_path / "s5", [b], rotation(a, b, from_sequence=5), sequence=5), [pub(a)])
    assert problems_of(on_time) == []


@pytest.mark.parametrize("tamper", ["from-sequence", "new-key", "trusted-comment", "global-signature"])
def test_tampered_statement_bytes_are_refused(tmp_path, keys, tamper):
    a, b, x = keys["A"], keys["B"], keys["X"]
    honest = rotation(a, b, from_sequence=9)
    statement, signature = honest.statement_bytes, honest.signature_bytes
    if tamper == "from-sequence":
        statement = statement.replace(b"from-sequence: 9", b"from-sequence: 1")
    elif tamper == "new-key":
        other = RotationStatement("demo", pub(a), pub(x), 9, CREATED)
        statement = other.to_bytes()
    else:
        lines = signature.split(b"\n")
        if tamper == "trusted-comment":
            lines[2] = lines[2].replace(b"from=9", b"from=1")
        else:
            lines[3] = lines[3][:10] + (b"A" if lines[3][10:11] != b"A" else b"B") + lines[3][11:]
        signature = b"\n".join(lines)
    signer = x if tamper == "new-key" else b
    forged = SignedRotation(parse_statement(statement, "s"), statement, signature)
    bundle = release(tmp_path / "b", [signer], forged, sequence=9)
    report = verify_bundle(bundle, [pub(a)])
    assert not report.ok
    assert statuses(report) == {signer.id_hex: "untrusted-key"}
    assert any("rotation statement's signature" in p for p in problems_of(report))


@pytest.mark.parametrize("damage", [
    b"\r\n", b"\n\n", b" \n", b"\nextra: 1\n",
])
def test_statement_not_in_canonical_form_is_refused(keys, damage):
    honest = rotation(keys["A"], keys["B"]).statement_bytes
    with pytest.raises(InfopackError):
        parse_statement(honest[:-1] + damage, "s")
    with pytest.raises(InfopackError, match="larger than"):
        parse_statement(honest + b"x" * 2000, "s")


def test_statement_without_its_signature_is_refused(tmp_path, keys):
    a, b = keys["A"], keys["B"]
    bundle = release(tmp_path / "b", [b], rotation(a, b))
    name = f"rotation-{a.id_hex}-{b.id_hex}.txt"
    (bundle / SIGNATURES_DIR / (name + ".minisig")).unlink()
    report = verify_bundle(bundle, [pub(a)])
    assert not report.ok
    assert any("without its signature" in p for p in problems_of(report))


def test_statement_under_a_name_of_other_keys_is_refused(tmp_path, keys):
    a, b, c = keys["A"], keys["B"], keys["C"]
    bundle = release(tmp_path / "b", [b], rotation(a, b))
    directory = bundle / SIGNATURES_DIR
    for suffix in ("", ".minisig"):
        (directory / f"rotation-{a.id_hex}-{b.id_hex}.txt{suffix}").rename(
            directory / f"rotation-{a.id_hex}-{c.id_hex}.txt{suffix}"
        )
    report = verify_bundle(bundle, [pub(a)])
    assert not report.ok
    assert any("file name does not match its keys" in p for p in problems_of(report))


def test_retired_key_signing_after_the_rotation_was_seen_is_refused(tmp_path, keys):
    a, b = keys["A"], keys["B"]
    state = tmp_path / "state.json"
    assert verify_bundle(release(tmp_path / "r2", [b], rotation(a, b)), [pub(a)], state_file=state).ok
    stolen = release(tmp_path / "r3", [a], sequence=3)  # the old key, stolen, signs alone
    report = verify_bundle(stolen, [pub(a)], state_file=state)
    assert not report.ok
    assert statuses(report) == {a.id_hex: "retired"}
    assert json.loads(state.read_text())["highest_sequence"] == {"demo": 2}
    # A partner without the state has not seen the rotation and cannot know (the known limit).
    assert verify_bundle(stolen, [pub(a)]).ok


def test_stolen_old_key_cannot_sign_past_an_announced_rotation(tmp_path, keys):
    # Release 4, still signed by A, announces that B takes over from 5. A partner with a state
    # remembers it: from 5 on, A alone is refused, and B is trusted without the statement.
    a, b = keys["A"], keys["B"]
    state = tmp_path / "state.json"
    report = verify_bundle(
        release(tmp_path / "r4", [a], rotation(a, b, from_sequence=5), sequence=4), [pub(a)], state_file=state
    )
    assert problems_of(report) == []
    assert rotation_statuses(report) == [(a.id_hex, b.id_hex, "valid")]
    stolen = verify_bundle(release(tmp_path / "r5a", [a], sequence=5), [pub(a)], state_file=state)
    assert not stolen.ok
    assert statuses(stolen) == {a.id_hex: "retired"}
    honest = verify_bundle(release(tmp_path / "r5b", [b], sequence=5), [pub(a)], state_file=state)
    assert problems_of(honest) == []


def test_old_key_signing_beside_its_own_statement_does_not_count(tmp_path, keys):
    a, b = keys["A"], keys["B"]
    report = verify_bundle(release(tmp_path / "b", [a], rotation(a, b)), [pub(a)])
    assert not report.ok
    assert statuses(report) == {a.id_hex: "retired"}


def test_replaying_an_old_statement_after_a_newer_one_is_refused(tmp_path, keys):
    a, b, c = keys["A"], keys["B"], keys["C"]
    state = tmp_path / "state.json"
    assert verify_bundle(release(tmp_path / "r2", [b], rotation(a, b)), [pub(a)], state_file=state).ok
    report = verify_bundle(
        release(tmp_path / "r3", [c], rotation(a, b), rotation(b, c), sequence=3), [pub(a)], state_file=state
    )
    assert problems_of(report) == []
    # B, retired by B -> C, is stolen: it signs release 4 and replays the old A -> B.
    replay = release(tmp_path / "r4", [b], rotation(a, b), sequence=4)
    report = verify_bundle(replay, [pub(a)], state_file=state)
    assert not report.ok
    assert statuses(report) == {b.id_hex: "retired"}


def test_stolen_old_key_cannot_fork_a_remembered_rotation(tmp_path, keys):
    a, b, x = keys["A"], keys["B"], keys["X"]
    state = tmp_path / "state.json"
    assert verify_bundle(release(tmp_path / "r2", [b], rotation(a, b)), [pub(a)], state_file=state).ok
    fork = release(tmp_path / "r3", [x], rotation(a, x), sequence=3)  # A, stolen, hands over to X
    report = verify_bundle(fork, [pub(a)], state_file=state)
    assert not report.ok
    assert (a.id_hex, x.id_hex, "conflict") in rotation_statuses(report)
    assert statuses(report) == {x.id_hex: "untrusted-key"}
    # Without the state, one bundle carrying both hand-overs is refused as well.
    both = release(tmp_path / "both", [b], rotation(a, b), rotation(a, x), sequence=3)
    assert not verify_bundle(both, [pub(a)]).ok


def test_threshold_double_count_via_rotation_is_refused(tmp_path, keys):
    a, b, d = keys["A"], keys["B"], keys["D"]
    trusted = [pub(a), pub(d)]
    # A and its successor B are one signer: 1 of 2.
    report = verify_bundle(release(tmp_path / "ab", [a, b], rotation(a, b)), trusted, threshold=2)
    assert not report.ok
    assert len(report.signed_by) <= 1
    # A hands over to D, which is trusted on its own: refused, D cannot count twice.
    report = verify_bundle(release(tmp_path / "ad", [a, d], rotation(a, d)), trusted, threshold=2)
    assert not report.ok
    assert (a.id_hex, d.id_hex, "conflict") in rotation_statuses(report)
    # Two chains meeting in one key (A -> B and D -> B): one signature cannot count for both.
    report = verify_bundle(
        release(tmp_path / "merge", [b], rotation(a, b), rotation(d, b)), trusted, threshold=2
    )
    assert not report.ok
    assert len(report.signed_by) <= 1
    assert sorted(rotation_statuses(report)) == sorted(
        [(a.id_hex, b.id_hex, "conflict"), (d.id_hex, b.id_hex, "conflict")]
    )
    # The honest case: A rotated to B, D did not; B and D are two signers.
    report = verify_bundle(release(tmp_path / "ok", [b, d], rotation(a, b)), trusted, threshold=2)
    assert problems_of(report) == []
    assert sorted(report.signed_by) == sorted([b.id_hex, d.id_hex])


def test_old_and_new_key_of_one_chain_count_once_even_when_their_comments_differ(tmp_path, keys):
    # A still speaks for sequence 4, B from 5: an A signature claiming sequence 4 beside B's must
    # not make two signers of one chain before the manifest is even read.
    a, b, d = keys["A"], keys["B"], keys["D"]
    bundle = release(tmp_path / "b", [b], rotation(a, b, from_sequence=5), sequence=5)
    manifest = (bundle / "manifest.json").read_bytes()
    old_claim = sign_manifest(manifest, a, "infopack/1 id=demo seq=4 created=2026-03-01")
    (bundle / SIGNATURES_DIR / f"{a.id_hex}.minisig").write_bytes(old_claim.to_bytes())
    report = verify_bundle(bundle, [pub(a), pub(d)], threshold=2)
    assert not report.ok
    assert "duplicate" in statuses(report).values()
    assert any("the manifest was not read further" in p for p in problems_of(report))


def test_sign_refuses_statements_that_do_not_lead_to_the_signing_key(tmp_path, keys):
    a, b, c = keys["A"], keys["B"], keys["C"]
    with pytest.raises(InfopackError, match="no rotation statement names the signing key"):
        sign_bundle(make_bundle(tmp_path / "b"), c, rotations=[rotation(a, b)])


def test_state_file_with_a_damaged_rotation_is_refused(tmp_path, keys):
    a = keys["A"]
    state = tmp_path / "state.json"
    state.write_text(json.dumps({
        "format": "infopack-verify-state/2", "highest_sequence": {},
        "rotations": [{"bundle": "demo", "old_key": "AAAA", "new_key": "AAAA", "from_sequence": 1,
                       "created": CREATED}],
    }))
    result = CliRunner().invoke(main, [
        "verify", str(release(tmp_path / "b", [a])), "--trust", str(_write_pub(tmp_path, a)),
        "--state", str(state),
    ])
    assert result.exit_code == 2
    assert "state file is damaged" in result.output


def _write_pub(directory: Path, secret: SecretKey) -> Path:
    path = directory / f"{secret.id_hex}.pub"
    path.write_bytes(pub(secret).to_file_bytes())
    return path


# ----------------------------------------------------------------------------- minisign


@needs_minisign
def test_debian_minisign_checks_the_statement_and_refuses_a_tampered_one(tmp_path, keys):
    a, b = keys["A"], keys["B"]
    bundle = make_bundle(tmp_path / "b", sequence=2)
    sign_bundle(bundle, b, rotations=[rotation(a, b, from_sequence=2)])
    statement = bundle / SIGNATURES_DIR / f"rotation-{a.id_hex}-{b.id_hex}.txt"
    old_pub = _write_pub(tmp_path, a)
    result = subprocess.run([MINISIGN, "-Vm", str(statement), "-p", str(old_pub)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert (
        f"Trusted comment: infopack-rotation/1 id=demo old={a.id_hex} new={b.id_hex} from=2 "
        f"created={CREATED}"
    ) in result.stdout
    statement.write_bytes(statement.read_bytes().replace(b"from-sequence: 2", b"from-sequence: 1"))
    result = subprocess.run([MINISIGN, "-Vm", str(statement), "-p", str(old_pub)], capture_output=True, text=True)
    assert result.returncode != 0


@needs_minisign
def test_statement_signed_by_debian_minisign_is_accepted(tmp_path, keys):
    secret_path, old = minisign_key_pair(tmp_path / "mk")
    statement = RotationStatement("demo", old, pub(keys["B"]), 1, CREATED)
    path = tmp_path / "rotation.txt"
    path.write_bytes(statement.to_bytes())
    subprocess.run(
        [MINISIGN, "-S", "-s", str(secret_path), "-m", str(path), "-t", statement.trusted_comment()],
        check=True, capture_output=True,
    )
    signed = check_signed_rotation(path.read_bytes(), (tmp_path / "rotation.txt.minisig").read_bytes(), "r")
    assert signed.statement == statement
    bundle = release(tmp_path / "b", [keys["B"]], signed)
    assert problems_of(verify_bundle(bundle, [old])) == []


def test_signature_file_round_trip_keeps_untrusted_comment(keys):
    signed = rotation(keys["A"], keys["B"])
    assert signed.signature_bytes.startswith(
        f"untrusted comment: infopack key rotation signed by the old key {keys['A'].id_hex}\n".encode()
    )
    assert isinstance(parse_public_key(pub(keys["A"]).to_file_bytes()), PublicKey)
    assert SignatureFile  # the type the signature bytes parse into (trust/signature.py)


def test_rotation_file_names_obey_the_fat32_name_rules(keys):
    from infopack.format.names import auto_acted_reason, check_bundle_path

    name = rotation(keys["A"], keys["B"]).statement.file_name()
    for path in (f"{SIGNATURES_DIR}/{name}", f"{SIGNATURES_DIR}/{name}.minisig"):
        assert check_bundle_path(path) is None and auto_acted_reason(path) is None


VECTOR = Path(__file__).resolve().parents[1] / "vectors" / "rotation-v1"
VECTOR_NAME = "rotation-0807060504030201-1817161514131211.txt"


def test_rotation_vector_is_reproduced_byte_for_byte():
    old = SecretKey(bytes(range(1, 9)), bytes(range(32)), "old")
    new = SecretKey(bytes(range(0x11, 0x19)), bytes(range(32, 64)), "new")
    assert (VECTOR / "old.pub").read_bytes() == pub(old).to_file_bytes()
    assert (VECTOR / "new.pub").read_bytes() == pub(new).to_file_bytes()
    made = make_rotation(old, pub(new), "news-2026", 12, "2026-11-30")
    assert made.statement.file_name() == VECTOR_NAME
    assert (VECTOR / VECTOR_NAME).read_bytes() == made.statement_bytes
    assert (VECTOR / (VECTOR_NAME + ".minisig")).read_bytes() == made.signature_bytes


@needs_minisign
def test_rotation_vector_verifies_with_minisign():
    result = subprocess.run(
        [MINISIGN, "-Vm", str(VECTOR / VECTOR_NAME), "-p", str(VECTOR / "old.pub")],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "from=12 created=2026-11-30" in result.stdout
