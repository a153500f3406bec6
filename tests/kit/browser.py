"""The browser the viewer tests run in: Debian's Chromium, with flags that keep it off the network."""

from __future__ import annotations

CHROMIUM = "/usr/bin/chromium"

# Without these flags Chromium phones home at start-up; the machine has no network and we want a
# request log that only shows what the page itself asked for.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
