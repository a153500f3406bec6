"""Assemble the viewer: jinja2 puts our CSS and classic scripts inline into one index.html.

Scripts are inlined (not modules, not fetched) because both fail on file://. The root document is
embedded as JSON; data files arrive later through added <script> tags.
"""

from __future__ import annotations

import base64
import hashlib
import json
from importlib import resources

import jinja2
from markupsafe import Markup

# First tag in <head>: blocks every network request while sibling files still load (NOTES.md).
# Scripts: sibling data files ('self') and our own inline scripts, named by their SHA-256, instead of
# 'unsafe-inline': even if a hole in sanitising let a handler like onerror= into an article, the
# browser would not run it.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self' {script_hashes}; img-src 'self' data: blob:; "
    "media-src 'self' blob:; style-src 'self' 'unsafe-inline'; worker-src blob:; connect-src 'none'; "
    "form-action 'none'; base-uri 'none'"
)
SCRIPT_FILES = ("sha256.js", "zstd.js", "search.js", "comforts.js", "pack.js", "viewer.js")


def _asset(name: str) -> str:
    return resources.files("infopack.build.viewer").joinpath(name).read_text(encoding="utf-8")


def _guard_inline(name: str, text: str) -> str:
    # An inlined script must not be able to end its own <script> element early.
    if "</script" in text.lower() or "<!--" in text:
        raise ValueError(f"viewer/{name} contains '</script' or '<!--' and cannot be inlined")
    return text


def embed_json(value: object) -> str:
    """JSON that is safe inside <script type="application/json">: no `<` can close the element."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=False)
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def script_hash(text: str) -> str:
    """A CSP source naming one inline script by the SHA-256 of its exact text."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def render_viewer(root: dict, lang: str, inline_data: str = "") -> bytes:
    """The viewer page as UTF-8 bytes: index.html, or phone.html when `inline_data` holds payloads."""
    environment = jinja2.Environment(autoescape=True, keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    template = environment.from_string(_asset("index.html.j2"))
    # Each script element's text is exactly "\n" + file + "\n", so its hash is known here.
    scripts = ["\n" + _guard_inline(name, _asset(name)) + "\n" for name in SCRIPT_FILES]
    css = _guard_inline("style.css", _asset("style.css"))
    policy = CONTENT_SECURITY_POLICY.format(script_hashes=" ".join(script_hash(text) for text in scripts))
    html = template.render(
        csp=Markup(policy),  # our constant and base64: no escaping needed
        lang=lang,
        title=root["bundle"]["title"],
        description=root["bundle"]["description"],
        css=Markup(css),
        scripts=[Markup(s) for s in scripts],
        root_json=Markup(embed_json(root)),
        inline_data=Markup(inline_data),
    )
    return html.encode("utf-8")

