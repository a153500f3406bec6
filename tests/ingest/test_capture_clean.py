"""The plain-text capture cleaner on our own captures (tests/fixtures/captures, tests/fixtures/web/captures)
and, when present, the four real seed captures in ../shared/seeds."""

from __future__ import annotations

from pathlib import Path

import pytest

from infopack.ingest.capture import CleanedText, clean_captures
from kit.content import SEEDS  # the real captures beside the repository, when present

REPO = Path(__file__).resolve().parents[2]
CAPTURES = REPO / "tests" / "fixtures" / "captures"
WEB_CAPTURES = REPO / "tests" / "fixtures" / "web" / "captures"

CHROME_EVERYWHERE = ("Donate Now", "keep readingShow less", "Read more", "후원하기", "더 보기", "Newsletter", "뉴스레터")


def read(paths: list[Path]) -> list[tuple[Path, str]]:
    return [(path, path.read_text(encoding="utf-8")) for path in paths]


def lines_of(cleaned: CleanedText) -> set[str]:
    return {line.strip() for line in cleaned.body_text.splitlines() if line.strip()}


def batch(folder: Path, pattern: str = "*.txt") -> dict[str, CleanedText]:
    paths = sorted(folder.glob(pattern))
    return {cleaned.path.name: cleaned for cleaned in clean_captures(read(paths))}


def single(path: Path) -> CleanedText:
    [cleaned] = clean_captures(read([path]))
    return cleaned


@pytest.fixture(params=["batch", "single"])
def fixture_captures(request) -> dict[str, CleanedText]:
    if request.param == "batch":
        return batch(CAPTURES)
    return {path.name: single(path) for path in sorted(CAPTURES.glob("*.txt"))}


def test_our_four_captures_lose_their_chrome_and_keep_the_article(fixture_captures):
    river = fixture_captures["0-en-river-school.txt"]
    assert river.title == "A school on the river where children learn to read by lamplight"
    kept = lines_of(river)
    assert any(line.startswith("When the ferry stops running in the dry season") for line in kept)
    assert any(line.endswith('"When the lamp is on, they come."') for line in kept)
    for junk in ("Home", "About us", "Donate Now", "Search", "Follow us on social", "keep readingShow less", "Read more",
                 "A clinic that travels by motorbike", "Awesome! You're subscribed!", "Privacy Policy | Terms of Use | Contact | Careers"):
        assert junk not in kept
    assert not any("logo" in line.lower() for line in kept)
    assert "Donate Now" in river.lines_cut and "keep readingShow less" in river.lines_cut

    seeds = fixture_captures["1-en-seed-bank.txt"]
    assert seeds.title == "The seed bank that keeps a valley's harvest alive after the drought"
    kept = lines_of(seeds)
    assert "By Samuel Okoro and Priya Raman" in kept  # the byline stays
    assert any(line.startswith("Agricultural researchers from the capital") for line in kept)
    for junk in ("Menu", "Get Involved", "Subscribe", "LATEST", "Why the old wells are coming back", "Email address", "Sign up"):
        assert junk not in kept

    bus = fixture_captures["2-ko-library-bus.txt"]
    assert bus.title == "산골 마을을 찾아가는 이동 도서관 버스, 열 번째 겨울을 맞다"
    kept = lines_of(bus)
    assert any(line.startswith("눈이 쌓인 고갯길을 넘어") for line in kept)
    assert any(line.startswith("열 번째 겨울을 맞은 버스는") for line in kept)
    for junk in ("홈", "후원하기", "검색", "로그인", "많이 본 기사", "더 보기", "바닷가 마을 할머니들, 시집을 펴내다", "구독하기", "지역"):
        assert junk not in kept
    assert not any("로고" in line or "Copyright" in line for line in kept)

    market = fixture_captures["3-ko-winter-market.txt"]
    assert market.title == "국경 도시의 겨울 장터에서 만난 사람들, 추위 속 작은 거래의 기록"
    kept = lines_of(market)
    assert any(line.startswith("해가 기울면 상인들은") for line in kept)
    for junk in ("전체메뉴", "Donate Now", "관련 기사", "강 건너 학교로 가는 얼음길", "구독이 완료되었습니다!", "이용약관 | 개인정보처리방침 | 문의하기"):
        assert junk not in kept


def test_title_is_not_repeated_in_the_body(fixture_captures):
    for cleaned in fixture_captures.values():
        assert cleaned.title not in lines_of(cleaned)


def test_every_cut_line_is_reported_and_nothing_is_lost_silently():
    for path in sorted(CAPTURES.glob("*.txt")) + sorted(WEB_CAPTURES.glob("*.txt")):
        cleaned = single(path)
        original = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        accounted = lines_of(cleaned) | set(cleaned.lines_cut) | {cleaned.title}
        assert set(original) <= accounted, path.name


def test_site_captured_twice_in_a_batch_keeps_each_title_even_when_the_other_lists_it_as_a_teaser():
    cleaned = batch(WEB_CAPTURES, "harbor-*.txt")
    night = cleaned["harbor-1-en-night-school.txt"]
    ferry = cleaned["harbor-2-en-ferry.txt"]
    assert night.title == "Night school on the harbour wall"
    assert ferry.title == "The ferry crew who teach on the crossing"
    for item in (night, ferry):
        kept = lines_of(item)
        for junk in ("Skip to main content", "Harbor Voice", "Share", "Tweet", "Print", "More from Harbor Voice", "Support our reporting",
                     "Harbor Voice is a reader-funded newsletter from the east coast.", "© 2025 Harbor Voice"):
            assert junk not in kept
        assert not any(line.endswith("…") for line in kept)  # the teasers' excerpts
    assert any("lamps on the harbour wall stay lit" in line for line in lines_of(night))
    assert any("cook listens in" in line for line in lines_of(ferry))
    # "Share" stood between two paragraphs: the paragraph after it stays
    assert any(line.startswith('"I wanted to read the names on the boats,"') for line in lines_of(night))


def test_korean_site_batch_and_single_capture_agree():
    together = batch(WEB_CAPTURES, "maeul-*.txt")
    for name, cleaned in together.items():
        alone = single(WEB_CAPTURES / name)
        assert alone.title == cleaned.title
        assert alone.body_text == cleaned.body_text
    kimchi = together["maeul-1-ko-kimchi.txt"]
    assert kimchi.title == "할머니의 김장 달력, 마을의 겨울이 시작되는 날"
    kept = lines_of(kimchi)
    assert any(line.startswith("할머니는 내년에는 공책을") for line in kept)
    for junk in ("본문 바로가기", "마을소리", "회원가입", "공유하기", "좋아요", "댓글", "이 기사를 공유합니다", "많이 본 기사",
                 "마을소리는 독자의 후원으로 만듭니다.", "ⓒ 마을소리. 무단 전재 및 재배포 금지."):
        assert junk not in kept


def test_single_capture_of_plain_notes_is_kept_whole():
    path = WEB_CAPTURES / "plain-note-en.txt"
    cleaned = single(path)
    assert cleaned.lines_cut == []
    assert cleaned.body_text.strip() == path.read_text(encoding="utf-8").strip()
    assert cleaned.title.startswith("Notes from the ferry meeting")
    assert cleaned.notes  # says the title was taken from the first line


def test_the_same_capture_twice_in_a_batch_is_not_mistaken_for_site_chrome():
    path = CAPTURES / "0-en-river-school.txt"
    text = path.read_text(encoding="utf-8")
    first, second = clean_captures([(path, text), (path.with_name("copy.txt"), text)])
    assert first.body_text == second.body_text == single(path).body_text
    assert "two-day walk from the nearest road" in first.body_text


def test_empty_and_whitespace_captures_do_not_crash():
    empty, blank = clean_captures([(Path("empty.txt"), ""), (Path("blank.txt"), "\n \n\t\n")])
    assert empty.body_text == "" and blank.body_text == ""


def test_windows_line_endings_and_non_breaking_spaces():
    path = CAPTURES / "1-en-seed-bank.txt"
    text = path.read_text(encoding="utf-8").replace("\n", "\r\n").replace("Donate Now", "Donate\u00a0Now")
    cleaned = clean_captures([(path, text)])[0]
    assert cleaned.title == "The seed bank that keeps a valley's harvest alive after the drought"
    assert "Donate" not in cleaned.body_text and "\r" not in cleaned.body_text


# --- the real seed captures (../shared/seeds): only in the full checkout -----------------------------

needs_seeds = pytest.mark.skipif(not SEEDS.is_dir(), reason="the seed captures (shared/seeds) are absent")


def _seed(cleaned: dict[str, CleanedText], prefix: str) -> CleanedText:
    return next(item for name, item in cleaned.items() if name.startswith(prefix))


@needs_seeds
@pytest.mark.parametrize("mode", ["batch", "single"])
def test_seed_captures_lose_the_chrome_every_extractor_left_in(mode):
    paths = sorted(SEEDS.glob("*.txt"))
    cleaned = batch(SEEDS) if mode == "batch" else {path.name: single(path) for path in paths}
    for item in cleaned.values():
        kept = lines_of(item)
        for junk in CHROME_EVERYWHERE:
            assert junk not in kept, (item.path.name, junk)
        assert not any("logo for" in line.lower() for line in kept)

    link = _seed(cleaned, "000_")
    assert link.title == "North Korean Soldiers in Russia-Ukraine War"
    assert any(line.startswith("Since the end of last year, there have been multiple credible reports") for line in lines_of(link))
    assert any("Thank you for your ongoing support for this vision." in line for line in lines_of(link))
    # the next blog post (its heading and date, then its text) is not part of this article
    assert not any("Walking Forward with Brightness" in line or "dean’s list" in line for line in lines_of(link))

    quincy = _seed(cleaned, "001_")
    assert quincy.title == "North Korean soldiers in Russia: Were they ever there?"
    kept = lines_of(quincy)
    assert any(line.startswith("So, that rabbit") for line in kept)
    for junk in ("Follow us on social", "Is Rubio finally powerful enough to topple Venezuela's regime?", "Latin America",
                 "Mali in crisis: When the junta has no one left to blame but itself", "LATEST", "QIOSK"):
        assert junk not in kept
    assert quincy.title not in kept  # the capture repeats the heading

    ispi = _seed(cleaned, "002_")
    assert ispi.title == "Why Is North Korea Strengthening Its Military Alliance with Russia?"
    kept = lines_of(ispi)
    assert "TwitterFacebookInstagram" not in kept
    assert any(line.startswith("North Korea’s growing entente with Russia") for line in kept)
    assert not any("Carlos Mallo Molina" in line or "Rice, the food of the Gods." in line for line in kept)

    eunju = _seed(cleaned, "003_")
    assert eunju.title.startswith("A North Korean Defector’s Nine Year Journey to Freedom")
    kept = lines_of(eunju)
    assert any(line.startswith("I didn’t know I was hungry until I was eight years old.") for line in kept)
    assert any(line.startswith("You can help rescue more North Korean refugees") for line in kept)
    for junk in ("Give today", "39 North Koreans Now Free | Liberty In North Korea’s 2024 Annual Report", "Note from our CEO"):
        assert junk not in kept


def test_manual_page_copy_see_also_and_code_ellipsis_do_not_end_the_article():
    """The shape of a text-browser copy of a documentation page: sidebar first, a numbered heading
    with a permalink mark, "See also" and code comments ending in "..." inside the text."""
    text = "\n\n".join([
        "Table of Contents", "  • 3. Strings", "      □ 3.1. Quotes", "Previous topic", "2. Using the interpreter",
        "Navigation", "  • index", "  • next |", "━━━━━━━━━━━━━━━━━━━━",
        "3. Strings¶",
        "Strings can be written with single or double quotes, and both give the same result in the end.",
        ">>> 'doesn\\'t'  # use \\' to escape the single quote...", '"doesn\'t"',
        "See also",
        "Text Sequence Type, which describes the methods strings have, and the formatting section below it.",
        "Strings can be indexed, with the first character having index 0, and there is no separate character type.",
        "Slicing gives a substring, and the start is always included while the end is always excluded from it.",
        "Strings are immutable, so assigning to an indexed position in a string results in an error being raised.",
        "© Copyright 2001-2026, Example Foundation.",
    ])
    [cleaned] = clean_captures([(Path("strings.txt"), text)])
    assert cleaned.title == "3. Strings"
    kept = lines_of(cleaned)
    assert any(line.startswith("Strings are immutable") for line in kept)
    assert any(line.startswith("Slicing gives a substring") for line in kept)
    for junk in ("Table of Contents", "Previous topic", "Navigation", "• index", "© Copyright 2001-2026, Example Foundation."):
        assert junk not in kept


def test_navigation_row_of_a_help_page_is_not_the_title():
    text = "\n\n".join([
        "4.4. 자르기", "이전    4. 변형 도구    다음", "━━━━━━", "4.4. 자르기",
        "자르기 도구는 이미지의 가장자리를 잘라 내거나 필요 없는 부분을 없앨 때 씁니다. 모든 레이어에 함께 적용됩니다.",
        "이전    위로    다음",
    ])
    [cleaned] = clean_captures([(Path("crop.txt"), text)])
    assert cleaned.title == "4.4. 자르기"
    assert "이전" not in cleaned.body_text and "4.4. 자르기" not in cleaned.body_text
