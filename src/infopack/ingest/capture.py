"""Cleaning plain-text copies of web pages (what "select all, copy, paste into Notepad" gives).

A text capture holds the article between the site's chrome: menus, a logo strip ("The logo for
CNNA logo for ..."), calls to action ("Donate Now", "keep readingShow less", "후원하기"), and after
the article's end teasers of other articles and the footer. General extractors do not clean these
(they are built for HTML), so this module does, with rules that say why each line goes:

- lines that repeat across captures of the same site are the site's chrome (the batch signal);
- lines made only of call-to-action, menu or social words are cut wherever they stand;
- before the article heading, everything goes (menus, logo strip, search box);
- the article ends at the first call to action that closes it ("Read more", "Donate Now", "더 보기"),
  where another article's heading and date begin, or where a list of teasers (a heading, then an
  excerpt cut short with "…") starts; what follows is cut, together with a teaser that sat just
  before a closing call to action.

Every cut line is reported (`lines_cut`) so staff can see it; nothing is ever written back to the
source file.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class CleanedText:
    path: Path
    title: str
    body_text: str  # paragraphs separated by blank lines; the title is not repeated in it
    lines_cut: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# Words that make up call-to-action, menu and social lines. A line whose letters are nothing but a
# run of these (after lower-casing and dropping spaces and punctuation) is chrome: this catches
# "TwitterFacebookInstagram" and "keep readingShow less" as well as "Donate Now".
# "End" words close the article: what follows them is other articles, sign-ups and the footer.
_END_WORDS = """
keepreading showless readmore readthefullstory continuereading donatenow donate givetoday give
related relatedarticles relatedstories relatedposts latest latestnews morestories morenews
youmayalsolike youmightalsolike recommended recommendedforyou mostread mostpopular popular
trending checktheseout newsletter signupforournewsletter subscribetoournewsletter
moreon morefrom seemore viewmore loadmore nextarticle previousarticle next previous
더보기 더읽기 관련기사 관련뉴스 많이본기사 많이본뉴스 인기기사 추천기사 최신기사 최신뉴스 이전기사 다음기사
주요기사 기사목록 뉴스레터 뉴스레터신청 후원하기 후원 기부하기 정기후원 함께하기
"""
_SOFT_WORDS = """
share shareon sharethis shareonfacebook shareontwitter tweet email print comments comment
follow followus followusonsocial social subscribe subscribenow signup signin login logout register
search menu mainmenu openmenu closemenu close skiptocontent skiptomaincontent home homepage top
backtotop advertisement ad sponsored cookie cookies cookiesettings acceptcookies accept
twitter facebook instagram youtube linkedin tiktok telegram whatsapp kakaotalk kakao naver band
rss x reddit pinterest threads bluesky mastodon copylink copied link listen listentothisarticle
audio video photo photos gallery more less en ko english korean 한국어 language
awesomeyouresubscribed ohnolookslikesomethingwentwrong somethingwentwrong thankyouforsubscribing
emailaddress youremail enteryouremail signmeup join joinus
previoustopic nexttopic thispage tableofcontents contents navigation reportabug showsource index modules
이전 다음 처음으로 목차 차례
공유 공유하기 구독 구독하기 구독신청 로그인 로그아웃 회원가입 검색 메뉴 전체메뉴 홈 처음으로 맨위로 위로
광고 인쇄 스크랩 댓글 좋아요 싫어요 카카오톡 페이스북 트위터 인스타그램 유튜브 네이버 밴드 링크복사 복사
글자크기 글씨크기 확대 축소 닫기 열기 바로가기 본문바로가기 기사공유 구독이완료되었습니다
오류가발생했습니다다시시도해주세요 이메일 이메일주소 이기사를공유합니다 기사공유하기 이기사를추천합니다
"""
END_WORDS = frozenset(_END_WORDS.split())
# Closing words that also appear inside articles (a manual's "See also", "Next"): they end the
# article only when little text follows them.
WEAK_END_WORDS = frozenset("related latest latestnews recommended recommendedforyou popular trending next previous seemore viewmore "
                           "loadmore moreon".split())
SOFT_WORDS = frozenset(_SOFT_WORDS.split())
_ALL_WORDS = END_WORDS | SOFT_WORDS
_LONGEST_WORD = max(len(word) for word in _ALL_WORDS)

_MONTHS = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
DATE_PATTERN = re.compile(
    rf"\b{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\b"  # April 17, 2025
    rf"|\b\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTHS}\s+\d{{4}}\b"  # 17 April 2025
    r"|\b\d{4}[-./]\s?\d{1,2}[-./]\s?\d{1,2}\b"  # 2025-01-14, 2025.02.07
    r"|\d{4}\s*년\s*\d{1,2}\s*월\s*\d{1,2}\s*일",  # 2025년 1월 14일
    re.IGNORECASE,
)
BYLINE_PATTERN = re.compile(r"^(?:by|reporting by|written by|words by|글|기자|글·사진|사진)\s|기자\s*[|/]|^by\s*$", re.IGNORECASE)
FOOTER_PATTERN = re.compile(r"©|ⓒ|\(c\)\s*\d{4}|copyright|all rights reserved|무단\s*전재|재배포\s*금지", re.IGNORECASE)
CREDIT_PATTERN = re.compile(r"^(?:top\s+)?(?:photo|image|picture)\s+credit\b|^사진\s*[:=]", re.IGNORECASE)
# "More from Harbor Voice", "Read next: ...", "관련 기사 더보기": a short line opening the list of other articles.
END_PREFIX = re.compile(r"^(?:more from|more stories|read next|read also|also read|see also|related|you may also|you might also|"
                        r"recommended|most read|popular|관련|함께 (?:보면|볼)|추천|많이 본|인기)", re.IGNORECASE)
SENTENCE_END = tuple(".!?\"”’')…。")


def _letters(line: str) -> str:
    """Lower-cased letters and digits only: how call-to-action lines are compared."""
    return "".join(ch for ch in line.lower() if ch.isalnum())


def _made_of_words(letters: str) -> set[str] | None:
    """The chrome words that `letters` splits into exactly, or None when it does not."""
    if not letters:
        return None
    best: list[set[str] | None] = [set()] + [None] * len(letters)
    for end in range(1, len(letters) + 1):
        for start in range(max(0, end - _LONGEST_WORD), end):
            before = best[start]
            if before is not None and letters[start:end] in _ALL_WORDS:
                best[end] = before | {letters[start:end]}
                break
    return best[len(letters)]


def is_chrome_line(text: str) -> bool:
    """True when `text` is nothing but call-to-action, menu or social words ("Home", "Donate Now")."""
    return _made_of_words(_letters(text)) is not None


def _hangul_share(text: str) -> float:
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return 0.0
    return sum(1 for ch in letters if "\uac00" <= ch <= "\ud7a3") / len(letters)


def _words(line: str) -> int:
    return len(line.split())


@dataclass
class _Line:
    text: str  # stripped
    raw: str  # as in the file (indentation kept for lists)
    key: str  # how repeats are compared


def _normal_key(line: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", line).lower().split())


class _Kind:
    END = "end"  # a call to action that closes the article
    WEAK_END = "weak end"  # closes the article unless much text follows ("See also" in a manual)
    SOFT = "soft"  # a call-to-action/menu/social line: cut wherever it stands
    LOGO = "logo"
    FOOTER = "footer"
    MENU = "menu"  # "About | Contact | Privacy"
    TEXT = "text"


def _kind(line: _Line) -> str:
    text = line.text
    letters = _letters(text)
    if not letters:
        return _Kind.SOFT  # rules (━━━), lone bullets and separators
    words = _made_of_words(letters)
    if words is not None and len(text) <= 80:
        if words & END_WORDS:
            return _Kind.WEAK_END if words & END_WORDS <= WEAK_END_WORDS else _Kind.END
        return _Kind.SOFT
    if END_PREFIX.search(text) and len(text) <= 60 and not text.endswith(SENTENCE_END):
        return _Kind.WEAK_END
    lowered = text.lower()
    if ("logo" in lowered or "로고" in text) and not text.endswith(SENTENCE_END) and len(text) < 400:
        return _Kind.LOGO
    if FOOTER_PATTERN.search(text) and len(text) < 200:
        return _Kind.FOOTER
    tokens = text.lower().split()
    if len(tokens) >= 2 and len(tokens) <= 10 and (tokens[0] in NAV_WORDS and tokens[-1] in NAV_WORDS):
        return _Kind.MENU  # a navigation row: "Previous  4. Transform tools  Next"
    parts = [part.strip() for part in re.split(r"\s[|·•/]\s", text)]
    if len(parts) >= 3 and all(_words(part) <= 4 and not any(ch.isdigit() for ch in part) for part in parts):
        return _Kind.MENU
    return _Kind.TEXT


def _is_prose(text: str) -> bool:
    """A paragraph of the article, not a label, heading or menu item."""
    if _hangul_share(text) > 0.3:
        return len(text) >= 40 and (text.endswith(SENTENCE_END) or text.endswith(("다", "요")) or len(text) >= 90)
    return _words(text) >= 10 and (text.endswith(SENTENCE_END) or len(text) >= 120)


def _is_date_line(text: str) -> bool:
    return bool(DATE_PATTERN.search(text)) and len(text) <= 80


NUMBERED_HEADING = re.compile(r"^\d{1,3}(?:\.\d{1,3})*\.?\s+\w")
NAV_WORDS = frozenset("이전 다음 위로 처음으로 prev previous next up home top « » ‹ ›".split())
BULLETS = tuple("•◦▪▫□■☆★○●◆◇-*·–—>»")


def _is_headline(text: str) -> bool:
    """Long enough to be an article heading, short enough not to be a paragraph."""
    if text.startswith(BULLETS):
        return False
    text = text.rstrip("¶# ")
    if _is_date_line(text) or BYLINE_PATTERN.search(text) or len(text) > 160:
        return False
    if text.endswith((".", "…", ":", ",")) and not text.endswith("..."):
        return False
    if NUMBERED_HEADING.match(text):
        return True  # "4.4. Crop", "12. Virtual Environments"
    if _hangul_share(text) > 0.3:
        return _words(text) >= 3 and len(text) >= 10
    return _words(text) >= 4


def _is_label(text: str) -> bool:
    """A category or section label ("Europe", "지역", "Stories"): short, no sentence."""
    return _words(text) <= 2 and not text.endswith(SENTENCE_END) and not _is_date_line(text)


def _site_chrome(documents: list[list[_Line]]) -> set[str]:
    """Lines that occur in two or more different captures. Captures of the same page (most of their
    long lines shared) count once, so a page saved twice does not lose its own text."""
    # "Long" by what a line says, not its length alone: a Korean sentence is a full paragraph.
    long_lines = [{line.key for line in doc if _width(line.text) >= 80 or _is_prose(line.text)} for doc in documents]
    group = list(range(len(documents)))

    def root(index: int) -> int:
        while group[index] != index:
            index = group[index]
        return index

    for first in range(len(documents)):
        for second in range(first + 1, len(documents)):
            smaller = min(len(long_lines[first]), len(long_lines[second]))
            if smaller and len(long_lines[first] & long_lines[second]) * 2 >= smaller:
                group[root(second)] = root(first)
    seen_in: dict[str, set[int]] = {}
    for index, doc in enumerate(documents):
        for line in doc:
            seen_in.setdefault(line.key, set()).add(root(index))
    return {key for key, groups in seen_in.items() if len(groups) >= 2}


def _width(text: str) -> int:
    """How long a line reads, in Latin letters: a Hangul or CJK character carries about as much as
    two (a full Korean sentence of 70 characters is as long a line as an English one of 140), so a
    Korean text saved twice is recognised as one page like an English one."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _split_lines(text: str) -> list[_Line | None]:
    """The capture's lines; None stands for a blank line (a paragraph break)."""
    lines: list[_Line | None] = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        raw = raw.replace("\u00a0", " ").rstrip()
        stripped = raw.strip()
        text = " ".join(stripped.split())  # a text browser pads table cells with runs of spaces
        lines.append(_Line(text, raw, _normal_key(text)) if text else None)
    return lines


def clean_captures(texts: list[tuple[Path, str]]) -> list[CleanedText]:
    """Clean each capture; captures of the same site given together clean best (their shared
    lines show what the site's chrome is). Returns one CleanedText per input, in order."""
    split = [_split_lines(text) for _, text in texts]
    chrome = _site_chrome([[line for line in lines if line is not None] for lines in split]) if len(texts) > 1 else set()
    return [_clean_one(path, lines, chrome) for (path, _), lines in zip(texts, split, strict=True)]


def _clean_one(path: Path, lines: list[_Line | None], chrome: set[str]) -> CleanedText:
    numbered = [(index, line) for index, line in enumerate(lines) if line is not None]
    kinds = {index: _kind(line) for index, line in numbered}
    # Lines repeated across the site's captures are the site's own where they stand outside the
    # article or at its edges; inside it they stay (a manual repeats "Note" or "Tool options"
    # between its own paragraphs). They still count as text when finding where the article ends
    # (a teaser's heading is often another capture's title).
    repeated = {index for index, line in numbered if line.key in chrome}
    keep: dict[int, bool] = {index: kinds[index] == _Kind.TEXT for index, _ in numbered}
    notes: list[str] = []

    # 1. The heading: the first heading-like text line before the first paragraph.
    title_at: int | None = None
    first_prose: int | None = None
    repeated_heading: int | None = None  # a heading other captures list as a teaser is still this one's heading
    for index, line in numbered:
        if kinds[index] != _Kind.TEXT:
            continue
        if index in repeated:
            if _is_headline(line.text) and title_at is None:
                repeated_heading = index
            continue
        if title_at is None and _is_headline(line.text):
            title_at = index  # a heading may itself read as a sentence ("Why is ...?")
            continue
        if _is_prose(line.text):
            first_prose = index
            break
    if title_at is None and repeated_heading is not None:
        title_at = repeated_heading
    pilcrow = [index for index, line in numbered if index < (first_prose if first_prose is not None else len(lines))
               and kinds[index] == _Kind.TEXT and line.text.endswith(("¶", "#")) and not line.text.startswith(BULLETS)
               and len(line.text) > 2]
    if pilcrow:
        title_at = pilcrow[0]  # documentation generators mark headings with a permalink "¶" or "#"
    if title_at is not None:
        title = lines[title_at].text.rstrip("¶# ")  # type: ignore[union-attr]
        start = title_at + 1
    else:
        # No heading: the text starts with a paragraph (or has none); keep from the first text line.
        start = first_prose if first_prose is not None else next((i for i, _ in numbered if keep[i]), len(lines))
        first = next((line.text for i, line in numbered if i >= start and keep[i]), path.stem)
        title = _shorten(first)
        notes.append("no article heading found: title taken from the first line")
    for index, _ in numbered:
        if index < start or (index in repeated and index < (first_prose or 0)):
            keep[index] = False

    # 2. Between the heading and the first paragraph: drop labels and a repeated heading, keep
    # subtitle, byline and date.
    body_start = first_prose if first_prose is not None and first_prose >= start else start
    for index, line in numbered:
        if start <= index < body_start and keep[index]:
            if _normal_key(line.text) == _normal_key(title) or _is_label(line.text):
                keep[index] = False

    # 3. The article's end.
    end = _article_end(numbered, kinds, body_start, title)
    for index, _ in numbered:
        if index >= end:
            keep[index] = False

    # 4. Edges: site lines right after the heading; at the end, site lines and what a teaser left
    # behind (labels, photo credits).
    kept = [index for index, _ in numbered if keep[index]]
    for index in kept:
        if index not in repeated:
            break
        keep[index] = False
    kept = [index for index, _ in numbered if keep[index]]
    while kept:
        last = lines[kept[-1]]
        assert last is not None
        if kept[-1] in repeated or _is_label(last.text) or CREDIT_PATTERN.search(last.text):
            keep[kept.pop()] = False
        else:
            break

    body: list[str] = []
    for index, maybe in enumerate(lines):
        if maybe is None or not keep.get(index, False):
            if body and body[-1] != "" and maybe is None:
                body.append("")
            continue
        body.append(maybe.raw)
    body_text = "\n".join(body).strip("\n") + "\n"
    if not body_text.strip():
        body_text = ""
    cut = [line.text for index, line in numbered if not keep[index] and index != title_at]
    return CleanedText(path=path, title=title, body_text=body_text, lines_cut=cut, notes=notes)


def _article_end(numbered: list[tuple[int, _Line]], kinds: dict[int, str], body_start: int, title: str) -> int:
    """Index of the first line after the article: a closing call to action, the heading and date of
    another article, or the first of a list of teasers. A teaser just before a closing call to action goes too."""
    prose_seen = 0
    body = [(index, line) for index, line in numbered if index >= body_start]
    for position, (index, line) in enumerate(body):
        kind = kinds[index]
        if prose_seen and kind == _Kind.END:
            return _teaser_start(body[:position], kinds, index)
        if prose_seen and kind == _Kind.WEAK_END:
            after = sum(1 for other_index, other in body[position + 1:]
                        if kinds[other_index] == _Kind.TEXT and _is_prose(other.text) and not other.text.endswith(("…", "...")))
            if after < 3:
                return _teaser_start(body[:position], kinds, index)
        if kind == _Kind.TEXT and prose_seen >= 2 and len(line.text) <= 160 and not line.text.endswith(("…", "...")):
            following = [other.text for other_index, other in body[position + 1:position + 4] if kinds[other_index] == _Kind.TEXT]
            if _is_headline(line.text) and any(_is_date_line(text) and len(text) <= 40 for text in following[:2]):
                return index  # another article's heading and date: the list of other posts
            if following and _is_excerpt(following[0]) and _is_headline(line.text):
                return _list_heading(body[:position], kinds, index)  # a teaser: heading, then an excerpt cut short
        if kind == _Kind.TEXT and _is_prose(line.text):
            prose_seen += 1
    return (numbered[-1][0] + 1) if numbered else 0


def _is_excerpt(text: str) -> bool:
    """A teaser's excerpt: a sentence cut short with an ellipsis (not a code comment ending in "...")."""
    return (text.endswith(("…", "...")) and len(text) <= 300 and _words(text) >= 4
            and not text.startswith(("//", "#", ">>>", "...", "/*", "--", "$")) and not re.search(r"[{}();=]\s*$|[{};]", text))


def _list_heading(before: list[tuple[int, _Line]], kinds: dict[int, str], start: int) -> int:
    """Where a list of teasers begins: a short label just above the first one ("More from ...")."""
    for index, line in reversed(before):
        if kinds[index] != _Kind.TEXT:
            continue
        if _words(line.text) <= 6 and not line.text.endswith(SENTENCE_END) and not _is_prose(line.text):
            return index
        break
    return start


def _teaser_start(before: list[tuple[int, _Line]], kinds: dict[int, str], end: int) -> int:
    """Where a teaser of another article starts, when the lines just before a closing call to action
    are one: a heading followed by at most three short paragraphs (or an excerpt ending in "…")."""
    text = [(index, line) for index, line in before if kinds[index] == _Kind.TEXT]
    if len(text) < 4:
        return end
    last_index, last = text[-1]
    if last.text.endswith(("…", "...")):
        heading = text[-2][0]
        label = text[-3]
        return label[0] if _is_label(label[1].text) else heading
    paragraphs = 0
    for position in range(len(text) - 1, max(len(text) - 6, 0), -1):
        index, line = text[position]
        if _is_prose(line.text):
            paragraphs += 1
            if paragraphs > 3:
                return end
            continue
        if _is_headline(line.text) and paragraphs >= 1:
            prose_before = sum(1 for _, other in text[:position] if _is_prose(other.text))
            return index if prose_before >= 3 else end
    return end


def _shorten(text: str, limit: int = 80) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:") + "…"
