"""A small library that exercises the viewer's comforts (issue 15): a long article with sections and
captioned images, articles sharing topics in two languages, a topic with more than eight matching
titles, and Korean titles for 초성 and half-typed suggestions."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from infopack.build.assemble import build_bundle
from kit.content import article, write_content

LONG_SLUG = "garden-guide"
LONG_TITLE = "Garden Guide For Beginners"
SECTIONS = ["Soil first", "Water", "Morning watering", "Light and shade"]
ALT_CAPTION = "A sketch of a raised garden bed"
TITLE_CAPTION = "Seedlings after two weeks"
RELATED_SAME_LANGUAGE = ["Soil Notes", "Compost Basics"]  # most shared topics first
RELATED_OTHER_LANGUAGE = "텃밭 가꾸기"
UNRELATED = "Star Maps"
CRANE_ALIAS = "Red-crowned Crane"  # an alias of crane-diary: suggested, and opens that article
KO_TITLES = {"crane-diary": "두루미 관찰 일지", "scroll-story": "두루마리 이야기", "river-notes": "강가 관찰 기록"}
LANTERNS = [f"Lantern Story {number:02d}" for number in range(1, 13)]
BUNDLE_TITLE = "Comfort Shelf"


def _long_body() -> str:
    paragraph = "Plants need patience and a little care every day. " * 12
    return "\n\n".join([
        paragraph,
        f"![{ALT_CAPTION}](../media/bed.png)",
        f"## {SECTIONS[0]}\n\n{paragraph}\n\n{paragraph}",
        f'![](../media/seedlings.png "{TITLE_CAPTION}")',
        f"## {SECTIONS[1]}\n\n{paragraph}",
        f"### {SECTIONS[2]}\n\n{paragraph}\n\n{paragraph}",
        f"## {SECTIONS[3]}\n\n{paragraph}\n\n{paragraph}\n\n{paragraph}",
    ])  # fmt: skip


def comfort_articles() -> dict[str, str]:
    articles = {
        f"{LONG_SLUG}.md": article(LONG_TITLE, "2025-06-10", "en", _long_body(), tags="[garden, soil]"),
        "soil-notes.md": article(RELATED_SAME_LANGUAGE[0], "2025-06-01", "en", "Soil notes.", tags="[garden, soil]"),
        "compost.md": article(RELATED_SAME_LANGUAGE[1], "2025-05-01", "en", "Compost.", tags="[garden]"),
        "kitchen-garden.md": article(RELATED_OTHER_LANGUAGE, "2025-06-05", "ko", "텃밭 이야기.", tags="[garden, soil]"),
        "star-maps.md": article(UNRELATED, "2025-06-09", "en", "Stars at night.", tags="[sky]"),
    }
    for number, (slug, title) in enumerate(KO_TITLES.items()):
        extra = {"aliases": f"[{CRANE_ALIAS}]"} if slug == "crane-diary" else {}
        articles[f"{slug}.md"] = article(title, f"2025-04-0{number + 1}", "ko", f"{title}의 본문입니다.", tags="[새]", **extra)
    for number, title in enumerate(LANTERNS):
        articles[f"lantern-{number + 1:02d}.md"] = article(
            title, f"2025-03-{number + 1:02d}", "en", f"A story about a lantern, number {number + 1}.", tags="[lantern]"
        )
    return articles


def build_comfort_bundle(base: Path) -> Path:
    content = write_content(
        base / "content", comfort_articles(), f'title = "{BUNDLE_TITLE}"\nlang = "ko"\nsequence = 1\nid = "comforts"\n'
    )
    media = content / "media"
    media.mkdir()
    Image.new("RGB", (64, 40), (40, 120, 60)).save(media / "bed.png")
    Image.new("RGB", (64, 40), (90, 160, 70)).save(media / "seedlings.png")
    out = base / "bundle"
    build_bundle(content, out)
    return out
