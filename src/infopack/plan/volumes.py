"""Build every volume of a split plan, all or nothing."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from infopack.build.assemble import BuildResult, Signer, build_bundle
from infopack.build.output import Staging, sweep_leftovers
from infopack.errors import InfopackError
from infopack.format.constants import MANIFEST_NAME
from infopack.plan.planner import Plan
from infopack.progress import Progress


def build_volumes(content_dir: Path, out_dir: Path, plan: Plan, *, force: bool = False,
                  progress: Progress | None = None, sign: Signer | None = None, phone: bool = True) -> list[BuildResult]:
    """Build every volume of a split plan as `out_dir/volume-N`, all or nothing.

    The volumes are built (and each signed with `sign`) in a hidden folder beside `out_dir` and
    moved into place together, in one swap where the system allows (build.output.move_into_place), so a
    failure in volume 3 does not leave volumes 1 and 2 looking like a complete set.
    """
    out_dir = Path(out_dir)
    _check_volume_output(out_dir, force)
    with Staging(out_dir) as staging:
        results = [
            build_bundle(content_dir, staging.path / f"volume-{n}", plan=plan, volume=n, progress=progress, sign=sign,
                         phone=phone)
            for n in range(1, plan.volumes + 1)
        ]
        # Each volume was flushed to the disk, and its entry here, by its own build.
        staging.move_into_place(force)
    return [_moved(result, out_dir / f"volume-{n}", staging.path) for n, result in enumerate(results, start=1)]


def _moved(result: BuildResult, bundle_dir: Path, staging: Path) -> BuildResult:
    one_file = bundle_dir / result.one_file_html.name if result.one_file_html is not None else None
    signature = result.signature
    if signature is not None and signature.is_relative_to(staging):
        signature = bundle_dir.parent / signature.relative_to(staging)
    library_pack = bundle_dir / result.library_pack.name if result.library_pack is not None else None
    return replace(result, bundle_dir=bundle_dir, index_html=bundle_dir / "index.html", one_file_html=one_file,
                   signature=signature, library_pack=library_pack)


def _check_volume_output(out_dir: Path, force: bool) -> None:
    sweep_leftovers(out_dir)  # what a killed build left beside it (put back, or removed)
    if not out_dir.exists():
        return
    if not force:
        raise InfopackError("already exists; use --force to replace it", out_dir)
    entries = list(out_dir.iterdir()) if out_dir.is_dir() else [out_dir]
    if not out_dir.is_dir() or not all(re.fullmatch(r"volume-\d+", e.name) and (e / MANIFEST_NAME).is_file() for e in entries):
        raise InfopackError("exists and is not a set of volumes; refusing to replace it even with --force", out_dir)
