"""The ISO 639-1 -> 639-3 table ZIM's `Language` needs covers every code a bundle may carry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infopack.content.load import ISO_639_1
from infopack.export.languages import ISO_639_3, iso_639_3

ISO_CODES = Path("/usr/share/iso-codes/json/iso_639-3.json")


def test_every_code_a_bundle_accepts_has_a_three_letter_code():
    assert set(ISO_639_3) == ISO_639_1
    assert all(len(code) == 3 and code.isascii() and code.islower() for code in ISO_639_3.values())
    assert (iso_639_3("ko"), iso_639_3("en"), iso_639_3("KO"), iso_639_3("xx")) == ("kor", "eng", "kor", None)


def test_table_agrees_with_debian_iso_codes():
    if not ISO_CODES.exists():
        pytest.skip("Debian's iso-codes data is not installed")
    known = {item["alpha_2"]: item["alpha_3"] for item in json.loads(ISO_CODES.read_text())["639-3"] if "alpha_2" in item}
    differing = {two: (three, known.get(two)) for two, three in ISO_639_3.items() if known.get(two, "bih") != three}
    assert differing == {}
