"""Hostile and broken input, served by the loopback newsroom and crawled with
`backchannel crawl`: each case is refused or abandoned with its reason in the log or
in the FAILED line, within bounded time and memory; the rest of the pass goes on (a
good feed in the same pass is stored) and nothing already stored is lost."""

from __future__ import annotations

import asyncio
import os
import time
from datetime import UTC, datetime

import pytest
from conftest import ROOT
from hostile import (
    billion_laughs,
    endless,
    gzip_bomb,
    host_site,
    huge,
    ipv6_loopback_available,
    outbound_address,
    plain_page,
    redirect,
    rfc822,
    rss,
    run_crawl,
    slowloris,
    stand_in_public_address,
    xxe_feed,
)
from newsroom import CALL_REPORT, Newsroom, Route, article_html

from archive.store import ArticleRecord, store_article
from crawler.feeds import MAX_ENTRIES, FeedError, parse_feed

WHEN = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
HARBOUR = [
    "The city council met on Tuesday evening to debate a new plan for the harbour district, "
    "where warehouses have stood empty for a decade and residents want parks and housing.",
    "Supporters said the plan would bring hundreds of jobs and open the waterfront to the "
    "public, while critics warned that rents in the neighbouring streets would rise sharply.",
    "A final vote is expected next month after a round of public hearings in every ward.",
]
BRIDGE = [
    "Engineers closed the old river bridge on Monday after inspectors found cracks in two "
    "of its supports, sending thousands of commuters on a long detour through the centre.",
    "The transport department said repairs would take at least six weeks and promised extra "
    "buses and a temporary ferry service for people who live on the southern bank.",
    "Shop owners near the bridge said trade had already fallen by half since the closure.",
]
# A crawl child imports Scrapy, trafilatura, lxml, numpy…: about 150-250 MB. A gzip bomb
# inflated, a billion laughs expanded or a 50 MB page held would each go far beyond.
MEMORY_CAP = 600 * 2**20


@pytest.fixture
def newsroom():
    room = Newsroom()
    yield room
    room.close()


def keep_an_old_article(db) -> dict:
    """An article stored before the hostile pass: it must come out untouched."""
    store_article(db, ArticleRecord(
        url="http://archive.example/old.html", outlet="Archive Outlet", title="Old report",
        text=" ".join(HARBOUR), published_at=WHEN, language="en"))
    return old_article(db)


def old_article(db) -> dict:
    return db.execute("SELECT id, url, title, text, published_at, updated_at FROM articles "
                      "WHERE url = 'http://archive.example/old.html'").fetchone()


def good_outlet(newsroom: Newsroom) -> str:
    site = newsroom.site("Good Outlet")
    url = site.url("/city/harbour.html")
    site.routes["/city/harbour.html"] = Route(article_html(
        "Harbour plan debated", HARBOUR, WHEN, "Desk", site.name, url))
    site.routes["/rss.xml"] = Route(
        rss(site.name, site.base, [{"link": url, "guid": "h1", "date": rfc822(WHEN)}]),
        content_type="application/rss+xml")
    return url


def stored(db) -> dict[str, dict]:
    return {r["url"]: r for r in db.execute(
        "SELECT url, title, text, published_at, feed_entry_ids, contact_story FROM articles")}


# --- hostile feeds and pages ------------------------------------------------------------

def test_hostile_feeds_and_pages(newsroom, cli_env, db, tmp_path):
    old = keep_an_old_article(db)
    harbour = good_outlet(newsroom)
    site = newsroom.site("Hostile Feeds")
    base = site.base

    def page(path: str, html: bytes | str, content_type: str = "text/html; charset=utf-8"):
        site.routes[path] = Route(html.encode() if isinstance(html, str) else html,
                                  content_type=content_type)
        return site.url(path)

    def feed(path: str, body: bytes) -> None:
        site.routes[path] = Route(body, content_type="application/rss+xml")

    # XML bombs: no expansion, no file read, no request for an external entity
    feed("/laughs.xml", billion_laughs())
    feed("/xxe.xml", xxe_feed(site.url("/xxe-entry.html")))
    feed("/xxe-http.xml", xxe_feed(site.url("/xxe-entry.html"), site.url("/leak")))
    # 50,000 entries, all in robots.txt's /private/: none may be fetched
    feed("/many.xml", rss(site.name, base, [
        {"link": f"{base}/private/{n}.html", "guid": f"m{n}"} for n in range(50_000)]))
    # dates: a contact story dated 9999 (stories once overflowed on it), year 1000,
    # garbage, and a page whose own markup says 9999
    future = page("/dates/future.html", plain_page("Presidents said to have spoken",
                                                   CALL_REPORT))
    past = page("/dates/past.html", plain_page("Bridge closed", BRIDGE))
    garbage = page("/dates/garbage.html", plain_page("Harbour plan, garbage date",
                                                     HARBOUR[::-1]))
    own = page("/dates/own.html", plain_page(
        "Harbour plan, a page from the future", HARBOUR[1:] + HARBOUR[:1],
        '<meta property="article:published_time" content="9999-12-31T23:00:00-05:00">'
        '<script type="application/ld+json">{"@type": "NewsArticle", '
        '"datePublished": "9999-12-31T23:00:00-05:00"}</script>'))
    feed("/dates.xml", rss(site.name, base, [
        {"link": future, "guid": "d1", "date": "Fri, 31 Dec 9999 23:59:59 GMT"},
        {"link": past, "guid": "d2", "date": "Mon, 01 Jan 1000 00:00:00 GMT"},
        {"link": garbage, "guid": "d3", "date": "the day after tomorrow, probably"},
        {"link": own, "guid": "d4", "date": rfc822(WHEN)},
    ]))
    # duplicate GUIDs (two pages, one GUID) and one page under two GUIDs
    dup_a = page("/dup/a.html", plain_page("Bridge closed, first", BRIDGE))
    dup_b = page("/dup/b.html", plain_page("Bridge closed, second", BRIDGE[::-1]))
    feed("/dups.xml", rss(site.name, base, [
        {"link": dup_a, "guid": "same-guid"}, {"link": dup_b, "guid": "same-guid"},
        {"link": dup_a, "guid": "other-guid"}]))
    # relative links (against the feed's <link>, "/…" against the feed's URL) and links
    # that name no page
    relative = page("/news/relative.html", plain_page("Harbour, relative", HARBOUR))
    rooted = page("/rooted.html", plain_page("Bridge, rooted", BRIDGE))
    feed("/links.xml", rss(site.name, base + "/", [
        {"link": "news/relative.html"}, {"link": "/rooted.html"},
        {"link": "javascript:fetch('/js-was-fetched')"},
        {"link": "data:text/html,<script>fetch('/data-was-fetched')</script>"},
        {"link": "mailto:desk@hostile.example?subject=mail-was-fetched"},
        {"link": "http://[bad-ipv6/x"}, {"link": f"{base}/{'x' * 5000}.html"},
        {"link": "file:///etc/passwd"}]))
    # invalid UTF-8 and mixed encodings, in the feed and in a page
    mixed_html = (
        plain_page("Harbour plan, mixed bytes", HARBOUR).encode()
        .replace(b"<p>A final", b"<p>\xff\xfe broken \xc3\x28 bytes, "
                 + "кириллица".encode("cp1251") + b" and \x00 NUL, \x01\x0b controls, "
                 + b"&#1; &#xFFFE; &#xD800; references. A final"))
    mixed_html = mixed_html.replace(b"</body>", b"<!--" + b" " * 5000 + b"\x00-->\x00</body>")
    mixed = page("/enc/mixed.html", mixed_html)
    feed("/encodings.xml", (
        b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        b"<title>Bad \xff\xfe bytes " + "кириллица".encode("cp1251") + b"</title>"
        b"<item><title>Item \xc3\x28 \x00 \x01 " + "кириллица".encode("cp1251")
        + b"</title><link>" + mixed.encode() + b"</link><guid>enc\x00\x01guid\xff</guid>"
        b"</item></channel></rss>"))
    # binary content served as text/html: with NUL bytes, and without
    blob = os.urandom(200_000)
    binary = page("/bin/blob.html", blob, "text/html")
    no_nul = page("/bin/no-nul.html", bytes(b for b in blob if b) or b"x", "text/html")
    feed("/binary.xml", rss(site.name, base, [{"link": binary}, {"link": no_nul}]))

    # a <ttl> of 400 digits (it overflowed the polling policy at the end of the pass)
    feed("/ttl.xml", rss(site.name, base, [{"link": rooted}]).replace(
        b"<title>", b"<ttl>" + b"9" * 400 + b"</ttl><title>", 1))

    # a NUL in the XML declaration's encoding label (feedparser raised ValueError)
    feed("/label.xml", rss(site.name, base, [{"link": rooted}]).replace(
        b'encoding="utf-8"', b'encoding="\x00utf-8"', 1))

    feeds = ["/laughs.xml", "/xxe.xml", "/xxe-http.xml", "/many.xml", "/dates.xml",
             "/dups.xml", "/links.xml", "/encodings.xml", "/binary.xml", "/ttl.xml",
             "/label.xml"]
    sources = tmp_path / "sources.toml"
    sources.write_text(newsroom.sources_toml({"Good Outlet": ["/rss.xml"],
                                              "Hostile Feeds": feeds}))
    run = run_crawl(["crawl", "--sources", str(sources)], cli_env)
    log = run.log
    failed = "\n".join(run.failed_lines)

    assert run.returncode == 1, log[-3000:]
    assert len(run.failed_lines) == 3, failed + log[-3000:]
    assert "laughs.xml" in failed and "entity-expansion bomb" in failed
    assert "xxe.xml: feed declares an external XML entity 'x'" in failed
    assert "xxe-http.xml: feed declares an external XML entity 'x'" in failed
    assert "root:" not in run.stdout + log  # /etc/passwd was not read…
    assert "lollollol" not in log
    paths = [r.path for r in newsroom.requests("Hostile Feeds")]
    assert "/leak" not in paths and "/xxe-entry.html" not in paths  # …nor anything fetched
    assert run.peak_rss < MEMORY_CAP, f"peak RSS {run.peak_rss / 2**20:.0f} MB"

    assert f"feed lists 50000 entries; kept the first {MAX_ENTRIES}" in log
    assert not [p for p in paths if p.startswith("/private/")]  # robots.txt said no
    assert "Forbidden by robots.txt" in log
    assert "implausible date 9999-12-31" in log and "implausible date 1000-01-01" in log
    for marker in ("js-was-fetched", "data-was-fetched", "mail-was-fetched", "passwd"):
        assert not [p for p in paths if marker in p], marker
    for scheme in ("javascript:", "data:", "mailto:", "file:"):
        assert f"not an http(s) URL: '{scheme}" in log or f'URL: "{scheme}' in log, scheme
    assert "Invalid IPv6 URL" in log and "URL longer than 2048 bytes" in log
    assert "binary content, not an HTML page" in log and "no article text found" in log

    rows = stored(db)
    assert old_article(db) == old  # nothing already stored was lost or changed
    assert harbour in rows  # the good feed of the same pass
    assert set(rows) == {old["url"], harbour, future, past, garbage, own, dup_a, dup_b,
                         relative, rooted, mixed}, sorted(rows)
    assert rows[future]["contact_story"]  # stored, and put into its story
    assert rows[future]["published_at"] is None and rows[past]["published_at"] is None
    assert rows[garbage]["published_at"] is None
    assert rows[own]["published_at"] == WHEN  # the page's 9999 ignored, the feed's kept
    assert db.execute("SELECT count(*) AS n FROM story_articles").fetchone()["n"] == 1
    assert rows[dup_a]["feed_entry_ids"] == ["same-guid"]
    assert rows[dup_b]["feed_entry_ids"] == ["same-guid"]
    text = rows[mixed]["text"]
    assert "warehouses have stood empty" in text and "A final vote" in text
    assert not any(ch in text for ch in "\x00\x01\x0b\ufffe")
    text.encode("utf-8")
    states = {r["url"].rsplit("/", 1)[1]: r for r in db.execute(
        "SELECT url, last_success_at, last_error FROM sources")}
    for name in ("many.xml", "dates.xml", "dups.xml", "links.xml", "encodings.xml",
                 "ttl.xml", "label.xml"):
        assert states[name]["last_success_at"] is not None, name
    ttl = db.execute("SELECT next_poll_at - now() AS wait FROM sources WHERE url LIKE "
                     "'%/ttl.xml'").fetchone()["wait"]
    assert ttl.total_seconds() <= 2 * 24 * 3600  # the server's hint, capped at a day
    assert "external XML entity" in states["xxe.xml"]["last_error"]


# --- hostile transfers ----------------------------------------------------------------------

def test_hostile_transfers_are_abandoned(newsroom, cli_env, db, tmp_path):
    old = keep_an_old_article(db)
    harbour = good_outlet(newsroom)
    site = newsroom.site("Hostile Transfers")
    bomb = gzip_bomb()
    assert len(bomb) < 2 * 2**20
    site.routes["/bomb.html"] = Route(bomb, headers={"Content-Encoding": "gzip"})
    site.routes["/bomb.xml"] = Route(bomb, content_type="application/rss+xml",
                                     headers={"Content-Encoding": "gzip"})
    site.routes["/endless.html"] = Route(handler=endless())
    site.routes["/endless.xml"] = Route(handler=endless("application/rss+xml"))
    site.routes["/slow-body.html"] = Route(handler=slowloris())
    site.routes["/slow-headers.html"] = Route(handler=slowloris(in_headers=True))
    site.routes["/slow.xml"] = Route(handler=slowloris())
    site.routes["/huge.html"] = Route(handler=huge(50 * 2**20))
    site.routes["/huge-stream.html"] = Route(handler=huge(50 * 2**20, declare_length=False))
    pages = ["/bomb.html", "/endless.html", "/slow-body.html", "/slow-headers.html",
             "/huge.html", "/huge-stream.html"]
    site.routes["/pages.xml"] = Route(rss(site.name, site.base, [
        {"link": site.url(p), "guid": p} for p in pages]), content_type="application/rss+xml")
    sources = tmp_path / "sources.toml"
    sources.write_text(newsroom.sources_toml({
        "Good Outlet": ["/rss.xml"],
        "Hostile Transfers": ["/pages.xml", "/bomb.xml", "/endless.xml", "/slow.xml"]}))
    env = {**cli_env, "BACKCHANNEL_DOWNLOAD_TIMEOUT": "2",
           "BACKCHANNEL_MAX_PAGE_BYTES": str(2 * 2**20)}
    run = run_crawl(["crawl", "--sources", str(sources)], env)
    log = run.log
    failed = {line.split(": ", 1)[1].split(": ", 1)[0].rsplit("/", 1)[1]: line
              for line in run.failed_lines}

    assert run.returncode == 1, log[-3000:]
    assert set(failed) == {"bomb.xml", "endless.xml", "slow.xml"}, run.failed_lines
    assert "DOWNLOAD_MAXSIZE" in failed["bomb.xml"]
    assert "timed out" in failed["endless.xml"] and "timed out" in failed["slow.xml"]
    for path in pages:  # each page failed, with its reason
        lines = [line for line in log.splitlines() if path in line and "failed" in line]
        assert lines, f"no reason logged for {path}"
        reason = lines[-1]
        if path == "/bomb.html":
            assert "DOWNLOAD_MAXSIZE" in reason and "decompression" in reason
        elif path.startswith("/huge"):  # refused on its length, or abandoned streaming
            assert "larger than max_page_bytes (2097152 bytes)" in reason, reason
        else:
            assert "timed out" in reason, reason
    assert run.peak_rss < MEMORY_CAP, f"peak RSS {run.peak_rss / 2**20:.0f} MB"
    assert run.seconds < 90, f"the pass took {run.seconds:.0f} s"
    rows = stored(db)
    assert set(rows) == {old["url"], harbour}
    assert old_article(db) == old


# --- private addresses, with private addresses not allowed -----------------------------------

def _address_cases() -> list:
    public = outbound_address()
    real = pytest.param(public, id="this-machine", marks=pytest.mark.skipif(
        public is None or not _is_public(public),
        reason=f"this machine has no public address (its outbound address is {public}); "
               "the stand-in case covers the same ground"))
    return [pytest.param(None, id="stand-in-127.0.0.5"), real]


def _is_public(address: str) -> bool:
    from crawler.netguard import is_public_ip

    return is_public_ip(address)


@pytest.mark.parametrize("public", _address_cases())
def test_private_targets_are_refused(public, newsroom, cli_env, db, tmp_path):
    """The outlet sits on a public address: this machine's own when it has one, else
    127.0.0.5 standing in for one (the crawl child is told to take that single address
    for public, and also sees `rebind.test` resolve to a public address for the guard
    but to 127.0.0.1 for the connection). Every private target is refused."""
    old = keep_an_old_article(db)
    env = dict(cli_env)
    if public is None:
        public = "127.0.0.5"
        folder = stand_in_public_address(tmp_path, public, rebind={"rebind.test": "127.0.0.1"})
        env["PYTHONPATH"] = os.pathsep.join([folder, str(ROOT)])
    internal = newsroom.site("Internal Service")  # 127.0.0.1: must never see a request
    internal.routes["/secret"] = Route(b"secret", content_type="text/plain")
    internal.routes["/internal-feed.xml"] = Route(rss("x", "http://x/", []),
                                                  content_type="application/rss+xml")
    port = internal.port
    v6 = None
    if ipv6_loopback_available():
        v6 = host_site(newsroom, "Internal Service v6", "::1")
        v6.routes["/secret"] = Route(b"secret", content_type="text/plain")
    v6_port = v6.port if v6 else 9
    outlet = host_site(newsroom, "Public Outlet", public)
    good = outlet.url("/good.html")
    outlet.routes["/good.html"] = Route(article_html("Bridge closed", BRIDGE, WHEN, "Desk",
                                                     outlet.name, good))
    targets = {
        "/to-metadata": "http://169.254.169.254/latest/meta-data/",
        "/to-loopback": f"http://127.0.0.1:{port}/secret",
        "/to-ten": "http://10.0.0.1/secret",
        "/to-v6": f"http://[::1]:{v6_port}/secret",
        "/to-localhost": f"http://localhost:{port}/secret",
        "/to-mapped": f"http://[::ffff:127.0.0.1]:{port}/secret",
        "/to-nat64": "http://[64:ff9b::a9fe:a9fe]/latest/meta-data/",
    }
    for path, target in targets.items():
        outlet.routes[path] = redirect(target)
    links = [good, *(outlet.url(p) for p in targets), f"http://127.0.0.1:{port}/secret"]
    if env.get("PYTHONPATH"):
        links.append(f"http://rebind.test:{port}/secret")
    outlet.routes["/rss.xml"] = Route(rss(outlet.name, outlet.base, [
        {"link": link, "guid": str(n)} for n, link in enumerate(links)]),
        content_type="application/rss+xml")
    outlet.routes["/moved.xml"] = redirect(f"http://127.0.0.1:{port}/internal-feed.xml")
    sources = tmp_path / "sources.toml"
    sources.write_text(newsroom.sources_toml({"Public Outlet": ["/rss.xml", "/moved.xml"]},
                                             allow_private=False))
    run = run_crawl(["crawl", "--sources", str(sources)], env)
    log = run.log

    assert run.returncode == 1, log[-3000:]
    assert len(run.failed_lines) == 1, run.failed_lines
    assert "moved.xml" in run.failed_lines[0]
    assert "127.0.0.1 is a private or loopback address" in run.failed_lines[0]
    assert newsroom.requests("Internal Service") == []  # nothing reached 127.0.0.1…
    assert not v6 or newsroom.requests("Internal Service v6") == []  # …nor ::1
    for refused in ("169.254.169.254 is a private", "10.0.0.1 is a private",
                    "::1 is a private", "localhost names a private or loopback address",
                    "::ffff:127.0.0.1 is a private", "64:ff9b::a9fe:a9fe is a private"):
        assert refused in log, refused
    if env.get("PYTHONPATH"):
        assert "rebind.test resolves to a private or loopback address (127.0.0.1)" in log
    rows = stored(db)
    assert set(rows) == {old["url"], good}
    assert old_article(db) == old


# --- the guard and the resolver, unit by unit -------------------------------------------------

@pytest.mark.parametrize("url", [
    "http://169.254.169.254/latest/meta-data/", "http://127.0.0.1/", "http://10.0.0.1/",
    "http://[::1]/", "http://localhost/", "http://localhost./", "http://a.localhost/",
    "http://[::ffff:169.254.169.254]/", "http://[64:ff9b::a9fe:a9fe]/",
    "http://[2002:a9fe:a9fe::1]/", "http://[::127.0.0.1]/", "http://2130706433/",
    "http://0x7f.1/", "http://100.64.0.1/", "http://[fd00::1]/", "http://0.0.0.0/",
])
def test_guard_refuses_private_targets(url):
    from scrapy import Request

    from crawler.middlewares import PrivateAddressGuard, PrivateAddressRefusedRequest
    from crawler.netguard import PrivateAddressRefused, check_url

    with pytest.raises(PrivateAddressRefused, match="private or loopback"):
        check_url(url, allow_private=False)
    with pytest.raises(PrivateAddressRefusedRequest):
        asyncio.run(PrivateAddressGuard(False).process_request(Request(url)))


@pytest.mark.parametrize("address", ["127.0.0.1", "169.254.169.254", "10.0.0.1", "::1",
                                     "::ffff:127.0.0.1", "64:ff9b::7f00:1", "fe80::1%eth0"])
def test_resolver_refuses_private_answers(address):
    from twisted.internet.error import DNSLookupError

    from crawler.resolver import PublicOnlyResolver

    with pytest.raises(DNSLookupError, match="private or loopback"):
        PublicOnlyResolver._refuse_private(address, "rebind.test")
    assert PublicOnlyResolver._refuse_private("93.184.216.34", "a.example") == "93.184.216.34"


# --- feeds, unit by unit --------------------------------------------------------------------

def test_xml_bombs_fail_the_feed_without_expansion():
    started = time.monotonic()
    with pytest.raises(FeedError, match="entity-expansion bomb"):
        parse_feed(billion_laughs(), "http://a.example/rss.xml")
    with pytest.raises(FeedError, match="external XML entity"):
        parse_feed(xxe_feed("http://a.example/x.html"), "http://a.example/rss.xml")
    quadratic = (b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "' + b"A" * 100_000
                 + b'">]><rss version="2.0"><channel><item><title>' + b"&a;" * 100_000
                 + b"</title><link>http://a.example/q</link></item></channel></rss>")
    with pytest.raises(FeedError, match="entity-expansion bomb"):
        parse_feed(quadratic, "http://a.example/rss.xml")
    markup = (b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY i "<item><link>http://a.example/'
              b'i</link></item>">]><rss version="2.0"><channel>' + b"&i;" * 10_000
              + b"</channel></rss>")
    with pytest.raises(FeedError, match="expands to markup"):
        parse_feed(markup, "http://a.example/rss.xml")
    parameter = (b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY % p SYSTEM "http://a.example/'
                 b'evil.dtd"> %p;]><rss version="2.0"><channel></channel></rss>')
    with pytest.raises(FeedError, match="external XML entity"):
        parse_feed(parameter, "http://a.example/rss.xml")
    assert time.monotonic() - started < 5
    # harmless character entities still work
    nbsp = (b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY nbsp "&#160;">]><rss version="2.0">'
            b"<channel><item><title>a&nbsp;b</title><link>http://a.example/n</link></item>"
            b"</channel></rss>")
    assert parse_feed(nbsp, "http://a.example/rss.xml").entries[0].title == "a\xa0b"


@pytest.mark.parametrize("atom", [False, True])
def test_a_feed_of_50000_entries_is_cut_cheaply(atom):
    if atom:
        entries = "".join(f'<entry><title>T{n}</title><link href="http://a.example/{n}"/>'
                          f"<id>g{n}</id></entry>" for n in range(50_000))
        body = f'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>{entries}</feed>'
    else:
        body = rss("t", "http://a.example/", [
            {"link": f"http://a.example/{n}", "guid": f"g{n}"} for n in range(50_000)]
        ).decode()
    started = time.monotonic()
    parsed = parse_feed(body.encode(), "http://a.example/feed")
    assert time.monotonic() - started < 5
    assert len(parsed.entries) == MAX_ENTRIES
    assert parsed.entries[-1].url == f"http://a.example/{MAX_ENTRIES - 1}"
    assert parsed.problems == [f"feed lists 50000 entries; kept the first {MAX_ENTRIES}"]


def test_entity_declarations_in_pages_are_not_expanded():
    """Pages are parsed as HTML: a DOCTYPE declaring a bomb or an external entity is
    inert (no expansion, no file read), and the article is still found."""
    from extract.article import extract

    laughs = billion_laughs().split(b"<rss")[0]
    xxe = b'<?xml version="1.0"?>\n<!DOCTYPE html [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
    paragraphs = "".join(f"<p>{p}</p>" for p in HARBOUR).encode()
    for head in (laughs, xxe):
        page = (head + b'<html xmlns="http://www.w3.org/1999/xhtml"><head><title>&lol9; &x;'
                b"</title></head><body><article><h1>Harbour plan</h1>" + paragraphs
                + b"<p>&lol9; &x;</p></article></body></html>")
        started = time.monotonic()
        result = extract(page, "http://a.example/x.html", "application/xhtml+xml")
        assert time.monotonic() - started < 10
        assert "warehouses have stood empty" in result.text
        found = result.text + (result.title or "")
        assert "lollol" not in found and "root:" not in found
