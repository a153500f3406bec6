"""Build a bundle: content -> render -> media -> pack + index -> files, written atomically.

The bundle is assembled in a hidden temporary folder beside the output and renamed into place only
when complete, so an interrupted build leaves nothing that looks like a bundle. The content folder
is only read. Two builds of the same content give byte-identical bundles, file times included.
"""

from __future__ import annotations

import hashlib
import html
import os
import shutil
import multiprocessing
import tempfile
from calendar import timegm
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from infopack import media as media_stage
from infopack.content import load_content
from infopack.errors import InfopackError, Problem
from infopack.model import Article, Content
from infopack.pack import PackedText, compress_json, data_file_text, inline_data_element, pack_articles
from infopack.render import RenderedArticle, finish_html, render_article
from infopack.search import SearchDoc, build_search_index
from infopack.sign import BundleInfo, write_manifest
from infopack.viewer_build import render_viewer

if TYPE_CHECKING:
    from infopack.plan import Plan, Selection

FORMAT = "infopack/1"
PARALLEL_RENDER_MIN = 200  # below this, starting worker processes costs more than it saves
ONE_FILE_NAME = "phone.html"  # what a reader with only a phone should open
# Above this a phone browser takes too long (or runs out of memory) to open one HTML file.
ONE_FILE_LIMIT = 48 * 1024 * 1024
# 500 entries (~40 KB compressed): the library's first screen needs one shard, and a search's 50
# results, scattered over the library, need at most 50 small ones (BENCHMARKS.md, "Viewer").
CATALOG_SHARD_SIZE = 500
SLUG_SHARD_TARGET = 2000  # slugs per lookup shard
FACET_SHARD_TARGET = 50_000  # article numbers per facet shard

Progress = Callable[[str], None]


@dataclass
class BuildResult:
    bundle_dir: Path
    index_html: Path
    one_file_html: Path | None
    articles: int
    total_bytes: int
    warnings: list[str] = field(default_factory=list)


@dataclass
class BundleFile:
    """One file of the bundle as it will appear in the manifest."""

    path: str
    data: bytes


def build_bundle(
    content_dir: Path,
    out_dir: Path,
    *,
    force: bool = False,
    profile: str = "default",
    progress: Progress | None = None,
    plan: Plan | None = None,
    volume: int = 1,
) -> BuildResult:
    """Build `content_dir` into `out_dir`. With a `plan` (infopack.plan.make_plan), only the
    articles the plan keeps in `volume` are built, each media file at the profile the plan chose."""
    content_dir = Path(content_dir)
    out_dir = Path(out_dir)
    say = progress or (lambda message: None)
    _check_output_location(content_dir, out_dir, force)
    content = load_content(content_dir)
    say(f"loaded {len(content.articles)} articles")
    selection = plan.selection(volume) if plan is not None else None
    if selection is not None:
        content = _selected_content(content, selection)
        say(f"the plan keeps {len(content.articles)} of them")
    articles = sorted(content.articles, key=lambda a: a.slug)
    articles.sort(key=lambda a: a.date, reverse=True)  # library order: newest first, then slug

    rendered = render_all(content, articles)
    say("rendered articles")

    parent = out_dir.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=parent))
    try:
        profile_for = selection.profile_for if selection is not None else (lambda source: profile)
        html_docs, media_files = _prepare_media(content, articles, rendered, staging, profile_for, say)
        volume_of = selection.volume if selection is not None else None
        files = _assemble(content, articles, rendered, html_docs, say, volume_of)
        for bundle_file in files:
            _write(staging / bundle_file.path, bundle_file.data)
        total = sum(len(f.data) for f in files) + sum(p.stat().st_size for p in media_files)
        _write_manifest(staging, content)
        _set_times(staging, content)
        _move_into_place(staging, out_dir, force)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    warnings = [w for r in rendered for w in r.warnings]
    say(f"wrote {out_dir}")
    return BuildResult(
        bundle_dir=out_dir,
        index_html=out_dir / "index.html",
        one_file_html=(out_dir / ONE_FILE_NAME) if (out_dir / ONE_FILE_NAME).exists() else None,
        articles=len(articles),
        total_bytes=total,
        warnings=warnings,
    )


# --- stages -------------------------------------------------------------------------------------


def _selected_content(content: Content, selection: Selection) -> Content:
    """The content as the plan wants it built: only its articles, and a volume's own bundle id.
    The date stays the whole library's, so every volume of one release carries the same one."""
    present = {a.slug for a in content.articles}
    missing = sorted(selection.slugs - present)
    if missing:
        raise InfopackError(f"the content changed since it was planned: no article {missing[0]!r}", content.root)
    settings = replace(content.settings, created=content.created)
    if selection.bundle_id is not None:
        settings = replace(settings, id=selection.bundle_id)
    return Content(content.root, settings, [a for a in content.articles if a.slug in selection.slugs])


def _check_output_location(content_dir: Path, out_dir: Path, force: bool) -> None:
    content = content_dir.resolve()
    out = out_dir.resolve()
    if out == content or out.is_relative_to(content):
        raise InfopackError("the output folder is inside the content folder; choose another --out", out_dir)
    if content.is_relative_to(out):
        raise InfopackError("the output folder contains the content folder; choose another --out", out_dir)
    if out.exists():
        if not force:
            raise InfopackError("already exists; use --force to replace it", out_dir)
        if not out.is_dir() or (any(out.iterdir()) and not (out / "manifest.json").is_file()):
            raise InfopackError("exists and is not a bundle; refusing to replace it even with --force", out_dir)


def _render_chunk(job: tuple[list[Article], Path, dict[str, str], set[str]]) -> list[RenderedArticle]:
    articles, root, slugs_by_path, slugs = job
    return [render_article(a, root, slugs_by_path, slugs) for a in articles]


def render_all(content: Content, articles: list[Article]) -> list[RenderedArticle]:
    """Render on every core (the sanitiser holds the GIL); results keep library order."""
    slugs_by_path = {str(a.source_path.resolve()): a.slug for a in articles}
    slugs = {a.slug for a in articles}
    workers = os.cpu_count() or 1
    if workers == 1 or len(articles) < PARALLEL_RENDER_MIN:
        rendered = _render_chunk((articles, content.root, slugs_by_path, slugs))
    else:
        size = -(-len(articles) // (workers * 4))
        jobs = [(articles[i : i + size], content.root, slugs_by_path, slugs) for i in range(0, len(articles), size)]
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
            rendered = [r for chunk in pool.map(_render_chunk, jobs) for r in chunk]
    problems = [Problem(a.rel_path, message) for a, r in zip(articles, rendered) for message in r.problems]
    if problems:
        raise InfopackError(problems)
    return rendered


def _prepare_media(
    content: Content,
    articles: list[Article],
    rendered: list[RenderedArticle],
    staging: Path,
    profile_for: Callable[[Path], str],
    say: Progress,
) -> tuple[list[bytes], list[Path]]:
    """Clean and copy each article's media as `media/<slug>-<n>.<ext>`; finish the article HTML."""
    media_stage.get_profile(profile_for(Path()))  # an unknown profile name fails before any work
    media_dir = staging / "media"
    written: list[Path] = []
    html_docs: list[bytes] = []
    prepared_by_source: dict[Path, media_stage.PreparedMedia] = {}
    count = sum(len(r.media) for r in rendered)
    done = 0
    for article, result in zip(articles, rendered):
        names: list[str] = []
        posters: list[str | None] = []
        for number, source in enumerate(result.media, start=1):
            prepared = prepared_by_source.get(source)
            if prepared is None:
                media_dir.mkdir(exist_ok=True)
                profile = media_stage.get_profile(profile_for(source))
                prepared = media_stage.prepare_media(source, media_dir / f"{article.slug}-{number}", profile)
                prepared_by_source[source] = prepared
                written.append(prepared.path)
                if prepared.poster is not None:
                    written.append(prepared.poster)
            names.append(prepared.path.name)
            posters.append(prepared.poster.name if prepared.poster is not None else None)
            done += 1
            if done % 20 == 0:
                say(f"media {done}/{count}")
        result.media_names = names
        html_docs.append(finish_html(_credits(content, article) + result.html, names, posters).encode("utf-8"))
    return html_docs, written


def _credits(content: Content, article: Article) -> str:
    """Authors and source reach the card only when the bundle's settings opt in: a name on a
    card can endanger the person named (docs/FORMAT.md section 12)."""
    parts = []
    if content.settings.publish_authors and article.authors:
        parts.append(", ".join(article.authors))
    if content.settings.publish_sources and article.source:
        parts.append(article.source)
    if not parts:
        return ""
    return "<p><small>" + html.escape(" · ".join(parts), quote=False) + "</small></p>\n"


def _assemble(
    content: Content,
    articles: list[Article],
    rendered: list[RenderedArticle],
    html_docs: list[bytes],
    say: Progress,
    volume: tuple[int, int] | None = None,
) -> list[BundleFile]:
    # Compression runs in zstd's threads (no GIL) while this thread builds the search index.
    with ThreadPoolExecutor(max_workers=1) as background:
        packing = background.submit(pack_articles, html_docs)
        search = build_search_index(
            [SearchDoc(i, a.lang, a.title, a.summary, r.text) for i, (a, r) in enumerate(zip(articles, rendered))]
        )
        packed = packing.result()
    say(f"compressed text: {sum(len(p) for p in packed.packs):,} bytes in {len(packed.packs)} packs")
    payloads: dict[str, bytes] = {}
    if packed.dictionary is not None:
        payloads["dict"] = packed.dictionary
    for number, pack in enumerate(packed.packs):
        payloads[f"text/{number:04d}"] = pack
    payloads.update(_catalog_payloads(articles, rendered, packed))
    slug_payloads, slug_shards = _slug_payloads(articles)
    payloads.update(slug_payloads)
    facet_payloads, facet_shards = _facet_payloads(articles)
    payloads.update(facet_payloads)
    payloads.update(search.payloads)
    say(f"search index: {sum(len(p) for p in search.payloads.values()):,} bytes")

    root = _root_document(content, articles, payloads, slug_shards, search.meta)
    root["facet_shards"] = facet_shards
    if volume is not None:
        root["bundle"]["volume"] = list(volume)  # the viewer says "Volume n of total"
    ordered = sorted(payloads.items())
    files = [BundleFile(f"data/{name}.js", data_file_text(name, payload)) for name, payload in ordered]
    files.append(BundleFile("index.html", render_viewer(root, content.settings.lang)))
    one_file = _one_file_variant(root, content, ordered, media_omitted=any(r.media for r in rendered))
    if one_file is None:
        say(f"no {ONE_FILE_NAME}: the library is larger than {ONE_FILE_LIMIT // 2**20} MB, too big for a phone to open as one file")
    else:
        files.append(BundleFile(ONE_FILE_NAME, one_file))
    return files


def _one_file_variant(root: dict, content: Content, payloads: list[tuple[str, bytes]], media_omitted: bool) -> bytes | None:
    """Viewer + every payload inline, for phones that hand the browser a single file."""
    inline_bytes = sum(len(payload) * 4 // 3 + len(name) + 48 for name, payload in payloads)
    if inline_bytes > ONE_FILE_LIMIT:
        return None
    inline = "".join(inline_data_element(name, payload) + "\n" for name, payload in payloads)
    one_root = {**root, "one_file": True, "media_omitted": media_omitted}
    return render_viewer(one_root, content.settings.lang, inline_data=inline)


def _catalog_payloads(articles: list[Article], rendered: list[RenderedArticle], packed: PackedText) -> dict[str, bytes]:
    entries = [
        [a.slug, a.title, a.date.isoformat(), a.lang, a.summary, a.tags, *packed.locators[i],
         [f"media/{name}" for name in rendered[i].media_names]]
        for i, a in enumerate(articles)
    ]  # fmt: skip
    return {
        f"cat/{start // CATALOG_SHARD_SIZE:04d}": compress_json(entries[start : start + CATALOG_SHARD_SIZE])
        for start in range(0, len(entries), CATALOG_SHARD_SIZE)
    }


def fnv1a32(text: str) -> int:
    value = 0x811C9DC5
    for byte in text.encode("utf-8"):
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


def _slug_payloads(articles: list[Article]) -> tuple[dict[str, bytes], int]:
    shards = max(1, -(-len(articles) // SLUG_SHARD_TARGET))
    tables: list[dict[str, int]] = [{} for _ in range(shards)]
    for number, article in enumerate(articles):
        tables[fnv1a32(article.slug) % shards][article.slug] = number
    return {f"slug/{i:02d}": compress_json(table) for i, table in enumerate(tables)}, shards


def _facet_payloads(articles: list[Article]) -> tuple[dict[str, bytes], int]:
    """`tag:<tag>` and `lang:<code>` -> article numbers, so a filtered library reads one small file
    instead of every catalog shard. Numbers are delta-encoded (first absolute): mostly 1-2 digits."""
    facets: dict[str, list[int]] = {}
    for number, article in enumerate(articles):
        for key in [f"lang:{article.lang}"] + [f"tag:{tag}" for tag in dict.fromkeys(article.tags)]:
            facets.setdefault(key, []).append(number)
    total = sum(len(ids) for ids in facets.values())
    shards = max(1, -(-total // FACET_SHARD_TARGET))
    tables: list[dict[str, list[int]]] = [{} for _ in range(shards)]
    for key in sorted(facets):
        ids = facets[key]
        tables[fnv1a32(key) % shards][key] = [ids[0]] + [b - a for a, b in zip(ids, ids[1:])]
    return {f"facet/{i:02d}": compress_json(table) for i, table in enumerate(tables)}, shards


def _year_ranges(articles: list[Article]) -> list[list[int]]:
    """[year, first article number, count]: library order is by date, so a year is one range."""
    ranges: list[list[int]] = []
    for number, article in enumerate(articles):
        if not ranges or ranges[-1][0] != article.date.year:
            ranges.append([article.date.year, number, 0])
        ranges[-1][2] += 1
    return ranges


def _root_document(
    content: Content, articles: list[Article], payloads: dict[str, bytes], slug_shards: int, search_meta: dict
) -> dict:
    return {
        "format": FORMAT,
        "bundle": bundle_metadata(content),
        "articles": len(articles),
        "catalog_shard_size": CATALOG_SHARD_SIZE,
        "slug_shards": slug_shards,
        "langs": dict(sorted(Counter(a.lang for a in articles).items())),
        "tags": dict(sorted(Counter(t for a in articles for t in dict.fromkeys(a.tags)).items())),
        "years": _year_ranges(articles),
        "files": {name: [len(data), hashlib.sha256(data).hexdigest()] for name, data in sorted(payloads.items())},
        "search": search_meta,
    }


def bundle_metadata(content: Content) -> dict:
    settings = content.settings
    return {
        "id": settings.id,
        "title": settings.title,
        "description": settings.description,
        "lang": settings.lang,
        "sequence": settings.sequence,
        "created": content.created.isoformat(),
        "publisher": settings.publisher,
    }


# --- writing ------------------------------------------------------------------------------------


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _write_manifest(staging: Path, content: Content) -> None:
    """SHA256SUMS, then manifest.json, last of all (docs/FORMAT.md section 6)."""
    write_manifest(staging, BundleInfo(**bundle_metadata(content)))


def _set_times(staging: Path, content: Content) -> None:
    """Every file and folder gets the content's date: no trace of when or where it was built."""
    stamp = timegm(content.created.timetuple())
    for directory, subdirs, names in os.walk(staging, topdown=False):
        for name in names + subdirs:
            os.utime(Path(directory) / name, (stamp, stamp), follow_symlinks=False)
    os.utime(staging, (stamp, stamp))
    os.chmod(staging, 0o755)


def _move_into_place(staging: Path, out_dir: Path, force: bool) -> None:
    if out_dir.exists():
        if not force:
            raise InfopackError("already exists; use --force to replace it", out_dir)
        retired = staging.parent / f".{out_dir.name}.old-{os.getpid()}"
        os.replace(out_dir, retired)
        os.replace(staging, out_dir)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        os.replace(staging, out_dir)
