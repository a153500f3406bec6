"""`infopack apply DELTA BUNDLE --trust KEY.pub`: update a bundle in place, all or nothing. Loads no build code."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from infopack.commands.support import echo_never_deciding, reported, tolerant_console
from infopack.errors import InfopackError, UsageProblem
from infopack.trust.keys import load_public_key
from infopack.update.apply import apply_delta


@click.command("apply")
@click.argument("delta_file", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("bundle", type=click.Path(path_type=Path))
@click.option("--trust", "trust_paths", multiple=True, required=True,
              type=click.Path(dir_okay=False, path_type=Path), help="A trusted NAME.pub (repeatable).")
@click.option("--threshold", default=1, show_default=True, type=int,
              help="How many distinct trusted keys must have signed the new release.")
@click.option("--state", "state_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Remember the highest sequence per bundle id; refuse older ones.")
@reported
def command(delta_file: Path, bundle: Path, trust_paths: tuple[Path, ...], threshold: int,
            state_path: Path | None) -> None:
    """Turn BUNDLE into the release DELTA_FILE leads to, after checking everything; exit 0 when
    the result verifies, 1 when the update is refused (BUNDLE unchanged), 2 on bad input."""
    tolerant_console()
    try:
        keys = [load_public_key(path) for path in trust_paths]
    except InfopackError as err:  # a bad key is bad input (2), not a bad update (1)
        raise UsageProblem(err.problems) from None
    result = apply_delta(delta_file, bundle, keys, threshold=threshold, state_file=state_path)
    if result.recovered:
        click.echo(f"note: {bundle}: {result.recovered}", err=True)
    click.echo(f"applied: {result.carried} files from the update, {result.kept} kept, {result.removed} removed")
    echo_never_deciding(result.report.to_text())
    sys.exit(result.report.exit_code)
