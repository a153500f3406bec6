"""The one progress channel: long stages report human-readable lines through a `Progress`.

Library code never prints; it calls the `Progress` it was given (or nothing, when given None), and
the command decides where lines go (`commands.support.progress_lines`: stderr, or nowhere with
--quiet). Imports nothing of infopack's.
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str], None]
