"""Turn the bytes of a text file staff saved into text, saying which encoding was assumed.

Staff text comes from Windows Notepad (UTF-16 with a BOM, or the ANSI code page: CP949 on a Korean
Windows, Windows-1252 on a Western one), from Hangul word processors (EUC-KR/CP949) and from
everything else (UTF-8, with or without a BOM). The order of the guesses matters: a BOM is
certain; strict UTF-8 almost never decodes text that is not UTF-8; UTF-16 without a BOM shows as
many zero bytes; only then is the statistical guess (charset-normalizer) asked, and its answer is
narrowed to the encodings staff actually have, so a short Korean file is not read as, say, Big5.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

# What charset-normalizer may answer, and the name staff are told. CP949 is a superset of EUC-KR
# (it adds the 8,822 Hangul syllables EUC-KR lacks), so EUC-KR text is decoded as CP949.
_KNOWN = {
    "cp949": "CP949 (Korean Windows)",
    "euc_kr": "CP949 (Korean Windows)",
    "johab": "CP949 (Korean Windows)",
    "cp1252": "Windows-1252",
    "latin_1": "Windows-1252",
    "iso8859_15": "Windows-1252",
}


@dataclass(frozen=True)
class Decoded:
    text: str  # line ends normalised to \n, no BOM
    encoding: str  # the Python codec used
    described: str  # for a note: "UTF-8", "UTF-16 (BOM)", "CP949 (Korean Windows)", ...
    certain: bool  # False when the encoding was guessed from statistics


class NotText(ValueError):
    """The bytes are not text in any encoding we accept (a binary file, or an unknown encoding)."""


def decode_text(raw: bytes) -> Decoded:
    """Decode `raw`, or raise NotText saying why."""
    for bom, codec, described in (
        (codecs.BOM_UTF8, "utf-8", "UTF-8 (with BOM)"),
        (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16 (BOM)"),
        (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16 (BOM)"),
    ):
        if raw.startswith(bom):
            return _strict(raw[len(bom):], codec, described, certain=True)
    utf16 = _utf16_without_bom(raw)
    if utf16 is not None:
        return _strict(raw, utf16, "UTF-16 (no BOM, guessed from zero bytes)", certain=False)
    if b"\x00" in raw:
        raise NotText("a binary file (it holds zero bytes), not text")
    try:
        return Decoded(_normalise(raw.decode("utf-8")), "utf-8", "UTF-8", True)
    except UnicodeDecodeError:
        pass
    return _guess(raw)


def likely_encoding(raw: bytes) -> str | None:
    """For a message about a file that is not UTF-8: what it probably is, or None."""
    try:
        return decode_text(raw).described
    except NotText:
        return None


def _strict(raw: bytes, codec: str, described: str, *, certain: bool) -> Decoded:
    try:
        text = raw.decode(codec)
    except UnicodeDecodeError as err:
        raise NotText(f"not valid {described.split(' ')[0]} text (bad bytes at offset {err.start})") from None
    if "\x00" in text:
        raise NotText("a binary file (it holds zero characters), not text")
    return Decoded(_normalise(text), codec, described, certain)


def _utf16_without_bom(raw: bytes) -> str | None:
    """UTF-16 text of mostly Latin letters has a zero byte in every other place; Korean UTF-16
    has none, but then its even (LE) or odd (BE) bytes are in the Hangul block 0xAC-0xD7 and
    it decodes cleanly, with line breaks where UTF-16 puts them."""
    if len(raw) < 4 or len(raw) % 2:
        return None
    even, odd = raw[0::2], raw[1::2]
    zeros_even, zeros_odd = even.count(0) / len(even), odd.count(0) / len(odd)
    if zeros_odd > 0.3 and zeros_even < 0.15:
        return "utf-16-le"
    if zeros_even > 0.3 and zeros_odd < 0.15:
        return "utf-16-be"
    for codec, high, low in (("utf-16-le", odd, even), ("utf-16-be", even, odd)):
        # Hangul syllables (high byte 0xAC-0xD7) or ASCII (high byte 0) in nearly every place
        korean_or_ascii = sum(1 for b in high if b == 0 or 0xAC <= b <= 0xD7)
        hangul = sum(1 for b in high if 0xAC <= b <= 0xD7)
        if korean_or_ascii / len(high) > 0.9 and hangul / len(high) > 0.3 and low.count(0) / len(low) < 0.15:
            try:
                raw.decode(codec)
            except UnicodeDecodeError:
                continue
            return codec
    return None


def _guess(raw: bytes) -> Decoded:
    from charset_normalizer import from_bytes  # only when the file is not UTF-8

    results = from_bytes(raw, cp_isolation=["cp949", "euc_kr", "cp1252", "latin_1"])
    best = results.best()
    if best is not None and best.encoding in _KNOWN:
        codec = "cp949" if _KNOWN[best.encoding].startswith("CP949") else "cp1252"
        try:
            return Decoded(_normalise(raw.decode(codec)), codec, _KNOWN[best.encoding], False)
        except UnicodeDecodeError:
            pass
    # Bytes of 0x81-0xFE in pairs are what Korean text in CP949 looks like; try it before giving up.
    for codec in ("cp949", "cp1252"):
        try:
            text = raw.decode(codec)
        except UnicodeDecodeError:
            continue
        if codec == "cp949" and not any("\uac00" <= c <= "\ud7a3" for c in text):
            continue
        return Decoded(_normalise(text), codec, _KNOWN[codec], False)
    raise NotText("not text in UTF-8, UTF-16, CP949 or Windows-1252 (save it as UTF-8)")


def _normalise(text: str) -> str:
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
