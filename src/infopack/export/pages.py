"""The HTML pages of a ZIM export: each article as a small standalone page, and a main page.

Article HTML comes from a verified bundle (docs/FORMAT.md section 12). It is parsed and written
again, not edited as text, so every link is rewritten or dropped:

- `#/a/<slug>` (a link to another article) becomes the ZIM-relative link `<slug>` (percent-encoded),
  or plain text when that article is not in the export (Kiwix's checker refuses broken links);
- `media/<name>` in `src` or `poster` stays `media/<name>` (percent-encoded) when the export holds
  that file, and the attribute is dropped otherwise;
- only the elements of section 12 and a short list of harmless attributes are kept; scripts,
  styles and event handlers could not be in a bundle's article, and are not let through here
  either (the content of `script` and `style` is dropped too).

All articles and media sit at the top of the C namespace (`C/<slug>`, `C/media/<name>`), so the
links are the same relative paths from every page.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import quote

ELEMENTS = frozenset(
    "p h2 h3 h4 h5 h6 ul ol li blockquote pre code em strong b i u s sub sup br hr a img figure "
    "figcaption audio video source table thead tbody tr th td caption span div abbr mark small".split()
)
VOID = frozenset({"br", "hr", "img", "source"})
DROPPED_WITH_CONTENT = frozenset({"script", "style", "template", "noscript", "iframe", "object", "svg", "math"})
PLAIN_ATTRIBUTES = frozenset(
    {"alt", "title", "class", "lang", "dir", "id", "colspan", "rowspan", "scope", "start", "reversed",
     "controls", "preload", "loading", "width", "height", "type", "loop", "muted", "playsinline"}
)
MEDIA_ATTRIBUTES = frozenset({"src", "poster"})

# Small, readable on a phone, follows the reader's light or dark setting; no fonts, no images.
STYLE = (
    "body{font-family:sans-serif;line-height:1.6;max-width:42em;margin:0 auto;padding:1em;"
    "color:#222;background:#fff}"
    "@media (prefers-color-scheme:dark){body{color:#ddd;background:#181818}a{color:#8ab4f8}}"
    "img,video{max-width:100%;height:auto}audio{width:100%}"
    "pre{overflow-x:auto;background:rgba(127,127,127,.12);padding:.6em}"
    "table{border-collapse:collapse}td,th{border:1px solid #999;padding:.2em .5em}"
    ".meta{color:#777;font-size:.9em}.ext{word-break:break-all}figure{margin:1em 0}"
    "ul.articles{padding-left:1.2em}"
)


def article_href(slug: str) -> str:
    return quote(slug, safe="")


def media_href(path: str) -> str:
    """`media/<name>` as a relative URL (the name percent-encoded)."""
    return "media/" + quote(path[len("media/") :], safe="")


class _Rewriter(HTMLParser):
    def __init__(self, slugs: frozenset[str] | set[str], media: frozenset[str] | set[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.slugs = slugs
        self.media = media
        self.out: list[str] = []
        self.skip_depth = 0  # inside an element dropped with its content
        self.open_links: list[bool] = []  # per open <a>: was the tag kept?

    def _attributes(self, tag: str, attrs: list[tuple[str, str | None]]) -> str:
        kept = []
        for name, value in attrs:
            name = name.lower()
            if name in PLAIN_ATTRIBUTES:
                kept.append((name, value))
            elif name in MEDIA_ATTRIBUTES and tag in ("img", "audio", "video", "source"):
                if value and value.startswith("media/") and value in self.media:
                    kept.append((name, media_href(value)))
        text = "".join(
            f" {name}" if value is None else f' {name}="{html.escape(value, quote=True)}"' for name, value in kept
        )
        return text

    def _link(self, attrs: list[tuple[str, str | None]]) -> str | None:
        """The rewritten start tag of an <a>, or None when the link becomes plain text."""
        href = dict(attrs).get("href") or ""
        if href.startswith("#/a/"):
            slug = href[len("#/a/") :]
            if slug not in self.slugs:
                return None
            target = article_href(slug)
        elif href.startswith("#") and not href.startswith("#/"):
            target = href  # a place on the same page
        else:
            return None
        rest = self._attributes("a", [(n, v) for n, v in attrs if n != "href"])
        return f'<a href="{html.escape(target, quote=True)}"{rest}>'

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skip_depth or tag in DROPPED_WITH_CONTENT:
            self.skip_depth += tag not in VOID
            return
        if tag not in ELEMENTS:
            return
        if tag == "a":
            start = self._link(attrs)
            self.open_links.append(start is not None)
            if start is not None:
                self.out.append(start)
            return
        self.out.append(f"<{tag}{self._attributes(tag, attrs)}>")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.skip_depth:
            if tag in DROPPED_WITH_CONTENT or tag not in VOID:
                self.skip_depth -= 1
            return
        if tag not in ELEMENTS or tag in VOID:
            return
        if tag == "a":
            if self.open_links and self.open_links.pop():
                self.out.append("</a>")
            return
        self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if not self.skip_depth:
            self.out.append(html.escape(data, quote=False))


def rewrite_article_html(fragment: str, slugs: frozenset[str] | set[str], media: frozenset[str] | set[str]) -> str:
    parser = _Rewriter(slugs, media)
    parser.feed(fragment)
    parser.close()
    return "".join(parser.out)


@dataclass(frozen=True)
class PageText:
    lang: str
    title: str


def _text(value: str) -> str:
    return html.escape(value, quote=False)


def standalone_page(page: PageText, body: str) -> bytes:
    return (
        f'<!DOCTYPE html>\n<html lang="{html.escape(page.lang)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_text(page.title)}</title><style>{STYLE}</style></head>\n"
        f"<body>\n{body}\n</body></html>\n"
    ).encode()


def article_page(title: str, lang: str, date: str, fragment_html: str) -> bytes:
    body = (
        f"<article><h1>{_text(title)}</h1>\n<p class=\"meta\"><time>{_text(date)}</time></p>\n"
        f"{fragment_html}\n</article>"
    )
    return standalone_page(PageText(lang, title), body)


def main_page(title: str, description: str, lang: str, articles: list[tuple[str, str, str]]) -> bytes:
    """The page Kiwix opens first: the library's title and every article, newest first.
    `articles` is (slug, title, date) in library order."""
    items = "\n".join(
        f'<li><a href="{html.escape(article_href(slug), quote=True)}">{_text(name)}</a> '
        f'<span class="meta">{_text(date)}</span></li>'
        for slug, name, date in articles
    )
    intro = f"<p>{_text(description)}</p>\n" if description else ""
    body = f"<h1>{_text(title)}</h1>\n{intro}<ul class=\"articles\">\n{items}\n</ul>"
    return standalone_page(PageText(lang, title), body)
