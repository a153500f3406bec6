"""The command line, `infopack COMMAND`: one module per command, each loaded only when it runs.

As in pip, `infopack verify` therefore never imports build code, and `--help` imports none of
them. The commands are thin: they parse options, call library functions and print; errors become
exit codes in one place (`support.reported`, using `errors.exit_code_for`). No command module
imports another; what several share is in `support`.
"""

from __future__ import annotations

import importlib

import click

from infopack import __version__

# name -> (module holding `command`, the line `infopack --help` shows)
COMMANDS: dict[str, tuple[str, str]] = {
    "build": ("infopack.commands.build", "Build a bundle from a content folder (atomically; the folder is only read)."),
    "plan": ("infopack.commands.plan", "Show what fits a card, what is reduced and what is left out; builds nothing."),
    "keygen": ("infopack.commands.keygen", "Write a key pair: NAME.key (secret) and NAME.pub (minisign format)."),
    "sign": ("infopack.commands.sign", "Sign a bundle's manifest (a co-signature if others signed it already)."),
    "rotate": ("infopack.commands.rotate", "Hand a library from an old signing key to a new one (a signed statement)."),
    "verify": ("infopack.commands.verify", "Check a bundle is intact and signed by trusted keys (exit 0, 1 or 2)."),
    "export": ("infopack.commands.export", "Verify a bundle, then write it as a ZIM file for Kiwix (--zim OUT.zim)."),
    "copy": ("infopack.commands.copy", "Verify a bundle, write it onto drives, read every file back."),
    "new": ("infopack.commands.new", "Start a content folder: infopack.toml with comments and one example article."),
    "import": ("infopack.commands.import_", "Bring web pages, text, Word/ODT files and audio/video into a content folder."),
    "preview": ("infopack.commands.preview", "Build an unsigned bundle into a temporary folder and rebuild it as files change."),
    "delta": ("infopack.commands.delta", "Write the update that turns one signed release into the next (one file)."),
    "apply": ("infopack.commands.apply", "Check an update, then turn a bundle into the new release, all or nothing."),
}


class LazyCommands(click.Group):
    """A click group that imports a command's module only when that command is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        command: click.Command = importlib.import_module(COMMANDS[name][0]).command
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, line) for name, (_, line) in COMMANDS.items()])


@click.group(cls=LazyCommands)
@click.version_option(__version__, prog_name="infopack")
def main() -> None:
    """Build, sign, verify and copy offline information bundles."""


if __name__ == "__main__":
    main()
