"""`infopack export BUNDLE --zim OUT.zim`: a verified bundle as a ZIM file that Kiwix opens.

1. The bundle is verified (trust.verify.verify_bundle): a damaged or untrusted bundle is refused
   and nothing is written. The manifest bytes whose signatures were checked are kept, and every
   file read afterwards must match them, so a file swapped after verification is refused too.
2. Entries (export/zimfile.py does the format):
   - `C/<slug>`: each article as a small standalone HTML page (export/pages.py), a front article;
   - `C/media/<name>`: every media file, bytes unchanged, in uncompressed clusters;
   - `C/_main`: a generated page listing the articles; `W/mainPage` redirects to it
     (`_` cannot start a slug, so the name never collides with an article);
   - `M/...`: Name, Title, Language, Creator, Publisher, Date, Description, Illustration_48x48@1,
     Counter, Scraper, Tags, and LongDescription when the description is longer than 80 characters.
3. The file is written under a temporary name beside OUT and renamed into place once complete,
   so an interrupted export never leaves a file that looks like a ZIM. `split_size` cuts it into
   Kiwix's split form (OUT.zimaa, OUT.zimab, ...) for FAT32 cards.

There is no full-text index (Kiwix's is Xapian, GPL): Kiwix searches titles of such files.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import re
import stat
import tempfile
import unicodedata
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from infopack.atomic import fsync_directory
from infopack.errors import InfopackError, UsageProblem
from infopack.export import pages
from infopack.export.languages import iso_639_3
from infopack.export.png import illustration
from infopack.export.zimfile import DEFAULT_CLUSTER_SIZE, DEFAULT_LEVEL, Blob, Entry, ZimWriter
from infopack.format.constants import FAT32_MAX_FILE_BYTES, SIGNATURE_NAME, SIGNATURES_DIR
from infopack.format.manifest import Manifest
from infopack.format.read import BundleReader, CatalogEntry
from infopack.progress import Progress
from infopack.trust.keys import PublicKey
from infopack.trust.sign import read_manifest_bytes
from infopack.trust.verify import VerifyReport, check_release, verify_bundle

MAIN_PAGE_PATH = "_main"
TITLE_LIMIT = 30
DESCRIPTION_LIMIT = 80
LONG_DESCRIPTION_LIMIT = 4000
SIGNATURE_READ_LIMIT = 4097  # one byte over minisign's 4,096 so an oversized file is refused
# Below FAT32's 4 GiB - 1 byte, on a whole MiB: the part size `--split` uses by default.
DEFAULT_SPLIT_SIZE = (FAT32_MAX_FILE_BYTES // (1024 * 1024)) * 1024 * 1024
PART_LETTERS = "abcdefghijklmnopqrstuvwxyz"

MEDIA_TYPES = {
    ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif",
    ".webp": "image/webp", ".svg": "image/svg+xml",
    ".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".aac": "audio/aac", ".ogg": "audio/ogg",
    ".oga": "audio/ogg", ".opus": "audio/ogg", ".wav": "audio/wav", ".flac": "audio/flac",
    ".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime", ".webm": "video/webm",
    ".mkv": "video/x-matroska", ".ogv": "video/ogg", ".vtt": "text/vtt",
}
COMPRESSIBLE_MEDIA = {"image/svg+xml", "text/vtt"}
ARTICLE_MIME = "text/html"
METADATA_MIME = "text/plain;charset=UTF-8"


@dataclass(frozen=True)
class ExportResult:
    paths: list[Path]  # OUT.zim, or its parts OUT.zimaa, OUT.zimab, ...
    articles: int
    media: int
    size: int


# ----------------------------------------------------------------------------- verification


def _signature_sources(bundle_dir: Path) -> list[tuple[str, bytes]]:
    """The signature files in BUNDLE/signatures/, read once (regular files with signature names)."""
    directory = bundle_dir / SIGNATURES_DIR
    found: list[tuple[str, bytes]] = []
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return found
    for name in names:
        if not SIGNATURE_NAME.fullmatch(name):
            continue
        try:
            fd = os.open(directory / name, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue  # verify_bundle has just reported what is wrong with it
        with os.fdopen(fd, "rb") as handle:
            if stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                found.append((f"{SIGNATURES_DIR}/{name}", handle.read(SIGNATURE_READ_LIMIT)))
    return found


def _first_problem(report: VerifyReport) -> str:
    if report.problems:
        first = report.problems[0]
        more = len(report.problems) - 1
        return f"{first}" + (f" (and {more} more problem{'s' * (more > 1)})" if more else "")
    return "not signed by enough trusted keys"


def verified_manifest(bundle_dir: Path, trusted: Sequence[PublicKey], threshold: int) -> Manifest:
    """The manifest of BUNDLE, after `verify` found the bundle intact and signed by THRESHOLD
    trusted keys. Raises one line (exit 1) for a damaged or untrusted bundle."""
    manifest_bytes = read_manifest_bytes(bundle_dir) if (bundle_dir / "manifest.json").is_file() else b""
    report = verify_bundle(bundle_dir, trusted, threshold=threshold)
    if not report.ok:
        raise InfopackError(f"refused, not exported: {_first_problem(report)}; `infopack verify` shows every problem", bundle_dir)
    # The bytes read before verification must be a release the same keys signed (a manifest
    # swapped during verification is refused); every later read is checked against them.
    again = VerifyReport(str(bundle_dir), threshold)
    manifest = check_release(
        manifest_bytes, _signature_sources(bundle_dir), trusted, threshold, {}, dt.date.today(), again
    )
    if manifest is None or not again.ok or manifest.bundle != report.bundle:
        raise InfopackError("refused, not exported: manifest.json changed while it was verified", bundle_dir)
    return manifest


# ----------------------------------------------------------------------------- metadata


def _cut(text: str, limit: int) -> str:
    """At most `limit` characters (NFC code points), cut at a word boundary when one is near."""
    text = unicodedata.normalize("NFC", " ".join(text.split()))
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:·-") + "…"


def _languages(bundle_lang: str, article_langs: Counter[str]) -> str:
    """ISO 639-3 codes, the bundle's language first, then the others by article count."""
    ordered = [bundle_lang] + [lang for lang, _ in sorted(article_langs.items(), key=lambda kv: (-kv[1], kv[0]))]
    codes: list[str] = []
    for lang in ordered:
        code = iso_639_3(lang)
        if code is None:
            raise InfopackError(f"language {lang!r} has no ISO 639-3 code known to infopack", "manifest.json")
        if code not in codes:
            codes.append(code)
    return ",".join(codes)


def metadata(manifest: Manifest, article_langs: Counter[str], counter: str) -> dict[str, bytes]:
    info = manifest.bundle
    title = _cut(info.title, TITLE_LIMIT) or info.id
    description = " ".join(info.description.split()) or info.title
    by = info.publisher.strip() or "infopack"  # a blank publisher stays unnamed
    values = {
        "Name": info.id,
        "Title": title,
        "Language": _languages(info.lang, article_langs),
        "Creator": by,
        "Publisher": by,
        "Date": info.created,
        "Description": _cut(description, DESCRIPTION_LIMIT),
        "Scraper": "infopack",
        "Tags": "_ftindex:no",
        "Counter": counter,
    }
    if len(description) > DESCRIPTION_LIMIT:
        values["LongDescription"] = _cut(description, LONG_DESCRIPTION_LIMIT)
    encoded = {key: value.encode("utf-8") for key, value in values.items()}
    encoded["Illustration_48x48@1"] = illustration(info.id)
    return encoded


def zim_uuid(manifest: Manifest) -> bytes:
    """The same bundle always gives the same UUID; another release (or other files) another."""
    sums = next((entry.sha256 for entry in manifest.files if entry.path == "SHA256SUMS"), "")
    seed = f"infopack-zim-uuid\0{manifest.bundle.id}\0{manifest.bundle.sequence}\0{sums}"
    return hashlib.sha256(seed.encode("utf-8")).digest()[:16]


# ----------------------------------------------------------------------------- entries


def media_mime(path: str) -> str:
    return MEDIA_TYPES.get(os.path.splitext(path)[1].lower(), "application/octet-stream")


@dataclass
class _Plan:
    entries: list[Entry]
    catalog: list[CatalogEntry]
    media: list[str]
    meta: dict[str, bytes]


def _plan(reader: BundleReader, manifest: Manifest) -> _Plan:
    catalog = list(reader.catalog())
    media = reader.media_paths()
    entries = [Entry("C", entry.slug, entry.title, ARTICLE_MIME, front=True) for entry in catalog]
    entries += [Entry("C", path, "", media_mime(path), compress=media_mime(path) in COMPRESSIBLE_MEDIA) for path in media]
    entries.append(Entry("C", MAIN_PAGE_PATH, manifest.bundle.title or manifest.bundle.id, ARTICLE_MIME))
    entries.append(Entry("W", "mainPage", target=("C", MAIN_PAGE_PATH)))
    counts = Counter(entry.mime for entry in entries if entry.namespace == "C")
    counter = ";".join(f"{mime}={count}" for mime, count in sorted(counts.items()))
    meta = metadata(manifest, Counter(entry.lang for entry in catalog), counter)
    for key in sorted(meta):
        mime = "image/png" if key.startswith("Illustration") else METADATA_MIME
        entries.append(Entry("M", key, "", mime, compress=not key.startswith("Illustration")))
    return _Plan(entries, catalog, media, meta)


def _blobs(reader: BundleReader, plan: _Plan, manifest: Manifest, say: Progress) -> Iterator[Blob]:
    slugs = frozenset(entry.slug for entry in plan.catalog)
    media = frozenset(plan.media)
    info = manifest.bundle
    yield Blob(("C", MAIN_PAGE_PATH), data=pages.main_page(
        info.title or info.id, info.description, info.lang,
        [(entry.slug, entry.title, entry.date) for entry in plan.catalog],
    ))
    for key in sorted(plan.meta):
        yield Blob(("M", key), data=plan.meta[key])
    step = max(500, len(plan.catalog) // 10)
    for number, article in enumerate(reader.articles()):
        entry = article.entry
        body = pages.rewrite_article_html(article.html, slugs, media)
        yield Blob(("C", entry.slug), data=pages.article_page(entry.title, entry.lang, entry.date, body))
        if (number + 1) % step == 0:
            say(f"articles: {number + 1:,} of {len(plan.catalog):,}")
    for path in plan.media:
        size = reader.media_size(path)
        yield Blob(("C", path), size=size, pieces=reader.media_chunks(path))
    if plan.media:
        say(f"media: {len(plan.media):,} files")


# ----------------------------------------------------------------------------- output


def part_paths(out: Path, count: int) -> list[Path]:
    """OUT.zimaa, OUT.zimab, ... (Kiwix's split form); `count` at most 26 * 26."""
    names = [a + b for a in PART_LETTERS for b in PART_LETTERS][:count]
    return [out.with_name(out.name + suffix) for suffix in names]


def existing_outputs(out: Path) -> list[Path]:
    """OUT and any split parts of it already there."""
    pattern = re.compile(re.escape(out.name) + "[a-z]{2}")
    found = [out] if os.path.lexists(out) else []
    with contextlib.suppress(OSError):
        found += sorted(out.parent / name for name in os.listdir(out.parent) if pattern.fullmatch(name))
    return found


def check_output(bundle_dir: Path, out: Path, force: bool) -> None:
    if out.suffix != ".zim":
        raise UsageProblem("the ZIM file's name must end in .zim (Kiwix looks for it)", out)
    if not out.parent.is_dir():
        raise UsageProblem("its folder does not exist", out)
    inside = out.parent.resolve()
    if inside == bundle_dir.resolve() or bundle_dir.resolve() in inside.parents:
        raise UsageProblem("is inside the bundle (the bundle would no longer verify)", out)
    present = existing_outputs(out)
    if present and not force:
        raise InfopackError("already exists; use --force to replace it", present[0])
    if any(path.is_dir() and not path.is_symlink() for path in present):
        raise InfopackError("is a folder", present[0])


def _split_in_place(handle_path: Path, size: int, part_size: int) -> list[Path]:
    """Cut the finished file into parts (temporary names), last part first, so the extra disk
    space needed is one part, not a second copy. Returns the temporary parts in order."""
    count = -(-size // part_size)
    if count > len(PART_LETTERS) ** 2:
        raise InfopackError(f"would need {count} parts; use a larger --split-size", handle_path)
    temporaries = [handle_path]
    tails: list[Path] = []
    with open(handle_path, "r+b") as whole:
        for number in range(count - 1, 0, -1):
            fd, name = tempfile.mkstemp(prefix=f"{handle_path.name}.part{number}.", dir=handle_path.parent)
            tails.insert(0, Path(name))
            with os.fdopen(fd, "wb") as part:
                whole.seek(number * part_size)
                remaining = min(part_size, size - number * part_size)
                while remaining:
                    piece = whole.read(min(remaining, 1024 * 1024))
                    part.write(piece)
                    remaining -= len(piece)
                part.flush()
                os.fsync(part.fileno())
            whole.truncate(number * part_size)
        whole.flush()
        os.fsync(whole.fileno())
    return temporaries + tails


def _remove_old_outputs(out: Path) -> None:
    # The first part (or the single file) goes first: without it nothing opens as a ZIM.
    for path in existing_outputs(out):
        path.unlink()


def _created_stamp(manifest: Manifest) -> float:
    created = dt.date.fromisoformat(manifest.bundle.created)
    return dt.datetime.combine(created, dt.time(), dt.UTC).timestamp()


def export_zim(
    bundle_dir: Path,
    out: Path,
    trusted: Sequence[PublicKey],
    *,
    threshold: int = 1,
    force: bool = False,
    split_size: int | None = None,
    cluster_size: int = DEFAULT_CLUSTER_SIZE,
    level: int = DEFAULT_LEVEL,
    progress: Progress | None = None,
) -> ExportResult:
    """Verify BUNDLE, then write it as OUT (a ZIM). With `split_size`, a file larger than that is
    written as OUT.zimaa, OUT.zimab, ... each at most `split_size` bytes."""
    say = progress or (lambda message: None)
    bundle_dir, out = Path(bundle_dir), Path(out)
    if split_size is not None and split_size < 1024:
        raise UsageProblem("the split size must be at least 1024 bytes", out)
    check_output(bundle_dir, out, force)
    manifest = verified_manifest(bundle_dir, trusted, threshold)
    say(f"verified {bundle_dir}")
    reader = BundleReader(bundle_dir, manifest)
    plan = _plan(reader, manifest)
    uuid = zim_uuid(manifest)

    fd, temporary_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    temporary = Path(temporary_name)
    parts: list[Path] = [temporary]
    try:
        with os.fdopen(fd, "w+b") as handle:
            writer = ZimWriter(handle, plan.entries, uuid=uuid, main_page=("W", "mainPage"),
                               cluster_size=cluster_size, level=level)
            writer.write(_blobs(reader, plan, manifest, say))
            handle.flush()
            os.fsync(handle.fileno())
            size = handle.tell()
        if split_size is not None and size > split_size:
            parts = _split_in_place(temporary, size, split_size)
            finals = part_paths(out, len(parts))
        else:
            finals = [out]
        _remove_old_outputs(out)
        # Last part first: until the first one is in place, no name opens as a ZIM.
        stamp = _created_stamp(manifest)
        for part, final in reversed(list(zip(parts, finals, strict=True))):
            os.chmod(part, 0o644)
            os.utime(part, (stamp, stamp))  # the content's date, as for bundle files, not the clock
            os.replace(part, final)
        fsync_directory(out.parent)
    except BaseException:
        for part in parts:
            with contextlib.suppress(OSError):
                part.unlink()
        raise
    say(f"wrote {', '.join(str(p) for p in finals)}")
    return ExportResult(finals, len(plan.catalog), len(plan.media), size)
