"""End to end: outlets without feeds (a news sitemap found through robots.txt, section
pages with pagination and furniture, a configured selector) and one outlet whose
article is on its feed, its sitemap and its section page, crawled by `backchannel
crawl` into PostgreSQL; `backchannel sources check` over the same sources."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from conftest import run_cli
from newsroom import (
    Newsroom,
    Route,
    news_sitemap,
    publish_spider_outlets,
    report_paragraphs,
    section_page,
    serve_article,
    sitemap_index,
)
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import TCPTimedOutError
from twisted.python.failure import Failure

from crawler.spiders.news import failure_reason


@pytest.fixture
def newsroom():
    room = Newsroom()
    yield room
    room.close()


@pytest.fixture
def outlets(newsroom):
    return publish_spider_outlets(newsroom, datetime.now(UTC))


def write_sources(tmp_path, text: str):
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    return path


def requests_per_url(newsroom) -> Counter:
    """How often each URL was asked for (query included), by site."""
    return Counter(newsroom.sites[r.site].url(r.path) for r in newsroom.log)


def test_sitemaps_and_sections_bring_each_article_once(newsroom, outlets, cli_env, db,
                                                       tmp_path):
    sources = write_sources(tmp_path, outlets.sources_toml())
    first = run_cli(["crawl", "--sources", str(sources)], cli_env)
    assert first.returncode == 0, first.stdout + first.stderr[-4000:]

    expected = [url for urls in outlets.expected.values() for url in urls]
    rows = {r["url"]: r for r in db.execute(
        "SELECT url, outlet, title, published_at, source_id, call_status, contact_story "
        "FROM articles")}
    assert sorted(rows) == sorted(expected)  # every article, nothing else
    hits = requests_per_url(newsroom)
    assert {url: hits[url] for url in expected} == {url: 1 for url in expected}
    assert {url: hits[url] for url in outlets.never if hits[url]} == {}
    # the right outlet on each article, whichever route found it
    for site in (outlets.gazette, outlets.ledger, outlets.courier, outlets.post):
        mine = [u for u in expected if u.startswith(site.base + "/")]
        assert mine and all(rows[u]["outlet"] == site.name for u in mine), site.name
    # sitemap entries bring their title and date like feed entries; the pipeline is the same
    call = rows[outlets.gazette.url("/news/gazette-call-report.html")]  # utm_source dropped
    assert call["contact_story"] and call["call_status"] == "unconfirmed"
    assert call["published_at"] is not None
    assert db.execute("SELECT count(*) AS n FROM story_articles").fetchone()["n"] == 1
    # listing pages: 1, 2 and 3 once each; page 4 is beyond section_pages
    for page in ("/politics/", "/politics/page/2/", "/politics/page/3/"):
        assert hits[outlets.ledger.url(page)] == 1, page
    # the gzip'd sitemap was read; the old one in the index was not fetched at all
    assert hits[outlets.gazette.url("/sitemaps/news-extra.xml.gz")] == 1
    states = {r["url"]: r for r in db.execute(
        "SELECT url, kind, last_success_at, consecutive_failures, etag FROM sources")}
    assert all(s["last_success_at"] and s["consecutive_failures"] == 0
               for s in states.values())
    assert states[outlets.courier.url("/news-sitemap.xml")]["etag"]  # conditional next time
    assert {s["kind"] for s in states.values()} == {"feed", "sitemap", "section"}

    # Second pass: new entries in the sitemap, one dated before the last success
    gazette, ledger = outlets.gazette, outlets.ledger
    now = datetime.now(UTC)
    fresh = serve_article(gazette, "/news/gazette-fresh-report.html", "Fresh report", now)
    late = serve_article(gazette, "/news/gazette-late-entry.html", "Late entry",
                         now - timedelta(hours=3))
    gazette.routes["/sitemaps/news.xml"].body = news_sitemap([
        {"loc": fresh, "title": "Fresh report", "published": now},
        {"loc": late, "title": "Late entry", "published": now - timedelta(hours=3)},
        {"loc": gazette.url("/news/gazette-bridge-reopens.html"), "title": "Bridge",
         "published": now - timedelta(hours=2)},
    ])
    newest = serve_article(ledger, "/2025/03/25/a-new-report-tops-the-politics-page",
                           "A new report", now)
    page_one = ledger.routes["/politics/"]
    page_one.body = page_one.body.replace(
        b'<h1>Politics, page 1</h1>',
        b'<h1>Politics, page 1</h1><article><h2><a href="/2025/03/25/a-new-report-tops-the-'
        b'politics-page">A new report tops the politics page</a></h2></article>')
    before = len(newsroom.log)
    second = run_cli(["crawl", "--all", "--sources", str(sources)], cli_env)
    assert second.returncode == 0, second.stdout + second.stderr[-4000:]
    assert "stored 2 new articles" in second.stdout, second.stdout
    hits = requests_per_url(newsroom)
    assert hits[fresh] == 1 and hits[newest] == 1
    assert hits[late] == 0  # dated before the last success (less an hour's slack)
    assert {url: hits[url] for url in expected if hits[url] != 1} == {}  # none fetched again
    assert {url: hits[url] for url in outlets.never if hits[url]} == {}
    again = newsroom.log[before:]
    courier = [r for r in again if r.site == outlets.courier.name]
    assert sorted((r.path, r.status) for r in courier if r.path != "/robots.txt") == [
        ("/latest/", 200), ("/news-sitemap.xml", 304), ("/rss.xml", 304)]
    # page 1 brought a new article, so page 2 was read again; it brought none: no page 3
    assert hits[ledger.url("/politics/page/2/")] == 2
    assert hits[ledger.url("/politics/page/3/")] == 1
    extra = [r for r in again if r.path == "/sitemaps/news-extra.xml.gz"]
    assert extra and all(r.headers.get("if-modified-since") for r in extra)


def test_robots_txt_disallow_on_a_section_is_respected(newsroom, outlets, cli_env, db,
                                                       tmp_path):
    ledger = outlets.ledger
    ledger.routes["/members/"] = ledger.routes["/politics/"]
    sources = write_sources(tmp_path, f"""allow_private_addresses = true
[[outlets]]
name = "{ledger.name}"
sections = ["{ledger.url('/politics/')}", "{ledger.url('/members/')}"]
section_pages = 1
""")
    result = run_cli(["crawl", "--sources", str(sources)], cli_env)
    assert result.returncode == 1
    failed = [line for line in result.stderr.splitlines() if line.startswith("FAILED")]
    assert len(failed) == 1 and "/members/" in failed[0] and "robots.txt" in failed[0]
    assert not newsroom.requests(ledger.name, "/members/")  # neither section nor article
    listings = [r for r in newsroom.requests(ledger.name, "/politics/")
                if r.path.startswith(("/politics/", "/politics/page/")) and "-" not in r.path]
    assert [r.path for r in listings] == ["/politics/"]  # section_pages = 1
    stored = {r["url"] for r in db.execute("SELECT url FROM articles")}
    assert stored == {ledger.url("/2025/03/24/envoys-prepare-new-round-of-talks"),
                      ledger.url("/politics/ministers-debate-the-harbour-budget-again")}


def test_sources_check_probes_each_kind_without_writing(newsroom, outlets, cli_env, db,
                                                        tmp_path):
    sources = write_sources(tmp_path, outlets.sources_toml())
    result = run_cli(["sources", "check", "--sources", str(sources), "--format", "json"],
                     cli_env)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    rows = {urlsplit(r["url"]).port and (r["outlet"], r["kind"], urlsplit(r["url"]).path): r
            for r in map(json.loads, result.stdout.splitlines())}
    g, led, c, p = (outlets.gazette.name, outlets.ledger.name, outlets.courier.name,
                    outlets.post.name)
    assert {key: (row["reachable"], row["entries"], row["robots"]) for key, row in
            rows.items()} == {
        (g, "sitemap", "/robots.txt"): (True, 7, "allowed"),  # two sitemaps read
        (led, "section", "/politics/"): (True, 3, "allowed"),  # the members' link too
        (c, "feed", "/rss.xml"): (True, 2, "allowed"),
        (c, "sitemap", "/news-sitemap.xml"): (True, 2, "allowed"),
        (c, "section", "/latest/"): (True, 2, "allowed"),
        (p, "section", "/stories"): (True, 2, "allowed"),
    }
    gazette = rows[(g, "sitemap", "/robots.txt")]
    assert (gazette["recent"], gazette["older"], gazette["undated"]) == (4, 2, 1)
    assert rows[(led, "section", "/politics/")]["next_page"] == outlets.ledger.url(
        "/politics/page/2/")
    expected = [url for urls in outlets.expected.values() for url in urls]
    hits = requests_per_url(newsroom)
    assert not [url for url in expected + outlets.never if hits[url]]  # no article fetched
    assert db.execute("SELECT count(*) AS n FROM sources").fetchone()["n"] == 0  # no writes

    # a broken feed and a section robots.txt forbids: exit 1, each with its reason
    ledger = outlets.ledger
    ledger.routes["/members/"] = ledger.routes["/politics/"]
    sources.write_text(outlets.sources_toml() + f"""
[[outlets]]
name = "Broken Outlet"
feeds = ["{ledger.url('/gone.xml')}"]
sections = ["{ledger.url('/members/')}"]
""", encoding="utf-8")
    table = run_cli(["sources", "check", "--sources", str(sources)], cli_env)
    assert table.returncode == 1
    assert "8 sources checked, 6 reachable, 2 failed" in table.stdout
    assert "FAILED  feed     Broken Outlet" in table.stdout
    assert "HTTP 404" in table.stdout
    assert "robots.txt disallowed" in table.stdout and "Forbidden by robots.txt" in table.stdout
    assert "ok      sitemap  Sitemap Gazette" in table.stdout
    assert not newsroom.requests(ledger.name, "/members/")


def test_a_page_redirecting_to_another_listed_page_leaves_no_poll_unfinished(
        newsroom, cli_env, db, tmp_path):
    """Scrapy's duplicate filter would silently drop the redirect to a page already
    requested, and its source would wait for it forever (polled again at once, every
    pass). Both sources here list documents and pages the other lists too."""
    site = newsroom.site("Redirecting Outlet")
    now = datetime.now(UTC)
    target = serve_article(site, "/2025/03/24/the-page-both-entries-end-up-on",
                           "Where both end up", now)
    site.routes["/2025/03/24/an-old-address-of-the-same-page"] = Route(
        status=301, headers={"Location": target})
    old = site.url("/2025/03/24/an-old-address-of-the-same-page")
    site.routes["/a.xml"] = Route(news_sitemap([{"loc": old, "published": now},
                                                {"loc": target, "published": now}]),
                                  content_type="application/xml")
    site.routes["/index-1.xml"] = Route(sitemap_index([(site.url("/a.xml"), now)]),
                                        content_type="application/xml")
    site.routes["/index-2.xml"] = site.routes["/index-1.xml"]
    sources = write_sources(tmp_path, f"""allow_private_addresses = true
[[outlets]]
name = "{site.name}"
sitemaps = ["{site.url('/index-1.xml')}", "{site.url('/index-2.xml')}"]
""")
    result = run_cli(["crawl", "--sources", str(sources)], cli_env)
    assert result.returncode == 0, result.stderr[-3000:]
    states = db.execute("SELECT url, next_poll_at - last_polled_at AS wait FROM sources"
                        ).fetchall()
    assert all(s["wait"] > timedelta(minutes=4) for s in states), states
    stored = {r["url"] for r in db.execute("SELECT url FROM articles")}
    assert stored == {old, target}


def test_sitemap_title_and_date_stand_in_for_what_the_page_lacks(newsroom, cli_env, db,
                                                                 tmp_path):
    site = newsroom.site("Bare Outlet")
    published = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=45)
    text = "".join(f"<p>{p}</p>" for p in report_paragraphs("the new ferry timetable"))
    site.routes["/news/ferry"] = Route(f"<html><body><div>{text}</div></body></html>".encode())
    site.routes["/news.xml"] = Route(news_sitemap([
        {"loc": site.url("/news/ferry"), "title": "Ferry timetable changes in April",
         "published": published}]), content_type="application/xml")
    sources = write_sources(tmp_path, f"""allow_private_addresses = true
[[outlets]]
name = "{site.name}"
sitemaps = ["{site.url('/news.xml')}"]
""")
    result = run_cli(["crawl", "--sources", str(sources)], cli_env)
    assert result.returncode == 0, result.stderr[-3000:]
    row = db.execute("SELECT title, published_at, outlet, feed_entry_ids FROM articles"
                     ).fetchone()
    assert row["title"] == "Ferry timetable changes in April"
    assert row["published_at"] == published
    assert row["outlet"] == site.name and row["feed_entry_ids"] == []


class SizeLimitRefused(IgnoreRequest):
    """A middleware's own refusal, as a subclass: it must read as permanent too."""


@pytest.mark.parametrize(("exc", "reason", "transient"), [
    (HttpError(HtmlResponse("https://x.example/", status=404), "Ignoring"), "HTTP 404", False),
    (HttpError(HtmlResponse("https://x.example/", status=503), "Ignoring"), "HTTP 503", True),
    (IgnoreRequest("Forbidden by robots.txt"), "Forbidden by robots.txt", False),
    (SizeLimitRefused("page larger than 20 MB"), "page larger than 20 MB", False),
    (TCPTimedOutError(), "timed out", True),
    (ConnectionRefusedError("refused"), "ConnectionRefusedError: refused", True),
])
def test_failure_reasons_say_what_and_whether_to_retry(exc, reason, transient):
    said, retry = failure_reason(Failure(exc))
    assert reason in said and retry is transient


def test_a_sitemap_page_that_failed_for_a_passing_reason_is_taken_again(newsroom, cli_env,
                                                                        db, tmp_path):
    site = newsroom.site("Window Outlet")
    published = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    first = serve_article(site, "/news/first", "Harbour works begin", published)
    second = site.url("/news/second")
    site.routes["/news/second"] = Route(b"busy", status=503)
    site.routes["/news.xml"] = Route(news_sitemap([
        {"loc": url, "title": title, "published": published}
        for url, title in ((first, "Harbour works begin"), (second, "Tram line reopens"))]),
        content_type="application/xml")
    sources = write_sources(tmp_path, f"""allow_private_addresses = true
[[outlets]]
name = "{site.name}"
sitemaps = ["{site.url('/news.xml')}"]
""")
    run_cli(["crawl", "--sources", str(sources)], cli_env)
    assert {r["url"] for r in db.execute("SELECT url FROM articles")} == {first}
    # three hours old, well before the first pass: still in the next pass's window
    serve_article(site, "/news/second", "Tram line reopens", published)
    result = run_cli(["crawl", "--all", "--sources", str(sources)], cli_env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert {r["url"] for r in db.execute("SELECT url FROM articles")} == {first, second}
    window = db.execute("SELECT window_start, last_success_at FROM sources").fetchone()
    assert window["window_start"] == window["last_success_at"]  # complete: it moved on


def test_robots_txt_judges_every_source_of_a_host_polled_at_once(newsroom, cli_env,
                                                                 tmp_path):
    """Four sources of one host start together, all waiting for its robots.txt; each of
    the three it forbids must be refused (Scrapy's own middleware let all but the first
    waiter through)."""
    site = newsroom.site("Crowded Host")
    site.routes["/robots.txt"] = Route(b"User-agent: *\nDisallow: /closed/\n",
                                       content_type="text/plain")
    teasers = [("/news/2025/03/24/harbour-works-begin-on-the-eastern-quay", "Works begin")]
    for path in ("/open/", "/closed/a/", "/closed/b/", "/closed/c/"):
        site.routes[path] = Route(section_page(site, "News", teasers, []))
    sections = ", ".join(f'"{site.url(p)}"' for p in
                         ("/closed/a/", "/open/", "/closed/b/", "/closed/c/"))
    sources = write_sources(tmp_path, f"""allow_private_addresses = true
[[outlets]]
name = "{site.name}"
sections = [{sections}]
""")
    result = run_cli(["sources", "check", "--sources", str(sources), "--format", "json"],
                     cli_env)
    verdicts = {urlsplit(r["url"]).path: r["robots"]
                for r in map(json.loads, result.stdout.splitlines())}
    assert verdicts == {"/open/": "allowed", "/closed/a/": "disallowed",
                        "/closed/b/": "disallowed", "/closed/c/": "disallowed"}, result.stderr
    assert not [p for p in ("/closed/a/", "/closed/b/", "/closed/c/")
                if newsroom.requests(site.name, p)]
