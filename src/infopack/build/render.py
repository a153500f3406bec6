"""Render an article (Markdown, HTML fragment or plain text) to a safe HTML fragment.

Pipeline per article:
  1. source -> HTML (markdown-it-py for .md; paragraphs for .txt; as-is for .html)
  2. nh3 sanitises with a broad allowlist (drops scripts, handlers, frames, forms, styles ...)
  3. our rewriter turns links and media into the only forms a bundle may hold:
     - a link to another article -> `#/a/<slug>`
     - an external link -> visible, non-navigating text `<span class="ext">text <span class="url">(url)</span></span>`
     - media -> a placeholder that the media stage replaces with `media/<name>`
     - remote images are dropped (the viewer must never reach the network)
     and collects the plain text for the search index on the way.
  4. after media are prepared, `finish_html` fills in media names and nh3 checks once more with the
     final, strict allowlist (docs/FORMAT.md section 12), as a last gate.
"""

from __future__ import annotations

import html
import os
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nh3
from markdown_it import MarkdownIt

from infopack.content.media_kinds import AUDIO_SUFFIXES, VIDEO_SUFFIXES, describe_accepted, media_kind
from infopack.content.model import Article

BLOCK_TAGS = {
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote", "pre", "figure",
    "figcaption", "table", "thead", "tbody", "tr", "th", "td", "caption", "div", "hr", "br",
}  # fmt: skip
INLINE_TAGS = {"code", "em", "strong", "b", "i", "u", "s", "sub", "sup", "a", "span", "abbr", "mark", "small"}
MEDIA_TAGS = {"img", "audio", "video", "source"}
FINAL_TAGS = (BLOCK_TAGS - {"h1"}) | INLINE_TAGS | MEDIA_TAGS

FIRST_PASS_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "audio": {"src"},
    "video": {"src", "width", "height"},
    "source": {"src", "type"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "ol": {"start"},
    "abbr": {"title"},
}
FINAL_ATTRIBUTES = {
    "a": {"href"},
    "img": {"src", "alt", "title", "width", "height", "loading"},
    "audio": {"src", "controls", "preload"},
    "video": {"src", "controls", "preload", "poster", "width", "height"},
    "source": {"src", "type"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "ol": {"start"},
    "abbr": {"title"},
}
EXTERNAL_SCHEMES = {"http", "https", "mailto", "ftp", "tel"}
# Media placeholders are wrapped in two Unicode noncharacters. Article text can never produce them:
# render_article replaces both characters in the sanitised source first, and html.unescape turns a
# character reference to a noncharacter into nothing. So `%%MEDIA0%%` or anything else an article
# says is copied as text, and every placeholder finish_html fills in is one the rewriter wrote.
PLACEHOLDER_OPEN, PLACEHOLDER_CLOSE = "\ufdd0", "\ufdd1"
PLACEHOLDER_RE = re.compile(PLACEHOLDER_OPEN + r"(MEDIA|POSTER)(\d+)" + PLACEHOLDER_CLOSE)
_PLACEHOLDER_CHARS_RE = re.compile(f"[{PLACEHOLDER_OPEN}{PLACEHOLDER_CLOSE}]")
# nh3 (html5ever) serialises canonically: lower-case names, attribute values always in double
# quotes with `"` and `&` escaped, `<` in text escaped. So after the first nh3 pass every `<` starts
# a tag and these two patterns tokenise exactly; the final nh3 pass is the safety gate regardless.
REWRITTEN_TAG_RE = re.compile(r'<(/?)(a|img|audio|video|source|h1)(?=[\s/>])((?:\s+[^\s"=>/]+(?:="[^"]*")?)*)\s*/?>')
ANY_TAG_RE = re.compile(r'<(?:[^>"]|"[^"]*")*>')
BLOCK_TAG_RE = re.compile(r'</?(?:' + "|".join(sorted(BLOCK_TAGS, key=len, reverse=True)) + r')(?=[\s/>])(?:[^>"]|"[^"]*")*>')
URL_SPAN_RE = re.compile(r'<span class="url">[^<]*</span>')
ATTRIBUTE_RE = re.compile(r'([^\s"=>/]+)(?:="([^"]*)")?')

_markdown = MarkdownIt("commonmark", {"html": True, "linkify": False, "typographer": False}).enable("table")


@dataclass
class RenderedArticle:
    html: str  # sanitised, with media placeholders still in it
    text: str  # plain text for the search index
    media: list[Path] = field(default_factory=list)  # source files, in order of first use
    media_names: list[str] = field(default_factory=list)  # their names in the bundle, once prepared
    problems: list[str] = field(default_factory=list)  # e.g. missing media: the build stops
    problem_lines: list[int] = field(default_factory=list)  # each problem's line in the file, 0 if unknown
    warnings: list[str] = field(default_factory=list)  # e.g. remote images dropped, broken links


def source_to_html(article: Article) -> str:
    if article.body_format == "md":
        return _markdown.render(article.body)
    if article.body_format == "txt":
        return text_to_html(article.body)
    return article.body


def text_to_html(text: str) -> str:
    """Plain text: blank lines separate paragraphs; single line breaks are kept as <br>."""
    paragraphs = [p.strip("\n") for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "\n".join(
        "<p>" + "<br>\n".join(html.escape(line.strip(), quote=False) for line in p.split("\n")) + "</p>"
        for p in paragraphs
    )


def render_article(article: Article, content_root: Path, slugs_by_path: dict[str, str], slugs: set[str]) -> RenderedArticle:
    """Render one article; problems are collected, not raised, so the build reports them all.

    `slugs_by_path` maps every article file's resolved path, as a string, to its slug.
    """
    first_pass = nh3.clean(
        source_to_html(article),
        tags=FINAL_TAGS | {"h1"},
        clean_content_tags={"script", "style", "template", "iframe", "object", "embed", "noscript", "svg", "math"},
        attributes=FIRST_PASS_ATTRIBUTES,
        strip_comments=True,
        link_rel=None,
        url_schemes=EXTERNAL_SCHEMES,
    )
    first_pass = _PLACEHOLDER_CHARS_RE.sub("\ufffd", first_pass)  # see PLACEHOLDER_RE
    rewriter = _Rewriter(article, content_root.resolve(), slugs_by_path, slugs)
    rewriter.rewrite(first_pass)
    rewritten = "".join(rewriter.out)
    return RenderedArticle(
        html=rewritten,
        text=html_to_text(rewritten),
        media=rewriter.media,
        problems=rewriter.problems,
        problem_lines=rewriter.problem_lines,
        warnings=rewriter.warnings,
    )


def finish_html(rendered_html: str, media_names: list[str], poster_names: list[str | None]) -> str:
    """Fill in final media names, then sanitise once more with the strict final allowlist."""

    def substitute(match: re.Match[str]) -> str:
        index = int(match.group(2))
        if match.group(1) == "MEDIA":
            return media_names[index]
        # The poster placeholder stands for the whole attribute: a clip without a poster has none.
        poster = poster_names[index]
        return f' poster="media/{poster}"' if poster else ""

    filled = PLACEHOLDER_RE.sub(substitute, rendered_html)
    return sanitize_final(filled)


def sanitize_final(fragment: str) -> str:
    return nh3.clean(
        fragment,
        tags=FINAL_TAGS,
        clean_content_tags={"script", "style"},
        attributes=FINAL_ATTRIBUTES,
        allowed_classes={"span": {"ext", "url"}, "figure": {"media"}},
        strip_comments=True,
        link_rel=None,
        url_schemes=set(),  # only relative URLs survive: `#/a/<slug>` and `media/<name>`
    )


def html_to_text(fragment: str) -> str:
    """Plain text for the search index: block tags become line breaks; link URLs are left out."""
    text = ANY_TAG_RE.sub("", BLOCK_TAG_RE.sub("\n", URL_SPAN_RE.sub("", fragment)))
    return _collapse_text(html.unescape(text))


def _collapse_text(text: str) -> str:
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


class _Rewriter:
    """Rewrites links and media of already-sanitised HTML; collects plain text and media sources."""

    def __init__(self, article: Article, root: Path, slugs_by_path: dict[str, str], slugs: set[str]):
        self.article = article
        self.root = root
        self.base_dir = article.source_path.resolve().parent
        self.base_dir_text = str(self.base_dir)
        self.slugs_by_text = slugs_by_path
        self.slugs = slugs
        self.out: list[str] = []
        self.media: list[Path] = []
        self.problems: list[str] = []
        self.problem_lines: list[int] = []
        self.warnings: list[str] = []
        self.link_stack: list[tuple[str, str]] = []  # per open <a>: (element written, external URL)

    def rewrite(self, sanitised: str) -> None:
        """Copy the HTML, rewriting only the tags that carry links or media (and h1)."""
        position = 0
        for match in REWRITTEN_TAG_RE.finditer(sanitised):
            self.out.append(sanitised[position : match.start()])
            closing, tag, attribute_text = match.groups()
            if closing:
                self.handle_endtag(tag)
            else:
                attributes = {name: html.unescape(value or "") for name, value in ATTRIBUTE_RE.findall(attribute_text)}
                self.handle_starttag(tag, attributes)
            position = match.end()
        self.out.append(sanitised[position:])

    def handle_starttag(self, tag: str, attributes: dict[str, str]) -> None:
        if tag == "h1":
            self.out.append("<h2>")  # the viewer shows the title as the page's only h1
        elif tag == "a":
            self._open_link(attributes.get("href", ""))
        else:
            self._media_tag(tag, attributes)

    def handle_endtag(self, tag: str) -> None:
        if tag == "h1":
            self.out.append("</h2>")
        elif tag == "a":
            kind, url = self.link_stack.pop() if self.link_stack else ("a", "")
            if kind == "ext":
                self.out.append(f' <span class="url">({html.escape(url)})</span></span>')
            else:
                self.out.append(f"</{kind}>")
        elif tag in ("audio", "video"):
            self.out.append(f"</{tag}>")

    # -- links --

    def _open_link(self, href: str) -> None:
        href = href.strip()
        parts = urlsplit(href)
        if not href:  # e.g. a javascript: link whose href the sanitiser removed
            self.out.append("<span>")
            self.link_stack.append(("span", ""))
        elif parts.scheme or href.startswith("//"):
            # Visible but not clickable: CSP cannot stop a click on an external link.
            self.out.append('<span class="ext">')
            self.link_stack.append(("ext", href))
        elif href.startswith("#"):
            self.out.append(f'<a href="{html.escape(href)}">')
            self.link_stack.append(("a", ""))
        elif (slug := self._article_slug(parts.path)) is not None:
            self.out.append(f'<a href="#/a/{html.escape(slug)}">')
            self.link_stack.append(("a", ""))
        else:
            self.warnings.append(f"{self.article.rel_path}: link to an article that is not in the bundle, shown as text: {href}")
            self.out.append("<span>")
            self.link_stack.append(("span", ""))

    def _article_slug(self, path: str) -> str | None:
        path = unquote(path)
        if not path:
            return None
        # Pure string arithmetic (no resolve() syscalls): the build resolves every article path once.
        target = os.path.normpath(os.path.join(self.base_dir_text, path))
        for candidate in (target, target + "/index.md", target + "/index.html", target + "/index.txt"):
            slug = self.slugs_by_text.get(candidate)
            if slug is not None:
                return slug
        # `other-article`, `other-article.md`, `../other-article/`: fall back to the last path part
        stem = posixpath.basename(path.rstrip("/"))
        stem = stem.rsplit(".", 1)[0] if "." in stem else stem
        return stem if stem in self.slugs else None

    # -- media --

    def _media_tag(self, tag: str, attributes: dict[str, str]) -> None:
        src = attributes.get("src", "").strip()
        if not src:
            if tag in ("audio", "video"):
                self.out.append(f"<{tag} controls preload=\"metadata\">")
            return
        parts = urlsplit(src)
        if parts.scheme or src.startswith("//"):
            self.warnings.append(f"{self.article.rel_path}: remote {tag} dropped (a bundle never loads from the network): {src}")
            if tag in ("audio", "video"):
                self.out.append(f"<{tag}>")
            return
        path = (self.base_dir / unquote(parts.path)).resolve()
        if not path.is_relative_to(self.root):
            self._problem(f"media file outside the content folder: {src}", self._line_of(src))
            return
        if not path.is_file():
            self._problem(f"media file not found: {src}", self._line_of(src))
            return
        if media_kind(path.suffix) is None:  # refused here, with a line, before any tool reads it
            suffix = path.suffix.lower() or "(no extension)"
            self._problem(f"unsupported media type {suffix!r} ({src}; accepted: {describe_accepted()})", self._line_of(src))
            return
        index = self._media_index(path)
        kind = tag
        if tag == "img" and path.suffix.lower() in AUDIO_SUFFIXES:
            kind = "audio"
        elif tag == "img" and path.suffix.lower() in VIDEO_SUFFIXES:
            kind = "video"
        src = f"media/{_placeholder('MEDIA', index)}"
        if kind == "img":
            keep = {k: v for k, v in attributes.items() if k in ("alt", "title", "width", "height")}
            keep["src"] = src
            keep["loading"] = "lazy"
            self.out.append(_start_tag("img", keep))
        elif tag == "source":
            self.out.append(_start_tag("source", {"src": src}))
        else:
            caption = attributes.get("alt", "")
            element = _start_tag(kind, {"src": src, "controls": "", "preload": "metadata"})
            if kind == "video":  # ` poster="media/<name>"` or nothing, filled in by finish_html
                element = element[:-1] + _placeholder("POSTER", index) + ">"
            if tag == "img":  # Markdown image syntax used for a clip: self-contained figure
                figcaption = f"<figcaption>{html.escape(caption, quote=False)}</figcaption>" if caption else ""
                self.out.append(f'<figure class="media">{element}</{kind}>{figcaption}</figure>')
            else:
                self.out.append(element)

    def _problem(self, message: str, line: int = 0) -> None:
        self.problems.append(message)
        self.problem_lines.append(line)

    def _line_of(self, src: str) -> int:
        """The file line whose text names `src` (as written, or escaped for HTML), 0 if none does."""
        candidates = {src, html.escape(src), html.escape(src, quote=False)}
        for number, line in enumerate(self.article.body.split("\n")):
            if any(candidate in line for candidate in candidates):
                return self.article.body_line + number
        return 0

    def _media_index(self, path: Path) -> int:
        if path not in self.media:
            self.media.append(path)
        return self.media.index(path)


def _placeholder(kind: str, index: int) -> str:
    return f"{PLACEHOLDER_OPEN}{kind}{index}{PLACEHOLDER_CLOSE}"


def _start_tag(tag: str, attributes: dict[str, str]) -> str:
    rendered = "".join(
        f" {name}" if value == "" and name in ("controls",) else f' {name}="{html.escape(value)}"'
        for name, value in attributes.items()
    )
    return f"<{tag}{rendered}>"
