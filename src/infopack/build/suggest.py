"""Title suggestions: a small index the viewer reads one file of per keystroke (FORMAT.md 9.6).

The search index answers "which articles mention these words"; suggestions under the search box
need something cheaper: titles that start, at one of their words, with what is being typed. Every
title (and alias) gives entries at its first few word starts, each with a key: the text from that
word on, folded as search folds it and with each Hangul syllable written as its open syllable plus
its final consonant (학교 -> 하ㄱ교), so that a half-typed last syllable is a prefix of what it
may become. A Hangul word also gives an entry keyed by its initial consonants as written (ㄷㄹㅁ).

Entries are sorted by key and cut into shards; the root document records each shard's shortest
distinguishing first key. A typed prefix whose entries fall inside one shard reads that shard; a
short prefix whose entries span shards reads instead a precomputed list of its best entries
("heads"). Either way one keystroke needs one small file. search.js `suggest` is the reader.
"""

from __future__ import annotations

import bisect
import heapq
import json
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import zstandard

from infopack.build.pack import compress_json
from infopack.build.search import (
    CHOSEONG,
    FINALS,
    SYLLABLE_FIRST,
    SYLLABLE_LAST,
    VOWELS,
    _segment_pattern,
    fold_word,
    normalize_text,
)

FORMAT_VERSION = 1
SHARD_PREFIX = "search/s/"
HEAD_PREFIX = "search/p/"
KEY_CHARS = 32  # keys are cut here: deeper than this, typing narrows by the search's rules only
WORD_STARTS = 4  # a title is suggested from its first four words on, not from every word
SHARD_MIN = 512  # entries per shard: the cut goes where neighbouring keys differ earliest ...
SHARD_MAX = 1024  # ... within this window, so the recorded first keys stay short
HEAD_SIZE = 16  # best entries kept for a prefix that spans shards (eight are shown)
HEAD_CHUNK = 1024  # head entries per head file
SAME_KEY_LIMIT = 16  # entries kept per key from inside titles (every title's own start is kept)
# Compatibility jamo of the 27 final consonants, in T order (T = 1..27).
FINAL_JAMO = "ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ"


@dataclass(frozen=True)
class SuggestDoc:
    slug: str
    lang: str
    title: str
    aliases: Sequence[str] = ()
    priority: int = 0


@dataclass
class SuggestIndex:
    payloads: dict[str, bytes]
    meta: dict


@dataclass(frozen=True)
class _Entry:
    key: str
    text: str  # what is shown: the title, or the alias
    slug: str
    lang: str
    word: int  # 0: the key starts the text; n: it starts at the text's word n
    priority: int
    title: str | None  # the article's title, for an alias
    number: int  # the article's number: the last tie-break

    def rank(self) -> tuple:
        """Best first: a text's own start, titles before aliases, priority, shorter, then text."""
        return (self.word > 0, self.title is not None, -self.priority, len(self.text), self.text, self.number)

    def row(self) -> list:
        row: list = [self.key, self.text, self.slug, self.lang, self.word, self.priority]
        if self.title is not None:
            row.append(self.title)
        return row


def _syllable_key(ch: str) -> str:
    """학 -> 하ㄱ: the open syllable, then the final consonant (if any) as a jamo."""
    final = (ord(ch) - SYLLABLE_FIRST) % FINALS
    return chr(ord(ch) - final) + (FINAL_JAMO[final - 1] if final else "")


def suggest_key(text: str, limit: int = KEY_CHARS) -> str:
    """The key of `text` (FORMAT.md 9.6): segments as the tokenizer cuts them, folded, Hangul
    syllables split as above, one space where the text had anything between two segments."""
    normalized = normalize_text(text)
    parts: list[str] = []
    end = 0
    for match in _segment_pattern().finditer(normalized):
        if parts and match.start() > end:
            parts.append(" ")
        hangul, _jamo, _cjk, other = match.groups()
        if hangul:
            parts.append("".join(_syllable_key(ch) for ch in hangul))
        elif other:
            parts.append(fold_word(other))
        else:
            parts.append(match.group())
        end = match.end()
    return "".join(parts)[:limit]


def initials_key(text: str) -> str:
    """The initial consonants of the Hangul run `text` starts with, as written (두루미 -> ㄷㄹㅁ);
    empty unless that run has two syllables or more (a lone initial finds nothing in search)."""
    run = []
    for ch in text:
        if not SYLLABLE_FIRST <= ord(ch) <= SYLLABLE_LAST:
            break
        run.append(CHOSEONG[(ord(ch) - SYLLABLE_FIRST) // (VOWELS * FINALS)])
    return "".join(run)[:KEY_CHARS] if len(run) >= 2 else ""


def _word_starts(text: str) -> list[int]:
    """Offsets in the NFC text where its first WORD_STARTS words begin."""
    starts = []
    end = -1
    for match in _segment_pattern().finditer(text):
        if match.start() > end:  # a new word: something (a space, a hyphen) came between
            starts.append(match.start())
            if len(starts) == WORD_STARTS:
                break
        end = match.end()
    return starts


def _entries(docs: Sequence[SuggestDoc]) -> list[_Entry]:
    entries: list[_Entry] = []
    for number, doc in enumerate(docs):
        texts = [(doc.title, None)] + [(alias, doc.title) for alias in doc.aliases if alias and alias != doc.title]
        for text, title in texts:
            text = unicodedata.normalize("NFC", text)
            for word, start in enumerate(_word_starts(text)):
                tail = text[start:]
                for key in {suggest_key(tail), initials_key(tail)}:
                    if key:
                        entries.append(_Entry(key, text, doc.slug, doc.lang, word, doc.priority, title, number))
    return entries


def _thin(entries: list[_Entry]) -> list[_Entry]:
    """Sorted by key, then rank; keys from inside titles kept SAME_KEY_LIMIT times at most (in a
    Korean library every title ending in 대하여 would otherwise fill shards with one key)."""
    entries.sort(key=lambda e: (e.key, e.rank()))
    kept: list[_Entry] = []
    seen_key = None
    inside = 0
    for entry in entries:
        if entry.key != seen_key:
            seen_key, inside = entry.key, 0
        if entry.word > 0:
            inside += 1
            if inside > SAME_KEY_LIMIT:
                continue
        kept.append(entry)
    return kept


def _common(a: str, b: str) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def _cuts(keys: list[str]) -> list[int]:
    """Start index of each shard: SHARD_MIN..SHARD_MAX entries, cut where neighbours share the
    fewest leading characters, never between two equal keys."""
    starts = [0]
    n = len(keys)
    while n - starts[-1] > SHARD_MAX:
        s = starts[-1]
        best = -1
        best_common = KEY_CHARS + 1
        for c in range(s + SHARD_MIN, min(s + SHARD_MAX, n - 1) + 1):
            if keys[c - 1] != keys[c]:
                common = _common(keys[c - 1], keys[c])
                if common < best_common:
                    best, best_common = c, common
                    if common == 0:
                        break
        if best < 0:  # a run of equal keys fills the window: the shard ends after the run
            best = s + SHARD_MAX
            while best < n and keys[best] == keys[best - 1]:
                best += 1
            if best >= n:
                break
        starts.append(best)
    return starts


def build_suggest_index(docs: Sequence[SuggestDoc]) -> SuggestIndex:
    """Shards and heads for articles numbered as in the library (docs in library order)."""
    entries = _thin(_entries(docs))
    keys = [e.key for e in entries]
    starts = _cuts(keys) if entries else []
    bounds = [""] + [keys[c][: _common(keys[c - 1], keys[c]) + 1] for c in starts[1:]]
    width = max(4, len(str(max(0, len(starts) - 1))))
    payloads: dict[str, bytes] = {}
    for number, start in enumerate(starts):
        end = starts[number + 1] if number + 1 < len(starts) else len(entries)
        payloads[f"{SHARD_PREFIX}{number:0{width}d}"] = compress_json([e.row() for e in entries[start:end]])
    heads = _heads(entries, keys, bounds)
    firsts, chunks = _head_chunks(heads)
    head_width = max(4, len(str(max(0, len(chunks) - 1))))
    for number, chunk in enumerate(chunks):
        payloads[f"{HEAD_PREFIX}{number:0{head_width}d}"] = compress_json(chunk)
    meta = {
        "version": FORMAT_VERSION,
        "key_chars": KEY_CHARS,
        "shard_prefix": SHARD_PREFIX,
        "shard_digits": width,
        "shards": bounds if entries else [],
        "head_prefix": HEAD_PREFIX,
        "head_digits": head_width,
        "heads": firsts,
    }
    return SuggestIndex(payloads=payloads, meta=meta)


def _heads(entries: list[_Entry], keys: list[str], bounds: list[str]) -> dict[str, list[list]]:
    """For every prefix whose entries span two shards (the proper prefixes of the recorded first
    keys), its HEAD_SIZE best entries, one per article."""
    order = sorted(range(len(entries)), key=lambda i: entries[i].rank())
    rank_of = [0] * len(entries)
    for position, index in enumerate(order):
        rank_of[index] = position
    prefixes = {bound[:length] for bound in bounds[1:] for length in range(len(bound))}
    heads: dict[str, list[list]] = {}
    for prefix in sorted(prefixes):
        lo = bisect.bisect_left(keys, prefix)
        hi = bisect.bisect_left(keys, prefix + "\U0010ffff")
        chosen: list[list] = []
        slugs: set[str] = set()
        # More than HEAD_SIZE are looked at: an article may hold several of the best places.
        for position in heapq.nsmallest(HEAD_SIZE * 4, rank_of[lo:hi]):
            entry = entries[order[position]]
            if entry.slug not in slugs:
                slugs.add(entry.slug)
                chosen.append(entry.row())
                if len(chosen) == HEAD_SIZE:
                    break
        heads[prefix] = chosen
    return heads


def _head_chunks(heads: dict[str, list[list]]) -> tuple[list[str], list[dict[str, list[list]]]]:
    firsts: list[str] = []
    chunks: list[dict[str, list[list]]] = []
    size = HEAD_CHUNK
    for prefix in sorted(heads):
        if size + len(heads[prefix]) > HEAD_CHUNK:
            firsts.append(prefix)
            chunks.append({})
            size = 0
        chunks[-1][prefix] = heads[prefix]
        size += len(heads[prefix])
    return firsts, chunks


# --- Reading it back (tests, independent readers): what search.js `suggest` does -----------------

_ALL_CHOSEONG = set(CHOSEONG)


def suggest_route(query: str) -> str:
    """The key prefix a typed text is looked up by (search.js suggestRoute): its initial consonants
    when it is only those (ㄷㄹ); otherwise its key, less what typing may still change: jamo typed
    after syllables (학교ㅇ -> 학교, 관ㅊ -> 관), or the last syllable's final consonant, which may
    move on to start the next syllable (할 -> 하, on the way to 하루)."""
    text = unicodedata.normalize("NFC", query).strip()
    run = 0
    while run < len(text) and text[run] in _ALL_CHOSEONG:
        run += 1
    if run >= 2:
        return text[:run][:KEY_CHARS]
    jamo = len(text)
    while jamo > 0 and "\u3131" <= text[jamo - 1] <= "\u318e":
        jamo -= 1
    if jamo < len(text):
        return suggest_key(text[:jamo])
    key = suggest_key(text, len(text) * 2)
    if text and SYLLABLE_FIRST <= ord(text[-1]) <= SYLLABLE_LAST and (ord(text[-1]) - SYLLABLE_FIRST) % FINALS:
        key = key[:-1]
    return key[:KEY_CHARS]


def suggest_rows(payloads: dict[str, bytes], meta: dict, route: str) -> list[list]:
    """The entries the viewer considers for ROUTE: the one shard's entries whose key starts with
    it, or, when its entries span shards, the prefix's head list."""

    def load(name: str):
        return json.loads(zstandard.ZstdDecompressor().decompress(payloads[name]).decode("utf-8"))

    shards = meta["shards"]
    if not shards:
        return []
    at = max(0, bisect.bisect_right(shards, route) - 1)
    if at + 1 < len(shards) and shards[at + 1].startswith(route):
        chunk = bisect.bisect_right(meta["heads"], route) - 1
        heads = load(f"{meta['head_prefix']}{chunk:0{meta['head_digits']}d}") if chunk >= 0 else {}
        return heads.get(route, [])
    rows = load(f"{meta['shard_prefix']}{at:0{meta['shard_digits']}d}")
    return [row for row in rows if row[0].startswith(route)]
