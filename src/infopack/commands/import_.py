"""`infopack import SOURCE... --into CONTENT_DIR`: web pages, text, documents, media -> articles."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from infopack.commands.support import interrupts_stop_the_build, progress_lines, reported
from infopack.errors import EXIT_FAILED, InfopackError


@click.command("import")
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--into", "content_dir", required=True, type=click.Path(path_type=Path),
              help="Content folder to write articles into (created with an infopack.toml when absent).")
@click.option("--lang", help="Language of every article (ISO 639-1: ko, en, ...) instead of detecting it.")
@click.option("--tag", "tags", multiple=True, help="Add this tag to every article (repeatable).")
@click.option("--dry-run", is_flag=True, help="Write nothing; show what would be imported and every line cleaning would cut.")
@click.option("--force", is_flag=True, help="Replace articles staff edited since they were imported.")
@click.option("--one-article", is_flag=True, help="A folder of audio/video becomes one article listing them.")
@click.option("--limit", type=click.IntRange(min=1), help="ZIM: import at most N front articles.")
@click.option("--titles", "titles_file", type=click.Path(dir_okay=False, path_type=Path),
              help="ZIM: import only the titles listed in this file (one a line).")
@click.option("--without-images", is_flag=True, help="ZIM: leave pictures out.")
@click.option("--quiet", is_flag=True, help="No progress lines (a large ZIM reports its progress and time left).")
@reported
def command(sources: tuple[Path, ...], content_dir: Path, lang: str | None, tags: tuple[str, ...], dry_run: bool,
            force: bool, one_article: bool, limit: int | None, titles_file: Path | None, without_images: bool,
            quiet: bool) -> None:
    """Import SOURCE files and folders as articles into --into CONTENT_DIR (sources are only read)."""
    from infopack.content.load import ISO_639_1
    from infopack.ingest.model import ImportOptions
    from infopack.ingest.orchestrate import format_report, import_sources

    if lang is not None and lang not in ISO_639_1:
        raise InfopackError(f"{lang!r} is not an ISO 639-1 language code (ko, en, ...)", path="--lang")
    if content_dir.exists() and not content_dir.is_dir():
        raise InfopackError("exists and is not a folder", path=content_dir)
    options = ImportOptions(lang=lang, tags=tuple(t.strip() for t in tags if t.strip()), one_article=one_article,
                            limit=limit, titles=_titles(titles_file), without_images=without_images)
    with interrupts_stop_the_build():
        report = import_sources(list(sources), content_dir, options, force=force, dry_run=dry_run,
                                progress=progress_lines(quiet))
    if report.created_content_dir:
        click.echo(f"created {content_dir} (edit {content_dir / 'infopack.toml'}: title, language)")
    click.echo(format_report(report, dry_run=dry_run))
    for outcome in report.outcomes:
        if outcome.action == "failed":
            click.echo(f"error: {outcome.source}: {'; '.join(outcome.problems)}", err=True)
    if report.failed:
        sys.exit(EXIT_FAILED)


def _titles(path: Path | None) -> tuple[str, ...] | None:
    if path is None:
        return None
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise InfopackError(f"cannot read the titles file: {getattr(err, 'strerror', None) or err}", path=path) from None
    return tuple(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))
