"""Card budgets: decide, before anything is written, what goes on a card and at which media size.

Staff load 8, 16 and 32 GB cards, mostly with video. `make_plan` estimates what every article
costs on a card (text, and its media through `media.estimate_media`), and when the library does
not fit the usable part of the budget it gives way in a fixed order, least important article
first (`priority`, higher = more important; ties: newer first):

1. media of the least important articles are reduced to the "small" profile, one article at a time;
2. then to "tiny", again least important first;
3. then the least important articles are left out entirely,

stopping at the first step where everything fits. Leaving out goes strictly by importance, so room
that a large important article could not use afterwards goes to smaller, less important ones that
fit, at the reduction they already had. With `volumes=True` nothing is reduced or left out for
space (except an article bigger than a whole card): articles are packed, most important first, into
as many cards as needed, each a complete bundle of its own.

The plan is made once; `infopack plan` prints it, and `build_bundle(plan=...)` obeys it exactly
(`Plan.selection`), so what staff read in the table is what lands on the card.

Estimates count bytes *on the card*: every file rounded up to the file system's allocation unit,
because a card full of small files loses real space to cluster slack.

Card budgets are in `plan.budget`, the printed table in `plan.report`, building a split plan in
`plan.volumes`.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from infopack.build import media as media_stage
from infopack.build.assemble import ONE_FILE_LIMIT, render_all, root_document
from infopack.build.pack import (
    DICT_SIZE,
    MIN_BYTES_FOR_DICT,
    compress_frames,
    train_dictionary,
)
from infopack.build.search import SearchDoc, build_search_index
from infopack.build.suggest import SuggestDoc, build_suggest_index
from infopack.build.viewer import render_viewer
from infopack.content.load import load_content
from infopack.content.media_kinds import media_kind
from infopack.content.model import Article, Content
from infopack.errors import InfopackError, Problem
from infopack.format.constants import FAT32_MAX_FILE_BYTES
from infopack.format.names import check_bundle_path, find_collisions
from infopack.plan.budget import Budget, on_card
from infopack.progress import Progress

LEVELS = ("default", "small", "tiny")  # media profiles from least to most reduced

# Text cost model. An article's payload is its HTML compressed as the build does it (one frame with
# a dictionary trained on the whole library), plus its share of the real search index (built once
# by the planner, shared out by text length: the index size depends too much on the vocabulary to
# guess), plus its catalog entry; the dictionary itself is added once there is enough text for the
# build to train one. (A subset too small for a dictionary has larger frames, but then no
# dictionary to carry either, which costs more than the frames gain.)
PAYLOAD_PER_ARTICLE = 96  # catalog entry, slug and facet tables
PAYLOAD_MINIMUM = 8 * 1024  # root indexes that exist however small the library is
DATA_FILE_EXPANSION = 1.16  # UTF-16 data files: ~1.15x the payload (FORMAT.md section 2) + wrapper
INLINE_EXPANSION = 4 / 3 + 0.01  # phone.html carries every payload again, in base64
# Per data file: its entry in the root document twice (index.html, phone.html), its manifest and
# SHA256SUMS lines, and its `<script>` wrapper in phone.html.
PER_DATA_FILE_BYTES = 480
DATA_FILE_TARGET_BYTES = 128 * 1024  # text packs hold 256 KiB, search shards ~128 KiB uncompressed
MIN_DATA_FILES = 11  # dict, catalog, slug, facet, search language table, a text pack, a search shard, media, title suggestions and their heads...
# A media file's entry in payload `media` (path, size, SHA-256; ~90 bytes compressed), carried by
# its data file, phone.html and library.pack (FORMAT.md section 7.1).
MEDIA_FINGERPRINT_BYTES = 320
PACK_INDEX_PER_FILE = 100  # library.pack's index entry per data file
SIGNATURE_ALLOWANCE = 4 * 1024  # room for a few signatures/<key id>.minisig files


# ------------------------------------------------------------------------------------ the plan


@dataclass
class ArticlePlan:
    """One article's line in the plan."""

    slug: str
    rel_path: str
    priority: int
    date: date
    html_bytes: int  # the article's rendered HTML, uncompressed (decides whether a dictionary is trained)
    text_payload: int  # estimated bytes it adds to data payloads: compressed HTML, search share, catalog
    media: tuple[Path, ...]  # resolved sources, in order of first use (as the build names them)
    profile: str = "default"  # media profile the plan asks for (a reduction that saves nothing is not made)
    media_level: str = "default"  # the most reduced profile its media are really built at
    kept: bool = True
    volume: int = 1  # 1-based; always 1 without volumes
    default_bytes: int = 0  # what the article alone costs at the "default" profile
    planned_bytes: int = 0  # its share of the volume's total as planned (0 when left out)

    @property
    def action(self) -> str:
        if not self.kept:
            return "leave out"
        if self.media_level != "default":
            return f"reduce to {self.media_level}"
        return "keep"


@dataclass(frozen=True)
class Selection:
    """What one bundle built under a plan holds: `build_bundle(plan=...)` reads only this."""

    slugs: frozenset[str]
    media_profiles: dict[Path, str]  # resolved source -> profile name
    volume: tuple[int, int] | None  # (n, total) when built as one of several volumes
    bundle_id: str | None  # replaces the content's id for a volume

    def profile_for(self, source: Path) -> str:
        return self.media_profiles.get(Path(source), "default")


@dataclass
class Plan:
    budget: Budget
    content_dir: Path
    bundle_id: str
    articles: list[ArticlePlan]  # most important first
    fixed_bytes: int  # per bundle: viewer twice, manifest, signatures, minimum data files
    volumes: int = 1
    split: bool = False  # made with volumes=True: the build writes DIR/volume-N
    media_profiles: list[dict[Path, str]] = field(default_factory=list)  # per volume
    volume_bytes: list[int] = field(default_factory=list)  # per volume: planned total on the card

    @property
    def kept(self) -> list[ArticlePlan]:
        return [a for a in self.articles if a.kept]

    @property
    def total_bytes(self) -> int:
        return sum(self.volume_bytes)

    def fits(self) -> bool:
        return all(total <= self.budget.usable_bytes for total in self.volume_bytes)

    def selection(self, volume: int = 1) -> Selection:
        if not 1 <= volume <= self.volumes:
            raise InfopackError(f"the plan has {self.volumes} volume(s), not {volume}", path=self.content_dir)
        slugs = frozenset(a.slug for a in self.articles if a.kept and a.volume == volume)
        if not self.split:
            return Selection(slugs, self.media_profiles[0], None, None)
        return Selection(slugs, self.media_profiles[volume - 1], (volume, self.volumes), volume_id(self.bundle_id, volume))


def volume_id(bundle_id: str, volume: int) -> str:
    """`<id>-vol<N>`, the base cut so the whole stays within the 64 characters FORMAT.md allows."""
    suffix = f"-vol{volume}"
    return bundle_id[: 64 - len(suffix)].rstrip("-") + suffix


# ------------------------------------------------------------------------------------ estimates


class MediaCosts:
    """Estimated card bytes of each media source at each profile, computed once, in parallel.

    A reduced profile is used only where it really saves bytes: "small" always transcodes, which
    for an already small clip would cost more than keeping it.
    """

    def __init__(self, cluster: int, progress: Progress):
        self.cluster = cluster
        self.say = progress
        self.raw: dict[tuple[Path, str], int] = {}
        self.names: dict[Path, tuple[str, str]] = {}  # source -> (as shown, first article using it)

    def name_sources(self, articles: list[ArticlePlan], root: Path) -> None:
        """How a refusal names each source: relative to the content folder's parent (the form
        content.py uses), with the article that uses it first; never the machine's absolute path."""
        base = Path(root).resolve()
        for article in articles:
            for source in article.media:
                if source not in self.names:
                    self.names[source] = (shown_media_path(base, source), article.rel_path)

    def _estimate(self, source: Path, level: str) -> int:
        shown, used_by = self.names.get(source, (None, None))
        return media_stage.estimate_media(source, media_stage.get_profile(level), shown=shown, used_by=used_by)

    def compute(self, sources: list[Path], levels: tuple[str, ...]) -> None:
        wanted = [(s, level) for level in levels for s in sources if (s, level) not in self.raw]
        if not wanted:
            return
        self.say(f"estimating {len(wanted)} media sizes ({', '.join(levels)})")
        workers = max(1, min(len(wanted), os.cpu_count() or 1))
        # Threads suffice: ffprobe runs as a child process and Pillow releases the GIL to encode.
        with ThreadPoolExecutor(max_workers=workers) as pool:
            sizes = pool.map(lambda job: self._estimate(*job), wanted)
            for job, size in zip(wanted, sizes):
                self.raw[job] = size

    def file_bytes(self, source: Path, level: str) -> int:
        return self.raw[(source, level)]

    def effective_level(self, source: Path, level: str, floor: str = "default") -> str:
        """Among `floor` .. `level`, the level with the smallest estimate (the less reduced on a tie),
        so asking for a further reduction never makes a file bigger."""
        best = floor
        for candidate in LEVELS[LEVELS.index(floor) + 1 : LEVELS.index(level) + 1]:
            if self.raw[(source, candidate)] < self.raw[(source, best)]:
                best = candidate
        return best

    def card_bytes(self, source: Path, level: str) -> int:
        size = self.raw[(source, level)]
        # A video's poster is its own file, so it occupies (at least) one more cluster.
        extra = self.cluster if media_stage.media_kind(source) == "video" else 0
        return on_card(size, self.cluster) + extra + MEDIA_FINGERPRINT_BYTES


def shown_media_path(root: Path, source: Path) -> str:
    """`source` as `<content folder>/<path inside it>`, or just its name if it lies elsewhere."""
    try:
        return str(Path(root.name) / Path(source).relative_to(root))
    except ValueError:
        return Path(source).name


def _text_card_bytes(text_payload: int, html_bytes: int, cluster: int) -> int:
    """Data files + phone.html's inline copy + per-file overheads for a set of articles' text."""
    payload = text_payload + PAYLOAD_MINIMUM + (DICT_SIZE if html_bytes >= MIN_BYTES_FOR_DICT else 0)
    data_files = MIN_DATA_FILES + -(-payload // DATA_FILE_TARGET_BYTES)
    # Each data file wastes half a cluster on average; phone.html is omitted above ONE_FILE_LIMIT, and
    # capping (rather than dropping) keeps the cost monotone, so a plan never grows by leaving out.
    inline = min(int(payload * INLINE_EXPANSION), ONE_FILE_LIMIT)
    # library.pack holds every payload once more, plus its index (a name, two numbers and a
    # SHA-256 per data file) and, being one file, up to one cluster of slack; FORMAT.md section 8a.
    library_pack = payload + data_files * PACK_INDEX_PER_FILE + cluster
    return int(payload * DATA_FILE_EXPANSION) + inline + library_pack + data_files * (PER_DATA_FILE_BYTES + cluster // 2)


def viewer_bytes(content: Content, volume: tuple[int, int] | None = None) -> int:
    """Bytes of index.html as rendered for this content with an empty library."""
    # The build's own root document (an empty library has one slug shard and one facet shard).
    root = root_document(content, [], {}, slug_shards=1, facet_shards=1, search_meta={}, volume=volume)
    return len(render_viewer(root, content.settings.lang))


def fixed_bundle_bytes(content: Content, budget: Budget) -> int:
    """What any bundle of this content costs with no articles: the viewer twice (index.html and
    phone.html), manifest.json, SHA256SUMS and room for signatures, in whole clusters."""
    cluster = budget.cluster_bytes
    viewer = on_card(viewer_bytes(content, (99, 99)), cluster)
    return 2 * viewer + 2 * cluster + on_card(SIGNATURE_ALLOWANCE, cluster) + _text_card_bytes(0, 0, cluster)


# ------------------------------------------------------------------------------------ planning


def importance_order(articles: list[ArticlePlan]) -> list[ArticlePlan]:
    """Most important first: higher priority, then newer, then slug for a stable order."""
    by_slug = sorted(articles, key=lambda a: a.slug)
    return sorted(by_slug, key=lambda a: (a.priority, a.date), reverse=True)


def make_plan(content_dir: Path, budget: Budget, *, volumes: bool = False, progress: Progress | None = None) -> Plan:
    """Plan a build of `content_dir` for `budget`; reads the content, writes nothing."""
    say = progress or (lambda message: None)
    content_dir = Path(content_dir)
    content = load_content(content_dir)
    fixed = fixed_bundle_bytes(content, budget)
    if fixed > budget.usable_bytes:
        raise InfopackError(
            f"budget is smaller than the viewer itself: {budget.usable_bytes:,} usable bytes, "
            f"the viewer and its minimum data need {fixed:,}",
            path=budget.label,
        )
    articles = importance_order(_article_lines(content))
    say(f"planning {len(articles)} articles for {budget.label} ({budget.usable_bytes:,} usable bytes)")
    check_media_names(articles, content.root)
    costs = MediaCosts(budget.cluster_bytes, say)
    costs.name_sources(articles, content.root)
    sources = _unique_sources(articles)
    costs.compute(sources, ("default",))
    floors = _fat32_floors(sources, costs, articles)
    plan = Plan(budget, content_dir, content.settings.id, articles, fixed, split=volumes)
    for article in articles:
        article.default_bytes = _standalone_bytes(article, "default", costs, floors, budget.cluster_bytes)
    if volumes:
        _pack_volumes(plan, costs, floors)
    else:
        _fit_one_card(plan, costs, floors)
    return plan


def _article_lines(content: Content) -> list[ArticlePlan]:
    """Render every article once: that is how the build finds its media, and gives its real HTML."""
    rendered = render_all(content, content.articles)  # the build's own renderer, on every core
    search_bytes = _search_index_bytes(content.articles, rendered)
    text_lengths = [len(a.title) + len(a.summary) + len(r.text) + 1 for a, r in zip(content.articles, rendered)]
    total_length = sum(text_lengths)
    documents = [r.html.encode("utf-8") for r in rendered]
    frames = compress_frames(documents, train_dictionary(documents))
    return [
        ArticlePlan(
            slug=article.slug,
            rel_path=article.rel_path,
            priority=article.priority,
            date=article.date,
            html_bytes=len(document),
            text_payload=len(frame) + PAYLOAD_PER_ARTICLE + -(-search_bytes * length // total_length),
            media=tuple(result.media),
        )
        for article, result, document, frame, length in zip(content.articles, rendered, documents, frames, text_lengths)
    ]


def _search_index_bytes(articles: list[Article], rendered: list) -> int:
    """Payload bytes of the search index and the title-suggestion index the build would make for
    all these articles."""
    docs = [SearchDoc(i, a.lang, a.title, a.summary, r.text, a.aliases) for i, (a, r) in enumerate(zip(articles, rendered))]
    suggest = build_suggest_index([SuggestDoc(a.slug, a.lang, a.title, a.aliases, a.priority) for a in articles])
    return sum(len(payload) for payload in build_search_index(docs).payloads.values()) + sum(
        len(payload) for payload in suggest.payloads.values()
    )


def _unique_sources(articles: list[ArticlePlan]) -> list[Path]:
    return list(dict.fromkeys(source for article in articles for source in article.media))


def check_media_names(articles: list[ArticlePlan], root: Path | None = None) -> None:
    """FAT32 name rules for every media file the build will write (`media/<slug>-<n>...`)."""
    problems: list[Problem] = []
    paths: list[str] = []
    base = Path(root).resolve() if root is not None else None
    for article in articles:
        for number, source in enumerate(article.media, start=1):
            kind = media_kind(Path(source).suffix)
            if kind is None:  # the renderer refuses these first; named here too, before any estimate reads the file
                shown = shown_media_path(base, source) if base is not None else Path(source).name
                problems.append(Problem(article.rel_path, f"media file {shown}: unknown media type {Path(source).suffix.lower()!r}"))
                continue
            names = [f"media/{article.slug}-{number}.mp4", f"media/{article.slug}-{number}-poster.jpg"] if kind == "video" else [
                f"media/{article.slug}-{number}{'.jpg' if kind == 'image' else '.mp3'}"
            ]
            for name in names:
                problem = check_bundle_path(name)
                if problem is not None:
                    problems.append(Problem(article.rel_path, f"media file name {name!r} cannot go on a card: {problem}"))
            paths += names
    for first, second in find_collisions(paths):
        problems.append(Problem(second, f"same name as {first} on a case-insensitive card"))
    if problems:
        raise InfopackError(problems)


def _fat32_floors(sources: list[Path], costs: MediaCosts, articles: list[ArticlePlan]) -> dict[Path, str]:
    """The least reduced profile at which each source fits in one FAT32 file (< 4 GiB).

    A video too big even at "tiny" stops the plan, naming the file.
    """
    limit = FAT32_MAX_FILE_BYTES
    too_big = [s for s in sources if costs.file_bytes(s, "default") > limit]
    floors = {source: "default" for source in sources}
    if not too_big:
        return floors
    costs.compute(too_big, LEVELS[1:])
    problems: list[Problem] = []
    for source in too_big:
        fitting = [level for level in LEVELS[1:] if costs.file_bytes(source, level) <= limit]
        if fitting:
            floors[source] = fitting[0]
        else:
            tiny = costs.file_bytes(source, "tiny")
            shown, user = costs.names.get(source, (source.name, next(a.rel_path for a in articles if source in a.media)))
            problems.append(Problem(shown, f"over the FAT32 file limit of 4 GiB even at the smallest profile "
                                                 f"(about {tiny:,} bytes); cut it into parts (used by {user})"))
    if problems:
        raise InfopackError(problems)
    return floors


def _level_for(source: Path, article: ArticlePlan, costs: MediaCosts, floors: dict[Path, str]) -> str:
    floor = floors[source]
    wanted = max(article.profile, floor, key=LEVELS.index)
    return costs.effective_level(source, wanted, floor)


def _standalone_bytes(article: ArticlePlan, profile: str, costs: MediaCosts, floors: dict[Path, str], cluster: int) -> int:
    """What the article costs on its own at `profile`: its text share and all its media."""
    asked = replace(article, profile=profile)
    text = _text_card_bytes(article.text_payload, 0, cluster) - _text_card_bytes(0, 0, cluster)
    return text + sum(costs.card_bytes(s, _level_for(s, asked, costs, floors)) for s in article.media)


@dataclass(frozen=True)
class VolumeCost:
    """What one bundle holding `members` costs: its total on the card, the profile of each of its
    media, and per member (in order) the most reduced level its media are built at and its share."""

    total: int
    profiles: dict[Path, str]
    figures: list[tuple[str, int]]  # (media_level, planned_bytes) per member

    def apply(self, members: list[ArticlePlan]) -> None:
        for article, (level, planned) in zip(members, self.figures, strict=True):
            article.media_level, article.planned_bytes = level, planned


def _volume_cost(members: list[ArticlePlan], plan: Plan, costs: MediaCosts, floors: dict[Path, str]) -> VolumeCost:
    """Total card bytes of one bundle holding `members` (most important first), and the profile of
    each of its media. A source shared by several articles is prepared once, at the level of its
    most important user, which is also the least reduced (reductions go least important first).
    Each article's planned bytes are its text share plus the media it is first to use. Reads
    `members`, changes nothing."""
    cluster = plan.budget.cluster_bytes
    profiles: dict[Path, str] = {}
    figures: list[tuple[str, int]] = []
    text_total = html_total = media_total = 0
    for article in members:
        own_media = 0
        for source in article.media:
            if source not in profiles:
                profiles[source] = _level_for(source, article, costs, floors)
                own_media += costs.card_bytes(source, profiles[source])
        media_level = max((profiles[s] for s in article.media), key=LEVELS.index, default="default")
        text_share = _text_card_bytes(article.text_payload, 0, cluster) - _text_card_bytes(0, 0, cluster)
        figures.append((media_level, text_share + own_media))
        text_total += article.text_payload
        html_total += article.html_bytes
        media_total += own_media
    total = plan.fixed_bytes - _text_card_bytes(0, 0, cluster) + _text_card_bytes(text_total, html_total, cluster) + media_total
    return VolumeCost(total, profiles, figures)


def _fit_one_card(plan: Plan, costs: MediaCosts, floors: dict[Path, str]) -> None:
    """Walk the reduction steps (small, tiny, leave out; least important first) until it fits.

    Every step can only lower the total, so the first step that fits is found by a galloping
    search (1, 2, 4, ... steps, then bisection): few totals are computed for libraries of many
    thousands of articles, and reduced sizes are estimated only for the articles the search
    reaches, which matters because each estimate encodes an image or probes a clip.

    The search works on candidate states (copies of the article lines), never on the plan; the
    chosen state is written into `plan.articles` once, at the end.
    """
    articles = plan.articles
    steps = _reduction_steps(articles)

    def state_after(count: int) -> list[ArticlePlan]:
        state = _state_after(articles, steps, count)
        _estimate_reductions(state, costs)
        return state

    def total_after(count: int) -> int:
        return _volume_cost([a for a in state_after(count) if a.kept], plan, costs, floors).total

    usable = plan.budget.usable_bytes
    chosen = state_after(0)
    if _volume_cost([a for a in chosen if a.kept], plan, costs, floors).total > usable:
        high = 1
        while high < len(steps) and total_after(high) > usable:
            high *= 2
        # total_after(high // 2) did not fit; all steps leave only the fixed part, which fits.
        low, high = high // 2 + 1, min(high, len(steps))
        while low < high:
            middle = (low + high) // 2
            if total_after(middle) <= usable:
                high = middle
            else:
                low = middle + 1
        chosen = _refill(state_after(low), plan, costs, floors)
    for article, final in zip(articles, chosen, strict=True):
        article.profile, article.kept = final.profile, final.kept
        article.media_level, article.planned_bytes = "default", 0  # what a left-out article shows
    kept = [a for a in articles if a.kept]
    cost = _volume_cost(kept, plan, costs, floors)
    cost.apply(kept)
    plan.volumes = 1
    plan.volume_bytes = [cost.total]
    plan.media_profiles = [cost.profiles]


def _refill(state: list[ArticlePlan], plan: Plan, costs: MediaCosts, floors: dict[Path, str]) -> list[ArticlePlan]:
    """Leaving out goes strictly by importance, so a large important article may have been left
    out while smaller, less important ones would still fit in the room that is left. Add those back,
    most important first, each only if it fits: nothing kept is displaced or reduced further.
    Returns a new state; `state` is not changed."""
    cluster = plan.budget.cluster_bytes
    kept = [a for a in state if a.kept]
    cost = _volume_cost(kept, plan, costs, floors)
    profiles = dict(cost.profiles)
    text_total = sum(a.text_payload for a in kept)
    html_total = sum(a.html_bytes for a in kept)
    media_total = cost.total - plan.fixed_bytes + _text_card_bytes(0, 0, cluster) - _text_card_bytes(text_total, html_total, cluster)
    refilled = list(state)
    for index, article in enumerate(state):
        if article.kept:
            continue
        new_sources = [s for s in dict.fromkeys(article.media) if s not in profiles]
        costs.compute(new_sources, LEVELS[1 : LEVELS.index(article.profile) + 1])
        levels = {s: _level_for(s, article, costs, floors) for s in new_sources}
        media = sum(costs.card_bytes(s, level) for s, level in levels.items())
        text = _text_card_bytes(text_total + article.text_payload, html_total + article.html_bytes, cluster)
        if plan.fixed_bytes - _text_card_bytes(0, 0, cluster) + text + media_total + media > plan.budget.usable_bytes:
            continue
        refilled[index] = replace(article, kept=True)
        profiles.update(levels)
        text_total += article.text_payload
        html_total += article.html_bytes
        media_total += media
    if _volume_cost([a for a in refilled if a.kept], plan, costs, floors).total > plan.budget.usable_bytes:
        return state  # cannot happen while costs add up as above; never risk a card
    return refilled


def _estimate_reductions(articles: list[ArticlePlan], costs: MediaCosts) -> None:
    """Estimate every reduced size the state `articles` asks about (once each)."""
    for index, level in enumerate(LEVELS[1:], start=1):
        wanted = [a for a in articles if a.kept and LEVELS.index(a.profile) >= index]
        costs.compute(_unique_sources(wanted), (level,))


def _reduction_steps(articles: list[ArticlePlan]) -> list[tuple[int, str | None]]:
    """(article index, new profile or None for leave out), in the order they are applied."""
    least_first = range(len(articles) - 1, -1, -1)
    steps: list[tuple[int, str | None]] = []
    for level in LEVELS[1:]:
        steps += [(i, level) for i in least_first if articles[i].media]
    return steps + [(i, None) for i in least_first]


def _state_after(articles: list[ArticlePlan], steps: list[tuple[int, str | None]], count: int) -> list[ArticlePlan]:
    """The article lines after the first `count` steps, starting from every article kept at
    "default": unchanged lines are shared, changed ones are copies. `articles` is not changed."""
    changes: dict[int, tuple[str, bool]] = {}
    for index, level in steps[:count]:
        profile, _ = changes.get(index, ("default", True))
        changes[index] = (profile, False) if level is None else (level, True)
    state = [replace(a, profile="default", kept=True) if (a.profile, a.kept) != ("default", True) else a for a in articles]
    for index, (profile, kept) in changes.items():
        state[index] = replace(articles[index], profile=profile, kept=kept)
    return state


def _pack_volumes(plan: Plan, costs: MediaCosts, floors: dict[Path, str]) -> None:
    """First fit, most important first: each article goes into the first volume with room for it,
    so volume 1 holds the most important articles. An article bigger than a whole card is reduced;
    one too big even at "tiny" is left out."""
    cluster = plan.budget.cluster_bytes
    room = plan.budget.usable_bytes - plan.fixed_bytes
    used: list[int] = []
    sources_in: list[set[Path]] = []
    for article in plan.articles:
        article.profile = _smallest_fitting_profile(article, room, costs, floors, cluster)
        if article.profile is None:
            article.profile, article.kept = "default", False
            continue
        for number in range(len(used) + 1):
            if number == len(used):
                used.append(0)
                sources_in.append(set())
            # Conservative: text is counted uncapped, and shared media once per volume.
            asked = _standalone_bytes(replace(article, media=tuple(s for s in article.media if s not in sources_in[number])),
                                      article.profile, costs, floors, cluster)
            if used[number] + asked <= room:
                used[number] += asked
                sources_in[number].update(article.media)
                article.volume = number + 1
                break
    plan.volumes = max(1, len(used))
    plan.volume_bytes, plan.media_profiles = [], []
    for number in range(1, plan.volumes + 1):
        members = [a for a in plan.articles if a.kept and a.volume == number]
        cost = _volume_cost(members, plan, costs, floors)
        cost.apply(members)
        plan.volume_bytes.append(cost.total)
        plan.media_profiles.append(cost.profiles)
    for article in plan.articles:
        if not article.kept:
            article.planned_bytes = 0


def _smallest_fitting_profile(article: ArticlePlan, room: int, costs: MediaCosts, floors: dict[Path, str], cluster: int) -> str | None:
    """"default" when the article fits an empty card; else the least reduction that fits; else None."""
    for level in LEVELS:
        if level != "default":
            costs.compute(list(article.media), (level,))
        if _standalone_bytes(article, level, costs, floors, cluster) <= room:
            return level
    return None
