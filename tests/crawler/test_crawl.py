"""End to end: the test newsroom crawled by `backchannel crawl` into PostgreSQL."""

from __future__ import annotations

import pytest
from conftest import run_cli
from newsroom import SEED_LAYOUT, Newsroom, feed_path, publish_seeds


@pytest.fixture
def newsroom():
    room = Newsroom()
    yield room
    room.close()


def article_requests(newsroom):
    return [r for r in newsroom.log if r.path not in ("/rss.xml", "/atom.xml", "/robots.txt")]


def write_sources(tmp_path, newsroom, outlets):
    path = tmp_path / "sources.toml"
    path.write_text(newsroom.sources_toml(outlets), encoding="utf-8")
    return path


def test_seeds_land_in_postgres_and_second_pass_sees_304(newsroom, seeds_dir, cli_env, db,
                                                        tmp_path):
    urls = publish_seeds(newsroom, seeds_dir)
    sources = write_sources(tmp_path, newsroom,
                            {s.outlet: [feed_path(s)] for s in SEED_LAYOUT})

    first = run_cli(["crawl", "--sources", str(sources)], cli_env)
    assert first.returncode == 0, first.stderr[-3000:]

    rows = db.execute("SELECT url, outlet, published_at, title, text, raw_page, "
                      "content_sha256, feed_entry_ids, contact_story, call_status, evidence, "
                      "classifier_version FROM articles").fetchall()
    by_url = {row["url"]: row for row in rows}
    for seed in SEED_LAYOUT:
        row = by_url[urls[seed.key]]  # stored under its clean URL (utm_* dropped)
        assert row["outlet"] == seed.outlet
        assert row["published_at"] == seed.published
        assert len(row["text"].split()) > 100
        assert row["raw_page"] and row["content_sha256"]
        assert row["feed_entry_ids"] == [f"{seed.outlet}-{seed.key}"]
        assert row["contact_story"] and row["call_status"] == "unconfirmed", seed.key
        assert row["evidence"] and row["classifier_version"]
    # the five seeds plus each outlet's markets page, and nothing else
    assert len(rows) == 10
    assert "Subscribe to our newsletter" not in by_url[urls["004"]]["text"]
    stories = db.execute(
        "SELECT s.id, array_agg(a.url ORDER BY a.published_at) AS urls "
        "FROM stories s JOIN story_articles sa ON sa.story_id = s.id "
        "JOIN articles a ON a.id = sa.article_id GROUP BY s.id").fetchall()
    assert sorted(sorted(s["urls"]) for s in stories) == sorted(
        [sorted([urls["004"], urls["002"], urls["003"]]), sorted([urls["000"], urls["001"]])])
    copy = db.execute("SELECT o.url FROM story_articles sa JOIN articles c ON c.id = "
                      "sa.article_id JOIN articles o ON o.id = sa.is_copy_of "
                      "WHERE c.url = %s", (urls["001"],)).fetchone()
    assert copy and copy["url"] == urls["000"]
    markets = [r for r in rows if r["url"].endswith("/news/markets-update.html")]
    assert len(markets) == 5
    assert all(not r["contact_story"] and r["call_status"] == "none" for r in markets)

    pages_before = len(article_requests(newsroom))
    second = run_cli(["crawl", "--all", "--sources", str(sources)], cli_env)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "stored 0 new articles" in second.stdout
    feed_hits = [r for r in newsroom.log[-20:] if r.path in ("/rss.xml", "/atom.xml")]
    assert len(feed_hits) == 5 and all(r.status == 304 for r in feed_hits)
    assert all(r.headers.get("if-none-match") for r in feed_hits)
    assert len(article_requests(newsroom)) == pages_before  # no article page fetched twice
    assert db.execute("SELECT count(*) AS n FROM articles").fetchone()["n"] == 10


def test_pass_without_all_polls_only_due_sources(newsroom, seeds_dir, cli_env, db, tmp_path):
    publish_seeds(newsroom, seeds_dir, SEED_LAYOUT[:1])
    sources = write_sources(tmp_path, newsroom, {SEED_LAYOUT[0].outlet: ["/rss.xml"]})
    assert run_cli(["crawl", "--sources", str(sources)], cli_env).returncode == 0
    again = run_cli(["crawl", "--sources", str(sources)], cli_env)
    assert again.returncode == 0
    assert again.stdout.startswith("nothing due: 1 source polled recently, next poll at ")
    state = db.execute("SELECT last_success_at, next_poll_at, etag, consecutive_failures "
                       "FROM sources").fetchone()
    assert state["etag"] and state["consecutive_failures"] == 0
    assert state["next_poll_at"] > state["last_success_at"]


def test_one_page_listed_by_two_feeds_is_fetched_once(newsroom, seeds_dir, cli_env, db,
                                                      tmp_path):
    urls = publish_seeds(newsroom, seeds_dir, SEED_LAYOUT[:1])
    site = newsroom.sites[SEED_LAYOUT[0].outlet]
    site.routes["/politics.xml"] = site.routes["/rss.xml"]
    sources = write_sources(tmp_path, newsroom,
                            {SEED_LAYOUT[0].outlet: ["/rss.xml", "/politics.xml"]})
    result = run_cli(["crawl", "--sources", str(sources)], cli_env)
    assert result.returncode == 0, result.stderr[-2000:]
    path = urls["004"].split(str(site.port))[1]
    assert len(newsroom.requests(site.name, path)) == 1
    assert db.execute("SELECT count(*) AS n FROM articles").fetchone()["n"] == 2


def test_reclassify_reruns_the_classifier_over_the_archive(newsroom, seeds_dir, cli_env, db,
                                                           tmp_path):
    publish_seeds(newsroom, seeds_dir, SEED_LAYOUT[:2])
    sources = write_sources(tmp_path, newsroom,
                            {s.outlet: [feed_path(s)] for s in SEED_LAYOUT[:2]})
    assert run_cli(["crawl", "--sources", str(sources)], cli_env).returncode == 0
    db.execute("UPDATE articles SET call_status = 'none', contact_story = false, "
               "classifier_version = 'old'")
    result = run_cli(["reclassify"], cli_env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "reprocessed 4 articles from the classify stage; 2 changed" in result.stdout
    statuses = sorted(r["call_status"] for r in db.execute("SELECT call_status FROM articles"))
    assert statuses == ["none", "none", "unconfirmed", "unconfirmed"]
    again = run_cli(["reclassify"], cli_env)
    assert "reprocessed 0 articles" in again.stdout


def test_on_a_terminal_crawl_shows_live_progress(newsroom, seeds_dir, cli_env, tmp_path):
    import re

    from conftest import run_on_terminal

    publish_seeds(newsroom, seeds_dir, SEED_LAYOUT[:2])
    sources = write_sources(tmp_path, newsroom, {s.outlet: [feed_path(s)]
                                                 for s in SEED_LAYOUT[:2]})
    code, text = run_on_terminal(["crawl", "--sources", str(sources)], cli_env)
    assert code == 0, text[-2000:]
    assert re.search(r"polled [0-2]/2 sources · fetched \d pages · stored \d new · \d alerts",
                     text)  # the live line, redrawn in place…
    assert "stored 4 new articles (0 updated, 0 skipped), 2 new alerts" in text  # …the summary
    assert '{"time"' not in text  # on a terminal, logs are lines for people, not JSON


def test_sources_status_says_an_interval_as_configured_once(newsroom, seeds_dir, cli_env, db,
                                                            tmp_path):
    publish_seeds(newsroom, seeds_dir, SEED_LAYOUT[:1])
    sources = write_sources(tmp_path, newsroom, {SEED_LAYOUT[0].outlet: ["/rss.xml"]})
    assert run_cli(["crawl", "--sources", str(sources)], cli_env).returncode == 0
    db.execute("UPDATE sources SET effective_interval_seconds = interval_minutes * 60, "
               "last_hint = 'configured'")
    status = run_cli(["sources", "status", "--sources", str(sources)], cli_env).stdout
    assert "every 5 min (as configured)" in status and "configured;" not in status
    db.execute("UPDATE sources SET effective_interval_seconds = 120, last_hint = 'feed rate'")
    status = run_cli(["sources", "status", "--sources", str(sources)], cli_env).stdout
    assert "every 2 min (feed rate; configured 5 min)" in status


def test_outlets_on_one_address_each_get_their_own_download_slot(newsroom, cli_env, db,
                                                                 tmp_path):
    """Eight outlets on 127.0.0.1, each its own port: each is polite on its own
    (requests to one port at least half the delay apart), and they are read side by
    side, not in one line behind one another."""
    from datetime import UTC, datetime

    from newsroom import Route, rss_feed, serve_article

    now = datetime.now(UTC).replace(microsecond=0)
    names = [f"Port Outlet {n}" for n in range(8)]
    for name in names:
        site = newsroom.site(name)
        url = serve_article(site, "/news/harbour.html", f"{name} harbour works", now)
        site.routes["/rss.xml"] = Route(rss_feed(name, site.base, [{
            "title": f"{name} harbour works", "link": url, "guid": url, "published": now}]),
            content_type="application/rss+xml")
    sources = write_sources(tmp_path, newsroom, {name: ["/rss.xml"] for name in names})
    delay = 2.0  # Scrapy waits 0.5–1.5 × this between two requests of one slot
    env = {**cli_env, "BACKCHANNEL_DOWNLOAD_DELAY": str(delay)}

    result = run_cli(["crawl", "--sources", str(sources)], env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert db.execute("SELECT count(*) AS n FROM articles").fetchone()["n"] == len(names)
    for name in names:
        times = sorted(r.at for r in newsroom.requests(site=name))
        assert len(times) == 3  # robots.txt, the feed, the article
        assert min(b - a for a, b in zip(times, times[1:], strict=False)) >= 0.5 * delay - 0.05
    feeds = sorted(r.at for r in newsroom.log if r.path == "/rss.xml")
    # in one line the eight feeds would span at least 7 × 0.5 × delay = 7 s
    assert feeds[-1] - feeds[0] < 0.5 * delay * 4.5, feeds


def test_an_outlets_fresh_news_is_fetched_as_soon_as_its_feed_is_read(newsroom, cli_env,
                                                                      tmp_path):
    """Twenty outlets, two requests at a time: an outlet's fresh article is fetched
    right after its own feed, ahead of the feeds still waiting; older articles wait
    until every feed is sent."""
    from datetime import UTC, datetime, timedelta

    from newsroom import Route, rss_feed, serve_article

    now = datetime.now(UTC).replace(microsecond=0)
    names = [f"Queue Outlet {n}" for n in range(20)]
    for name in names:
        site = newsroom.site(name)
        items = []
        for path, published in (("/news/today.html", now),
                                ("/news/last-week.html", now - timedelta(days=8))):
            url = serve_article(site, path, f"{name} harbour works {path}", published)
            items.append({"title": path, "link": url, "guid": url, "published": published})
        site.routes["/rss.xml"] = Route(rss_feed(name, site.base, items),
                                        content_type="application/rss+xml")
    sources = write_sources(tmp_path, newsroom, {name: ["/rss.xml"] for name in names})
    env = {**cli_env, "BACKCHANNEL_CONCURRENT_REQUESTS": "2"}

    result = run_cli(["crawl", "--sources", str(sources)], env)
    assert result.returncode == 0, result.stderr[-3000:]
    order = [(r.site, r.path) for r in newsroom.log if r.path != "/robots.txt"]
    last_feed = max(i for i, (_, path) in enumerate(order) if path == "/rss.xml")
    fresh = [i for i, (_, path) in enumerate(order) if path == "/news/today.html"]
    older = [i for i, (_, path) in enumerate(order) if path == "/news/last-week.html"]
    assert len(fresh) == len(older) == len(names)
    assert sum(i < last_feed for i in fresh) >= len(names) // 2, order
    # older pages wait for every feed to be sent: at most one per request slot can get
    # ahead of a last feed that still waits for its host's robots.txt
    assert sum(i < last_feed for i in older) <= 2, order
    for name in names:
        assert order.index((name, "/rss.xml")) < order.index((name, "/news/today.html"))
