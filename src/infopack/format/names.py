"""Bundle path rules (FORMAT.md section 11), shared by the bundle writer and the verifier.

A bundle travels on FAT32 cards and is opened on Windows, Android and Linux. A name that one of
them rewrites, refuses or treats as a device, or two names that one of them considers the same
file, would make the copy on a card differ from the signed manifest. A path that leaves the bundle
directory would let signed metadata point a reader at files outside it. Both are checked here, on
plain strings, so the writer and the verifier apply exactly the same rules.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

MAX_COMPONENT_CHARS = 255

# Characters FAT32 and Windows refuse in a name; `/` is the separator and is handled separately.
FORBIDDEN_CHARACTERS = frozenset('<>:"\\|?*')

# DOS device names: `NUL.txt` still opens the device on Windows, so the extension does not help.
RESERVED_DEVICE_NAMES = frozenset(
    ["CON", "PRN", "AUX", "NUL"]
    + [f"COM{n}" for n in range(1, 10)]
    + [f"LPT{n}" for n in range(1, 10)]
)

_DRIVE_LETTER = re.compile(r"^[A-Za-z]:")


def _is_control(char: str) -> bool:
    # Cc covers C0, DEL and C1; a name with one cannot be shown or typed safely and breaks
    # line-based lists such as SHA256SUMS.
    return unicodedata.category(char) == "Cc"


def check_component(name: str) -> str | None:
    """Return why one path component is not allowed, or None when it is fine."""
    if not name:
        return "empty path component"
    if name in (".", ".."):
        return f"path component {name!r} is not allowed (no relative steps)"
    if len(name) > MAX_COMPONENT_CHARS:
        return f"path component longer than {MAX_COMPONENT_CHARS} characters"
    for char in name:
        if char in FORBIDDEN_CHARACTERS:
            return f"character {char!r} is not allowed in a name (FAT32)"
        if _is_control(char):
            return f"control character U+{ord(char):04X} in a name"
    if name[-1] in ". ":
        return "name ends in a dot or a space (FAT32 strips them)"
    if name.split(".", 1)[0].upper() in RESERVED_DEVICE_NAMES:
        return f"reserved device name {name!r} (DOS/Windows)"
    return None


def check_bundle_path(path: str) -> str | None:
    """Return why `path` may not name a file in a bundle, or None when it is fine.

    `path` is relative to the bundle directory and uses `/`. Absolute paths, drive letters,
    backslashes and `..` are refused before the component rules, with a message that says so,
    because they are how a hostile manifest would try to reach outside the bundle.
    """
    if not isinstance(path, str):
        return "path is not a string"
    if not path:
        return "empty path"
    if path.startswith("/"):
        return "absolute path (must be relative to the bundle)"
    if _DRIVE_LETTER.match(path):
        return "path starts with a drive letter"
    if "\\" in path:
        return "backslash in path (the separator is '/')"
    for component in path.split("/"):
        problem = check_component(component)
        if problem is not None:
            return problem
    return None


def collision_key(path: str) -> str:
    """The form under which two paths name the same file on some reader's file system.

    NFC first so composed and decomposed spellings meet; case folding can produce a
    non-normalised string again, so normalise once more after it.
    """
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", path).casefold())


def find_collisions(paths: Iterable[str]) -> list[tuple[str, str]]:
    """Pairs (first seen, later) of distinct paths that are equal under NFC + case folding.

    Also catches a file whose name collides with a directory prefix of another path
    (`Data` vs `data/x.js`), since FAT cannot hold both.
    """
    seen: dict[str, str] = {}
    collisions: dict[tuple[str, str], None] = {}  # a dict keeps first-found order without repeats
    for path in paths:
        parts = path.split("/")
        # Every directory prefix occupies its name too.
        prefixes = ["/".join(parts[:i]) for i in range(1, len(parts))]
        for name in [*prefixes, path]:
            key = collision_key(name)
            earlier = seen.get(key)
            if earlier is None:
                seen[key] = name
            elif earlier != name:
                collisions[(earlier, name)] = None
    return list(collisions)


# ----------------------------------------------------------------------------- files beside a bundle
#
# A card that a partner has plugged into a computer gains files the bundle never had. Two kinds
# are told apart here, by name, for `verify` (which decides whether a card still passes) and
# `copy` (which must not mistake a fresh drive's housekeeping for someone else's files).

# Folders an operating system writes at the root of any drive it mounts. Nothing reads or runs
# them as part of the bundle, so they are reported and ignored, never refused.
OS_HOUSEKEEPING_DIRS = frozenset(
    {
        "System Volume Information",  # Windows: indexer GUID, restore points
        "$RECYCLE.BIN",  # Windows recycle bin (fixed USB disks)
        ".Trashes",  # macOS per-volume trash
        ".fseventsd",  # macOS file-system event log
        ".Spotlight-V100",  # macOS search index
        ".TemporaryItems",  # macOS scratch space on non-HFS volumes
        "lost+found",  # fsck on Linux file systems
    }
)
# Files macOS and Windows write into any folder they show: Finder's view settings, Windows'
# thumbnail cache; `._<name>` AppleDouble files (below) carry macOS metadata on FAT.
OS_HOUSEKEEPING_FILES = frozenset({".DS_Store", "Thumbs.db"})
APPLEDOUBLE_PREFIX = "._"

# Names a computer acts on by itself, without anyone opening them: Windows runs or shows what
# autorun.inf names, Explorer reads desktop.ini and folder.htt when it lists a folder (an icon on
# a network path leaks the user's credentials), shortcut files are followed or fetched when their
# icon is drawn, and Linux desktops do the same with .desktop and .directory. A bundle never
# needs one, and an unlisted one is refused even with --allow-extra.
AUTO_ACTED_NAMES = frozenset({"autorun.inf", "desktop.ini", "folder.htt", ".directory"})
AUTO_ACTED_SUFFIXES = (
    ".lnk", ".url", ".scf", ".pif", ".desktop", ".library-ms", ".searchconnector-ms",
)

_HOUSEKEEPING_DIR_KEYS = frozenset(collision_key(name) for name in OS_HOUSEKEEPING_DIRS)
_HOUSEKEEPING_FILE_KEYS = frozenset(collision_key(name) for name in OS_HOUSEKEEPING_FILES)


def is_housekeeping_dir(name: str) -> bool:
    """Is NAME, a folder at the top of a bundle (or drive), one an OS writes there itself?"""
    return collision_key(name) in _HOUSEKEEPING_DIR_KEYS


def housekeeping_root(path: str) -> str | None:
    """The housekeeping item PATH (a file, relative to the bundle) belongs to, or None.

    `System Volume Information/x` -> `System Volume Information/`; `media/._a.mp3` and
    `data/Thumbs.db` -> themselves. Volume folders count only at the top, where an OS puts them.
    """
    parts = path.split("/")
    if len(parts) > 1 and is_housekeeping_dir(parts[0]):
        return parts[0] + "/"
    name = parts[-1]
    if collision_key(name) in _HOUSEKEEPING_FILE_KEYS:
        return path
    if name.startswith(APPLEDOUBLE_PREFIX) and len(name) > len(APPLEDOUBLE_PREFIX):
        return path
    return None


def auto_acted_reason(path: str) -> str | None:
    """Why a file at PATH would be acted on by a computer by itself, or None.

    Compared case-insensitively under the same folding as collisions, and with trailing dots and
    spaces removed, since Windows drops them when it opens a name.
    """
    name = collision_key(path.rsplit("/", 1)[-1]).rstrip(". ")
    if name in AUTO_ACTED_NAMES:
        return f"{name} is acted on by the computer by itself (never allowed in a bundle)"
    for suffix in AUTO_ACTED_SUFFIXES:
        if name.endswith(suffix):
            return f"a {suffix} file is followed or opened by the computer by itself (never allowed in a bundle)"
    return None


def undecodable_reason(path: str) -> str | None:
    """A name read from disk whose bytes are not UTF-8 arrives with lone surrogates
    (surrogateescape); FAT32 and every other reader would store or show it differently."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return "name is not valid UTF-8 (another system would store or show it differently)"
    return None
