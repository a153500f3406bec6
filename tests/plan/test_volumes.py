"""Volumes: a library bigger than one card split into several complete bundles, each built from
real media, signed, verified with infopack.trust.verify, and (once) opened in real Chromium."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from infopack.commands import main
from infopack.errors import InfopackError
from infopack.plan.budget import parse_budget
from infopack.plan.planner import make_plan
from infopack.plan.volumes import build_volumes
from infopack.trust.keys import generate_secret_key, load_public_key
from infopack.trust.sign import sign_bundle
from infopack.trust.verify import verify_bundle
from kit.content import tree_digest, write_content
from kit.plans import (
    big_and_small,
    budget_for,
    card_bytes,
    catalog,
    media_article,
    noise_photo,
    read_root,
)

SLUGS = ["alpha", "bravo", "charlie", "delta", "echo"]


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Path:
    """Five articles of one photo each, priorities 50..10; alpha links to echo."""
    root = tmp_path_factory.mktemp("volumes") / "content"
    for seed, slug in enumerate(SLUGS):
        noise_photo(root / "media" / f"{slug}.jpg", 10 + seed)
    texts = {
        f"{slug}.md": media_article(slug.title(), f"2025-0{1 + n}-01", 50 - 10 * n, [f"{slug}.jpg"],
                                    body="See [the last one](echo.md)." if slug == "alpha" else "Text.")
        for n, slug in enumerate(SLUGS)
    }  # fmt: skip
    return write_content(root, texts)


@pytest.fixture(scope="module")
def two_per_card(library) -> str:
    """A budget with room for the viewer and two articles, not three."""
    roomy = make_plan(library, parse_budget("1GB"))
    per_article = max(a.default_bytes for a in roomy.articles)
    return budget_for(roomy.fixed_bytes + per_article * 5 // 2)


@pytest.fixture(scope="module")
def volumes(library, two_per_card, tmp_path_factory):
    plan = make_plan(library, parse_budget(two_per_card), volumes=True)
    out = tmp_path_factory.mktemp("built") / "set"
    results = build_volumes(library, out, plan)
    return plan, out, results


def test_a_split_plan_keeps_everything_at_full_size_most_important_first(volumes):
    plan, _, _ = volumes
    assert plan.volumes == 3
    assert [(a.slug, a.volume, a.action) for a in plan.articles] == [
        ("alpha", 1, "keep"), ("bravo", 1, "keep"), ("charlie", 2, "keep"), ("delta", 2, "keep"), ("echo", 3, "keep"),
    ]  # fmt: skip
    assert plan.fits()


def test_each_volume_is_a_complete_bundle_of_its_own_articles_and_fits(volumes):
    plan, out, results = volumes
    assert sorted(p.name for p in out.iterdir()) == ["volume-1", "volume-2", "volume-3"]
    for number in (1, 2, 3):
        bundle = out / f"volume-{number}"
        root = read_root(bundle)
        assert root["bundle"]["volume"] == [number, 3]
        assert root["bundle"]["id"] == f"test-vol{number}"
        assert {entry[0] for entry in catalog(bundle)} == {a.slug for a in plan.articles if a.volume == number}
        assert card_bytes(bundle) <= plan.budget.usable_bytes
        assert 0.85 * plan.volume_bytes[number - 1] <= card_bytes(bundle) <= plan.volume_bytes[number - 1]
        assert results[number - 1].bundle_dir == bundle
    # The link from alpha (volume 1) to echo (volume 3) became text, with a warning.
    assert any("alpha.md" in w and "not in the bundle" in w for w in results[0].warnings)
    assert list(out.parent.iterdir()) == [out]  # no staging folder left behind


def test_every_volume_signs_and_verifies_separately(volumes, tmp_path):
    _, out, _ = volumes
    key = generate_secret_key("publisher")
    for number in (1, 2, 3):
        copy = tmp_path / f"v{number}"
        copy.mkdir()
        bundle = out / f"volume-{number}"
        for path in bundle.rglob("*"):  # sign a copy: the module's bundles stay unsigned for the other tests
            target = copy / path.relative_to(bundle)
            target.mkdir(parents=True, exist_ok=True) if path.is_dir() else target.write_bytes(path.read_bytes())
        sign_bundle(copy, key)
        report = verify_bundle(copy, [key.public_key()])
        assert report.ok, report.to_text()
    # A signature binds one volume: volume 2's signature does not verify volume 1.
    (tmp_path / "v1" / "signatures").rename(tmp_path / "v1-own")
    (tmp_path / "v1" / "signatures").mkdir()
    for signature in (tmp_path / "v2" / "signatures").iterdir():
        (tmp_path / "v1" / "signatures" / signature.name).write_bytes(signature.read_bytes())
    assert not verify_bundle(tmp_path / "v1", [key.public_key()]).ok


def test_cli_builds_and_signs_every_volume(library, two_per_card, tmp_path):
    runner = CliRunner()
    keys = tmp_path / "keys"
    keys.mkdir()
    made = runner.invoke(main, ["keygen", str(keys / "pub"), "--unencrypted"])
    assert made.exit_code == 0, made.output
    before = tree_digest(library)
    out = tmp_path / "cards"
    result = runner.invoke(main, ["build", str(library), "--out", str(out), "--budget", two_per_card, "--volumes",
                                  "--sign", str(keys / "pub.key"), "--quiet"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "volume 3 of 3:" in result.output and result.output.count("signed: ") == 3
    public = load_public_key(keys / "pub.pub")
    for number in (1, 2, 3):
        assert verify_bundle(out / f"volume-{number}", [public]).ok
    assert tree_digest(library) == before

    again = runner.invoke(main, ["build", str(library), "--out", str(out), "--budget", two_per_card, "--volumes", "--quiet"])
    assert again.exit_code == 1 and "already exists; use --force" in again.output
    forced = runner.invoke(main, ["build", str(library), "--out", str(out), "--budget", two_per_card, "--volumes",
                                  "--quiet", "--force"])  # fmt: skip
    assert forced.exit_code == 0, forced.output


def test_force_never_replaces_a_folder_that_is_not_a_set_of_volumes(library, two_per_card, tmp_path):
    out = tmp_path / "precious"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    plan = make_plan(library, parse_budget(two_per_card), volumes=True)
    with pytest.raises(InfopackError, match="not a set of volumes"):
        build_volumes(library, out, plan, force=True)
    assert (out / "notes.txt").read_text() == "keep me"


def test_a_failing_volume_leaves_no_volumes_behind(library, two_per_card, tmp_path):
    """Volume 3's article disappears between plan and build: the build stops with one line, and
    volumes 1 and 2, already built, do not remain looking like a set."""
    content = tmp_path / "content"
    shutil.copytree(library, content)
    plan = make_plan(content, parse_budget(two_per_card), volumes=True)
    (content / "articles" / "echo.md").unlink()
    out = tmp_path / "cards"
    with pytest.raises(InfopackError, match="the content changed since it was planned: no article 'echo'"):
        build_volumes(content, out, plan)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["content"]


def test_an_article_bigger_than_a_card_is_reduced_or_left_out(tmp_path):
    root = big_and_small(tmp_path / "content", (1600, 1200), (320, 240))
    roomy = make_plan(root, parse_budget("1GB"))
    big_default = next(a.default_bytes for a in roomy.articles if a.slug == "big")
    plan = make_plan(root, parse_budget(budget_for(roomy.fixed_bytes + big_default * 2 // 3)), volumes=True)
    actions = {a.slug: a.action for a in plan.articles}
    assert actions["big"].startswith("reduce to ") and actions["small"] == "keep"
    assert plan.fits()
    far_too_small = make_plan(root, parse_budget(budget_for(roomy.fixed_bytes + 40_000)), volumes=True)
    assert {a.slug: a.action for a in far_too_small.articles}["big"] == "leave out"


@pytest.mark.browser
def test_viewer_says_which_volume_and_lists_only_its_articles(page, volumes):
    _, out, _ = volumes
    page.goto((out / "volume-2" / "index.html").as_uri())
    page.wait_for_selector(".list li")
    assert page.inner_text("main .volume") == "Volume 2 of 3"
    assert page.locator(".list li a.title").all_inner_texts() == ["Delta", "Charlie"]  # newest first
    assert page.console_errors == []
    assert all(url.startswith("file://") for url in page.requested_urls)
