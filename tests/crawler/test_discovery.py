"""Discovery: news searches (a GDELT stand-in and a search-results RSS stand-in) in
front of 30 outlet sites that no sources file lists, each on its own loopback address;
then the unit pieces (the sources file's searches, GDELT windows and the gate, link
unwrapping and Google News decoding)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from conftest import run_cli
from newsroom import CALL_REPORT, Newsroom, Route, report_paragraphs, rss_feed
from searchroom import GdeltStandIn, ResultsFeed, outlet_site, publish

from core.urls import normalize_url
from crawler.gdelt import MAX_WINDOW, OVERLAP, GdeltError, RequestGate, parse_answer, window
from crawler.sources import SourcesError, parse_sources
from crawler.unwrap import google_news_link, google_news_url, protobuf_fields, unwrap

SITES = 30
GDELT_SITES = range(1, 21)  # outlets 1–20 are found by GDELT…
FEED_SITES = range(15, 31)  # …15–30 by the results feed: 15–20 by both
EXCLUDED = 31  # a spam farm: in both engines' results, excluded by the sources file
FILLER = 260  # the spam farm's results, newer than the rest: GDELT must page back
GAP = 0.5  # the gate's spacing in these tests (5 s by default)


def call_paragraphs(n: int) -> list[str]:
    return [f"Reporting for outlet number {n}, our correspondent gathered the following "
            "account of the contacts between Moscow and Washington this week.",
            *CALL_REPORT]


@pytest.fixture
def room():
    newsroom = Newsroom()
    yield newsroom
    closing = [threading.Thread(target=site.close) for site in newsroom.sites.values()]
    for thread in closing:  # 30-odd servers: one by one, their shutdowns take 15 s
        thread.start()
    for thread in closing:
        thread.join()


def build(room: Newsroom, now: datetime):
    """The stand-ins, the 30 outlets, the spam farm and one listed outlet."""
    gdelt = GdeltStandIn(room.site("GDELT"), min_gap=GAP * 0.9)
    results = ResultsFeed(room.site("Results"))
    urls: dict[str, int] = {}  # article URL → outlet number
    for n in range(1, SITES + 1):
        site = outlet_site(room, n)
        published = now - timedelta(hours=2, minutes=n)
        url = publish(site, f"/news/call-{n}.html", f"Leaders said to have spoken ({n})",
                      call_paragraphs(n), published)
        urls[url] = n
        extra = []
        if n % 3 == 0:  # some outlets have a second, unrelated article in the results
            other = publish(site, f"/news/harbour-{n}.html", f"Harbour works {n}",
                            report_paragraphs(f"the harbour works of town {n}"), published)
            urls[other] = n
            extra.append(other)
        for target in [url, *extra]:
            if n in GDELT_SITES:
                gdelt.add(target, f"Article {n}", published)
            if n in FEED_SITES:
                results.add(target, f"Article {n}", published, site.name, site.base,
                            wrapped=n % 2 == 0)
        site.routes["/feed.xml"] = Route(rss_feed(site.name, site.base, []),
                                         content_type="application/rss+xml")
    spam = outlet_site(room, EXCLUDED)
    for i in range(FILLER):
        gdelt.add(spam.url(f"/spam/{i}.html"), f"Spam {i}", now - timedelta(minutes=30, seconds=i))
    results.add(spam.url("/spam/feed.html"), "Spam", now, spam.name, spam.base, wrapped=True)
    listed = room.site("Listed Wire")
    listed_url = publish(listed, "/news/call.html", "Listed outlet on the call",
                         call_paragraphs(0), now - timedelta(hours=3))
    listed.routes["/rss.xml"] = Route(rss_feed("Listed Wire", listed.base, [{
        "title": "Listed outlet on the call", "link": listed_url, "guid": "l-1",
        "published": now - timedelta(hours=3)}]), content_type="application/rss+xml")
    gdelt.add(listed_url, "Listed", now - timedelta(hours=3))  # in a search and its feed
    return gdelt, results, spam, listed, urls, listed_url


def sources_file(tmp_path, gdelt: GdeltStandIn, results: ResultsFeed, spam, listed) -> str:
    path = tmp_path / "sources.toml"
    path.write_text(f"""allow_private_addresses = true
exclude_domains = ["{spam.host}"]

[[outlets]]
name = "Listed Wire"
feeds = ["{listed.url('/rss.xml')}"]

[[searches]]
name = "GDELT stand-in"
engine = "gdelt"
query = '(Putin OR Kremlin) (Trump OR "White House")'
endpoint = "{gdelt.endpoint}"
interval_minutes = 15

[[searches]]
name = "Results feed stand-in"
engine = "feed"
url = "{results.url}"
""", encoding="utf-8")
    return str(path)


def article_fetches(room: Newsroom) -> Counter:
    return Counter((r.site, r.path) for r in room.log
                   if r.path.startswith("/news/") and r.site.startswith("Discovered"))


def test_searches_discover_thirty_outlets_once_each(room, cli_env, db, tmp_path):
    now = datetime.now(UTC).replace(microsecond=0)
    gdelt, results, spam, listed, urls, listed_url = build(room, now)
    sources = sources_file(tmp_path, gdelt, results, spam, listed)
    env = {**cli_env, "BACKCHANNEL_GDELT_GAP_SECONDS": str(GAP)}
    started = time.time()

    first = run_cli(["crawl", "--sources", sources], env)
    assert first.returncode == 0, first.stdout + first.stderr[-3000:]
    first_pass_seconds = time.time() - started
    first_pass_requests = len(room.log)  # every request: robots.txt, feeds, hops, pages

    # every article found once, under its publisher's URL
    fetched = article_fetches(room)
    assert len(fetched) == len(urls) and set(fetched.values()) == {1}
    rows = db.execute("SELECT a.url, a.outlet, o.discovered_at, o.found_by FROM articles a "
                      "JOIN outlets o ON o.id = a.outlet_id").fetchall()
    by_url = {row["url"]: row for row in rows}
    assert set(by_url) == {*urls, listed_url}
    for url, n in urls.items():  # each site its own outlet, named by its og:site_name
        assert by_url[url]["outlet"] == f"Discovered Outlet {n:02d}"
        assert by_url[url]["discovered_at"] is not None
        expected = {"GDELT stand-in"} if n < min(FEED_SITES) else (
            {"Results feed stand-in"} if n > max(GDELT_SITES) else
            {"GDELT stand-in", "Results feed stand-in"})
        assert by_url[url]["found_by"] in expected
    assert by_url[listed_url]["outlet"] == "Listed Wire"  # one article, its listed outlet
    assert by_url[listed_url]["discovered_at"] is None
    discovered = db.execute("SELECT count(*) AS n FROM outlets WHERE discovered_at IS NOT "
                            "NULL").fetchone()["n"]
    assert discovered == SITES
    # nothing of the excluded domain: not even its robots.txt
    assert room.requests(site=spam.name) == []
    # one alert per new outlet in the story
    alerts = db.execute("SELECT outlet, story_id, created_at FROM alerts").fetchall()
    per_outlet = Counter(a["outlet"] for a in alerts)
    assert set(per_outlet.values()) == {1}
    assert {f"Discovered Outlet {n:02d}" for n in range(1, SITES + 1)} <= set(per_outlet)
    # GDELT: paged back (the spam farm fills the first answer), never too fast
    calls = gdelt.calls
    assert [status for _, _, status in calls] == [200] * len(calls)
    assert len(calls) == 2
    assert calls[1][1]["enddatetime"] < calls[0][1]["enddatetime"]
    assert min(gdelt.accepted_gaps()) >= GAP * 0.9
    # the results feed: each redirecting link followed once (two hops), none for wrappers
    hops = Counter(r.path for r in room.requests(site="Results")
                   if r.path.startswith(("/r/", "/r2/")))
    redirecting = [n for n in FEED_SITES if n % 2]
    assert len(hops) == 2 * sum(2 if n % 3 == 0 else 1 for n in redirecting)
    assert set(hops.values()) == {1}
    assert not [r for r in room.requests(site="Results") if r.path.startswith("/url")]
    by_engine = Counter(row["search_name"] for row in db.execute(
        "SELECT s.search_name FROM articles a JOIN sources s ON s.id = a.source_id "
        "WHERE s.kind = 'search'").fetchall())

    # the next pass fetches nothing again
    second = run_cli(["crawl", "--all", "--sources", sources], env)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "stored 0 new articles" in second.stdout
    assert article_fetches(room) == fetched
    assert len(gdelt.calls) == 3  # one request: the window since the first pass
    start = datetime.strptime(gdelt.calls[2][1]["startdatetime"], "%Y%m%d%H%M%S")
    assert start.replace(tzinfo=UTC) >= now - OVERLAP - timedelta(seconds=1)
    status = run_cli(["sources", "status", "--sources", sources], env)
    assert status.returncode == 0, status.stderr
    assert "GDELT stand-in — " in status.stdout and "seen up to" in status.stdout
    assert "one request at a time 0.5 s apart" in status.stdout
    outlets = run_cli(["outlets", "--discovered", "--format", "json"], env)
    assert outlets.returncode == 0, outlets.stderr
    listed_rows = [json.loads(line) for line in outlets.stdout.splitlines()]
    assert len(listed_rows) == SITES
    assert all(r["articles"] >= 1 and r["first_contact_url"] for r in listed_rows)

    # a followed outlet is polled through its own feed
    site = room.sites["Discovered Outlet 05"]
    follow = run_cli(["outlets", "follow", f"{site.host}:{site.port}", "--sources", sources],
                     env)
    assert follow.returncode == 0, follow.stderr
    assert site.url("/feed.xml") in follow.stdout
    fresh = publish(site, "/news/fresh.html", "Harbour news", report_paragraphs("a new pier"),
                    now)
    site.routes["/feed.xml"] = Route(rss_feed(site.name, site.base, [{
        "title": "Harbour news", "link": fresh, "guid": "f-1", "published": now}]),
        content_type="application/rss+xml")
    third = run_cli(["crawl", "--sources", sources], env)
    assert third.returncode == 0, third.stderr[-3000:]
    row = db.execute("SELECT outlet FROM articles WHERE url = %s", (fresh,)).fetchone()
    assert row and row["outlet"] == "Discovered Outlet 05"
    table = run_cli(["outlets", "list"], env)
    assert table.returncode == 0, table.stderr
    line = next(x for x in table.stdout.splitlines() if x.startswith("Discovered Outlet 05 "))
    assert "2 articles, 1 on contacts; discovered" in line and line.endswith("; followed")
    assert "Listed Wire" in table.stdout and f"{SITES + 1} outlets" in table.stdout
    assert [r.path for r in room.requests(site=site.name) if r.path == "/feed.xml"]

    first_alert = min(a["created_at"] for a in alerts).timestamp()
    last_alert = max(a["created_at"] for a in alerts).timestamp()
    print(f"\nFIGURES outlets discovered {discovered}/{SITES}; articles {len(by_url)}/"
          f"{len(urls) + 1}; listed by gdelt "
          f"{len({u for u, n in urls.items() if n in GDELT_SITES}) + 1}, by the feed "
          f"{len({u for u, n in urls.items() if n in FEED_SITES})}; stored through {by_engine}; "
          f"pages fetched per alert {sum(fetched.values()) / len(alerts):.2f} "
          f"({first_pass_requests / len(alerts):.2f} requests of any kind); gdelt requests "
          f"per pass 2 then 1, min gap {min(gdelt.accepted_gaps()):.3f} s; first pass "
          f"{first_pass_seconds:.1f} s; item→alert {first_alert - started:.1f}–"
          f"{last_alert - started:.1f} s")


def test_a_broken_gdelt_answer_is_an_error_of_that_search(room, cli_env, tmp_path):
    now = datetime.now(UTC)
    gdelt, results, spam, listed, _, _ = build(room, now)
    gdelt.answer = b"Your query was too short or too long."
    sources = sources_file(tmp_path, gdelt, results, spam, listed)
    result = run_cli(["crawl", "--sources", sources],
                     {**cli_env, "BACKCHANNEL_GDELT_GAP_SECONDS": str(GAP)})
    assert result.returncode == 1, result.stdout + result.stderr[-2000:]
    assert "FAILED GDELT stand-in" in result.stderr and "not JSON" in result.stderr
    assert "stored 0 new articles" not in result.stdout  # the feed search went on


def test_gdelt_results_of_one_second_do_not_page_forever(room, cli_env, tmp_path):
    """More than 250 results seen in one second: the next page moves on a second
    instead of asking for the same window again and again."""
    gdelt = GdeltStandIn(room.site("GDELT"), min_gap=GAP * 0.9)
    spam = outlet_site(room, EXCLUDED)
    batch = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=15)
    for i in range(FILLER):
        gdelt.add(spam.url(f"/spam/{i}.html"), f"Spam {i}", batch)
    path = tmp_path / "sources.toml"
    path.write_text(f"""allow_private_addresses = true
exclude_domains = ["{spam.host}"]

[[searches]]
name = "GDELT stand-in"
engine = "gdelt"
query = "Putin Trump"
endpoint = "{gdelt.endpoint}"
""", encoding="utf-8")
    result = run_cli(["crawl", "--sources", str(path)],
                     {**cli_env, "BACKCHANNEL_GDELT_GAP_SECONDS": str(GAP)})
    assert result.returncode == 0, result.stderr[-3000:]
    assert [status for _, _, status in gdelt.calls] == [200, 200, 200]
    ends = [params["enddatetime"] for _, params, _ in gdelt.calls]
    assert ends[1:] == [batch.strftime("%Y%m%d%H%M%S"),
                        (batch - timedelta(seconds=1)).strftime("%Y%m%d%H%M%S")]
    assert room.requests(site=spam.name) == []


# --- units ---------------------------------------------------------------------------

def test_searches_in_the_sources_file():
    google = "https://news.google.com/rss/search?q=Putin+Trump&hl=en-US&gl=US&ceid=US:en"
    [kept] = parse_sources({"searches": [{"name": "n", "engine": "feed", "url": google}]},
                           "s.toml").searches
    assert kept.url == google  # as written: normalising would drop gl=
    parsed = parse_sources({"max_pages_per_search": 50, "exclude_domains": ["Spam.Example"],
                            "searches": [
        {"name": "g", "engine": "gdelt", "query": "Putin Trump"},
        {"name": "f", "engine": "feed", "url": "https://news.google.com/rss/search?q=x",
         "max_pages_per_search": 7, "interval_minutes": 30}]}, "s.toml")
    g, f = parsed.searches
    assert (g.engine, g.url, g.max_pages, g.interval_minutes) == (
        "gdelt", "https://api.gdeltproject.org/api/v2/doc/doc", 50, 15.0)
    assert (f.max_pages, f.interval_minutes) == (7, 30)
    assert [s.kind for s in parsed.sources] == ["search", "search"]
    assert parsed.excluded("https://www.spam.example/a") and not parsed.excluded(
        "https://notspam.example/")
    with pytest.raises(SourcesError, match="search 'n': url is also a source of outlet 'A'"):
        parse_sources({"outlets": [{"name": "A", "feeds": ["https://a.example/rss"]}],
                       "searches": [{"name": "n", "engine": "feed",
                                     "url": "https://a.example/rss"}]}, "s.toml")
    for entry, message in [
        ({"name": "x", "engine": "bing"}, "search 'x': engine must be one of gdelt, feed"),
        ({"name": "x", "engine": "gdelt"}, "search 'x': query is required"),
        ({"name": "x", "engine": "feed"}, "search 'x': url is required"),
        ({"name": "x", "engine": "gdelt", "query": "q", "endpoint": "ftp://x"},
         "search 'x': endpoint:"),
        ({"name": "x", "engine": "feed", "url": "https://a/", "interval_minutes": 0},
         "search 'x': interval_minutes"),
        ({"name": "x", "engine": "feed", "url": "https://a/", "colour": 1},
         "search 'x': `colour`: unknown key"),
    ]:
        with pytest.raises(SourcesError, match=message.replace("(", r"\(").replace(
                "[", r"\[")):
            parse_sources({"searches": [entry]}, "s.toml")


def test_gdelt_windows_and_answers():
    now = datetime(2026, 1, 10, tzinfo=UTC)
    assert window(None, now) == (now - timedelta(hours=24), now)
    assert window(now - timedelta(hours=1), now) == (now - timedelta(hours=1) - OVERLAP, now)
    assert window(now - timedelta(days=400), now)[0] == now - MAX_WINDOW
    assert parse_answer(b"{}") == []
    [article] = parse_answer(json.dumps({"articles": [
        {"url": "https://a.example/x", "title": "T", "seendate": "20260109T101500Z",
         "domain": "a.example", "language": "Russian"}, {"title": "no url"}]}).encode())
    assert article.seen == datetime(2026, 1, 9, 10, 15, tzinfo=UTC)
    assert article.language == "Russian"
    for bad in (b"", b"<html>", b"[1]", b'{"articles": 3}'):
        with pytest.raises(GdeltError):
            parse_answer(bad)


def test_the_gate_spaces_requests_across_callers():
    """Two callers, three requests each, answered after a varying delay: each request
    starts at least the gap after the previous answer, one at a time."""
    gate = RequestGate(0.2)
    spans: list[tuple[float, float]] = []

    async def caller(latency: float):
        for _ in range(3):
            await gate.acquire()
            sent = time.monotonic()
            await asyncio.sleep(latency)
            spans.append((sent, time.monotonic()))
            gate.release()

    async def main():
        await asyncio.gather(caller(0.01), caller(0.1))

    asyncio.run(main())
    assert len(spans) == 6
    spans.sort()
    assert min(b[0] - a[1] for a, b in zip(spans, spans[1:], strict=False)) >= 0.19
    gate.refused(1.0)  # a 429 with Retry-After: 1
    assert gate.ready() >= 0.95 and gate.refusals == 1


def test_wrappers_are_unwrapped_without_a_request():
    target = "https://www.publisher.example/world/2026/01/10/call.html?id=7"
    from urllib.parse import quote

    alert = f"https://www.google.com/url?rct=j&sa=t&url={quote(target, safe='')}&ct=ga"
    bing = f"http://www.bing.com/news/apiclick.aspx?ref=FexRss&aid=&tid=1&url={quote(target)}"
    old_google = f"https://www.google.com/url?q={quote(target)}&sa=U"
    assert unwrap(alert) == unwrap(bing) == unwrap(old_google) == target
    # as the spider sees them: normalised by the feed parser (parameters reordered)
    assert unwrap(normalize_url(alert)) == unwrap(normalize_url(bing)) == target
    assert unwrap("https://www.publisher.example/a?q=putin") is None  # a search, no URL
    assert unwrap("https://t.co/abc") is None  # follow its redirects


def test_google_news_links_are_decoded():
    target = "https://www.publisher.example/news/" + "long-path-" * 20 + ".html"
    link = google_news_link(target, amp="https://www.publisher.example/amp/1")
    assert link.startswith("https://news.google.com/rss/articles/CBMi")
    assert google_news_url(link) == unwrap(link) == target
    short = google_news_link("https://a.example/x")  # a one-byte length
    assert google_news_url(short) == "https://a.example/x"
    assert google_news_url(short.replace("/rss/articles/", "/articles/").split("?")[0]) == (
        "https://a.example/x")
    # the newer form carries an opaque id ("AU_yqL…"), not a URL: follow its redirects
    newer = google_news_link("AU_yqLOpaqueIdentifierOnlyGoogleCanResolve")
    assert google_news_url(newer) is None
    assert google_news_url("https://news.google.com/rss/articles/%%%") is None
    assert protobuf_fields(b"\x08\x13\x22\x05hello\xd2\x01\x00") == [
        (1, 0x13), (4, b"hello"), (26, b"")]
    assert protobuf_fields(b"\x22\x50abc") == []  # truncated: nothing read past it
