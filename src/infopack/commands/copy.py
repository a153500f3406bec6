"""`infopack copy`: verify a bundle, write it onto drives, read every file back (drives.copy)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from infopack.commands.support import progress_lines, reported
from infopack.errors import InfopackError, UsageProblem
from infopack.trust.keys import load_public_key


@click.command("copy")
@click.argument("bundle", type=click.Path(file_okay=False, path_type=Path))
@click.argument("targets", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--trust", "trust_paths", multiple=True, required=True,
              type=click.Path(dir_okay=False, path_type=Path), help="A trusted NAME.pub (repeatable).")
@click.option("--threshold", default=1, show_default=True, type=int,
              help="How many distinct trusted keys must have signed.")
@click.option("--without-signatures", is_flag=True,
              help="Leave signatures/ off the targets (the read-back still uses the verified manifest).")
@click.option("--probe", is_flag=True,
              help="Test each target's real capacity first (slow: writes all free space) and refuse a drive that lies.")
@click.option("--force", is_flag=True, help="Copy onto targets that hold other files: they are kept, except any at the bundle's own paths, which are replaced.")
@click.option("--jobs", type=int, default=None, help="Targets written at once (default: all).")
@reported
def command(bundle, targets, trust_paths, threshold, without_signatures, probe, force, jobs):
    """Verify BUNDLE, write it into each TARGET folder, read every file back from the drive.

    Exit 0 only when every target read back exactly as the signed manifest says.
    """
    from infopack.drives.copy import copy_bundle

    try:
        keys = [load_public_key(path) for path in trust_paths]
    except InfopackError as err:  # a bad key is bad input (2), not a bad bundle (1)
        raise UsageProblem(err.problems) from None
    report = copy_bundle(
        bundle, list(targets), keys, threshold=threshold, with_signatures=not without_signatures,
        probe=probe, force=force, jobs=jobs, progress=progress_lines(False),
    )  # a bad threshold or bundle path raises UsageProblem: exit 2, like verify
    for target in report.targets:
        for warning in target.warnings:
            click.echo(f"warning: {target.root}: {warning}", err=True)
        if target.probe is not None:
            click.echo(f"{target.root}: {target.probe.summary()}")
    click.echo(report.table())
    sys.exit(report.exit_code)
