"""`infopack plan`: what fits a card, what is reduced and what is left out; builds nothing."""

from __future__ import annotations

from pathlib import Path

import click

from infopack.commands.support import progress_lines, reported


@click.command("plan")
@click.argument("content_dir", type=click.Path(path_type=Path))
@click.option("--budget", required=True, help="Card size (16GB, 500MB, 1.5GB) or profile (usb-8g, sd-16g, sd-32g, ...).")
@click.option("--volumes", is_flag=True, help="Split over several cards instead of reducing or leaving out.")
@click.option("--quiet", is_flag=True, help="No progress lines.")
@reported
def command(content_dir: Path, budget: str, volumes: bool, quiet: bool) -> None:
    """Show what fits a card, what is reduced and what is left out; builds nothing."""
    from infopack.plan.budget import parse_budget
    from infopack.plan.planner import make_plan
    from infopack.plan.report import format_plan

    plan = make_plan(content_dir, parse_budget(budget), volumes=volumes, progress=progress_lines(quiet))
    click.echo(format_plan(plan))
