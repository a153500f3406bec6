"""What a stable rebuild (`infopack build --base OLD`) takes from the bundle it follows.

Each release rebuilt from scratch trains a new zstd dictionary and re-cuts packs and shards, so a
one-article change alters nearly every data file and an update must carry the whole bundle. With
a base, the new build reuses the old dictionary (the same bytes, so the same frames for the same
article HTML), puts every article back into the text pack it was in, and keeps the slug, facet
and search shard cuts; then an unchanged article leaves its pack byte-identical, and only the
packs that changed and the small index shards that list them differ (docs/FORMAT.md section 16).

The base is read the way a verifier would: its manifest is parsed strictly and every file taken
from it (index.html, the dictionary, catalog shards) must have its listed size and SHA-256.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import zstandard

from infopack.errors import InfopackError
from infopack.format.constants import MANIFEST_MAX_BYTES, MANIFEST_NAME
from infopack.format.datafile import read_data_file
from infopack.format.manifest import FileEntry, parse_manifest

_ROOT_ELEMENT = re.compile(rb'<script id="infopack-root" type="application/json">(.*?)</script>', re.S)
# A catalog shard holds 500 entries of ~100 bytes: far below this unless the file is hostile.
_CATALOG_MAX_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class BaseLayout:
    """The parts of the base bundle a stable rebuild keeps."""

    path: Path
    bundle_id: str
    sequence: int
    dictionary: bytes | None
    places: dict[str, tuple[int, int]]  # slug -> (text pack, offset in it)
    slug_shards: int
    facet_shards: int
    search_shards: tuple[str, ...]  # first term of each search shard
    search_digits: int


def read_base(base_dir: Path) -> BaseLayout:
    base_dir = Path(base_dir)
    if not base_dir.is_dir():
        raise InfopackError("--base is not a bundle folder", base_dir)
    manifest_path = base_dir / MANIFEST_NAME
    try:
        manifest_bytes = manifest_path.read_bytes()
    except OSError as err:
        raise InfopackError(f"--base has no readable manifest: {err.strerror or err}", manifest_path) from None
    if len(manifest_bytes) > MANIFEST_MAX_BYTES:
        raise InfopackError("manifest too large", manifest_path)
    manifest = parse_manifest(manifest_bytes)
    listed = {entry.path: entry for entry in manifest.files}
    root = _root_document(_read_listed(base_dir, listed, "index.html"))
    files: dict[str, list] = root.get("files", {})
    dictionary = _payload(base_dir, listed, files, "dict") if "dict" in files else None
    places: dict[str, tuple[int, int]] = {}
    decompressor = zstandard.ZstdDecompressor()
    size = int(root["catalog_shard_size"])
    for name in sorted(n for n in files if n.startswith("cat/")):
        try:
            rows = json.loads(decompressor.decompress(_payload(base_dir, listed, files, name), max_output_size=_CATALOG_MAX_BYTES))
        except (zstandard.ZstdError, ValueError) as err:
            raise InfopackError(f"--base catalog shard cannot be read: {err}", base_dir / f"data/{name}.js") from None
        for row in rows:
            places[row[0]] = (int(row[6]), int(row[7]))
    if len(places) != root["articles"] or size <= 0:
        raise InfopackError("--base catalog does not list every article", base_dir / "index.html")
    search = root["search"]
    return BaseLayout(
        path=base_dir,
        bundle_id=manifest.bundle.id,
        sequence=manifest.bundle.sequence,
        dictionary=dictionary,
        places=places,
        slug_shards=int(root["slug_shards"]),
        facet_shards=int(root["facet_shards"]),
        search_shards=tuple(search["shards"]),
        search_digits=int(search["shard_digits"]),
    )


def _read_listed(base_dir: Path, listed: dict[str, FileEntry], path: str) -> bytes:
    entry = listed.get(path)
    where = base_dir / path
    if entry is None:
        raise InfopackError("not listed in the --base bundle's manifest", where)
    try:
        data = where.read_bytes()
    except OSError as err:
        raise InfopackError(f"cannot read: {err.strerror or err}", where) from None
    if len(data) != entry.size or hashlib.sha256(data).hexdigest() != entry.sha256:
        raise InfopackError("does not match the --base bundle's manifest (verify the base first)", where)
    return data


def _payload(base_dir: Path, listed: dict[str, FileEntry], files: dict[str, list], name: str) -> bytes:
    length, digest = files[name]
    _name, payload = read_data_file(_read_listed(base_dir, listed, f"data/{name}.js"), int(length))
    if hashlib.sha256(payload).hexdigest() != digest:
        raise InfopackError("payload does not match the root document", base_dir / f"data/{name}.js")
    return payload


def _root_document(index_html: bytes) -> dict:
    match = _ROOT_ELEMENT.search(index_html)
    if match is None:
        raise InfopackError("--base index.html holds no root document")
    try:
        root = json.loads(match.group(1))
    except ValueError as err:
        raise InfopackError(f"--base root document is not JSON: {err}") from None
    if not isinstance(root, dict) or "one_file" in root or "volume" in root.get("bundle", {}):
        raise InfopackError("--base must be a single bundle (not a volume or a one-file page)")
    return root
