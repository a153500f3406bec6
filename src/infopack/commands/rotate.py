"""`infopack rotate`: the old key hands its trust for one library to a new key (FORMAT.md 10.6)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from infopack.commands.support import passphrase_option, reported
from infopack.trust.keys import load_public_key, load_secret_key_for_cli
from infopack.trust.rotation import SEQUENCE_MAX, make_rotation, write_rotation


@click.command("rotate")
@click.option("--old", "old_key_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The old secret key (OLD.key), which signs the hand-over.")
@click.option("--new", "new_pub_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The new public key (NEW.pub) that takes over.")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Write the statement here, and its signature to OUT.minisig.")
@click.option("--bundle-id", required=True, help="The library (bundle id) whose trust is handed over.")
@click.option("--from-sequence", default=1, show_default=True, type=click.IntRange(1, SEQUENCE_MAX),
              help="The first sequence the new key signs for.")
@passphrase_option
@reported
def command(old_key_path: Path, new_pub_path: Path, out_path: Path, bundle_id: str, from_sequence: int,
            passphrase_file: Path | None) -> None:
    """Write a rotation statement signed by OLD.key that hands BUNDLE-ID to NEW.pub."""
    new_key = load_public_key(new_pub_path)
    old_secret = load_secret_key_for_cli(old_key_path, passphrase_file)
    created = dt.datetime.now(dt.UTC).date().isoformat()
    rotation = make_rotation(old_secret, new_key, bundle_id, from_sequence, created)
    statement_path, signature_path = write_rotation(rotation, out_path)
    click.echo(f"{rotation.statement.describe()}")
    click.echo(f"statement: {statement_path}\nsignature: {signature_path}")
    click.echo(f"next: infopack sign BUNDLE --key NEW.key --rotation {statement_path}")
