"""`infopack verify`: is this bundle intact and signed by enough trusted keys? Loads no build code."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from infopack.commands.support import echo_never_deciding, reported, tolerant_console
from infopack.errors import InfopackError, UsageProblem
from infopack.trust.keys import load_public_key
from infopack.trust.verify import verify_bundle
from infopack.update.apply import recover


@click.command("verify")
@click.argument("bundle", type=click.Path(path_type=Path))
@click.option("--trust", "trust_paths", multiple=True, required=True,
              type=click.Path(dir_okay=False, path_type=Path), help="A trusted NAME.pub (repeatable).")
@click.option("--threshold", default=1, show_default=True, type=int,
              help="How many distinct trusted keys must have signed.")
@click.option("--signature", "signature_paths", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="A detached signature file (repeatable).")
@click.option("--state", "state_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Remember the highest sequence per bundle id; refuse older ones.")
@click.option("--allow-extra", is_flag=True, help="Unlisted files are warnings, not errors.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@reported
def command(bundle: Path, trust_paths: tuple[Path, ...], threshold: int, signature_paths: tuple[Path, ...],
            state_path: Path | None, allow_extra: bool, as_json: bool) -> None:
    """Exit 0 if BUNDLE is intact and signed by THRESHOLD trusted keys, 1 if not, 2 on bad input."""
    tolerant_console()
    try:
        keys = [load_public_key(path) for path in trust_paths]
    except InfopackError as err:  # a bad key is bad input (2), not a bad bundle (1)
        raise UsageProblem(err.problems) from None
    # An update a crash interrupted is finished (committed) or undone first, so that what is
    # verified is one whole release, never a mix (docs/FORMAT.md section 17.3).
    recovered = recover(bundle)
    if recovered:
        click.echo(f"note: {bundle}: {recovered}", err=True)
    try:
        report = verify_bundle(bundle, keys, threshold=threshold, signature_files=list(signature_paths),
                               state_file=state_path, allow_extra=allow_extra)
    except UsageProblem:
        raise
    except InfopackError as err:  # unreadable signature or state files: bad input too
        raise UsageProblem(err.problems) from None
    # ASCII-only JSON says exactly the same on every console and in every file.
    echo_never_deciding(json.dumps(report.to_json(), indent=1) if as_json else report.to_text())
    sys.exit(report.exit_code)
