"""Extraction quality and speed of `infopack import` on real pages nobody here wrote (issue 12).

    nice -n 10 unshare -rn .venv/bin/python bench/extract_quality.py [CACHE]   # CACHE: /tmp/infopack-corpora

Labelled set: 32 real HTML pages from three documentation sites Debian ships, each with its own chrome
(headers, navigation bars and sidebars in plain <div>s/tables, footers):
- 12 pages of the Python 3.11 docs (`python3.11-doc`, English, Sphinx),
- 12 pages of the GIMP manual in Korean (`gimp-help-ko`, DocBook; partly translated),
- 8 pages of the Node.js API docs (`/usr/share/doc/nodejs/api`, English; installed with nodejs).
How they are labelled (the site's own markup is the ground truth, so no one here chose the words):
main text = Sphinx `div[role=main]` / DocBook `<body>` minus `navheader`/`navfooter` / Node's
`#apicontent`, without permalink marks (¶, #); title = the main heading (Sphinx h1, DocBook
<title>, Node's first h2 in #apicontent); date = the "Last updated on" date the Python pages state
(the others state none, so the right answer there is no date).

Measured per extractor: precision and recall of the main text's words (bags of lower-cased \\w+
words, the title's words counted as part of the text for everyone), title correct, date correct,
pages/second. Side by side: ours (`read_pages` on the whole batch, and page by page), trafilatura
alone, readability-lxml, newspaper4k. Then the plain-text capture cleaner: on text copies of the
same pages made with `w3m -dump` (a browser's "select all, copy"), and on the four seed captures
(../shared/seeds) with hand-labelled article lines. Run it under `unshare -rn` to show that nothing
needs the network.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
import warnings
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from lxml import html as lxml_html

warnings.filterwarnings("ignore")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from infopack.ingest.capture import clean_captures  # noqa: E402
from infopack.ingest.model import ImportedArticle, ImportOptions  # noqa: E402
from infopack.ingest.web import read_pages  # noqa: E402

PYTHON_DOCS = "python3.11-doc-unpacked/usr/share/doc/python3.11/html"
GIMP_KO = "gimp-help-ko-unpacked/usr/share/gimp/2.0/help/ko"
NODE_API = Path("/usr/share/doc/nodejs/api")
SEEDS = HERE.parent.parent / "shared" / "seeds"
if not SEEDS.is_dir():
    SEEDS = Path("/work/shared/seeds")
PYTHON_PAGES = [
    "tutorial/introduction.html", "tutorial/controlflow.html", "tutorial/errors.html", "tutorial/classes.html",
    "tutorial/venv.html", "library/json.html", "library/pathlib.html", "library/zipfile.html", "library/gzip.html",
    "library/secrets.html", "howto/sorting.html", "faq/general.html",
]
NODE_PAGES = ["path.html", "timers.html", "console.html", "os.html", "dgram.html", "readline.html", "tty.html", "domain.html"]
WORD = re.compile(r"\w+")
MONTH_DATE = re.compile(r"Last updated on ([A-Z][a-z]+ \d{1,2}, \d{4})")


@dataclass
class Label:
    path: Path
    site: str
    title: str
    words: Counter[str]
    date: date | None


@dataclass
class Guess:
    title: str
    text: str
    date: date | None


def words(text: str) -> Counter[str]:
    return Counter(WORD.findall(text.lower()))


def clean(text: str) -> str:
    return " ".join(text.replace("¶", " ").split())


def drop(tree: lxml_html.HtmlElement, xpath: str) -> None:
    for element in tree.xpath(xpath):
        element.drop_tree()


def label_python(path: Path) -> Label:
    tree = lxml_html.parse(str(path)).getroot()
    [main] = tree.xpath("//div[@role='main']")
    drop(main, ".//a[@class='headerlink']")
    title = clean(main.xpath(".//h1")[0].text_content())
    stated = MONTH_DATE.search(tree.text_content())
    when = date.fromisoformat(time.strftime("%Y-%m-%d", time.strptime(stated.group(1), "%B %d, %Y"))) if stated else None
    return Label(path, "python", title, words(main.text_content()), when)


def label_gimp(path: Path) -> Label:
    tree = lxml_html.parse(str(path)).getroot()
    body = tree.find("body")
    drop(body, ".//div[@class='navheader'] | .//div[@class='navfooter']")
    return Label(path, "gimp-ko", clean(tree.findtext(".//title") or ""), words(body.text_content()), None)


def label_node(path: Path) -> Label:
    tree = lxml_html.parse(str(path)).getroot()
    [main] = tree.xpath("//div[@id='apicontent']")
    drop(main, ".//a[@class='mark']")
    return Label(path, "node", clean(main.xpath(".//h2")[0].text_content()), words(main.text_content()), None)


def labelled_set(cache: Path) -> list[Label]:
    labels = [label_python(cache / PYTHON_DOCS / name) for name in PYTHON_PAGES]
    gimp = sorted(p for p in (cache / GIMP_KO).glob("gimp-tool-*.html") if 4_000 < p.stat().st_size < 60_000)
    labels += [label_gimp(path) for path in gimp[:: max(1, len(gimp) // 12)][:12]]
    labels += [label_node(NODE_API / name) for name in NODE_PAGES if (NODE_API / name).exists()]
    return labels


# --- extractors -------------------------------------------------------------------------------------


def with_title(title: str, text: str) -> str:
    """Everyone is scored on title + text; a tool whose text already starts with its title is not
    given the title twice."""
    return text if clean(title).lower() in clean(text[:400]).lower() else f"{title}\n{text}"


def run_ours(labels: list[Label], batch: bool) -> dict[Path, Guess]:
    found: list[ImportedArticle] = []
    groups = [[label.path for label in labels]] if batch else [[label.path] for label in labels]
    for group in groups:
        found += [item for item in read_pages(group, ImportOptions(today=date(2030, 1, 1))) if isinstance(item, ImportedArticle)]
    guesses = {}
    for article in found:
        # the body's blocks are separate paragraphs: join their text with spaces (text_content()
        # would glue "names" and "The" of two list items into one word)
        text = " ".join(lxml_html.fromstring(f"<div>{article.body}</div>").itertext()) if article.body.strip() else ""
        guesses[article.source] = Guess(article.title, with_title(article.title, text), article.date)
    return guesses


def _iso(found: str | None) -> date | None:
    try:
        return date.fromisoformat(found[:10]) if found else None
    except ValueError:
        return None


def run_trafilatura(labels: list[Label]) -> dict[Path, Guess]:
    import trafilatura

    guesses = {}
    for label in labels:
        html = label.path.read_text(encoding="utf-8", errors="replace")
        text = trafilatura.extract(html) or ""
        metadata = trafilatura.extract_metadata(html)
        title = metadata.title if metadata is not None and metadata.title else ""
        guesses[label.path] = Guess(title, with_title(title, text), _iso(metadata.date if metadata is not None else None))
    return guesses


def run_readability(labels: list[Label]) -> dict[Path, Guess]:
    from readability import Document

    guesses = {}
    for label in labels:
        document = Document(label.path.read_text(encoding="utf-8", errors="replace"))
        text = lxml_html.fromstring(document.summary(html_partial=True)).text_content()
        title = document.short_title() or ""
        guesses[label.path] = Guess(title, with_title(title, text), None)
    return guesses


def run_newspaper(labels: list[Label]) -> dict[Path, Guess]:
    from newspaper import Article

    guesses = {}
    for label in labels:
        article = Article(url="http://localhost/page.html", fetch_images=False)
        article.download(input_html=label.path.read_text(encoding="utf-8", errors="replace"))
        article.parse()
        published = article.publish_date.date() if article.publish_date else None
        guesses[label.path] = Guess(article.title or "", with_title(article.title or "", article.text or ""), published)
    return guesses


# --- scoring ----------------------------------------------------------------------------------------


@dataclass
class Score:
    precision: float
    recall: float
    titles: int
    dates: int
    false_dates: int
    pages: int
    seconds: float

    @property
    def f1(self) -> float:
        return 2 * self.precision * self.recall / (self.precision + self.recall) if self.precision + self.recall else 0.0


def score(labels: list[Label], guesses: dict[Path, Guess], seconds: float) -> Score:
    precisions, recalls, titles, dates, false_dates = [], [], 0, 0, 0
    for label in labels:
        guess = guesses.get(label.path, Guess("", "", None))
        got = words(guess.text)
        common = sum((got & label.words).values())
        precisions.append(common / max(sum(got.values()), 1) if got else 0.0)
        recalls.append(common / max(sum(label.words.values()), 1))
        titles += clean(guess.title).lower() == clean(label.title).lower()
        dates += guess.date == label.date
        false_dates += guess.date is not None and guess.date != label.date
    return Score(sum(precisions) / len(labels), sum(recalls) / len(labels), titles, dates, false_dates, len(labels), seconds)


def timed(run, *args) -> tuple[dict[Path, Guess], float]:
    """CPU seconds: the machine is shared, so wall time says more about the neighbours than about us."""
    started = time.process_time()
    guesses = run(*args)
    return guesses, time.process_time() - started


def html_table(labels: list[Label]) -> list[str]:
    rows = []
    runs = [
        ("ours (batch)", run_ours, (labels, True)),
        ("ours (page by page)", run_ours, (labels, False)),
        ("trafilatura alone", run_trafilatura, (labels,)),
        ("readability-lxml", run_readability, (labels,)),
        ("newspaper4k", run_newspaper, (labels,)),
    ]
    sites = sorted({label.site for label in labels})
    header = ("| extractor | P | R | F1 | " + " | ".join(f"F1 {site}" for site in sites)
              + " | title ok | date ok | false dates | pages per CPU s |")
    rows += [header, "|---" * (header.count("|") - 1) + "|"]
    baseline_speed = None
    for name, run, args in runs:
        guesses, seconds = timed(run, *args)
        total = score(labels, guesses, seconds)
        per_site = [score([label for label in labels if label.site == site], guesses, seconds) for site in sites]
        speed = total.pages / seconds
        if name == "trafilatura alone":
            baseline_speed = speed
        rows.append(f"| {name} | {total.precision:.3f} | {total.recall:.3f} | {total.f1:.3f} | "
                    + " | ".join(f"{site.f1:.3f}" for site in per_site)
                    + f" | {total.titles}/{total.pages} | {total.dates}/{total.pages} | {total.false_dates} | {speed:.1f} |")
        if name.startswith("ours") and "--verbose" in sys.argv:
            for label in labels:
                guess = guesses.get(label.path, Guess("", "", None))
                single = score([label], guesses, 0)
                print(f"  {name} {label.site} {label.path.name}: P {single.precision:.2f} R {single.recall:.2f} "
                      f"title {guess.title!r} vs {label.title!r} date {guess.date} vs {label.date}", file=sys.stderr)
    rows.append(f"\n(pages per CPU second of trafilatura alone: {baseline_speed:.1f})")
    return rows


# --- plain-text captures ----------------------------------------------------------------------------


def w3m_copy(path: Path) -> str:
    done = subprocess.run(["w3m", "-dump", "-T", "text/html", "-cols", "2000", "-O", "UTF-8", str(path)],
                          capture_output=True, check=True)
    return done.stdout.decode("utf-8", errors="replace")


def traf_on_lines(text: str) -> str:
    """What the issue measured: each line wrapped as a paragraph and given to trafilatura."""
    import html

    import trafilatura

    page = "<html><body>" + "".join(f"<p>{html.escape(line)}</p>" for line in text.splitlines() if line.strip()) + "</body></html>"
    return trafilatura.extract(page) or ""


def capture_rows(labels: list[Label]) -> list[str]:
    copies = [(label.path, w3m_copy(label.path)) for label in labels]
    by_site: dict[str, list[int]] = {}
    for index, label in enumerate(labels):
        by_site.setdefault(label.site, []).append(index)
    batch_cleaned: dict[int, str] = {}
    for indexes in by_site.values():
        for index, cleaned in zip(indexes, clean_captures([copies[i] for i in indexes]), strict=True):
            batch_cleaned[index] = f"{cleaned.title}\n{cleaned.body_text}"
    single_cleaned = {}
    titles_batch = titles_single = 0
    for index, (path, text) in enumerate(copies):
        [cleaned] = clean_captures([(path, text)])
        single_cleaned[index] = f"{cleaned.title}\n{cleaned.body_text}"
        titles_single += clean(cleaned.title).lower() == clean(labels[index].title).lower()
        titles_batch += clean(batch_cleaned[index].split("\n", 1)[0]).lower() == clean(labels[index].title).lower()
    variants = {
        "raw w3m text (nothing cut)": {i: text for i, (_, text) in enumerate(copies)},
        "trafilatura on the lines": {i: traf_on_lines(text) for i, (_, text) in enumerate(copies)},
        "clean_captures, one capture at a time": single_cleaned,
        "clean_captures, each site as a batch": batch_cleaned,
    }
    rows = ["| on w3m text copies of the 32 pages | P | R | F1 | title ok |", "|---|---|---|---|---|"]
    for name, texts in variants.items():
        guesses = {labels[i].path: Guess("", text, None) for i, text in texts.items()}
        result = score(labels, guesses, 1.0)
        title = {"clean_captures, one capture at a time": f"{titles_single}/{len(labels)}",
                 "clean_captures, each site as a batch": f"{titles_batch}/{len(labels)}"}.get(name, "-")
        rows.append(f"| {name} | {result.precision:.3f} | {result.recall:.3f} | {result.f1:.3f} | {title} |")
    return rows


# Hand labels for the seeds: the article runs from the first line given to the last line given
# (inclusive), title excluded. Lines are matched by their start.
SEED_LABELS = {
    "000_": ("North Korean Soldiers in Russia-Ukraine War", "April 17, 2025", "You can learn about human rights violations"),
    "001_": ("North Korean soldiers in Russia: Were they ever there?", "Their reported sudden departure", "So, that rabbit"),
    "002_": ("Why Is North Korea Strengthening Its Military Alliance with Russia?", "North Korea’s growing military ties",
             "ISPI"),
    "003_": ("A North Korean Defector’s Nine Year Journey to Freedom | Eunju’s Story", "September 18, 2023",
             "You can help rescue more North Korean refugees"),
}
SEED_JUNK = ("Donate Now", "keep readingShow less", "Read more", "logo for", "TwitterFacebookInstagram", "Give today")


def seed_rows() -> list[str]:
    if not SEEDS.is_dir():
        return ["(seeds absent: skipped)"]
    paths = sorted(SEEDS.glob("*.txt"))
    texts = [(path, path.read_text(encoding="utf-8")) for path in paths]
    gold: dict[Path, Counter[str]] = {}
    titles: dict[Path, str] = {}
    for path, text in texts:
        title, first, last = next(value for key, value in SEED_LABELS.items() if path.name.startswith(key))
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        start = next(i for i, line in enumerate(lines) if line.startswith(first))
        end = next(i for i, line in enumerate(lines) if i >= start and line.startswith(last))
        gold[path] = words(" ".join(lines[start:end + 1]))
        titles[path] = title
    batch = {item.path: item for item in clean_captures(texts)}
    single = {path: clean_captures([(path, text)])[0] for path, text in texts}
    variants = {
        "raw text (nothing cut)": {path: text for path, text in texts},
        "trafilatura on the lines": {path: traf_on_lines(text) for path, text in texts},
        "clean_captures, one capture at a time": {path: item.body_text for path, item in single.items()},
        "clean_captures, the four as a batch": {path: item.body_text for path, item in batch.items()},
    }
    rows = ["| on the 4 seed captures | P | R | F1 | files with junk left | title ok |", "|---|---|---|---|---|---|"]
    labels = [Label(path, "seed", titles[path], gold[path], None) for path, _ in texts]
    for name, outputs in variants.items():
        result = score(labels, {path: Guess("", text, None) for path, text in outputs.items()}, 1.0)
        junk = sum(any(any(j in line for j in SEED_JUNK) for line in text.splitlines()) for text in outputs.values())
        chosen = {"clean_captures, one capture at a time": single, "clean_captures, the four as a batch": batch}.get(name)
        title = f"{sum(chosen[p].title == titles[p] for p in titles)}/4" if chosen else "-"
        rows.append(f"| {name} | {result.precision:.3f} | {result.recall:.3f} | {result.f1:.3f} | {junk}/4 | {title} |")
    return rows


def speed_rows(cache: Path, count: int = 120) -> list[str]:
    """Import speed on a larger batch of Python doc pages (saved pages), against trafilatura alone."""
    import trafilatura

    pages = sorted((cache / PYTHON_DOCS / "library").glob("*.html"))[:count]
    started, wall = time.process_time(), time.perf_counter()
    imported = sum(isinstance(item, ImportedArticle) for item in read_pages(pages, ImportOptions()))
    ours, ours_wall = time.process_time() - started, time.perf_counter() - wall
    started, wall = time.process_time(), time.perf_counter()
    for page in pages:
        html = page.read_text(encoding="utf-8")
        trafilatura.extract(html)
        trafilatura.extract_metadata(html)
    alone, alone_wall = time.process_time() - started, time.perf_counter() - wall
    return [
        f"| import speed, {len(pages)} Python library pages ({sum(p.stat().st_size for p in pages) / 1e6:.1f} MB) "
        "| pages per CPU second | pages per wall second |",
        "|---|---|---|",
        f"| `read_pages` (load, images, extract, site chrome, body rewrite; {imported} articles) | {len(pages) / ours:.1f} "
        f"| {len(pages) / ours_wall:.1f} |",
        f"| trafilatura alone (extract + extract_metadata) | {len(pages) / alone:.1f} | {len(pages) / alone_wall:.1f} |",
        f"| ratio ours / trafilatura (CPU time) | {ours / alone:.2f}x | |",
    ]


def main() -> None:
    cache = Path(sys.argv[1]) if len(sys.argv) > 1 and not sys.argv[1].startswith("--") else Path("/tmp/infopack-corpora")
    if not (cache / PYTHON_DOCS).is_dir() or not (cache / GIMP_KO).is_dir():
        sys.exit(f"{cache}: run `apt-get download python3.11-doc gimp-help-ko` there and unpack each with "
                 "`dpkg-deb -x NAME_*.deb NAME-unpacked` (bench/real_corpus.py does the same)")
    labels = labelled_set(cache)
    print(f"{len(labels)} labelled pages: " + ", ".join(f"{site} {n}" for site, n in Counter(label.site for label in labels).items()))
    for block in (html_table(labels), capture_rows(labels), seed_rows(), speed_rows(cache)):
        print("\n".join(block))
        print()


if __name__ == "__main__":
    main()
