"""`infopack build`: content folder -> bundle (with --budget: plan first, then build that plan)."""

from __future__ import annotations

from pathlib import Path

import click

from infopack.commands.support import interrupts_stop_the_build, progress_lines, reported, signer
from infopack.errors import InfopackError


@click.command("build")
@click.argument("content_dir", type=click.Path(path_type=Path))
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True, help="Bundle folder to write.")
@click.option("--force", is_flag=True, help="Replace an existing bundle at --out.")
@click.option("--profile", default="default", show_default=True, help="Media profile (default, small, tiny).")
@click.option("--sign", "sign_key", type=click.Path(path_type=Path), help="Sign with this secret key (before the bundle is put in place).")
@click.option("--passphrase-file", type=click.Path(path_type=Path), help="File holding the key's passphrase.")
@click.option("--quiet", is_flag=True, help="No progress lines.")
@click.option("--budget", help="Fit a card: 16GB, 500MB, usb-8g, sd-16g, ... (see `infopack plan`).")
@click.option("--volumes", is_flag=True, help="With --budget: split over several cards, --out/volume-N.")
@click.option("--no-phone", "no_phone", is_flag=True, help="Leave out phone.html and library.pack (no phone reading).")
@click.option("--base", "base_dir", type=click.Path(path_type=Path),
              help="The previous release: keep its dictionary and layout so `infopack delta` stays small.")
@reported
def command(content_dir: Path, out_dir: Path, force: bool, profile: str, sign_key: Path | None,
            passphrase_file: Path | None, quiet: bool, budget: str | None, volumes: bool, no_phone: bool,
            base_dir: Path | None) -> None:
    """Build a bundle from CONTENT_DIR into --out (atomically; the content is only read)."""
    from infopack.build.assemble import build_bundle

    if base_dir is not None and (budget is not None or volumes):
        raise InfopackError("--base works for a single bundle; leave out --budget and --volumes", path="--base")
    secret = None
    if sign_key is not None:  # unlock first: a wrong passphrase must not cost a whole build
        from infopack.trust.keys import load_secret_key_for_cli

        secret = load_secret_key_for_cli(sign_key, passphrase_file)
    progress = progress_lines(quiet)
    with interrupts_stop_the_build():
        if budget is None and not volumes:
            results = [build_bundle(content_dir, out_dir, force=force, profile=profile, progress=progress,
                                    sign=signer(secret), phone=not no_phone, base=base_dir)]
        else:
            results = _build_to_budget(content_dir, out_dir, budget, volumes, force, profile, secret, progress,
                                       phone=not no_phone)
    for result in results:
        for warning in result.warnings:
            click.echo(f"warning: {warning}", err=True)
        if result.signature is not None:
            click.echo(f"signed: {result.signature}")
        click.echo(f"built {result.articles} articles, {result.total_bytes:,} bytes")
        click.echo(f"open: {result.index_html.resolve()}")
        click.echo(phone_line(result))


def phone_line(result) -> str:
    """Which file a reader with only a phone opens (README, "Reading on a phone")."""
    if result.one_file_html is None:
        return "phone readers: none (built with --no-phone)"
    if result.phone_picks_pack and result.library_pack is not None:
        return (f"open on a phone: {result.one_file_html.resolve()}, then tap the button and pick "
                f"{result.library_pack.name} from the same card (the library is too big for one file)")
    return f"open on a phone (one file): {result.one_file_html.resolve()}"


def _build_to_budget(content_dir, out_dir, budget, volumes, force, profile, secret, progress, phone=True):
    """`build --budget`: plan once, print the plan, build exactly that (one bundle or volumes).
    Each bundle is signed in its hidden folder, before anything is put at --out."""
    from infopack.build.assemble import build_bundle
    from infopack.plan.budget import parse_budget
    from infopack.plan.planner import make_plan
    from infopack.plan.report import format_plan
    from infopack.plan.volumes import build_volumes

    if budget is None:
        raise InfopackError("--volumes needs --budget: the size of one card", path="--volumes")
    if profile != "default":
        raise InfopackError("with --budget the plan chooses media profiles; leave out --profile", path="--profile")
    plan = make_plan(content_dir, parse_budget(budget), volumes=volumes, progress=progress)
    click.echo(format_plan(plan))
    if volumes:
        return build_volumes(content_dir, out_dir, plan, force=force, progress=progress, sign=signer(secret),
                             phone=phone)
    return [build_bundle(content_dir, out_dir, force=force, plan=plan, progress=progress, sign=signer(secret),
                         phone=phone)]
