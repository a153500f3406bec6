"""Compress article HTML for per-article random access, and wrap payloads as data files.

Measured on 3,000 generated articles (BENCHMARKS.md, "Text packing"): one zstd-19 frame per article
with a 110 KB trained dictionary is 1.17x the size of compressing the whole corpus as one frame,
and clusters of 4-8 articles per frame gained only 1 % more; so one frame per article, which keeps
the format and the reader simple (docs/FORMAT.md section 4).
"""

from __future__ import annotations

import base64
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import zstandard

LEVEL = 19
DICT_SIZE = 112 * 1024
DICT_TRAINING_SAMPLES = 1000  # evenly spaced articles; more samples cost seconds, gain < 1 %
MIN_BYTES_FOR_DICT = 256 * 1024  # below this a dictionary costs more than it saves
PACK_LIMIT = 256 * 1024  # payload bytes per text pack: small files parse fast on phones
CHUNK = 128  # articles per compression task


@dataclass
class PackedText:
    dictionary: bytes | None  # raw zstd dictionary, or None when there was too little text
    packs: list[bytes]  # payloads `text/0000`, `text/0001`, ...
    locators: list[tuple[int, int, int]]  # per article: (pack, offset, length)


def train_dictionary(samples: list[bytes]) -> bytes | None:
    if sum(len(s) for s in samples) < MIN_BYTES_FOR_DICT or len(samples) < 8:
        return None
    step = max(1, len(samples) // DICT_TRAINING_SAMPLES)
    chosen = samples[::step]
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
        write_checksum=False,  # the root document holds a SHA-256 of every payload
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
    return PackedText(dictionary=dictionary, packs=[bytes(p) for p in packs], locators=locators)


def compress_json(value: object, level: int = LEVEL) -> bytes:
    """A zstd frame (no dictionary) of compact UTF-8 JSON: catalog and lookup shards."""
    return _compressor(None, level).compress(dumps_compact(value))


def dumps_compact(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def data_file_text(name: str, payload: bytes) -> bytes:
    """The classic-script wrapper of docs/FORMAT.md section 2."""
    encoded = base64.b64encode(payload).decode("ascii")
    return f'infopackData("{name}","{encoded}");\n'.encode("ascii")
