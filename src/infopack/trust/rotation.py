"""Key rotation: a statement, signed by an old key, that hands its trust to a new key (FORMAT.md 10.6).

A partner trusts a publisher key for years. When that key must change (a staff change, a lost
laptop), the old key signs a short statement naming the new key, the one library (bundle id) it
is handed over for, and the sequence from which the new key speaks for it. The statement is a
small canonical text file and its signature is an ordinary minisign signature by the old key, so
`minisign -Vm rotation-<old>-<new>.txt -p old.pub` checks it with stock tools.

This module holds the statement (parse, render, sign, check) and the chain rule: which keys a
set of statements makes trusted, and which it retires, for one release. `verify` applies it.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from infopack.atomic import write_file_atomically
from infopack.errors import InfopackError
from infopack.format.constants import BUNDLE_ID, BUNDLE_ID_PATTERN, SIGNATURE_SUFFIX
from infopack.format.manifest import parse_date
from infopack.trust.keys import (
    PUBLIC_KEY_BLOB_BYTES,
    SIGNATURE_ALGORITHM_KEY,
    PublicKey,
    SecretKey,
    decode_base64_exact,
    read_regular_file,
)
from infopack.trust.signature import (
    SIGNATURE_MAX_BYTES,
    SignatureFile,
    check_signature,
    parse_signature_file,
    prehash,
    sign_manifest,
)

ROTATION_FORMAT = "infopack-rotation/1"
# A statement is about 330 bytes; the limit leaves room and stops an endless "statement".
STATEMENT_MAX_BYTES = 1024
# Sequences are at most 18 decimal digits everywhere in the format (section 10.3).
SEQUENCE_MAX = 10**18 - 1

_STATEMENT = re.compile(
    re.escape(ROTATION_FORMAT) + "\n"
    f"bundle: (?P<bundle>{BUNDLE_ID_PATTERN})\n"
    r"old-key: (?P<old>[A-Za-z0-9+/=]{56})" "\n"
    r"new-key: (?P<new>[A-Za-z0-9+/=]{56})" "\n"
    r"from-sequence: (?P<seq>[1-9][0-9]{0,17})" "\n"
    r"created: (?P<created>[0-9]{4}-[0-9]{2}-[0-9]{2})" "\n"
)


def _key_text(key: PublicKey) -> str:
    return base64.b64encode(key.blob()).decode("ascii")


def _key_from_text(text: str, what: str) -> PublicKey:
    blob = decode_base64_exact(text, PUBLIC_KEY_BLOB_BYTES, what)
    if blob[:2] != SIGNATURE_ALGORITHM_KEY:
        raise ValueError(f"{what} is not an Ed25519 minisign public key")
    return PublicKey(key_id=blob[2:10], key=blob[10:])


@dataclass(frozen=True)
class RotationStatement:
    """OLD_KEY hands its trust for bundle BUNDLE_ID to NEW_KEY, for sequences >= FROM_SEQUENCE.

    Keys are compared by their 32 public key bytes; the key ID is a hint (section 10.1). The
    statement carries the old key whole, so it names exactly which key it retires."""

    bundle_id: str
    old_key: PublicKey
    new_key: PublicKey
    from_sequence: int
    created: str

    def __post_init__(self) -> None:
        # Only the key itself is part of a statement; a comment from a .pub file is not.
        object.__setattr__(self, "old_key", PublicKey(self.old_key.key_id, self.old_key.key))
        object.__setattr__(self, "new_key", PublicKey(self.new_key.key_id, self.new_key.key))
        problem = self.problem()
        if problem is not None:
            raise ValueError(problem)

    def problem(self) -> str | None:
        if not BUNDLE_ID.fullmatch(self.bundle_id):
            return f"bundle id {self.bundle_id!r} is not a valid bundle id"
        if not 1 <= self.from_sequence <= SEQUENCE_MAX:
            return f"from-sequence must be between 1 and {SEQUENCE_MAX}"
        if parse_date(self.created) is None:
            return f"created date must be YYYY-MM-DD, got {self.created!r}"
        if self.old_key.key == self.new_key.key:
            return "a key cannot hand its trust to itself"
        return None

    @property
    def edge(self) -> tuple[bytes, bytes]:
        """(old public key, new public key): what identifies a hand-over, whatever its dates."""
        return self.old_key.key, self.new_key.key

    def applies_to(self, bundle_id: str, sequence: int) -> bool:
        return bundle_id == self.bundle_id and sequence >= self.from_sequence

    def to_bytes(self) -> bytes:
        """The one canonical form: six lines, each ending in LF, nothing else."""
        return (
            f"{ROTATION_FORMAT}\n"
            f"bundle: {self.bundle_id}\n"
            f"old-key: {_key_text(self.old_key)}\n"
            f"new-key: {_key_text(self.new_key)}\n"
            f"from-sequence: {self.from_sequence}\n"
            f"created: {self.created}\n"
        ).encode("ascii")

    def trusted_comment(self) -> str:
        """What the signature's trusted comment must say: the statement in one line, so that
        `minisign -V` shows a partner what they are accepting."""
        return (
            f"{ROTATION_FORMAT} id={self.bundle_id} old={self.old_key.id_hex} "
            f"new={self.new_key.id_hex} from={self.from_sequence} created={self.created}"
        )

    def file_name(self) -> str:
        """Its name in BUNDLE/signatures/; the signature is this + .minisig."""
        return f"rotation-{self.old_key.id_hex}-{self.new_key.id_hex}.txt"

    def describe(self) -> str:
        return (
            f"key {self.old_key.id_hex} hands its trust to key {self.new_key.id_hex} "
            f"for {self.bundle_id} from sequence {self.from_sequence} (dated {self.created})"
        )

    def to_state(self) -> dict[str, object]:
        """The statement as the verify state file remembers it (section 10.6.4)."""
        return {
            "bundle": self.bundle_id,
            "old_key": _key_text(self.old_key),
            "new_key": _key_text(self.new_key),
            "from_sequence": self.from_sequence,
            "created": self.created,
        }

    @classmethod
    def from_state(cls, item: object) -> RotationStatement:
        """Inverse of to_state; ValueError on anything but exactly those five fields."""
        if not isinstance(item, dict) or set(item) != {
            "bundle", "old_key", "new_key", "from_sequence", "created"
        }:
            raise ValueError("remembered rotation has the wrong fields")
        bundle, old, new, seq, created = (
            item["bundle"], item["old_key"], item["new_key"], item["from_sequence"], item["created"]
        )
        if not (
            isinstance(bundle, str) and isinstance(old, str) and isinstance(new, str)
            and isinstance(created, str) and isinstance(seq, int) and not isinstance(seq, bool)
        ):
            raise ValueError("remembered rotation has a field of the wrong type")
        return cls(bundle, _key_from_text(old, "old key"), _key_from_text(new, "new key"), seq, created)


def parse_statement(data: bytes, source: str) -> RotationStatement:
    """Parse a statement strictly: exactly the canonical form, or InfopackError with one line."""
    try:
        if len(data) > STATEMENT_MAX_BYTES:
            raise ValueError(f"rotation statement larger than {STATEMENT_MAX_BYTES} bytes")
        try:
            text = data.decode("ascii")
        except UnicodeDecodeError:
            raise ValueError("rotation statement is not ASCII text") from None
        match = _STATEMENT.fullmatch(text)
        if match is None:
            raise ValueError(
                f"not an {ROTATION_FORMAT} statement (six lines: format, bundle, old-key, "
                "new-key, from-sequence, created)"
            )
        statement = RotationStatement(
            bundle_id=match["bundle"],
            old_key=_key_from_text(match["old"], "old-key"),
            new_key=_key_from_text(match["new"], "new-key"),
            from_sequence=int(match["seq"]),
            created=match["created"],
        )
        if statement.to_bytes() != data:  # e.g. base64 with non-canonical padding bits
            raise ValueError("rotation statement is not in canonical form")
    except ValueError as err:
        raise InfopackError(str(err), source) from None
    return statement


def statement_signature_problem(
    statement: RotationStatement, statement_bytes: bytes, sig: SignatureFile
) -> str | None:
    """Why SIG is not the old key's signature over this statement, or None.

    The signer must be the key the statement retires: a statement signed by its new key (or by
    anyone else) proves nothing. Both minisign signatures must hold and the trusted comment
    must be the statement's own line."""
    old = statement.old_key
    if sig.key_id != old.key_id:
        return (
            f"signed by key {sig.key_id_hex}, not by the key it hands over ({old.id_hex}); "
            "only the old key can hand over its trust"
        )
    failure = check_signature(prehash(statement_bytes), sig, old)
    if failure is not None:
        return failure.replace("the manifest", "the statement")
    if sig.trusted_comment != statement.trusted_comment():
        return "trusted comment does not match the statement"
    return None


@dataclass(frozen=True)
class SignedRotation:
    """A statement with its signature by the old key, both as the exact bytes that travel."""

    statement: RotationStatement
    statement_bytes: bytes
    signature_bytes: bytes = field(repr=False)


def check_signed_rotation(statement_bytes: bytes, signature_bytes: bytes, source: str) -> SignedRotation:
    """Parse both files and check the old key's signature; InfopackError naming SOURCE otherwise."""
    statement = parse_statement(statement_bytes, source)
    sig = parse_signature_file(signature_bytes, source + SIGNATURE_SUFFIX)
    problem = statement_signature_problem(statement, statement_bytes, sig)
    if problem is not None:
        raise InfopackError(f"rotation statement's signature: {problem}", source)
    return SignedRotation(statement, statement_bytes, signature_bytes)


def make_rotation(
    old_secret: SecretKey, new_key: PublicKey, bundle_id: str, from_sequence: int, created: str
) -> SignedRotation:
    """OLD_SECRET signs the hand-over of BUNDLE_ID to NEW_KEY from FROM_SEQUENCE on."""
    try:
        statement = RotationStatement(
            bundle_id, old_secret.public_key(), new_key, from_sequence, created
        )
    except ValueError as err:
        raise InfopackError(str(err), "rotate") from None
    data = statement.to_bytes()
    signature = sign_manifest(data, old_secret, statement.trusted_comment())
    untrusted = f"infopack key rotation signed by the old key {old_secret.id_hex}"
    signed = SignatureFile(
        signature.key_id, signature.signature, signature.trusted_comment,
        signature.global_signature, untrusted,
    )
    return SignedRotation(statement, data, signed.to_bytes())


def rotation_signature_path(path: Path) -> Path:
    """Where the statement at PATH keeps its signature: PATH + .minisig (minisign's default)."""
    return path.with_name(path.name + SIGNATURE_SUFFIX)


def write_rotation(rotation: SignedRotation, out: Path) -> tuple[Path, Path]:
    """Write OUT and OUT.minisig, each atomically. The signature goes first, then the statement:
    a crash in between leaves a signature that matches no statement, which is refused."""
    signature_path = rotation_signature_path(out)
    write_file_atomically(signature_path, rotation.signature_bytes)
    write_file_atomically(out, rotation.statement_bytes)
    return out, signature_path


def load_rotation(path: Path) -> SignedRotation:
    """Read a statement and its PATH.minisig, as `rotate` wrote them, and check the signature."""
    statement_bytes = read_regular_file(path, STATEMENT_MAX_BYTES, "rotation statement")
    signature_path = rotation_signature_path(path)
    signature_bytes = read_regular_file(signature_path, SIGNATURE_MAX_BYTES, "rotation signature")
    return check_signed_rotation(statement_bytes, signature_bytes, str(path))


# ----------------------------------------------------------------------------- the chain rule


@dataclass(frozen=True)
class KnownRotation:
    """A statement whose signature checked out, and where it came from: a file in signatures/,
    or the verify state (a rotation seen in an earlier, fully verified release)."""

    statement: RotationStatement
    source: str
    remembered: bool = False


@dataclass(frozen=True)
class Verdict:
    status: str  # valid | conflict | untrusted-key
    detail: str = ""


@dataclass(frozen=True)
class KeyRole:
    """What a key is for one release: counted for ROOT (through PATH), retired, or neither."""

    root: PublicKey | None
    path: tuple[KnownRotation, ...] = ()
    retired_by: KnownRotation | None = None
    not_yet: KnownRotation | None = None  # the hand-over to it starts at a later sequence


@dataclass
class Chains:
    """The hand-overs of one bundle id that lead from trusted keys, once conflicts are removed.

    After the rules below every key has at most one accepted statement out and one in, and no
    statement leads into a trusted key, so each trusted key's chain is a simple path."""

    roots: dict[bytes, PublicKey]
    edges: dict[bytes, KnownRotation] = field(default_factory=dict)  # old key -> statement
    root_of: dict[bytes, PublicKey] = field(default_factory=dict)  # each key on a chain -> its root
    verdicts: dict[KnownRotation, Verdict] = field(default_factory=dict)

    def role(self, key: bytes, sequence: int) -> KeyRole:
        """Follow KEY's chain from its root, taking only hand-overs that apply from SEQUENCE."""
        root = self.root_of.get(key)
        if root is None:
            return KeyRole(None)
        current, seen = root.key, {root.key}
        path: list[KnownRotation] = []
        while True:
            step = self.edges.get(current)
            if current == key:
                if step is not None and step.statement.from_sequence <= sequence:
                    return KeyRole(None, retired_by=step)
                return KeyRole(root, tuple(path))
            if step is None:  # cannot happen: KEY is on ROOT's chain
                return KeyRole(None)
            if step.statement.from_sequence > sequence:
                return KeyRole(None, not_yet=step)
            current = step.statement.new_key.key
            if current in seen:  # cannot happen after the conflict rules; never loop anyway
                return KeyRole(None)
            seen.add(current)
            path.append(step)


def _prefer_remembered(group: list[KnownRotation], why: str) -> tuple[list[KnownRotation], str]:
    """Of statements that contradict each other, the one the state remembers (seen first, in a
    fully verified release) stands; with none or several remembered, none stands."""
    remembered = [known for known in group if known.remembered]
    if len(remembered) == 1:
        kept = remembered[0].statement
        return remembered, f"{why}; the state remembers {kept.describe()}, which stands"
    return [], why


def build_chains(
    roots: Sequence[PublicKey], known: Iterable[KnownRotation], bundle_id: str
) -> Chains:
    """Apply the chain rule (FORMAT.md 10.6.3) to the statements for BUNDLE_ID."""
    chains = Chains(roots={key.key: key for key in roots})
    candidates: dict[tuple[bytes, bytes], KnownRotation] = {}
    duplicates: list[tuple[KnownRotation, tuple[bytes, bytes]]] = []
    for item in known:
        if item.statement.bundle_id != bundle_id:
            continue
        edge = item.statement.edge
        first = candidates.get(edge)
        if first is None:
            candidates[edge] = item
            continue
        if item.remembered and not first.remembered:
            candidates[edge], item = item, first  # the remembered copy of a hand-over counts
        duplicates.append((item, edge))
    standing = list(candidates.values())

    def refuse(items: Iterable[KnownRotation], detail: str) -> None:
        for refused in items:
            chains.verdicts[refused] = Verdict("conflict", detail)
            standing.remove(refused)

    refuse(
        [item for item in standing if item.statement.new_key.key in chains.roots],
        "hands trust to a key that is trusted on its own (each trusted key keeps its own chain)",
    )
    for end, name in ((0, "hands its trust to"), (1, "receives trust from")):
        groups: dict[bytes, list[KnownRotation]] = {}
        for item in standing:
            groups.setdefault(item.statement.edge[end], []).append(item)
        for group in groups.values():
            if len(group) > 1:
                key = group[0].statement.old_key if end == 0 else group[0].statement.new_key
                kept, detail = _prefer_remembered(
                    group, f"key {key.id_hex} {name} {len(group)} different keys"
                )
                refuse([item for item in group if item not in kept], detail)

    by_old = {item.statement.old_key.key: item for item in standing}
    for root in chains.roots.values():
        current, seen = root.key, set()
        chains.root_of[root.key] = root
        while current in by_old and current not in seen:
            seen.add(current)
            step = by_old[current]
            chains.edges[current] = step
            current = step.statement.new_key.key
            chains.root_of[current] = root
    for item in standing:
        if item.statement.old_key.key in chains.root_of:
            chains.verdicts[item] = Verdict("valid")
        else:
            chains.verdicts[item] = Verdict(
                "untrusted-key",
                f"signed by key {item.statement.old_key.id_hex}, which is not trusted and is not "
                "reached by a chain of statements from a trusted key; ignored",
            )
    for duplicate, edge in duplicates:
        counted = candidates[edge]
        verdict = chains.verdicts[counted]
        if duplicate.statement != counted.statement:
            same = f"the same hand-over is known as: {counted.statement.describe()}; that one counts"
            verdict = Verdict(verdict.status, "; ".join(filter(None, [verdict.detail, same])))
        chains.verdicts[duplicate] = verdict
    return chains
