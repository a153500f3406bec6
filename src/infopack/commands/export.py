"""`infopack export BUNDLE --zim OUT.zim --trust KEY.pub`: a verified bundle as a ZIM for Kiwix."""

from __future__ import annotations

import re
from pathlib import Path

import click

from infopack.commands.support import interrupts_stop_the_build, progress_lines, reported
from infopack.errors import InfopackError, UsageProblem

_SIZE = re.compile(r"([0-9]+)\s*([KMG]i?B?)?", re.I)
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def parse_split_size(text: str) -> int:
    """Bytes, or a number with K, M or G (powers of 1024): `1M`, `2GiB`."""
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        raise UsageProblem("not a size: give bytes or e.g. 2G, 500M", "--split-size")
    return int(match.group(1)) * _UNITS[(match.group(2) or "")[:1].lower()]


@click.command("export")
@click.argument("bundle", type=click.Path(path_type=Path))
@click.option("--zim", "zim_path", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The ZIM file to write (OUT.zim).")
@click.option("--trust", "trust_paths", multiple=True, required=True,
              type=click.Path(dir_okay=False, path_type=Path), help="A trusted NAME.pub (repeatable).")
@click.option("--threshold", default=1, show_default=True, type=int,
              help="How many distinct trusted keys must have signed.")
@click.option("--force", is_flag=True, help="Replace an existing OUT.zim (or its parts).")
@click.option("--split", is_flag=True, help="Above 4 GiB, write OUT.zimaa, OUT.zimab, ... for FAT32 cards.")
@click.option("--split-size", help="With --split: the largest part, e.g. 2G (default: just under 4 GiB).")
@click.option("--quiet", is_flag=True, help="No progress lines.")
@reported
def command(bundle: Path, zim_path: Path, trust_paths: tuple[Path, ...], threshold: int, force: bool,
            split: bool, split_size: str | None, quiet: bool) -> None:
    """Verify BUNDLE, then write it as a ZIM file that Kiwix opens (titles searchable, no full-text index)."""
    from infopack.export.zim import DEFAULT_SPLIT_SIZE, export_zim
    from infopack.trust.keys import load_public_key

    if split_size is not None and not split:
        raise UsageProblem("--split-size needs --split", "--split-size")
    part_size = (parse_split_size(split_size) if split_size is not None else DEFAULT_SPLIT_SIZE) if split else None
    try:
        keys = [load_public_key(path) for path in trust_paths]
    except InfopackError as err:  # a bad key is bad input (2), not a bad bundle (1)
        raise UsageProblem(err.problems) from None
    with interrupts_stop_the_build():
        result = export_zim(bundle, zim_path, keys, threshold=threshold, force=force, split_size=part_size,
                            progress=progress_lines(quiet))
    click.echo(f"exported {result.articles} articles and {result.media} media files, {result.size:,} bytes")
    for path in result.paths:
        click.echo(f"wrote: {path}")
