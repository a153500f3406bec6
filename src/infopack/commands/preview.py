"""`infopack preview CONTENT_DIR`: an unsigned bundle in a temporary folder, rebuilt on changes."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import click

from infopack.commands.support import reported
from infopack.errors import InfopackError


@click.command("preview")
@click.argument("content_dir", type=click.Path(path_type=Path))
@click.option("--once", is_flag=True, help="Build once and stop (no watching).")
@reported
def command(content_dir: Path, once: bool) -> None:
    """Build CONTENT_DIR into a temporary folder, print the index.html to open, rebuild on changes.
    Ctrl-C ends it and removes the temporary folder."""
    from infopack.build.preview import Preview

    if not content_dir.is_dir():
        raise InfopackError("content folder does not exist or is not a folder", content_dir)
    work = Path(tempfile.mkdtemp(prefix="infopack-preview-"))
    preview = Preview(content_dir, work)
    shown: list[bool] = []

    def report(result, seconds: float) -> None:
        if isinstance(result, InfopackError):
            for problem in result.problems:
                click.echo(f"error: {problem}", err=True)
            click.echo("not rebuilt: fix the above and save; the last good preview stays open", err=True)
            return
        for warning in result.warnings:
            click.echo(f"warning: {warning}", err=True)
        click.echo(f"built {result.articles} articles in {seconds:.1f} s")
        if not shown:
            click.echo(f"open: {preview.index_html}")
            if not once:
                click.echo("watching for changes; Ctrl-C to stop")
            shown.append(True)

    try:
        preview.watch(report, rounds=1 if once else None)
    except KeyboardInterrupt:
        click.echo("stopped")
    finally:
        if not once:
            shutil.rmtree(work, ignore_errors=True)
