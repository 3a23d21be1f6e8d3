"""Feed bytes → entries, with feedparser as the parser only (its own fetching has no
timeout; fetching is Scrapy's job). Malformed feeds keep whatever entries parse."""

from __future__ import annotations

import calendar
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

import feedparser

from crawler.urls import BadURL, normalize_url

MAX_ENTRIES = 1000  # a feed listing more is truncated (and says so)


class FeedError(ValueError):
    """The body is not a feed at all (HTML, empty, binary)."""


@dataclass
class FeedEntry:
    url: str
    entry_id: str  # the GUID, or the URL when the feed gives none
    title: str | None = None
    published: datetime | None = None


@dataclass
class ParsedFeed:
    entries: list[FeedEntry]
    title: str | None = None
    ttl_minutes: int | None = None
    problems: list[str] = field(default_factory=list)  # malformed XML, skipped entries


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _entry_date(entry: dict) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), UTC)
            except (OverflowError, ValueError, TypeError):
                continue
    return None


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
    """Parse RSS or Atom. Raises FeedError when the body is no feed; otherwise returns
    every usable entry, de-duplicated by normalised URL, with problems listed."""
    headers = {"content-type": content_type} if content_type else None
    parsed = feedparser.parse(body, response_headers=headers, sanitize_html=False,
                              resolve_relative_uris=False)
    problems: list[str] = []
    if not parsed.get("version") and not parsed.entries:
        reason = parsed.get("bozo_exception")
        raise FeedError(f"not an RSS or Atom feed ({reason or 'no feed elements found'})")
    if parsed.get("bozo"):
        problems.append(f"malformed feed, parsed leniently: {parsed.get('bozo_exception')}")
    base = parsed.feed.get("link") or url
    entries: list[FeedEntry] = []
    seen: set[str] = set()
    for index, entry in enumerate(parsed.entries):
        if len(entries) >= MAX_ENTRIES:
            problems.append(
                f"feed lists {len(parsed.entries)} entries; kept the first {MAX_ENTRIES}"
            )
            break
        link = _entry_link(entry)
        if not link:
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
            entry_id=str(entry.get("id") or article_url)[:1000],
            title=entry.get("title"),
            published=_entry_date(entry),
        ))
    ttl = parsed.feed.get("ttl")
    try:
        ttl_minutes = int(ttl) if ttl else None
    except (TypeError, ValueError):
        ttl_minutes = None
    return ParsedFeed(entries, parsed.feed.get("title"), ttl_minutes, problems)
