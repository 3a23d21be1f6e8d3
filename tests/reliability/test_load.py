"""Load: `backchannel crawl --all` over a test newsroom of many feeds behind a server
with 100–300 ms latency (loadroom.py: one asyncio server, one loopback address per
outlet, 10 feeds per outlet, 10 articles per feed), as a child process, as a user
would run it: CONCURRENT_REQUESTS raised to 64, two requests per host at a time, no
download delay. One pass must fetch every article exactly once, stay within a
measured time and memory bound, and serve every source; a second pass is all 304.

Size: 200 feeds / 2,000 articles by default (part of `make test`);
BACKCHANNEL_LOAD_TEST=full runs 2,000 feeds / 20,000 articles (15–20 minutes on a
busy two-core machine). The figures of each run are written to figures.json in the
test's temporary folder.

The bounds are what we measured on a two-core machine shared with other work, with a
margin for a busier day; see BOUNDS."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import sys
from collections import Counter
from dataclasses import dataclass

import pytest
from conftest import ROOT
from loadroom import LoadRoom, Measured, PassFigures, in_flight, pass_figures, run_measured

from pipeline.isolated import pool_size

FULL = os.environ.get("BACKCHANNEL_LOAD_TEST", "").lower() == "full"
FEEDS = 2000 if FULL else 200
PER_FEED = 10
FEEDS_PER_OUTLET = 10
CONCURRENT = 64
PER_HOST = 2


@dataclass(frozen=True)
class Bounds:
    pass_seconds: float  # the first pass, the whole command
    second_pass_seconds: float
    peak_rss_mib: float  # the crawl process and its children, sampled every 0.2 s
    rss_growth_mib: float  # its peak minus its most in the first quarter of the pass
    last_poll_share: float  # the last feed's poll, as a fraction of the first pass
    last_first_page_share: float  # every outlet has had a page fetched by then
    first_done_share: float  # and none had all its pages before then


# Measured on two cores shared with other work, the crawler as of this commit:
#              first pass       second pass  peak RSS  last feed polled  load average
#   reduced:   39–130 s         5–12 s       242 MiB   13 % of pass      1.0–7.3
#   full:      829–1,120 s      24–29 s      268 MiB   5 % (measured)    4.5–7
# Since pages are read in child processes, one per core (pipeline.isolated), the peak
# RSS is the tree's: reduced, 529 MiB with two children, the first pass in 22 s. Each
# child holds the extractor and the classifier, about 150 MiB: the bound grows by that.
# The crawl is CPU-bound (about 18 ms of CPU a page: extraction, classification,
# storing), so its time follows the machine's load; the bounds leave room for that.
# Sources are requested before article pages (Scrapy priority), so every feed is read
# early in the pass; before that, a feed was polled only when its host had no page
# waiting, and the last one at about 90 % of the pass. No outlet waits for the others,
# which the two outlet shares check.
CHILD_MIB = 160 * pool_size(0)
BOUNDS = {
    False: Bounds(pass_seconds=300, second_pass_seconds=45, peak_rss_mib=384 + CHILD_MIB,
                  rss_growth_mib=48, last_poll_share=0.5, last_first_page_share=0.25,
                  first_done_share=0.6),
    True: Bounds(pass_seconds=2400, second_pass_seconds=120, peak_rss_mib=512 + CHILD_MIB,
                 rss_growth_mib=96, last_poll_share=0.5, last_first_page_share=0.25,
                 first_done_share=0.6),
}[FULL]

SUMMARY = re.compile(r"polled (\d+) sources \((\d+) unchanged\), fetched (\d+) pages, "
                     r"stored (\d+) new articles \((\d+) updated, (\d+) skipped\)")


@pytest.fixture
def room():
    with LoadRoom(FEEDS, PER_FEED, FEEDS_PER_OUTLET) as load_room:
        yield load_room


def summary(stdout: str) -> tuple[int, ...]:
    found = SUMMARY.search(stdout)
    assert found, stdout
    return tuple(int(n) for n in found.groups())


@pytest.mark.timeout(BOUNDS.pass_seconds * 2 + BOUNDS.second_pass_seconds * 2 + 300)
def test_a_pass_over_many_feeds_is_complete_fair_and_bounded(room, cli_env, db, tmp_path):
    articles = FEEDS * PER_FEED
    sources = tmp_path / "sources.toml"
    sources.write_text(room.sources_toml(), encoding="utf-8")
    env = {**cli_env,
           "BACKCHANNEL_CONCURRENT_REQUESTS": str(CONCURRENT),
           "BACKCHANNEL_CONCURRENT_REQUESTS_PER_DOMAIN": str(PER_HOST),
           "BACKCHANNEL_DOWNLOAD_DELAY": "0",
           # the defaults, as a user has them (cli_env shortens both for fault tests)
           "BACKCHANNEL_DOWNLOAD_TIMEOUT": "30", "BACKCHANNEL_RETRY_TIMES": "2"}
    command = [sys.executable, "-m", "backchannel", "crawl", "--all", "--sources",
               str(sources)]

    record = {"feeds": FEEDS, "articles": articles, "bounds": dataclasses.asdict(BOUNDS)}

    def keep(name: str, figures: PassFigures, run: Measured) -> None:
        record[name] = {**dataclasses.asdict(figures), "rss_samples": run.samples}
        (tmp_path / "figures.json").write_text(json.dumps(record), encoding="utf-8")
        print(f"{name} pass ({FEEDS} feeds, {articles} articles): {figures.line()}")

    first = run_measured(command, env, ROOT, tmp_path / "first", BOUNDS.pass_seconds * 2)
    hits = list(room.log)
    figures = pass_figures(room, hits, first)
    concurrency = record["in_flight"] = in_flight(hits)
    keep("first", figures, first)
    assert first.returncode == 0, first.stderr[-3000:]
    assert summary(first.stdout) == (FEEDS, 0, articles, articles, 0, 0)

    # every feed polled, once; every article page requested exactly once; robots.txt
    # once per outlet; nothing else asked for
    feed_hits = Counter((h.outlet, h.path) for h in hits if h.path.startswith("/feeds/"))
    page_hits = Counter((h.outlet, h.path) for h in hits if h.path.startswith("/news/"))
    assert set(feed_hits) == room.feed_paths() and max(feed_hits.values()) == 1
    assert set(page_hits) == room.article_paths()
    assert [key for key, n in page_hits.items() if n > 1] == []
    robots = Counter(h.outlet for h in hits if h.path == "/robots.txt")
    assert set(robots) == set(range(room.outlets)) and max(robots.values()) == 1
    assert len(hits) == FEEDS + articles + room.outlets
    assert all(h.status == 200 for h in hits)

    # every article stored once, under its outlet
    stored = db.execute("SELECT count(*) AS n, count(DISTINCT url) AS urls, "
                        "count(DISTINCT outlet) AS outlets FROM articles").fetchone()
    assert stored == {"n": articles, "urls": articles, "outlets": room.outlets}
    per_outlet = db.execute("SELECT outlet, count(*) AS n FROM articles GROUP BY outlet"
                            ).fetchall()
    assert {r["outlet"]: r["n"] for r in per_outlet} == {
        room.outlet_name(o): FEEDS_PER_OUTLET * PER_FEED for o in range(room.outlets)}
    urls = {r["url"] for r in db.execute("SELECT url FROM articles")}
    assert urls == {room.article_url(f, n) for f in range(FEEDS) for n in range(PER_FEED)}
    polled = db.execute("SELECT count(*) AS n FROM sources WHERE last_success_at IS NOT NULL "
                        "AND last_error IS NULL AND etag IS NOT NULL").fetchone()
    assert polled["n"] == FEEDS

    # politeness kept under load: never more than PER_HOST requests at one host
    assert concurrency[1] <= PER_HOST
    assert concurrency[0] <= CONCURRENT

    # time, memory and fairness
    assert figures.wall <= BOUNDS.pass_seconds, figures.line()
    assert figures.peak_rss_mib <= BOUNDS.peak_rss_mib, figures.line()
    assert figures.rss_growth_mib <= BOUNDS.rss_growth_mib, figures.line()
    assert figures.feeds_polled == FEEDS
    assert figures.last_poll_share <= BOUNDS.last_poll_share, figures.line()
    assert figures.last_first_page_share <= BOUNDS.last_first_page_share, figures.line()
    assert figures.first_done_share >= BOUNDS.first_done_share, figures.line()

    # the second pass: every feed answers 304, no page is fetched again, much faster
    mark = len(room.log)
    second = run_measured(command, env, ROOT, tmp_path / "second",
                          BOUNDS.second_pass_seconds * 2)
    again = room.log[mark:]
    figures2 = pass_figures(room, again, second)
    keep("second", figures2, second)
    assert second.returncode == 0, second.stderr[-3000:]
    assert summary(second.stdout) == (FEEDS, FEEDS, 0, 0, 0, 0)
    polls = [h for h in again if h.path.startswith("/feeds/")]
    assert len(polls) == FEEDS and {(h.outlet, h.path) for h in polls} == room.feed_paths()
    assert all(h.status == 304 and h.conditional for h in polls)
    assert [h.path for h in again if h.path.startswith("/news/")] == []
    assert db.execute("SELECT count(*) AS n FROM articles").fetchone()["n"] == articles
    assert figures2.wall <= BOUNDS.second_pass_seconds, figures2.line()
    assert figures2.wall <= figures.wall / 4, (figures.line(), figures2.line())
