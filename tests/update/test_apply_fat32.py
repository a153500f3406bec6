"""`apply` on a real FAT32 file system (mkfs.vfat + fusefat, tests/kit/fatfs.py): no atomic folder
swap there, so the journal does the work. A full card and kill -9 leave OLD or NEW, and the file
system itself stays consistent (fsck.fat)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from infopack.update.apply import staging_for
from infopack.update.delta import make_delta
from kit.content import link_safe_digest, run_infopack
from kit.fatfs import fat_drive, missing_tools
from kit.releases import KILLER, files_of

MB = 1024 * 1024
_missing = missing_tools()
pytestmark = pytest.mark.skipif(_missing is not None, reason=_missing or "")


@pytest.fixture(scope="module")
def update(releases, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("delta") / "update.delta"
    make_delta(releases.old, releases.new, out)
    return out


@pytest.fixture
def card(tmp_path, releases):
    """A FAT32 card holding OLD at /library (copied without permissions, which FAT has not)."""
    drive = fat_drive(tmp_path / "fat", 40 * MB)
    for source in sorted(releases.old.rglob("*")):
        target = drive.root / "library" / source.relative_to(releases.old)
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_file():
            shutil.copyfile(source, target)  # no copystat: fusefat has no chmod
    yield drive
    drive.unmount()


def _fill(root: Path, leave: int) -> Path:
    """A file taking all the free space but LEAVE bytes."""
    info = os.statvfs(root)
    filler = root / "filler.bin"
    with open(filler, "wb") as out:
        left = info.f_bavail * info.f_frsize - leave
        block = b"\0" * MB
        while left > 0:
            out.write(block[: min(MB, left)])
            left -= MB
    return filler


def test_apply_on_fat32_gives_new_exactly_and_a_clean_file_system(releases, update, card):
    bundle = card.root / "library"
    result = run_infopack("apply", str(update), str(bundle), "--trust", str(releases.pub), timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    card.remount()
    assert files_of(bundle) == files_of(releases.new)
    assert not staging_for(bundle).exists()
    card.unmount()
    check = card.fsck()
    assert check.returncode == 0, check.stdout + check.stderr
    card.mount()


def test_full_card_leaves_old_intact_and_nothing_behind(releases, update, card):
    bundle = card.root / "library"
    filler = _fill(card.root, leave=24 * 1024)
    before = link_safe_digest(bundle)
    result = run_infopack("apply", str(update), str(bundle), "--trust", str(releases.pub), timeout=120)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "BUNDLE is unchanged" in result.stderr, result.stderr
    assert link_safe_digest(bundle) == before
    assert sorted(p.name for p in card.root.iterdir() if p.name != filler.name) == ["library"]
    # Room made, the same update goes through.
    filler.unlink()
    assert run_infopack("apply", str(update), str(bundle), "--trust", str(releases.pub), timeout=120).returncode == 0
    assert files_of(bundle) == files_of(releases.new)


@pytest.mark.parametrize("stop_at", [1, 2, 3, 4, 5])  # prepare, commit, move-out, move-in, cleanup
def test_kill_9_during_apply_on_fat32_then_verify_leaves_old_or_new(releases, update, card, stop_at):
    bundle = card.root / "library"
    run = subprocess.run([sys.executable, "-c", KILLER, str(update), str(bundle), str(releases.pub), str(stop_at)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == -signal.SIGKILL, run.stdout + run.stderr
    card.remount()  # nothing the killed process had cached survives
    check = run_infopack("verify", str(bundle), "--trust", str(releases.pub), timeout=120)
    assert check.returncode == 0, run.stdout + check.stdout + check.stderr
    assert files_of(bundle) in (files_of(releases.old), files_of(releases.new)), run.stdout
    assert not staging_for(bundle).exists()
    card.unmount()
    fsck = card.fsck()
    assert fsck.returncode == 0, fsck.stdout
    card.mount()



def test_card_full_at_the_commit_still_ends_with_new_complete(releases, update, card):
    # The card fills up (another program, a camera) right before the commit: the switch must not
    # need space it cannot get. A rename that fails for want of space loses the file on fusefat,
    # so apply reserves the room its folders need before committing and frees it first thing.
    from infopack.update.apply import apply_delta

    bundle = card.root / "library"
    filled = []

    def fill_at_commit(step: str) -> None:
        if step == "commit" and not filled:
            filled.append(_fill(card.root, leave=0))

    assert apply_delta(update, bundle, [releases.key.public_key()], hook=fill_at_commit).report.ok
    assert filled and files_of(bundle) == files_of(releases.new)
    assert not staging_for(bundle).exists()
    filled[0].unlink()
    card.unmount()
    fsck = card.fsck()
    assert fsck.returncode == 0, fsck.stdout
    card.mount()
