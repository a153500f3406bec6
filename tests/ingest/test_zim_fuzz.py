"""Mutated real ZIM files (libzim-made and hand-made) must read or fail with one ZimError line:
never another exception, never a large allocation, never a hang."""

from __future__ import annotations

import os
import struct
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infopack.ingest.model import ImportedArticle, ImportFailure, ImportOptions
from infopack.ingest.zim.convert import read_zims
from infopack.ingest.zim.reader import ZimArchive, ZimError
from kit.zim import CraftOptions, LibzimArticle, craft_zim, libzim_zim, old_style_items

pytest.importorskip("libzim.writer")

PEAK_LIMIT = 48 * 1024 * 1024  # far below what a 2^60 claim would need, above the 16 MiB cluster allowance


def _libzim_seed(directory: Path) -> bytes:
    articles = [LibzimArticle(f"A{n}", f"Title {n}", f'<html><body><h1>Title {n}</h1><p>x{n} <a href="A{(n + 1) % 6}">n</a>'
                              f'<img src="I/p.png"></p><script>s()</script></body></html>') for n in range(6)]
    articles.append(LibzimArticle("I/p.png", "", b"\x89PNG\r\n\x1a\n" + b"p" * 40, mime="image/png", front=False))
    path = libzim_zim(directory / "seed.zim", articles, [("Old", "Old", "A1")], {"Title": "Seed", "Language": "eng"},
                      main_path="A0", cluster_size=512)
    return path.read_bytes()


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> list[bytes]:
    directory = tmp_path_factory.mktemp("fuzz")
    old = craft_zim(old_style_items(), CraftOptions(compression={0: "xz", 1: "none"}, extended=frozenset({1}), main_path="A/Seoul"))
    return [_libzim_seed(directory), old.data]


def _exercise(path: Path) -> None:
    try:
        with ZimArchive(path) as zim:
            for entry in zim.entries():
                if entry.kind == "content":
                    zim.content(entry)
                elif entry.is_redirect:
                    zim.resolve(entry)
            for index in zim.titles_in_order():
                zim.entry(index)
            zim.entry_by_title("Title 3")
            zim.entry_by_path("C/A3")
            zim.metadata()
            zim.main_entry()
            zim.check_checksum()
    except ZimError as exc:
        assert "\n" not in str(exc) and str(exc).startswith(str(path))
    for item in read_zims([path], ImportOptions()):
        assert isinstance(item, ImportedArticle | ImportFailure)


mutation = st.tuples(st.integers(min_value=0, max_value=1 << 20), st.binary(min_size=1, max_size=8))


@settings(max_examples=int(os.environ.get("ZIM_FUZZ_EXAMPLES", "250")), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(choice=st.integers(0, 1), mutations=st.lists(mutation, min_size=1, max_size=6),
       cut=st.one_of(st.none(), st.integers(min_value=0, max_value=1 << 20)), keep_size_consistent=st.booleans())
def test_mutated_zims_fail_cleanly_and_small(seeds, tmp_path, choice, mutations, cut, keep_size_consistent):
    data = bytearray(seeds[choice])
    for position, value in mutations:
        at = position % len(data)
        data[at : at + len(value)] = value
    if cut is not None:
        del data[cut % len(data) :]
    if keep_size_consistent and len(data) >= 96:
        # Make the header agree with the damaged length, so the damage is found deeper inside.
        data[72:80] = struct.pack("<Q", len(data) - 16)
    path = tmp_path / "mutated.zim"
    path.write_bytes(bytes(data))
    tracemalloc.start()
    try:
        _exercise(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < PEAK_LIMIT
