"""Import speed: pages per second for `infopack import`, against plain work on the same files.

Generated here (nothing else needed): N plain-text captures (a menu on top, ~350 words of text made
from a fixed word list, a "Read more" list at the bottom), N/5 Markdown notes without front matter,
and D Word files made by pandoc. Reported, wall seconds and pages per second:
- the first import of the text and Markdown sources, and of the Word files;
- the re-import of everything, which must write nothing (every row `unchanged`);
- side by side, the plain work: copying the text files (read + write, no decoding, cleaning or
  front matter), and running plain `pandoc FILE -t html5` on each Word file.

    nice -n 10 python bench/import_bench.py [--texts 300] [--docs 10]
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import tempfile
import time
from datetime import date
from pathlib import Path

from media_bench import machine  # bench/ is on sys.path

from infopack.ingest.model import ImportOptions
from infopack.ingest.orchestrate import import_sources

WORDS = ("river school seed bank village market winter bus library teacher family water road harvest "
         "children mother field north rain bridge clinic radio letter garden mountain season story work "
         "people night morning wool trade book lesson song kitchen doctor border train station").split()
OPTIONS = ImportOptions(today=date(2025, 1, 1))


def _text(rng: random.Random, words: int) -> str:
    sentences = []
    while sum(len(s.split()) for s in sentences) < words:
        sentence = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 18)))
        sentences.append(sentence.capitalize() + ".")
    paragraphs = [" ".join(sentences[i:i + 4]) for i in range(0, len(sentences), 4)]
    return "\n\n".join(paragraphs)


def make_sources(root: Path, texts: int, docs: int) -> tuple[Path, Path]:
    rng = random.Random(7)
    plain = root / "plain"
    plain.mkdir(parents=True)
    for number in range(texts):
        title = " ".join(rng.choice(WORDS) for _ in range(6)).title()
        body = _text(rng, 350)
        (plain / f"capture-{number:04d}.txt").write_text(
            f"Home\n\nNews\n\nDonate Now\n\n{title}\n\n{body}\n\nRead more\n\nOther story one\n\nOther story two\n",
            encoding="utf-8")
    for number in range(texts // 5):
        (plain / f"note-{number:04d}.md").write_text(f"# Note {number}\n\n{_text(rng, 250)}\n", encoding="utf-8")
    documents = root / "documents"
    documents.mkdir()
    for number in range(docs):
        markdown = root / f"doc-{number}.md"
        markdown.write_text(f"# Testimony {number}\n\n{_text(rng, 800)}\n", encoding="utf-8")
        subprocess.run(["pandoc", str(markdown), "-o", str(documents / f"testimony-{number:02d}.docx")], check=True)
        markdown.unlink()
    return plain, documents


def timed(action) -> tuple[float, object]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=300)
    parser.add_argument("--docs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="import-bench-") as work:
        root = Path(work)
        plain, documents = make_sources(root / "sources", args.texts, args.docs)
        text_count = len(list(plain.iterdir()))

        t_text, report = timed(lambda: import_sources([plain], root / "content", OPTIONS))
        assert not report.failed and {o.action for o in report.outcomes} <= {"new", "skipped"}, report.outcomes[:3]
        t_docs, report = timed(lambda: import_sources([documents], root / "content", OPTIONS))
        assert not report.failed
        t_again, report = timed(lambda: import_sources([plain, documents], root / "content", OPTIONS))
        assert {o.action for o in report.outcomes} <= {"unchanged", "skipped"}

        def plain_copy() -> None:
            target = root / "copy"
            target.mkdir()
            for path in sorted(plain.iterdir()):
                (target / path.name).write_bytes(path.read_bytes())

        t_copy, _ = timed(plain_copy)

        def plain_pandoc() -> None:
            for path in sorted(documents.iterdir()):
                subprocess.run(["pandoc", str(path), "-t", "html5"], check=True, capture_output=True)

        t_pandoc, _ = timed(plain_pandoc)
        shutil.rmtree(root / "copy")

    print(f"machine: {machine()}")
    print(f"sources: {text_count} text/Markdown files, {args.docs} .docx")
    print("| step | files | infopack (s) | pages/s | plain (s) | plain work | ratio |")
    print("|---|---:|---:|---:|---:|---|---:|")
    print(f"| first import, text + Markdown | {text_count} | {t_text:.2f} | {text_count / t_text:.0f} | {t_copy:.3f} | "
          f"read + write each file | {t_text / t_copy:.0f}x |")
    print(f"| first import, .docx | {args.docs} | {t_docs:.2f} | {args.docs / t_docs:.1f} | {t_pandoc:.2f} | "
          f"plain pandoc -t html5 | {t_docs / t_pandoc:.2f}x |")
    total = text_count + args.docs
    print(f"| re-import, all (nothing written) | {total} | {t_again:.2f} | {total / t_again:.0f} | {t_text + t_docs:.2f} | "
          f"the first import | {t_again / (t_text + t_docs):.2f}x |")


if __name__ == "__main__":
    main()
