"""`infopack keygen`, `infopack sign`, `infopack verify`: thin wrappers over keys/sign/verify."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from infopack.errors import InfopackError
from infopack.keys import (
    KDF_LIMITS,
    PASSPHRASE_ENV,
    SecretKey,
    generate_secret_key,
    key_file_paths,
    load_public_key,
    load_secret_key_for_cli,
    resolve_passphrase,
    write_key_pair,
)
from infopack.sign import sign_bundle
from infopack.verify import EXIT_USAGE, verify_bundle

UNENCRYPTED_WARNING = (
    "WARNING: writing the secret key WITHOUT a passphrase. Anyone who copies {path} can sign "
    "bundles in your name. Keep it on an offline, encrypted disk."
)


def _is_inside(path: Path, directory: Path) -> bool:
    return path.resolve().is_relative_to(directory.resolve())


def secret_key_for_signing(key_path: Path, passphrase_file: Path | None) -> SecretKey:
    """For `sign` and `build --sign`: see keys.load_secret_key_for_cli."""
    return load_secret_key_for_cli(key_path, passphrase_file)


def register_trust_commands(main: click.Group) -> None:
    """Add keygen, sign and verify to the `infopack` command group."""
    from infopack.cli import one_line_errors  # cli imports this module at its end

    passphrase_option = click.option(
        "--passphrase-file",
        type=click.Path(dir_okay=False, path_type=Path),
        help=f"Read the passphrase from this file (else ${PASSPHRASE_ENV}, else a prompt).",
    )

    @main.command()
    @click.argument("name", type=click.Path(path_type=Path))
    @click.option("--comment", default="", help="Shown in the public key file.")
    @passphrase_option
    @click.option("--unencrypted", is_flag=True, help="Store the secret key without a passphrase.")
    @click.option(
        "--kdf-cost", type=click.Choice(sorted(KDF_LIMITS)), default="moderate", show_default=True
    )
    @click.option("--force", is_flag=True, help="Overwrite existing NAME.key / NAME.pub.")
    @one_line_errors
    def keygen(name, comment, passphrase_file, unencrypted, kdf_cost, force):
        """Write NAME.key (secret, mode 0600) and NAME.pub (minisign public key)."""
        passphrase = None if unencrypted else resolve_passphrase(passphrase_file, confirm=True)
        if unencrypted:
            click.echo(UNENCRYPTED_WARNING.format(path=key_file_paths(name)[0]), err=True)
        secret = generate_secret_key(comment)
        key_path, pub_path = write_key_pair(
            name, secret, passphrase, kdf=kdf_cost, overwrite=force
        )
        click.echo(f"secret key: {key_path} (keep it private)")
        click.echo(f"public key: {pub_path} (key ID {secret.id_hex})")

    @main.command()
    @click.argument("bundle", type=click.Path(file_okay=False, path_type=Path))
    @click.option("--key", "key_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
    @passphrase_option
    @click.option(
        "--signature-out",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Write the signature here instead of BUNDLE/signatures/.",
    )
    @click.option("--expires", help="Signed expiry date YYYY-MM-DD (a warning in verify).")
    @one_line_errors
    def sign(bundle, key_path, passphrase_file, signature_out, expires):
        """Sign BUNDLE/manifest.json (adds a co-signature if other keys signed it already)."""
        if _is_inside(key_path, bundle):
            raise InfopackError("the secret key is inside the bundle; move it out first", key_path)
        secret = secret_key_for_signing(key_path, passphrase_file)
        written = sign_bundle(bundle, secret, signature_out=signature_out, expires=expires)
        click.echo(f"signed by key {secret.id_hex}: {written}")

    @main.command()
    @click.argument("bundle", type=click.Path(path_type=Path))
    @click.option(
        "--trust", "trust_paths", multiple=True, required=True,
        type=click.Path(dir_okay=False, path_type=Path), help="A trusted NAME.pub (repeatable).",
    )
    @click.option("--threshold", default=1, show_default=True, type=int,
                  help="How many distinct trusted keys must have signed.")
    @click.option("--signature", "signature_paths", multiple=True,
                  type=click.Path(dir_okay=False, path_type=Path),
                  help="A detached signature file (repeatable).")
    @click.option("--state", "state_path", type=click.Path(dir_okay=False, path_type=Path),
                  help="Remember the highest sequence per bundle id; refuse older ones.")
    @click.option("--allow-extra", is_flag=True, help="Unlisted files are warnings, not errors.")
    @click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
    @one_line_errors
    def verify(bundle, trust_paths, threshold, signature_paths, state_path, allow_extra, as_json):
        """Exit 0 if BUNDLE is intact and signed by THRESHOLD trusted keys, 1 if not, 2 on bad input."""
        _tolerant_console()
        try:
            keys = [load_public_key(path) for path in trust_paths]
            report = verify_bundle(
                bundle, keys, threshold=threshold, signature_files=list(signature_paths),
                state_file=state_path, allow_extra=allow_extra,
            )
        except InfopackError as err:
            # Bad keys, arguments or state: exit 2, since 1 means "this bundle is not good".
            for problem in err.problems:
                click.echo(f"error: {problem}", err=True)
            sys.exit(EXIT_USAGE)
        # ASCII-only JSON says exactly the same on every console and in every file.
        output = json.dumps(report.to_json(), indent=1) if as_json else report.to_text()
        try:
            click.echo(output)
        except (OSError, UnicodeError):
            # A closed pipe or an odd console loses the report, never the verdict. What is
            # still buffered goes to /dev/null, or flushing it at exit would fail again and
            # Python would exit with 120 instead.
            _discard_stdout()
        sys.exit(report.exit_code)


def _discard_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def _tolerant_console() -> None:
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
