"""Turning an extractor's HTML into the article body infopack keeps, and page metadata helpers.

The body keeps structure only: paragraphs, headings, lists, quotes, tables, pictures, emphasis and
links. Every other element is unwrapped (its text stays), every attribute but the few we set is
dropped. The build sanitises again; this keeps the imported file readable for staff.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from lxml import etree
from lxml import html as lxml_html

from infopack.ingest.html_tree import remove_keeping_tail

KEPT_TAGS = frozenset(
    "p h2 h3 h4 h5 h6 ul ol li blockquote table thead tbody tr th td img a em strong b i code pre br sub sup figure figcaption".split()
)
DROPPED_WITH_CONTENT = frozenset("script style noscript template iframe object embed svg math form button input select textarea".split())
BLOCK_TAGS = ("p", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "td", "th", "figcaption")
TITLE_SEPARATORS = re.compile(r"\s+(?:\||-|–|—|::|·|•|»|/)\s+")
HEADERLINK = re.compile(r"[\s¶#§]+$")


@dataclass
class BodyParts:
    """What rewriting the body decided: the link and image addresses it met, by what it did."""

    html: str
    text: str
    images_used: list[str] = field(default_factory=list)  # media names referenced, in order


def clean_text(text: str) -> str:
    return " ".join(text.split())


def strip_site_suffix(title: str, site_names: set[str] | frozenset[str] = frozenset()) -> str:
    """'The story | Site name' -> 'The story'. An end part goes when it is a known site name (from
    og:site_name, or repeated across the pages imported together); without one, a short last part
    goes when the rest is longer (the usual "Article - Site" shape)."""
    title = clean_text(HEADERLINK.sub("", title))
    parts = TITLE_SEPARATORS.split(title)
    if len(parts) < 2:
        return title
    sites = {clean_text(name).lower() for name in site_names if name.strip()}
    if sites:
        while len(parts) > 1 and parts[-1].lower() in sites:
            parts.pop()
        while len(parts) > 1 and parts[0].lower() in sites:
            parts.pop(0)
        if len(parts) < len(TITLE_SEPARATORS.split(title)):
            return _join_parts(title, parts)
    if len(parts[-1].split()) <= 5 and len(" ".join(parts[:-1])) > len(parts[-1]):
        return _join_parts(title, parts[:-1])
    return title


def _join_parts(title: str, parts: list[str]) -> str:
    """The original text from the first kept part to the last (keeping its own separators)."""
    start = title.find(parts[0])
    end = title.rfind(parts[-1]) + len(parts[-1])
    return title[start:end] if 0 <= start < end else " ".join(parts)


def title_end_parts(title: str) -> tuple[str, str]:
    """The first and last part of a title split at its separators (for spotting site names)."""
    parts = TITLE_SEPARATORS.split(clean_text(title))
    return (parts[0].lower(), parts[-1].lower()) if len(parts) > 1 else ("", "")


def rewrite_body(
    extracted_html: str,
    title: str,
    link_target: Callable[[str], str | None],
    image_name: Callable[[str], str | None],
) -> BodyParts:
    """Keep the structure; links to pages imported together become `infopack-import:KEY` (via
    `link_target`), other links become their text; pictures the capture holds are renamed to their
    media name (via `image_name`), the others are removed."""
    root = lxml_html.fragment_fromstring(extracted_html, create_parent="div") if extracted_html.strip() else None
    if root is None:
        return BodyParts(html="", text="")
    body = root.find(".//body")
    if body is not None:
        root = body
    used: list[str] = []
    for element in list(root.iter()):
        if element is root or not isinstance(element.tag, str):
            if not isinstance(element.tag, str) and element.getparent() is not None:
                remove_keeping_tail(element)  # comments, processing instructions
            continue
        tag = element.tag.lower()
        if tag in DROPPED_WITH_CONTENT:
            remove_keeping_tail(element)
            continue
        if tag == "h1":
            element.tag = tag = "h2"
        if tag not in KEPT_TAGS:
            element.drop_tag()
            continue
        attributes = dict(element.attrib)
        element.attrib.clear()
        if tag == "a":
            target = link_target(attributes.get("href", ""))
            if target is None:
                element.drop_tag()
            else:
                element.set("href", target)
        elif tag == "img":
            name = image_name(attributes.get("src", ""))
            if name is None:
                remove_keeping_tail(element)
            else:
                element.set("src", name)
                element.set("alt", clean_text(attributes.get("alt", "")))
                used.append(name)
        elif tag in ("td", "th"):
            for span in ("colspan", "rowspan"):
                if attributes.get(span, "").isdigit():
                    element.set(span, attributes[span])
    _drop_title_heading(root, title)
    _drop_empty(root)
    _drop_layout_whitespace(root)
    text = clean_text(" ".join(root.itertext()))
    parts = [etree.tostring(child, encoding="unicode", method="html") for child in root]
    leading = (root.text or "").strip()
    html = ("<p>" + _escape(leading) + "</p>\n" if leading else "") + "\n".join(part.strip() for part in parts)
    return BodyParts(html=html.strip() + "\n" if html.strip() else "", text=text, images_used=used)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")




def _drop_title_heading(root: etree._Element, title: str) -> None:
    """The title goes into front matter; a first heading repeating it would show it twice."""
    for child in root:
        if not isinstance(child.tag, str):
            continue
        if child.tag in ("h2", "h3") and clean_text(HEADERLINK.sub("", child.text_content())).lower() == clean_text(title).lower():
            remove_keeping_tail(child)
        break


def _drop_layout_whitespace(root: etree._Element) -> None:
    """The extractor pretty-prints lists and tables; staff editing the file see tidy lines instead."""
    for element in root.iter("ul", "ol", "table", "thead", "tbody", "tr"):
        line_break = "\n" if element.tag != "tr" else None  # one item or row per line, cells together
        if element.text is None or not element.text.strip():
            element.text = line_break
        for child in element:
            if child.tail is None or not child.tail.strip():
                child.tail = line_break


def _drop_empty(root: etree._Element) -> None:
    for element in reversed(list(root.iter(*BLOCK_TAGS, "ul", "ol", "table", "tr", "figure"))):
        if element is root:
            continue
        if not element.text_content().strip() and element.find(".//img") is None:
            remove_keeping_tail(element)
