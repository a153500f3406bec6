"""Card budgets: a card's nominal size, what a plan may fill of it, and its allocation unit."""

from __future__ import annotations

import re
from dataclasses import dataclass

from infopack.errors import InfopackError

GB = 1000**3  # card makers count in decimal gigabytes
# A "128 GB" card gives about 110 GB usable (NOTES.md, Cards and drives): plan for 90 %.
USABLE_FRACTION = 0.90
# Allocation units: the SD Association's formatter uses 32 KiB clusters on FAT32 cards up to
# 32 GB and 128 KiB on exFAT cards above; Windows' defaults are smaller, so these are upper bounds.
FAT32_CLUSTER_BYTES = 32 * 1024
EXFAT_CLUSTER_BYTES = 128 * 1024
LARGEST_FAT32_CARD = 32 * GB

CARD_SIZES_GB = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
CARD_PROFILES: dict[str, int] = {f"{medium}-{n}g": n * GB for medium in ("usb", "sd") for n in CARD_SIZES_GB}

_SIZE_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*([kmgt]i?)?(b?)$", re.IGNORECASE)
_UNIT_BYTES = {
    "": 1, "k": 1000, "m": 1000**2, "g": 1000**3, "t": 1000**4,
    "ki": 1024, "mi": 1024**2, "gi": 1024**3, "ti": 1024**4,
}  # fmt: skip


@dataclass(frozen=True)
class Budget:
    """A card: its nominal size as printed on it, and what a plan may fill."""

    label: str
    nominal_bytes: int

    @property
    def usable_bytes(self) -> int:
        return int(self.nominal_bytes * USABLE_FRACTION)

    @property
    def cluster_bytes(self) -> int:
        return FAT32_CLUSTER_BYTES if self.nominal_bytes <= LARGEST_FAT32_CARD else EXFAT_CLUSTER_BYTES


def parse_budget(text: str) -> Budget:
    """`16GB`, `1.5GB`, `500MB`, `8GiB`, or a card profile such as `sd-16g`; one-line error otherwise."""
    cleaned = str(text).strip()
    name = cleaned.lower()
    if name in CARD_PROFILES:
        return Budget(name, CARD_PROFILES[name])
    match = _SIZE_RE.match(cleaned.replace(",", "").replace("_", ""))
    if match is None:
        known = "usb-8g, sd-8g, usb-16g, sd-16g, usb-32g, sd-32g, sd-64g ... (1g to 512g)"
        if re.fullmatch(r"[a-z]+-[0-9a-z]+", name):
            raise InfopackError(f"unknown card profile (known: {known})", path=cleaned)
        raise InfopackError(f"not a card size: give e.g. 16GB, 500MB, 1.5GB or a profile ({known})", path=cleaned or "--budget")
    number, unit = float(match.group(1)), (match.group(2) or "").lower()
    if not unit and not match.group(3):  # a bare number could mean bytes, MB or GB
        raise InfopackError("give a unit, e.g. 16GB or 500MB", path=cleaned)
    nominal = int(number * _UNIT_BYTES[unit])
    if nominal <= 0:
        raise InfopackError("a card budget must be larger than zero", path=cleaned)
    return Budget(cleaned, nominal)


def on_card(size: int, cluster: int) -> int:
    """Bytes a file of `size` occupies on a card with `cluster`-byte allocation units."""
    return -(-size // cluster) * cluster
