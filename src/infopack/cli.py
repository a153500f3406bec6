"""Command line: thin wrappers that call library functions and turn InfopackError into one line."""

from __future__ import annotations

import signal
import sys
import threading
from contextlib import contextmanager
from functools import wraps
from pathlib import Path

import click

from infopack import __version__
from infopack.errors import InfopackError

INTERRUPTED_EXIT = 130  # 128 + SIGINT, what a shell reports for a command stopped by Ctrl-C


class _Interrupts:
    """Whether Ctrl-C (SIGINT) arrived while a command was running."""

    seen = False


def _interrupted() -> None:
    click.echo("error: interrupted; nothing was written", err=True)
    sys.exit(INTERRUPTED_EXIT)


def one_line_errors(func):
    """Print each problem as `path:line: problem`, exit 1, never a traceback."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except KeyboardInterrupt:
            _interrupted()
        except (InfopackError, OSError) as err:
            # Ctrl-C reaches every process of the terminal's group: ffmpeg or ffprobe may die of
            # it first, and their failure must not be reported as a bad input file.
            if _Interrupts.seen:
                _interrupted()
            if isinstance(err, InfopackError):
                for problem in err.problems:
                    click.echo(f"error: {problem}", err=True)
            else:  # disk full, permission denied, ...: name the file, no traceback
                where = err.filename if err.filename is not None else "infopack"
                click.echo(f"error: {where}: {err.strerror or err}", err=True)
            sys.exit(1)

    return wrapper


@contextmanager
def interrupts_stop_the_build():
    """Ctrl-C stops a build, and is remembered, even if SIGINT was ignored when we were started
    (`cmd &` in a script): ffmpeg and ffprobe do not keep that setting and die of it, which would
    fail the build anyway, with a misleading error."""

    def on_interrupt(signum, frame):
        _Interrupts.seen = True
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may handle signals (a caller embedding the CLI in a thread)
        return
    _Interrupts.seen = False
    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@click.group()
@click.version_option(__version__, prog_name="infopack")
def main() -> None:
    """Build, sign, verify and copy offline information bundles."""


@main.command()
@click.argument("content_dir", type=click.Path(path_type=Path))
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True, help="Bundle folder to write.")
@click.option("--force", is_flag=True, help="Replace an existing bundle at --out.")
@click.option("--profile", default="default", show_default=True, help="Media profile (default, small, tiny).")
@click.option("--sign", "sign_key", type=click.Path(path_type=Path), help="Sign with this secret key after building.")
@click.option("--passphrase-file", type=click.Path(path_type=Path), help="File holding the key's passphrase.")
@click.option("--quiet", is_flag=True, help="No progress lines.")
@click.option("--budget", help="Fit a card: 16GB, 500MB, usb-8g, sd-16g, ... (see `infopack plan`).")
@click.option("--volumes", is_flag=True, help="With --budget: split over several cards, --out/volume-N.")
@one_line_errors
def build(content_dir: Path, out_dir: Path, force: bool, profile: str, sign_key: Path | None,
          passphrase_file: Path | None, quiet: bool, budget: str | None, volumes: bool) -> None:
    """Build a bundle from CONTENT_DIR into --out (atomically; the content is only read)."""
    from infopack.bundle import build_bundle

    secret = None
    if sign_key is not None:  # unlock first: a wrong passphrase must not cost a whole build
        from infopack.cli_trust import secret_key_for_signing

        secret = secret_key_for_signing(sign_key, passphrase_file)
    with interrupts_stop_the_build():
        if budget is not None or volumes:
            from infopack.cli_plan import build_to_budget

            build_to_budget(content_dir, out_dir, budget, volumes, force=force, profile=profile, secret=secret, quiet=quiet)
            return
        progress = None if quiet else (lambda message: click.echo(f"  {message}", err=True))
        result = build_bundle(content_dir, out_dir, force=force, profile=profile, progress=progress,
                              sign=signer(secret))
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    if result.signature is not None:
        click.echo(f"signed: {result.signature}")
    click.echo(f"built {result.articles} articles, {result.total_bytes:,} bytes")
    click.echo(f"open: {result.index_html.resolve()}")
    if result.one_file_html is not None:
        click.echo(f"open on a phone (one file): {result.one_file_html.resolve()}")


def signer(secret):
    """The signing step a build runs on its finished folder before putting it in place, so that a
    crash can never leave an unsigned bundle at --out; None without a key."""
    if secret is None:
        return None
    from infopack.sign import sign_bundle

    return lambda folder: sign_bundle(folder, secret)


from infopack.cli_trust import register_trust_commands  # noqa: E402  (needs main and one_line_errors)

register_trust_commands(main)

from infopack.cli_copy import register_copy_commands  # noqa: E402

register_copy_commands(main)

from infopack.cli_plan import register_plan_commands  # noqa: E402

register_plan_commands(main)


if __name__ == "__main__":
    main()
