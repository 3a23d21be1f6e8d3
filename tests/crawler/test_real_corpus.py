"""The real corpus (../shared/feeds-real: 1,120 feeds and sitemaps saved by other
projects) served over HTTP with each file's Content-Type and transfer coding from its
MANIFEST.tsv row, from one local server, and read by backchannel's own parsing
(parse_feed, sitemap_body + parse_sitemap) on the bytes as fetched. For each file:
no crash; at least the entries with web links that the reference reading sees
(feedparser for XML, a plain json reading for JSON Feed, lxml for sitemaps); a file
the reference cannot read at all is a FeedError or SitemapError, the error a crawl
would report for that source."""

from __future__ import annotations

import csv
import gzip
import io
import json
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import feedparser
import pytest
from conftest import ROOT
from lxml import etree
from scrapy.utils.gz import gunzip

from core.urls import BadURL, normalize_url
from crawler.feeds import MAX_ENTRIES, FeedError, parse_feed
from crawler.sitemaps import SitemapError, parse_sitemap, sitemap_body

CORPUS = ROOT.parent / "shared" / "feeds-real"
MANIFEST = CORPUS / "MANIFEST.tsv"

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:feedparser")


def manifest() -> list[dict[str, str]]:
    if not MANIFEST.is_file():
        return []
    with MANIFEST.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


ROWS = manifest()


@pytest.fixture(scope="module")
def corpus_server():
    """One server for every file: GET /<file> answers with the file's bytes, its
    manifest Content-Type, gzip'd on the way when its transfer says so."""
    if not ROWS:
        pytest.skip(f"the real corpus is absent ({MANIFEST} not found: ../shared missing)")
    files = {"/" + row["file"]: row for row in ROWS}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            row = files.get(self.path)
            if row is None:
                self.send_error(404)
                return
            body = (CORPUS / row["file"]).read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", row["served_type"])
            if row["transfer"] == "gzip":
                body = gzip.compress(body)
                self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def fetch(url: str) -> tuple[bytes, str | None]:
    """The body as the crawl gets it: Scrapy undoes a gzip Content-Encoding."""
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=30) as response:
        body = response.read()
        if response.headers.get("Content-Encoding") == "gzip":
            body = gunzip(body)
        return body, response.headers.get("Content-Type")


def web_urls(links, base: str) -> set[str]:
    """The distinct normalised web addresses among `links` (relative ones resolved)."""
    found: set[str] = set()
    for link in links:
        if isinstance(link, str) and link.strip():
            try:
                found.add(normalize_url(link, base=base))
            except BadURL:
                continue
    return found


def feedparser_reading(body: bytes, content_type: str | None, url: str):
    """feedparser's entries with a web link, or None when it finds no feed at all."""
    parsed = feedparser.parse(io.BytesIO(body), response_headers=(
        {"content-type": content_type} if content_type else None))
    if not parsed.get("version") and not parsed.entries:
        return None
    # feedparser's own `link`: the alternate link, or a permalink <guid>; enclosures,
    # rel=self/related/via… name no article page, nor does a <guid> like "right" or a
    # UUID that feedparser copies into `link` (guidislink) when it is no address
    links = []
    for entry in parsed.entries[:MAX_ENTRIES]:
        link = entry.get("link")
        if (isinstance(link, str) and entry.get("guidislink") and link == entry.get("id")
                and "://" not in link):
            link = None
        links.append(link)
    return links


def json_reading(body: bytes) -> list | None:
    """A JSON Feed's items' web links by a plain json reading, or None: not one."""
    try:
        document = json.loads(body)
    except ValueError:
        return None
    if not isinstance(document, dict) or not isinstance(document.get("items"), list):
        return None
    links = []
    for item in document["items"][:MAX_ENTRIES]:
        if isinstance(item, dict):
            links.append(item.get("url") or item.get("external_url") or (
                item.get("id") if str(item.get("id")).startswith("http") else None))
    return links


def sitemap_reading(body: bytes) -> list | None:
    """The <loc> of every <url> by lxml (recovering), or None: no urlset."""
    try:
        root = etree.fromstring(body, etree.XMLParser(recover=True, resolve_entities=False))
    except etree.XMLSyntaxError:
        return None
    if root is None or etree.QName(root).localname != "urlset":
        return None
    return [loc.text.strip() for loc in root.xpath(
        "*[local-name()='url']/*[local-name()='loc']") if loc.text]


@pytest.mark.parametrize("row", ROWS, ids=[row["file"] for row in ROWS])
def test_real_file_is_read_at_least_as_well_as_the_reference(corpus_server, row):
    url = f"{corpus_server}/{row['file']}"
    body, content_type = fetch(url)
    if row["kind"] == "sitemap":
        xml = sitemap_body(body)
        reference = sitemap_reading(xml)
        try:
            seen = {e.url for e in parse_sitemap(xml, url).entries}
        except SitemapError:
            assert reference is None or not web_urls(reference, url), \
                f"{row['file']}: refused, but the reference reads {len(reference)} URLs"
            return
    else:
        reference = (json_reading(body) if row["kind"] == "json"
                     else feedparser_reading(body, content_type, url))
        try:
            seen = {e.url for e in parse_feed(body, url, content_type).entries}
        except FeedError as exc:  # what the crawl reports as the source's error
            assert str(exc)
            assert reference is None or not web_urls(reference, url), \
                f"{row['file']}: {exc}, but the reference reads {len(reference)} entries"
            return
    expected = web_urls(reference or [], url)
    assert len(seen) >= len(expected), (
        f"{row['file']}: {len(seen)} entries seen, the reference {len(expected)}; "
        f"missed {sorted(expected - seen)[:5]}")
