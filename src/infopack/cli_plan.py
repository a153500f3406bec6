"""`infopack plan` and `build --budget/--volumes`: thin wrappers over plan.make_plan and the build."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import click

from infopack.errors import InfopackError
from infopack.keys import SecretKey


def register_plan_commands(main: click.Group) -> None:
    from infopack.cli import one_line_errors  # cli imports this module at its end

    @main.command("plan")
    @click.argument("content_dir", type=click.Path(path_type=Path))
    @click.option("--budget", required=True, help="Card size (16GB, 500MB, 1.5GB) or profile (usb-8g, sd-16g, sd-32g, ...).")
    @click.option("--volumes", is_flag=True, help="Split over several cards instead of reducing or leaving out.")
    @click.option("--quiet", is_flag=True, help="No progress lines.")
    @one_line_errors
    def plan_command(content_dir: Path, budget: str, volumes: bool, quiet: bool) -> None:
        """Show what fits a card, what is reduced and what is left out; builds nothing."""
        from infopack.plan import format_plan, make_plan, parse_budget

        plan = make_plan(content_dir, parse_budget(budget), volumes=volumes, progress=_progress(quiet))
        click.echo(format_plan(plan))


def _progress(quiet: bool) -> Callable[[str], None] | None:
    return None if quiet else (lambda message: click.echo(f"  {message}", err=True))


def build_to_budget(content_dir: Path, out_dir: Path, budget: str | None, volumes: bool, *, force: bool,
                    profile: str, secret: SecretKey | None, quiet: bool) -> None:
    """`build --budget`: plan once, print the plan, build exactly that (one bundle or volumes)."""
    from infopack.bundle import build_bundle
    from infopack.cli import signer
    from infopack.plan import build_volumes, format_plan, make_plan, parse_budget

    if budget is None:
        raise InfopackError("--volumes needs --budget: the size of one card", path="--volumes")
    if profile != "default":
        raise InfopackError("with --budget the plan chooses media profiles; leave out --profile", path="--profile")
    progress = _progress(quiet)
    plan = make_plan(content_dir, parse_budget(budget), volumes=volumes, progress=progress)
    click.echo(format_plan(plan))
    # Each bundle is signed in its hidden folder, before anything is put at --out.
    if volumes:
        results = build_volumes(content_dir, out_dir, plan, force=force, progress=progress, sign=signer(secret))
    else:
        results = [build_bundle(content_dir, out_dir, force=force, plan=plan, progress=progress, sign=signer(secret))]
    for result in results:
        for warning in result.warnings:
            click.echo(f"warning: {warning}", err=True)
        if result.signature is not None:
            click.echo(f"signed: {result.signature}")
        click.echo(f"built {result.articles} articles, {result.total_bytes:,} bytes")
        click.echo(f"open: {result.index_html.resolve()}")
