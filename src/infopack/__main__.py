"""`python -m infopack ...`, the same as the `infopack` command."""

from infopack.commands import main

main()
