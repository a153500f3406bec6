"""`infopack keygen`: a new Ed25519 key pair in minisign's formats."""

from __future__ import annotations

from pathlib import Path

import click

from infopack.commands.support import passphrase_option, reported
from infopack.trust.keys import KDF_LIMITS, generate_secret_key, key_file_paths, resolve_passphrase, write_key_pair

UNENCRYPTED_WARNING = (
    "WARNING: writing the secret key WITHOUT a passphrase. Anyone who copies {path} can sign "
    "bundles in your name. Keep it on an offline, encrypted disk."
)


@click.command("keygen")
@click.argument("name", type=click.Path(path_type=Path))
@click.option("--comment", default="", help="Shown in the public key file.")
@passphrase_option
@click.option("--unencrypted", is_flag=True, help="Store the secret key without a passphrase.")
@click.option("--kdf-cost", type=click.Choice(sorted(KDF_LIMITS)), default="moderate", show_default=True)
@click.option("--force", is_flag=True, help="Overwrite existing NAME.key / NAME.pub.")
@reported
def command(name: Path, comment: str, passphrase_file: Path | None, unencrypted: bool, kdf_cost: str, force: bool) -> None:
    """Write NAME.key (secret, mode 0600) and NAME.pub (minisign public key)."""
    passphrase = None if unencrypted else resolve_passphrase(passphrase_file, confirm=True)
    if unencrypted:
        click.echo(UNENCRYPTED_WARNING.format(path=key_file_paths(name)[0]), err=True)
    secret = generate_secret_key(comment)
    key_path, pub_path = write_key_pair(name, secret, passphrase, kdf=kdf_cost, overwrite=force)
    click.echo(f"secret key: {key_path} (keep it private)")
    click.echo(f"public key: {pub_path} (key ID {secret.id_hex})")
