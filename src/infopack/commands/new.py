"""`infopack new DIR`: start a content folder (infopack.toml with comments, one example article)."""

from __future__ import annotations

from pathlib import Path

import click

from infopack.commands.support import reported


@click.command("new")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--title", default="", help="The library's title (else the folder name).")
@click.option("--lang", default="ko", show_default=True, help="Main language (ISO 639-1).")
@reported
def command(directory: Path, title: str, lang: str) -> None:
    """Start a content folder in DIRECTORY (refuses a folder that is not empty)."""
    from infopack.ingest.starter import start_content_folder

    start_content_folder(directory, title=title, lang=lang)
    click.echo(f"started {directory}: edit {directory / 'infopack.toml'}, then add articles to {directory / 'articles'}")
    click.echo(f"see it: infopack preview {directory}")
