"""The one atomic file writer (src/infopack/atomic.py) that trust and drives share."""

from __future__ import annotations

import os

import pytest

from infopack.atomic import fsync_directory, write_file_atomically


def test_replaces_the_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "state.json"
    target.write_bytes(b"old")
    write_file_atomically(target, b"new", mode=0o640)
    assert target.read_bytes() == b"new"
    assert target.stat().st_mode & 0o777 == 0o640
    assert os.listdir(tmp_path) == ["state.json"]


def test_default_mode_is_what_open_would_give(tmp_path):
    umask = os.umask(0o027)
    try:
        write_file_atomically(tmp_path / "a", b"x")
    finally:
        os.umask(umask)
    assert (tmp_path / "a").stat().st_mode & 0o777 == 0o640


def test_a_link_planted_at_a_predictable_name_is_never_written_through(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    target = tmp_path / "out" / "sig.minisig"
    target.parent.mkdir()
    for name in (".sig.minisig.tmp", "sig.minisig.tmp", f".sig.minisig.{os.getpid()}.tmp"):
        (target.parent / name).symlink_to(victim)
    write_file_atomically(target, b"signature")
    assert target.read_bytes() == b"signature" and victim.read_text() == "precious"


def test_a_failed_write_removes_its_temporary(tmp_path, monkeypatch):
    def refuse(*_args):
        raise OSError("no")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError):
        write_file_atomically(tmp_path / "a", b"x")
    assert os.listdir(tmp_path) == []


def test_fsync_directory_is_best_effort_unless_strict(tmp_path):
    fsync_directory(tmp_path / "missing")
    with pytest.raises(OSError):
        fsync_directory(tmp_path / "missing", strict=True)
    fsync_directory(tmp_path, strict=True)
