"""Reading a data file (docs/FORMAT.md section 2) back into its payload: for tests, independent
readers, `build --base` and `apply` (which rebuilds phone.html's base64 from the data files)."""

from __future__ import annotations

import re

_DATA_FILE = re.compile(r'infopackData\("([a-z0-9/]+)","(.*)"\);\n', re.S)
_UNIT_ESCAPE = re.compile(r"\\u([0-9a-f]{4})")


def read_data_file(data: bytes, length: int) -> tuple[str, bytes]:
    """Inverse of build.pack.data_file_text: (name, payload); ValueError when it is not one."""
    if not data.startswith(b"\xff\xfe"):
        raise ValueError("not an infopack data file (no UTF-16LE byte order mark)")
    match = _DATA_FILE.fullmatch(data[2:].decode("utf-16-le"))
    if match is None:
        raise ValueError("not an infopack data file")
    units = _UNIT_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), match.group(2))
    return match.group(1), units.encode("utf-16-le", errors="surrogatepass")[:length]
