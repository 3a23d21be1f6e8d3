"""Feed bytes → entries, with feedparser as the parser only (its own fetching has no
timeout; fetching is Scrapy's job), and crawler/jsonfeed.py for JSON Feed. Malformed
feeds keep whatever entries parse. feedparser is given a stream, never bytes or a str:
it would try to open() those as a path first.

Feeds are written by strangers, so before feedparser sees a body:
* a DOCTYPE declaring external entities (XXE), parameter entities, or entities that
  expand to markup or to other entities (the "billion laughs" bomb) fails the feed;
  only short character entities (`<!ENTITY nbsp "&#160;">`) pass;
* a feed listing more than MAX_ENTRIES entries is cut before the next one, so that
  parsing costs the same for 50,000 entries as for a thousand;
* a feed of more than MAX_ELEMENTS elements (after that cut) fails unparsed: a
  million empty elements once took feedparser 13 s.
The crawl parses in a thread of its own (`parse_feed_in_thread`), with a time budget,
so that the reactor goes on downloading meanwhile and a slow feed fails alone."""

from __future__ import annotations

import asyncio
import calendar
import codecs
import hashlib
import io
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from xml.parsers import expat

import feedparser

from core.urls import BadURL, normalize_url
from crawler.jsonfeed import JSONFeedError, looks_like_json, read_json_feed
from extract.charset import plausible_date, storable

# What a feed request accepts: every feed format we read, then anything (many servers
# send feeds as text/html or application/octet-stream).
FEED_ACCEPT = ("application/rss+xml, application/atom+xml, application/feed+json, "
               "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5")

MAX_ENTRIES = 1000  # a feed listing more is truncated (and says so)
MAX_ELEMENTS = 200_000  # start tags in the (truncated) feed; a real one has tens of thousands
FEED_TIMEOUT = 20.0  # seconds a feed's parse may take in the crawl
MAX_PROBLEMS = 20  # problems listed one by one; the rest are counted
MAX_TITLE = 1000  # characters of an entry's title kept
MAX_ENTRY_ID = 1000
MAX_TTL_MINUTES = 7 * 24 * 60  # a longer <ttl> is taken as a week (polling caps it lower)
# An allowed entity's value: a few characters or character references, no markup.
MAX_ENTITY_VALUE = 16


class FeedError(ValueError):
    """The body is not a feed at all (HTML, empty, binary)."""


@dataclass
class FeedEntry:
    url: str
    entry_id: str  # the GUID, or the URL when the feed gives none
    title: str | None = None
    published: datetime | None = None
    source_url: str | None = None  # RSS <source url="…">: the outlet (search feeds)
    source_title: str | None = None


@dataclass
class ParsedFeed:
    entries: list[FeedEntry]
    title: str | None = None
    ttl_minutes: int | None = None
    problems: list[str] = field(default_factory=list)  # malformed XML, skipped entries


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _entry_date(entry: dict, problems: list[str], index: int) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                when = datetime.fromtimestamp(calendar.timegm(value), UTC)
            except (OverflowError, ValueError, TypeError, OSError):
                continue
            if plausible_date(when):
                return when
            problems.append(f"entry {index + 1}: implausible date {when:%Y-%m-%d}; ignored")
            return None
    return None


def clean_text(value: object, limit: int | None = None) -> str | None:
    """A feed's string as the archive can store it; None for nothing."""
    if value is None:
        return None
    text = storable(str(value))
    return text[:limit] if limit else text


def _entry_link(entry: dict) -> str | None:
    guid = entry.get("id") or ""
    link = entry.get("link")
    if link and not (link == guid and entry.get("guidislink") and "://" not in link):
        return link
    for link in entry.get("links", []):
        if link.get("href") and link.get("rel", "alternate") == "alternate":
            return link["href"]
    return guid if guid.startswith(("http://", "https://")) else None


def parse_feed(body: bytes, url: str, content_type: str | None = None) -> ParsedFeed:
    """Parse RSS, Atom or JSON Feed (told apart by content, not by Content-Type). Raises
    FeedError when the body is no feed (or a hostile one, see the module docstring);
    otherwise returns every usable entry (at most
    MAX_ENTRIES), de-duplicated by normalised URL, with problems listed."""
    if looks_like_json(_as_utf8(body)):
        try:
            parsed = read_json_feed(body)
        except JSONFeedError as exc:
            raise FeedError(str(exc)) from None
        return _entries(parsed, url, list(parsed.problems))
    refused = entity_problem(body)
    if refused:
        raise FeedError(refused)
    problems: list[str] = []
    listed = count_entries(body)
    if listed > MAX_ENTRIES:
        body = cut_entries(body, MAX_ENTRIES)
        problems.append(f"feed lists {listed} entries; kept the first {MAX_ENTRIES}")
    elements = count_elements(body)
    if elements > MAX_ELEMENTS:
        raise FeedError(f"feed has {elements:,} elements, more than the {MAX_ELEMENTS:,} "
                        "read; refused unparsed")
    parsed, relabelled = _feedparser(body, content_type)
    if relabelled:
        problems.append("the XML declaration's encoding label is unreadable; read as UTF-8")
    if not parsed.get("version") and not parsed.entries:
        reason = parsed.get("bozo_exception")
        raise FeedError(f"not an RSS or Atom feed ({reason or 'no feed elements found'})")
    if parsed.get("bozo"):
        problems.insert(0, "malformed feed, parsed leniently: "
                           f"{clean_text(parsed.get('bozo_exception'), 300)}")
    return _entries(parsed, url, problems)


# Parses run here, not on the reactor's thread; two, so one slow feed leaves a lane.
_parsers = ThreadPoolExecutor(2, thread_name_prefix="feed-parse")


async def parse_feed_in_thread(body: bytes, url: str, content_type: str | None = None,
                               timeout: float = FEED_TIMEOUT) -> ParsedFeed:
    """`parse_feed` in a parser thread. A parse past `timeout` fails the feed with
    FeedError; its thread finishes on its own (the caps above bound how long)."""
    future = asyncio.get_running_loop().run_in_executor(_parsers, parse_feed, body, url,
                                                        content_type)
    try:
        return await asyncio.wait_for(asyncio.shield(future), timeout)
    except TimeoutError:
        raise FeedError(f"parsing the feed took longer than {timeout:g} s; "
                        "it will be read again next pass") from None


def _entries(parsed, url: str, problems: list[str]) -> ParsedFeed:
    """The feed's usable entries, from feedparser's result or a JSON Feed read into its
    shape (`feed` and `entries` dicts): links resolved and normalised, de-duplicated,
    at most MAX_ENTRIES, dates checked."""
    # Relative links: "/path" against the feed's own URL; "path" against the feed's
    # <link> when that is a web address, else the feed's URL.
    channel = parsed.feed.get("link")
    base = channel if isinstance(channel, str) and _is_web_url(channel) else url
    entries: list[FeedEntry] = []
    seen: set[str] = set()
    for index, entry in enumerate(parsed.entries):
        if len(entries) >= MAX_ENTRIES:
            problems.append(
                f"feed lists {len(parsed.entries)} entries; kept the first {MAX_ENTRIES}"
            )
            break
        link = _entry_link(entry)
        if not link or not isinstance(link, str):
            problems.append(f"entry {index + 1} has no link; skipped")
            continue
        try:
            article_url = normalize_url(link, base=url if link.startswith("/") else base)
        except BadURL as exc:
            problems.append(f"entry {index + 1}: {exc}; skipped")
            continue
        if article_url in seen:
            continue
        seen.add(article_url)
        entries.append(FeedEntry(
            url=article_url,
            entry_id=clean_text(entry.get("id"), MAX_ENTRY_ID) or article_url,
            title=clean_text(entry.get("title"), MAX_TITLE),
            published=_entry_date(entry, problems, index),
            **_entry_source(entry),
        ))
    ttl = parsed.feed.get("ttl")
    try:
        ttl_minutes = int(str(ttl).strip()) if ttl else None
    except (TypeError, ValueError):  # also more than 4,300 digits
        ttl_minutes = None
    if ttl_minutes is not None:  # a 400-digit ttl once overflowed the polling policy
        ttl_minutes = min(ttl_minutes, MAX_TTL_MINUTES) if ttl_minutes > 0 else None
    if len(problems) > MAX_PROBLEMS:
        more = len(problems) - MAX_PROBLEMS
        problems = [*problems[:MAX_PROBLEMS], f"… and {more} more problems"]
    return ParsedFeed(entries, clean_text(parsed.feed.get("title"), MAX_TITLE), ttl_minutes,
                      problems)


def _entry_source(entry: dict) -> dict:
    """RSS <source url="…">Name</source>: the outlet a search-results feed names."""
    source = entry.get("source")
    if not isinstance(source, dict):
        return {}
    href = source.get("href") or source.get("url")
    return {"source_url": clean_text(href, MAX_TITLE) if isinstance(href, str) else None,
            "source_title": clean_text(source.get("title"), MAX_TITLE)}


def _feedparser(body: bytes, content_type: str | None):
    """feedparser's result, and whether the encoding label had to be replaced: it raises
    on a NUL or non-ASCII byte in the XML declaration's label, which is then read as
    UTF-8. FeedError when it raises all the same."""
    headers = {"content-type": content_type} if content_type else None
    attempts = [body]
    relabelled = _XML_ENCODING.sub(rb"\1utf-8\2", body, count=1)
    if relabelled != body:
        attempts.append(relabelled)
    failure: Exception | None = None
    for attempt in attempts:
        try:
            # a stream, never bytes: feedparser first tries open() on bytes or a str,
            # so a body naming /etc/hostname or /dev/zero would be read as that file
            return feedparser.parse(io.BytesIO(attempt), response_headers=headers,
                                    sanitize_html=False, resolve_relative_uris=False), \
                attempt is not body
        except Exception as exc:  # a parser crash on hostile bytes is an unreadable feed
            failure = failure or exc
    raise FeedError(f"unreadable feed ({type(failure).__name__}: "
                    f"{clean_text(failure, 200)})")


def _is_web_url(value: str) -> bool:
    try:
        normalize_url(value)
    except BadURL:
        return False
    return True


# --- hostile XML ---------------------------------------------------------------------

# The prolog: whitespace, the XML declaration and other processing instructions,
# comments; then a DOCTYPE or the root element.
_PROLOG_ITEM = re.compile(rb"\s+|<\?.*?\?>|<!--.*?-->", re.S)
_DOCTYPE = re.compile(rb"<!DOCTYPE\b", re.I)
_ENTITY = re.compile(
    rb"<!ENTITY\s+(%\s*)?([^\s\"'>]+)\s+(?:(SYSTEM|PUBLIC)\b|\"([^\"]*)\"|'([^']*)')", re.S)
_SAFE_ENTITY_VALUE = re.compile(rb"(?:&#(?:x[0-9a-fA-F]{1,6}|[0-9]{1,7});|[^&%<>])*")


def _as_utf8(body: bytes) -> bytes:
    """The body in an ASCII-compatible encoding for the byte patterns above."""
    for bom, codec in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                       (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if body.startswith(bom):
            return body.decode(codec, "replace").encode("utf-8")
    if body[:2] == b"<\x00":
        return body.decode("utf-16-le", "replace").encode("utf-8")
    if body[:2] == b"\x00<":
        return body.decode("utf-16-be", "replace").encode("utf-8")
    return body[3:] if body.startswith(codecs.BOM_UTF8) else body


def entity_problem(body: bytes) -> str | None:
    """Why the feed's DOCTYPE is refused, or None when it has none or only harmless
    character entities. External entities are never read, entity references never
    multiply: this refuses such feeds with a reason instead of relying on the parser."""
    text = _as_utf8(body)
    pos = 0
    while True:  # skip the prolog up to a DOCTYPE; no DOCTYPE: nothing declared
        match = _PROLOG_ITEM.match(text, pos)
        if match is None:
            break
        pos = match.end()
    if not _DOCTYPE.match(text, pos):
        return None
    bracket, close = text.find(b"[", pos), text.find(b">", pos)
    if bracket == -1 or (close != -1 and close < bracket):
        end = close if close != -1 else len(text)  # no internal subset
    else:
        end = text.find(b"]>", bracket)
        end = len(text) if end == -1 else end
    subset = text[pos:end]
    if b"<!ENTITY" not in subset:
        return None
    at = text.find(b"<!ENTITY", pos)
    while at != -1 and at < end:
        decl = _ENTITY.match(text, at)
        if decl is None:
            return "feed declares a malformed XML entity; refused"
        name = decl.group(2).decode("utf-8", "replace")[:50]
        if decl.group(3):
            return (f"feed declares an external XML entity {name!r} ({decl.group(3).decode()} "
                    "…): refused, external entities are never read")
        if decl.group(1):
            return f"feed declares an XML parameter entity {name!r}; refused"
        value = decl.group(4) if decl.group(4) is not None else decl.group(5)
        if len(value) > MAX_ENTITY_VALUE or not _SAFE_ENTITY_VALUE.fullmatch(value):
            return (f"feed declares an XML entity {name!r} that expands to markup, other "
                    "entities or long text (an entity-expansion bomb?); refused")
        at = text.find(b"<!ENTITY", decl.end())
    return None


_XML_ENCODING = re.compile(rb"""^(\s*<\?xml[^>]*?encoding\s*=\s*["'])[^"']*(["'])""")
_ENTRY_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:item|entry)[\s>/]", re.I)
_ENTRY_NAMES = {"item", "entry"}


def count_entries(body: bytes) -> int:
    """How many entries the feed lists: start tags of items and entries (cheap)."""
    return sum(1 for _ in _ENTRY_START.finditer(_as_utf8(body)))


_START_TAG = re.compile(rb"<[A-Za-z_]")


def count_elements(body: bytes) -> int:
    """Start tags in the feed (cheap; markup escaped in CDATA counts too: an upper bound)."""
    return sum(1 for _ in _START_TAG.finditer(_as_utf8(body)))


class _Enough(Exception):
    pass


def cut_entries(body: bytes, keep: int) -> bytes:
    """The feed with everything from entry `keep + 1` on removed. With well-formed XML,
    the elements still open there are closed, so the strict parser reads the rest;
    otherwise the cut is at the entry's start tag and feedparser parses leniently."""
    text = _as_utf8(body)
    if text is not body and not body.startswith(codecs.BOM_UTF8):  # was UTF-16/32
        text = _XML_ENCODING.sub(rb"\1utf-8\2", text, count=1)
    stack: list[tuple[str, bool]] = []  # open elements: name, whether an entry
    entries: list[int] = []  # byte offsets of the entries' start tags
    inside = 0  # entries open on the stack: counted, so that nesting stays linear
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def start(name: str, attrs) -> None:
        nonlocal inside
        is_entry = not inside and name.rpartition(":")[2].lower() in _ENTRY_NAMES
        if is_entry:
            inside += 1
            entries.append(parser.CurrentByteIndex)
            if len(entries) > keep:
                raise _Enough
        stack.append((name, is_entry))

    def end(name: str) -> None:
        nonlocal inside
        if stack and stack.pop()[1]:
            inside -= 1

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(text, True)
    except _Enough:
        closing = "".join(f"</{name}>" for name, _ in reversed(stack))
        return text[:entries[-1]] + closing.encode("utf-8")
    except (expat.ExpatError, ValueError):
        pass
    starts = [m.start() for m in _ENTRY_START.finditer(text)]
    return text[:starts[keep]] if len(starts) > keep else text
