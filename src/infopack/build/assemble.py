"""Build a bundle: content -> render -> media -> pack + index -> files, written atomically.

The bundle is assembled in a hidden temporary folder beside the output, signed and flushed to the
disk there, and only then put in place: in one step where the system can swap two folders, so a
build killed at any moment leaves either the old bundle or the new one at the output, each whole
and signed (docs/FORMAT.md section 6.4). The next build clears what a killed one left behind. The
content folder is only read. Two builds of the same content give byte-identical bundles, file
times included.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import html
import multiprocessing
import multiprocessing.connection
import os
import pickle
import signal
import sys
import threading
import time
from calendar import timegm
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from infopack.build import media as media_stage
from infopack.build.base import BaseLayout, read_base
from infopack.build.library_pack import FAT32_FILE_LIMIT, LIBRARY_PACK_NAME, library_pack_parts, library_pack_size
from infopack.build.media_cache import MediaCache
from infopack.build.output import Staging, fsync_fd, sweep_leftovers, write_manifest
from infopack.build.pack import (
    PackedText,
    compress_json,
    data_file_text,
    frame_digest,
    inline_data_element,
    pack_articles,
    pack_into_places,
)
from infopack.build.render import RenderedArticle, finish_html, render_article
from infopack.build.search import SearchDoc, build_search_index
from infopack.build.suggest import SuggestDoc, build_suggest_index
from infopack.build.viewer import render_viewer
from infopack.content.load import load_content
from infopack.content.model import Article, Content
from infopack.errors import InfopackError, Problem
from infopack.format.constants import FORMAT_VERSION, MANIFEST_NAME
from infopack.format.manifest import BundleInfo
from infopack.progress import Progress

if TYPE_CHECKING:
    from infopack.plan.planner import Plan, Selection

PARALLEL_RENDER_MIN = 200  # below this, starting worker processes costs more than it saves
ONE_FILE_NAME = "phone.html"  # what a reader with only a phone should open
# Above this a phone browser takes too long (or runs out of memory) to open one HTML file.
ONE_FILE_LIMIT = 48 * 1024 * 1024
# 500 entries (~40 KB compressed): the library's first screen needs one shard, and a search's 50
# results, scattered over the library, need at most 50 small ones (BENCHMARKS.md, "Viewer").
CATALOG_SHARD_SIZE = 500
SLUG_SHARD_TARGET = 2000  # slugs per lookup shard
FACET_SHARD_TARGET = 50_000  # article numbers per facet shard

# Signs a finished bundle folder (manifest written) and returns the signature file it wrote there.
Signer = Callable[[Path], Path]


@dataclass
class BuildResult:
    bundle_dir: Path
    index_html: Path
    one_file_html: Path | None
    articles: int
    total_bytes: int
    warnings: list[str] = field(default_factory=list)
    signature: Path | None = None  # where the signature written by `sign` ended up
    library_pack: Path | None = None  # every payload in one file (absent with phone=False)
    # True when phone.html is too big to hold the library inline and asks for library.pack instead.
    phone_picks_pack: bool = False


@dataclass
class BundleFile:
    """One file of the bundle as it will appear in the manifest."""

    path: str
    data: bytes
    # Written one after another instead of `data`: library.pack repeats every payload, and joining
    # them would hold one more copy of the whole library in memory.
    parts: list[bytes] | None = None
    picks_pack: bool = False  # phone.html without inline data: it asks for library.pack

    @property
    def size(self) -> int:
        return library_pack_size(self.parts) if self.parts is not None else len(self.data)


def build_bundle(
    content_dir: Path,
    out_dir: Path,
    *,
    force: bool = False,
    profile: str = "default",
    progress: Progress | None = None,
    plan: Plan | None = None,
    volume: int = 1,
    sign: Signer | None = None,
    media_cache: MediaCache | None = None,
    phone: bool = True,
    one_file_limit: int = ONE_FILE_LIMIT,
    base: Path | None = None,
) -> BuildResult:
    """Build `content_dir` into `out_dir`. With a `plan` (infopack.plan.make_plan), only the
    articles the plan keeps in `volume` are built, each media file at the profile the plan chose.
    `sign` (e.g. `lambda folder: sign_bundle(folder, key)`) signs the bundle before it is put in
    place, so no unsigned bundle is ever at `out_dir`, not even for a moment. `media_cache` (preview)
    reuses media prepared by an earlier build of the same sources. `phone=False` leaves
    out phone.html and library.pack; `one_file_limit` is the inline size above which phone.html
    asks for library.pack instead of holding the library (lowered by tests). `base` (the bundle
    this release follows) makes a stable rebuild: its dictionary and layout are kept, so unchanged
    articles give unchanged files (build/base.py)."""
    content_dir = Path(content_dir)
    out_dir = Path(out_dir)
    say = progress or (lambda message: None)
    _check_output_location(content_dir, out_dir, force, say)
    content = load_content(content_dir)
    say(f"loaded {len(content.articles)} articles")
    layout = _base_layout(base, content) if base is not None else None
    selection = plan.selection(volume) if plan is not None else None
    if selection is not None:
        content = _selected_content(content, selection)
        say(f"the plan keeps {len(content.articles)} of them")
    articles = sorted(content.articles, key=lambda a: a.slug)
    articles.sort(key=lambda a: a.date, reverse=True)  # library order: newest first, then slug

    rendered = render_all(content, articles)
    say("rendered articles")

    signature = None
    with Staging(out_dir) as staging:
        profile_for = selection.profile_for if selection is not None else (lambda source: profile)
        html_docs, media_files = _prepare_media(content, articles, rendered, staging.path, profile_for, say, media_cache)
        volume_of = selection.volume if selection is not None else None
        files = _assemble(content, articles, rendered, html_docs, say, volume_of, phone, one_file_limit, media_files, layout)
        for bundle_file in files:
            _write(staging.path / bundle_file.path, bundle_file)
        total = sum(f.size for f in files) + sum(p.stat().st_size for p in media_files)
        _write_manifest(staging.path, content)
        if sign is not None:
            written = sign(staging.path)
            signature = out_dir / written.relative_to(staging.path) if written.is_relative_to(staging.path) else written
        _set_times_and_flush(staging.path, content)
        staging.move_into_place(force)
    warnings = list(content.warnings) + [w for r in rendered for w in r.warnings]
    say(f"wrote {out_dir}")
    file_paths = {f.path for f in files}
    return BuildResult(
        bundle_dir=out_dir,
        index_html=out_dir / "index.html",
        one_file_html=(out_dir / ONE_FILE_NAME) if ONE_FILE_NAME in file_paths else None,
        articles=len(articles),
        total_bytes=total,
        warnings=warnings,
        signature=signature,
        library_pack=(out_dir / LIBRARY_PACK_NAME) if LIBRARY_PACK_NAME in file_paths else None,
        phone_picks_pack=any(f.path == ONE_FILE_NAME and f.picks_pack for f in files),
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
    return Content(content.root, settings, [a for a in content.articles if a.slug in selection.slugs], content.warnings)


def _base_layout(base: Path, content: Content) -> BaseLayout:
    """The base's layout, once it is known to be an earlier release of the same bundle."""
    layout = read_base(base)
    settings = content.settings
    if layout.bundle_id != settings.id:
        raise InfopackError(f"--base is bundle {layout.bundle_id!r}, this content is {settings.id!r}", base)
    if settings.sequence <= layout.sequence:
        raise InfopackError(
            f"sequence {settings.sequence} is not higher than the base's {layout.sequence}; raise `sequence` in infopack.toml",
            content.root / "infopack.toml",
        )
    return layout


def _check_output_location(content_dir: Path, out_dir: Path, force: bool, say: Progress) -> None:
    content = content_dir.resolve()
    out = out_dir.resolve()
    if out == content or out.is_relative_to(content):
        raise InfopackError("the output folder is inside the content folder; choose another --out", out_dir)
    if content.is_relative_to(out):
        raise InfopackError("the output folder contains the content folder; choose another --out", out_dir)
    # Before the checks below: a bundle that a killed build left beside --out is put back first,
    # so "already exists" is said about it as it would have been before that build.
    sweep_leftovers(out_dir, say)
    if out.exists():
        if not force:
            raise InfopackError("already exists; use --force to replace it", out_dir)
        if not out.is_dir() or (any(out.iterdir()) and not (out / MANIFEST_NAME).is_file()):
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
        rendered = [r for chunk in _render_in_workers(jobs, workers) for r in chunk]
    problems = [
        Problem(a.rel_path, message, line)
        for a, r in zip(articles, rendered)
        for message, line in zip(r.problems, r.problem_lines, strict=True)
    ]
    if problems:
        raise InfopackError(problems)
    return rendered


def die_with_parent(parent_pid: int) -> None:
    """Make this process end when `parent_pid` (its parent) does, even by SIGKILL.

    A worker waiting for work does not notice that the build is gone: the workers forked after
    it hold copies of the build's end of its pipe, so the pipe never reads as closed and it would
    wait forever. On Linux the kernel sends it SIGKILL when its parent dies; elsewhere a thread
    polls for the parent. A parent that died before the request was made is caught by the pid check.
    """
    if not _request_death_signal():
        threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()
    if os.getppid() != parent_pid:
        os._exit(1)


_PR_SET_PDEATHSIG = 1


def _request_death_signal() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(0.5)
    os._exit(1)


def _render_in_workers(jobs: list, workers: int) -> list[list[RenderedArticle]]:
    """Each job rendered in one of `workers` forked processes; results in job order.

    A small pool of our own rather than concurrent.futures: its threads cannot be torn down
    safely once a worker is killed mid-job (Python 3.11's executor can then hang the process at
    exit), and an interrupted build must stop its workers at once, not after their jobs. Here
    each worker has one pipe, is told a job number (the jobs themselves it has from the fork),
    and answers with the result; there are no threads, so killing the workers ends everything.
    """
    context = multiprocessing.get_context("fork")
    parent = os.getpid()
    links: list[tuple[multiprocessing.process.BaseProcess, multiprocessing.connection.Connection]] = []
    results: list[list[RenderedArticle] | None] = [None] * len(jobs)
    try:
        for _ in range(min(workers, len(jobs))):
            ours, theirs = context.Pipe()
            process = context.Process(target=_render_worker, args=(theirs, jobs, parent), daemon=True)
            process.start()
            theirs.close()  # before the next fork: a dead worker's pipe must read as closed here
            links.append((process, ours))
        waiting = iter(range(len(jobs)))
        busy: dict[multiprocessing.connection.Connection, int] = {}
        for _process, connection in links:
            _give_next(connection, waiting, busy)
        while busy:
            for connection in multiprocessing.connection.wait(list(busy)):
                try:
                    succeeded, value = connection.recv()
                except EOFError:
                    raise RuntimeError("a render worker ended unexpectedly (out of memory?)") from None
                if not succeeded:
                    raise value
                results[busy.pop(connection)] = value
                _give_next(connection, waiting, busy)
    except BaseException:
        for process, _connection in links:  # an error or Ctrl-C: the other jobs are not wanted
            process.kill()
        raise
    finally:
        for process, connection in links:
            process.join()
            connection.close()
    return results  # every slot is filled once busy is empty


def _give_next(connection, waiting, busy: dict) -> None:
    number = next(waiting, None)
    connection.send(number)  # None: no more work, end
    if number is not None:
        busy[connection] = number


def _render_worker(connection, jobs: list, parent_pid: int) -> None:
    die_with_parent(parent_pid)
    # Ctrl-C reaches the whole process group. The build itself answers it (stops the workers and
    # says "interrupted"); a worker that also took it would print a traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        try:
            number = connection.recv()
        except EOFError:  # the build is gone
            return
        if number is None:
            return
        try:
            answer = (True, _render_chunk(jobs[number]))
        except Exception as err:  # noqa: BLE001  (any failure goes to the build, which raises it)
            answer = (False, err)
        try:
            connection.send(answer)
        except (pickle.PicklingError, TypeError, AttributeError) as err:  # an exception pickle refuses
            connection.send((False, RuntimeError(f"rendering failed: {err}")))


def _prepare_media(
    content: Content,
    articles: list[Article],
    rendered: list[RenderedArticle],
    staging: Path,
    profile_for: Callable[[Path], str],
    say: Progress,
    media_cache: MediaCache | None = None,
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
                prepare = media_cache.prepare if media_cache is not None else media_stage.prepare_media
                prepared = prepare(source, media_dir / f"{article.slug}-{number}", profile, used_by=article.rel_path)
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
    phone: bool = True,
    one_file_limit: int = ONE_FILE_LIMIT,
    media_files: list[Path] | None = None,
    layout: BaseLayout | None = None,
) -> list[BundleFile]:
    # Compression runs in zstd's threads (no GIL) while this thread builds the search index.
    with ThreadPoolExecutor(max_workers=1) as background:
        if layout is None:
            packing = background.submit(pack_articles, html_docs)
        else:
            slugs = [a.slug for a in articles]
            packing = background.submit(pack_into_places, html_docs, slugs, layout.dictionary, layout.places)
        search = build_search_index(
            [SearchDoc(i, a.lang, a.title, a.summary, r.text, a.aliases) for i, (a, r) in enumerate(zip(articles, rendered))],
            boundaries=layout.search_shards if layout is not None else (),
            digits=layout.search_digits if layout is not None else 0,
        )
        packed = packing.result()
    say(f"compressed text: {sum(len(p) for p in packed.packs.values()):,} bytes in {len(packed.packs)} packs")
    payloads: dict[str, bytes] = {}
    if packed.dictionary is not None:
        payloads["dict"] = packed.dictionary
    for number, pack in packed.packs.items():
        payloads[f"text/{number:04d}"] = pack
    payloads.update(_catalog_payloads(articles, rendered, packed))
    slug_payloads, slug_shards = _slug_payloads(articles, layout.slug_shards if layout is not None else 0)
    payloads.update(slug_payloads)
    facet_payloads, facet_shards = _facet_payloads(articles, layout.facet_shards if layout is not None else 0)
    payloads.update(facet_payloads)
    payloads.update(search.payloads)
    say(f"search index: {sum(len(p) for p in search.payloads.values()):,} bytes")
    suggest = build_suggest_index([SuggestDoc(a.slug, a.lang, a.title, a.aliases, a.priority) for a in articles])
    payloads.update(suggest.payloads)
    say(f"title suggestions: {sum(len(p) for p in suggest.payloads.values()):,} bytes")
    search_meta = {**search.meta, "suggest": suggest.meta}
    if media_files:
        payloads["media"] = compress_json(media_fingerprints(media_files))

    root = root_document(content, articles, payloads, slug_shards, facet_shards, search_meta, volume)
    ordered = sorted(payloads.items())
    files = [BundleFile(f"data/{name}.js", data_file_text(name, payload)) for name, payload in ordered]
    if not phone:
        files.append(BundleFile("index.html", render_viewer(root, content.settings.lang)))
        return files
    parts = library_pack_parts(content.settings.id, content.settings.sequence, ordered)
    pack_fits = library_pack_size(parts) <= FAT32_FILE_LIMIT
    if pack_fits:
        files.append(BundleFile(LIBRARY_PACK_NAME, b"", parts))
        # Every page then knows that the card keeps a second copy of every payload (FORMAT.md 8a).
        root = {**root, "library_pack": LIBRARY_PACK_NAME}
    else:
        say(f"no {LIBRARY_PACK_NAME}: the library's data exceed 4 GiB, more than one file may hold on a FAT32 card")
    files.append(BundleFile("index.html", render_viewer(root, content.settings.lang)))
    media_omitted = any(r.media for r in rendered)
    if _inline_bytes(ordered) <= one_file_limit:
        files.append(BundleFile(ONE_FILE_NAME, _one_file_variant(root, content, ordered, media_omitted)))
    elif pack_fits:
        files.append(BundleFile(ONE_FILE_NAME, _pack_picker_variant(root, content, media_omitted), picks_pack=True))
        say(f"{ONE_FILE_NAME} asks the reader to pick {LIBRARY_PACK_NAME}: the library is larger than "
            f"{one_file_limit // 2**20} MB, too big for a phone to open as one file")
    else:
        say(f"no {ONE_FILE_NAME}: the library is too big for one file or for {LIBRARY_PACK_NAME}")
    return files


def _inline_bytes(payloads: list[tuple[str, bytes]]) -> int:
    return sum(len(payload) * 4 // 3 + len(name) + 48 for name, payload in payloads)


def _one_file_variant(root: dict, content: Content, payloads: list[tuple[str, bytes]], media_omitted: bool) -> bytes:
    """Viewer + every payload inline, for phones that hand the browser a single file."""
    inline = "".join(inline_data_element(name, payload) + "\n" for name, payload in payloads)
    one_root = {**root, "one_file": True, "media_omitted": media_omitted}
    return render_viewer(one_root, content.settings.lang, inline_data=inline)


def _pack_picker_variant(root: dict, content: Content, media_omitted: bool) -> bytes:
    """The viewer alone, for a library too big to sit inline: it asks the reader to pick
    library.pack and reads every payload from slices of that file (docs/FORMAT.md section 8a)."""
    one_root = {**root, "one_file": True, "media_omitted": media_omitted, "needs_pack": True}
    return render_viewer(one_root, content.settings.lang)


def _catalog_payloads(articles: list[Article], rendered: list[RenderedArticle], packed: PackedText) -> dict[str, bytes]:
    entries = [
        [a.slug, a.title, a.date.isoformat(), a.lang, a.summary, a.tags, *packed.locators[i],
         [f"media/{name}" for name in rendered[i].media_names], frame_digest(packed, i)]
        for i, a in enumerate(articles)
    ]  # fmt: skip
    return {
        f"cat/{start // CATALOG_SHARD_SIZE:04d}": compress_json(entries[start : start + CATALOG_SHARD_SIZE])
        for start in range(0, len(entries), CATALOG_SHARD_SIZE)
    }


def media_fingerprints(paths: list[Path]) -> list[list]:
    """[`media/<name>`, size, SHA-256] per media file, by name: the card check compares the files
    the reader picks with these (docs/FORMAT.md section 7.1)."""
    rows = []
    for path in sorted(paths, key=lambda p: p.name.encode("utf-8")):
        digest = hashlib.sha256()
        with open(path, "rb") as source:
            for block in iter(lambda: source.read(1 << 20), b""):
                digest.update(block)
        rows.append([f"media/{path.name}", path.stat().st_size, digest.hexdigest()])
    return rows


def fnv1a32(text: str) -> int:
    value = 0x811C9DC5
    for byte in text.encode("utf-8"):
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


def _slug_payloads(articles: list[Article], shards: int = 0) -> tuple[dict[str, bytes], int]:
    """SHARDS: a stable rebuild keeps the base's count, so each slug stays in its shard."""
    shards = shards or max(1, -(-len(articles) // SLUG_SHARD_TARGET))
    tables: list[dict[str, int]] = [{} for _ in range(shards)]
    for number, article in enumerate(articles):
        tables[fnv1a32(article.slug) % shards][article.slug] = number
    return {f"slug/{i:02d}": compress_json(table) for i, table in enumerate(tables)}, shards


def _facet_payloads(articles: list[Article], shards: int = 0) -> tuple[dict[str, bytes], int]:
    """`tag:<tag>` and `lang:<code>` -> article numbers, so a filtered library reads one small file
    instead of every catalog shard. Numbers are delta-encoded (first absolute): mostly 1-2 digits."""
    facets: dict[str, list[int]] = {}
    for number, article in enumerate(articles):
        for key in [f"lang:{article.lang}"] + [f"tag:{tag}" for tag in dict.fromkeys(article.tags)]:
            facets.setdefault(key, []).append(number)
    total = sum(len(ids) for ids in facets.values())
    shards = shards or max(1, -(-total // FACET_SHARD_TARGET))
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


def root_document(
    content: Content,
    articles: list[Article],
    payloads: dict[str, bytes],
    slug_shards: int,
    facet_shards: int,
    search_meta: dict,
    volume: tuple[int, int] | None = None,
) -> dict:
    """The root document index.html and phone.html carry. The one builder of it: `plan` renders it
    for an empty library to estimate the viewer, so its estimate uses the same keys and shard sizes."""
    root: dict = {
        "format": FORMAT_VERSION,
        "bundle": bundle_metadata(content),
        "articles": len(articles),
        "catalog_shard_size": CATALOG_SHARD_SIZE,
        "slug_shards": slug_shards,
        "langs": dict(sorted(Counter(a.lang for a in articles).items())),
        "tags": dict(sorted(Counter(t for a in articles for t in dict.fromkeys(a.tags)).items())),
        "years": _year_ranges(articles),
        "files": {name: [len(data), hashlib.sha256(data).hexdigest()] for name, data in sorted(payloads.items())},
        "search": search_meta,
        "facet_shards": facet_shards,
    }
    if volume is not None:
        root["bundle"]["volume"] = list(volume)  # the viewer says "Volume n of total"
    return root


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


def _write(path: Path, bundle_file: BundleFile) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if bundle_file.parts is None:
        path.write_bytes(bundle_file.data)
        return
    with open(path, "wb") as out:
        for part in bundle_file.parts:
            out.write(part)


def _write_manifest(staging: Path, content: Content) -> None:
    """SHA256SUMS, then manifest.json, last of all (docs/FORMAT.md section 6)."""
    write_manifest(staging, BundleInfo(**bundle_metadata(content)))


def _set_times_and_flush(staging: Path, content: Content) -> None:
    """Every file and folder gets the content's date (no trace of when or where it was built) and
    is flushed to the disk, in one pass from the deepest level up. The flush is what lets the
    rename that publishes the bundle be trusted: without it a power cut soon after could leave
    a bundle whose names are all there but whose files are empty."""
    stamp = timegm(content.created.timetuple())
    try:
        os.chmod(staging, 0o755)  # mkdtemp made it private
    except OSError as err:  # a file system without Unix permissions (FAT through FUSE)
        if err.errno not in (errno.ENOSYS, errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise
    for directory, _subdirs, names in os.walk(staging, topdown=False):
        for name in names:
            _stamp_and_flush(os.path.join(directory, name), stamp, directory=False)
        # A folder's own date is set after its contents, whose changes would otherwise move it.
        _stamp_and_flush(directory, stamp, directory=True)


def _stamp_and_flush(path: str, stamp: int, *, directory: bool) -> None:
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | (getattr(os, "O_DIRECTORY", 0) if directory else 0)
    fd = os.open(path, flags)
    try:
        os.utime(fd, (stamp, stamp))
        fsync_fd(fd)
    finally:
        os.close(fd)
