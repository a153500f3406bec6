"""Round trip: content -> build -> sign -> `infopack export --zim` -> `infopack import` -> build again.
Every article's title, date and text come back, links between articles still lead to each other, and the
picture survives."""

from __future__ import annotations

import hashlib
import html
import re
import subprocess
from pathlib import Path

from infopack.build.assemble import build_bundle
from infopack.trust.keys import generate_secret_key
from infopack.trust.sign import sign_bundle
from kit.content import article, bundle_articles, run_infopack, write_content

ARTICLES = {
    "강-이야기.md": article(
        title="강가의 학교", date="2025-03-04", lang="ko",
        body="강 위의 배에 교실이 있다. 아이들은 저녁마다 [나룻배 이야기](ferry.md)를 읽는다.\n\n"
             "![배 위의 교실](../media/classroom.png)\n\n## 겨울\n\n겨울에는 강이 얼어 <걸어서> 건넌다 & 돌아온다.\n"),
    "ferry.md": article(
        title="The ferry crossing", date="2025-02-01", lang="en",
        body="The ferry runs twice a day. Read about [the river school](강-이야기.md) too.\n\n"
             "- first trip at dawn\n- second trip at dusk\n\nTickets cost 1 < 2 coins & a smile.\n"),
    "mountain.md": article(
        title="Mountain roads", date="2024-11-20", lang="en",
        body="The pass closes in *winter*. Trucks wait below.\n\n| Month | Open |\n|---|---|\n| May | yes |\n"),
}


def png(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "color=c=blue:s=32x24", "-frames:v", "1", str(path)],
                   check=True, timeout=60)
    return path


def plain_text(markup: str) -> str:
    """What a reader reads: tags gone, entities decoded, white space ignored."""
    return "".join(html.unescape(re.sub(r"<[^>]*>", " ", markup)).split())


def cli(*args: str | Path) -> str:
    result = run_infopack(*map(str, args), timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_bundle_to_zim_to_bundle_keeps_titles_text_links_and_the_picture(tmp_path):
    content = write_content(tmp_path / "content", ARTICLES,
                            'title = "Round trip"\nlang = "ko"\nsequence = 1\nid = "round-trip"\n')
    png(content / "media" / "classroom.png")
    key = generate_secret_key()
    first = tmp_path / "bundle"
    build_bundle(content, first, sign=lambda folder: sign_bundle(folder, key))
    public = tmp_path / "publisher.pub"
    public.write_bytes(key.public_key().to_file_bytes())

    zim = tmp_path / "round-trip.zim"
    cli("export", first, "--zim", zim, "--trust", public, "--quiet")
    cli("import", zim, "--into", tmp_path / "again", "--quiet")
    second = tmp_path / "bundle-again"
    cli("build", tmp_path / "again", "--out", second, "--quiet")

    before, after = bundle_articles(first), bundle_articles(second)
    assert sorted(after) == sorted(before) == sorted(["강가의 학교", "The ferry crossing", "Mountain roads"])
    for title, (_, body, _, day) in before.items():
        assert plain_text(after[title][1]) == plain_text(body), title
        assert after[title][3] == day, title  # the date under the exported title is the article's again

    # Links between articles lead to the same articles again (slugs may differ, titles do not).
    title_of = {slug: title for title, (slug, *_) in after.items()}
    school, ferry = after["강가의 학교"][1], after["The ferry crossing"][1]
    assert [title_of[s] for s in re.findall(r'href="#/a/([^"]+)"', school)] == ["The ferry crossing"]
    assert [title_of[s] for s in re.findall(r'href="#/a/([^"]+)"', ferry)] == ["강가의 학교"]

    # The picture: one media file in each bundle, the same pixels' worth of bytes after the build
    # cleaned it twice, shown by the Korean article.
    (picture_before,) = before["강가의 학교"][2]
    (picture_after,) = after["강가의 학교"][2]
    assert f'src="{picture_after}"' in school
    assert hashlib.sha256((first / picture_before).read_bytes()).digest() == \
        hashlib.sha256((second / picture_after).read_bytes()).digest()
