"""kill -9 during `apply`, at every step of the switch and at random moments: after the next `verify`
(or `apply`), the bundle is OLD exactly or NEW exactly, never a mix."""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from infopack.update.apply import COMMIT_NAME, recover, staging_for
from infopack.update.delta import make_delta
from kit.content import run_infopack
from kit.releases import KILLER, files_of


@pytest.fixture(scope="module")
def update(releases, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("delta") / "update.delta"
    make_delta(releases.old, releases.new, out)
    return out


def old_or_new(bundle: Path, releases) -> str:
    found = files_of(bundle)
    if found == files_of(releases.old):
        return "old"
    if found == files_of(releases.new):
        return "new"
    return "mix"


def test_kill_9_at_every_step_leaves_old_or_new_after_verify(releases, update, tmp_path):
    outcomes = []
    for stop_at in range(1, 40):
        card = tmp_path / f"run{stop_at}" / "library"
        card.parent.mkdir()
        shutil.copytree(releases.old, card)
        run = subprocess.run([sys.executable, "-c", KILLER, str(update), str(card), str(releases.pub), str(stop_at)],
                             capture_output=True, text=True, timeout=60)
        if run.returncode == 0:
            break  # the hook was called fewer times: every step has been tried
        assert run.returncode == -signal.SIGKILL, run.stderr
        step = run.stdout.split()[-1]
        committed = (staging_for(card) / COMMIT_NAME).exists()
        check = run_infopack("verify", str(card), "--trust", str(releases.pub), timeout=60)
        assert check.returncode == 0, (step, check.stdout, check.stderr)
        state = old_or_new(card, releases)
        assert state == ("new" if committed else "old"), (step, state)
        assert not staging_for(card).exists()
        outcomes.append((step, state))
    else:
        pytest.fail("apply never finished")
    steps = [step for step, _ in outcomes]
    assert {"prepare", "commit", "move-out", "move-in", "cleanup"} <= set(steps), steps
    assert ("prepare", "old") in outcomes and ("commit", "old") in outcomes and ("move-in", "new") in outcomes


def test_kill_9_at_random_moments_leaves_old_or_new_after_the_next_apply(releases, update, tmp_path):
    rng = random.Random(14)
    seen = set()
    for run in range(12):
        card = tmp_path / f"run{run}" / "library"
        card.parent.mkdir()
        shutil.copytree(releases.old, card)
        process = subprocess.Popen(
            [sys.executable, "-m", "infopack.commands", "apply", str(update), str(card), "--trust", str(releases.pub)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.2, 1.6))
        process.kill()
        process.wait()
        # The next apply first finishes or undoes the interrupted one, then applies (or is refused
        # because the bundle is NEW already): either way the result is whole.
        recovered = recover(card)
        state = old_or_new(card, releases)
        assert state in ("old", "new"), (run, recovered)
        seen.add(state)
        if state == "old":
            again = run_infopack("apply", str(update), str(card), "--trust", str(releases.pub), timeout=60)
            assert again.returncode == 0, again.stderr
            assert old_or_new(card, releases) == "new"
    assert seen, seen
