"""Bytes → text for HTML pages: the declared charset when it decodes, else detection.
Pages with a wrong or missing charset are common; this must never raise.

Order: a byte-order mark; valid UTF-8 with non-ASCII text (a legacy encoding almost never
yields valid UTF-8 by chance, while servers often declare latin-1 for UTF-8 pages); the
charsets declared by the HTTP header, a <meta> tag or an XML declaration, read as browsers
read them (latin-1 means windows-1252); mostly-UTF-8 pages with a few stray bytes;
finally detection on the page's text without its markup."""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_\-:.]+)""", re.I)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([a-zA-Z0-9_\-:.]+)""", re.I)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([a-zA-Z0-9_\-:.]+)", re.I)
_MARKUP = re.compile(rb"<script\b.*?</script\s*>|<style\b.*?</style\s*>|<[^>]*>", re.I | re.S)

# Labels browsers decode as a superset (WHATWG Encoding Standard): a page declaring
# latin-1 is written in windows-1252, gb2312 in GBK/GB18030, and so on.
_SUPERSETS = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "ascii": "cp1252",
    "us-ascii": "cp1252",
    "iso-8859-9": "cp1254",
    "latin5": "cp1254",
    "iso-8859-11": "cp874",
    "tis-620": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "big5": "big5hkscs",
    "utf8": "utf-8",
    "unicode": "utf-8",
    "utf-16": "utf-8",  # a byte page cannot declare UTF-16 in its own markup
    "utf-16le": "utf-8",
    "utf-16be": "utf-8",
}
# A page that is UTF-8 but for a few stray bytes (a pasted fragment) stays UTF-8.
STRAY_BYTE_SHARE = 0.02
DETECTION_SAMPLE = 200_000


def declared_charsets(page: bytes, content_type: str | None) -> list[str]:
    """Charsets stated by the Content-Type header, a <meta> tag or an XML declaration,
    normalised to the codec a browser would use, in that order, without repeats."""
    found: list[str] = []
    if content_type:
        match = _HEADER_CHARSET.search(content_type)
        if match:
            found.append(match.group(1))
    head = page[:4096]
    for pattern in (_META_CHARSET, _XML_ENCODING):
        match = pattern.search(head)
        if match:
            found.append(match.group(1).decode("ascii", "replace"))
    codecs_found: list[str] = []
    for label in found:
        codec = browser_codec(label)
        if codec and codec not in codecs_found:
            codecs_found.append(codec)
    return codecs_found


def browser_codec(label: str) -> str | None:
    """Python codec name for a charset label, None when Python does not know it."""
    label = label.strip().strip("\"'").lower()
    label = _SUPERSETS.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def decode_html(page: bytes, content_type: str | None = None) -> str:
    """The page as text (see the module docstring for the order of evidence)."""
    for bom, codec in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if page.startswith(bom):
            return page[len(bom) :].decode(codec, "replace")
    try:
        text = page.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and (not text.isascii() or not declared_charsets(page, content_type)):
        return text
    for codec in declared_charsets(page, content_type):
        try:
            return page.decode(codec)
        except (LookupError, UnicodeDecodeError):
            continue
    if text is not None:  # pure ASCII under an unknown or failing label
        return text
    if mostly_utf8(page):
        return page.decode("utf-8", "replace")
    return page.decode(detect_charset(page), "replace")


def mostly_utf8(page: bytes) -> bool:
    """Whether nearly all non-ASCII byte sequences are valid UTF-8."""
    text = page.decode("utf-8", "replace")
    bad = text.count("\ufffd")
    non_ascii = sum(1 for ch in text if ord(ch) > 127)
    return bad <= STRAY_BYTE_SHARE * non_ascii


# Legacy encodings by how common they are on the web: among detection results that
# are about as plausible, the commoner wins (short samples leave several near-ties).
_WEB_ORDER = [
    "cp1252",
    "cp1251",
    "gb18030",
    "cp932",
    "cp1250",
    "cp949",
    "euc_jp",
    "big5hkscs",
    "cp1256",
    "cp1254",
    "cp1253",
    "cp1255",
    "koi8-r",
    "cp874",
    "cp1257",
    "iso8859-15",
]
# How much more chaos (charset_normalizer's mess measure) a commoner encoding may show.
CHAOS_MARGIN = 0.03


def detect_charset(page: bytes) -> str:
    """charset_normalizer's guess from the page's text (markup is ASCII and only dilutes
    the evidence), preferring the commoner encoding among near-ties; windows-1252 when it
    has none."""
    sample = _MARKUP.sub(b" ", page[:DETECTION_SAMPLE])
    matches = list(from_bytes(sample)) if sample.strip() else []
    if not matches:
        return "cp1252"
    least = min(m.chaos for m in matches)
    close = [browser_codec(m.encoding) for m in matches if m.chaos <= least + CHAOS_MARGIN]
    ranked = [c for c in close if c] or ["cp1252"]
    order = [browser_codec(name) for name in _WEB_ORDER]
    return min(ranked, key=lambda c: order.index(c) if c in order else len(order))


def looks_like_html(page: bytes) -> bool:
    head = page[:2048].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<body" in head or b"<head" in head
