"""Two monthly releases of one library, built for real: OLD, then NEW built with `--base OLD` after
one article was edited and one added, both signed. For the update tests and the delta benchmark."""

from __future__ import annotations

import json
import os
import random
import shutil
import struct
from dataclasses import dataclass
from pathlib import Path

from infopack.build.assemble import build_bundle
from infopack.trust.keys import SecretKey, generate_secret_key
from infopack.trust.sign import sign_bundle
from infopack.update.apply import staging_for
from infopack.update.delta import MAGIC as DELTA_MAGIC
from kit.content import article, link_safe_digest, run_infopack, write_content

WORDS = (
    "river map radio water school market doctor bridge harvest winter teacher clinic road battery "
    "village field library rain seed engine garden signal bread letter north south mountain forest "
    "강 지도 라디오 물 학교 시장 의사 다리 수확 겨울 선생님 병원 길 전지 마을 들판 도서관 비 씨앗"
).split()


def _paragraphs(rng: random.Random, count: int) -> str:
    return "\n\n".join(" ".join(rng.choice(WORDS) for _ in range(rng.randint(60, 120))) + "." for _ in range(count))


def library_articles(count: int, *, seed: int = 7, paragraphs: int = 6, media_every: int = 0) -> dict[str, str]:
    """COUNT articles of generated prose (enough text for a trained dictionary), newest first by
    number; every MEDIA_EVERY-th one shows an image `media/img-<n>.png`."""
    rng = random.Random(seed)
    found = {}
    for number in range(count):
        body = f"## Part {number}\n\n" + _paragraphs(rng, paragraphs)
        if media_every and number % media_every == 0:
            body += f"\n\n![figure {number}](../media/img-{number}.png)\n"
        found[f"a{number:05d}.md"] = article(
            title=f"Story {number}", date=f"{2020 + number % 5}-{number % 12 + 1:02d}-{number % 28 + 1:02d}",
            body=body, tags=f"[t{number % 7}]",
        )
    return found


def write_images(content: Path, numbers: list[int]) -> None:
    from PIL import Image

    media = content / "media"
    media.mkdir(parents=True, exist_ok=True)
    for number in numbers:
        rng = random.Random(number)
        image = Image.new("RGB", (48, 32), (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
        image.putpixel((number % 48, number % 32), (0, 0, 0))
        image.save(media / f"img-{number}.png")


def library_content(root: Path, count: int, sequence: int = 1, media_every: int = 0) -> Path:
    articles = library_articles(count, media_every=media_every)
    write_content(root, articles, f'title = "Library"\nlang = "en"\nsequence = {sequence}\nid = "library"\n')
    if media_every:
        write_images(root, [n for n in range(count) if n % media_every == 0])
    return root


def set_sequence(content: Path, sequence: int) -> None:
    toml = content / "infopack.toml"
    lines = [f"sequence = {sequence}" if line.startswith("sequence") else line
             for line in toml.read_text(encoding="utf-8").splitlines()]
    toml.write_text("\n".join(lines) + "\n", encoding="utf-8")


def edit_article(content: Path, name: str, extra: str = "\n\nA corrected sentence added this month.\n") -> None:
    path = content / "articles" / name
    path.write_text(path.read_text(encoding="utf-8") + extra, encoding="utf-8")


def add_article(content: Path, name: str, date: str = "2019-01-01", seed: int = 99) -> None:
    """A new article; by default older than all others, so it takes the last article number."""
    text = article(title=f"New {name}", date=date, body=_paragraphs(random.Random(seed), 4), tags="[new]")
    (content / "articles" / name).write_text(text, encoding="utf-8")


def build(content: Path, out: Path, key: SecretKey | None, base: Path | None = None) -> Path:
    sign = (lambda folder: sign_bundle(folder, key)) if key is not None else None
    build_bundle(content, out, sign=sign, base=base)
    return out


# Runs apply in a process of its own that kills itself (SIGKILL: no cleanup runs) at hook call N.
KILLER = """
import os, signal, sys
from pathlib import Path
from infopack.trust.keys import load_public_key
from infopack.update.apply import apply_delta
calls = [0]
def hook(step):
    calls[0] += 1
    print(step, flush=True)
    if calls[0] == int(sys.argv[4]):
        os.kill(os.getpid(), signal.SIGKILL)
apply_delta(Path(sys.argv[1]), Path(sys.argv[2]), [load_public_key(Path(sys.argv[3]))], hook=hook)
"""


@dataclass
class Releases:
    root: Path
    key: SecretKey
    pub: Path  # the key's .pub file
    old: Path  # sequence 1, signed
    new: Path  # sequence 2, built with --base old, signed
    content_old: Path
    content_new: Path


def make_releases(root: Path, count: int = 120, media_every: int = 10) -> Releases:
    """OLD; then one article edited, one added (the oldest, so no renumbering) -> NEW with --base."""
    root.mkdir(parents=True, exist_ok=True)
    key = generate_secret_key("test")
    pub = root / "publisher.pub"
    pub.write_bytes(key.public_key().to_file_bytes())
    content_old = library_content(root / "content-1", count, media_every=media_every)
    old = build(content_old, root / "old", key)
    content_new = root / "content-2"
    shutil.copytree(content_old, content_new)
    set_sequence(content_new, 2)
    edit_article(content_new, "a00003.md")
    add_article(content_new, "added.md")
    new = build(content_new, root / "new", key, base=old)
    return Releases(root, key, pub, old, new, content_old, content_new)


def files_of(bundle: Path) -> dict[str, bytes]:
    """Every file of a folder (relative path -> bytes), links reported as such, never followed."""
    found = {}
    for directory, _dirs, names in os.walk(bundle):
        for name in names:
            path = Path(directory) / name
            found[path.relative_to(bundle).as_posix()] = (
                b"LINK:" + os.fsencode(os.readlink(path)) if path.is_symlink() else path.read_bytes()
            )
    return found


def differing(first: Path, second: Path) -> set[str]:
    a, b = files_of(first), files_of(second)
    return {path for path in a.keys() | b.keys() if a.get(path) != b.get(path)}


def refused(delta: Path, bundle: Path, pub: Path, *extra: str) -> str:
    """Run the real CLI `apply`; assert exit 1, one line, BUNDLE untouched and nothing left beside it."""
    before = link_safe_digest(bundle)
    result = run_infopack("apply", str(delta), str(bundle), "--trust", str(pub), *extra, timeout=60)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout == "" and result.stderr.count("\n") == 1, result.stderr
    assert link_safe_digest(bundle) == before
    assert not staging_for(bundle).exists()
    assert sorted(p.name for p in bundle.parent.iterdir()) == [bundle.name]
    return result.stderr


def rewrite(delta: Path, out: Path, header_change=None, body_change=None) -> Path:
    """A copy of DELTA with its header JSON and/or body altered, as an attacker on the link would."""
    data = delta.read_bytes()
    (length,) = struct.unpack(">Q", data[len(DELTA_MAGIC) : len(DELTA_MAGIC) + 8])
    start = len(DELTA_MAGIC) + 8
    header = json.loads(data[start : start + length])
    body = bytearray(data[start + length :])
    if header_change:
        header_change(header)
    if body_change:
        body_change(header, body)
    raw = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode()
    out.write_bytes(DELTA_MAGIC + struct.pack(">Q", len(raw)) + raw + bytes(body))
    return out
