"""Updates across a key change: `apply` follows rotation statements exactly as `verify` does, and
checks the remembered rotations BEFORE it writes anything (a retired key's update is refused with
the card untouched, not discovered by the final verify after the switch)."""

from __future__ import annotations

import shutil
from pathlib import Path

from infopack.trust.keys import generate_secret_key
from infopack.trust.rotation import make_rotation
from infopack.trust.sign import sign_bundle
from infopack.update.delta import make_delta
from kit.content import run_infopack
from kit.releases import refused


def _signed_by_new_key_with_rotation(releases, root: Path):
    """NEW, re-signed only by a new key that the old key handed the library to from sequence 2."""
    new_key = generate_secret_key("new publisher key")
    rotation = make_rotation(releases.key, new_key.public_key(), "library", 2, "2026-12-01")
    rotated = root / "rotated"
    shutil.copytree(releases.new, rotated)
    shutil.rmtree(rotated / "signatures")
    sign_bundle(rotated, new_key, rotations=[rotation])
    return rotated


def test_update_signed_by_the_rotated_key_applies_for_a_partner_who_trusts_only_the_old_key(releases, bundle, tmp_path):
    rotated = _signed_by_new_key_with_rotation(releases, tmp_path)
    delta = tmp_path / "rotated.delta"
    make_delta(releases.old, rotated, delta)
    state = tmp_path / "state.json"
    result = run_infopack("apply", str(delta), str(bundle), "--trust", str(releases.pub), "--state", str(state), timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(p.name for p in (bundle / "signatures").iterdir()) == sorted(p.name for p in (rotated / "signatures").iterdir())
    verified = run_infopack("verify", str(bundle), "--trust", str(releases.pub), timeout=60)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "rotation" in state.read_text(encoding="utf-8")


def test_retired_key_cannot_push_an_update_once_the_state_has_seen_the_rotation(releases, bundle, tmp_path):
    # The partner verified a release signed through the rotation, so its state knows the old key
    # retired from sequence 2. Someone holding the (stolen) old key now sends an update to sequence
    # 2 signed by the old key alone: refused before a byte of the card changes.
    rotated = _signed_by_new_key_with_rotation(releases, tmp_path)
    state = tmp_path / "state.json"
    seen = run_infopack("verify", str(rotated), "--trust", str(releases.pub), "--state", str(state), timeout=60)
    assert seen.returncode == 0, seen.stdout + seen.stderr
    stolen = tmp_path / "stolen.delta"
    make_delta(releases.old, releases.new, stolen)  # releases.new is signed by the old key only
    refused(stolen, bundle, releases.pub, "--state", str(state))
