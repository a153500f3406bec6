"""The 48x48 PNG Kiwix shows for a ZIM (`M/Illustration_48x48@1`), drawn here with zlib alone.

An open book in white on a coloured square; the colour comes from the bundle id, so libraries can
be told apart at a glance and the same bundle always gives the same bytes.
"""

from __future__ import annotations

import colorsys
import hashlib
import struct
import zlib

SIZE = 48
WHITE = (255, 255, 255)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(pixels: list[list[tuple[int, int, int]]]) -> bytes:
    """An 8-bit RGB PNG of `pixels` (rows of (r, g, b)), no filter, zlib level 9: deterministic."""
    height, width = len(pixels), len(pixels[0])
    raw = b"".join(b"\0" + bytes(channel for pixel in row for channel in pixel) for row in pixels)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw, 9)) + _chunk(b"IEND", b"")


def _colour(seed: str) -> tuple[int, int, int]:
    hue = hashlib.sha256(seed.encode("utf-8")).digest()[0] / 256
    red, green, blue = colorsys.hls_to_rgb(hue, 0.38, 0.55)
    return round(red * 255), round(green * 255), round(blue * 255)


def _is_page(x: int, y: int) -> bool:
    """Two pages of an open book, with a gap for the spine."""
    return 12 <= y <= 36 and (8 <= x <= 22 or 25 <= x <= 39)


def _is_line(x: int, y: int) -> bool:
    """Lines of text on the pages."""
    return y in (17, 21, 25, 29) and (11 <= x <= 20 or 27 <= x <= 36)


def illustration(seed: str) -> bytes:
    background = _colour(seed)
    rows = []
    for y in range(SIZE):
        row = []
        for x in range(SIZE):
            if _is_line(x, y):
                row.append(background)
            elif _is_page(x, y):
                row.append(WHITE)
            else:
                row.append(background)
        rows.append(row)
    return encode_png(rows)
