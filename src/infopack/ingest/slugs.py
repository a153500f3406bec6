"""Slugs for imported articles: ASCII, FAT32-safe, stable for the same title, unique in a folder.

A slug names the article's folder on the staff machine and its URL fragment and media names on
the card, so it stays within what every file system and URL takes: lower-case ASCII letters,
digits and `-`. Korean titles are romanised (Revised Romanization, syllable by syllable, without
the sound-change rules: stable and readable, not a dictionary transliteration). A title with
nothing romanisable becomes `article-` and a short hash of the title, so the same title always
gives the same slug.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

MAX_SLUG = 60  # leaves room for `-2` and for media names `<slug>-<n>.<ext>` in the bundle

_INITIALS = "g kk n d tt r m b pp s ss - j jj ch k t p h".split()
_MEDIALS = "a ae ya yae eo e yeo ye o wa wae oe yo u wo we wi yu eu ui i".split()
_FINALS = [""] + "k k k n n n t l k m l l l p l m p p t t ng t t k t p t".split()

# Names Windows refuses for a file or folder whatever the extension (FAT32 cards are read there).
WINDOWS_RESERVED = {"con", "prn", "aux", "nul"} | {f"com{n}" for n in range(1, 10)} | {f"lpt{n}" for n in range(1, 10)}


def romanise(text: str) -> str:
    """Hangul syllables to Revised Romanization letters; everything else unchanged."""
    out = []
    for char in text:
        code = ord(char) - 0xAC00
        if 0 <= code < 11172:
            initial, medial, final = code // 588, (code % 588) // 28, code % 28
            out.append(_INITIALS[initial].replace("-", "") + _MEDIALS[medial] + _FINALS[final])
        else:
            out.append(char)
    return "".join(out)


def slug_from(text: str) -> str:
    """The slug `text` (a title or a file name) asks for, before making it unique."""
    text = unicodedata.normalize("NFKC", text)
    ascii_text = unicodedata.normalize("NFKD", romanise(text)).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > MAX_SLUG:
        cut = slug[:MAX_SLUG]
        slug = cut.rsplit("-", 1)[0] if "-" in cut[MAX_SLUG // 2:] else cut
        slug = slug.strip("-")
    letters = sum(c.isalnum() for c in text)
    # Almost nothing survived (a title in a script we do not romanise): a stable hash instead.
    if len(slug) < 3 or len(slug.replace("-", "")) < letters // 4:
        slug = "article-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]
    if slug in WINDOWS_RESERVED:
        slug += "-article"
    return slug


def unique_slug(wanted: str, taken: set[str]) -> str:
    """`wanted`, or `wanted-2`, `wanted-3`, ...: the first that `taken` (case-folded) lacks.
    Adds the answer to `taken`."""
    candidate, number = wanted, 1
    while candidate.casefold() in taken:
        number += 1
        candidate = f"{wanted}-{number}"
    taken.add(candidate.casefold())
    return candidate
