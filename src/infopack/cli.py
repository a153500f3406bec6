"""Command line: thin wrappers that call library functions and turn InfopackError into one line."""

from __future__ import annotations

import sys
from functools import wraps

import click

from infopack import __version__
from infopack.errors import InfopackError


def one_line_errors(func):
    """Print each problem as `path:line: problem`, exit 1, never a traceback."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except InfopackError as err:
            for problem in err.problems:
                click.echo(f"error: {problem}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("error: interrupted; nothing was written", err=True)
            sys.exit(130)

    return wrapper


@click.group()
@click.version_option(__version__, prog_name="infopack")
def main() -> None:
    """Build, sign, verify and copy offline information bundles."""


from infopack.cli_trust import register_trust_commands  # noqa: E402  (needs main and one_line_errors)

register_trust_commands(main)
