"""When a feed is polled next: its posting rate within bounds, the server's and feed's
own hints as a floor, jitter, and failures backing off in the archive."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from archive.store import record_poll, sync_sources
from core.headers import retry_after
from crawler.items import PollOutcome
from crawler.polling import (
    PollingPolicy,
    max_age,
    next_interval,
    posting_gap,
    with_jitter,
)
from crawler.sources import parse_sources

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
POLICY = PollingPolicy(min_seconds=60, max_seconds=1800)


def poll(gap_minutes: float | None = None, n: int = 10, **hints) -> PollOutcome:
    times = [NOW - timedelta(minutes=gap_minutes * i) for i in range(n)] if gap_minutes else []
    return PollOutcome(source=None, entry_times=times, **hints)


@pytest.mark.parametrize(("gap_minutes", "expected_seconds"), [
    (2, 60),  # a busy feed: as often as the lower bound allows
    (20, 300),  # a post every 20 minutes: poll every 5
    (60, 900),
    (24 * 60, 1800),  # a daily feed: no less often than the upper bound
])
def test_interval_follows_the_posting_rate_within_bounds(gap_minutes, expected_seconds):
    interval, hint = next_interval(300, poll(gap_minutes), POLICY)
    assert interval == expected_seconds
    assert hint.startswith("posts every")


def test_configured_intervals_outside_the_bounds_widen_them():
    assert next_interval(10, poll(1), POLICY)[0] == 15  # a 10 s source may go to 15 s
    assert next_interval(7200, poll(24 * 60), POLICY)[0] == 7200  # and a 2 h one stays


def test_without_dates_the_interval_in_use_or_the_configured_one_stays():
    assert next_interval(300, poll(), POLICY) == (300, "configured")
    assert next_interval(300, poll(), POLICY, previous=900) == (900, "as before")
    assert next_interval(300, poll(60), PollingPolicy(adaptive=False)) == (300, "configured")


@pytest.mark.parametrize(("hints", "floor", "who"), [
    ({"ttl_minutes": 60}, 3600, "feed ttl"),
    ({"max_age": 1200.0}, 1200, "max-age"),
    ({"retry_after": 900.0, "max_age": 600.0}, 900, "Retry-After"),
    ({"ttl_minutes": 10_000}, 24 * 3600, "feed ttl"),  # capped at a day
])
def test_the_server_and_the_feed_set_a_floor(hints, floor, who):
    interval, hint = next_interval(300, poll(2, **hints), POLICY)
    assert interval == floor and hint.startswith(who)


def test_a_short_hint_does_not_shorten_the_interval():
    assert next_interval(300, poll(max_age=30.0), POLICY)[0] == 300


def test_posting_gap_needs_three_dates_and_ignores_old_entries():
    assert posting_gap([NOW, NOW - timedelta(hours=1)]) is None
    recent = [NOW - timedelta(minutes=5 * i) for i in range(20)]
    ancient = [NOW - timedelta(days=400 + i) for i in range(30)]
    assert posting_gap(recent + ancient) == 300


def test_jitter_spreads_equal_intervals():
    rng = random.Random(1)
    values = [with_jitter(300, POLICY, rng) for _ in range(100)]
    assert all(300 <= v <= 330 for v in values) and len(set(values)) == 100


def test_header_parsing():
    assert max_age("public, max-age=600, must-revalidate") == 600
    assert max_age("no-cache") is None and max_age(None) is None
    assert retry_after("120") == 120
    later = (datetime.now(UTC) + timedelta(seconds=300)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert 295 <= retry_after(later) <= 300
    assert retry_after("tomorrow") is None


def test_failures_back_off_and_a_success_resets(db):
    sources = parse_sources({"outlets": [{"name": "Flaky", "feeds": ["https://flaky.example/f"],
                                          "interval_minutes": 2}]}, "test")
    [state] = sync_sources(db, sources).values()
    waits = []
    for _ in range(4):
        record_poll(db, state.id, ok=False, status=503, error="HTTP 503", now=NOW)
        row = db.execute("SELECT next_poll_at FROM sources").fetchone()
        waits.append((row["next_poll_at"] - NOW).total_seconds())
    assert waits == [120, 240, 480, 960]
    record_poll(db, state.id, ok=False, status=429, error="HTTP 429", wait_at_least=7200,
                now=NOW)
    row = db.execute("SELECT next_poll_at FROM sources").fetchone()
    assert (row["next_poll_at"] - NOW).total_seconds() == 7200  # Retry-After wins
    record_poll(db, state.id, ok=True, status=200, interval_seconds=600, next_poll_in=630,
                hint="posts every ~40 min", now=NOW)
    row = db.execute("SELECT next_poll_at, consecutive_failures, effective_interval_seconds, "
                     "last_hint FROM sources").fetchone()
    assert (row["next_poll_at"] - NOW).total_seconds() == 630
    assert row["consecutive_failures"] == 0 and row["effective_interval_seconds"] == 600
    assert row["last_hint"] == "posts every ~40 min"


def test_a_crawl_honours_the_servers_hints(cli_env, db, tmp_path):
    from conftest import run_cli
    from newsroom import Newsroom, Route, rss_feed

    room = Newsroom()
    try:
        cached = room.site("Cached Outlet")
        cached.routes["/rss.xml"] = Route(rss_feed("Cached Outlet", cached.base, []),
                                          content_type="application/rss+xml",
                                          headers={"Cache-Control": "public, max-age=7200"})
        busy = room.site("Busy Outlet")
        busy.routes["/rss.xml"] = Route(b"slow down", status=503, content_type="text/plain",
                                        headers={"Retry-After": "5400"})
        sources = tmp_path / "sources.toml"
        sources.write_text(room.sources_toml({"Cached Outlet": ["/rss.xml"],
                                              "Busy Outlet": ["/rss.xml"]}))
        result = run_cli(["crawl", "--sources", str(sources)],
                         {**cli_env, "BACKCHANNEL_RETRY_TIMES": "0"})
        assert result.returncode == 1  # the busy one failed
        rows = {r["url"]: r for r in db.execute(
            "SELECT url, next_poll_at - last_polled_at AS wait, last_hint FROM sources")}
        assert rows[cached.url("/rss.xml")]["wait"] >= timedelta(seconds=7200)
        assert rows[cached.url("/rss.xml")]["last_hint"] == "max-age 2.0 h"
        assert rows[busy.url("/rss.xml")]["wait"] >= timedelta(seconds=5400)
    finally:
        room.close()


def test_the_adapted_interval_survives_a_304(cli_env, db, tmp_path):
    from conftest import run_cli
    from newsroom import Newsroom, Route, rss_feed

    room = Newsroom()
    try:
        site = room.site("Slow Outlet")
        items = [{"title": f"Item {n}", "link": site.url(f"/gone/{n}.html"), "guid": f"g{n}",
                  "published": NOW - timedelta(hours=2 * n)} for n in range(6)]
        site.routes["/rss.xml"] = Route(rss_feed("Slow Outlet", site.base, items),
                                        content_type="application/rss+xml", conditional=True)
        sources = tmp_path / "sources.toml"
        sources.write_text(room.sources_toml({"Slow Outlet": ["/rss.xml"]}))
        for _ in range(2):  # the second pass gets a 304
            run_cli(["crawl", "--all", "--sources", str(sources)], cli_env)
        row = db.execute("SELECT effective_interval_seconds AS s, last_status, last_hint "
                         "FROM sources").fetchone()
    finally:
        room.close()
    assert row["last_status"] == 304
    assert row["s"] == 1800 and row["last_hint"] == "as before"  # posts every 2 h
