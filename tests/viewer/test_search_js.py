"""search.js against the Python side: identical tokens and plans, the labelled query set, shard
loading, snippets; in node (tests/js/search_runner.js) and in a real Chromium from file://."""

from __future__ import annotations

import base64
import hashlib
import json
import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from infopack.build.search import (
    SearchDoc,
    build_search_index,
    plan_as_json,
    plan_query,
    tokenize_for_index,
)

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "vectors"
RUNNER = ROOT / "tests" / "js" / "search_runner.js"
SEARCH_JS = ROOT / "src" / "infopack" / "build" / "viewer" / "search.js"
FZSTD = ROOT / "node_modules" / "fzstd" / "umd" / "index.js"
PAGE = ROOT / "tests" / "js" / "search_runner.html"

TOKENIZER_CASES = json.loads((VECTORS / "tokenizer_cases.json").read_text("utf-8"))
LABELLED = json.loads((VECTORS / "search_queries.json").read_text("utf-8"))
EXTRA_PLANS = ["한", "학", "닭", "달", "한ㄹ", "한ㄴ", "ㅎ", "ㅎㄱㅅ", "ㅏ", "로동 력사", "Walking ", "é", "東京タ",
               "3", "a", "ab", "대한민국의역사를", "  ", "foo!", "cafés 학교에", "𝐁𝐨"]

pytestmark = pytest.mark.skipif(shutil.which("node") is None or not FZSTD.exists(), reason="needs node and fzstd")


def run_node(tmp_path: Path, manifest: dict) -> dict:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")
    done = subprocess.run(["node", str(RUNNER), str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def labelled_docs() -> list[SearchDoc]:
    return [SearchDoc(i, lang, title, summary, body) for i, (lang, title, summary, body) in enumerate(LABELLED["docs"])]


def write_payloads(index, directory: Path) -> None:
    for name, payload in index.payloads.items():
        target = directory / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(payload)


def check_labelled(results: list, queries: list[dict]) -> list[str]:
    failures = []
    for query, outcome in zip(queries, results):
        ids = [hit["id"] for hit in outcome.get("results", [])]
        top = ids[: query["top"]]
        if "error" in outcome or not set(query["expect"]) <= set(top):
            failures.append(f"{query['q']!r} ({query['why']}): expected {query['expect']} in {top} {outcome.get('error', '')}")
        if query.get("exclusive") and ids:
            failures.append(f"{query['q']!r} ({query['why']}): expected nothing, got {ids}")
    return failures


def test_tokens_and_plans_identical_in_node(tmp_path):
    queries = [q["q"] for q in LABELLED["queries"]] + EXTRA_PLANS + TOKENIZER_CASES
    out = run_node(tmp_path, {"tokenize": TOKENIZER_CASES, "plan": queries})
    for text, tokens in zip(TOKENIZER_CASES, out["tokenize"]):
        assert tokens == tokenize_for_index(text), text
    for query, plan in zip(queries, out["plan"]):
        assert plan == plan_as_json(plan_query(query)), query


def random_texts(count: int, seed: int) -> list[str]:
    """Strings mixing every class the tokenizer distinguishes, to find disagreements nobody listed."""
    rng = random.Random(seed)
    pool = (
        [chr(c) for c in range(0xAC00, 0xD7A4, 97)] + list("로동력사리용녀자량한국학교에서는을를")
        + list("ㄱㄴㄷㄹㅁㅂㅅㅇㅈㅎㅏㅓㅗㄳㅄ") + list("東京タワーひらがな中文")
        + list("abcdefghijklmnopqrstuvwxyzSTUDIESLIBRARY") + list("éÉàçñößøæœłİΣσςΟΔΟΣЖжЁё")
        + ["e\u0301", "\u0308", "\u0915\u093f", "\u0e44\u0e17"] + list("0123456789٣½²")
        + list(" \t\n.,;:!?'\"-_/()[]「」«»") + ["😀", "👍🏽", "🇰🇷", "𝐁", "𠀀", "\u200b", "\ufeff"]
        + ["\u1112\u1161\u11ab", "\u1100\u116e"]
    )
    return ["".join(rng.choice(pool) for _ in range(rng.randint(0, 24))) for _ in range(count)]


def test_random_strings_tokenize_and_plan_identically(tmp_path):
    texts = random_texts(400, seed=5)
    out = run_node(tmp_path, {"tokenize": texts, "plan": texts})
    for text, tokens, plan in zip(texts, out["tokenize"], out["plan"]):
        assert tokens == tokenize_for_index(text), repr(text)
        assert plan == plan_as_json(plan_query(text)), repr(text)


def test_labelled_queries_in_node(tmp_path):
    index = build_search_index(labelled_docs())
    write_payloads(index, tmp_path)
    searches = [{"q": q["q"], "lang": q.get("lang"), "limit": 10} for q in LABELLED["queries"]]
    out = run_node(tmp_path, {"index": {"dir": str(tmp_path), "meta": index.meta}, "searches": searches})
    assert check_labelled(out["searches"], LABELLED["queries"]) == []


def test_a_search_for_a_redirect_title_lands_on_its_target(tmp_path):
    # Imported ZIM redirects are aliases: typing the old name must find the article it points to
    # first when other articles only mention it, and score it exactly as if the alias were its title.
    def docs(title: str, aliases: tuple[str, ...]) -> list[SearchDoc]:
        return [
            SearchDoc(0, "en", title, "", "The main royal palace of the Joseon dynasty. " * 4, aliases=aliases),
            SearchDoc(1, "en", "Seoul", "", "Gyeongbok Palace is one of five palaces. " + "The city grew. " * 20),
            SearchDoc(2, "ko", "조선", "", "경복궁은 조선의 법궁이다. " + "조선은 오백 년 동안 이어졌다. " * 10),
        ]

    queries = ("Gyeongbok Palace", "경복궁", "ㄱㅂㄱ")
    searches = [{"q": q, "lang": None, "limit": 10} for q in queries]
    aliased = build_search_index(docs("Gyeongbokgung", ("Gyeongbok Palace", "경복궁")))
    write_payloads(aliased, tmp_path / "aliased")
    out = run_node(tmp_path, {"index": {"dir": str(tmp_path / "aliased"), "meta": aliased.meta}, "searches": searches})
    for query, outcome in zip(queries, out["searches"]):
        assert outcome["results"][0]["id"] == 0, (query, outcome)
        as_title = build_search_index(docs(query if query != "ㄱㅂㄱ" else "경복궁", ()))
        write_payloads(as_title, tmp_path / query)
        same = run_node(tmp_path, {"index": {"dir": str(tmp_path / query), "meta": as_title.meta},
                                   "searches": [{"q": query, "lang": None, "limit": 10}]})
        assert same["searches"][0]["results"][0] == outcome["results"][0], query


def test_a_query_loads_only_the_shards_it_needs(tmp_path):
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"]
    docs = [
        SearchDoc(i, "ko" if i % 2 else "en", f"{words[i % 10]} 문서 {i}", "",
                  " ".join(f"{w}{(i * 13 + k) % 997}" for k, w in enumerate(words * 20)) + " 학교에서 공부합니다")
        for i in range(300)
    ]
    index = build_search_index(docs, shard_bytes=2048)
    shard_count = len(index.meta["shards"])
    assert shard_count > 30
    write_payloads(index, tmp_path)
    searches = [{"q": "hotel12 "}, {"q": "학교 "}, {"q": "hotel12 ", "lang": "ko"}, {"q": "juliet 학교"}]
    out = run_node(tmp_path, {"index": {"dir": str(tmp_path), "meta": index.meta}, "searches": searches})
    exact, korean, filtered, both = out["searches"]
    assert len(exact["loaded"]) <= 2 and len(korean["loaded"]) <= 2
    assert {hit["id"] for hit in exact["results"]} == {d.id for d in docs if "hotel12" in tokenize_for_index(d.body)}
    assert len(korean["results"]) == 20  # every document has 학교; the default limit applies
    assert "search/lang" in filtered["loaded"] and all(hit["id"] % 2 == 1 for hit in filtered["results"])
    assert len(both["loaded"]) <= 2 + 4  # the prefix juliet* may span a few shards
    scores = [hit["score"] for hit in both["results"]]
    assert scores == sorted(scores, reverse=True)


def test_shard_cache_is_bounded_and_reloads(tmp_path):
    docs = [SearchDoc(i, "en", f"doc {i}", "", " ".join(f"t{i}x{k}" for k in range(200))) for i in range(240)]
    index = build_search_index(docs, shard_bytes=1024)
    assert len(index.meta["shards"]) > 120
    write_payloads(index, tmp_path)
    queries = [{"q": f"t{i}x5 "} for i in range(0, 240, 2)]  # 120 queries in different shards
    out = run_node(tmp_path, {"index": {"dir": str(tmp_path), "meta": index.meta},
                              "searches": queries + [queries[0], queries[-1]]})
    results = out["searches"]
    assert [r["results"][0]["id"] for r in results[:120]] == list(range(0, 240, 2))
    assert results[120]["loaded"] != [] and results[120]["results"] == results[0]["results"]  # evicted, reloaded
    assert results[121]["loaded"] == [] and results[121]["results"] == results[119]["results"]  # still cached


def test_damaged_or_missing_shard_rejects_the_search(tmp_path):
    index = build_search_index(labelled_docs())
    write_payloads(index, tmp_path)
    (tmp_path / "search/t/0000").write_bytes(index.payloads["search/t/0000"][:40])
    meta = dict(index.meta, shards=index.meta["shards"] + ["\U0001d401"])  # a shard that does not exist
    out = run_node(tmp_path, {"index": {"dir": str(tmp_path), "meta": meta},
                              "searches": [{"q": index.meta["shards"][0] + " "}, {"q": "\U0001d401\U0001d428 "}]})
    assert all("error" in outcome for outcome in out["searches"]), out


def test_highlight_and_snippet_in_node(tmp_path):
    body = ("앞부분 " * 60) + "로동자들은 학교에서 공부합니다. " + ("뒷부분 " * 60) + "Cafés are running."
    cases = [["대한민국의 역사와 로동당", "력사 노동"], ["Walking walkers talk", "walk"], ["한국과 한글", "ㅎㄱ"],
             ["학교에 갔다", "학교"], [body, "cafe run"], ["Ünïcode Straße", "unicode"]]
    out = run_node(tmp_path, {"highlight": cases, "snippet": [[body, "노동 학교", 60], [body, "없는말", 30]]})
    marked = [[p["text"] for p in pieces if p["match"]] for pieces in out["highlight"]]
    assert marked[0] == ["역사", "로동"]
    assert marked[1] == ["Walking", "walkers"]
    assert marked[2] == ["한국", "한글"]
    assert marked[3] == ["학교"]
    assert marked[4] == ["Cafés", "running"]
    assert marked[5] == ["Ünïcode"]
    for (text, _), pieces in zip(cases, out["highlight"]):
        assert "".join(p["text"] for p in pieces) == text
    first, second = out["snippet"]
    assert "로동자들은 학교에서" in first and first.startswith("…") and len(first) <= 62
    assert second.startswith("앞부분") and second.endswith("…")


def test_engine_source_cannot_reach_network_storage_or_dom():
    """A request or stored history is a safety bug for our readers; the engine gets bytes only
    through the viewer's loadPayload, and returns text for textContent."""
    source = SEARCH_JS.read_text("utf-8")
    forbidden = ["fetch", "XMLHttpRequest", "WebSocket", "EventSource", "sendBeacon", "localStorage",
                 "sessionStorage", "indexedDB", "caches", "cookie", "innerHTML", "outerHTML",
                 "insertAdjacentHTML", r"document\s*\.", r"window\s*\.", "eval", r"Function\s*\(",
                 r"import\s*\(", "setTimeout", r"\.src\b"]
    assert [word for word in forbidden if re.search(word, source)] == []
    new_globals = subprocess.run(
        ["node", "-e", "const vm = require('vm'), fs = require('fs'); const before = new Set(Object.keys(globalThis));"
         f"vm.runInThisContext(fs.readFileSync({json.dumps(str(SEARCH_JS))}, 'utf8'));"
         "console.log(JSON.stringify(Object.keys(globalThis).filter(k => !before.has(k))));"],
        capture_output=True, text=True, timeout=30, check=True,
    ).stdout
    assert json.loads(new_globals) == ["InfopackSearch"]


@pytest.mark.browser
def test_chromium_file_page_tokenizes_and_searches(page, tmp_path):
    """The viewer's way: classic <script> data files from file://, hash-checked, fzstd to decompress."""
    index = build_search_index(labelled_docs())
    files = {}
    for name, payload in index.payloads.items():
        target = tmp_path / "data" / f"{name}.js"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(f'infopackData("{name}","{base64.b64encode(payload).decode()}");\n', "ascii")
        files[name] = [len(payload), hashlib.sha256(payload).hexdigest()]
    shutil.copy(SEARCH_JS, tmp_path / "search.js")
    shutil.copy(FZSTD, tmp_path / "decoder.js")  # an independent zstd decoder, not the viewer's
    root = json.dumps({"files": files, "search": index.meta}).replace("<", "\\u003c")
    (tmp_path / "index.html").write_text(PAGE.read_text("utf-8").replace("ROOT_JSON", root), "utf-8")
    page.goto((tmp_path / "index.html").as_uri())
    tokens = page.evaluate("cases => cases.map(c => InfopackSearch.tokenize(c))", TOKENIZER_CASES)
    assert tokens == [tokenize_for_index(text) for text in TOKENIZER_CASES]
    queries = LABELLED["queries"]
    outcomes = page.evaluate(
        """async queries => {
            const out = [];
            for (const q of queries) {
                try { out.push({results: await engine.search(q.q, {lang: q.lang, limit: 10})}); }
                catch (e) { out.push({error: String(e)}); }
            }
            return out;
        }""",
        queries,
    )
    assert check_labelled(outcomes, queries) == []
    assert page.evaluate("Object.keys(window).filter(k => /^Infopack/.test(k))") == ["InfopackSearch"]
    assert all(url.startswith("file://") for url in page.requested_urls), page.requested_urls
    assert page.console_errors == []


# ------------------------------------------------------------------ title suggestions (FORMAT.md 9.6)

SUGGEST_TYPED = ["ㄷㄹ", "두루ㅁ", "관ㅊ", "관차", "할", "학ㄱ", "학교ㅇ", "노동", "로도", "gar", "GARDEN G", "crane",
                 "red", "ㅎ", "m", "mar", "market", "zzz", "학교 ", "  ㄱㅊ"]  # fmt: skip


def test_suggestion_keys_and_routes_identical_in_node(tmp_path):
    from infopack.build.suggest import suggest_key, suggest_route

    texts = random_texts(400, seed=11) + SUGGEST_TYPED
    out = run_node(tmp_path, {"suggestKey": texts, "suggestRoute": texts})
    for text, key, route in zip(texts, out["suggestKey"], out["suggestRoute"]):
        assert key == suggest_key(text), repr(text)
        assert route == suggest_route(text), repr(text)


def test_a_keystroke_reads_one_suggestion_file_and_finds_what_python_reads(tmp_path):
    """The attack on speed: a keystroke that waits for several files. Each typed text reads at most
    one suggestion file (none when search would find nothing), never a search or catalog shard."""
    from infopack.build.search import plan_query
    from infopack.build.suggest import SuggestDoc, build_suggest_index, suggest_route, suggest_rows

    rng = random.Random(3)
    words = ["market", "marine", "garden", "lantern", "학교", "학생", "하늘", "하루", "두루미", "관찰", "로동"]
    docs = [SuggestDoc(f"s{i}", "ko" if i % 3 else "en", " ".join(rng.choice(words) for _ in range(rng.randint(1, 4))),
                       aliases=["Red-crowned Crane"] if i == 7 else ()) for i in range(3000)]  # fmt: skip
    index = build_suggest_index(docs)
    write_payloads(index, tmp_path)
    meta = {"version": 1, "docs": 0, "compression": "zstd", "shards": [], "suggest": index.meta}
    out = run_node(tmp_path, {"index": {"dir": str(tmp_path), "meta": meta}, "suggests": [{"q": q} for q in SUGGEST_TYPED]})
    for typed, answer in zip(SUGGEST_TYPED, out["suggests"]):
        # At most one file, none when it was read for an earlier keystroke (kept) or search finds nothing.
        assert len(answer["loaded"]) <= (1 if plan_query(typed) else 0), typed
        assert all(name.startswith(("search/s/", "search/p/")) for name in answer["loaded"]), typed
        slugs = {row[2] for row in suggest_rows(index.payloads, index.meta, suggest_route(typed))}
        got = answer["results"]
        assert len(got) <= 8 and {r["slug"] for r in got} <= slugs, typed
        if typed in ("ㄷㄹ", "두루ㅁ", "관ㅊ", "관차", "할", "학ㄱ", "노동", "로도", "gar", "GARDEN G", "mar", "market", "red"):
            assert got, typed  # titles that match are there, and a list of the best may not hide them
    assert sum(len(a["loaded"]) for a in out["suggests"]) >= 5  # files were read, and kept
    crane = out["suggests"][SUGGEST_TYPED.index("red")]["results"]
    assert crane == [{"text": "Red-crowned Crane", "slug": "s7", "lang": "ko", "title": docs[7].title}]
