"""Small hand-made bundles for the trust tests: a few files, SHA256SUMS, a canonical manifest."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from infopack.build.output import write_manifest
from infopack.format.manifest import BundleInfo
from infopack.trust.keys import PublicKey, SecretKey, parse_public_key
from infopack.trust.sign import sign_bundle

MINISIGN = shutil.which("minisign")


DEFAULT_FILES = {
    "index.html": b"<!doctype html><title>demo</title>\n",
    "data/dict.js": b'infopackData("dict","AAAA");\n',
    "data/text/0000.js": b'infopackData("text/0000","QUJD");\n',
    "media/seoul-1.mp3": bytes(range(256)) * 40,
}


def make_bundle(
    root: Path,
    *,
    bundle_id: str = "demo",
    sequence: int = 1,
    created: str = "2026-03-01",
    files: dict[str, bytes] | None = None,
) -> Path:
    """A small unsigned bundle: a few files, SHA256SUMS and a canonical manifest."""
    root.mkdir(parents=True, exist_ok=True)
    for relative, content in (DEFAULT_FILES if files is None else files).items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    info = BundleInfo(bundle_id, "Demo 데모", "", "ko", sequence, created, "")
    write_manifest(root, info)
    return root


def signed_bundle(root: Path, key: SecretKey, **kwargs) -> Path:
    make_bundle(root, **kwargs)
    sign_bundle(root, key)
    return root


def problems_of(report) -> list[str]:
    return [str(finding) for finding in report.problems]


def minisign_key_pair(directory: Path) -> tuple[Path, PublicKey]:
    """A key pair made by minisign itself (no password), and its public key as we parse it."""
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [MINISIGN, "-G", "-W", "-p", str(directory / "m.pub"), "-s", str(directory / "m.key")],
        check=True, capture_output=True,
    )
    return directory / "m.key", parse_public_key((directory / "m.pub").read_bytes())
