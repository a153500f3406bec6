"""Signing a bundle: read BUNDLE/manifest.json, sign it, put the signature in place.

The manifest's format lives in format/manifest.py, the minisign signature in trust/signature.py.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
from collections.abc import Sequence
from pathlib import Path

from infopack.atomic import fsync_directory, write_file_atomically
from infopack.errors import InfopackError
from infopack.format.constants import (
    MANIFEST_MAX_BYTES,
    MANIFEST_NAME,
    SIGNATURE_SUFFIX,
    SIGNATURES_DIR,
)
from infopack.format.manifest import Manifest, parse_date, parse_manifest
from infopack.trust.keys import SecretKey
from infopack.trust.rotation import SignedRotation
from infopack.trust.signature import TrustedComment, sign_manifest, signature_file_name


def read_manifest_bytes(bundle_dir: Path) -> bytes:
    """The raw bytes of BUNDLE/manifest.json: a regular file (not a symlink), size-limited."""
    path = bundle_dir / MANIFEST_NAME
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode):
            raise InfopackError("is not a regular file", MANIFEST_NAME)
        if info.st_size > MANIFEST_MAX_BYTES:
            raise InfopackError(f"larger than {MANIFEST_MAX_BYTES} bytes", MANIFEST_NAME)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as handle:
            data = handle.read(MANIFEST_MAX_BYTES + 1)
    except FileNotFoundError:
        raise InfopackError("missing", MANIFEST_NAME) from None
    except OSError as err:
        raise InfopackError(f"cannot read: {err.strerror or err}", MANIFEST_NAME) from None
    if len(data) > MANIFEST_MAX_BYTES:
        raise InfopackError(f"larger than {MANIFEST_MAX_BYTES} bytes", MANIFEST_NAME)
    return data


def _set_created_time(path: Path, created: str) -> None:
    # Section 6.2: bundle files carry the content's date, not the build machine's clock.
    moment = dt.datetime.combine(parse_date(created) or dt.date(1980, 1, 1), dt.time(), dt.UTC)
    stamp = moment.timestamp()
    os.utime(path, (stamp, stamp))


def _check_rotations_fit(
    rotations: Sequence[SignedRotation], manifest: Manifest, secret_key: SecretKey
) -> None:
    """Refuse statements that verify would ignore: for another bundle, or not about this key."""
    named: set[bytes] = set()
    for rotation in rotations:
        statement = rotation.statement
        if statement.bundle_id != manifest.bundle.id:
            raise InfopackError(
                f"the rotation statement is for bundle {statement.bundle_id}, "
                f"this bundle is {manifest.bundle.id}",
                statement.file_name(),
            )
        named.update(statement.edge)
    public = secret_key.public_key().key
    if rotations and public not in named:
        raise InfopackError(
            f"no rotation statement names the signing key {secret_key.id_hex}; "
            "give the statements that lead to it",
            "sign",
        )


def sign_bundle(
    bundle_dir: Path,
    secret_key: SecretKey,
    *,
    signature_out: Path | None = None,
    expires: str | None = None,
    rotations: Sequence[SignedRotation] = (),
) -> Path:
    """Sign BUNDLE/manifest.json; return the signature file written.

    By default the signature goes to BUNDLE/signatures/<key id>.minisig (a second key adds a
    co-signature beside it); `signature_out` writes it elsewhere so the readers' copy need not
    carry any key ID. The manifest must parse: a signer never vouches for a malformed one.
    ROTATIONS (already checked, see rotation.load_rotation) are copied into signatures/ beside the
    signature, so partners who trust an older key can follow the chain to this one.
    """
    if expires is not None and parse_date(expires) is None:
        raise InfopackError(f"expiry date must be YYYY-MM-DD, got {expires!r}", "sign")
    if not bundle_dir.is_dir():
        raise InfopackError("bundle is not a directory", bundle_dir)
    manifest_bytes = read_manifest_bytes(bundle_dir)
    manifest = parse_manifest(manifest_bytes)
    if rotations and signature_out is not None:
        raise InfopackError(
            "rotation statements travel in BUNDLE/signatures/; they cannot go with --signature-out",
            "sign",
        )
    _check_rotations_fit(rotations, manifest, secret_key)
    comment = TrustedComment.for_manifest(manifest, expires).to_text()
    signature = sign_manifest(manifest_bytes, secret_key, comment)
    if signature_out is not None:
        write_file_atomically(signature_out, signature.to_bytes())
        return signature_out
    directory = bundle_dir / SIGNATURES_DIR
    if not directory.is_dir():
        directory.mkdir()
        fsync_directory(bundle_dir)  # the new signatures/ entry, before a signature is put in it
    for rotation in rotations:
        # The statements go in before the signature that needs them: a crash in between leaves
        # a bundle that is signed as before, or signed and carrying everything.
        statement_path = directory / rotation.statement.file_name()
        signature_path = directory / (rotation.statement.file_name() + SIGNATURE_SUFFIX)
        write_file_atomically(signature_path, rotation.signature_bytes)
        write_file_atomically(statement_path, rotation.statement_bytes)
        _set_created_time(signature_path, manifest.bundle.created)
        _set_created_time(statement_path, manifest.bundle.created)
    target = directory / signature_file_name(secret_key.key_id)
    write_file_atomically(target, signature.to_bytes())
    _set_created_time(target, manifest.bundle.created)
    _set_created_time(directory, manifest.bundle.created)
    return target
