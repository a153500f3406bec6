"""`python -m infopack.commands ...`, the same as the `infopack` command."""

from infopack.commands import main

main()
