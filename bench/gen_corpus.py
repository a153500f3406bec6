"""Generate a synthetic Korean + English article corpus for benchmarks.

The text is built from word lists with a Zipf-like distribution so that compression and search
behave roughly like real prose (repeated common words, a long tail of rare ones, Korean particles
attached to nouns). It is deterministic for a given seed.

    python bench/gen_corpus.py 10000 /tmp/corpus10k     # writes a content folder
"""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

KO_NOUNS = (
    "학교 역사 노동 이용 여자 양식 세계 경제 정부 사람 가족 시장 농업 기술 과학 의료 병원 교육 "
    "도시 마을 강 산 바다 나라 국경 전쟁 평화 자유 인권 신문 방송 라디오 영화 음악 책 도서관 "
    "선생님 학생 아이 어머니 아버지 친구 이웃 회사 공장 식량 쌀 옥수수 전기 기차 자동차 컴퓨터 "
    "전화 인터넷 법 재판 선거 민주주의 헌법 건강 질병 약 물 날씨 겨울 여름 봄 가을 철도 항구 "
    "무역 돈 은행 가격 임금 일자리 여행 문화 언어 한국 중국 러시아 일본 미국 유럽 세계사 과거 미래"
).split()
KO_PARTICLES = ["", "", "은", "는", "이", "가", "을", "를", "에", "에서", "의", "와", "과", "으로", "로", "도", "만"]
KO_VERBS = (
    "있습니다 없습니다 합니다 했습니다 봅니다 알려줍니다 설명합니다 배웁니다 만듭니다 바뀌었습니다 "
    "늘었습니다 줄었습니다 시작했습니다 끝났습니다 중요합니다 어렵습니다 쉽습니다 가능합니다"
).split()
KO_ADVERBS = "매우 많이 조금 함께 다시 이미 아직 자주 처음 결국 특히 오늘 지금".split()

EN_WORDS = (
    "the of and to in a is that for it as was with be by on not he this are or his from at which "
    "but have an they more one had you were her all she there would their we him been has when who "
    "will no if out so said what up its about into than them can only other new some could time "
    "these two may then do first any my now such like our over man me even most made after also "
    "did many before must through back years where much your way well down should because each just "
    "those people how too little state good very make world still own see men work long get here "
    "between both life being under never day same another know while last might us great old year "
    "off come since against go came right used take three library history science school market "
    "government family village river mountain border freedom rights newspaper radio music teacher "
    "student children mother father friend factory food rice electricity train computer telephone "
    "law court election democracy health medicine water weather winter summer railway harbour trade "
    "money bank price wages travel culture language economy technology farming hospital education"
).split()

TAGS_KO = ["역사", "경제", "과학", "건강", "문화", "세계", "생활", "기술"]
TAGS_EN = ["history", "economy", "science", "health", "culture", "world", "daily-life", "technology"]


@dataclass
class GeneratedArticle:
    slug: str
    title: str
    date: str
    lang: str
    summary: str
    tags: list[str]
    body: str  # plain-text paragraphs separated by blank lines


def _zipf_choice(rng: random.Random, words: list[str]) -> str:
    # Index ~ Zipf: small indices are much more frequent.
    index = int(len(words) * (rng.random() ** 2.2))
    return words[min(index, len(words) - 1)]


def _korean_sentence(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(3, 8)):
        parts.append(_zipf_choice(rng, KO_NOUNS) + rng.choice(KO_PARTICLES))
        if rng.random() < 0.2:
            parts.append(rng.choice(KO_ADVERBS))
    parts.append(rng.choice(KO_VERBS))
    return " ".join(parts).replace("  ", " ").rstrip() .rstrip(".") + "."


def _english_sentence(rng: random.Random) -> str:
    words = [_zipf_choice(rng, EN_WORDS) for _ in range(rng.randint(6, 18))]
    words[0] = words[0].capitalize()
    return " ".join(words) + "."


def _paragraphs(rng: random.Random, lang: str, target_bytes: int) -> str:
    sentence = _korean_sentence if lang == "ko" else _english_sentence
    paragraphs: list[str] = []
    size = 0
    while size < target_bytes:
        paragraph = " ".join(sentence(rng) for _ in range(rng.randint(2, 6)))
        paragraphs.append(paragraph)
        size += len(paragraph.encode("utf-8")) + 2
    return "\n\n".join(paragraphs)


def generate_articles(count: int, seed: int = 0) -> Iterator[GeneratedArticle]:
    """Yield `count` articles, about 60 % Korean, 2-8 KB of body text each."""
    rng = random.Random(seed)
    start = date(2020, 1, 1)
    for number in range(count):
        lang = "ko" if rng.random() < 0.6 else "en"
        if lang == "ko":
            title = " ".join(_zipf_choice(rng, KO_NOUNS) for _ in range(rng.randint(2, 4))) + "에 대하여"
            tags = rng.sample(TAGS_KO, rng.randint(1, 3))
            summary = _korean_sentence(rng)
        else:
            title = " ".join(_zipf_choice(rng, EN_WORDS[150:]) for _ in range(rng.randint(2, 5))).title()
            tags = rng.sample(TAGS_EN, rng.randint(1, 3))
            summary = _english_sentence(rng)
        body = _paragraphs(rng, lang, rng.randint(2000, 8000))
        day = start + timedelta(days=rng.randint(0, 6 * 365))
        yield GeneratedArticle(
            slug=f"a{number:06d}",
            title=title,
            date=day.isoformat(),
            lang=lang,
            summary=summary,
            tags=tags,
            body=body,
        )


def _yaml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_content_folder(count: int, out: Path, seed: int = 0) -> Path:
    """Write a content folder (infopack.toml + articles/*.txt) that `infopack build` accepts."""
    articles = out / "articles"
    articles.mkdir(parents=True, exist_ok=True)
    (out / "infopack.toml").write_text(
        f'title = "Generated corpus of {count} articles"\n'
        'description = "Synthetic benchmark content"\n'
        'lang = "ko"\nsequence = 1\nid = "bench-corpus"\n',
        encoding="utf-8",
    )
    for article in generate_articles(count, seed):
        front = [
            "---",
            f"title: {_yaml_string(article.title)}",
            f"date: {article.date}",
            f"lang: {article.lang}",
            f"summary: {_yaml_string(article.summary)}",
            "tags: [" + ", ".join(_yaml_string(t) for t in article.tags) + "]",
            "---",
            "",
        ]
        (articles / f"{article.slug}.txt").write_text("\n".join(front) + article.body + "\n", encoding="utf-8")
    return out


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: gen_corpus.py COUNT OUT_DIR")
    print(write_content_folder(int(sys.argv[1]), Path(sys.argv[2])))
