"""Signing keys: the minisign-compatible public key file and infopack's secret key file.

Public keys use minisign's format so a partner with only Debian's `minisign` can check a bundle
(FORMAT.md section 10.1). Secret keys use a small format of our own (section 10.2): the Ed25519
seed sealed with SecretBox under a key derived from a passphrase by argon2id.

The seed never appears in a repr, a log line or an error message; errors name the file only.
"""

from __future__ import annotations

import base64
import binascii
import getpass
import os
import secrets
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import nacl.exceptions
import nacl.pwhash
import nacl.secret
import nacl.signing

from infopack.errors import InfopackError

SIGNATURE_ALGORITHM_KEY = b"Ed"  # minisign's tag for an Ed25519 public/secret key
KEY_ID_BYTES = 8
PUBLIC_KEY_BYTES = 32
SEED_BYTES = 32
PUBLIC_KEY_BLOB_BYTES = len(SIGNATURE_ALGORITHM_KEY) + KEY_ID_BYTES + PUBLIC_KEY_BYTES  # 42
# What a secret key file seals: "Ed" || key id || seed || public key.
SEALED_PAYLOAD_BYTES = PUBLIC_KEY_BLOB_BYTES + SEED_BYTES  # 74

# Key files are a few hundred bytes; refusing anything larger stops a hostile "key" from
# making us read an endless file.
KEY_FILE_MAX_BYTES = 4096
COMMENT_MAX_CHARS = 512

UNTRUSTED_PREFIX = "untrusted comment: "
SECRET_KEY_FORMAT = "infopack-secret-key/1"
PASSPHRASE_ENV = "INFOPACK_PASSPHRASE"

# argon2id cost presets (opslimit, memlimit). MODERATE takes about 0.8 s here.
KDF_LIMITS: dict[str, tuple[int, int]] = {
    "min": (nacl.pwhash.argon2id.OPSLIMIT_MIN, nacl.pwhash.argon2id.MEMLIMIT_MIN),
    "interactive": (
        nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE,
        nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE,
    ),
    "moderate": (nacl.pwhash.argon2id.OPSLIMIT_MODERATE, nacl.pwhash.argon2id.MEMLIMIT_MODERATE),
    "sensitive": (
        nacl.pwhash.argon2id.OPSLIMIT_SENSITIVE,
        nacl.pwhash.argon2id.MEMLIMIT_SENSITIVE,
    ),
}
# A key file names its own cost; cap it so a planted file cannot demand 100 GB of memory.
KDF_MAX_OPSLIMIT, KDF_MAX_MEMLIMIT = KDF_LIMITS["sensitive"]


def key_id_hex(key_id: bytes) -> str:
    """Display form of a key ID: minisign prints the 8 bytes as a little-endian integer."""
    return f"{int.from_bytes(key_id, 'little'):016x}"


def check_comment(text: str, what: str, limit: int = COMMENT_MAX_CHARS) -> str | None:
    """Why `text` cannot be a one-line comment in a key or signature file, or None."""
    if len(text) > limit:
        return f"{what} longer than {limit} characters"
    for char in text:
        # CR and other control characters are how a comment could fake extra lines or
        # hide text on a terminal; minisign refuses them too. Tab is allowed: minisign's
        # own default trusted comment separates its fields with tabs.
        code = ord(char)
        if (code < 0x20 and char != "\t") or code == 0x7F or 0x80 <= code < 0xA0:
            return f"control character U+{ord(char):04X} in {what}"
    return None


def decode_base64_exact(text: str, length: int, what: str) -> bytes:
    """Strict base64 (RFC 4648, padding, no whitespace) that must decode to `length` bytes."""
    try:
        raw = binascii.a2b_base64(text.encode("ascii"), strict_mode=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise ValueError(f"{what} is not valid base64") from None
    if len(raw) != length:
        raise ValueError(f"{what} has {len(raw)} bytes, expected {length}")
    return raw


def read_small_file(path: Path, limit: int, what: str) -> bytes:
    """Read a file that must be small; InfopackError (naming only the path) otherwise."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as err:
        raise InfopackError(f"cannot read {what}: {err.strerror or err}", path) from None
    if len(data) > limit:
        raise InfopackError(f"{what} is larger than {limit} bytes", path)
    return data


class MissingFile(InfopackError):
    """The input does not exist (also: a link to nothing). Told apart from unreadable input by the
    failed open itself, not by a second look that another process could change in between."""


def open_regular_file(path: Path, what: str) -> BinaryIO:
    """Open an input that must be a plain file (a trusted key, a signature, verify's state).

    A FIFO or a device would block the read forever or never end, so a verify run given one
    would hang instead of answering. The type is checked before opening, and again on the open
    descriptor (opened non-blocking, so even a FIFO swapped in between cannot hang the open).
    Symbolic links are followed: a key or state file kept elsewhere is an ordinary setup.
    """
    refused = f"{what} is not a regular file (FIFOs and devices are refused)"
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise InfopackError(refused, path)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError as err:
        raise MissingFile(f"cannot read {what}: {err.strerror or err}", path) from None
    except OSError as err:
        raise InfopackError(f"cannot read {what}: {err.strerror or err}", path) from None
    handle = os.fdopen(fd, "rb")
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        handle.close()
        raise InfopackError(refused, path)
    return handle


def read_regular_file(path: Path, limit: int, what: str) -> bytes:
    """read_small_file for inputs that must be plain files (see open_regular_file)."""
    with open_regular_file(path, what) as handle:
        try:
            data = handle.read(limit + 1)
        except OSError as err:
            raise InfopackError(f"cannot read {what}: {err.strerror or err}", path) from None
    if len(data) > limit:
        raise InfopackError(f"{what} is larger than {limit} bytes", path)
    return data


def split_text_lines(data: bytes, what: str) -> list[str]:
    """UTF-8 lines of a small text file, refusing CR and a missing or doubled final newline."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{what} is not UTF-8 text") from None
    if "\r" in text:
        raise ValueError(f"{what} contains a carriage return")
    if not text.endswith("\n"):
        raise ValueError(f"{what} does not end with a newline")
    return text[:-1].split("\n")


# ----------------------------------------------------------------------------- public keys


@dataclass(frozen=True)
class PublicKey:
    """A trusted signer: minisign key ID (a hint, not a secret) and the Ed25519 public key."""

    key_id: bytes
    key: bytes
    comment: str = ""

    def __post_init__(self) -> None:
        if len(self.key_id) != KEY_ID_BYTES or len(self.key) != PUBLIC_KEY_BYTES:
            raise ValueError("public key has the wrong length")

    @property
    def id_hex(self) -> str:
        return key_id_hex(self.key_id)

    def blob(self) -> bytes:
        return SIGNATURE_ALGORITHM_KEY + self.key_id + self.key

    def to_file_bytes(self) -> bytes:
        """minisign's two-line public key file."""
        comment = self.comment or f"infopack public key {self.id_hex}"
        encoded = base64.b64encode(self.blob()).decode("ascii")
        return f"{UNTRUSTED_PREFIX}{comment}\n{encoded}\n".encode()

    def verify_key(self) -> nacl.signing.VerifyKey:
        return nacl.signing.VerifyKey(self.key)


def parse_public_key(data: bytes, source: str = "public key") -> PublicKey:
    """Parse a minisign public key file strictly; InfopackError with one line otherwise."""
    try:
        lines = split_text_lines(data, "public key file")
        if len(lines) != 2:
            raise ValueError(f"public key file has {len(lines)} lines, expected 2")
        comment_line, key_line = lines
        if not comment_line.startswith(UNTRUSTED_PREFIX):
            raise ValueError("first line must start with 'untrusted comment: '")
        comment = comment_line[len(UNTRUSTED_PREFIX) :]
        problem = check_comment(comment, "untrusted comment")
        if problem:
            raise ValueError(problem)
        blob = decode_base64_exact(key_line, PUBLIC_KEY_BLOB_BYTES, "public key")
        if blob[:2] != SIGNATURE_ALGORITHM_KEY:
            raise ValueError("not an Ed25519 minisign public key")
    except ValueError as err:
        raise InfopackError(str(err), source) from None
    return PublicKey(key_id=blob[2:10], key=blob[10:], comment=comment)


def load_public_key(path: Path) -> PublicKey:
    return parse_public_key(read_regular_file(path, KEY_FILE_MAX_BYTES, "public key"), str(path))


# ----------------------------------------------------------------------------- secret keys


@dataclass(frozen=True)
class SecretKey:
    """An Ed25519 signing key with its minisign key ID. The seed is kept out of repr()."""

    key_id: bytes
    seed: bytes = field(repr=False)
    comment: str = ""

    def __post_init__(self) -> None:
        if len(self.key_id) != KEY_ID_BYTES or len(self.seed) != SEED_BYTES:
            raise ValueError("secret key has the wrong length")

    @property
    def id_hex(self) -> str:
        return key_id_hex(self.key_id)

    def signing_key(self) -> nacl.signing.SigningKey:
        return nacl.signing.SigningKey(self.seed)

    def public_key(self) -> PublicKey:
        verify_key = self.signing_key().verify_key
        label = f"infopack public key {self.id_hex}" + (f" ({self.comment})" if self.comment else "")
        return PublicKey(self.key_id, bytes(verify_key), comment=label)


def generate_secret_key(comment: str = "") -> SecretKey:
    """A fresh key pair with a random key ID, as `minisign -G` makes."""
    # Half the file limit, so the public key's label around it still fits.
    problem = check_comment(comment, "key comment", COMMENT_MAX_CHARS // 2)
    if problem:
        raise InfopackError(problem, "keygen")
    return SecretKey(
        key_id=secrets.token_bytes(KEY_ID_BYTES), seed=secrets.token_bytes(SEED_BYTES), comment=comment
    )


def _sealed_payload(secret: SecretKey) -> bytes:
    # The public key rides along so loading can prove the seed decrypted to the right key.
    return SIGNATURE_ALGORITHM_KEY + secret.key_id + secret.seed + secret.public_key().key


def _derive_box_key(passphrase: bytes, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    return nacl.pwhash.argon2id.kdf(
        nacl.secret.SecretBox.KEY_SIZE, passphrase, salt, opslimit=opslimit, memlimit=memlimit
    )


def encode_secret_key(
    secret: SecretKey,
    passphrase: bytes | None,
    *,
    kdf: str = "moderate",
    salt: bytes | None = None,
    nonce: bytes | None = None,
) -> bytes:
    """The NAME.key file (section 10.2). `passphrase=None` writes the seed unencrypted.

    `salt` and `nonce` are random unless given; tests give them to make a fixed vector.
    """
    lines = [
        f"{UNTRUSTED_PREFIX}infopack secret key {secret.id_hex}; keep this file private",
        f"format: {SECRET_KEY_FORMAT}",
        f"comment: {secret.comment}",
    ]
    payload = _sealed_payload(secret)
    if passphrase is None:
        lines += ["kdf: none", f"data: {base64.b64encode(payload).decode()}"]
    else:
        opslimit, memlimit = KDF_LIMITS[kdf]
        salt = salt if salt is not None else secrets.token_bytes(nacl.pwhash.argon2id.SALTBYTES)
        nonce = nonce if nonce is not None else secrets.token_bytes(nacl.secret.SecretBox.NONCE_SIZE)
        box = nacl.secret.SecretBox(_derive_box_key(passphrase, salt, opslimit, memlimit))
        sealed = box.encrypt(payload, nonce).ciphertext
        lines += [
            "kdf: argon2id",
            f"opslimit: {opslimit}",
            f"memlimit: {memlimit}",
            f"salt: {base64.b64encode(salt).decode()}",
            f"nonce: {base64.b64encode(nonce).decode()}",
            f"data: {base64.b64encode(sealed).decode()}",
        ]
    return ("\n".join(lines) + "\n").encode()


def _parse_fields(lines: list[str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.partition(": ")
        if not sep or name in fields:
            raise ValueError("malformed or repeated field in secret key file")
        fields[name] = value
    return fields


def _int_field(fields: dict[str, str], name: str, low: int, high: int) -> int:
    text = fields.get(name, "")
    if not text.isdigit() or len(text) > 12 or not low <= int(text) <= high:
        raise ValueError(f"secret key file has a bad {name}")
    return int(text)


def _open_payload(fields: dict[str, str], passphrase: bytes | None) -> bytes:
    payload_bytes = SEALED_PAYLOAD_BYTES
    if fields.get("kdf") == "none":
        return decode_base64_exact(fields.get("data", ""), payload_bytes, "secret key data")
    if fields.get("kdf") != "argon2id":
        raise ValueError("secret key file names an unknown kdf")
    opslimit = _int_field(fields, "opslimit", KDF_LIMITS["min"][0], KDF_MAX_OPSLIMIT)
    memlimit = _int_field(fields, "memlimit", KDF_LIMITS["min"][1], KDF_MAX_MEMLIMIT)
    salt = decode_base64_exact(fields.get("salt", ""), nacl.pwhash.argon2id.SALTBYTES, "salt")
    nonce = decode_base64_exact(fields.get("nonce", ""), nacl.secret.SecretBox.NONCE_SIZE, "nonce")
    sealed = decode_base64_exact(
        fields.get("data", ""), payload_bytes + nacl.secret.SecretBox.MACBYTES, "secret key data"
    )
    if passphrase is None:
        raise _NeedsPassphrase
    box = nacl.secret.SecretBox(_derive_box_key(passphrase, salt, opslimit, memlimit))
    try:
        return box.decrypt(sealed, nonce)
    except nacl.exceptions.CryptoError:
        raise _WrongPassphrase from None


class _NeedsPassphrase(Exception):
    pass


class _WrongPassphrase(Exception):
    pass


def _secret_key_fields(data: bytes) -> dict[str, str]:
    lines = split_text_lines(data, "secret key file")
    if not lines or not lines[0].startswith(UNTRUSTED_PREFIX):
        raise ValueError("first line must start with 'untrusted comment: '")
    fields = _parse_fields(lines[1:])
    if fields.get("format") != SECRET_KEY_FORMAT:
        raise ValueError(f"not an {SECRET_KEY_FORMAT} file")
    return fields


def secret_key_needs_passphrase(path: Path) -> bool:
    """Whether NAME.key is encrypted, so the CLI asks for a passphrase only when needed."""
    data = read_small_file(path, KEY_FILE_MAX_BYTES, "secret key")
    try:
        return _secret_key_fields(data).get("kdf") != "none"
    except ValueError as err:
        raise InfopackError(str(err), path) from None


def parse_secret_key(data: bytes, passphrase: bytes | None, source: str = "secret key") -> SecretKey:
    """Decode a NAME.key file. Errors say what is wrong with the file, never what is in it."""
    try:
        fields = _secret_key_fields(data)
        comment = fields.get("comment", "")
        if check_comment(comment, "comment"):
            raise ValueError("secret key file has a bad comment")
        payload = _open_payload(fields, passphrase)
    except _NeedsPassphrase:
        raise InfopackError(
            f"this key is encrypted: give a passphrase (prompt, --passphrase-file or {PASSPHRASE_ENV})",
            source,
        ) from None
    except _WrongPassphrase:
        raise InfopackError("wrong passphrase (or the key file is damaged)", source) from None
    except ValueError as err:
        raise InfopackError(str(err), source) from None
    if payload[:2] != SIGNATURE_ALGORITHM_KEY:
        raise InfopackError("secret key file is damaged", source)
    key_id, seed, public = payload[2:10], payload[10:42], payload[42:74]
    secret = SecretKey(key_id=key_id, seed=seed, comment=comment)
    if secret.public_key().key != public:
        raise InfopackError("secret key file is damaged (public key does not match)", source)
    return secret


def load_secret_key(path: Path, passphrase: bytes | None) -> SecretKey:
    """Read NAME.key; `passphrase` is needed unless the key was written with --unencrypted."""
    data = read_small_file(path, KEY_FILE_MAX_BYTES, "secret key")
    return parse_secret_key(data, passphrase, str(path))


def load_secret_key_for_cli(path: Path, passphrase_file: Path | None = None) -> SecretKey:
    """Load NAME.key for `sign` or `build --sign`, asking for a passphrase only if it has one."""
    if not secret_key_needs_passphrase(path):
        return load_secret_key(path, None)
    return load_secret_key(path, resolve_passphrase(passphrase_file))


def _write_new_file(path: Path, data: bytes, mode: int, overwrite: bool) -> None:
    # O_NOFOLLOW: --force must not truncate whatever file a planted symlink points at.
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
    flags |= os.O_TRUNC if overwrite else os.O_EXCL
    try:
        fd = os.open(path, flags, mode)
    except FileExistsError:
        raise InfopackError("already exists; refusing to overwrite a key (use --force)", path) from None
    except OSError as err:
        raise InfopackError(f"cannot write: {err.strerror or err}", path) from None
    with os.fdopen(fd, "wb") as handle:
        # O_CREAT's mode only applies to new files; make sure an overwritten key is private too.
        os.fchmod(handle.fileno(), mode)
        handle.write(data)


def key_file_paths(name: Path) -> tuple[Path, Path]:
    """(NAME.key, NAME.pub) for the NAME given to `keygen`."""
    return name.with_name(name.name + ".key"), name.with_name(name.name + ".pub")


def write_key_pair(
    name: Path,
    secret: SecretKey,
    passphrase: bytes | None,
    *,
    kdf: str = "moderate",
    overwrite: bool = False,
) -> tuple[Path, Path]:
    """Write NAME.key (mode 0600) and NAME.pub; return their paths."""
    key_path, pub_path = key_file_paths(name)
    for path in (key_path, pub_path):
        if not overwrite and os.path.lexists(path):
            # Checked for both first, so a refusal never leaves half a key pair behind.
            raise InfopackError("already exists; refusing to overwrite a key (use --force)", path)
    secret_bytes = encode_secret_key(secret, passphrase, kdf=kdf)
    _write_new_file(key_path, secret_bytes, 0o600, overwrite)
    _write_new_file(pub_path, secret.public_key().to_file_bytes(), 0o644, overwrite)
    return key_path, pub_path


# ----------------------------------------------------------------------------- passphrases


def resolve_passphrase(
    passphrase_file: Path | None,
    *,
    environ: Mapping[str, str] | None = None,
    prompt: Callable[[str], str] | None = None,
    confirm: bool = False,
) -> bytes:
    """Find the passphrase: --passphrase-file, then $INFOPACK_PASSPHRASE, then a prompt.

    The file's single trailing newline is dropped (editors add one). An empty passphrase is
    refused: an unencrypted key must be asked for explicitly with --unencrypted.
    """
    environ = os.environ if environ is None else environ
    if passphrase_file is not None:
        raw = read_small_file(passphrase_file, KEY_FILE_MAX_BYTES, "passphrase file")
        passphrase = raw[:-1] if raw.endswith(b"\n") else raw
        source = str(passphrase_file)
    elif environ.get(PASSPHRASE_ENV):
        passphrase = environ[PASSPHRASE_ENV].encode()
        source = PASSPHRASE_ENV
    else:
        passphrase = _prompt_passphrase(prompt or getpass.getpass, confirm)
        source = "prompt"
    if not passphrase:
        raise InfopackError("empty passphrase (use --unencrypted to store a key without one)", source)
    return passphrase


def _prompt_passphrase(prompt: Callable[[str], str], confirm: bool) -> bytes:
    try:
        first = prompt("Passphrase: ")
        if confirm and prompt("Passphrase again: ") != first:
            raise InfopackError("the two passphrases differ", "prompt")
    except EOFError:
        raise InfopackError(
            f"no passphrase: no terminal to ask on; use --passphrase-file or {PASSPHRASE_ENV}",
            "prompt",
        ) from None
    return first.encode()
