"""Compress article HTML for per-article random access, and wrap payloads as data files.

Measured (BENCHMARKS.md, "Text packing"): one zstd frame per article with a trained dictionary is
1.14x the size of the whole corpus as one frame on generated text; clusters of articles per frame
gained 1 % there and 1-7 % on real manuals, so one frame per article keeps the format and the
reader simple (docs/FORMAT.md section 4).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import zstandard

# The reader lives with the format, where `apply` (which loads no build code) can use it too.
from infopack.format.datafile import read_data_file  # noqa: F401  (tests and readers import it from here)

# Level 15 (btlazy2) is within 0.7 % of level 19's size on per-article frames with a dictionary,
# at 2.3-2.7x less CPU (gimp-help-ko and the Python docs; BENCHMARKS.md, "Text packing").
LEVEL = 15
DICT_SIZE = 64 * 1024
# Training reads evenly spaced articles, each cut to 16 KB, 2 MB in all: on the Python docs this
# trains in 1 s instead of 9.5 s for a result within 0.5 % (BENCHMARKS.md, "Text packing").
DICT_TRAINING_BYTES = 2 * 1024 * 1024
DICT_SAMPLE_BYTES = 16 * 1024
MIN_BYTES_FOR_DICT = 256 * 1024  # below this a dictionary costs more than it saves
PACK_LIMIT = 256 * 1024  # payload bytes per text pack: small files parse fast on phones
CHUNK = 128  # articles per compression task
ALIGN_MODULUS = 6  # stable rebuilds: 2 (UTF-16 units) x 3 (base64 groups), see pack_into_places


@dataclass
class PackedText:
    dictionary: bytes | None  # raw zstd dictionary, or None when there was too little text
    packs: dict[int, bytes]  # pack number -> payload `text/<number>`; numbers may skip (--base)
    locators: list[tuple[int, int, int]]  # per article: (pack, offset, length)


def train_dictionary(samples: list[bytes]) -> bytes | None:
    if sum(len(s) for s in samples) < MIN_BYTES_FOR_DICT or len(samples) < 8:
        return None
    cut = [sample[:DICT_SAMPLE_BYTES] for sample in samples]
    step = max(1, sum(len(sample) for sample in cut) // DICT_TRAINING_BYTES)
    chosen = cut[::step]
    try:
        # Fixed k/d (no parameter search): deterministic and ~5x faster than the optimiser.
        trained = zstandard.train_dictionary(DICT_SIZE, chosen, k=2048, d=8, f=20, accel=1, level=LEVEL)
    except zstandard.ZstdError:
        return None
    return trained.as_bytes()


def _compressor(dictionary: bytes | None, level: int) -> zstandard.ZstdCompressor:
    dict_data = zstandard.ZstdCompressionDict(dictionary) if dictionary else None
    return zstandard.ZstdCompressor(
        level=level,
        dict_data=dict_data,
        write_checksum=False,  # the root document and catalog hold SHA-256s of payloads and frames
        write_content_size=True,  # lets the decoder allocate the output once
        write_dict_id=False,  # the bundle has one dictionary; 4 bytes per article saved
    )


def compress_frames(documents: list[bytes], dictionary: bytes | None, level: int = LEVEL) -> list[bytes]:
    """One zstd frame per document, on all cores (zstd releases the GIL)."""

    def work(chunk: list[bytes]) -> list[bytes]:
        compressor = _compressor(dictionary, level)
        return [compressor.compress(doc) for doc in chunk]

    chunks = [documents[i : i + CHUNK] for i in range(0, len(documents), CHUNK)]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return [frame for result in pool.map(work, chunks) for frame in result]


def pack_articles(html_documents: list[bytes], level: int = LEVEL) -> PackedText:
    dictionary = train_dictionary(html_documents)
    frames = compress_frames(html_documents, dictionary, level)
    packs: list[bytearray] = []
    locators: list[tuple[int, int, int]] = []
    for frame in frames:
        if not packs or (len(packs[-1]) + len(frame) > PACK_LIMIT and len(packs[-1]) > 0):
            packs.append(bytearray())
        locators.append((len(packs) - 1, len(packs[-1]), len(frame)))
        packs[-1] += frame
    return PackedText(dictionary=dictionary, packs={n: bytes(p) for n, p in enumerate(packs)}, locators=locators)


def pack_into_places(
    html_documents: list[bytes],
    slugs: list[str],
    dictionary: bytes | None,
    places: dict[str, tuple[int, int]],
    level: int = LEVEL,
) -> PackedText:
    """Pack for a stable rebuild (`build --base`): the base bundle's dictionary, and every article
    the base had in the pack it was in, in the order it had there (PLACES: slug -> (pack, offset)).
    An unchanged pack therefore gets the same bytes; a pack whose articles all left is gone; in a
    changed pack, frames may be preceded by up to 5 zero bytes (docs/FORMAT.md section 4).
    New articles fill new packs numbered after the base's last, in library order."""
    frames = compress_frames(html_documents, dictionary, level)
    members: dict[int, list[tuple[int, int]]] = {}
    newcomers: list[int] = []
    for index, slug in enumerate(slugs):
        place = places.get(slug)
        if place is None:
            newcomers.append(index)
        else:
            members.setdefault(place[0], []).append((place[1], index))
    packs: dict[int, bytearray] = {}
    locators: list[tuple[int, int, int]] = [(0, 0, 0)] * len(frames)

    def put(number: int, index: int) -> None:
        pack = packs.setdefault(number, bytearray())
        locators[index] = (number, len(pack), len(frames[index]))
        pack += frames[index]

    for number in sorted(members):
        for old_offset, index in sorted(members[number]):
            # Up to 5 zero bytes keep each frame's offset modulo 6 what it was: the data file
            # pairs payload bytes into UTF-16 units and phone.html groups them by 3 for base64,
            # so frames after an edited one keep their encoded bytes, only moved (a small patch).
            pack = packs.setdefault(number, bytearray())
            pack += bytes((old_offset - len(pack)) % ALIGN_MODULUS)
            put(number, index)
    number = max((place[0] for place in places.values()), default=-1)
    fresh = False  # new articles never go into a pack the base had: that pack would change
    for index in newcomers:
        if not fresh or (len(packs[number]) + len(frames[index]) > PACK_LIMIT and len(packs[number]) > 0):
            number += 1
            fresh = True
        put(number, index)
    return PackedText(dictionary=dictionary, packs={n: bytes(p) for n, p in sorted(packs.items())}, locators=locators)


# Per-article check (docs/FORMAT.md section 4): the first 16 hex digits (64 bits) of the SHA-256 of
# the article's frame, in its catalog entry. Enough to tell damage from chance (2^-64), at 11 bytes
# per article after compression. zstd frame checksums would cost 4, but would need an XXH64 in our
# JS decoder and would let damaged bytes reach the decoder before the check (BENCHMARKS.md,
# "Phones at any size, damage that costs one article").
ARTICLE_DIGEST_HEX = 16


def frame_digest(packed: PackedText, number: int) -> str:
    """The catalog's check value for article `number`'s frame."""
    pack, offset, length = packed.locators[number]
    return hashlib.sha256(packed.packs[pack][offset : offset + length]).hexdigest()[:ARTICLE_DIGEST_HEX]


def compress_json(value: object, level: int = LEVEL) -> bytes:
    """A zstd frame (no dictionary) of compact UTF-8 JSON: catalog and lookup shards."""
    return _compressor(None, level).compress(dumps_compact(value))


def dumps_compact(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# Code units that a JS string literal cannot hold as they are, or that UTF-16 cannot carry alone.
_UNSAFE_CODE_UNITS = re.compile("[\ud800-\udfff\"\\\\\n\r\u2028\u2029]")


def _escape_code_unit(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def data_file_text(name: str, payload: bytes) -> bytes:
    """The classic-script data file of docs/FORMAT.md section 2: UTF-16LE with a byte order mark,
    the payload's bytes read as little-endian code units inside a string literal. Browsers decode
    a script by its BOM, so this costs ~1.15x the payload where base64 costs 1.33x."""
    padded = payload + b"\0" * (len(payload) % 2)
    units = padded.decode("utf-16-le", errors="surrogatepass")
    literal = _UNSAFE_CODE_UNITS.sub(_escape_code_unit, units)
    return ("\ufeff" + 'infopackData("' + name + '","' + literal + '");\n').encode("utf-16-le")


def inline_data_element(name: str, payload: bytes) -> str:
    """The one-file variant's inline form (docs/FORMAT.md section 8): a non-executable element
    holding base64 (the HTML is UTF-8), so the page's CSP names no data scripts."""
    return '<script type="text/plain" data-payload="' + name + '">' + base64.b64encode(payload).decode("ascii") + "</script>"
