"""Card budgets and plans against real builds: real images (Pillow) and clips (ffmpeg) are planned,
built with `build_bundle(plan=...)`, and the bytes on disk are compared with the plan's numbers.

Tolerances, stated once: images are estimated exactly (the planner encodes them in memory), so an
image file's size must equal its estimate; transcoded clips are estimated as bitrate x duration
plus container and poster, so a written clip must come within [50 %, 100 %] of its estimate; and a
whole bundle's bytes on the card (every file rounded up to 32 KiB clusters) must be within
[85 %, 100 %] of the plan's total: the plan may overestimate a little, never underestimate.
"""

from __future__ import annotations

import random
import re
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from infopack.build.assemble import build_bundle
from infopack.build.media import PROFILES, estimate_media
from infopack.commands import main
from infopack.content.load import load_content
from infopack.errors import InfopackError
from infopack.format.constants import FAT32_MAX_FILE_BYTES
from infopack.plan.budget import USABLE_FRACTION, Budget, on_card, parse_budget
from infopack.plan.planner import ArticlePlan, check_media_names, fixed_bundle_bytes, make_plan
from infopack.plan.report import format_plan
from kit.content import article, tree_digest, write_content
from kit.plans import (
    CLUSTER,
    big_and_small,
    budget_for,
    card_bytes,
    catalog,
    clip,
    media_article,
    noise_photo,
    stretched_video,
)

# ------------------------------------------------------------------------------------ helpers


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Path:
    """Five articles with a photo each (one also with a clip): priorities 30, 20, 10, 10, 0."""
    root = tmp_path_factory.mktemp("plan") / "content"
    for seed, name in enumerate(["top", "second", "newer", "older", "least"]):
        noise_photo(root / "media" / f"{name}.jpg", seed)
    clip(root / "media" / "second.mp4")
    return write_content(root, {
        "top.md": media_article("Top", "2025-01-01", 30, ["top.jpg"], body="Links to [the least](least.md)."),
        "second.md": media_article("Second", "2025-01-02", 20, ["second.jpg", "second.mp4"]),
        "newer.md": media_article("Newer", "2025-03-01", 10, ["newer.jpg"]),
        "older.md": media_article("Older", "2025-02-01", 10, ["older.jpg"]),
        "least.md": media_article("Least", "2025-06-01", 0, ["least.jpg"]),
    })  # fmt: skip


def estimate(library: Path, name: str, level: str) -> int:
    return estimate_media(library / "media" / name, PROFILES[level])


# ------------------------------------------------------------------------------------ budgets


@pytest.mark.parametrize(
    "text, nominal",
    [("16GB", 16 * 10**9), ("8GB", 8 * 10**9), ("32gb", 32 * 10**9), ("500MB", 500 * 10**6),
     ("1.5GB", 1_500_000_000), ("8GiB", 8 * 2**30), ("usb-8g", 8 * 10**9), ("sd-16g", 16 * 10**9),
     ("SD-32G", 32 * 10**9), ("sd-64g", 64 * 10**9)],
)  # fmt: skip
def test_budgets_count_decimal_gigabytes_and_keep_ten_percent_back(text, nominal):
    budget = parse_budget(text)
    assert budget.nominal_bytes == nominal
    assert budget.usable_bytes == int(nominal * 0.9)


def test_cards_above_32gb_are_planned_with_exfat_clusters():
    assert parse_budget("sd-32g").cluster_bytes == 32 * 1024
    assert parse_budget("sd-64g").cluster_bytes == 128 * 1024


@pytest.mark.parametrize(
    "text, message",
    [("usb-3g", "unknown card profile"), ("floppy-1", "unknown card profile"), ("16", "give a unit"),
     ("lots", "not a card size"), ("16XB", "not a card size"), ("0GB", "larger than zero"), ("", "not a card size")],
)  # fmt: skip
def test_unknown_profiles_and_unparseable_sizes_are_refused(text, message):
    with pytest.raises(InfopackError, match=message):
        parse_budget(text)


def test_cli_unknown_profile_is_one_line_and_exit_1(library, tmp_path):
    result = CliRunner().invoke(main, ["build", str(library), "--out", str(tmp_path / "b"), "--budget", "sd-3g"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "error: sd-3g: unknown card profile (known: usb-8g, sd-8g, usb-16g, sd-16g, usb-32g, sd-32g, sd-64g ... (1g to 512g))"
    ]
    assert not (tmp_path / "b").exists()


def test_budget_smaller_than_the_viewer_is_refused_before_anything_is_written(library, tmp_path):
    fixed = fixed_bundle_bytes(load_content(library), parse_budget("1GB"))
    assert 200_000 < fixed < 1_000_000  # index.html and phone.html are ~120 KB each
    with pytest.raises(InfopackError, match="smaller than the viewer itself"):
        make_plan(library, Budget("tight", int((fixed - 1) / USABLE_FRACTION)))
    make_plan(library, Budget("just", int(fixed / USABLE_FRACTION) + 1))  # the viewer alone fits

    before = tree_digest(library)
    out = tmp_path / "bundle"
    result = CliRunner().invoke(main, ["build", str(library), "--out", str(out), "--budget", "300KB"])
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1
    assert "300KB: budget is smaller than the viewer itself" in result.output
    assert not out.exists() and list(tmp_path.iterdir()) == []
    assert tree_digest(library) == before


# ------------------------------------------------------------------------------------ planning


def test_everything_is_kept_when_it_fits(library):
    plan = make_plan(library, parse_budget("1GB"))
    assert [a.slug for a in plan.articles] == ["top", "second", "newer", "older", "least"]
    assert {a.action for a in plan.articles} == {"keep"}
    assert plan.fits() and plan.volumes == 1


def test_reductions_go_least_important_first_and_leaving_out_comes_last(library):
    """Plans for shrinking budgets, from roomy to nearly the viewer alone: the kept articles are
    always the most important ones; a more important article is never reduced further than a less
    important one; nothing is left out while an article could still be reduced."""
    roomy = make_plan(library, parse_budget("1GB"))
    seen_actions: set[str] = set()
    for fraction in (0.9, 0.7, 0.5, 0.35, 0.2, 0.1):
        usable = roomy.fixed_bytes + int((roomy.total_bytes - roomy.fixed_bytes) * fraction)
        plan = make_plan(library, parse_budget(budget_for(usable)))
        assert plan.fits() and plan.total_bytes <= usable
        kept = [a.kept for a in plan.articles]
        # Leaving out goes by importance; a less important article stays only if it fits in the
        # room the left-out ones could not use.
        room = plan.budget.usable_bytes - plan.total_bytes
        for left_out in (a for a in plan.articles if not a.kept):
            assert on_card(estimate(library, f"{left_out.slug}.jpg", "tiny"), CLUSTER) > room
        levels = [("default", "small", "tiny").index(a.profile) for a in plan.articles if a.kept]
        assert levels == sorted(levels), "a more important article was reduced further"
        if not all(kept):
            assert all(a.profile == "tiny" for a in plan.articles if a.kept)
        seen_actions |= {a.action for a in plan.articles}
    assert {"keep", "reduce to small", "reduce to tiny", "leave out"} <= seen_actions


def test_room_a_large_important_article_cannot_use_goes_to_smaller_ones(tmp_path):
    """Strict importance order would leave the card empty here: the important article does not
    fit even at "tiny", and leaving it out must not take the small ones with it."""
    words = {"words.md": article(title="Words", date="2025-01-01", priority="0")}
    root = big_and_small(tmp_path / "content", (2400, 1800), (200, 150), words)
    big_tiny = on_card(estimate_media(root / "media" / "big.jpg", PROFILES["tiny"]), CLUSTER)
    fixed = make_plan(root, parse_budget("1GB")).fixed_bytes
    plan = make_plan(root, parse_budget(budget_for(fixed + big_tiny * 2 // 3)))
    # Everything was reduced before anything was left out, and what comes back keeps its reduction.
    assert [(a.slug, a.action) for a in plan.articles] == [
        ("big", "leave out"), ("small", "reduce to tiny"), ("words", "keep"),
    ]  # fmt: skip
    assert plan.fits()


def test_equal_priority_keeps_the_newer_article(tmp_path):
    root = tmp_path / "content"
    noise_photo(root / "media" / "a.jpg", 1)
    noise_photo(root / "media" / "b.jpg", 2)
    write_content(root, {
        "older.md": media_article("Older", "2024-01-01", 5, ["a.jpg"]),
        "newer.md": media_article("Newer", "2024-05-01", 5, ["b.jpg"]),
    })  # fmt: skip
    roomy = make_plan(root, parse_budget("1GB"))
    # Room for one article at "tiny" but not for two: the older one has to go.
    tiny = max(on_card(estimate_media(root / "media" / name, PROFILES["tiny"]), CLUSTER) for name in ("a.jpg", "b.jpg"))
    one_only = roomy.fixed_bytes + tiny * 3 // 2
    plan = make_plan(root, parse_budget(budget_for(one_only)))
    assert [(a.slug, a.kept) for a in plan.articles] == [("newer", True), ("older", False)]


def test_build_follows_the_plan_and_fits_the_card(library, tmp_path):
    roomy = make_plan(library, parse_budget("1GB"))
    plan = make_plan(library, parse_budget(budget_for(roomy.total_bytes * 2 // 3)))
    kept = {a.slug for a in plan.articles if a.kept}
    assert "least" not in kept or any(a.media_level != "default" for a in plan.articles)
    out = tmp_path / "bundle"
    result = build_bundle(library, out, plan=plan)

    # The articles are exactly the plan's; a link to a left-out article became text.
    assert {entry[0] for entry in catalog(out)} == kept
    if "least" not in kept:
        assert any("not in the bundle" in w and "least.md" in w for w in result.warnings)

    # Each media file was written at the profile the plan chose for it.
    for source, level in plan.media_profiles[0].items():
        owner = next(a for a in plan.articles if a.kept and source in a.media)
        number = owner.media.index(source) + 1
        if source.suffix == ".jpg":
            written = out / "media" / f"{owner.slug}-{number}.jpg"
            assert written.stat().st_size == estimate_media(source, PROFILES[level])  # exact for images
            with Image.open(written) as image:
                assert max(image.size) == min(1200, PROFILES[level].max_image_px)
        else:
            written = out / "media" / f"{owner.slug}-{number}.mp4"
            poster = out / "media" / f"{owner.slug}-{number}-poster.jpg"
            estimated = estimate_media(source, PROFILES[level])
            assert 0.5 * estimated <= written.stat().st_size + poster.stat().st_size <= estimated

    # It fits, and the plan's total matches the card: never under, at most 15 % over.
    on_disk = card_bytes(out)
    assert on_disk <= plan.budget.usable_bytes
    assert 0.85 * plan.total_bytes <= on_disk <= plan.total_bytes, (on_disk, plan.total_bytes)


def test_plan_total_matches_the_card_for_a_roomy_budget(library, tmp_path):
    plan = make_plan(library, parse_budget("1GB"))
    out = tmp_path / "bundle"
    build_bundle(library, out, plan=plan)
    on_disk = card_bytes(out)
    assert 0.85 * plan.total_bytes <= on_disk <= plan.total_bytes, (on_disk, plan.total_bytes)


def test_many_text_articles_are_left_out_lowest_priority_first(tmp_path):
    words = "water rice river school market winter train radio".split()
    rng = random.Random(7)
    texts = {
        f"a{n:03d}.md": article(title=f"Article {n}", date=f"2024-{1 + n % 12:02d}-01", priority=str(n % 10),
                                body=" ".join(rng.choice(words) + str(rng.randrange(10**6)) for _ in range(400)))
        for n in range(150)
    }  # fmt: skip
    root = write_content(tmp_path / "content", texts)
    roomy = make_plan(root, parse_budget("1GB"))
    plan = make_plan(root, parse_budget(budget_for((roomy.fixed_bytes + roomy.total_bytes) // 2)))
    kept = [a for a in plan.articles if a.kept]
    dropped = [a for a in plan.articles if not a.kept]
    assert kept and dropped
    assert min(a.priority for a in kept) >= max(a.priority for a in dropped)
    assert plan.fits()
    out = tmp_path / "bundle"
    build_bundle(root, out, plan=plan)
    assert card_bytes(out) <= plan.budget.usable_bytes
    assert {entry[0] for entry in catalog(out)} == {a.slug for a in kept}


# ------------------------------------------------------------------------------------ FAT32


def test_video_over_4gib_at_default_is_planned_smaller(tmp_path):
    """A 16.7-hour 1080p video is ~9 GB at default and ~4.5 GB at small, so only tiny fits FAT32."""
    root = tmp_path / "content"
    stretched_video(root / "media" / "long.mp4", 60_000)
    write_content(root, {"long.md": media_article("Long", "2025-01-01", 0, ["long.mp4"])})
    source = (root / "media" / "long.mp4").resolve()
    assert estimate_media(source, PROFILES["small"]) > FAT32_MAX_FILE_BYTES >= estimate_media(source, PROFILES["tiny"])
    plan = make_plan(root, parse_budget("16GB"))
    assert plan.media_profiles[0] == {source: "tiny"}
    assert plan.articles[0].action == "reduce to tiny"


def test_video_that_cannot_get_under_4gib_stops_the_plan_naming_it(tmp_path):
    root = tmp_path / "content"
    stretched_video(root / "media" / "endless.mp4", 120_000)
    write_content(root, {"endless.md": media_article("Endless", "2025-01-01", 0, ["endless.mp4"])})
    with pytest.raises(InfopackError) as caught:
        make_plan(root, parse_budget("64GB"))
    (problem,) = caught.value.problems
    assert problem.path.endswith("endless.mp4")
    assert "over the FAT32 file limit of 4 GiB even at the smallest profile" in problem.message
    result = CliRunner().invoke(main, ["build", str(root), "--out", str(tmp_path / "b"), "--budget", "sd-64g", "--quiet"])
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "b").exists()


def test_media_names_are_checked_against_fat32_rules(tmp_path):
    """content.py already limits slugs to 100 safe characters; the planner checks the media names
    it will write anyway (names.check_bundle_path, names.find_collisions), as the last gate."""
    photo = noise_photo(tmp_path / "p.jpg", 3, (64, 48))
    video = tmp_path / "v.mp4"

    def line(slug: str, media: tuple[Path, ...]) -> ArticlePlan:
        return ArticlePlan(slug, f"articles/{slug}.md", 0, date(2025, 1, 1), 100, 100, media)

    check_media_names([line("fine", (photo, video)), line("a" * 240, ())])
    with pytest.raises(InfopackError, match="longer than 255 characters"):
        check_media_names([line("a" * 245, (video,))])  # "<slug>-1-poster.jpg" is 258
    with pytest.raises(InfopackError, match="same name as media/news-1.jpg on a case-insensitive card"):
        check_media_names([line("news", (photo,)), line("NEWS", (photo,))])


# ------------------------------------------------------------------------------------ CLI


def test_cli_plan_prints_the_table_and_build_prints_the_same_plan(library, tmp_path):
    roomy = make_plan(library, parse_budget("1GB"))
    budget = budget_for(roomy.total_bytes * 2 // 3)
    before = tree_digest(library)
    planned = CliRunner().invoke(main, ["plan", str(library), "--budget", budget, "--quiet"])
    assert planned.exit_code == 0, planned.output
    assert planned.output.startswith(f"plan for {library} on {budget}:")
    for column in ("slug", "priority", "action", "at default", "planned"):
        assert column in planned.output
    assert re.search(r"^least\s+0\s+(reduce to (small|tiny)|leave out)\s", planned.output, re.M)
    assert "of " + f"{parse_budget(budget).usable_bytes:,} usable bytes" in planned.output
    assert not any(tmp_path.iterdir())  # the plan built nothing

    out = tmp_path / "bundle"
    built = CliRunner().invoke(main, ["build", str(library), "--out", str(out), "--budget", budget, "--quiet"])
    assert built.exit_code == 0, built.output
    assert built.output.startswith(planned.output)  # the build printed the very same plan
    assert format_plan(make_plan(library, parse_budget(budget))) + "\n" == planned.output
    assert tree_digest(library) == before
    assert card_bytes(out) <= parse_budget(budget).usable_bytes


def test_cli_volumes_need_a_budget_and_budget_excludes_profile(library, tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["build", str(library), "--out", str(tmp_path / "b"), "--volumes"])
    assert result.exit_code == 1 and "--volumes needs --budget" in result.output
    result = runner.invoke(main, ["build", str(library), "--out", str(tmp_path / "b"), "--budget", "1GB", "--profile", "tiny"])
    assert result.exit_code == 1 and "leave out --profile" in result.output
    assert not (tmp_path / "b").exists()
