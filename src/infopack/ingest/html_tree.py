"""Small lxml tree edits that every HTML importer needs (web pages, ZIM articles)."""

from __future__ import annotations

from lxml import etree


def remove_keeping_tail(element: etree._Element) -> None:
    """Remove ELEMENT but keep the text that follows it (lxml stores that text on the element)."""
    parent = element.getparent()
    if parent is None:
        return
    tail = element.tail
    previous = element.getprevious()
    if tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)
