"""Bytes → text for HTML pages: the declared charset when it decodes, else detection.
Pages with a wrong or missing charset are common; this must never raise.

Order: a byte-order mark; UTF-16 recognised by its zero bytes; valid UTF-8 with
non-ASCII text (a legacy encoding almost never yields valid UTF-8 by chance, while
servers often declare latin-1 for UTF-8 pages); the
charsets declared by the HTTP header, a <meta> tag or an XML declaration, read as browsers
read them (latin-1 means windows-1252); mostly-UTF-8 pages with a few stray bytes;
finally detection on the page's text without its markup."""

from __future__ import annotations

import codecs
import re
from datetime import UTC, date, datetime, timedelta

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


# UTF-16 without a byte-order mark: in its first bytes, zero bytes (the high byte of
# markup and ASCII text) in at least this share of the two-byte units, nearly all at
# the same place in the unit, and the units decode.
UTF16_SAMPLE = 4096
UTF16_MIN_ZEROS = 0.1
UTF16_MAX_OTHER_ZEROS = 0.05  # zeros in the other place, as a share of the first


def utf16_codec(page: bytes) -> str | None:
    """"utf-16-le" or "utf-16-be" for a page written in UTF-16 without a byte-order mark
    (its markup leaves every other byte zero), None otherwise."""
    head = page[:UTF16_SAMPLE]
    units = len(head) // 2
    if units < 8 or b"\x00" not in head:
        return None
    head = head[: units * 2]
    even, odd = head[0::2].count(0), head[1::2].count(0)
    for zeros, other, codec in ((odd, even, "utf-16-le"), (even, odd, "utf-16-be")):
        if zeros >= UTF16_MIN_ZEROS * units and other <= UTF16_MAX_OTHER_ZEROS * zeros:
            try:
                text = head.decode(codec)
            except UnicodeDecodeError:  # a surrogate pair cut at the end of the sample
                text = head[:-2].decode(codec, "replace")
            return codec if "<" in text and "\ufffd" not in text else None
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
    wide = utf16_codec(page)
    if wide:
        return page.decode(wide, "replace")
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


# Legacy encodings still common on the web, commonest first: detection considers only
# these (the many rare code pages it also knows mostly produce near-ties on short
# texts) and breaks ties in this order.
_WEB_ENCODINGS = [
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
    "iso8859-15",
]
# The legacy encodings of a declared page language, most common first: what a browser
# set to that language falls back to when a page names no charset.
_WESTERN = "en fr de es pt it nl sv da no nb nn fi is ga ca eu gl af sq id ms sw".split()
_LANGUAGE_ENCODINGS = {
    **dict.fromkeys(_WESTERN, ["cp1252"]),
    **dict.fromkeys(["ru", "uk", "be", "bg", "sr", "mk"], ["cp1251", "koi8-r"]),
    **dict.fromkeys(["pl", "cs", "sk", "hu", "hr", "sl", "ro", "bs"], ["cp1250"]),
    **dict.fromkeys(["lt", "lv", "et"], ["cp1257"]),
    **dict.fromkeys(["ar", "fa", "ur"], ["cp1256"]),
    "el": ["cp1253"],
    "tr": ["cp1254"],
    "he": ["cp1255"],
    "th": ["cp874"],
    "vi": ["cp1258"],
    "zh": ["gb18030", "big5hkscs"],
    "ja": ["cp932", "euc_jp"],
    "ko": ["cp949"],
}
_LANG_ATTR = re.compile(rb"""<html[^>]*?\slang\s*=\s*["']?([a-zA-Z]{2,3})""", re.I)
# How much more chaos (charset_normalizer's mess measure) a more coherent guess may show.
CHAOS_MARGIN = 0.03


def detect_charset(page: bytes) -> str:
    """A legacy charset for a page that names none: the encoding of its declared language
    when that decodes, else charset_normalizer's guess among the common web encodings from
    the text without markup (which only dilutes the evidence): among the least chaotic
    guesses the most coherent with a language, then the commonest; windows-1252 when
    there is no guess."""
    sample = _MARKUP.sub(b" ", page[:DETECTION_SAMPLE])
    lang = _LANG_ATTR.search(page[:4096])
    candidates = _LANGUAGE_ENCODINGS.get(lang.group(1).decode().lower() if lang else "", [])
    candidates = [c for c in candidates if _decodes(page, c)]
    if len(candidates) > 1:
        best = from_bytes(sample, cp_isolation=candidates).best()
        return (browser_codec(best.encoding) or candidates[0]) if best else candidates[0]
    if candidates:
        return candidates[0]
    matches = list(from_bytes(sample, cp_isolation=_WEB_ENCODINGS)) if sample.strip() else []
    if not matches:
        return "cp1252"
    least = min(m.chaos for m in matches)
    order = [browser_codec(name) for name in _WEB_ENCODINGS]

    def rank(match) -> tuple[float, int]:
        codec = browser_codec(match.encoding)
        return -match.coherence, order.index(codec) if codec in order else len(order)

    close = [m for m in matches if m.chaos <= least + CHAOS_MARGIN]
    return browser_codec(min(close, key=rank).encoding) or "cp1252"


def _decodes(page: bytes, codec: str) -> bool:
    try:
        page.decode(codec)
    except UnicodeDecodeError:
        return False
    return True


def looks_like_html(page: bytes) -> bool:
    wide = utf16_codec(page)
    if wide:  # the markup test runs on the text, not on every other byte of it
        page = page[:4096].decode(wide, "replace").encode("utf-8", "replace")
    head = page[:2048].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<body" in head or b"<head" in head


# --- what the archive can store --------------------------------------------------------

# Characters that neither XML (trafilatura serialises its tree as XML, and drops a whole
# article over one of them) nor PostgreSQL's text type (NUL) can hold: the C0 controls
# but tab and newlines, lone surrogates, and the non-characters U+FFFE and U+FFFF.
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_CHAR_REF = re.compile(r"&#(?:[xX]([0-9a-fA-F]{1,16})|([0-9]{1,20}));?")


def storable(text: str) -> str:
    """The text without the characters above."""
    return _UNSTORABLE.sub("", text)


def _xml_char(code: int) -> bool:
    return (code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD
            or 0x10000 <= code <= 0x10FFFF)


def _drop_bad_reference(match: re.Match) -> str:
    code = int(match.group(1), 16) if match.group(1) else int(match.group(2))
    return match.group(0) if _xml_char(code) else ""


def xml_safe_html(html: str) -> str:
    """The page without the characters above, raw or written as numeric character
    references (`&#1;`, `&#xFFFE;`): the parser would turn those into the same."""
    html = storable(html)
    return _CHAR_REF.sub(_drop_bad_reference, html) if "&#" in html else html


# Publication dates outside these bounds are not those of news (a page or feed saying
# 9999-12-31 or 1000-01-01 is broken); they are dropped, never stored.
EARLIEST_DATE = datetime(1970, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=2)  # clocks and time zones of sites are often wrong


def plausible_date(when: datetime | date) -> bool:
    """Whether a stated publication time can be that of news."""
    if not isinstance(when, datetime):
        when = datetime(when.year, when.month, when.day, tzinfo=UTC)
    elif when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    try:
        return EARLIEST_DATE <= when <= datetime.now(UTC) + FUTURE_SLACK
    except OverflowError:
        return False
