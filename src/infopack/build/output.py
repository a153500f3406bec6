"""The bundle writer's last step: list the staged files, write SHA256SUMS and manifest.json."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from infopack.format.constants import MANIFEST_NAME, SHA256SUMS_NAME, SIGNATURES_DIR
from infopack.format.manifest import BundleInfo, FileEntry, Manifest, render_manifest, render_sha256sums


def _hash_file(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def write_manifest(bundle_dir: Path, info: BundleInfo) -> Manifest:
    """List every file of BUNDLE, write SHA256SUMS and manifest.json, return the manifest.

    For the bundle writer (and tests): call it last, once every other file is in place.
    """
    entries = []
    for root, dirs, files in os.walk(bundle_dir):
        relative_root = Path(root).relative_to(bundle_dir).as_posix()
        prefix = "" if relative_root == "." else relative_root + "/"
        if not prefix:
            dirs[:] = [d for d in dirs if d != SIGNATURES_DIR]
        for name in files:
            path = prefix + name
            if path not in (MANIFEST_NAME, SHA256SUMS_NAME):
                full = Path(root) / name
                entries.append(FileEntry(path, full.stat().st_size, _hash_file(full)))
    listed = Manifest(info, tuple(entries))
    sums = render_sha256sums(listed)
    (bundle_dir / SHA256SUMS_NAME).write_bytes(sums)
    sums_entry = FileEntry(SHA256SUMS_NAME, len(sums), hashlib.sha256(sums).hexdigest())
    manifest = Manifest(
        info, tuple(sorted([*entries, sums_entry], key=lambda e: e.path.encode("utf-8")))
    )
    (bundle_dir / MANIFEST_NAME).write_bytes(render_manifest(manifest))
    return manifest
