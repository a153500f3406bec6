"""The f3-style capacity probe: its patterns, and real honest and lying FAT32 drives."""

from __future__ import annotations

import os

import pytest

from infopack.drives.probe import (
    BLOCK_BYTES,
    PROBE_DIR_NAME,
    SECTOR_BYTES,
    SECTORS_PER_BLOCK,
    ProbeResult,
    _classify_sector,
    block_bytes,
    probe_capacity,
    sector_bytes,
)
from infopack.errors import InfopackError
from kit.fatfs import fat_drive, lying_drive, missing_tools

MB = 1024 * 1024
NONCE = b"testrun1"
_fat_missing = missing_tools()
_lying_missing = missing_tools(lying=True)


def test_every_sector_says_where_it_belongs():
    block = block_bytes(NONCE, 3)
    assert len(block) == BLOCK_BYTES
    sectors = {block[i:i + SECTOR_BYTES] for i in range(0, BLOCK_BYTES, SECTOR_BYTES)}
    assert len(sectors) == SECTORS_PER_BLOCK  # no two sectors alike
    assert block[:SECTOR_BYTES] == sector_bytes(NONCE, 3 * SECTORS_PER_BLOCK)
    assert block_bytes(b"otherrun", 3) != block  # a run never matches an earlier run's leftovers


def test_a_sector_from_elsewhere_is_wrapped_anything_else_is_lost():
    assert _classify_sector(NONCE, 10, sector_bytes(NONCE, 900)) == "wrapped"
    assert _classify_sector(NONCE, 10, bytes(SECTOR_BYTES)) == "lost"
    assert _classify_sector(NONCE, 10, sector_bytes(b"otherrun", 900)) == "lost"
    assert _classify_sector(NONCE, 10, b"") == "lost"


def test_summary_names_the_real_size():
    result = ProbeResult("x", None, written_bytes=40_000_000, intact_bytes=20_000_000, wrapped_sectors=5)
    assert result.lies
    assert "only 20.0 MB of 40.0 MB" in result.summary()


def test_probe_refuses_a_leftover_probe_folder(tmp_path):
    (tmp_path / PROBE_DIR_NAME).mkdir()
    with pytest.raises(InfopackError, match="already exists"):
        probe_capacity(tmp_path)


def test_limited_probe_on_a_plain_folder(tmp_path):
    (tmp_path / "keep.txt").write_text("not touched")
    result = probe_capacity(tmp_path, limit_bytes=3 * MB)
    assert not result.lies
    assert result.written_bytes == result.intact_bytes == 3 * MB
    assert os.listdir(tmp_path) == ["keep.txt"]


@pytest.mark.skipif(_fat_missing is not None, reason=_fat_missing or "")
def test_honest_fat32_drive_passes_the_full_probe(tmp_path):
    drive = fat_drive(tmp_path / "fat", 40 * MB)
    try:
        result = probe_capacity(drive.root)
        assert not result.lies, result.summary()
        # It filled the free space: all but what is left over after the last whole block.
        assert result.claimed_free_bytes - BLOCK_BYTES < result.intact_bytes <= result.claimed_free_bytes
        assert os.listdir(drive.root) == []
    finally:
        drive.unmount()
    assert drive.fsck().returncode == 0


@pytest.mark.skipif(_lying_missing is not None, reason=_lying_missing or "")
def test_lying_drive_is_caught_and_its_real_size_reported(tmp_path):
    drive = lying_drive(tmp_path / "liar", 20 * MB, 40 * MB)
    try:
        result = probe_capacity(drive.fat.root)
        assert result.lies
        assert result.written_bytes > 30 * MB  # the file system believed the claimed size
        assert result.wrapped_sectors > 0
        # What really holds data is the flash that exists, less the file system's own area.
        assert 15 * MB < result.intact_bytes <= 20 * MB
        assert os.listdir(drive.fat.root) == []
    finally:
        drive.close()
