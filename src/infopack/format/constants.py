"""Names and limits of the bundle format (docs/FORMAT.md sections 6, 10 and 11), defined once.

Both the writer (build, content) and the readers (trust, drives) import them from here."""

from __future__ import annotations

import re

FORMAT_VERSION = "infopack/1"
MANIFEST_NAME = "manifest.json"
SHA256SUMS_NAME = "SHA256SUMS"
SIGNATURES_DIR = "signatures"
SIGNATURE_SUFFIX = ".minisig"
# A signature file as it sits in BUNDLE/signatures/: <16 hex digits of key ID>.minisig.
SIGNATURE_NAME = re.compile(r"[0-9a-f]{16}" + re.escape(SIGNATURE_SUFFIX))
# A key rotation statement (section 10.6) and its signature by the old key, as they sit in
# BUNDLE/signatures/: rotation-<old key id>-<new key id>.txt and the same name + .minisig, which
# is where stock `minisign -Vm rotation-....txt` looks for the signature.
ROTATION_STATEMENT_NAME = re.compile(r"rotation-[0-9a-f]{16}-[0-9a-f]{16}\.txt")
ROTATION_SIGNATURE_NAME = re.compile(ROTATION_STATEMENT_NAME.pattern + re.escape(SIGNATURE_SUFFIX))
# Every name signatures/ may hold (besides operating-system housekeeping).
SIGNATURES_DIR_ENTRY = re.compile(
    "|".join(f"(?:{p.pattern})" for p in (SIGNATURE_NAME, ROTATION_STATEMENT_NAME, ROTATION_SIGNATURE_NAME))
)

# A manifest of a million files is ~120 MB; 64 MiB covers any real bundle (~500k files) while
# stopping an "endless data" manifest from exhausting memory before its signature is checked.
MANIFEST_MAX_BYTES = 64 * 1024 * 1024
# FAT32 cannot hold a file of 4 GiB or more.
FAT32_MAX_FILE_BYTES = 0xFFFFFFFF

BUNDLE_ID_PATTERN = r"[a-z0-9][a-z0-9-]{0,63}"
BUNDLE_ID = re.compile(BUNDLE_ID_PATTERN)
