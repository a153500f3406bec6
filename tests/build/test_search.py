"""The search index builder and query planner in Python (search.js is tested in test_search_js.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import zstandard

from infopack.build.search import (
    SearchDoc,
    build_search_index,
    choseong_tokens,
    decode_shard,
    encode_varints,
    plan_as_json,
    plan_query,
    stem,
    tokenize_for_index,
)
from infopack.errors import InfopackError

VECTORS = Path(__file__).resolve().parents[1] / "vectors"


def labelled_docs() -> list[SearchDoc]:
    data = json.loads((VECTORS / "search_queries.json").read_text("utf-8"))
    return [SearchDoc(i, lang, title, summary, body) for i, (lang, title, summary, body) in enumerate(data["docs"])]


def all_postings(index) -> dict[str, list[tuple[int, int]]]:
    merged: dict[str, list[tuple[int, int]]] = {}
    for name, payload in index.payloads.items():
        if name.startswith(index.meta["shard_prefix"]):
            merged.update(decode_shard(payload))
    return merged


def test_particles_do_not_hide_korean_words():
    assert "학교" in tokenize_for_index("학교에서")
    assert "학교" in tokenize_for_index("학교는")
    assert tokenize_for_index("산") == ["산"]  # a one-syllable word is its own token
    assert tokenize_for_index("학교에") == ["학교", "교에"]


def test_northern_and_southern_spellings_give_the_same_tokens():
    pairs = [("로동", "노동"), ("력사", "역사"), ("리용", "이용"), ("녀자", "여자"), ("량식", "양식"), ("래일", "내일")]
    for north, south in pairs:
        assert tokenize_for_index(north) == tokenize_for_index(south), (north, south)


def test_nfc_case_accents_and_stemming():
    assert tokenize_for_index("e\u0301cole") == tokenize_for_index("École") == ["ecole"]
    assert tokenize_for_index("Libraries STUDIES boxes classes") == ["library", "study", "box", "class"]
    # Conjoining jamo compose to a syllable under NFC before tokenizing.
    assert tokenize_for_index("\u1112\u1161\u11ab\u1100\u116e\u11a8") == ["한국"]


def test_stemmer_rules():
    assert [stem(w) for w in ["cats", "glass", "bus", "axis", "flies", "ties", "boxes", "horses"]] == [
        "cat", "glass", "bus", "axis", "fly", "tie", "box", "horse"
    ]


def test_choseong_tokens_come_from_hangul_runs_as_written():
    assert choseong_tokens("로동당의 역사") == ["ㄹㄷ", "ㄷㄷ", "ㄷㅇ", "ㅇㅅ"]
    assert choseong_tokens("산 a 한") == []


def test_plan_expands_half_typed_syllables():
    assert plan_as_json(plan_query("한구")) == [[["한구", "한구", 1.0], ["한구", "한궇", 0.8]]]
    # A lone initial after syllables: every syllable starting with ㄱ.
    last = plan_as_json(plan_query("한ㄱ"))[-1]
    assert last == [["한가", "한깋", 0.8]]
    # A finished word (query ends with a space) is not expanded.
    assert plan_as_json(plan_query("한구 ")) == [[["한구", "한구", 1.0]]]


def test_plan_initials_and_prefixes():
    assert plan_as_json(plan_query("ㅎㄱ")) == [[["ㅎㄱ", "ㅎㄱ", 1.0]]]
    assert plan_as_json(plan_query("Hist")) == [[["hist", "hist", 1.0], ["hist", "hist\U0010ffff", 0.8]]]
    assert plan_as_json(plan_query("histories ")) == [[["history", "history", 1.0]]]
    assert plan_query("!!! ") == []


def test_index_round_trip_matches_tokens():
    docs = labelled_docs()
    index = build_search_index(docs)
    postings = all_postings(index)
    for doc in docs:
        for token in tokenize_for_index(doc.body):
            assert doc.id in [d for d, _ in postings[token]], (doc.id, token)
    # Titles carry initial-consonant tokens and outweigh body words.
    hangeul = dict(postings["ㅎㄱ"])
    assert set(hangeul) == {0, 3, 6}
    history = dict(postings["역사"])
    assert history[0] > history[2]
    for entries in postings.values():
        ids = [d for d, _ in entries]
        assert ids == sorted(set(ids))
        assert all(1 <= impact <= 127 for _, impact in entries)


def test_meta_and_payload_names():
    index = build_search_index(labelled_docs())
    meta = index.meta
    assert meta["version"] == 1 and meta["docs"] == 13 and meta["langs"] == ["en", "ko"]
    assert json.loads(json.dumps(meta)) == meta
    assert all(name.startswith("search/") for name in index.payloads)
    langs = zstandard.ZstdDecompressor().decompress(index.payloads[meta["lang_payload"]])
    assert list(langs) == [1] * 7 + [0] * 4 + [1] * 2


def test_shards_are_bounded_sorted_and_deterministic():
    docs = [SearchDoc(i, "en", f"title {i}", "", " ".join(f"w{i * 7 + k}x" for k in range(300))) for i in range(400)]
    index = build_search_index(docs, shard_bytes=4096)
    again = build_search_index(docs, shard_bytes=4096)
    assert index.payloads == again.payloads and index.meta == again.meta
    firsts = index.meta["shards"]
    assert len(firsts) > 10 and firsts == sorted(firsts)
    previous_last = ""
    for number, first in enumerate(firsts):
        name = f"{index.meta['shard_prefix']}{number:0{index.meta['shard_digits']}d}"
        shard = decode_shard(index.payloads[name])
        terms = list(shard)
        assert terms == sorted(terms) and terms[0] == first and previous_last < first
        previous_last = terms[-1]
        raw = zstandard.ZstdDecompressor().decompress(index.payloads[name])
        assert len(raw) < 4096 + 2048


def test_bad_input_raises_infopack_error():
    with pytest.raises(InfopackError):
        build_search_index([SearchDoc(1, "en", "a", "", "b")])
    with pytest.raises(InfopackError):
        build_search_index([SearchDoc(0, "", "a", "", "b")])
    index = build_search_index(labelled_docs())
    payload = index.payloads["search/t/0000"]
    with pytest.raises(InfopackError):
        decode_shard(b"not zstd")
    raw = zstandard.ZstdDecompressor().decompress(payload)
    truncated = zstandard.ZstdCompressor().compress(raw[: len(raw) // 2])
    with pytest.raises(InfopackError):
        decode_shard(truncated)


def test_varints():
    assert encode_varints([0, 1, 127, 128, 300, 2**32]) == bytes(
        [0, 1, 127, 0x80, 1, 0xAC, 2, 0x80, 0x80, 0x80, 0x80, 0x10]
    )


def test_empty_corpus():
    index = build_search_index([])
    assert index.meta["shards"] == [] and index.meta["docs"] == 0


def test_an_alias_is_indexed_like_the_title():
    # A ZIM redirect's title becomes an alias: its words must carry the title impact, its Hangul
    # runs their initial-consonant tokens, and nothing else about the document may change.
    plain = SearchDoc(0, "ko", "서울특별시", "", "대한민국의 수도이다. " * 5)
    aliased = SearchDoc(0, "ko", "서울특별시", "", "대한민국의 수도이다. " * 5, aliases=("한양", "Hanyang"))
    without = all_postings(build_search_index([plain]))
    with_alias = all_postings(build_search_index([aliased]))
    title_impact = with_alias["서울"][0][1]
    assert with_alias["한양"] == [(0, title_impact)]
    assert with_alias["hanyang"] == [(0, title_impact)]
    assert with_alias["ㅎㅇ"] == [(0, title_impact)]
    assert {t: p for t, p in with_alias.items() if t not in ("한양", "hanyang", "ㅎㅇ")} == without


def test_no_aliases_leave_the_index_bytes_unchanged():
    docs = labelled_docs()
    same = [SearchDoc(d.id, d.lang, d.title, d.summary, d.body, aliases=()) for d in docs]
    assert build_search_index(docs).payloads == build_search_index(same).payloads
