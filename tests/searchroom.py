"""Stand-ins for news search engines, in front of outlet sites that no sources file
lists: a GDELT DOC 2.0 API (ArtList JSON, honouring startdatetime/enddatetime,
maxrecords and paging, answering 429 when called faster than its gap) and a
search-results RSS feed whose links are wrapped (url=…) or redirect (302, two hops).
Each outlet site listens on its own loopback address (127.0.1.N): distinct hosts,
hence distinct outlets."""

from __future__ import annotations

import html
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import parse_qs, quote, urlsplit

from newsroom import Newsroom, Route, Site, article_html

TIME_FORMAT = "%Y%m%d%H%M%S"


@dataclass
class GdeltItem:
    url: str
    title: str
    seen: datetime
    domain: str
    language: str = "English"
    visible_at: float = field(default_factory=time.time)  # when it entered the index


class GdeltStandIn:
    """The DOC 2.0 API's ArtList mode on a test site. Answers 429 (Retry-After: 1) to
    a request less than `min_gap` seconds after the previous one."""

    def __init__(self, site: Site, min_gap: float = 5.0) -> None:
        self.site = site
        self.min_gap = min_gap
        self.items: list[GdeltItem] = []
        self.calls: list[tuple[float, dict, int]] = []  # (time, params, status)
        self.lock = threading.Lock()
        self.answer: bytes | None = None  # set to serve a broken answer instead
        site.routes["/api/v2/doc/doc"] = Route(handler=self.serve)
        site.routes["/robots.txt"] = Route(b"User-agent: *\nAllow: /\n",
                                           content_type="text/plain")

    @property
    def endpoint(self) -> str:
        return self.site.url("/api/v2/doc/doc")

    def add(self, url: str, title: str, seen: datetime, language: str = "English") -> None:
        self.items.append(GdeltItem(url, title, seen, urlsplit(url).hostname or "", language))

    def serve(self, request) -> None:
        params = {k: v[0] for k, v in parse_qs(urlsplit(request.path).query).items()}
        now = time.monotonic()
        with self.lock:
            accepted = [t for t, _, status in self.calls if status == 200]
            too_soon = bool(accepted) and now - accepted[-1] < self.min_gap
            status = 429 if too_soon else 200
            self.calls.append((now, params, status))
        if too_soon:
            Site._send(request, 429, b"Please limit requests to one every 5 seconds",
                       {"Retry-After": "1", "Content-Type": "text/plain"})
            return
        if self.answer is not None:
            Site._send(request, 200, self.answer, {"Content-Type": "application/json"})
            return
        start = datetime.strptime(params["startdatetime"], TIME_FORMAT).replace(tzinfo=UTC)
        end = datetime.strptime(params["enddatetime"], TIME_FORMAT).replace(tzinfo=UTC)
        limit = min(int(params.get("maxrecords", 75)), 250)
        found = sorted((i for i in self.items if start <= i.seen <= end),
                       key=lambda i: i.seen, reverse=True)[:limit]
        body = {"articles": [{
            "url": i.url, "url_mobile": "", "title": i.title,
            "seendate": i.seen.strftime("%Y%m%dT%H%M%SZ"), "socialimage": "",
            "domain": i.domain, "language": i.language, "sourcecountry": "United States",
        } for i in found]} if found else {}
        Site._send(request, 200, json.dumps(body).encode(),
                   {"Content-Type": "application/json; charset=utf-8"})

    def accepted_gaps(self) -> list[float]:
        times = [t for t, _, status in self.calls if status == 200]
        return [b - a for a, b in zip(times, times[1:], strict=False)]


class ResultsFeed:
    """A search-results RSS feed (as Google Alerts or Bing News give one): each item's
    link is a wrapper carrying the target in `url=`, or a redirect (two hops on this
    site, then a 302 to the publisher); each names its outlet in <source url>."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.items: list[dict] = []
        site.routes["/rss/search"] = Route(handler=self.serve_feed)
        self.hops = 0

    @property
    def url(self) -> str:
        return self.site.url("/rss/search")

    def add(self, target: str, title: str, published: datetime, outlet: str,
            outlet_url: str, wrapped: bool) -> None:
        n = len(self.items)
        if wrapped:
            link = self.site.url(f"/url?rct=j&sa=t&url={quote(target, safe='')}&ct=ga")
        else:
            link = self.site.url(f"/r/{n}")
            self.site.routes[f"/r/{n}"] = Route(status=302, headers={
                "Location": self.site.url(f"/r2/{n}")})
            self.site.routes[f"/r2/{n}"] = Route(status=302, headers={"Location": target})
        self.items.append({"link": link, "title": title, "published": published,
                           "outlet": outlet, "outlet_url": outlet_url, "guid": f"r-{n}"})

    def serve_feed(self, request) -> None:
        entries = "".join(
            f"""<item><title>{html.escape(i['title'])}</title>
<link>{html.escape(i['link'])}</link><guid isPermaLink="false">{i['guid']}</guid>
<pubDate>{format_datetime(i['published'])}</pubDate>
<source url="{html.escape(i['outlet_url'])}">{html.escape(i['outlet'])}</source></item>"""
            for i in self.items)
        body = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Search results</title><link>{self.site.base}</link>
<description>results</description>{entries}</channel></rss>""".encode()
        Site._send(request, 200, body, {"Content-Type": "application/rss+xml"})


def outlet_site(newsroom: Newsroom, n: int) -> Site:
    """Outlet site number n on 127.0.1.n, with a home page linking its own feed."""
    site = newsroom.site(f"Discovered Outlet {n:02d}", host=f"127.0.1.{n}")
    site.routes["/"] = Route(f"""<!DOCTYPE html><html><head><title>{site.name}</title>
<link rel="alternate" type="application/rss+xml" title="{site.name}" href="/feed.xml">
</head><body><h1>{site.name}</h1></body></html>""".encode())
    return site


def publish(site: Site, path: str, title: str, paragraphs: list[str],
            published: datetime) -> str:
    url = site.url(path)
    site.routes[path] = Route(article_html(title, paragraphs, published, "Staff", site.name,
                                           url))
    return url
