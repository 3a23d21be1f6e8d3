"""What `backchannel crawl` tells its user: at a terminal a few lines, not a log; a
network that reaches no source said once; why nothing was due and when the next poll
is; alerts that did not get through, with the command that sends them again."""

from __future__ import annotations

import json
import re

import pytest
from conftest import run_cli, run_on_terminal
from newsroom import ARCHIVE_REPORTS, Newsroom, publish_archive
from receivers import free_port

DEAD_SOURCES = 30


@pytest.fixture
def newsroom():
    room = Newsroom()
    yield room
    room.close()


def dead_sources(tmp_path, count: int = DEAD_SOURCES):
    """A sources file of `count` outlets, each on a loopback address of its own, all on
    a port where nothing listens (as if the network reached none of them)."""
    port = free_port()
    lines = ["allow_private_addresses = true", ""]
    for n in range(count):
        lines += ["[[outlets]]", f'name = "Silent Outlet {n}"',
                  f'feeds = ["http://127.0.1.{n + 1}:{port}/rss.xml"]', ""]
    path = tmp_path / "dead.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def local_clock(db, condition: str) -> str:
    """The earliest next poll of these sources, as the crawl shows it (local time)."""
    moment = db.execute(f"SELECT min(next_poll_at) AS t FROM sources WHERE {condition}"
                        ).fetchone()["t"]
    return f"{moment.astimezone():%H:%M}"


def test_an_unreachable_network_is_said_once_and_the_next_crawl_says_when_it_retries(
        cli_env, db, tmp_path):
    sources = dead_sources(tmp_path)
    code, text = run_on_terminal(["crawl", "--sources", str(sources)], cli_env)
    assert code == 1, text[-3000:]
    lines = text.split("\n")
    # the summary, the one line about the network, and at most a few warnings: not one
    # line (or a traceback) per source
    assert len(lines) <= 8, text[-3000:]
    assert "Traceback" not in text and "FAILED" not in text
    assert "deprecated" not in text.lower()  # no setting Scrapy warns about
    assert (f"no source could be reached: {DEAD_SOURCES} connections refused; "
            "is this machine offline?") in text
    assert f"polled {DEAD_SOURCES} sources" in text

    again = run_cli(["crawl", "--sources", str(sources)], cli_env)
    assert again.returncode == 1  # nothing done, because of the failures
    retry_at = local_clock(db, "consecutive_failures > 0")
    assert (f"nothing due: {DEAD_SOURCES} sources failing, next retry at {retry_at}; "
            "`backchannel crawl --all` to poll now") in again.stdout


def test_off_a_terminal_every_failure_keeps_its_line_and_the_network_is_named(
        cli_env, tmp_path):
    result = run_cli(["crawl", "--sources", str(dead_sources(tmp_path, 3))], cli_env)
    assert result.returncode == 1
    failed = [line for line in result.stderr.splitlines() if line.startswith("FAILED")]
    assert len(failed) == 3 and all("Connection refused" in line for line in failed)
    assert ("backchannel crawl: no source could be reached: 3 connections refused; "
            "is this machine offline?") in result.stderr
    for line in result.stderr.splitlines():  # JSON log lines for the machine, as ever
        assert line.startswith(("FAILED ", "backchannel crawl: ")) or json.loads(line)


def test_an_alert_not_delivered_fails_the_crawl_and_names_the_retry(newsroom, cli_env, db,
                                                                     tmp_path):
    publish_archive(newsroom, ARCHIVE_REPORTS[:1])  # one unconfirmed report: one alert
    sources = tmp_path / "sources.toml"
    sources.write_text(newsroom.sources_toml({"Harbour Post": ["/rss.xml"]}), encoding="utf-8")
    down = {**cli_env, "BACKCHANNEL_WEBHOOK_URL": f"http://127.0.0.1:{free_port()}/hook",
            "BACKCHANNEL_ALERT_ATTEMPTS": "2", "BACKCHANNEL_ALERT_BACKOFF_SECONDS": "0.2",
            "BACKCHANNEL_ALERT_WAIT_SECONDS": "3"}
    code, text = run_on_terminal(["crawl", "--sources", str(sources)], down)
    assert code == 1, text[-3000:]
    assert "stored 1 new article (0 updated, 0 skipped), 1 new alert (0 delivered, " \
           "1 not delivered)" in text
    assert ("1 alert not delivered (webhook: 1); `backchannel alerts retry` sends it "
            "again") in text
    assert "Traceback" not in text
    assert db.execute("SELECT status FROM alert_deliveries").fetchone()["status"] == "failed"

    again = run_cli(["crawl", "--sources", str(sources)], down)
    assert again.returncode == 0, again.stderr[-3000:]
    assert re.search(r"^nothing due: 1 source polled recently, next poll at "
                     + local_clock(db, "true") + "; `backchannel crawl --all` to poll now$",
                     again.stdout, re.MULTILINE), again.stdout


def test_debug_shows_the_whole_story_at_a_terminal(cli_env, tmp_path):
    sources = str(dead_sources(tmp_path, 2))
    code, text = run_on_terminal(["crawl", "--debug", "--sources", sources], cli_env)
    assert code == 1
    assert "Traceback" in text  # asked for: the libraries' tracebacks…
    assert "DEBUG" in text and "scrapy" in text  # …and their debug lines
    assert "FAILED Silent Outlet 0: " in text and "FAILED Silent Outlet 1: " in text
