"""What several commands share: error reporting, Ctrl-C, signing keys, progress lines, consoles.

Not a command itself; command modules import this, never each other.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from infopack.errors import EXIT_FAILED, InfopackError, exit_code_for
from infopack.progress import Progress

if TYPE_CHECKING:
    from infopack.trust.keys import SecretKey

F = TypeVar("F", bound=Callable[..., Any])


class _Interrupts:
    """Whether Ctrl-C (SIGINT) arrived while a command was running."""

    seen = False


def _say_interrupted() -> None:
    click.echo("error: interrupted; nothing was written", err=True)
    sys.exit(exit_code_for(KeyboardInterrupt()))


def reported(func: F) -> F:
    """Print each problem as `error: path:line: problem` and exit with the code that
    `errors.exit_code_for` gives; never a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except KeyboardInterrupt:
            _say_interrupted()
        except (InfopackError, OSError) as err:
            # Ctrl-C reaches every process of the terminal's group: ffmpeg or ffprobe may die of
            # it first, and their failure must not be reported as a bad input file.
            if _Interrupts.seen:
                _say_interrupted()
            if isinstance(err, InfopackError):
                for problem in err.problems:
                    click.echo(f"error: {problem}", err=True)
                sys.exit(exit_code_for(err))
            # disk full, permission denied, ...: name the file, no traceback
            where = err.filename if err.filename is not None else "infopack"
            click.echo(f"error: {where}: {err.strerror or err}", err=True)
            sys.exit(EXIT_FAILED)

    return wrapper


@contextmanager
def interrupts_stop_the_build() -> Iterator[None]:
    """Ctrl-C stops a build, and is remembered, even if SIGINT was ignored when we were started
    (`cmd &` in a script): ffmpeg and ffprobe do not keep that setting and die of it, which would
    fail the build anyway, with a misleading error."""

    def on_interrupt(signum: int, frame: object) -> None:
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


def signer(secret: SecretKey | None) -> Callable[[Path], Path] | None:
    """The signing step a build runs on its finished folder before putting it in place, so that a
    crash can never leave an unsigned bundle at --out; None without a key."""
    if secret is None:
        return None
    from infopack.trust.sign import sign_bundle

    return lambda folder: sign_bundle(folder, secret)


def progress_lines(quiet: bool) -> Progress | None:
    """Progress goes to stderr, one indented line per step; --quiet silences it."""
    return None if quiet else (lambda message: click.echo(f"  {message}", err=True))


def passphrase_option(func: F) -> F:
    from infopack.trust.keys import PASSPHRASE_ENV

    return click.option(
        "--passphrase-file",
        type=click.Path(dir_okay=False, path_type=Path),
        help=f"Read the passphrase from this file (else ${PASSPHRASE_ENV}, else a prompt).",
    )(func)


def tolerant_console() -> None:
    """Let `verify` print on any console. A Windows console or a file opened with a legacy
    encoding (cp1252, Latin-1) cannot encode Korean titles and paths; printing them would
    raise, and the crash's exit code 1 would call a good bundle failed. Characters the
    stream cannot encode are written as backslash escapes instead."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (OSError, ValueError):
                pass  # a stream that cannot be reconfigured keeps its own behaviour


def echo_never_deciding(output: str) -> None:
    """Print a report; a closed pipe or an odd console loses the report, never the verdict."""
    try:
        click.echo(output)
    except (OSError, UnicodeError):
        # What is still buffered goes to /dev/null, or flushing it at exit would fail again and
        # Python would exit with 120 instead.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):
            pass
