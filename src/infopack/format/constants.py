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

# A manifest of a million files is ~120 MB; 64 MiB covers any real bundle (~500k files) while
# stopping an "endless data" manifest from exhausting memory before its signature is checked.
MANIFEST_MAX_BYTES = 64 * 1024 * 1024
# FAT32 cannot hold a file of 4 GiB or more.
FAT32_MAX_FILE_BYTES = 0xFFFFFFFF

BUNDLE_ID_PATTERN = r"[a-z0-9][a-z0-9-]{0,63}"
BUNDLE_ID = re.compile(BUNDLE_ID_PATTERN)
