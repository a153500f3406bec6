"""`infopack sign`: sign (or co-sign) a bundle's manifest."""

from __future__ import annotations

from pathlib import Path

import click

from infopack.commands.support import passphrase_option, reported
from infopack.errors import InfopackError
from infopack.trust.keys import load_secret_key_for_cli
from infopack.trust.rotation import load_rotation
from infopack.trust.sign import sign_bundle


@click.command("sign")
@click.argument("bundle", type=click.Path(file_okay=False, path_type=Path))
@click.option("--key", "key_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
@passphrase_option
@click.option("--signature-out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the signature here instead of BUNDLE/signatures/.")
@click.option("--expires", help="Signed expiry date YYYY-MM-DD (a warning in verify).")
@click.option("--rotation", "rotation_paths", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="A rotation statement (from `infopack rotate`; its .minisig beside it) to carry "
                   "in signatures/ (repeatable, for several rotations in a row).")
@reported
def command(bundle: Path, key_path: Path, passphrase_file: Path | None, signature_out: Path | None,
            expires: str | None, rotation_paths: tuple[Path, ...]) -> None:
    """Sign BUNDLE/manifest.json (adds a co-signature if other keys signed it already)."""
    if key_path.resolve().is_relative_to(bundle.resolve()):
        raise InfopackError("the secret key is inside the bundle; move it out first", key_path)
    rotations = [load_rotation(path) for path in rotation_paths]
    secret = load_secret_key_for_cli(key_path, passphrase_file)
    written = sign_bundle(bundle, secret, signature_out=signature_out, expires=expires, rotations=rotations)
    click.echo(f"signed by key {secret.id_hex}: {written}")
    for rotation in rotations:
        click.echo(f"carries: {rotation.statement.describe()}")
