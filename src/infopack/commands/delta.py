"""`infopack delta OLD NEW --out FILE`: the update that turns release OLD into NEW. Loads no build code."""

from __future__ import annotations

from pathlib import Path

import click

from infopack.commands.support import reported
from infopack.update.delta import make_delta


@click.command("delta")
@click.argument("old_dir", type=click.Path(path_type=Path))
@click.argument("new_dir", type=click.Path(path_type=Path))
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The update file to write.")
@reported
def command(old_dir: Path, new_dir: Path, out_file: Path) -> None:
    """Write one file holding what turns bundle OLD_DIR into the signed bundle NEW_DIR."""
    summary = make_delta(old_dir, new_dir, out_file)
    share = summary.delta_bytes / summary.changed_bytes if summary.changed_bytes else 0.0
    click.echo(f"wrote {out_file}: {summary.delta_bytes:,} bytes ({summary.carried} files carried, "
               f"{summary.copied} copied from other paths, {summary.derived} rebuilt by apply from the data files, "
               f"{summary.removed} removed; "
               f"{share:.2f}x the {summary.changed_bytes:,} bytes that changed)")
