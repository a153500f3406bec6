"""One pair of real releases per test session (building them is the slow part); tests copy them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kit.releases import Releases, make_releases

# Real libraries fill 256 KB packs with hundreds of articles; small packs give this small one
# several, so that "only one pack changed" means something.
SMALL_PACK = 16 * 1024


@pytest.fixture(scope="session", autouse=True)
def small_packs():
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("infopack.build.pack.PACK_LIMIT", SMALL_PACK)
        yield


@pytest.fixture(scope="session")
def releases(tmp_path_factory, small_packs) -> Releases:
    return make_releases(tmp_path_factory.mktemp("releases"))


@pytest.fixture
def bundle(releases: Releases, tmp_path: Path) -> Path:
    """A partner's copy of OLD, to apply updates to."""
    copy = tmp_path / "card" / "library"
    copy.parent.mkdir()
    shutil.copytree(releases.old, copy)
    return copy
