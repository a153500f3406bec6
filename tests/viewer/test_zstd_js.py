"""The viewer's JavaScript zstd decoder (src/infopack/build/viewer/zstd.js) against real zstd frames.

Frames come from the python `zstandard` library (libzstd). The bulk of the cases run in one node
process (tests/js/zstd_cases.js) for speed; one test runs the decoder in real headless Chromium from
a file:// page, the way the viewer loads it.
"""

from __future__ import annotations

import base64
import functools
import json
import random
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import zstandard

ROOT = Path(__file__).resolve().parents[2]
DECODER = ROOT / "src" / "infopack" / "build" / "viewer" / "zstd.js"
NODE_RUNNER = ROOT / "tests" / "js" / "zstd_cases.js"

KB = 1024
MB = 1024 * 1024

# ---------------------------------------------------------------------------------------------
# Sample data: deterministic, so a failure reproduces.

KOREAN_WORDS = (
    "학교 학교에 한국 조선 로동 노동 력사 역사 리용 이용 도서관 책 읽기 안전 카드 확인 서명 "
    "사람 마을 강 산 바다 하늘 오늘 내일 어제 우리 나라 세계 과학 기술 음악 영화 뉴스 기사 "
    "평양 서울 자유 정보 컴퓨터 파일 열기 닫기 검색 목록 그림 소리 동영상"
).split()
KOREAN_ENDINGS = ("입니다.", "습니다.", "이다.", "에서", "으로", "의", "를", "는", "와", "도")
ENGLISH_WORDS = (
    "the library card reader offline bundle article signature verify partner safe open file "
    "history science music river mountain village school news search index page title"
).split()


def korean_text(size: int, seed: int = 1) -> bytes:
    rng = random.Random(seed)
    parts: list[str] = []
    length = 0
    while length < size:
        word = rng.choice(KOREAN_WORDS) + rng.choice(KOREAN_ENDINGS)
        parts.append(word)
        length += len(word.encode()) + 1
    return " ".join(parts).encode()[:size]


def html_text(size: int, seed: int = 2) -> bytes:
    """HTML-like article text mixing Korean and English, as the bundle's article fragments are."""
    rng = random.Random(seed)
    chunks: list[bytes] = []
    length = 0
    while length < size:
        heading = " ".join(rng.choice(ENGLISH_WORDS) for _ in range(rng.randint(2, 5)))
        body_en = " ".join(rng.choice(ENGLISH_WORDS) for _ in range(rng.randint(10, 40)))
        body_ko = korean_text(rng.randint(40, 300), seed=rng.randint(0, 1 << 30)).decode(errors="ignore")
        chunk = (
            f'<h2 id="s{length}">{heading}</h2>\n<p>{body_en}.</p>\n'
            f'<p class="ko">{body_ko}</p>\n<a href="#/a/article-{rng.randint(1, 999)}">{heading}</a>\n'
        ).encode()
        chunks.append(chunk)
        length += len(chunk)
    return b"".join(chunks)[:size]


def random_bytes(size: int, seed: int = 3) -> bytes:
    return random.Random(seed).randbytes(size)


def repetitive_bytes(size: int, seed: int = 4) -> bytes:
    """Long runs of one byte (RLE blocks) broken by a few short patterns."""
    rng = random.Random(seed)
    out = bytearray()
    while len(out) < size:
        out += bytes([rng.randint(0, 255)]) * rng.randint(1, 300_000)
        out += b"abcabcabc" * rng.randint(0, 5)
    return bytes(out[:size])


KINDS = {"ko": korean_text, "html": html_text, "random": random_bytes, "rep": repetitive_bytes}


@dataclass(frozen=True)
class Case:
    """One decode: `frame` (with `dict_bytes` if any) must give `data`, or must fail."""

    name: str
    data: bytes | None
    frame: bytes
    dict_bytes: bytes | None = None


def compress(data: bytes, level: int, **options: object) -> bytes:
    return zstandard.ZstdCompressor(level=level, **options).compress(data)


def streamed(data: bytes, level: int, chunk: int = 50_000) -> bytes:
    """A frame written in pieces without a known size: no content size, windowed, many blocks."""
    compressor = zstandard.ZstdCompressor(level=level)
    pieces = compressor.compressobj()
    out = [pieces.compress(data[i : i + chunk]) for i in range(0, len(data), chunk)]
    out.append(pieces.flush())
    return b"".join(out)


ALL_LEVELS = [-7, -1, *range(1, 23)]


def level_cases() -> list[Case]:
    cases = []
    for level in ALL_LEVELS:
        for kind in ("ko", "html"):
            data = KINDS[kind](64 * KB, seed=level + 100)
            cases.append(Case(f"{kind}-64k-l{level}", data, compress(data, level)))
        small = html_text(1500, seed=level)
        cases.append(Case(f"html-small-l{level}", small, compress(small, level)))
    return cases


def size_cases() -> list[Case]:
    cases = []
    for kind, maker in KINDS.items():
        for size in (0, 1, 7, 300):
            for level in (1, 19):
                data = maker(size)
                cases.append(Case(f"{kind}-{size}b-l{level}", data, compress(data, level)))
    for kind in ("ko", "random", "rep"):
        for level in (1, 3, 9, 19):
            data = KINDS[kind](1 * MB)
            cases.append(Case(f"{kind}-1m-l{level}", data, compress(data, level)))
    four = html_text(4 * MB, seed=9)
    for level in (1, 3, 12):
        cases.append(Case(f"html-4m-l{level}", four, compress(four, level)))
    noise = random_bytes(4 * MB)
    cases.append(Case("random-4m-l3", noise, compress(noise, 3)))
    return cases


def option_cases() -> list[Case]:
    text = html_text(300 * KB, seed=21)
    cases = [
        Case("no-content-size-l1", text, compress(text, 1, write_content_size=False)),
        Case("no-content-size-l19", text, compress(text, 19, write_content_size=False)),
        Case("checksum-l3", text, compress(text, 3, write_checksum=True)),
        *(
            Case(f"checksum-{size}b", data, compress(data, 1, write_checksum=True))
            for size in (0, 1, 3, 4, 5, 8, 12, 31, 32, 33, 39, 63, 64, 77)
            for data in [random_bytes(size, seed=size)]
        ),
        Case("checksum-no-size-l19", text, compress(text, 19, write_checksum=True, write_content_size=False)),
        Case("streamed-l3", text, streamed(text, 3)),
        Case("streamed-l19", text, streamed(text, 19)),
    ]
    # A 1 KiB window: every block is at most 1 KiB and offsets stay within it.
    small_window = zstandard.ZstdCompressionParameters.from_level(19, window_log=10)
    cases.append(Case("window-1k", text, zstandard.ZstdCompressor(compression_params=small_window).compress(text)))
    # Long-distance matching with a large window over repeated megabyte-sized content.
    far = random_bytes(600 * KB, seed=5)
    long_text = far + html_text(200 * KB) + far
    ldm = zstandard.ZstdCompressionParameters.from_level(19, window_log=23, enable_ldm=True)
    cases.append(Case("long-distance", long_text, zstandard.ZstdCompressor(compression_params=ldm).compress(long_text)))
    # Several frames, with a skippable frame between them, decode to their concatenation.
    parts = [html_text(5000, seed=31), korean_text(70_000, seed=32), b"", random_bytes(1000)]
    frames = [compress(part, level) for part, level in zip(parts, (1, 19, 3, 9))]
    skippable = (0x184D2A53).to_bytes(4, "little") + (5).to_bytes(4, "little") + b"skip!"
    concatenated = frames[0] + skippable + b"".join(frames[1:])
    cases.append(Case("multi-frame", b"".join(parts), concatenated))
    return cases


def hangul_noise(size: int, seed: int = 6) -> bytes:
    """Random Hangul syllables: Huffman-friendly literals with hardly any matches, so blocks
    carry large compressed literal sections (the 18-bit size headers)."""
    rng = random.Random(seed)
    text = "".join(chr(0xAC00 + int(11172 * rng.random() ** 3)) if rng.random() < 0.85 else " " for _ in range(size // 3))
    return text.encode()[:size]


def z_separated_copies(seed: int = 8) -> bytes:
    """128 KiB of random bytes, then equal-length copies of pieces of it, each followed by one 'Z'.
    Every literal of the later blocks is 'Z' (RLE literals) and every match has the same length
    and literal length (RLE sequence tables)."""
    rng = random.Random(seed)
    noise = rng.randbytes(128 * KB)
    pieces = []
    for _ in range(6000):
        at = rng.randrange(0, len(noise) - 60)
        pieces.append(noise[at : at + 40] + b"Z")
    return noise + b"".join(pieces)


def mode_cases() -> list[Case]:
    """Inputs chosen to reach rarer parts of the format (checked with an instrumented decoder)."""
    hangul = hangul_noise(400 * KB)
    copies = z_separated_copies()
    cases = [Case(f"hangul-noise-l{level}", hangul, compress(hangul, level)) for level in (1, 9, 19)]
    cases += [Case(f"z-copies-l{level}", copies, compress(copies, level)) for level in (1, 3, 19)]
    return cases


def long_offset_case() -> Case:
    """A repeat 34 MB back: offset codes above 24 bits, which the decoder reads in two parts."""
    noise = random_bytes(1 * MB, seed=11)
    data = noise + bytes(33 * MB) + noise
    params = zstandard.ZstdCompressionParameters.from_level(1, window_log=27, enable_ldm=True)
    return Case("long-offset-34m", data, zstandard.ZstdCompressor(compression_params=params).compress(data))


@functools.cache
def article_samples(count: int, seed: int = 40) -> tuple[bytes, ...]:
    rng = random.Random(seed)
    return tuple(html_text(rng.randint(1500, 8000), seed=rng.randint(0, 1 << 30)) for _ in range(count))


@functools.cache
def trained_dictionary(size: int, count: int, seed: int = 40) -> zstandard.ZstdCompressionDict:
    return zstandard.train_dictionary(size, list(article_samples(count, seed)), level=19)


def dictionary_cases() -> list[Case]:
    samples = article_samples(400)
    trained = trained_dictionary(32 * KB, 400)
    raw_dict_bytes = html_text(20 * KB, seed=77)
    raw_dict = zstandard.ZstdCompressionDict(raw_dict_bytes, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
    cases = []
    for level in (1, 3, 9, 19, 22):
        for index in (0, 7, 123):
            article = samples[index]
            with_id = zstandard.ZstdCompressor(level=level, dict_data=trained).compress(article)
            without_id = zstandard.ZstdCompressor(
                level=level, dict_data=trained, write_dict_id=False, write_checksum=False, write_content_size=True
            ).compress(article)
            cases.append(Case(f"dict-id-l{level}-{index}", article, with_id, trained.as_bytes()))
            cases.append(Case(f"dict-noid-l{level}-{index}", article, without_id, trained.as_bytes()))
        raw = zstandard.ZstdCompressor(level=level, dict_data=raw_dict).compress(raw_dict_bytes[5000:9000] + samples[1])
        cases.append(Case(f"dict-raw-l{level}", raw_dict_bytes[5000:9000] + samples[1], raw, raw_dict_bytes))
    big = html_text(400 * KB, seed=41)
    cases.append(Case("dict-big-l19", big, zstandard.ZstdCompressor(level=19, dict_data=trained).compress(big), trained.as_bytes()))
    # A text pack as the bundle writes it: per-article frames end to end, each starting afresh
    # from the dictionary, so decoding the whole pack gives the articles in order.
    bundle_style = zstandard.ZstdCompressor(
        level=19, dict_data=trained, write_dict_id=False, write_checksum=False, write_content_size=True
    )
    pack = samples[200:240]
    cases.append(Case("dict-pack", b"".join(pack), b"".join(bundle_style.compress(a) for a in pack), trained.as_bytes()))
    return cases


def bad_dictionary_cases() -> list[Case]:
    samples = article_samples(400)
    trained = trained_dictionary(32 * KB, 400).as_bytes()
    other = trained_dictionary(16 * KB, 200, seed=90)
    frame = zstandard.ZstdCompressor(level=3, dict_data=zstandard.ZstdCompressionDict(trained)).compress(samples[0])
    garbage_tables = trained[:8] + bytes(range(256)) * 4
    return [
        Case("bad-dict-truncated", None, frame, trained[:100]),
        Case("bad-dict-garbage-tables", None, frame, garbage_tables),
        Case("bad-dict-wrong-id", None, frame, other.as_bytes()),
    ]


def malformed_cases() -> list[Case]:
    text = html_text(20_000, seed=50)
    good = compress(text, 19)
    checksummed = compress(text, 19, write_checksum=True)
    # Random bytes are stored as a raw block, so a changed byte still decodes: only the checksum
    # can tell.
    raw_block_checksummed = compress(random_bytes(5000), 3, write_checksum=True)
    return [
        Case("bad-empty", None, b""),
        Case("bad-magic", None, b"\x00\x01\x02\x03" + good[4:]),
        Case("bad-truncated-header", None, good[:5]),
        Case("bad-truncated-half", None, good[: len(good) // 2]),
        Case("bad-truncated-last-byte", None, good[:-1]),
        Case("bad-trailing-garbage", None, good + b"\x01\x02"),
        Case("bad-reserved-block", None, good[:6] + bytes([good[6] | 0b110]) + good[7:]),
        Case("bad-checksum", None, checksummed[:-1] + bytes([checksummed[-1] ^ 0x40])),
        Case("bad-content-under-checksum", None, raw_block_checksummed[:-8] + b"X" + raw_block_checksummed[-7:]),
        Case("bad-dict-missing", None, zstandard.ZstdCompressor(
            level=3, dict_data=trained_dictionary(16 * KB, 200, seed=90)).compress(text)),
    ]


@functools.cache
def all_cases() -> list[Case]:
    return (
        level_cases() + size_cases() + option_cases() + mode_cases() + [long_offset_case()]
        + dictionary_cases() + malformed_cases() + bad_dictionary_cases()
    )


FUZZ_ROUNDS = 400


# ---------------------------------------------------------------------------------------------
# One node run for every case; tests then look up their own result.


@pytest.fixture(scope="module")
def node_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Case], dict[str, dict]]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    work = tmp_path_factory.mktemp("zstd-cases")
    cases = {case.name: case for case in all_cases()}
    manifest: list[dict] = []
    dict_files: dict[bytes, str] = {}
    for index, case in enumerate(cases.values()):
        entry = {"name": case.name, "input": str(work / f"{index}.zst")}
        Path(entry["input"]).write_bytes(case.frame)
        if case.dict_bytes is not None:
            if case.dict_bytes not in dict_files:
                dict_path = work / f"dict{len(dict_files)}.bin"
                dict_path.write_bytes(case.dict_bytes)
                dict_files[case.dict_bytes] = str(dict_path)
            entry["dict"] = dict_files[case.dict_bytes]
        if case.data is not None:
            entry["expected"] = str(work / f"{index}.out")
            Path(entry["expected"]).write_bytes(case.data)
        manifest.append(entry)
        if case.data is not None and case.frame and len(case.frame) < 200_000:
            manifest.append({**entry, "name": "fuzz:" + case.name, "fuzz": FUZZ_ROUNDS // 8, "seed": index + 1})
        if case.name == "dict-noid-l19-7":
            manifest.append({**entry, "name": "fuzzdict:" + case.name, "fuzz": FUZZ_ROUNDS, "seed": 99, "fuzzDict": True})
    manifest_path = work / "manifest.json"
    manifest_path.write_text(json.dumps(manifest))
    finished = subprocess.run(
        [node, str(NODE_RUNNER), str(manifest_path)], capture_output=True, text=True, timeout=300, check=False
    )
    assert finished.returncode == 0, finished.stderr
    return cases, json.loads(finished.stdout)


CASE_NAMES = [case.name for case in all_cases()]


@pytest.mark.parametrize("name", [n for n in CASE_NAMES if not n.startswith("bad-")])
def test_decodes_to_original(node_run, name: str) -> None:
    cases, results = node_run
    result = results[name]
    assert result["ok"], result.get("error")
    assert result["length"] == len(cases[name].data)
    assert result["equal"]


@pytest.mark.parametrize("name", [n for n in CASE_NAMES if n.startswith("bad-")])
def test_malformed_input_throws_zstd_error(node_run, name: str) -> None:
    _, results = node_run
    result = results[name]
    assert not result["ok"], f"{name} decoded instead of failing"
    assert result["kind"] == "Error"
    assert result["error"].startswith("zstd: ")


def test_corrupted_frames_throw_clean_errors_or_decode(node_run) -> None:
    """Thousands of corrupted frames: each either decodes or throws `Error("zstd: ...")` - never a
    TypeError/RangeError, a hang (the node run has a timeout) or a silent out-of-bounds access."""
    _, results = node_run
    fuzzed = {name: r for name, r in results.items() if name.startswith("fuzz:")}
    assert len(fuzzed) > 50
    bad = {name: r["firstBad"] for name, r in fuzzed.items() if r["bad"]}
    assert not bad, bad
    assert sum(r["rejected"] for r in fuzzed.values()) > 0.5 * sum(FUZZ_ROUNDS // 8 for _ in fuzzed)


def test_checksum_frames_never_decode_corrupted(node_run) -> None:
    # XXH64 is verified: every corruption of a frame that carries a checksum is rejected.
    _, results = node_run
    for name in ("fuzz:checksum-l3", "fuzz:checksum-no-size-l19"):
        assert results[name]["decoded"] == 0, results[name]
        assert results[name]["rejected"] == FUZZ_ROUNDS // 8


def test_corrupted_dictionaries_throw_clean_errors_or_decode(node_run) -> None:
    _, results = node_run
    result = results["fuzzdict:dict-noid-l19-7"]
    assert result["bad"] == 0, result["firstBad"]
    assert result["rejected"] > 0


def test_rejects_frame_needing_another_dictionary(node_run) -> None:
    _, results = node_run
    # A frame that names its dictionary in the header must not decode without it, or with another.
    assert results["bad-dict-missing"]["error"].startswith("zstd: frame needs dictionary")
    assert results["bad-dict-wrong-id"]["error"].startswith("zstd: frame needs dictionary")


# ---------------------------------------------------------------------------------------------
# Real Chromium, file:// page, classic script: what the viewer does.


@pytest.mark.browser
def test_decodes_in_chromium_from_file_url(page, tmp_path: Path) -> None:
    samples = article_samples(200, seed=60)
    trained = trained_dictionary(16 * KB, 200, seed=60)
    article = samples[5]
    dict_frame = zstandard.ZstdCompressor(
        level=19, dict_data=trained, write_dict_id=False, write_checksum=False, write_content_size=True
    ).compress(article)
    big = html_text(300 * KB, seed=61)
    big_frame = compress(big, 19)
    shutil.copy(DECODER, tmp_path / "zstd.js")
    payload = {
        "dict": base64.b64encode(trained.as_bytes()).decode(),
        "dictFrame": base64.b64encode(dict_frame).decode(),
        "bigFrame": base64.b64encode(big_frame).decode(),
    }
    (tmp_path / "data.js").write_text("var testData = " + json.dumps(payload) + ";\n")
    (tmp_path / "index.html").write_text(
        "<!doctype html><meta charset=utf-8>"
        "<script src='zstd.js'></script><script src='data.js'></script>"
    )
    page.goto((tmp_path / "index.html").as_uri())
    decoded = page.evaluate(
        """() => {
        const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const dict = InfopackZstd.prepareDictionary(bytes(testData.dict));
        const text = new TextDecoder().decode(InfopackZstd.decompress(bytes(testData.dictFrame), dict));
        const big = new TextDecoder().decode(InfopackZstd.decompress(bytes(testData.bigFrame)));
        const errorOf = (f) => { try { f(); return null; } catch (e) { return e.message; } };
        const error = errorOf(() => InfopackZstd.decompress(bytes(testData.bigFrame).subarray(0, 100)));
        const misuse = [
            errorOf(() => InfopackZstd.decompress('not bytes')),
            errorOf(() => InfopackZstd.decompress(bytes(testData.dictFrame), {content: new Uint8Array(4)})),
        ];
        const globals = Object.keys(window).filter((k) => k.startsWith('Infopack'));
        return {text, big, error, misuse, globals};
    }"""
    )
    assert decoded["text"] == article.decode()
    assert decoded["big"] == big.decode()
    assert decoded["error"].startswith("zstd: ")
    assert all(message.startswith("zstd: ") for message in decoded["misuse"]), decoded["misuse"]
    assert decoded["globals"] == ["InfopackZstd"]
    assert all(url.startswith("file:") for url in page.requested_urls)
    assert page.console_errors == []


FIREFOX = "/usr/bin/firefox-esr"


@pytest.mark.browser
def test_decodes_in_firefox_from_file_url(tmp_path: Path) -> None:
    """SpiderMonkey too (Firefox ESR, the other baseline browser). Playwright cannot drive Debian's
    Firefox, so the page paints one band per case, green when the case decoded exactly and red
    otherwise, and a headless screenshot is read back pixel by pixel."""
    if not Path(FIREFOX).exists():
        pytest.skip("Debian firefox-esr is not installed")
    Image = pytest.importorskip("PIL.Image")
    samples = article_samples(200, seed=70)
    trained = trained_dictionary(16 * KB, 200, seed=70)
    bundle_style = zstandard.ZstdCompressor(level=19, dict_data=trained, write_dict_id=False)
    text = korean_text(200 * KB, seed=71) + html_text(100 * KB, seed=72)
    cases = [
        (samples[3], bundle_style.compress(samples[3]), True),
        (text, compress(text, 19, write_checksum=True), False),
        (text, compress(text, 1, write_content_size=False), False),
        (random_bytes(70_000), compress(random_bytes(70_000), 3), False),
        (repetitive_bytes(300_000), compress(repetitive_bytes(300_000), 19), False),
    ]
    shutil.copy(DECODER, tmp_path / "zstd.js")
    payload = {
        "dict": base64.b64encode(trained.as_bytes()).decode(),
        "cases": [
            {"data": base64.b64encode(data).decode(), "frame": base64.b64encode(frame).decode(), "dict": uses_dict}
            for data, frame, uses_dict in cases
        ],
    }
    (tmp_path / "data.js").write_text("var testData = " + json.dumps(payload) + ";\n")
    (tmp_path / "index.html").write_text(
        """<!doctype html><meta charset=utf-8><body style="margin:0">
<script src="zstd.js"></script><script src="data.js"></script><script>
function bytes(b64) { var s = atob(b64), o = new Uint8Array(s.length); for (var i = 0; i < s.length; i++) o[i] = s.charCodeAt(i); return o; }
var dict = InfopackZstd.prepareDictionary(bytes(testData.dict));
testData.cases.forEach(function (c) {
  var ok;
  try {
    var out = InfopackZstd.decompress(bytes(c.frame), c.dict ? dict : undefined), want = bytes(c.data);
    ok = out.length === want.length;
    for (var i = 0; ok && i < want.length; i++) if (out[i] !== want[i]) ok = false;
  } catch (e) { ok = false; }
  var band = document.createElement('div');
  band.style.cssText = 'height:20px;background:' + (ok ? '#00ff00' : '#ff0000');
  document.body.appendChild(band);
});
</script>"""
    )
    profile = tmp_path / "profile"
    profile.mkdir()
    shot = tmp_path / "shot.png"
    subprocess.run(
        [FIREFOX, "--headless", "--no-remote", "--profile", str(profile), "--screenshot", str(shot),
         "--window-size", "120,200", (tmp_path / "index.html").as_uri()],
        capture_output=True, timeout=120, check=False,
    )
    assert shot.exists(), "firefox did not write a screenshot"
    image = Image.open(shot).convert("RGB")
    bands = [image.getpixel((60, 10 + 20 * index)) for index in range(len(cases))]
    assert bands == [(0, 255, 0)] * len(cases), bands

