"""The manifest (FORMAT.md section 6): its model and its one canonical encoding, as pure code.

The manifest is the one file a signature covers; it lists every other file with its size and
SHA-256. The parser is strict and raises InfopackError; the signer and the verifier both use it,
so they cannot disagree about what a manifest means. No file I/O here: reading the file is
trust's job (trust/sign.py), writing it the bundle writer's (build/output.py).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

from infopack.errors import InfopackError, ProblemList
from infopack.format.constants import (
    BUNDLE_ID,
    BUNDLE_ID_PATTERN,
    FAT32_MAX_FILE_BYTES,
    FORMAT_VERSION,
    MANIFEST_NAME,
    SHA256SUMS_NAME,
    SIGNATURES_DIR,
)
from infopack.format.names import check_bundle_path, collision_key, find_collisions

ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
SHA256_HEX = re.compile(r"[0-9a-f]{64}")
BUNDLE_KEYS = ("id", "title", "description", "lang", "sequence", "created", "publisher")
_FORMAT_LINE = f'"format": "{FORMAT_VERSION}",'
_FILES_OPEN = '"files": ['
_FIRST_FILE_LINE = 5  # 1-based line number of the first files entry
MAX_REPORTED_ENTRY_PROBLEMS = 100
FILE_KEYS = ("path", "size", "sha256")


def parse_date(text: str) -> dt.date | None:
    """A strict YYYY-MM-DD date, or None."""
    if not isinstance(text, str) or not ISO_DATE.fullmatch(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def is_plain_int(value: object) -> bool:
    # JSON true/false arrive as bool, which Python counts as int.
    return isinstance(value, int) and not isinstance(value, bool)


# ----------------------------------------------------------------------------- manifest


@dataclass(frozen=True)
class BundleInfo:
    id: str
    title: str
    description: str
    lang: str
    sequence: int
    created: str
    publisher: str = ""


@dataclass(frozen=True)
class FileEntry:
    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    bundle: BundleInfo
    files: tuple[FileEntry, ...]


def _json_string(value: str) -> str:
    # ensure_ascii=False: JSON escapes only where JSON requires them, UTF-8 otherwise.
    return json.dumps(value, ensure_ascii=False)


def _bundle_line(info: BundleInfo) -> str:
    fields = ", ".join(
        f"{_json_string(key)}: {json.dumps(getattr(info, key), ensure_ascii=False)}"
        for key in BUNDLE_KEYS
    )
    return f'"bundle": {{{fields}}},'


def _file_line(entry: FileEntry) -> str:
    """One entry without its separating comma."""
    return f'{{"path": {_json_string(entry.path)}, "size": {entry.size}, "sha256": "{entry.sha256}"}}'


def render_manifest(manifest: Manifest) -> bytes:
    """The exact bytes of manifest.json (section 6.1); files are sorted here."""
    entries = sorted(manifest.files, key=lambda entry: entry.path.encode("utf-8"))
    file_lines = ",\n".join(_file_line(entry) for entry in entries)
    text = (
        f"{{\n{_FORMAT_LINE}\n{_bundle_line(manifest.bundle)}\n{_FILES_OPEN}\n"
        + (file_lines + "\n" if file_lines else "")
        + "]\n}\n"
    )
    return text.encode("utf-8")


def render_sha256sums(manifest: Manifest) -> bytes:
    """SHA256SUMS (section 6.3): every manifest entry except SHA256SUMS itself, same order."""
    lines = [
        f"{entry.sha256}  {entry.path}\n"
        for entry in sorted(manifest.files, key=lambda entry: entry.path.encode("utf-8"))
        if entry.path != SHA256SUMS_NAME
    ]
    return "".join(lines).encode("utf-8")


class _DuplicateKey(ValueError):
    pass


def _object_without_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    # Two parsers that keep different copies of a repeated key would read one signed manifest
    # two ways; refuse the ambiguity instead.
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(f"duplicate key {key!r}")
        result[key] = value
    return result


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def load_strict_json(data: bytes) -> object:
    """JSON that has one reading only: UTF-8, no repeated keys, no NaN/Infinity. Raises ValueError."""
    return json.loads(
        data.decode("utf-8"),
        object_pairs_hook=_object_without_duplicates,
        parse_constant=_refuse_constant,
    )


def _check_keys(
    obj: object, expected: tuple[str, ...], what: str, problems: ProblemList, line: int
) -> bool:
    if not isinstance(obj, dict):
        problems.add(MANIFEST_NAME, f"{what} must be an object", line)
        return False
    if tuple(obj) != expected:
        problems.add(MANIFEST_NAME, f"{what} must have exactly the keys {', '.join(expected)}", line)
        return False
    return True


def _parse_bundle_info(obj: object, problems: ProblemList) -> BundleInfo | None:
    line = 3
    if not _check_keys(obj, BUNDLE_KEYS, "bundle", problems, line):
        return None
    assert isinstance(obj, dict)
    before = len(problems.items)
    for key in ("id", "title", "description", "lang", "created", "publisher"):
        if not isinstance(obj[key], str):
            problems.add(MANIFEST_NAME, f"bundle.{key} must be a string", line)
    if isinstance(obj["id"], str) and not BUNDLE_ID.fullmatch(obj["id"]):
        problems.add(MANIFEST_NAME, f"bundle.id must match {BUNDLE_ID_PATTERN}", line)
    if not is_plain_int(obj["sequence"]) or obj["sequence"] < 1:
        problems.add(MANIFEST_NAME, "bundle.sequence must be an integer >= 1", line)
    if isinstance(obj["created"], str) and parse_date(obj["created"]) is None:
        problems.add(MANIFEST_NAME, "bundle.created must be a date YYYY-MM-DD", line)
    if len(problems.items) > before:
        return None
    return BundleInfo(**{key: obj[key] for key in BUNDLE_KEYS})


def _parse_file_entry(obj: object, line: int, problems: ProblemList) -> FileEntry | None:
    if not _check_keys(obj, FILE_KEYS, "file entry", problems, line):
        return None
    assert isinstance(obj, dict)
    path, size, digest = obj["path"], obj["size"], obj["sha256"]
    if not isinstance(path, str):
        problems.add(MANIFEST_NAME, "path must be a string", line)
        return None
    problem = check_bundle_path(path)
    # Compared as FAT compares names: a listed `MANIFEST.JSON` would overwrite the manifest
    # when the bundle is copied onto a card.
    if problem is None and (
        collision_key(path) == MANIFEST_NAME or collision_key(path.split("/")[0]) == SIGNATURES_DIR
    ):
        problem = "manifest.json and signatures/ are never listed"
    if problem is not None:
        shown = repr(path) if len(path) <= 200 else repr(path[:200]) + "…"
        problems.add(MANIFEST_NAME, f"{problem}: {shown}", line)
        return None
    if not is_plain_int(size) or not 0 <= size <= FAT32_MAX_FILE_BYTES:
        problems.add(MANIFEST_NAME, f"size must be an integer 0..{FAT32_MAX_FILE_BYTES}", line)
        return None
    if not isinstance(digest, str) or not SHA256_HEX.fullmatch(digest):
        problems.add(MANIFEST_NAME, "sha256 must be 64 lower-case hex digits", line)
        return None
    return FileEntry(path, size, digest)


def _check_file_list(entries: list[FileEntry], problems: ProblemList) -> None:
    previous = b""
    for entry in entries:
        key = entry.path.encode("utf-8")
        if key <= previous:
            problems.add(MANIFEST_NAME, f"files not sorted or repeated at {entry.path!r}")
            break
        previous = key
    for first, second in find_collisions(entry.path for entry in entries):
        problems.add(MANIFEST_NAME, f"names collide under case folding/NFC: {first!r} and {second!r}")
    if SHA256SUMS_NAME not in {entry.path for entry in entries}:
        problems.add(MANIFEST_NAME, f"{SHA256SUMS_NAME} is not listed")


class _NotCanonical(ValueError):
    pass


_LAYOUT_HEAD = b"{\n"
_LAYOUT_TAIL = b"\n]\n}\n"


def _lines_between(data: bytes, start: int, end: int) -> Iterator[str]:
    """Decoded lines of data[start:end], one at a time (no list of every line)."""
    while start <= end:
        stop = data.find(b"\n", start, end)
        stop = end if stop < 0 else stop
        yield data[start:stop].decode("utf-8")  # UnicodeDecodeError is a ValueError
        start = stop + 1


def _split_layout(data: bytes) -> tuple[str, str, Iterator[tuple[int, str]]]:
    """(format line, bundle line, numbered file lines without commas) of the layout of 6.1.

    The manifest is read line by line so memory stays near the size of the result: one small
    JSON object at a time, never a parsed document of every entry at once.
    """
    if not data.startswith(_LAYOUT_HEAD) or not data.endswith(_LAYOUT_TAIL):
        raise _NotCanonical("must start with '{' and end with ']' and '}' on their own lines")
    lines = _lines_between(data, len(_LAYOUT_HEAD), len(data) - len(_LAYOUT_TAIL))
    format_line, bundle_line, files_open = (next(lines, "") for _ in range(3))
    if files_open != _FILES_OPEN:
        raise _NotCanonical(f"line 4 must be {_FILES_OPEN!r}")
    return format_line, bundle_line, _file_lines(lines)


def _file_lines(lines: Iterator[str]) -> Iterator[tuple[int, str]]:
    """Entries with their line numbers; every entry but the last ends with a comma."""
    previous = next(lines, None)
    number = _FIRST_FILE_LINE
    for line in lines:
        if not previous or not previous.endswith(","):
            raise _NotCanonical(f"line {number}: entry must end with ','")
        yield number, previous[:-1]
        previous, number = line, number + 1
    if previous is not None:
        yield number, previous


def _load_line(text: str, line: int, problems: ProblemList) -> object | None:
    try:
        return load_strict_json(text.encode("utf-8"))
    except RecursionError:
        problems.add(MANIFEST_NAME, "JSON nested too deeply", line)
    except ValueError as err:  # JSONDecodeError, duplicates, huge ints, NaN
        problems.add(MANIFEST_NAME, f"not valid JSON: {str(err)[:120]}", line)
    return None


def parse_manifest(data: bytes) -> Manifest:
    """Parse and check manifest.json; InfopackError listing every problem otherwise.

    Only call this on bytes whose signature has been checked: it is the verifier's rule that
    nothing unsigned is parsed.
    """
    problems = ProblemList()
    try:
        return _parse_manifest_lines(data, problems)
    except ValueError as err:  # bad layout or UTF-8, found while reading lines
        problems.add(MANIFEST_NAME, f"not in the canonical form of section 6.1: {err}")
        raise InfopackError(problems.items) from None


def _parse_manifest_lines(data: bytes, problems: ProblemList) -> Manifest:
    format_line, bundle_line, file_lines = _split_layout(data)
    if format_line != _FORMAT_LINE:
        # The format fixes the hash algorithm; an input naming anything else is refused.
        problems.add(MANIFEST_NAME, f"format line must be exactly {_FORMAT_LINE!r}", 2)
    bundle = None
    if not bundle_line.startswith('"bundle": ') or not bundle_line.endswith(","):
        problems.add(MANIFEST_NAME, "expected the bundle object", 3)
    else:
        bundle_object = _load_line(bundle_line[len('"bundle": ') : -1], 3, problems)
        bundle = None if bundle_object is None else _parse_bundle_info(bundle_object, problems)
        if bundle is not None and _bundle_line(bundle) != bundle_line:
            problems.add(MANIFEST_NAME, "bundle not written in canonical form (section 6.1)", 3)
    files = []
    for number, text in file_lines:
        if len(problems.items) > MAX_REPORTED_ENTRY_PROBLEMS:
            problems.add(MANIFEST_NAME, "too many problems; stopped reading")
            break
        obj = _load_line(text, number, problems)
        entry = None if obj is None else _parse_file_entry(obj, number, problems)
        if entry is not None and _file_line(entry) != text:
            problems.add(MANIFEST_NAME, "entry not written in canonical form (section 6.1)", number)
        elif entry is not None:
            files.append(entry)
    _check_file_list(files, problems)
    problems.raise_if_any()
    assert bundle is not None
    return Manifest(bundle, tuple(files))
