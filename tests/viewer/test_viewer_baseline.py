"""The viewer's JavaScript stays within what Chrome 109 and Firefox 115 run (the oldest targets)."""

from __future__ import annotations

import re
import subprocess

import pytest

from infopack.build.viewer import SCRIPT_FILES
from kit.content import REPO

VIEWER = REPO / "src" / "infopack" / "build" / "viewer"
ACORN = REPO / "node_modules" / "acorn" / "dist" / "acorn.js"
# Newer than the baseline: each needs a feature test before use, or must not be used at all.
TOO_NEW = {
    "Object.groupBy": "Chrome 117", "Map.groupBy": "Chrome 117", ".toSorted(": "Chrome 110",
    ".toReversed(": "Chrome 110", ".toSpliced(": "Chrome 110", "Promise.withResolvers": "Chrome 119",
    "Array.fromAsync": "Chrome 121", ".isWellFormed(": "Chrome 111", "Intl.Segmenter": "Firefox 125",
    "structuredClone": "fine, but the viewer has no need of it", "import(": "modules fail on file://",
    "new Worker(": "file:// blocks worker scripts", "fetch(": "file:// blocks fetch",
}  # fmt: skip
FEATURE_TESTED = {"Uint8Array.fromBase64": "typeof Uint8Array.fromBase64 === 'function'"}


@pytest.mark.parametrize("name", SCRIPT_FILES)
def test_parses_as_es2020_classic_script(name):
    if not ACORN.exists():
        pytest.skip("acorn is not installed (npm ci)")
    script = (
        f"const acorn = require({str(ACORN)!r});"
        f"acorn.parse(require('fs').readFileSync({str(VIEWER / name)!r}, 'utf8'), {{ecmaVersion: 2020, sourceType: 'script'}});"
    )
    result = subprocess.run(["node", "-e", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def code_without_comments(name: str) -> str:
    source = (VIEWER / name).read_text(encoding="utf-8")
    return re.sub(r"/\*.*?\*/|(?<![:'\\])//[^\n]*", "", source, flags=re.S)  # comments may mention anything


@pytest.mark.parametrize("name", SCRIPT_FILES)
def test_uses_no_api_newer_than_the_baseline(name):
    code = code_without_comments(name)
    for api, why in TOO_NEW.items():
        assert api not in code, f"{name} uses {api} ({why})"
    for api, guard in FEATURE_TESTED.items():
        if api in code:
            assert guard in code, f"{name} uses {api} without the feature test {guard!r}"


def test_nothing_is_stored_or_sent():
    for name in SCRIPT_FILES:
        code = code_without_comments(name)
        for api in ("localStorage", "sessionStorage", "indexedDB", "document.cookie", "XMLHttpRequest",
                    "sendBeacon", "WebSocket", "EventSource", "openDatabase", "caches."):  # fmt: skip
            assert api not in code, f"{name} mentions {api}"
