"""Sitemap bytes → entries: XML sitemaps, sitemap indexes, Google News sitemaps, gzip'd
or not, and the `Sitemap:` lines of robots.txt. Plain functions, data in and data out;
fetching is the spider's job (crawler/spiders/sitemaps.py).

The XML is read by Scrapy's own parser (`scrapy.utils.sitemap.Sitemap`: lxml's
iterparse with entities left unresolved and broken XML recovered, element by element,
so a big sitemap is never held as a tree). Its element handling reads the text of each
`<url>`'s direct children only; `NewsSitemap` extends it to keep the Google News fields
(`<news:news>` nests `<news:title>` and `<news:publication_date>` one level deeper)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots

from core.urls import BadURL, normalize_url
from extract.charset import plausible_date

MAX_URLS_PER_DOCUMENT = 50_000  # the sitemaps protocol's own limit; more is not read
MAX_ENTRIES = 5_000  # entries taken from one source in one pass (newest first)
MAX_DEPTH = 3  # documents below the source: robots.txt → index → index → urlset
MAX_CHILD_SITEMAPS = 50  # child sitemaps followed from one index (newest first)
MAX_ROBOTS_SITEMAPS = 20  # `Sitemap:` lines followed from one robots.txt

NEWS_FIELDS = {"title", "publication_date", "keywords", "name", "language"}


class SitemapError(ValueError):
    """The body is no sitemap (HTML, empty, not XML, too big once unzipped)."""


@dataclass
class SitemapEntry:
    url: str  # normalised
    title: str | None = None  # <news:title>
    published: datetime | None = None  # <news:publication_date>
    lastmod: datetime | None = None  # <lastmod>

    @property
    def when(self) -> datetime | None:
        """The date that says whether the entry is new: publication, else last change."""
        return self.published or self.lastmod


@dataclass
class ChildSitemap:
    url: str
    lastmod: datetime | None = None


@dataclass
class ParsedSitemap:
    kind: str  # "urlset" (entries) or "sitemapindex" (sitemaps)
    entries: list[SitemapEntry] = field(default_factory=list)
    sitemaps: list[ChildSitemap] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


_ITEM_OF = {"urlset": "url", "sitemapindex": "sitemap"}
STRAY = "stray element"  # the key NewsSitemap gives an element foreign to the document


class NewsSitemap(Sitemap):
    """Scrapy's sitemap parser, also keeping `<news:news>`'s nested fields, as
    `news_title`, `news_publication_date`… beside `loc` and `lastmod`; an element of the
    other kind of document (a stray `<sitemap>` in a `<urlset>`) is marked STRAY."""

    __slots__ = ()

    def _process_sitemap_element(self, elem):
        news: dict[str, str] = {}
        for child in elem:
            if self._get_tag_name(child) != "news":
                continue
            for sub in child.iter():
                name = self._get_tag_name(sub)
                if name in NEWS_FIELDS and sub.text and sub.text.strip():
                    news[f"news_{name}"] = sub.text.strip()
        name = self._get_tag_name(elem)
        entry = super()._process_sitemap_element(elem)  # also frees the element
        if entry is not None and name != _ITEM_OF.get(self.type):
            return {STRAY: name}  # a <sitemap> in a <urlset> (or a <url> in an index)
        if entry is not None:
            entry.pop("news", None)
            entry.update(news)
        return entry


def sitemap_body(body: bytes, max_size: int = 0) -> bytes:
    """The XML of a sitemap as fetched: a .xml.gz file is unzipped (at most `max_size`
    bytes once unzipped, 0: no limit). A gzip'd transfer (Content-Encoding) was already
    undone by Scrapy."""
    if body[:3] != b"\x1f\x8b\x08":
        return body
    try:
        return gunzip(body, max_size=max_size)
    except Exception as exc:  # a corrupt archive, or larger than max_size unzipped
        raise SitemapError(f"gzip'd sitemap unreadable: {exc or type(exc).__name__}") \
            from None


def parse_date(text: str | None) -> datetime | None:
    """A W3C datetime (2025-03-24, 2025-03-24T10:00Z, 2025-03-24T10:00:00.5+03:00, also
    2025-03 and 2025), or an RFC 822 date, which some sites use; naive dates are UTC."""
    text = (text or "").strip()
    if not text:
        return None
    value: datetime | None = None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        match = re.fullmatch(r"(\d{4})(?:-(\d{2}))?", text)
        if match:
            try:
                value = datetime(int(match[1]), int(match[2] or 1), 1)
            except ValueError:
                return None
        else:
            try:
                value = parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                return None
    if value is None:
        return None
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    return value if plausible_date(value) else None  # year 1000 or 9999 is no news


def parse_sitemap(body: bytes, url: str) -> ParsedSitemap:
    """Parse a sitemap or sitemap index (already unzipped: see `sitemap_body`). Raises
    SitemapError when the body is no sitemap; otherwise returns every usable entry
    (de-duplicated by normalised URL) or child sitemap, with problems listed."""
    if not body.strip():
        raise SitemapError("empty body, not a sitemap")
    try:
        document = NewsSitemap(body)
    except Exception as exc:  # lxml: not XML at all
        raise SitemapError(f"not a sitemap (not XML: {str(exc) or 'no element found'})") \
            from None
    if document.type not in ("urlset", "sitemapindex"):
        raise SitemapError(f"not a sitemap (root element <{document.type or '?'}>)")
    parsed = ParsedSitemap(kind=document.type)
    seen: set[str] = set()
    count = 0
    try:
        for item in document:
            if STRAY in item:
                parsed.problems.append(f"a <{item[STRAY]}> element inside a "
                                       f"<{parsed.kind}>; ignored")
                continue
            count += 1
            if count > MAX_URLS_PER_DOCUMENT:
                parsed.problems.append(f"more than {MAX_URLS_PER_DOCUMENT} entries; "
                                       f"the rest were not read")
                break
            try:
                loc = normalize_url(item.get("loc", ""), base=url)
            except BadURL as exc:
                parsed.problems.append(f"entry {count}: {exc}; skipped")
                continue
            if loc in seen:
                continue
            seen.add(loc)
            lastmod = parse_date(item.get("lastmod"))
            if parsed.kind == "sitemapindex":
                parsed.sitemaps.append(ChildSitemap(loc, lastmod))
            else:
                parsed.entries.append(SitemapEntry(
                    loc, title=item.get("news_title") or None,
                    published=parse_date(item.get("news_publication_date")),
                    lastmod=lastmod))
    except Exception as exc:  # lxml gave up part-way: keep what was read
        parsed.problems.append(f"malformed sitemap, read up to entry {count}: {exc}")
    return parsed


def robots_sitemaps(body: bytes, url: str) -> list[str]:
    """The sitemaps a robots.txt lists (`Sitemap:` lines), normalised, in order."""
    urls: list[str] = []
    for raw in sitemap_urls_from_robots(body, base_url=url):
        try:
            found = normalize_url(raw)
        except BadURL:
            continue
        if found not in urls:
            urls.append(found)
    return urls[:MAX_ROBOTS_SITEMAPS]


@dataclass
class Selection:
    """A sitemap's entries sorted out against the date window."""

    recent: list[SitemapEntry] = field(default_factory=list)  # newest first
    old: int = 0  # dated before the window
    undated: int = 0  # no date at all: cannot tell new from old, so not taken
    over_limit: int = 0  # recent, but beyond the limit (the oldest of them)


def select_entries(entries: list[SitemapEntry], since: datetime,
                   limit: int = MAX_ENTRIES) -> Selection:
    """The entries dated `since` or later, newest first, at most `limit` of them."""
    selection = Selection()
    for entry in entries:
        when = entry.when
        if when is None:
            selection.undated += 1
        elif when < since:
            selection.old += 1
        else:
            selection.recent.append(entry)
    selection.recent.sort(key=lambda e: e.when, reverse=True)
    selection.over_limit = max(0, len(selection.recent) - max(0, limit))
    del selection.recent[max(0, limit):]
    return selection


def select_sitemaps(children: list[ChildSitemap], since: datetime,
                    limit: int = MAX_CHILD_SITEMAPS) -> tuple[list[ChildSitemap], int]:
    """The child sitemaps worth reading: changed since `since` (or undated), the most
    recently changed first, at most `limit`; and how many were left out as old."""
    fresh = [c for c in children if c.lastmod is None or c.lastmod >= since]
    fresh.sort(key=lambda c: (c.lastmod is not None, c.lastmod or since), reverse=True)
    return fresh[:limit], len(children) - len(fresh)
