"""Running the outside programs importers use (pandoc, ffprobe) on files staff hand us.

As build/media.py runs ffmpeg: no shell, a list of arguments, a time limit, the child dies with
us (setpriv's parent-death signal), and a source path always goes in as an absolute path (or a
`file:` URL for ffprobe), so a file named `-o x` or `http:x` is only ever that file.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

_DIE_WITH_US = (
    ["setpriv", "--pdeathsig", "KILL", "--"] if sys.platform.startswith("linux") and shutil.which("setpriv") else []
)
TIMEOUT_S = 120


class ProgramFailed(Exception):
    """The program is missing, ran too long, or failed; the message is one line."""


@dataclass(frozen=True)
class Ran:
    stdout: bytes
    stderr: str


def program(name: str, install_hint: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise ProgramFailed(f"{name} is not installed ({install_hint})")
    return found


def run(command: list[str], *, cwd: Path | None = None, timeout: float = TIMEOUT_S) -> Ran:
    """Run `command` (no shell) and return its output; ProgramFailed on any failure."""
    try:
        result = subprocess.run(_DIE_WITH_US + command, capture_output=True, check=False, timeout=timeout,
                                cwd=cwd, stdin=subprocess.DEVNULL, env=_quiet_environment())
    except subprocess.TimeoutExpired:
        raise ProgramFailed(f"{Path(command[0]).name} took longer than {timeout:.0f} s and was stopped") from None
    except OSError as err:
        raise ProgramFailed(f"cannot run {Path(command[0]).name}: {err.strerror or err}") from None
    if result.returncode == -signal.SIGINT:
        raise KeyboardInterrupt
    stderr = result.stderr.decode("utf-8", "replace")
    if result.returncode != 0:
        raise ProgramFailed(f"{Path(command[0]).name} failed: {last_line(stderr)}")
    return Ran(result.stdout, stderr)


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return (lines[-1] if lines else "no message")[:200]


def _quiet_environment() -> dict[str, str]:
    """The environment without proxies (nothing we run should reach a network anyway)."""
    return {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
