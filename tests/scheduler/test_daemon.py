"""`backchannel run` as users run it: a child process against the test newsroom, watched
through its /healthz and /metrics, the archive and the receivers; stopped by signals."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import ROOT, run_cli
from daemons import DaemonProcess
from newsroom import (
    SEED_LAYOUT,
    Newsroom,
    Route,
    article_html,
    feed_path,
    publish_seeds,
    rss_feed,
    wait_until,
)

INTERVAL_MINUTES = 0.02  # 1.2 s: the newsroom is local


@pytest.fixture
def newsroom():
    room = Newsroom()
    yield room
    room.close()


@pytest.fixture
def daemons():
    started: list[DaemonProcess] = []

    def start(env, sources, log, *args) -> DaemonProcess:
        daemon = DaemonProcess(env, sources, log, *args)
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        daemon.kill()


@pytest.fixture
def env(cli_env, smtp) -> dict[str, str]:
    return {**cli_env, "BACKCHANNEL_TICK_SECONDS": "0.3",
            "BACKCHANNEL_ADAPTIVE_INTERVALS": "false",
            "BACKCHANNEL_SMTP_URL": smtp.url(), "BACKCHANNEL_EMAIL_TO": "desk@newsroom.test",
            "BACKCHANNEL_ALERT_BACKOFF_SECONDS": "0.2"}


def write_sources(tmp_path: Path, newsroom: Newsroom, feeds: dict[str, str],
                  interval: float = INTERVAL_MINUTES) -> Path:
    path = tmp_path / "sources.toml"
    text = newsroom.sources_toml({name: [p] for name, p in feeds.items()})
    path.write_text(text.replace("interval_minutes = 5", f"interval_minutes = {interval}"))
    return path


def empty_feeds(newsroom: Newsroom) -> dict[str, str]:
    """Every seed outlet online with a feed that lists nothing yet."""
    for seed in SEED_LAYOUT:
        site = newsroom.site(seed.outlet)
        site.routes["/rss.xml"] = Route(rss_feed(seed.outlet, site.base, []),
                                        content_type="application/rss+xml", conditional=True)
        site.routes["/atom.xml"] = site.routes["/rss.xml"]
    return {seed.outlet: feed_path(seed) for seed in SEED_LAYOUT}


def test_new_items_are_stored_and_alerted_on_the_next_poll(newsroom, seeds_dir, env, db,
                                                           tmp_path, smtp, daemons):
    feeds = empty_feeds(newsroom)
    daemon = daemons(env, write_sources(tmp_path, newsroom, feeds), tmp_path / "daemon.log")
    assert wait_until(lambda: daemon.passes() >= 2, 30), daemon.logs()[-3000:]
    assert daemon.get("/healthz")[0] == 200
    latencies = []
    for n, seed in enumerate(SEED_LAYOUT, 1):
        publish_seeds(newsroom, seeds_dir, [seed])
        published = time.time()
        assert wait_until(lambda n=n: len(smtp.mails) == n, 30), daemon.logs()[-3000:]
        latencies.append(smtp.mails[-1].at - published)
    outlets = [m.subject.split(": ", 1)[1].split(" - ")[0] for m in smtp.mails]
    assert outlets == [seed.outlet for seed in SEED_LAYOUT]
    assert max(latencies) < 30  # polls every 1.2 s: the alert follows within seconds
    # the mail can arrive before the pass that made it ends and is counted
    assert wait_until(lambda: daemon.metric("backchannel_alerts_created_total") == 5, 30)
    assert wait_until(lambda: daemon.metric("backchannel_alerts_delivered_total",
                                            channel="email") == 5, 30)
    assert daemon.metric("backchannel_articles_stored_total", change="new") == 10
    assert daemon.metric("backchannel_polls_total", outcome="not_modified") > 0
    code, took = daemon.stop()
    assert code == 0 and took < 30
    assert db.execute("SELECT count(*) AS n FROM articles").fetchone()["n"] == 10


def test_a_failing_source_backs_off_then_recovers(newsroom, env, db, tmp_path, daemons):
    site = newsroom.site("Flaky Outlet")
    site.routes["/rss.xml"] = Route(b"server on fire", status=500, content_type="text/plain")
    sources = write_sources(tmp_path, newsroom, {"Flaky Outlet": "/rss.xml"}, 0.02)
    daemon = daemons({**env, "BACKCHANNEL_RETRY_TIMES": "0"}, sources, tmp_path / "d.log")
    waits: dict[int, float] = {}

    def observe() -> bool:
        row = db.execute("SELECT consecutive_failures AS n, next_poll_at - last_polled_at "
                         "AS wait FROM sources").fetchone()
        if row and row["wait"] is not None:
            waits.setdefault(row["n"], row["wait"].total_seconds())
        return len([n for n in waits if n > 0]) >= 3

    assert wait_until(observe, 40), (waits, daemon.logs()[-2000:])
    assert waits[1] < waits[2] < waits[3]  # 1.2 s, then doubled, then doubled again
    assert 4.5 <= waits[3] <= 5.0
    site.routes["/rss.xml"] = Route(rss_feed("Flaky Outlet", site.base, []),
                                    content_type="application/rss+xml")
    assert wait_until(lambda: db.execute(
        "SELECT consecutive_failures FROM sources").fetchone()["consecutive_failures"] == 0,
        30), daemon.logs()[-2000:]
    row = db.execute("SELECT last_success_at, next_poll_at - last_polled_at AS wait, "
                     "last_error FROM sources").fetchone()
    assert row["last_success_at"] and row["last_error"] is None
    assert row["wait"] <= timedelta(seconds=1.2 * 1.1 + 0.01)  # back to its interval
    assert daemon.metric("backchannel_poll_errors_total", kind="http_5xx") >= 3
    status = run_cli(["sources", "status", "--sources", str(sources), "--format", "json"], env)
    [source] = [json.loads(line) for line in status.stdout.splitlines()]
    assert source["consecutive_failures"] == 0 and source["last_success_at"]


def test_one_crawler_per_database(newsroom, seeds_dir, env, db, tmp_path, daemons):
    feeds = empty_feeds(newsroom)
    sources = write_sources(tmp_path, newsroom, feeds)
    first = daemons(env, sources, tmp_path / "first.log")
    assert wait_until(lambda: first.passes() >= 1, 30), first.logs()[-2000:]

    cron = run_cli(["crawl", "--all", "--sources", str(sources)], env)
    assert cron.returncode == 0, cron.stderr[-2000:]
    assert "another crawler holds the lock on this database: backchannel run" in cron.stdout

    second = daemons({**env, "BACKCHANNEL_HEALTH_MAX_AGE_MINUTES": "0.02"}, sources,
                     tmp_path / "second.log")
    assert wait_until(lambda: "another crawler holds the lock" in second.logs(), 30)
    time.sleep(2)
    assert second.passes() == 0 and second.metric("backchannel_polls_total") == 0
    status, body = second.get("/healthz")  # waiting is not crawling: a probe should know
    assert status == 503 and "no pass ended" in body

    code, took = first.stop()
    assert code == 0 and took < 30
    assert wait_until(lambda: second.passes() >= 1, 30), second.logs()[-2000:]
    assert "crawler lock acquired" in second.logs()


def slow_answer(body: bytes, content_type: str, delay: float,
                started: threading.Event | None = None):
    """A route handler that answers `body` after `delay` seconds (setting `started`
    when the request arrives), and shrugs off a client that has gone."""
    def handler(request) -> None:
        if started is not None:
            started.set()
        time.sleep(delay)
        try:
            request.send_response(200)
            request.send_header("Content-Type", content_type)
            request.send_header("Content-Length", str(len(body)))
            request.end_headers()
            request.wfile.write(body)
        except OSError:
            pass

    return handler


def slow_page(delay: float):
    body = article_html("Harbour plan debated", [
        f"Paragraph {n}: the city council met to debate the harbour district plan, with "
        "residents asking for parks and housing and traders asking for warehouses."
        for n in range(6)], datetime.fromisoformat("2025-03-01T10:00:00+00:00"), "Desk",
        "Slow Outlet", "http://x/")
    return slow_answer(body, "text/html; charset=utf-8", delay)


def test_sigterm_mid_pass_leaves_a_consistent_archive_and_a_restart_finishes(
        newsroom, env, db, tmp_path, daemons):
    site = newsroom.site("Slow Outlet")
    links = []
    for n in range(12):
        path = f"/news/{n}.html"
        site.routes[path] = Route(handler=slow_page(1.5))
        links.append(site.url(path))
    items = [{"title": f"Item {n}", "link": link, "guid": f"g{n}",
              "published": datetime.fromisoformat("2025-03-01T10:00:00+00:00")}
             for n, link in enumerate(links)]
    site.routes["/rss.xml"] = Route(rss_feed("Slow Outlet", site.base, items),
                                    content_type="application/rss+xml", conditional=True)
    sources = write_sources(tmp_path, newsroom, {"Slow Outlet": "/rss.xml"}, 5)
    slow_env = {**env, "BACKCHANNEL_CONCURRENT_REQUESTS_PER_DOMAIN": "2"}
    daemon = daemons(slow_env, sources, tmp_path / "d.log")
    assert wait_until(lambda: len(newsroom.requests("Slow Outlet", "/news/")) >= 3, 30)
    code, took = daemon.stop()
    assert code == 0 and took < 30, daemon.logs()[-3000:]
    stored = db.execute("SELECT count(*) AS n FROM articles").fetchone()["n"]
    assert 0 < stored < 12  # stopped mid-pass…
    incomplete = db.execute("SELECT count(*) AS n FROM articles WHERE text = '' "
                            "OR raw_page IS NULL OR call_status IS NULL").fetchone()["n"]
    assert incomplete == 0  # …with every stored article whole
    source = db.execute("SELECT etag, next_poll_at FROM sources").fetchone()
    assert source["etag"] is None  # the feed will be read in full again

    again = daemons(slow_env, sources, tmp_path / "again.log", "--max-passes", "1")
    assert again.proc.wait(90) == 0, again.logs()[-3000:]
    urls = [r["url"] for r in db.execute("SELECT url FROM articles").fetchall()]
    assert sorted(urls) == sorted(links)  # every article, each once


def test_memory_stays_flat_over_fifty_passes(newsroom, seeds_dir, env, db, tmp_path,
                                             daemons):
    publish_seeds(newsroom, seeds_dir)
    sources = write_sources(tmp_path, newsroom,
                            {s.outlet: feed_path(s) for s in SEED_LAYOUT}, 0.01)
    daemon = daemons({**env, "BACKCHANNEL_TICK_SECONDS": "0.2"}, sources, tmp_path / "d.log")
    assert wait_until(lambda: daemon.passes() >= 5, 60), daemon.logs()[-2000:]
    after_five = daemon.metric("process_resident_memory_bytes")
    assert wait_until(lambda: daemon.passes() >= 50, 240), daemon.logs()[-2000:]
    after_fifty = daemon.metric("process_resident_memory_bytes")
    stored = daemon.metric("backchannel_articles_stored_total", change="new")
    code, _ = daemon.stop()
    assert code == 0
    assert stored == 10  # the passes really crawled: seeds and markets pages, once
    assert after_fifty <= after_five * 1.10, (after_five, after_fifty)


def test_feeds_of_one_host_are_staggered(newsroom, env, db, tmp_path, daemons):
    site = newsroom.site("Big Outlet")
    feeds = {}
    for n in range(12):
        site.routes[f"/feed/{n}.xml"] = Route(rss_feed("Big Outlet", site.base, []),
                                              content_type="application/rss+xml")
        feeds[n] = f"/feed/{n}.xml"
    path = tmp_path / "sources.toml"
    path.write_text(newsroom.sources_toml({"Big Outlet": list(feeds.values())}))
    daemon = daemons({**env, "BACKCHANNEL_HOST_POLLS_PER_TICK": "3",
                      "BACKCHANNEL_TICK_SECONDS": "1"}, path, tmp_path / "d.log")
    assert wait_until(lambda: len(newsroom.requests("Big Outlet", "/feed/")) >= 12, 30)
    daemon.stop()
    polled = [int(n) for n in re.findall(r"polled (\d+) of 12 sources", daemon.logs())]
    assert polled[:4] == [3, 3, 3, 3]  # a steady trickle: never more than 3 at once
    assert max(polled) <= 3
    times = sorted(r.at for r in newsroom.requests("Big Outlet", "/feed/"))[:12]
    assert times[-1] - times[0] >= 2.0  # spread over four ticks, not one burst


def test_the_daemon_refuses_a_reactor_installed_behind_its_back():
    code = ("import twisted.internet.reactor\n"
            "from scheduler.daemon import ReactorError, install_asyncio_reactor\n"
            "try:\n    install_asyncio_reactor()\nexcept ReactorError as exc:\n"
            "    print('refused:', exc)\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert "refused: the Twisted reactor" in result.stdout, result.stderr
    assert "AsyncioSelectorReactor" in result.stdout


def test_sources_list_and_status_before_any_poll(newsroom, env, db, tmp_path):
    site = newsroom.site("Quiet Outlet")
    sources = write_sources(tmp_path, newsroom, {"Quiet Outlet": "/rss.xml"}, 7.5)
    listed = run_cli(["sources", "list", "--sources", str(sources)], env)
    assert listed.returncode == 0
    assert "Quiet Outlet" in listed.stdout and "every 8 min" in listed.stdout
    assert site.url("/rss.xml") in listed.stdout
    status = run_cli(["sources", "status", "--sources", str(sources)], env)
    assert status.returncode == 0 and "never polled" in status.stdout
    bad = run_cli(["sources", "list", "--sources", str(tmp_path / "missing.toml")], env)
    assert bad.returncode == 2 and "not found (sources file)" in bad.stderr


def log_messages(daemon: DaemonProcess) -> list[str]:
    """The daemon's log, a message per line (JSON lines: stderr is not a terminal)."""
    return [json.loads(line)["message"] if line.startswith("{") else line
            for line in daemon.logs().splitlines() if line.strip()]


def test_an_idle_daemon_logs_only_a_heartbeat(newsroom, env, db, tmp_path, daemons):
    feeds = {name: "/rss.xml" for name in ("Calm Outlet", "Still Outlet", "Mute Outlet")}
    for name in feeds:
        site = newsroom.site(name)
        site.routes["/rss.xml"] = Route(rss_feed(name, site.base, []),
                                        content_type="application/rss+xml")
    sources = write_sources(tmp_path, newsroom, feeds, 60)  # then nothing due for an hour
    daemon = daemons({**env, "BACKCHANNEL_TICK_SECONDS": "0.1",
                      "BACKCHANNEL_HEARTBEAT_MINUTES": "0.02"}, sources, tmp_path / "d.log")
    assert wait_until(lambda: daemon.passes() >= 1, 30), daemon.logs()[-2000:]
    looks = daemon.metric("backchannel_looks_total")
    assert wait_until(lambda: daemon.metric("backchannel_looks_total") >= looks + 20, 30)
    assert wait_until(lambda: sum("idle for" in m for m in log_messages(daemon)) >= 2, 30)
    code, _ = daemon.stop()
    assert code == 0
    messages = log_messages(daemon)
    [first] = [n for n, m in enumerate(messages) if m.startswith("pass ")]
    assert "polled 3 of 3 sources" in messages[first]
    idle = messages[first + 1:]
    beats = [m for m in idle if m.startswith("idle for")]
    assert [m for m in idle if m not in beats][:1] == ["stopping: no new passes; finishing "
                                                       "the one in progress"], idle
    assert len(idle) - len(beats) == 2  # …and "daemon stopped after 1 passes"
    assert all("no poll" in m and "3 sources, next poll at" in m for m in beats), beats
    assert sum(int(re.search(r"(\d+) looks? for", m)[1]) for m in beats) >= 20


def slow_feed(title: str, base: str, delay: float, started: threading.Event):
    return slow_answer(rss_feed(title, base, []), "application/rss+xml", delay, started)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_by_signal_is_no_failure_of_any_source(newsroom, env, db, tmp_path,
                                                      daemons, sig):
    site = newsroom.site("Slow Outlet")
    started = threading.Event()
    paths = [f"/feed/{n}.xml" for n in range(6)]
    for path in paths:
        site.routes[path] = Route(handler=slow_feed("Slow Outlet", site.base, 2, started))
    path = tmp_path / "sources.toml"
    path.write_text(newsroom.sources_toml({"Slow Outlet": paths}))
    daemon = daemons({**env, "BACKCHANNEL_CONCURRENT_REQUESTS_PER_DOMAIN": "1",
                      "BACKCHANNEL_DOWNLOAD_DELAY": "0", "BACKCHANNEL_HOST_POLLS_PER_TICK": "6"},
                     path, tmp_path / "d.log")
    assert started.wait(30), daemon.logs()[-2000:]  # one feed on the wire, five queued
    code, took = daemon.stop(sig)
    assert code == 0 and took < 30, daemon.logs()[-3000:]
    rows = db.execute("SELECT url, consecutive_failures, last_error, last_polled_at, "
                      "next_poll_at <= now() AS due FROM sources").fetchall()
    assert len(rows) == 6
    assert [(r["consecutive_failures"], r["last_error"]) for r in rows] == [(0, None)] * 6
    unanswered = [r for r in rows if r["last_polled_at"] is None]
    assert unanswered and all(r["due"] for r in unanswered)  # polled first thing next time
    status = run_cli(["sources", "status", "--sources", str(path)], env)
    assert "failing" not in status.stdout.lower(), status.stdout


def test_a_changed_sources_file_applies_at_the_next_tick(newsroom, env, db, tmp_path,
                                                         daemons):
    feeds = {name: "/rss.xml" for name in ("Steady Outlet", "Gone Outlet", "Late Outlet")}
    for name in feeds:
        site = newsroom.site(name)
        site.routes["/rss.xml"] = Route(rss_feed(name, site.base, []),
                                        content_type="application/rss+xml")
    path = tmp_path / "sources.toml"
    first = newsroom.sources_toml({"Steady Outlet": ["/rss.xml"]}).replace(
        "interval_minutes = 5", "interval_minutes = 30")
    gone = newsroom.sources_toml({"Gone Outlet": ["/rss.xml"]}, allow_private=False)
    path.write_text(first + gone.replace("interval_minutes = 5", "interval_minutes = 0.02")
                    .split("\n", 1)[1])
    daemon = daemons({**env, "BACKCHANNEL_TICK_SECONDS": "0.2"}, path, tmp_path / "d.log")

    def polls(name: str) -> int:
        return len(newsroom.requests(name, "/rss.xml"))

    assert wait_until(lambda: polls("Steady Outlet") == 1 and polls("Gone Outlet") >= 2, 30)

    path.write_text("[[outlets]\nname = 'Broken'\n")  # a slip while editing
    assert wait_until(lambda: any("not valid TOML" in m for m in log_messages(daemon)), 30)
    looks = daemon.metric("backchannel_looks_total")
    assert wait_until(lambda: daemon.metric("backchannel_looks_total") >= looks + 5, 30)
    broken = [m for m in log_messages(daemon) if "not valid TOML" in m]
    assert len(broken) == 1 and str(path) in broken[0], broken
    assert "no source is polled until the sources file is fixed" in broken[0]

    # Fixed: Steady now every 1.2 s, Gone removed, Late added.
    gone_polls = polls("Gone Outlet")
    path.write_text(newsroom.sources_toml({"Steady Outlet": ["/rss.xml"],
                                           "Late Outlet": ["/rss.xml"]}).replace(
        "interval_minutes = 5", "interval_minutes = 0.02"))
    assert wait_until(lambda: polls("Steady Outlet") >= 3 and polls("Late Outlet") >= 2,
                      30), daemon.logs()[-3000:]  # not 30 min after its last poll
    assert polls("Gone Outlet") == gone_polls
    code, _ = daemon.stop()
    assert code == 0
    row = db.execute("SELECT interval_minutes FROM sources WHERE url = %s",
                     (newsroom.site("Steady Outlet").url("/rss.xml"),)).fetchone()
    assert row["interval_minutes"] == 0.02


def test_the_daemon_reads_a_hosts_robots_txt_once_not_before_every_poll(
        newsroom, env, db, tmp_path, daemons):
    site = newsroom.site("Polite Outlet")
    site.routes["/robots.txt"] = Route(b"User-agent: *\nDisallow: /private/\n",
                                       content_type="text/plain")
    site.routes["/rss.xml"] = Route(rss_feed("Polite Outlet", site.base, []),
                                    content_type="application/rss+xml")
    sources = write_sources(tmp_path, newsroom, {"Polite Outlet": "/rss.xml"})
    daemon = daemons(env, sources, tmp_path / "d.log")
    assert wait_until(lambda: len(newsroom.requests("Polite Outlet", "/rss.xml")) >= 3, 60), \
        daemon.logs()[-2000:]
    code, _ = daemon.stop()
    assert code == 0
    assert len(newsroom.requests("Polite Outlet", "/robots.txt")) == 1
