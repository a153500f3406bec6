"""Offline search: the tokenizer, the sharded index builder and the query planner.

The exact rules live in docs/FORMAT.md section 9; `viewer/search.js` implements the same tokenizer
and planner in JavaScript, and tests/vectors/ hold the cases both must agree on.

Design in short (Pagefind-like): the build sorts every term, cuts the sorted list into shards of a
bounded size and records each shard's first term in the root document. A query is planned into
term ranges (an exact term is a range of one), so the viewer loads only the shards those ranges
fall into. Korean is indexed as Hangul syllable bigrams, so particles (학교에) do not hide words;
half-typed syllables and Northern spellings become ranges and normalised terms at query time.
"""

from __future__ import annotations

import re
import unicodedata
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from operator import sub

import zstandard

from infopack.errors import InfopackError

FORMAT_VERSION = 1
PAYLOAD_PREFIX = "search/t/"
LANG_PAYLOAD = "search/lang"
# Raw (uncompressed) bytes a shard is cut at; a single term's postings may exceed it.
DEFAULT_SHARD_BYTES = 128 * 1024
ZSTD_LEVEL = 9

MAX_TOKEN_CHARS = 40
MAX_QUERY_SLOTS = 32
EXPANSION_WEIGHT = 0.8
# The code point that sorts after every term character: the upper end of a prefix range.
RANGE_END = "\U0010ffff"

# BM25 constants; the field weights make a title word count far more than a body word.
BM25_K1 = 1.2
BM25_B = 0.75
SUMMARY_TF_WEIGHT = 3
TITLE_BONUS = 1.5
IMPACT_SCALE = 32
IMPACT_MAX = 127

# --- Hangul arithmetic (Unicode 3.12): syllable = 0xAC00 + (L * 21 + V) * 28 + T -----------------
SYLLABLE_FIRST = 0xAC00
SYLLABLE_LAST = 0xD7A3
VOWELS = 21
FINALS = 28
L_NIEUN, L_RIEUL, L_IEUNG = 2, 5, 11
# ㅑ ㅕ ㅖ ㅛ ㅠ ㅣ: before these the initial-sound rule turns ㄹ and ㄴ into ㅇ.
IOTIZED_VOWELS = frozenset({2, 6, 7, 12, 17, 20})
# Compatibility jamo for the 19 initial consonants, in L order.
CHOSEONG = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
CHOSEONG_INDEX = {jamo: index for index, jamo in enumerate(CHOSEONG)}
# A final consonant T that a next keystroke can still turn into a compound final (닭 after 달).
COMPOUND_FINALS = {1: (3,), 4: (5, 6), 8: (9, 10, 11, 12, 13, 14, 15), 17: (18,)}

HANGUL_RANGE = "\uac00-\ud7a3"
JAMO_RANGE = "\u3131-\u318e"
CJK_RANGE = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff"
STEM_TARGET = re.compile(r"[a-z]{4,}")
COMBINING_DIACRITICS = dict.fromkeys(range(0x0300, 0x0370))


def _initial_sound_table() -> dict[int, int]:
    """Northern -> Southern spelling, syllable by syllable (로동 -> 노동, 력사 -> 역사, 녀자 -> 여자)."""
    table = {}
    for code in range(SYLLABLE_FIRST, SYLLABLE_LAST + 1):
        index = code - SYLLABLE_FIRST
        lead, vowel = divmod(index // FINALS, VOWELS)
        new_lead = lead
        if lead == L_RIEUL:
            new_lead = L_IEUNG if vowel in IOTIZED_VOWELS else L_NIEUN
        elif lead == L_NIEUN and vowel in IOTIZED_VOWELS:
            new_lead = L_IEUNG
        if new_lead != lead:
            table[code] = code + (new_lead - lead) * VOWELS * FINALS
    return table


INITIAL_SOUND = _initial_sound_table()


def _class_ranges(ranges: Iterable[tuple[int, int]]) -> str:
    return "".join(f"\\U{lo:08x}-\\U{hi:08x}" if lo != hi else f"\\U{lo:08x}" for lo, hi in ranges)


@lru_cache(maxsize=1)
def _segment_pattern() -> re.Pattern[str]:
    """One alternative per segment class; 'other' is every letter, number or mark not in the first three.

    Built from this Python's Unicode database (categories L*, N*, M*), once per process.
    """
    special = [(0xAC00, 0xD7A3), (0x3131, 0x318E), (0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF)]
    in_special = bytearray(0x110001)
    for lo, hi in special:
        in_special[lo : hi + 1] = b"\x01" * (hi + 1 - lo)
    other: list[tuple[int, int]] = []
    start = -1
    category = unicodedata.category
    # Planes 4-13 are unassigned and 0xE1000 upwards is private use or unassigned: no letters,
    # numbers or marks there (checked against this Unicode database), so the scan skips them.
    scanned = list(range(0x40000)) + list(range(0xE0000, 0xE1000)) + [0x110000]
    for code in scanned:
        if code < 0x110000 and not in_special[code] and category(chr(code))[0] in "LNM":
            if start < 0:
                start = code
        elif start >= 0:
            other.append((start, code - 1))
            start = -1
    return re.compile(
        f"([{HANGUL_RANGE}]+)|([{JAMO_RANGE}]+)|([{CJK_RANGE}]+)|([{_class_ranges(other)}]+)"
    )


def stem(word: str) -> str:
    """English plural stripping (an S-stemmer); applied to tokens of 4+ letters a-z only."""
    if word.endswith(("ss", "us", "is")) or not word.endswith("s"):
        return word
    if word.endswith("ies") and len(word) > 4 and not word.endswith(("eies", "aies")):
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes", "zzes")):
        return word[:-2]
    return word[:-1]


@lru_cache(maxsize=1 << 18)
def fold_word(segment: str) -> str:
    """Case and accent folding of an 'other' segment, cut to MAX_TOKEN_CHARS code points."""
    folded = segment.lower()
    if not folded.isascii():
        folded = unicodedata.normalize("NFD", folded).translate(COMBINING_DIACRITICS)
        folded = unicodedata.normalize("NFC", folded)
    return folded[:MAX_TOKEN_CHARS]


@lru_cache(maxsize=1 << 18)
def _word_token(segment: str) -> str:
    folded = fold_word(segment)
    if STEM_TARGET.fullmatch(folded):
        return stem(folded)
    return folded


def _grams(run: str, out: list[str]) -> None:
    """Syllable bigrams of a run; a one-character run is its own token."""
    if len(run) == 1:
        out.append(run)
    else:
        out.extend([run[i : i + 2] for i in range(len(run) - 1)])


def normalize_text(text: str) -> str:
    """NFC, then the initial-sound rule on every Hangul syllable (one syllable in, one out)."""
    return unicodedata.normalize("NFC", text).translate(INITIAL_SOUND)


def _tokenize_chunk(chunk: str) -> tuple[str, ...]:
    """Tokens of an already normalised piece of text."""
    tokens: list[str] = []
    for hangul, jamo, cjk, other in _segment_pattern().findall(chunk):
        if hangul:
            _grams(hangul, tokens)
        elif other:
            token = _word_token(other)
            if token:
                tokens.append(token)
        elif jamo:
            tokens.append(jamo[:MAX_TOKEN_CHARS])
        else:
            _grams(cjk, tokens)
    return tuple(tokens)


# Whitespace-separated words repeat a lot in prose, so their tokens are remembered (bounded).
_CHUNK_CACHE: dict[str, tuple[str, ...]] = {}
_CHUNK_CACHE_LIMIT = 1 << 18  # ~50 MB at most on real text


def tokenize_for_index(text: str) -> list[str]:
    """The index tokens of `text`, in order (FORMAT.md 9.1); search.js `tokenize` is identical."""
    tokens: list[str] = []
    cache = _CHUNK_CACHE
    # Whitespace is never part of a token, so splitting on it first changes nothing but speed.
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    for chunk in text.split():
        found = cache.get(chunk)
        if found is None:
            found = _tokenize_chunk(chunk.translate(INITIAL_SOUND))
            if len(cache) >= _CHUNK_CACHE_LIMIT:
                cache.clear()
            cache[chunk] = found
        tokens += found
    return tokens


def choseong_tokens(title: str) -> list[str]:
    """Initial-consonant bigrams of the title's Hangul runs as written (한국사 -> ㅎㄱ, ㄱㅅ)."""
    tokens = []
    for run in re.findall(f"[{HANGUL_RANGE}]{{2,}}", unicodedata.normalize("NFC", title)):
        initials = [CHOSEONG[(ord(ch) - SYLLABLE_FIRST) // (VOWELS * FINALS)] for ch in run]
        tokens.extend(initials[i] + initials[i + 1] for i in range(len(initials) - 1))
    return tokens


# --- Index ------------------------------------------------------------------------------------------


@dataclass
class SearchDoc:
    id: int
    lang: str
    title: str
    summary: str
    body: str
    # Other titles the article is found by (ZIM redirects, front matter `aliases`): indexed exactly
    # as title words are, so a search for an alias ranks the article as a search for its title does.
    aliases: Sequence[str] = ()


@dataclass
class SearchIndex:
    payloads: dict[str, bytes]
    meta: dict
    stats: dict = field(default_factory=dict)


def _impact_tables(length_ratio: float) -> tuple[list[int], list[int]]:
    """Quantised BM25 term-frequency part for tf = 0..63 at one document length: (body, title)."""
    norm = BM25_K1 * (1 - BM25_B + BM25_B * length_ratio)
    parts = [IMPACT_SCALE * tf * (BM25_K1 + 1) / (tf + norm) for tf in range(64)]
    bonus = IMPACT_SCALE * TITLE_BONUS
    body = [min(IMPACT_MAX, max(1, round(part))) for part in parts]
    title = [min(IMPACT_MAX, max(1, round(part + bonus))) for part in parts]
    return body, title


def _check_docs(docs: Sequence[SearchDoc]) -> None:
    for position, doc in enumerate(docs):
        if doc.id != position:
            raise InfopackError(f"search document {position} has id {doc.id}; ids must be 0..N-1 in order")
        if not doc.lang:
            raise InfopackError(f"search document {position} has no language")


def _collect_postings(docs: Sequence[SearchDoc]) -> dict[str, tuple[array, bytearray]]:
    """term -> (document ids ascending, one impact byte per document)."""
    postings: dict[str, tuple[array, bytearray]] = {}
    average = max(1.0, sum(len(d.body) + len(d.summary) for d in docs) / max(1, len(docs)))
    tables: dict[int, tuple[list[int], list[int]]] = {}
    for doc in docs:
        counts = Counter(tokenize_for_index(doc.body))
        for token in tokenize_for_index(doc.summary):
            counts[token] += SUMMARY_TF_WEIGHT
        in_title: set[str] = set()
        for title in (doc.title, *doc.aliases):
            in_title.update(tokenize_for_index(title))
            in_title.update(choseong_tokens(title))
        for token in in_title:
            counts.setdefault(token, 0)
        # Documents of similar length share one table; the bucket is 1/8 of the average length.
        bucket = round(8 * (len(doc.body) + len(doc.summary)) / average)
        pair = tables.get(bucket)
        if pair is None:
            pair = tables[bucket] = _impact_tables(bucket / 8)
        body_table, title_table = pair
        doc_id = doc.id
        get = postings.get
        for term, tf in counts.items():
            table = title_table if term in in_title else body_table
            entry = get(term)
            if entry is None:
                entry = postings[term] = (array("I"), bytearray())
            entry[0].append(doc_id)
            entry[1].append(table[tf] if tf < 64 else table[63])
    return postings


def encode_varints(values: Iterable[int]) -> bytes:
    """LEB128: 7 bits per byte, low bits first, high bit set on every byte but the last."""
    out = bytearray()
    append = out.append
    for value in values:
        while value >= 0x80:
            append((value & 0x7F) | 0x80)
            value >>= 7
        append(value)
    return bytes(out)


def _encode_doc_ids(doc_ids: array) -> bytes:
    gaps = [doc_ids[0]]
    gaps.extend(map(sub, doc_ids[1:], doc_ids[:-1]))
    if max(gaps) < 0x80:  # the common case for frequent terms: one byte per gap, done in C
        return bytes(gaps)
    return encode_varints(gaps)


@dataclass
class _ShardBuilder:
    terms: list[str] = field(default_factory=list)
    header: list[int] = field(default_factory=list)
    blocks: list[bytes] = field(default_factory=list)
    size: int = 0

    def add(self, term: str, gaps: bytes, impacts: bytes) -> None:
        self.terms.append(term)
        self.header += (len(impacts), len(gaps))
        self.blocks += (gaps, impacts)
        self.size += len(term.encode("utf-8")) + len(gaps) + len(impacts) + 4

    def encode(self) -> bytes:
        names = "\n".join(self.terms).encode("utf-8")
        head = encode_varints([len(self.terms), len(names)]) + names + encode_varints(self.header)
        return head + b"".join(self.blocks)


def build_search_index(
    docs: Sequence[SearchDoc],
    shard_bytes: int = DEFAULT_SHARD_BYTES,
    boundaries: Sequence[str] = (),
    digits: int = 0,
) -> SearchIndex:
    """Build the sharded index (FORMAT.md section 9) for documents numbered 0..N-1.

    BOUNDARIES (a stable rebuild, `build --base`): the base bundle's shard first terms, kept as
    they were so that a changed term changes only the shard holding it, not the cut of every
    shard after it; DIGITS its shard_digits. Shards may then grow past SHARD_BYTES or be empty."""
    _check_docs(docs)
    try:
        postings = _collect_postings(docs)
    finally:
        _CHUNK_CACHE.clear()  # the build is over; give the memory back
    compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL, write_content_size=True, write_checksum=False)
    if boundaries:
        shards, firsts = _shards_at(postings, list(boundaries))
        width = digits or max(4, len(str(len(shards) - 1)))
    else:
        shards = _shards_by_size(postings, shard_bytes)
        firsts = [shard.terms[0] for shard in shards]
        width = max(4, len(str(len(shards) - 1)))
    payloads = {
        f"{PAYLOAD_PREFIX}{number:0{width}d}": compressor.compress(shard.encode())
        for number, shard in enumerate(shards)
    }
    langs = sorted({doc.lang for doc in docs})
    lang_number = {lang: number for number, lang in enumerate(langs)}
    payloads[LANG_PAYLOAD] = compressor.compress(bytes(lang_number[doc.lang] for doc in docs))
    meta = {
        "version": FORMAT_VERSION,
        "docs": len(docs),
        "compression": "zstd",
        "shard_prefix": PAYLOAD_PREFIX,
        "shard_digits": width,
        "shards": firsts,
        "langs": langs,
        "lang_payload": LANG_PAYLOAD,
    }
    stats = {"terms": len(postings), "postings": sum(len(p[1]) for p in postings.values())}
    return SearchIndex(payloads=payloads, meta=meta, stats=stats)


def _shards_by_size(postings: dict[str, tuple[array, bytearray]], shard_bytes: int) -> list[_ShardBuilder]:
    shards: list[_ShardBuilder] = [_ShardBuilder()]
    for term in sorted(postings):
        doc_ids, impacts = postings[term]
        if shards[-1].size >= shard_bytes:
            shards.append(_ShardBuilder())
        shards[-1].add(term, _encode_doc_ids(doc_ids), bytes(impacts))
    if not shards[-1].terms:
        shards.pop()
    return shards


def _shards_at(postings: dict[str, tuple[array, bytearray]], bounds: list[str]) -> tuple[list[_ShardBuilder], list[str]]:
    """Shard i holds the terms from bounds[i] up to bounds[i+1]; a term below bounds[0] joins
    shard 0, whose recorded first term moves down to it (section 9.3 stays true)."""
    shards = [_ShardBuilder() for _ in bounds]
    number = 0
    for term in sorted(postings):
        while number + 1 < len(bounds) and term >= bounds[number + 1]:
            number += 1
        doc_ids, impacts = postings[term]
        shards[number].add(term, _encode_doc_ids(doc_ids), bytes(impacts))
    firsts = list(bounds)
    if shards[0].terms:
        firsts[0] = min(firsts[0], shards[0].terms[0])
    return shards, firsts


# --- Reading a shard back (tests, verifiers) ----------------------------------------------------------


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data):
            raise InfopackError("search shard is truncated")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def decode_shard(payload: bytes) -> dict[str, list[tuple[int, int]]]:
    """A shard payload -> {term: [(doc id, impact), ...]}; raises InfopackError when damaged."""
    try:
        data = zstandard.ZstdDecompressor().decompress(payload)
    except zstandard.ZstdError as exc:
        raise InfopackError(f"search shard is not a zstd frame: {exc}") from None
    count, pos = _read_varint(data, 0)
    names_len, pos = _read_varint(data, pos)
    try:
        terms = data[pos : pos + names_len].decode("utf-8").split("\n") if count else []
    except UnicodeDecodeError:
        raise InfopackError("search shard term list is damaged") from None
    if len(terms) != count:
        raise InfopackError("search shard term list is damaged")
    pos += names_len
    sizes = []
    for _ in range(count):
        df, pos = _read_varint(data, pos)
        gaps_len, pos = _read_varint(data, pos)
        sizes.append((df, gaps_len))
    result = {}
    for term, (df, gaps_len) in zip(terms, sizes):
        gaps_end = pos + gaps_len
        doc_id = 0
        ids = []
        while pos < gaps_end:
            gap, pos = _read_varint(data, pos)
            doc_id += gap
            ids.append(doc_id)
        impacts = data[pos : pos + df]
        pos += df
        if len(ids) != df or len(impacts) != df:
            raise InfopackError(f"search shard entry {term!r} is damaged")
        result[term] = list(zip(ids, impacts))
    return result


# --- Query planning (the viewer's search.js `plan` does the same) ------------------------------------


@dataclass(frozen=True)
class QueryAlt:
    """Terms t with lo <= t <= hi (code point order) that may fill a slot; lo == hi is one term."""

    lo: str
    hi: str
    weight: float


@dataclass
class QuerySlot:
    """One part of the query; a document scores the best of its alternatives."""

    alts: list[QueryAlt]


def _syllable(lead: int, vowel: int, final: int) -> str:
    return chr(SYLLABLE_FIRST + (lead * VOWELS + vowel) * FINALS + final)


def _completions(ch: str) -> list[tuple[str, str]]:
    """Syllable ranges the last, possibly half-typed, syllable may still become (구 -> 구..궇)."""
    index = ord(ch) - SYLLABLE_FIRST
    final = index % FINALS
    open_syllable = chr(ord(ch) - final)
    if final == 0:
        return [(ch, chr(ord(ch) + FINALS - 1))]
    ranges = [(ch, ch)]
    ranges += [(chr(ord(open_syllable) + f), chr(ord(open_syllable) + f)) for f in COMPOUND_FINALS.get(final, ())]
    ranges.append((open_syllable, open_syllable))  # the final may become the next syllable's initial
    return ranges


def _lead_ranges(jamo: str) -> list[tuple[str, str]]:
    """Normalised syllables that can start with the typed initial consonant (ㄱ -> 가..깋)."""
    lead = CHOSEONG_INDEX[jamo]
    if lead in (L_NIEUN, L_RIEUL):
        # The initial-sound rule moves these to ㄴ, or to ㅇ before iotized vowels.
        ranges = [(_syllable(L_NIEUN, 0, 0), _syllable(L_NIEUN, VOWELS - 1, FINALS - 1))]
        ranges += [(_syllable(L_IEUNG, v, 0), _syllable(L_IEUNG, v, FINALS - 1)) for v in sorted(IOTIZED_VOWELS)]
        return ranges
    return [(_syllable(lead, 0, 0), _syllable(lead, VOWELS - 1, FINALS - 1))]


def _exact(term: str) -> QueryAlt:
    return QueryAlt(term, term, 1.0)


def _gram_slots(run: str, completions: list[tuple[str, str]] | None) -> list[QuerySlot]:
    """Slots for a Hangul or CJK run; `completions` expands the last character (half-typed)."""
    if len(run) == 1:
        alts = [_exact(run), QueryAlt(run, run + RANGE_END, EXPANSION_WEIGHT)]
        for lo, hi in completions or ():
            alts.append(QueryAlt(lo, hi + RANGE_END, EXPANSION_WEIGHT))
        return [QuerySlot(alts)]
    slots = [QuerySlot([_exact(run[i : i + 2])]) for i in range(len(run) - 1)]
    for lo, hi in completions or ():
        slots[-1].alts.append(QueryAlt(run[-2] + lo, run[-2] + hi, EXPANSION_WEIGHT))
    return slots


def plan_query(query: str) -> list[QuerySlot]:
    """Turn what the reader typed into slots of term ranges (FORMAT.md 9.4)."""
    text = normalize_text(query)
    segments = [(m.lastindex, m.group(), m.start(), m.end()) for m in _segment_pattern().finditer(text)]
    # The reader is still typing the last word when the query ends inside it.
    typing = bool(segments) and segments[-1][3] == len(text)
    slots: list[QuerySlot] = []
    skip_next = False
    for number, (kind, run, _start, end) in enumerate(segments):
        if skip_next:
            skip_next = False
            continue
        is_last = number == len(segments) - 1 and typing
        following = segments[number + 1] if number + 1 < len(segments) else None
        if kind == 1:
            # 한ㄱ: a lone initial consonant typed right after syllables starts the next syllable.
            if (
                following is not None
                and following[0] == 2
                and following[2] == end
                and number + 1 == len(segments) - 1
                and typing
                and len(following[1]) == 1
                and following[1] in CHOSEONG_INDEX
            ):
                skip_next = True
                last_slots = _gram_slots(run, None)
                ranges = _lead_ranges(following[1])
                tail = run[-1]
                slots.extend(last_slots)
                slots.append(QuerySlot([QueryAlt(tail + lo, tail + hi, EXPANSION_WEIGHT) for lo, hi in ranges]))
                continue
            slots.extend(_gram_slots(run, _completions(run[-1]) if is_last else None))
        elif kind == 2:
            if len(run) >= 2 and all(ch in CHOSEONG_INDEX for ch in run):
                slots.extend(QuerySlot([_exact(run[i : i + 2])]) for i in range(len(run) - 1))
            elif not all(ch in CHOSEONG_INDEX for ch in run):
                slots.append(QuerySlot([_exact(run[:MAX_TOKEN_CHARS])]))
        elif kind == 3:
            slots.extend(_gram_slots(run, None))
        else:
            token = _word_token(run)
            if not token:
                continue
            alts = [_exact(token)]
            folded = fold_word(run)
            if is_last and len(folded) >= 2:
                alts.append(QueryAlt(folded, folded + RANGE_END, EXPANSION_WEIGHT))
            slots.append(QuerySlot(alts))
    return [_dedupe(slot) for slot in slots[:MAX_QUERY_SLOTS]]


def _dedupe(slot: QuerySlot) -> QuerySlot:
    seen: set[tuple[str, str]] = set()
    alts = []
    for alt in slot.alts:
        if (alt.lo, alt.hi) not in seen:
            seen.add((alt.lo, alt.hi))
            alts.append(alt)
    return QuerySlot(alts)


def plan_as_json(slots: list[QuerySlot]) -> list[list[list]]:
    """The plan as nested lists [[lo, hi, weight], ...] per slot, for comparing with search.js."""
    return [[[alt.lo, alt.hi, alt.weight] for alt in slot.alts] for slot in slots]
