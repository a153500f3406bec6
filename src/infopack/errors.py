"""Errors that reach the user as one line: `path:line: problem`, and the exit code each one means.

Every stage raises these (never a bare exception) for bad input, so the CLI can print one line,
exit non-zero and show no traceback. This module imports nothing of infopack's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

# The exit codes, in one place (README: "exit codes"). `verify` and `copy` also use EXIT_FAILED for
# "this bundle is not good"; bad arguments, keys or state files are EXIT_USAGE there.
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for a command stopped by Ctrl-C


@dataclass(frozen=True)
class Problem:
    """One problem with one input file; `line` is 1-based, 0 when the whole file is meant."""

    path: str
    message: str
    line: int = 0

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


class InfopackError(Exception):
    """Bad input or a refused operation. Carries one or more problems, each printable on one line."""

    def __init__(self, problems: list[Problem] | Problem | str, path: str | Path | None = None):
        if isinstance(problems, str):
            problems = [Problem(str(path) if path is not None else "infopack", problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass
class ProblemList:
    """Collects problems so validation can report all of them, not just the first."""

    items: list[Problem] = field(default_factory=list)

    def add(self, path: str | Path, message: str, line: int = 0) -> None:
        self.items.append(Problem(str(path), message, line))

    def raise_if_any(self) -> None:
        if self.items:
            raise InfopackError(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)


class UsageProblem(InfopackError):
    """Bad arguments, keys or state given to a command that judges a bundle (verify, copy): exit 2,
    because exit 1 there means "this bundle is not good"."""


def exit_code_for(error: BaseException) -> int:
    """The one map from what went wrong to the exit code a command ends with."""
    if isinstance(error, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(error, UsageProblem):
        return EXIT_USAGE
    return EXIT_FAILED
