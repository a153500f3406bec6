"""`build --base OLD`: an unchanged article gives byte-identical data files, so an update carries only
what changed; what it builds reads exactly as a build from scratch would."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import zstandard

from infopack.build.search import decode_shard
from infopack.errors import InfopackError
from kit.content import bundle_article_html, run_infopack
from kit.releases import Releases, add_article, build, differing, edit_article, set_sequence

# What always changes with a new release: the viewer's root document, the manifest and its sums.
# Whole-library files: each holds or lists every payload (library.pack travels as a patch in a delta).
ALWAYS = {"index.html", "phone.html", "library.pack", "manifest.json", "SHA256SUMS"}


def _text_packs(paths: set[str]) -> set[str]:
    return {p for p in paths if p.startswith("data/text/")}


def _next_release(releases: Releases, tmp_path: Path, change, sequence: int = 2) -> Path:
    content = tmp_path / "content"
    shutil.copytree(releases.content_old, content)
    set_sequence(content, sequence)
    change(content)
    return build(content, tmp_path / "next", releases.key, base=releases.old)


def test_editing_one_article_changes_only_its_text_pack_and_small_shards(releases, tmp_path):
    new = _next_release(releases, tmp_path, lambda c: edit_article(c, "a00003.md"))
    changed = differing(releases.old, new)
    assert len(_text_packs(changed)) == 1
    assert "data/dict.js" not in changed and not any(p.startswith("media/") for p in changed)
    small = changed - ALWAYS - _text_packs(changed)
    assert all(p.startswith(("data/cat/", "data/slug/", "data/facet/", "data/search/", "signatures/")) for p in small), small
    assert len(files := list((new / "data" / "text").iterdir())) > 3, files  # the test means something


def test_adding_one_article_adds_a_pack_and_rewrites_no_old_pack(releases, tmp_path):
    new = _next_release(releases, tmp_path, lambda c: add_article(c, "added.md"))
    changed = differing(releases.old, new)
    packs = _text_packs(changed)
    assert len(packs) == 1 and not (releases.old / next(iter(packs))).exists()  # a new pack, no old one
    assert len(changed - ALWAYS) <= 12, sorted(changed)


def test_removing_an_article_rewrites_only_its_pack(releases, tmp_path):
    new = _next_release(releases, tmp_path, lambda c: (c / "articles" / "a00020.md").unlink())
    packs = _text_packs(differing(releases.old, new))
    assert len(packs) == 1 and (new / next(iter(packs))).exists()


def test_a_stable_rebuild_reads_exactly_like_a_build_from_scratch(releases, tmp_path):
    # Same content built with and without --base: every article's HTML and every search posting
    # must be the same, only where they are stored may differ.
    stable = releases.new
    scratch = build(releases.content_new, tmp_path / "scratch", None)
    assert bundle_article_html(stable) == bundle_article_html(scratch)
    assert _postings(stable) == _postings(scratch)


def _postings(bundle: Path) -> dict:
    import json
    import re

    from infopack.build.pack import read_data_file

    page = (bundle / "index.html").read_text(encoding="utf-8")
    root = json.loads(re.search(r'<script id="infopack-root" type="application/json">(.*?)</script>', page, re.S).group(1))
    found: dict = {}
    for name, (length, _digest) in root["files"].items():
        if name.startswith("search/t/"):
            _, payload = read_data_file((bundle / "data" / f"{name}.js").read_bytes(), length)
            found.update(decode_shard(payload))
    lang_name = root["search"]["lang_payload"]
    _, lang = read_data_file((bundle / "data" / f"{lang_name}.js").read_bytes(), root["files"][lang_name][0])
    found["\0langs"] = zstandard.ZstdDecompressor().decompress(lang)
    return found


def test_a_release_whose_sequence_does_not_grow_is_refused_in_one_line(releases, tmp_path):
    content = tmp_path / "content"
    shutil.copytree(releases.content_old, content)  # still sequence 1, like the base
    result = run_infopack("build", str(content), "--out", str(tmp_path / "out"), "--base", str(releases.old), "--quiet", timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "sequence 1 is not higher than the base's 1" in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_tampered_base_is_refused(releases, tmp_path):
    base = tmp_path / "base"
    shutil.copytree(releases.old, base)
    dictionary = base / "data" / "dict.js"
    data = bytearray(dictionary.read_bytes())
    data[100] ^= 1
    dictionary.write_bytes(bytes(data))
    content = tmp_path / "content"
    shutil.copytree(releases.content_old, content)
    set_sequence(content, 2)
    with pytest.raises(InfopackError, match="does not match the --base bundle's manifest"):
        build(content, tmp_path / "out", None, base=base)


def test_a_base_of_another_library_is_refused(releases, tmp_path):
    content = tmp_path / "content"
    shutil.copytree(releases.content_old, content)
    toml = content / "infopack.toml"
    toml.write_text(toml.read_text().replace('id = "library"', 'id = "other"').replace("sequence = 1", "sequence = 5"))
    with pytest.raises(InfopackError, match="--base is bundle 'library'"):
        build(content, tmp_path / "out", None, base=releases.old)



@pytest.mark.parametrize("grown_by", [1, 2, 3, 4, 5, 6, 7])
def test_frames_after_an_edited_one_keep_their_encoded_bytes(grown_by):
    # Frames after the edited one keep their offset modulo 6, so the UTF-16 data file and the
    # base64 in phone.html hold them as the same bytes, only moved: the patch carries the edit,
    # not the rest of the pack, whatever length the edited frame grew by.
    import base64
    import random

    from infopack.build.pack import data_file_text, pack_articles, pack_into_places
    from infopack.update.delta import make_patch

    rng = random.Random(grown_by)
    docs = [rng.randbytes(700) for _ in range(12)]  # incompressible: frame length = text length + header
    slugs = [f"s{i}" for i in range(12)]
    before = pack_articles(docs)
    places = {slug: (pack, offset) for slug, (pack, offset, _length) in zip(slugs, before.locators)}
    docs[3] = docs[3] + rng.randbytes(grown_by)
    after = pack_into_places(docs, slugs, None, places)
    for index in range(4, 12):
        assert after.locators[index][1] % 6 == before.locators[index][1] % 6
    old_file, new_file = data_file_text("text/0000", before.packs[0]), data_file_text("text/0000", after.packs[0])
    assert len(make_patch(old_file, new_file)) < len(new_file) // 4
    old_b64, new_b64 = base64.b64encode(before.packs[0]), base64.b64encode(after.packs[0])
    assert len(make_patch(old_b64, new_b64)) < len(new_b64) // 4
