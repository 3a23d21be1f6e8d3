"""Budgets of a pass, crawled with `backchannel crawl`: a page or feed too big or too
slow to read fails alone with its reason while the other outlets' articles of the same
pass are stored, and a page that failed for a reason of ours (its time ran out, a
limit) is fetched again by the next pass; the pass deadline leaves what it did not
reach to the next pass."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler

import pytest
from hostile import plain_page, rfc822, rss, run_crawl
from newsroom import Newsroom, Route, article_html

WHEN = datetime(2025, 4, 2, 9, 30, tzinfo=UTC)
FERRY = [
    "The island ferry sailed again on Thursday morning after three days in port, as the "
    "storm that closed the strait moved north and the swell dropped below two metres.",
    "Harbour staff said the first crossing carried mostly delivery vans and nurses on their "
    "way to the hospital, and that timetables would be back to normal by the weekend.",
    "Passengers stranded on the mainland were offered free tickets for the next sailing.",
]
ORCHARD = [
    "Growers in the valley began the cherry harvest a week early this year after a warm "
    "spring, and the cooperative said it expected its largest crop in a decade.",
    "Pickers arrived from neighbouring towns, and the packing hall has added a night shift "
    "so that the fruit reaches city markets within a day of leaving the trees.",
    "Prices at the farm gate are expected to fall slightly as the supply grows.",
]
LIBRARY = [
    "The county library opened its new reading room on Monday, with long tables, quiet "
    "booths and a wall of windows looking out over the old market square.",
    "Librarians said visits had doubled in the first week, many of them students preparing "
    "for exams who had nowhere calm to study at home during the summer months.",
    "The council has promised to keep the room open late on weekdays until autumn.",
]
PAGE_TIMEOUT = "4"  # seconds: a real page takes well under one, the slow one many times it


@pytest.fixture
def newsroom():
    room = Newsroom()
    yield room
    room.close()


def good_outlet(newsroom: Newsroom) -> str:
    site = newsroom.site("Good Outlet")
    url = site.url("/valley/cherries.html")
    site.routes["/valley/cherries.html"] = Route(article_html(
        "Cherry harvest starts early", ORCHARD, WHEN, "Desk", site.name, url))
    site.routes["/rss.xml"] = Route(
        rss(site.name, site.base, [{"link": url, "guid": "c1", "date": rfc822(WHEN)}]),
        content_type="application/rss+xml")
    return url


def stored_urls(db) -> set[str]:
    return {r["url"] for r in db.execute("SELECT url FROM articles")}


def fetches(newsroom: Newsroom, site: str, path: str) -> int:
    return len(newsroom.requests(site, path))


def test_hostile_pages_and_feeds_fail_alone_and_are_retried(newsroom, cli_env, db,
                                                            tmp_path):
    good = good_outlet(newsroom)
    pages = newsroom.site("Hostile Pages", "127.0.0.2")

    def page(path: str, body: bytes, content_type: str = "text/html; charset=utf-8") -> str:
        pages.routes[path] = Route(body, content_type=content_type)
        return pages.url(path)

    # 8 MB of a million paragraphs: refused before parsing, by its element count
    million = page("/million.html", b"<html><head><title>Wall</title></head><body>"
                   + b"<p>x</p>" * 1_000_000 + b"</body></html>")
    # under the element cap, but many seconds of extraction: its time runs out
    slow = page("/slow.html", b"<html><head><title>Slow</title></head><body>"
                + b"<p>slow words</p>" * 120_000 + b"</body></html>")
    # a genuine article whose JSON-LD is nested 2,000 deep (RecursionError once lost it)
    deep = page("/deep.html", plain_page("Ferry service resumes", FERRY,
                                         '<script type="application/ld+json">'
                                         + "[" * 2000 + "]" * 2000 + "</script>").encode())
    # UTF-16 without a byte-order mark, no charset anywhere: once skipped as binary
    wide = page("/wide.html", plain_page("Reading room opens", LIBRARY)
                .replace(' charset="utf-8"', "").encode("utf-16-le"), "text/html")
    pages.routes["/rss.xml"] = Route(rss(pages.name, pages.base, [
        {"link": url, "guid": url, "date": rfc822(WHEN)} for url in (million, slow, deep, wide)
    ]), content_type="application/rss+xml")

    feeds = newsroom.site("Hostile Feeds", "127.0.0.3")
    entry = feeds.url("/nested-entry.html")
    feeds.routes["/nested-entry.html"] = Route(plain_page("Ferry timetable restored",
                                                          FERRY[::-1]).encode())
    # 60,000 items, each inside the one before (once quadratic to cut: 125 s)
    feeds.routes["/nested.xml"] = Route(
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>Nested</title>'
        + f"<item><title>Ferry</title><link>{entry}</link>".encode() * 60_000
        + b"</item>" * 60_000 + b"</channel></rss>", content_type="application/rss+xml")
    # one item holding a million empty elements (13 s of feedparser on the reactor)
    feeds.routes["/flat.xml"] = Route(
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>Flat</title><item>'
        + f"<title>Flat</title><link>{entry}</link><description>".encode()
        + b"<x>y</x>" * 1_000_000 + b"</description></item></channel></rss>",
        content_type="application/rss+xml")

    sources = tmp_path / "sources.toml"
    sources.write_text(newsroom.sources_toml({"Good Outlet": ["/rss.xml"],
                                              "Hostile Pages": ["/rss.xml"],
                                              "Hostile Feeds": ["/nested.xml", "/flat.xml"]}))
    env = {**cli_env, "BACKCHANNEL_PAGE_TIMEOUT_SECONDS": PAGE_TIMEOUT}
    first = run_crawl(["crawl", "--sources", str(sources)], env)
    log, failed = first.log, "\n".join(first.failed_lines)

    assert first.returncode == 1, first.stderr[-3000:]  # one feed failed
    assert len(first.failed_lines) == 1 and "flat.xml" in failed, failed
    assert "feed has 1,000,00" in failed and "elements" in failed
    assert "feed lists 60000 entries; kept the first 1000" in log
    assert f"{million} not read: page has 1,000,00" in log
    assert f"{slow} not read: reading the page took longer than {PAGE_TIMEOUT} s" in log
    assert "Traceback" not in first.stderr
    assert stored_urls(db) == {good, deep, wide, entry}
    ferry = db.execute("SELECT title, text FROM articles WHERE url = %s", (deep,)).fetchone()
    assert ferry["title"] == "Ferry service resumes" and "swell dropped" in ferry["text"]
    room = db.execute("SELECT title, text FROM articles WHERE url = %s", (wide,)).fetchone()
    assert room["title"] == "Reading room opens" and "quiet booths" in room["text"]

    second = run_crawl(["crawl", "--sources", str(sources), "--all"], env)
    assert "Traceback" not in second.stderr
    # the pages that failed for a reason of ours were fetched again; the stored were not
    assert fetches(newsroom, "Hostile Pages", "/million.html") == 2
    assert fetches(newsroom, "Hostile Pages", "/slow.html") == 2
    assert fetches(newsroom, "Hostile Pages", "/deep.html") == 1
    assert f"{slow} not read" in second.log
    assert stored_urls(db) == {good, deep, wide, entry}


def trickle(body: bytes, pieces: int, pause: float):
    """A page sent in `pieces` parts, `pause` seconds apart: a tarpit that answers just
    inside the download timeout."""
    def handler(request: BaseHTTPRequestHandler) -> None:
        try:
            request.send_response(200)
            request.send_header("Content-Type", "text/html; charset=utf-8")
            request.send_header("Content-Length", str(len(body)))
            request.end_headers()
            step = -(-len(body) // pieces)
            for start in range(0, len(body), step):
                request.wfile.write(body[start:start + step])
                request.wfile.flush()
                time.sleep(pause)
        except OSError:
            pass
    return handler


def test_the_pass_deadline_leaves_the_rest_to_the_next_pass(newsroom, cli_env, db,
                                                             tmp_path):
    good = good_outlet(newsroom)
    tarpit = newsroom.site("Tarpit", "127.0.0.4")
    texts = {"ferry": FERRY, "library": LIBRARY, "orchard": ORCHARD[::-1]}
    urls = {}
    for name, paragraphs in texts.items():
        urls[name] = tarpit.url(f"/{name}.html")
        tarpit.routes[f"/{name}.html"] = Route(handler=trickle(
            plain_page(f"Slow {name}", paragraphs).encode(), pieces=5, pause=0.8))
    tarpit.routes["/rss.xml"] = Route(rss(tarpit.name, tarpit.base, [
        {"link": url, "guid": url, "date": rfc822(WHEN)} for url in urls.values()]),
        content_type="application/rss+xml")
    sources = tmp_path / "sources.toml"
    sources.write_text(newsroom.sources_toml({"Good Outlet": ["/rss.xml"],
                                              "Tarpit": ["/rss.xml"]}))
    env = {**cli_env, "BACKCHANNEL_CONCURRENT_REQUESTS_PER_DOMAIN": "1",
           "BACKCHANNEL_PASS_TIMEOUT_MINUTES": "0.04"}  # 2.4 s: one tarpit page, not three

    first = run_crawl(["crawl", "--sources", str(sources)], env)
    assert "pass_timeout_minutes" in first.log, first.stderr[-3000:]
    assert "Traceback" not in first.stderr
    asked = {path for path in (r.path for r in newsroom.requests("Tarpit"))
             if path.endswith(".html")}
    assert good in stored_urls(db)
    assert len(asked) < 3  # the deadline came before the tarpit's last page was asked for
    assert len(stored_urls(db) & set(urls.values())) < 3

    env["BACKCHANNEL_PASS_TIMEOUT_MINUTES"] = "30"
    env["BACKCHANNEL_CONCURRENT_REQUESTS_PER_DOMAIN"] = "3"
    second = run_crawl(["crawl", "--sources", str(sources)], env)  # due at once: unfinished
    assert "Traceback" not in second.stderr
    assert stored_urls(db) == {good, *urls.values()}, json.dumps(second.log[-2000:])
