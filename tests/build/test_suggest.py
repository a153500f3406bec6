"""The title-suggestion index (docs/FORMAT.md 9.6): keys, ranking, shards and heads, read back the
way search.js `suggest` reads them (suggest_rows). The viewer side is in tests/viewer/."""

from __future__ import annotations

import json
import random

import zstandard

from infopack.build import suggest
from infopack.build.suggest import (
    SuggestDoc,
    build_suggest_index,
    initials_key,
    suggest_key,
    suggest_route,
    suggest_rows,
)

KOREAN = [
    SuggestDoc("crane", "ko", "두루미 관찰 일지"),
    SuggestDoc("scroll", "ko", "두루마리 이야기"),
    SuggestDoc("river", "ko", "강가 관찰 기록"),
    SuggestDoc("day", "ko", "하루 일기"),
    SuggestDoc("school", "ko", "학교에 대하여"),
    SuggestDoc("labour", "ko", "로동 신문"),
]


def texts(index, typed: str) -> list[str]:
    return [row[1] for row in rows_for(index, typed)]


def rows_for(index, typed: str) -> list[list]:
    """The rows for TYPED in the viewer's order: rank, one per article (as search.js sorts)."""
    rows = suggest_rows(index.payloads, index.meta, suggest_route(typed))
    ordered = sorted(enumerate(rows), key=lambda p: (p[1][4] > 0, len(p[1]) > 6, -p[1][5], len(p[1][1]), p[0]))
    seen: set[str] = set()
    out = []
    for _, row in ordered:
        if row[2] not in seen:
            seen.add(row[2])
            out.append(row)
    return out


def test_keys_fold_like_search_and_split_syllables_for_half_typing():
    assert suggest_key("학교에 대하여") == "하ㄱ교에 대하여"
    assert suggest_key("Garden-Guide  FOR Bégin") == "garden guide for begin"
    assert suggest_key("로동") == "노도ㅇ"  # the initial-sound rule, as in search
    assert initials_key("두루미 관찰") == "ㄷㄹㅁ" and initials_key("강 관찰") == ""
    assert len(suggest_key("word " * 20)) == suggest.KEY_CHARS


def test_korean_initial_consonants_find_titles_by_any_of_their_first_words():
    index = build_suggest_index(KOREAN)
    assert suggest_route("ㄷㄹ") == "ㄷㄹ"
    assert set(texts(index, "ㄷㄹ")) == {"두루미 관찰 일지", "두루마리 이야기"}
    assert texts(index, "ㄱㅊ") == ["강가 관찰 기록", "두루미 관찰 일지"]  # from the second word, shorter first
    assert texts(index, "ㄹㄷ") == ["로동 신문"]  # initials as written, before the initial-sound rule


def test_a_half_typed_last_syllable_keeps_what_it_may_become():
    index = build_suggest_index(KOREAN)
    # 관ㅊ and 관차 are on the way to 관찰; 할 to 하루 (ㄹ may start the next syllable).
    for typed in ("관ㅊ", "관차", "관찰"):
        assert {"두루미 관찰 일지", "강가 관찰 기록"} <= set(texts(index, typed)), typed
    assert "하루 일기" in texts(index, "할") and "하루 일기" in texts(index, "하")
    assert "학교에 대하여" in texts(index, "학ㄱ") and "학교에 대하여" in texts(index, "학교ㅇ")
    assert texts(index, "노동") == ["로동 신문"]  # typed the Southern way
    assert "로동 신문" in texts(index, "로도")


def test_english_prefixes_rank_a_titles_own_start_first_then_priority_then_shorter():
    docs = [
        SuggestDoc("rose", "en", "Rose Garden"),
        SuggestDoc("stone", "en", "Gardens of Stone"),
        SuggestDoc("guide", "en", "Garden Guide"),
        SuggestDoc("market", "en", "Garden Market Of The Old Town", priority=5),
        SuggestDoc("deep", "en", "One Two Three Four Garden"),  # past the fourth word: not suggested
    ]
    index = build_suggest_index(docs)
    assert texts(index, "gar") == ["Garden Market Of The Old Town", "Garden Guide", "Gardens of Stone", "Rose Garden"]
    assert texts(index, "GARDEN G") == ["Garden Guide"]
    assert [row[2:4] for row in rows_for(index, "rose")] == [["rose", "en"]]


def test_aliases_are_suggested_and_point_to_their_article():
    docs = [SuggestDoc("crane", "ko", "두루미 관찰 일지", aliases=["Red-crowned Crane", "학"]), SuggestDoc("c2", "en", "Crane Lifts")]
    index = build_suggest_index(docs)
    rows = rows_for(index, "cra")
    assert [(row[1], row[2]) for row in rows] == [("Crane Lifts", "c2"), ("Red-crowned Crane", "crane")]
    alias = rows[1]
    assert alias[6] == "두루미 관찰 일지" and alias[3] == "ko"
    assert [row[1] for row in rows_for(index, "red")] == ["Red-crowned Crane"]


def test_one_keystroke_reads_one_small_file_and_finds_what_a_full_scan_finds():
    """A library large enough for many shards: every shard stays within its size, and for every
    typed prefix the one file read gives the same first eight as ranking every entry would."""
    rng = random.Random(7)
    words = ["market", "marine", "mark", "garden", "lantern", "학교", "학생", "하늘", "하루", "두루미", "관찰", "노동"]
    docs = [SuggestDoc(f"s{i}", "en", " ".join(rng.choice(words) for _ in range(rng.randint(1, 4)))) for i in range(4000)]
    index = build_suggest_index(docs)
    shards = [name for name in index.payloads if name.startswith(suggest.SHARD_PREFIX)]
    assert len(shards) > 5 and len(index.meta["shards"]) == len(shards)
    every = []
    for name in shards:
        rows = json.loads(zstandard.ZstdDecompressor().decompress(index.payloads[name]))
        assert len(rows) <= suggest.SHARD_MAX
        every += rows
    for typed in ["m", "ma", "mar", "mark", "marke", "market g", "학", "학ㄱ", "학교", "하", "ㅎㄱ", "두루ㅁ", "관ㅊ", "zzz"]:
        route = suggest_route(typed)
        matching = sorted(
            (row for row in every if row[0].startswith(route)),
            key=lambda r: (r[4] > 0, len(r[1]), r[1], int(r[2][1:])),
        )
        best: list[str] = []
        for row in matching:
            if row[2] not in best:
                best.append(row[2])
        got = [row[2] for row in rows_for(index, typed)][:8]
        # Ties of equal length may come in another order; the set of the best eight may not differ.
        assert [len(docs[int(s[1:])].title) for s in got] == [len(docs[int(s[1:])].title) for s in best[:8]], typed
        assert len(got) == min(8, len(best)), typed


def test_a_word_ending_thousands_of_titles_does_not_fill_shards():
    docs = [SuggestDoc(f"s{i}", "ko", f"주제{i}에 대하여") for i in range(3000)]
    index = build_suggest_index(docs)
    every = [row for name, payload in index.payloads.items() if name.startswith(suggest.SHARD_PREFIX)
             for row in json.loads(zstandard.ZstdDecompressor().decompress(payload))]  # fmt: skip
    assert sum(1 for row in every if row[0] == suggest_key("대하여")) == suggest.SAME_KEY_LIMIT
    assert len(texts(index, "대하")) == suggest.SAME_KEY_LIMIT


def test_an_empty_library_has_an_empty_suggestion_index():
    index = build_suggest_index([])
    assert index.payloads == {} and index.meta["shards"] == [] and suggest_rows({}, index.meta, "a") == []
