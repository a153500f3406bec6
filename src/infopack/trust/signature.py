"""minisign signatures over the manifest (FORMAT.md section 10).

A signature is a minisign "ED" signature (Ed25519 over BLAKE2b-512 of the manifest bytes) plus a
trusted comment that binds it to one release of one bundle:

    infopack/1 id=<bundle id> seq=<sequence> created=<YYYY-MM-DD>[ expires=<YYYY-MM-DD>]

Parsers here are strict and raise InfopackError; they are also what the verifier uses, so the
signer and the verifier cannot disagree about what a file means.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass

import nacl.exceptions

from infopack.errors import InfopackError
from infopack.format.constants import BUNDLE_ID_PATTERN, FORMAT_VERSION, SIGNATURE_SUFFIX
from infopack.format.manifest import Manifest, parse_date
from infopack.trust.keys import (
    KEY_ID_BYTES,
    UNTRUSTED_PREFIX,
    PublicKey,
    SecretKey,
    check_comment,
    decode_base64_exact,
    key_id_hex,
    split_text_lines,
)

SIGNATURE_MAX_BYTES = 4096

SIGNATURE_ALGORITHM_PREHASHED = b"ED"  # minisign: Ed25519 over BLAKE2b-512 of the data
SIGNATURE_ALGORITHM_LEGACY = b"Ed"  # minisign: Ed25519 over the data itself; not accepted
ED25519_SIGNATURE_BYTES = 64
SIGNATURE_BLOB_BYTES = 2 + KEY_ID_BYTES + ED25519_SIGNATURE_BYTES  # 74
TRUSTED_PREFIX = "trusted comment: "


# ----------------------------------------------------------------------------- trusted comment


@dataclass(frozen=True)
class TrustedComment:
    """The signed statement: which bundle, which release, and until when the signer vouches."""

    bundle_id: str
    sequence: int
    created: str
    expires: str | None = None

    def to_text(self) -> str:
        text = f"{FORMAT_VERSION} id={self.bundle_id} seq={self.sequence} created={self.created}"
        return text + (f" expires={self.expires}" if self.expires else "")

    @classmethod
    def for_manifest(cls, manifest: Manifest, expires: str | None = None) -> TrustedComment:
        info = manifest.bundle
        return cls(info.id, info.sequence, info.created, expires)

    def mismatch(self, manifest: Manifest) -> str | None:
        """Why this comment does not describe `manifest` (a mix-and-match), or None."""
        info = manifest.bundle
        for name, signed, listed in (
            ("id", self.bundle_id, info.id),
            ("seq", self.sequence, info.sequence),
            ("created", self.created, info.created),
        ):
            if signed != listed:
                return f"signed {name}={signed} but the manifest says {listed}"
        return None


_TRUSTED_COMMENT = re.compile(
    re.escape(FORMAT_VERSION)
    + f" id=(?P<id>{BUNDLE_ID_PATTERN})"
    + r" seq=(?P<seq>[1-9][0-9]{0,17})"
    r" created=(?P<created>[0-9-]{10})(?: expires=(?P<expires>[0-9-]{10}))?"
)


def parse_trusted_comment(text: str) -> TrustedComment:
    """Parse a verified trusted comment; ValueError when it is not an infopack/1 comment."""
    match = _TRUSTED_COMMENT.fullmatch(text)
    if not match:
        raise ValueError(f"trusted comment is not '{FORMAT_VERSION} id=… seq=… created=…'")
    for name in ("created", "expires"):
        if match[name] is not None and parse_date(match[name]) is None:
            raise ValueError(f"trusted comment has a bad {name} date")
    return TrustedComment(match["id"], int(match["seq"]), match["created"], match["expires"])


# ----------------------------------------------------------------------------- signature files


@dataclass(frozen=True)
class SignatureFile:
    """A minisign signature file: four lines, of which the last three are signed."""

    key_id: bytes
    signature: bytes
    trusted_comment: str
    global_signature: bytes
    untrusted_comment: str = ""

    @property
    def key_id_hex(self) -> str:
        return key_id_hex(self.key_id)

    def to_bytes(self) -> bytes:
        blob = SIGNATURE_ALGORITHM_PREHASHED + self.key_id + self.signature
        untrusted = self.untrusted_comment or f"infopack signature from key {self.key_id_hex}"
        return (
            f"{UNTRUSTED_PREFIX}{untrusted}\n"
            f"{base64.b64encode(blob).decode()}\n"
            f"{TRUSTED_PREFIX}{self.trusted_comment}\n"
            f"{base64.b64encode(self.global_signature).decode()}\n"
        ).encode()


def parse_signature_file(data: bytes, source: str) -> SignatureFile:
    """Parse a minisign signature strictly: no CR or control characters, exact lengths."""
    try:
        if len(data) > SIGNATURE_MAX_BYTES:
            raise ValueError(f"signature file larger than {SIGNATURE_MAX_BYTES} bytes")
        lines = split_text_lines(data, "signature file")
        if len(lines) != 4:
            raise ValueError(f"signature file has {len(lines)} lines, expected 4")
        untrusted_line, blob_line, trusted_line, global_line = lines
        if not untrusted_line.startswith(UNTRUSTED_PREFIX):
            raise ValueError("line 1 must start with 'untrusted comment: '")
        if not trusted_line.startswith(TRUSTED_PREFIX):
            raise ValueError("line 3 must start with 'trusted comment: '")
        untrusted = untrusted_line[len(UNTRUSTED_PREFIX) :]
        trusted = trusted_line[len(TRUSTED_PREFIX) :]
        for text, what in ((untrusted, "untrusted comment"), (trusted, "trusted comment")):
            problem = check_comment(text, what)
            if problem:
                raise ValueError(problem)
        blob = decode_base64_exact(blob_line, SIGNATURE_BLOB_BYTES, "signature")
        if blob[:2] == SIGNATURE_ALGORITHM_LEGACY:
            raise ValueError("legacy (non-prehashed) minisign signature; sign with 'ED'")
        if blob[:2] != SIGNATURE_ALGORITHM_PREHASHED:
            raise ValueError("unknown signature algorithm")
        global_signature = decode_base64_exact(
            global_line, ED25519_SIGNATURE_BYTES, "trusted comment signature"
        )
    except ValueError as err:
        raise InfopackError(str(err), source) from None
    return SignatureFile(
        key_id=blob[2:10],
        signature=blob[10:],
        trusted_comment=trusted,
        global_signature=global_signature,
        untrusted_comment=untrusted,
    )


def prehash(data: bytes) -> bytes:
    """minisign's prehash: BLAKE2b-512 of the signed file."""
    return hashlib.blake2b(data, digest_size=64).digest()


def sign_manifest(manifest_bytes: bytes, secret: SecretKey, trusted_comment: str) -> SignatureFile:
    """A minisign "ED" signature over `manifest_bytes` with a signed trusted comment."""
    problem = check_comment(trusted_comment, "trusted comment")
    if problem:
        raise InfopackError(problem, "sign")
    signing_key = secret.signing_key()
    signature = signing_key.sign(prehash(manifest_bytes)).signature
    global_signature = signing_key.sign(signature + trusted_comment.encode()).signature
    return SignatureFile(secret.key_id, signature, trusted_comment, global_signature)


def check_signature(manifest_digest: bytes, sig: SignatureFile, key: PublicKey) -> str | None:
    """Why `sig` is not `key`'s valid signature over the data with BLAKE2b-512 `manifest_digest`.

    Both signatures must hold, as in minisign: the one over the data and the one over
    (signature || trusted comment), so the comment cannot be swapped.
    """
    if sig.key_id != key.key_id:
        return "signature key ID does not match the key"
    verify_key = key.verify_key()
    try:
        verify_key.verify(manifest_digest, sig.signature)
    except (nacl.exceptions.CryptoError, ValueError):
        return "signature does not match the manifest"
    try:
        verify_key.verify(sig.signature + sig.trusted_comment.encode(), sig.global_signature)
    except (nacl.exceptions.CryptoError, ValueError):
        return "trusted comment signature does not match"
    return None


def signature_file_name(key_id: bytes) -> str:
    return f"{key_id_hex(key_id)}{SIGNATURE_SUFFIX}"
