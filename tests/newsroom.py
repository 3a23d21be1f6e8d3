"""A test newsroom: real HTTP servers on 127.0.0.1, one per outlet (each on its own
port), serving robots.txt, an RSS or Atom feed and article pages with the furniture
real sites have. Feeds answer conditional GETs with 304. Every request is logged.

Pages are built at run time from the seed texts in shared/seeds; nothing of them is
copied into the repository."""

from __future__ import annotations

import gzip
import hashlib
import html
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    conditional: bool = False  # answer If-None-Match / If-Modified-Since with 304
    handler: Callable[[BaseHTTPRequestHandler], None] | None = None  # full control


@dataclass
class LoggedRequest:
    site: str
    path: str
    status: int
    headers: dict[str, str]
    at: float = field(default_factory=time.time)


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # a crawl opens many connections at once; 5 drops some

    def handle_error(self, request, client_address) -> None:
        pass  # clients hanging up on slow or huge responses is what some tests do


class Site:
    """One outlet's web server."""

    def __init__(self, name: str, newsroom: Newsroom, host: str = "127.0.0.1") -> None:
        self.name = name
        self.host = host  # 127.0.1.1, 127.0.1.2, …: all loopback, distinct hosts
        self.routes: dict[str, Route] = {}
        self.newsroom = newsroom
        self.routes["/robots.txt"] = Route(b"User-agent: *\nDisallow: /private/\n",
                                           content_type="text/plain")
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802
                site.serve(self)

        self.server = QuietServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def serve(self, request: BaseHTTPRequestHandler) -> None:
        path = request.path.split("?", 1)[0]
        route = self.routes.get(path)
        headers = {k.lower(): v for k, v in request.headers.items()}
        if route is None:
            status = 404
            self._send(request, 404, b"<html><body>Not found</body></html>", {})
        elif route.handler is not None:
            status = route.status
            route.handler(request)
        else:
            etag = '"' + hashlib.sha1(route.body).hexdigest()[:16] + '"'
            extra = dict(route.headers)
            status = route.status
            if route.conditional:
                extra.setdefault("ETag", etag)
                extra.setdefault("Last-Modified", "Mon, 24 Mar 2025 08:00:00 GMT")
                if headers.get("if-none-match") == extra["ETag"]:
                    status = 304
            extra.setdefault("Content-Type", route.content_type)
            self._send(request, status, b"" if status == 304 else route.body, extra)
        self.newsroom.log.append(LoggedRequest(self.name, request.path, status, headers))

    @staticmethod
    def _send(request, status: int, body: bytes, headers: dict[str, str]) -> None:
        request.send_response(status)
        for key, value in headers.items():
            request.send_header(key, value)
        if status != 304:
            request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        if status != 304:
            request.wfile.write(body)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Newsroom:
    def __init__(self) -> None:
        self.sites: dict[str, Site] = {}
        self.log: list[LoggedRequest] = []

    def site(self, name: str, host: str = "127.0.0.1") -> Site:
        if name not in self.sites:
            self.sites[name] = Site(name, self, host)
        return self.sites[name]

    def requests(self, site: str | None = None, path_prefix: str = "") -> list[LoggedRequest]:
        return [r for r in self.log
                if (site is None or r.site == site) and r.path.startswith(path_prefix)]

    def close(self) -> None:
        for site in self.sites.values():
            site.close()

    def sources_toml(self, outlets: dict[str, list[str]], allow_private: bool = True) -> str:
        """A sources file listing each outlet with the given feed paths."""
        lines = [f"allow_private_addresses = {'true' if allow_private else 'false'}", ""]
        for name, paths in outlets.items():
            feeds = ", ".join(json.dumps(self.sites[name].url(p)) for p in paths)
            lines += ["[[outlets]]", f"name = {json.dumps(name)}", f"feeds = [{feeds}]",
                      "interval_minutes = 5", ""]
        return "\n".join(lines)


# --- page and feed builders -------------------------------------------------------

FURNITURE_NAV = ["Home", "World", "Politics", "Business", "Opinion", "Sport", "Video"]


def article_html(title: str, paragraphs: list[str], published: datetime, author: str,
                 site_name: str, url: str, related: list[str] | None = None,
                 lang: str = "en") -> bytes:
    """A news page with navigation, meta tags, JSON-LD, a newsletter box and related links."""
    nav = "".join(f'<li><a href="/section/{n.lower()}">{n}</a></li>' for n in FURNITURE_NAV)
    rel = "".join(f'<li><a href="/news/related-{i}.html">{html.escape(t)}</a></li>'
                  for i, t in enumerate(related or ["Markets close higher on Friday",
                                                    "Weather warning for the weekend"]))
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    ld = json.dumps({
        "@context": "https://schema.org", "@type": "NewsArticle", "headline": title,
        "datePublished": published.isoformat(), "author": {"@type": "Person", "name": author},
        "publisher": {"@type": "Organization", "name": site_name}, "mainEntityOfPage": url,
    })
    page = f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8">
<title>{html.escape(title)} | {html.escape(site_name)}</title>
<meta property="og:title" content="{html.escape(title)}">
<meta property="og:site_name" content="{html.escape(site_name)}">
<meta property="article:published_time" content="{published.isoformat()}">
<meta name="author" content="{html.escape(author)}">
<link rel="canonical" href="{html.escape(url)}">
<script type="application/ld+json">{ld}</script>
</head><body>
<header><div class="logo">{html.escape(site_name)}</div><nav><ul>{nav}</ul></nav></header>
<main><article>
<h1>{html.escape(title)}</h1>
<div class="byline">By {html.escape(author)} · <time datetime="{published.isoformat()}">
{published:%d %B %Y}</time></div>
{body}
</article>
<aside class="newsletter"><h3>Subscribe to our newsletter</h3>
<p>Get the latest headlines in your inbox every morning.</p></aside>
<section class="related"><h3>Related articles</h3><ul>{rel}</ul></section>
</main>
<footer><p>© {published.year} {html.escape(site_name)}. All rights reserved.</p>
<a href="/privacy">Privacy</a> <a href="/terms">Terms</a></footer>
</body></html>"""
    return page.encode("utf-8")


def rss_feed(title: str, link: str, items: list[dict]) -> bytes:
    entries = "".join(
        f"""<item><title>{html.escape(i['title'])}</title><link>{html.escape(i['link'])}</link>
<guid isPermaLink="false">{html.escape(i['guid'])}</guid>
<pubDate>{format_datetime(i['published'])}</pubDate>
<description>{html.escape(i.get('summary', ''))}</description></item>"""
        for i in items)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>{html.escape(title)}</title><link>{link}</link>
<description>{html.escape(title)}</description>{entries}</channel></rss>""".encode()


def atom_feed(title: str, link: str, items: list[dict]) -> bytes:
    entries = "".join(
        f"""<entry><title>{html.escape(i['title'])}</title>
<link rel="alternate" href="{html.escape(i['link'])}"/><id>{html.escape(i['guid'])}</id>
<updated>{i['published'].isoformat()}</updated></entry>"""
        for i in items)
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>{html.escape(title)}</title>
<link href="{link}"/><id>{link}</id><updated>2025-03-24T00:00:00Z</updated>{entries}</feed>
""".encode()


# --- the five seeds as five outlets -------------------------------------------------

@dataclass
class SeedPage:
    key: str  # the seed's number, "000" … "004"
    outlet: str
    path: str
    published: datetime
    feed: str  # "rss" or "atom"


# Our own arrangement of the seeds: which test outlet publishes which seed, and when
# (the dates follow DESIGN.md's table). Outlet names here are invented for the tests.
SEED_LAYOUT = [
    SeedPage("004", "Outlet Kyiv Review", "/news/2025/02/09/kremlin-call.html",
             datetime.fromisoformat("2025-02-09T18:30:00+00:00"), "rss"),
    SeedPage("002", "Outlet Bosphorus Daily", "/international/kremlin-stance.html",
             datetime.fromisoformat("2025-02-10T09:15:00+00:00"), "atom"),
    SeedPage("003", "Outlet Gulf Tribune", "/2025/02/10/phone-call",
             datetime.fromisoformat("2025-02-10T14:40:00+00:00"), "rss"),
    SeedPage("000", "Outlet Finance Wire", "/headlines/putin-trump-contacts.html",
             datetime.fromisoformat("2025-03-23T11:00:00+00:00"), "rss"),
    SeedPage("001", "Outlet Kabul Times", "/world/putin-trump-more-contacts/",
             datetime.fromisoformat("2025-03-24T07:20:00+00:00"), "rss"),
]


def seed_paragraphs(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def seed_title(text: str) -> str:
    """A headline made at run time: the first words of the seed's first long paragraph."""
    for para in seed_paragraphs(text):
        words = para.split()
        if len(words) >= 20:
            return " ".join(words[:12]).rstrip(",.;:")
    return " ".join(text.split()[:10])


def publish_seeds(newsroom: Newsroom, seeds_dir: Path,
                  layout: list[SeedPage] = SEED_LAYOUT) -> dict[str, str]:
    """Serve each seed on its outlet's site with a feed listing it; return key → URL."""
    urls: dict[str, str] = {}
    for seed in layout:
        text = next(seeds_dir.glob(f"{seed.key}_*.txt")).read_text(encoding="utf-8")
        site = newsroom.site(seed.outlet)
        url = site.url(seed.path)
        title = seed_title(text)
        site.routes[seed.path] = Route(article_html(
            title, seed_paragraphs(text), seed.published, "Staff Reporter", seed.outlet, url))
        items = [{"title": title, "link": url + "?utm_source=rss&utm_medium=feed",
                  "guid": f"{seed.outlet}-{seed.key}", "published": seed.published}]
        # an older, unrelated entry too, so feeds hold more than the story
        other = site.url("/news/markets-update.html")
        site.routes["/news/markets-update.html"] = Route(article_html(
            "Markets update", [f"Paragraph {n} of a routine markets report with index levels, "
                               "bond yields and currency moves across the trading week, "
                               "written for this test." for n in range(1, 6)],
            seed.published - timedelta(days=1), "Desk", seed.outlet, other))
        items.append({"title": "Markets update", "link": other, "guid": f"{seed.outlet}-m",
                      "published": seed.published - timedelta(days=1)})
        if seed.feed == "atom":
            site.routes["/atom.xml"] = Route(atom_feed(seed.outlet, site.base, items),
                                             content_type="application/atom+xml",
                                             conditional=True)
        else:
            site.routes["/rss.xml"] = Route(rss_feed(seed.outlet, site.base, items),
                                            content_type="application/rss+xml",
                                            conditional=True)
        urls[seed.key] = url
    return urls


def feed_path(seed: SeedPage) -> str:
    return "/atom.xml" if seed.feed == "atom" else "/rss.xml"


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


# --- an archive to search: our own invented reports, in two languages ---------------

@dataclass
class Report:
    key: str
    outlet: str
    title: str
    paragraphs: list[str]
    published: datetime
    lang: str = "en"


ARCHIVE_REPORTS = [
    Report("geneva-1", "Harbour Post", "Envoy said to have met Kremlin aide in Geneva", [
        "Steve Witkoff, the White House special envoy, met Kremlin economic aide Kirill "
        "Dmitriev in Geneva last weekend, according to two people familiar with the talks.",
        "Neither the White House nor the Kremlin has confirmed the meeting, which the people "
        "said lasted several hours and touched on sanctions relief and a prisoner exchange.",
        "A spokesman for the envoy declined to comment when asked about the Geneva talks.",
    ], datetime.fromisoformat("2025-04-02T09:00:00+00:00")),
    Report("geneva-2", "Valley Times", "Geneva meeting between envoys: what we know", [
        "Reports that Steve Witkoff sat down with Kirill Dmitriev in Geneva have not been "
        "confirmed by either government, and officials in Moscow declined to say more.",
        "Diplomats in Switzerland said a villa near the lake had been booked for a private "
        "meeting on Saturday, and that both delegations arrived by car in the evening.",
        "The envoys are said to have discussed flights, embassies and a prisoner exchange.",
    ], datetime.fromisoformat("2025-04-03T15:30:00+00:00")),
    Report("markets", "Harbour Post", "Markets steady as oil slips", [
        "Stock markets were steady on Thursday while oil prices slipped for a third day, as "
        "traders weighed fresh figures on inventories and the outlook for interest rates.",
        "The main index closed almost unchanged, with gains for banks offsetting losses for "
        "energy companies, and bond yields edged lower across the curve by the afternoon.",
    ], datetime.fromisoformat("2025-04-03T17:00:00+00:00")),
    Report("phone-confirmed", "Lakeside Herald", "Presidents speak by phone, both sides say", [
        "Vladimir Putin and Donald Trump spoke by telephone for ninety minutes on Thursday, "
        "the Kremlin and the White House said in statements released after the call.",
        "Kremlin aide Yuri Ushakov said the presidents discussed energy and a ceasefire, "
        "and the White House described the conversation as long and productive.",
    ], datetime.fromisoformat("2025-04-10T20:00:00+00:00")),
    Report("peskov-ru", "Lakeside Herald", "Песков не подтвердил сообщения о новом разговоре", [
        "Пресс-секретарь Кремля Дмитрий Песков не подтвердил сообщения о новом телефонном "
        "разговоре Владимира Путина и Дональда Трампа, о котором писали американские газеты.",
        "По словам Пескова, у Кремля нет информации о такой беседе, а все контакты между "
        "администрациями проходят по разным каналам и объявляются своевременно.",
        "В Белом доме от комментариев отказались, сославшись на закрытый характер переговоров.",
    ], datetime.fromisoformat("2025-04-11T08:15:00+00:00"), "ru"),
    Report("hostile", "Valley Times",
           '<script>alert("x")</script> Lavrov and Rubio said to have spoken', [
        "Sergei Lavrov and Marco Rubio spoke by phone about embassy staffing, a person "
        "familiar with the matter said, although neither ministry has acknowledged the call.",
        "The State Department declined to comment, and the Russian foreign ministry said it "
        "had nothing to add to earlier statements about the dialogue between the capitals.",
    ], datetime.fromisoformat("2025-04-15T12:00:00+00:00")),
]


def publish_archive(newsroom: Newsroom,
                    reports: list[Report] = ARCHIVE_REPORTS) -> dict[str, str]:
    """Serve each report on its outlet's site, listed in that outlet's RSS feed; return
    key → URL. Outlets: Harbour Post, Valley Times, Lakeside Herald (invented)."""
    urls: dict[str, str] = {}
    by_outlet: dict[str, list[dict]] = {}
    for report in reports:
        site = newsroom.site(report.outlet)
        path = f"/news/{report.key}.html"
        url = site.url(path)
        site.routes[path] = Route(article_html(report.title, report.paragraphs,
                                               report.published, "Staff", report.outlet,
                                               url, lang=report.lang))
        by_outlet.setdefault(report.outlet, []).append(
            {"title": report.title, "link": url, "guid": report.key,
             "published": report.published})
        urls[report.key] = url
    for outlet, items in by_outlet.items():
        site = newsroom.site(outlet)
        site.routes["/rss.xml"] = Route(rss_feed(outlet, site.base, items),
                                        content_type="application/rss+xml", conditional=True)
    return urls


# --- outlets beyond feeds: news sitemaps and section pages --------------------------
# Invented outlets and texts, for the spider tests (tests/crawler/test_spiders.py).

def report_paragraphs(topic: str) -> list[str]:
    """Three invented paragraphs about `topic`, long enough to be stored as an article."""
    return [
        f"Officials gave new details on {topic} on Monday, saying that work had gone "
        f"faster than planned and that residents would notice the difference within weeks.",
        f"Local councillors welcomed the news about {topic}, although several asked how "
        f"the costs would be shared and whether the timetable could still slip again.",
        f"A full report on {topic} is due next month, when the figures will be published "
        f"and the public will be invited to comment at a series of open meetings.",
    ]


CALL_REPORT = [
    "Vladimir Putin and Donald Trump spoke by telephone late on Sunday about a ceasefire "
    "and prisoner exchanges, according to two officials briefed on the conversation.",
    "Neither the Kremlin nor the White House has confirmed the call, and a Kremlin "
    "spokesman declined to comment when asked about it on Monday.",
    "The officials said the presidents agreed to keep talking and that their advisers "
    "would meet again before the end of the month to prepare a further conversation.",
]


def serve_article(site: Site, path: str, title: str, published: datetime,
                  paragraphs: list[str] | None = None) -> str:
    """An article page on `site`; returns its URL."""
    url = site.url(path)
    site.routes[path] = Route(article_html(title, paragraphs or report_paragraphs(
        title.lower()), published, "Staff", site.name, url))
    return url


def news_sitemap(entries: list[dict]) -> bytes:
    """A urlset. Each entry: `loc`; optional `title` and `published` (Google News
    fields), `lastmod` (a datetime)."""
    items = []
    for entry in entries:
        parts = [f"<loc>{html.escape(entry['loc'])}</loc>"]
        if entry.get("lastmod"):
            parts.append(f"<lastmod>{entry['lastmod'].isoformat()}</lastmod>")
        if entry.get("title") or entry.get("published"):
            parts.append(
                "<news:news><news:publication><news:name>Test</news:name>"
                "<news:language>en</news:language></news:publication>"
                + (f"<news:publication_date>{entry['published'].isoformat()}"
                   f"</news:publication_date>" if entry.get("published") else "")
                + (f"<news:title>{html.escape(entry['title'])}</news:title>"
                   if entry.get("title") else "")
                + "</news:news>")
        items.append("<url>" + "".join(parts) + "</url>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n'
            + "\n".join(items) + "\n</urlset>\n").encode()


def sitemap_index(children: list[tuple[str, datetime | None]]) -> bytes:
    items = "".join(
        f"<sitemap><loc>{html.escape(loc)}</loc>"
        + (f"<lastmod>{lastmod.isoformat()}</lastmod>" if lastmod else "") + "</sitemap>\n"
        for loc, lastmod in children)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            + items + "</sitemapindex>\n").encode()


# Links every section page below carries that are no articles: same-site paths…
SECTION_FURNITURE = [
    "/world/", "/business/", "/opinion/", "/tag/kremlin-white-house-relations/",
    "/author/maria-ivanova-staff-writer/", "/login?next=/politics/", "/privacy-policy/",
    "/2025/01/05/ledger-most-read-archive-story-of-the-year", "/2025/03/", "/feed/",
    "/search?q=talks", "/about/", "/contact/", "/terms/",
    "/images/photo-of-the-day-in-the-city-centre.jpg",
]


def section_page(site: Site, heading: str, teasers: list[tuple[str, str]],
                 elsewhere: list[str], next_html: str = "", head_html: str = "") -> bytes:
    """A listing page: article teasers (path, headline), each with tag and author
    links, amid the furniture of SECTION_FURNITURE and a "most read" box linking to
    `elsewhere` (other sites' articles). `next_html` is the pagination block,
    `head_html` goes into <head> (a rel=next link)."""
    cards = "\n".join(
        f'<article class="card"><header><h2><a href="{html.escape(path)}">'
        f"{html.escape(headline)}</a></h2></header>"
        f"<p>A short summary of the report, with the main facts in one line.</p>"
        f'<footer><a href="/tag/kremlin-white-house-relations/">Relations</a> · '
        f'<a href="/author/maria-ivanova-staff-writer/">Maria Ivanova</a></footer></article>'
        for path, headline in teasers)
    most_read = "".join(f'<li><a href="{html.escape(url)}">A story from elsewhere that '
                        f"everybody reads</a></li>" for url in elsewhere)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(heading)} |
{html.escape(site.name)}</title>{head_html}</head>
<body class="archive category sidebar-primary">
<header class="site-header"><a href="/">{html.escape(site.name)}</a>
<nav><a href="/politics/">Politics</a> <a href="/world/">World</a>
<a href="/business/">Business</a> <a href="/opinion/">Opinion</a>
<a href="/login?next=/politics/">Log in</a></nav>
<form action="/search"><input name="q"></form><a href="/search?q=talks">Search</a></header>
<main id="content">
<h1>{html.escape(heading)}</h1>
{cards}
<div class="most-read"><h3>Most read</h3><ol>{most_read}
<li><a href="/2025/01/05/ledger-most-read-archive-story-of-the-year">Last year's story</a></li>
</ol></div>
<p>Browse the <a href="/2025/03/">March archive</a> or follow our <a href="/feed/">feed</a>.
<a href="/images/photo-of-the-day-in-the-city-centre.jpg">Photo of the day</a></p>
{next_html}
</main>
<aside class="sidebar"><a href="/opinion/">Opinion</a></aside>
<footer class="site-footer"><a href="/about/">About</a> <a href="/contact/">Contact</a>
<a href="/privacy-policy/">Privacy</a> <a href="/terms/">Terms</a></footer>
</body></html>"""
    return page.encode("utf-8")


@dataclass
class SpiderNewsroom:
    """What publish_spider_outlets serves: the article URLs each kind of source should
    bring in, and the URLs that must never be requested."""

    gazette: Site  # only a news sitemap, discovered through robots.txt
    ledger: Site  # only section pages, three of four pages read (pagination)
    courier: Site  # feed, news sitemap and section page, one article on all three
    post: Site  # a section page read with a configured selector
    elsewhere: Site  # other sites' "most read" stories, never to be fetched
    expected: dict[str, list[str]] = field(default_factory=dict)  # route → article URLs
    never: list[str] = field(default_factory=list)  # URLs that must not be requested
    now: datetime | None = None

    def sources_toml(self) -> str:
        g, led, c, p = self.gazette, self.ledger, self.courier, self.post
        return f"""allow_private_addresses = true

[[outlets]]
name = {json.dumps(g.name)}
sitemaps = [{json.dumps(g.url("/robots.txt"))}]

[[outlets]]
name = {json.dumps(led.name)}
sections = [{json.dumps(led.url("/politics/"))}]

[[outlets]]
name = {json.dumps(c.name)}
feeds = [{json.dumps(c.url("/rss.xml"))}]
sitemaps = [{json.dumps(c.url("/news-sitemap.xml"))}]
sections = [{json.dumps(c.url("/latest/"))}]

[[outlets]]
name = {json.dumps(p.name)}
sections = [{json.dumps(p.url("/stories"))}]
section_selector = "css:ul.headlines li > a"
"""


def publish_spider_outlets(newsroom: Newsroom, now: datetime) -> SpiderNewsroom:
    """Four invented outlets without a feed of their own (but one), and a fifth site
    that only other pages link to. Dates are relative to `now`."""
    gazette = newsroom.site("Sitemap Gazette")
    ledger = newsroom.site("Section Ledger")
    courier = newsroom.site("Triple Courier")
    post = newsroom.site("Selector Post")
    elsewhere = newsroom.site("Elsewhere Daily")
    room = SpiderNewsroom(gazette, ledger, courier, post, elsewhere, now=now)
    minutes = lambda n: now - timedelta(minutes=n)  # noqa: E731

    # Sitemap Gazette: robots.txt → index → a news sitemap and a gzip'd one; an old one
    gazette.routes["/robots.txt"] = Route(
        f"User-agent: *\nDisallow: /private/\n\nSitemap: {gazette.url('/sitemap_index.xml')}\n"
        .encode(), content_type="text/plain")
    taken = {
        "/news/gazette-call-report.html": ("Putin and Trump said to have spoken", 30),
        "/news/gazette-bridge-reopens.html": ("Harbour bridge reopens to traffic", 120),
        "/news/gazette-school-opening.html": ("New school opens in the old mill", 180),
    }
    for path, (title, age) in taken.items():
        serve_article(gazette, path, title, minutes(age),
                      CALL_REPORT if "call" in path else None)
    serve_article(gazette, "/news/gazette-market-hall.html", "Market hall gets a new roof",
                  minutes(60))
    old = {"/news/gazette-old-budget-story.html": 5 * 24 * 60,
           "/news/gazette-old-flood-warning.html": 10 * 24 * 60,
           "/news/gazette-undated-notice.html": None,
           "/news/gazette-2019-archive-story.html": 6 * 365 * 24 * 60}
    for path, age in old.items():
        serve_article(gazette, path, path.rsplit("/", 1)[1], minutes(age or 7 * 24 * 60))
    news = [
        {"loc": gazette.url("/news/gazette-call-report.html?utm_source=sitemap"),
         "title": taken["/news/gazette-call-report.html"][0], "published": minutes(30)},
        {"loc": gazette.url("/news/gazette-bridge-reopens.html"),
         "title": taken["/news/gazette-bridge-reopens.html"][0], "published": minutes(120)},
        {"loc": gazette.url("/news/gazette-old-budget-story.html"),
         "title": "Budget story", "published": minutes(5 * 24 * 60)},
    ]
    extra = [
        {"loc": gazette.url("/news/gazette-school-opening.html"),
         "title": taken["/news/gazette-school-opening.html"][0], "published": minutes(180)},
        {"loc": gazette.url("/news/gazette-market-hall.html"), "lastmod": minutes(60)},
        {"loc": gazette.url("/news/gazette-undated-notice.html")},
        {"loc": gazette.url("/news/gazette-old-flood-warning.html"),
         "lastmod": minutes(10 * 24 * 60)},
    ]
    gazette.routes["/sitemaps/news.xml"] = Route(news_sitemap(news),
                                                 content_type="application/xml")
    gazette.routes["/sitemaps/news-extra.xml.gz"] = Route(
        gzip.compress(news_sitemap(extra)), content_type="application/x-gzip")
    gazette.routes["/sitemaps/archive-2019.xml"] = Route(news_sitemap(
        [{"loc": gazette.url("/news/gazette-2019-archive-story.html"),
          "lastmod": minutes(6 * 365 * 24 * 60)}]), content_type="application/xml")
    gazette.routes["/sitemap_index.xml"] = Route(sitemap_index([
        (gazette.url("/sitemaps/news.xml"), minutes(5)),
        (gazette.url("/sitemaps/news-extra.xml.gz"), minutes(20)),
        (gazette.url("/sitemaps/archive-2019.xml"), minutes(6 * 365 * 24 * 60)),
    ]), content_type="application/xml")
    room.expected["sitemap"] = [gazette.url(p) for p in [*taken,
                                                         "/news/gazette-market-hall.html"]]
    room.never += [gazette.url(p) for p in old] + [gazette.url("/sitemaps/archive-2019.xml")]

    # Elsewhere Daily: stories the "most read" boxes point to
    foreign = [serve_article(elsewhere, f"/2025/03/2{n}/elsewhere-most-read-story-number-{n}",
                             f"Elsewhere story {n}", minutes(300)) for n in range(3)]
    room.never += foreign

    # Section Ledger: /politics/ and its pages 2, 3 (read) and 4 (beyond section_pages)
    ledger.routes["/robots.txt"] = Route(b"User-agent: *\nDisallow: /members/\n",
                                         content_type="text/plain")
    pages = {
        1: ("/politics/", ["/2025/03/24/envoys-prepare-new-round-of-talks",
                           "/politics/ministers-debate-the-harbour-budget-again",
                           "/members/2025/03/24/members-only-briefing-on-the-talks"]),
        2: ("/politics/page/2/", ["/2025/03/23/parliament-passes-the-transport-bill",
                                  "/politics/opposition-calls-for-an-early-vote"]),
        3: ("/politics/page/3/", ["/2025/03/22/mayor-opens-the-new-tram-line",
                                  "/politics/city-council-approves-the-housing-plan"]),
        4: ("/politics/page/4/", ["/2025/03/21/page-four-story-beyond-the-limit"]),
    }
    pagination = {  # three ways of pointing at the next page
        1: ('<nav class="pagination"><a href="/politics/page/2/">2</a> '
            '<a href="/politics/page/2/">Next &raquo;</a></nav>', ""),
        2: ('<p><a href="/politics/">1</a> <a href="/politics/page/3/">3</a></p>',
            '<link rel="next" href="/politics/page/3/">'),
        3: ('<p><a href="/politics/page/2/">2</a> <a href="/politics/page/4/">4</a></p>', ""),
        4: ("", ""),
    }
    for number, (path, links) in pages.items():
        teasers = [(link, f"Report number {i} of page {number} in politics")
                   for i, link in enumerate(links)]
        for link in links:
            serve_article(ledger, link, link.rstrip("/").rsplit("/", 1)[1].replace("-", " "),
                          minutes(400 + 10 * number))
        next_html, head_html = pagination[number]
        ledger.routes[path] = Route(section_page(ledger, f"Politics, page {number}", teasers,
                                                 foreign, next_html, head_html))
    room.expected["section"] = [ledger.url(link) for n in (1, 2, 3) for link in pages[n][1]
                                if not link.startswith("/members/")]
    room.never += [ledger.url(p) for p in SECTION_FURNITURE]
    room.never += [ledger.url("/politics/page/4/"), ledger.url(pages[4][1][0]),
                   ledger.url(pages[1][1][2])]  # robots.txt: Disallow: /members/
    for path in SECTION_FURNITURE:  # served, so that a wrong request would succeed
        if not path.startswith("/images/"):
            serve_article(ledger, path.split("?")[0], "Furniture page", minutes(999))

    # Triple Courier: one article in its feed, its news sitemap and its section page
    shared = serve_article(courier, "/2025/03/24/courier-shared-story-on-all-three-lists",
                           "Ferry service resumes after the strike", minutes(50))
    feed_only = serve_article(courier, "/2025/03/24/courier-story-only-in-the-feed",
                              "Library extends its opening hours", minutes(70))
    sitemap_only = serve_article(courier, "/2025/03/24/courier-story-only-in-the-sitemap",
                                 "Cycle lanes planned for the ring road", minutes(80))
    section_only = serve_article(courier, "/2025/03/24/courier-story-only-on-the-section",
                                 "Theatre wins a national award", minutes(90))
    courier.routes["/rss.xml"] = Route(rss_feed(courier.name, courier.base, [
        {"title": "Ferry service resumes", "link": shared, "guid": "c-shared",
         "published": minutes(50)},
        {"title": "Library extends its hours", "link": feed_only, "guid": "c-feed",
         "published": minutes(70)}]), content_type="application/rss+xml", conditional=True)
    courier.routes["/news-sitemap.xml"] = Route(news_sitemap([
        {"loc": shared, "title": "Ferry service resumes", "published": minutes(50)},
        {"loc": sitemap_only, "title": "Cycle lanes planned", "published": minutes(80)},
    ]), content_type="application/xml", conditional=True)
    courier.routes["/latest/"] = Route(section_page(courier, "Latest", [
        (shared.removeprefix(courier.base), "Ferry service resumes after the strike"),
        (section_only.removeprefix(courier.base), "Theatre wins a national award")], []))
    room.expected["all three"] = [shared]
    room.expected["feed"] = [feed_only]
    room.expected["sitemap"].append(sitemap_only)
    room.expected["section"].append(section_only)

    # Selector Post: short article URLs no heuristic would take; the selector does
    post_links = [serve_article(post, f"/p/{n}", f"Selector story {n}", minutes(100 + n))
                  for n in (4821, 4822)]
    post.routes["/stories"] = Route(b"""<!DOCTYPE html><html><head><title>Stories</title>
</head><body><div class="top"><a href="/p/about">About</a> <a href="/p/1">Home</a></div>
<ul class="headlines"><li><a href="/p/4821">Selector story 4821</a>
<small><a href="/p/tags">tags</a></small></li>
<li><a href="/p/4822">Selector story 4822</a></li></ul>
<div class="more"><a href="/p/4000">An older one, outside the list</a></div>
</body></html>""")
    room.expected["section"] += post_links
    room.never += [post.url(p) for p in ("/p/about", "/p/1", "/p/tags", "/p/4000")]
    return room
