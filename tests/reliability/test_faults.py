"""Faults, end to end, with `backchannel` run as a child process the way a user runs it:

1. the PostgreSQL server restarted in the middle of a pass;
2. the disk under the embedded database full;
3. alert endpoints failing in the ways the alert tests do not already cover;
4. `backchannel crawl` killed with SIGKILL at random moments, 20 times in a row.

Each case ends with the archive checked for half-written work: every contact article in
its story, every alert with its article, every delivery with its alert, nothing twice."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from conftest import ROOT, run_cli
from faults import (
    CONTACTS,
    OUTLETS,
    FaultySmtp,
    OwnServer,
    Publisher,
    RawHttpServer,
    SlowSmtp,
    SmallDisk,
    delay_answers,
    queue_alerts,
)
from newsroom import Newsroom, wait_until
from psycopg.rows import dict_row
from receivers import HttpReceiver

from alerts.channels.email import EmailChannel
from alerts.channels.slack import SlackChannel
from alerts.dispatch import Dispatcher, RetryPolicy
from alerts.outbox import list_alerts


def base_env(tmp_path: Path, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKCHANNEL_")}
    env.update(BACKCHANNEL_HOME=str(tmp_path / "home"), BACKCHANNEL_DOWNLOAD_DELAY="0",
               BACKCHANNEL_DOWNLOAD_TIMEOUT="5", BACKCHANNEL_RETRY_TIMES="1",
               BACKCHANNEL_ALERT_BACKOFF_SECONDS="0.2", BACKCHANNEL_ALERT_WAIT_SECONDS="5",
               BACKCHANNEL_ALERT_TIMEOUT="5", PYTHONUNBUFFERED="1")
    if database_url:
        env["BACKCHANNEL_DATABASE_URL"] = database_url
    return env


def write_sources(tmp_path: Path, room: Newsroom, outlets: list[str]) -> str:
    path = tmp_path / "sources.toml"
    path.write_text(room.sources_toml({name: ["/rss.xml"] for name in outlets}),
                    encoding="utf-8")
    return str(path)


def start_crawl(sources: str, env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "backchannel", "crawl", "--all",
                                 "--sources", sources], env=env, cwd=ROOT, stdout=out,
                                stderr=subprocess.STDOUT)


def query(url: str, sql: str, params=()) -> list[dict]:
    """One query on a connection of its own (the server may have been restarted)."""
    with psycopg.connect(url, autocommit=True, row_factory=dict_row, connect_timeout=5) as conn:
        return conn.execute(sql, params).fetchall()


def count(url: str, sql: str) -> int:
    return query(url, f"SELECT count(*) AS n FROM {sql}")[0]["n"]


HALF_WRITTEN = {  # what would show a pass stopped half-way through an article
    "contact articles without their story": """articles a WHERE a.contact_story
        AND a.call_status = 'unconfirmed'
        AND NOT EXISTS (SELECT 1 FROM story_articles s WHERE s.article_id = a.id)""",
    "alerts without their article":
        "alerts l WHERE NOT EXISTS (SELECT 1 FROM articles a WHERE a.id = l.article_id)",
    "alerts without their story": """alerts l WHERE NOT EXISTS (SELECT 1 FROM story_articles s
        WHERE s.article_id = l.article_id AND s.story_id = l.story_id)""",
    "deliveries without their alert":
        "alert_deliveries d WHERE NOT EXISTS (SELECT 1 FROM alerts l WHERE l.id = d.alert_id)",
    "alerts without every channel": """alerts l WHERE (SELECT count(*) FROM alert_deliveries d
        WHERE d.alert_id = l.id) <> %(channels)s""",
    "alerts twice for one outlet and story":
        "(SELECT 1 FROM alerts GROUP BY rule, story_id, outlet HAVING count(*) > 1) AS twice",
    "(story, outlet) pairs without their alert": """(SELECT DISTINCT story_id, outlet
        FROM story_articles EXCEPT SELECT story_id, outlet FROM alerts) AS missing""",
}


def half_written_sql(channels: int) -> str:
    return "SELECT " + ", ".join(
        f'(SELECT count(*) FROM {condition % {"channels": channels}}) AS "{name}"'
        for name, condition in HALF_WRITTEN.items())


def half_written(url: str, channels: int) -> dict[str, int]:
    """All zeros in a sound archive."""
    return query(url, half_written_sql(channels))[0]


def no_traceback(output: str) -> bool:
    return "Traceback" not in output


# --- 1. PostgreSQL restarted during a pass ------------------------------------------

@pytest.fixture(scope="module")
def own_server():
    try:
        server = OwnServer()
    except LookupError as exc:
        pytest.skip(str(exc))
    yield server
    server.close()


@pytest.mark.timeout(240)
def test_postgres_restarts_in_the_middle_of_a_pass_leave_nothing_half_written(
        own_server, tmp_path, http_receiver):
    """Two restarts in one pass. The first while the first two outlets' pages are being
    stored: pages that arrive while the server is down are not stored. The second
    after the third outlet's feed (which answers late) was read and while its slow pages
    are on the wire: the pipeline's connection and the pass's own are both broken, and
    both must carry on with new ones."""
    first_two, third = OUTLETS[:2], OUTLETS[2]
    room = Newsroom()
    try:
        sites = {name: room.site(name) for name in OUTLETS[:3]}
        # pages 1 s apart: the first outage (1 s) must find pages arriving, and the
        # extraction children, ready from their preloaded server, store a page fast
        publisher = Publisher(sites, page_delay=1.0, feed_delay={third: 5.0},
                              page_delays={third: 3.0})
        for index in range(4):
            for outlet in OUTLETS[:3]:
                publisher.contact(index, outlet)
        for number in range(2):
            publisher.routine(first_two[number], number)
        sources = write_sources(tmp_path, room, OUTLETS[:3])
        env = {**base_env(tmp_path, own_server.url), "BACKCHANNEL_DOWNLOAD_TIMEOUT": "10",
               "BACKCHANNEL_WEBHOOK_URL": http_receiver.url("/hook")}
        assert run_cli(["init"], env).returncode == 0
        log = tmp_path / "crawl.log"

        proc = start_crawl(sources, env, log)
        try:
            assert wait_until(lambda: _stored(own_server.url) >= 2, timeout=90), \
                log.read_text()[-3000:]
            own_server.stop("fast")
            time.sleep(1.0)  # pages arrive meanwhile and cannot be stored
            own_server.start()
            assert wait_until(lambda: room.requests(third, "/rss.xml"), timeout=60)
            time.sleep(0.3)  # the feed is read; its pages (3 s each) are on the wire
            own_server.stop("fast")
            own_server.start()
            code = proc.wait(timeout=150)
        finally:
            if proc.poll() is None:
                proc.kill()
            own_server.start()  # (running already, unless the test failed half-way)
        output = log.read_text()
        assert no_traceback(output), output[-5000:]
        assert code == 1, output[-3000:]
        assert "pages could not be stored; the next pass fetches them again" in output
        assert "lost the database connection (" in output  # the pass's own, replaced
        assert "again on a new one" in output  # a page's store, retried after the restart
        assert "recording the sources' outcome on a new one" in output
        stored = {row["url"] for row in query(own_server.url, "SELECT url FROM articles")}
        assert stored < set(publisher.urls), "the first restart missed the pass"
        third_urls = {url for url in publisher.urls if url.startswith(sites[third].base)}
        assert third_urls <= stored, "the second restart lost pages it need not have"
        assert count(own_server.url, "sources WHERE last_polled_at IS NOT NULL") == 3
        # the alert dispatcher outlived both restarts: what was decided went out in the pass
        assert count(own_server.url, "alert_deliveries WHERE status <> 'delivered'") == 0
        assert set(half_written(own_server.url, 1).values()) == {0}, \
            half_written(own_server.url, 1)
        # a feed with a page not stored keeps no validators: the next pass reads it whole
        refused = re.findall(r'"storing (\S+) failed', output)
        assert refused, output[-3000:]
        for row in query(own_server.url, "SELECT url, etag, body_sha256 FROM sources"):
            site = row["url"].removesuffix("/rss.xml")
            unfinished = any(page.startswith(site + "/") for page in refused)
            assert (row["etag"] is None and row["body_sha256"] is None) == unfinished, row

        publisher.feed_delay.clear()  # (the next pass need not wait for it again)
        publisher.feed(third)
        again = run_cli(["crawl", "--all", "--sources", sources], env)
        assert again.returncode == 0, again.stdout + again.stderr[-3000:]
        urls = [row["url"] for row in query(own_server.url, "SELECT url FROM articles")]
        assert sorted(urls) == sorted(publisher.urls)  # every article, each once
        assert set(half_written(own_server.url, 1).values()) == {0}
        assert count(own_server.url, "alerts") == 4 * 3
        assert count(own_server.url, "alert_deliveries WHERE status = 'delivered'") == 12
        hooks = Counter(post.body["alert_id"] for post in http_receiver.accepted_at("/hook"))
        assert len(hooks) == 12
    finally:
        room.close()


@pytest.mark.timeout(180)
def test_a_pass_whose_database_stays_down_fails_cleanly_and_the_next_one_completes(
        own_server, tmp_path):
    """The server stops while pages are on the wire and is still down when the pass
    ends: the pages are not stored, the sources' outcome cannot be recorded, the crawl
    says so and exits 1; the sources stay due, so the next plain `crawl` (no --all)
    fetches everything."""
    url = own_server.database("down_at_the_end")
    room = Newsroom()
    try:
        outlet = OUTLETS[0]
        publisher = Publisher({outlet: room.site(outlet)}, page_delay=2.5)
        publisher.contact(0, outlet)
        publisher.contact(1, outlet)
        sources = write_sources(tmp_path, room, [outlet])
        env = base_env(tmp_path, url)
        log = tmp_path / "crawl.log"
        proc = start_crawl(sources, env, log)
        try:
            assert wait_until(lambda: room.requests(outlet, "/rss.xml"), timeout=90), \
                log.read_text()[-3000:]
            time.sleep(0.5)  # the feed is read; its two pages (2.5 s) are on the wire
            own_server.stop("fast")
            code = proc.wait(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
            own_server.start()
        output = log.read_text()
        assert no_traceback(output), output[-5000:]
        assert code == 1, output[-3000:]
        said = [line for line in output.splitlines() if line.startswith("backchannel crawl:")]
        assert len(said) == 2, output[-3000:]
        assert said[0].startswith("backchannel crawl: 2 pages could not be stored")
        assert "the sources' outcome could not be recorded" in said[1]
        assert "they will be polled again by the next pass" in said[1]
        assert count(url, "articles") == 0

        again = run_cli(["crawl", "--sources", sources], env)  # not --all: still due
        assert again.returncode == 0, again.stdout + again.stderr[-3000:]
        assert sorted(r["url"] for r in query(url, "SELECT url FROM articles")) == \
            sorted(publisher.urls)
        assert set(half_written(url, 0).values()) == {0}
        assert count(url, "alerts") == 2
    finally:
        room.close()


def _stored(url: str) -> int:
    try:
        return count(url, "articles")
    except psycopg.Error:
        return 0


# --- 2. the disk under the embedded database full -----------------------------------

@pytest.fixture
def small_disk():
    if os.geteuid() != 0:
        pytest.skip("a full disk is simulated with a small tmpfs of its own: mounting one "
                    "needs root")
    try:
        disk = SmallDisk(160)
    except PermissionError as exc:
        pytest.skip(f"cannot mount a small tmpfs to fill: {exc}")
    yield disk
    disk.close()


def embedded_query(env: dict[str, str], sql: str) -> list[dict]:
    """Rows of one query on the embedded database, from a child process (which starts
    the embedded server and stops it as it exits, as every command does)."""
    code = ("import json, sys\nfrom archive.db import connect\nfrom core.config "
            "import load_settings\nconn = connect(load_settings(), migrate_now=False)\n"
            "print(json.dumps(conn.execute(sys.argv[1]).fetchall(), default=str))")
    result = subprocess.run([sys.executable, "-c", code, sql], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.splitlines()[-1])


@pytest.mark.timeout(240)
def test_a_full_disk_is_named_and_loses_nothing(small_disk, tmp_path):
    pytest.importorskip("pgserver", reason="no pgserver wheel for this platform")
    env = base_env(tmp_path, None)
    env["BACKCHANNEL_HOME"] = str(small_disk.path / "home")
    room = Newsroom()
    try:
        sites = {name: room.site(name) for name in OUTLETS[:2]}
        publisher = Publisher(sites, page_delay=0.5, bulky=True)
        for index in range(2):
            for outlet in OUTLETS[:2]:
                publisher.contact(index, outlet)
        sources = write_sources(tmp_path, room, OUTLETS[:2])
        first = run_cli(["crawl", "--all", "--sources", sources], env)
        assert first.returncode == 0, first.stderr[-3000:]
        before = embedded_query(env, "SELECT id, url, content_sha256 FROM articles ORDER BY id")
        assert len(before) == 4

        for index in range(2, 8):  # then the disk fills while these are stored
            for outlet in OUTLETS[:2]:
                publisher.contact(index, outlet)
        log = tmp_path / "crawl.log"
        proc = start_crawl(sources, env, log)
        try:
            started = wait_until(lambda: '"stored ' in log.read_text(), timeout=90)
            small_disk.fill()
            code = proc.wait(timeout=150)
        finally:
            if proc.poll() is None:
                proc.kill()
        output = log.read_text()
        assert started, output[-3000:]
        assert small_disk.free_bytes() < 64 * 1024
        assert code == 1, output[-3000:]
        assert no_traceback(output), output[-5000:]
        said = [line for line in output.splitlines() if line.startswith("backchannel crawl:")]
        assert len(said) == 1 and "pages could not be stored" in said[0] \
            and "No space left on device" in said[0], output[-3000:]

        for command in (["init"], ["crawl", "--all", "--sources", sources]):
            full = run_cli(command, env)  # a command started on the full disk
            said = [line for line in full.stderr.splitlines() if line.startswith("backchannel")]
            assert full.returncode == 2, (command, full.stdout, full.stderr[-3000:])
            assert no_traceback(full.stderr), (command, full.stderr[-3000:])
            assert len(said) == 1 and "No space left on device" in said[0] \
                and "free some space and run again" in said[0], (command, said)

        small_disk.release()
        again = run_cli(["crawl", "--all", "--sources", sources], env)
        assert again.returncode == 0, again.stdout + again.stderr[-3000:]
        after = embedded_query(env, "SELECT id, url, content_sha256 FROM articles ORDER BY id")
        assert after[:4] == before  # nothing stored before the disk filled is lost
        assert sorted(row["url"] for row in after) == sorted(publisher.urls)
        assert set(embedded_query(env, half_written_sql(0))[0].values()) == {0}
        assert embedded_query(env, "SELECT count(*) AS n FROM alerts")[0]["n"] == 8 * 2
    finally:
        room.close()


# --- 3. alert endpoints failing in the ways tests/alerts does not cover --------------

def alert_states(env: dict[str, str]) -> dict[int, dict[str, tuple[str, int]]]:
    """`alerts list --format json`: alert id → channel → (status, attempts)."""
    listed = run_cli(["alerts", "list", "--format", "json"], env)
    assert listed.returncode == 0, listed.stderr[-2000:]
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    return {row["id"]: {d["channel"]: (d["status"], d["attempts"]) for d in row["deliveries"]}
            for row in rows}


@pytest.fixture
def faulty_smtp():
    server = FaultySmtp()
    yield server
    server.close()


def raw_answer(status: str, headers: dict[str, str], body: bytes):
    """An HTTP answer written byte by byte, whatever it holds."""
    def respond(conn, number: int) -> None:
        head = f"HTTP/1.1 {status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        conn.sendall(head.encode() + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    return respond


def slack_server(first_answer: tuple[str, dict[str, str], bytes]) -> RawHttpServer:
    """Answers the first post with `first_answer`, every later one as Slack does."""
    first, ok = raw_answer(*first_answer), raw_answer("200 OK", {"Content-Type": "text/plain"},
                                                      b"ok")
    return RawHttpServer(lambda conn, number: (first if number == 1 else ok)(conn, number))


PROXY_PAGE = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


def test_endpoints_that_fail_mid_message_get_the_alert_again(
        db, database_url, tmp_path, faulty_smtp, http_receiver):
    """SMTP: the connection dropped after the message's bytes, before the 250. Webhook:
    "200" only after the client gave up (the receiver has it: the repeat carries the
    same Idempotency-Key). Slack: a proxy's HTML page instead of Slack's answer. Each
    is retried and then delivered; `alerts list` says so."""
    ids = queue_alerts(db, ["email", "slack", "webhook"], 2)
    faulty_smtp.replies = ["drop"]
    delay_answers(http_receiver, 3.5, times=1)
    slack = slack_server(("502 Bad Gateway", {"Content-Type": "text/html"}, PROXY_PAGE))
    try:
        env = {**base_env(tmp_path, database_url), "BACKCHANNEL_ALERT_TIMEOUT": "2",
               "BACKCHANNEL_SMTP_URL": faulty_smtp.url(),
               "BACKCHANNEL_EMAIL_FROM": "backchannel@newsroom.test",
               "BACKCHANNEL_EMAIL_TO": "desk@newsroom.test",
               "BACKCHANNEL_SLACK_WEBHOOK_URL": slack.url("/services/T0/B0/secret"),
               "BACKCHANNEL_WEBHOOK_URL": http_receiver.url("/hook")}
        result = run_cli(["alerts", "retry"], env)
        assert result.returncode == 0, result.stdout + result.stderr[-3000:]
        assert no_traceback(result.stderr), result.stderr[-3000:]
        assert "0 pending, 6 delivered, 0 failed" in result.stdout
        assert alert_states(env) == {
            ids[1]: {"email": ("delivered", 1), "slack": ("delivered", 1),
                     "webhook": ("delivered", 1)},
            ids[0]: {"email": ("delivered", 2), "slack": ("delivered", 2),
                     "webhook": ("delivered", 2)}}
    finally:
        slack.close()
    assert [m.message["X-Backchannel-Alert"] for m in faulty_smtp.mails] == [
        str(i) for i in ids]
    assert faulty_smtp.attempts == 3 and len(slack.requests) == 3
    posts = http_receiver.accepted_at("/hook")
    assert [p.body["alert_id"] for p in posts] == [ids[0], ids[0], ids[1]]
    # the one repeat (the answer was lost, not the message) says it is one
    assert posts[0].headers["idempotency-key"] == posts[1].headers["idempotency-key"] \
        == f"backchannel-alert-{ids[0]}"


OK = ("200 OK", {"Content-Type": "text/plain"}, b"ok")


@pytest.mark.parametrize("fault", [
    pytest.param(("smtp", "hang"), id="smtp-quit-hangs"),
    pytest.param(("smtp", "421 4.3.2 shutting down"), id="smtp-quit-421"),
    pytest.param(("slack", ("200 OK", {"Content-Type": "text/html"},
                            PROXY_PAGE.replace(b"502", b"200"))), id="slack-200-html"),
    pytest.param(("slack", ("200 OK", {"Content-Type": "application/octet-stream"},
                            b"\xff\xfe\x00ok\x81")), id="slack-200-binary"),
    pytest.param(("slack", ("200 OK", {"Content-Type": "text/plain; charset=x-unknown"},
                            b"ok")), id="slack-200-unknown-charset"),
])
def test_trouble_after_the_endpoint_accepted_sends_nothing_twice(db, database_url,
                                                                 faulty_smtp, fault):
    """The message was accepted (SMTP 250, HTTP 2xx) and then something odd followed:
    the delivery is done, and nothing is sent again."""
    kind, how = fault
    ids = queue_alerts(db, [kind if kind == "slack" else "email"], 1)
    server = None
    if kind == "smtp":
        faulty_smtp.quit_reply = how
        channel = EmailChannel(scheme="smtp", host="127.0.0.1", port=faulty_smtp.port,
                               username=None, password=None, sender="b@newsroom.test",
                               recipients=["desk@newsroom.test"], timeout=2)
    else:
        server = slack_server(how)
        channel = SlackChannel(server.url("/services/T0/B0/secret"), 2)
    try:
        Dispatcher(database_url, {channel.name: channel},
                   RetryPolicy(attempts=3, base=0.1)).start().drain(6)
    finally:
        if server is not None:
            server.close()
    # what `alerts list` shows
    assert [(d["status"], d["attempts"]) for row in list_alerts(db) for d in row["deliveries"]
            ] == [("delivered", 1)]
    sent = len(faulty_smtp.mails) if kind == "smtp" else len(server.requests)
    assert (ids, sent) == (ids, 1)


# --- 4. SIGKILL at random moments, twenty times ---------------------------------------

KILL_RUNS = 20
KILL_SEED = 20250501
ANSWER_DELAY = 0.5  # receivers hold their "accepted" this long: kills land in between


@dataclass
class Run:
    started: float
    ended: float
    killed: bool
    in_delivery: int = 0  # messages accepted by a receiver and not yet answered at the kill


@pytest.mark.timeout(420)
def test_sigkill_at_random_moments_loses_nothing_and_repeats_only_with_the_same_key(
        db, database_url, tmp_path):
    rng = random.Random(KILL_SEED)
    room, smtp = Newsroom(), SlowSmtp(ANSWER_DELAY)
    hook = delay_answers(HttpReceiver(), ANSWER_DELAY)
    try:
        publisher = Publisher({name: room.site(name) for name in OUTLETS}, page_delay=0.1)
        plan = [(index, outlet) for index in range(len(CONTACTS)) for outlet in OUTLETS]
        plan += [(None, OUTLETS[n % len(OUTLETS)]) for n in range(8)]  # and other news
        rng.shuffle(plan)

        def publish(count: int) -> None:
            for _ in range(min(count, len(plan))):
                index, outlet = plan.pop(0)
                if index is None:
                    publisher.routine(outlet, len(publisher.urls))
                else:
                    publisher.contact(index, outlet)

        sources = write_sources(tmp_path, room, OUTLETS)
        env = {**base_env(tmp_path, database_url), "BACKCHANNEL_SMTP_URL": smtp.url(),
               "BACKCHANNEL_EMAIL_FROM": "backchannel@newsroom.test",
               "BACKCHANNEL_EMAIL_TO": "desk@newsroom.test",
               "BACKCHANNEL_WEBHOOK_URL": hook.url("/hook"),
               "BACKCHANNEL_ALERT_WAIT_SECONDS": "20"}
        runs: list[Run] = []

        # the first run is not killed: it measures how long a pass takes
        publish(2)
        started = time.time()
        first = run_cli(["crawl", "--all", "--sources", sources], env)
        runs.append(Run(started, time.time(), killed=False))
        assert first.returncode == 0, first.stderr[-3000:]
        duration = runs[0].ended - runs[0].started

        for number in range(KILL_RUNS):
            publish(2)
            assert wait_until(lambda: _sessions(db) == 0, timeout=30)  # the last one's gone
            log = tmp_path / f"kill-{number:02d}.log"
            proc = start_crawl(sources, env, log)
            started = time.time()
            try:
                proc.wait(timeout=rng.uniform(0.2, 1.0) * duration)
                runs.append(Run(started, time.time(), killed=False))
                assert proc.returncode == 0, log.read_text()[-3000:]
            except subprocess.TimeoutExpired:
                in_delivery = smtp.answering + hook.answering
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=30)
                runs.append(Run(started, time.time(), killed=True, in_delivery=in_delivery))
            assert no_traceback(log.read_text()), log.read_text()[-3000:]

        publish(len(plan))
        assert wait_until(lambda: _sessions(db) == 0, timeout=30)
        started = time.time()
        last = run_cli(["crawl", "--all", "--sources", sources], env)
        runs.append(Run(started, time.time(), killed=False))
        assert last.returncode == 0, last.stderr[-3000:]
        assert no_traceback(last.stderr), last.stderr[-3000:]
        time.sleep(ANSWER_DELAY + 0.5)  # answers still on their way to a dead client

        figures = kill_figures(db, runs, publisher, room, smtp, hook)
        (tmp_path / "figures.json").write_text(json.dumps(figures, indent=2))
        print("\nkill runs:", json.dumps(figures, indent=2))

        # every article stored exactly once, whatever was killed where
        assert sorted(r["url"] for r in db.execute("SELECT url FROM articles")) == \
            sorted(publisher.urls)
        # every contact in its story, every alert decided once, with its deliveries
        assert half_written(database_url, 2) == dict.fromkeys(half_written(database_url, 2), 0)
        assert figures["stories"] == len(CONTACTS)
        assert figures["alerts"] == len(CONTACTS) * len(OUTLETS)
        assert figures["deliveries not delivered"] == 0
        assert figures["killed with a message accepted and not yet answered"] > 0, \
            "no kill landed inside a delivery: the exactly-once machinery went untried"
        for channel in ("email", "webhook"):
            assert figures[channel]["lost"] == [], channel  # every alert reached each channel
            assert figures[channel]["duplicates with another key"] == [], channel
            assert figures[channel]["duplicates outside the window"] == [], channel
    finally:
        room.close()
        smtp.close()
        hook.close()


def _sessions(db) -> int:
    """Sessions of other processes on the test's database (a killed crawl's linger until
    the server notices)."""
    return db.execute("SELECT count(*) AS n FROM pg_stat_activity WHERE datname = "
                      "current_database() AND pid <> pg_backend_pid()").fetchone()["n"]


def kill_figures(db, runs: list[Run], publisher: Publisher, room: Newsroom,
                 smtp: SlowSmtp, hook: HttpReceiver) -> dict:
    alert_ids = [r["id"] for r in db.execute("SELECT id FROM alerts ORDER BY id")]

    def run_of(at: float) -> int:
        return next((n for n, run in enumerate(runs) if run.started <= at <= run.ended + 0.2),
                    -1)

    def channel(received: list[tuple[int, str, float]]) -> dict:
        """received: (alert id, its key, when) per message the receiver accepted."""
        by_alert: dict[int, list[tuple[str, int]]] = {}
        for alert_id, key, at in received:
            by_alert.setdefault(alert_id, []).append((key, run_of(at)))
        repeated = {a: copies for a, copies in by_alert.items() if len(copies) > 1}
        return {
            "received": len(received),
            "alerts received": len(by_alert),
            "lost": sorted(set(alert_ids) - set(by_alert)),
            "raw duplicates": sum(len(copies) - 1 for copies in repeated.values()),
            "duplicates with another key": sorted(
                a for a, copies in repeated.items() if len({key for key, _ in copies}) > 1),
            # a repeat is the design's one window only when every copy but the last was
            # sent by a run that was killed (before it could record the delivery)
            "duplicates outside the window": sorted(
                a for a, copies in repeated.items()
                if any(not runs[n].killed or n < 0 for _, n in copies[:-1])
                or len({n for _, n in copies}) < len(copies)),
        }

    mails = [(int(m.message["X-Backchannel-Alert"]), m.message["Message-ID"], m.at)
             for m in smtp.mails]
    posts = [(p.body["alert_id"], p.headers.get("idempotency-key"), p.at)
             for p in hook.accepted_at("/hook")]
    gets = Counter(room.sites[r.site].url(r.path.split("?", 1)[0]) for r in room.log
                   if r.status == 200 and not r.path.startswith(("/rss.xml", "/robots.txt")))
    killed = [run for run in runs if run.killed]
    return {
        "runs": len(runs), "killed": len(killed),
        "killed with a message accepted and not yet answered": sum(
            1 for run in killed if run.in_delivery),
        "pass seconds (unkilled)": [round(r.ended - r.started, 1) for r in runs
                                    if not r.killed],
        "articles": db.execute("SELECT count(*) AS n FROM articles").fetchone()["n"],
        "article pages fetched again": sum(n - 1 for n in gets.values() if n > 1),
        "stories": db.execute("SELECT count(*) AS n FROM stories").fetchone()["n"],
        "alerts": len(alert_ids),
        "deliveries": db.execute("SELECT count(*) AS n FROM alert_deliveries").fetchone()["n"],
        "deliveries not delivered": db.execute(
            "SELECT count(*) AS n FROM alert_deliveries WHERE status <> 'delivered'"
        ).fetchone()["n"],
        "email": channel(mails), "webhook": channel(posts),
    }
