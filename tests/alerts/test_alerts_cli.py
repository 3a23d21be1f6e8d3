"""End to end: the test newsroom crawled by `backchannel crawl`, alerts received by a
real SMTP server and a loopback Slack/webhook receiver, `backchannel alerts` on top."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest
from conftest import ROOT, run_cli
from newsroom import SEED_LAYOUT, Newsroom, feed_path, publish_seeds, wait_until
from receivers import Reply, SmtpReceiver, free_port

EXPECTED_OUTLETS = [seed.outlet for seed in SEED_LAYOUT]  # DESIGN.md: in date order


@pytest.fixture
def newsroom():
    room = Newsroom()
    yield room
    room.close()


@pytest.fixture
def env(cli_env, smtp, http_receiver) -> dict[str, str]:
    return {**cli_env,
            "BACKCHANNEL_SMTP_URL": smtp.url(),
            "BACKCHANNEL_EMAIL_FROM": "backchannel@newsroom.test",
            "BACKCHANNEL_EMAIL_TO": "desk@newsroom.test,editor@newsroom.test",
            "BACKCHANNEL_SLACK_WEBHOOK_URL": http_receiver.url("/slack"),
            "BACKCHANNEL_WEBHOOK_URL": http_receiver.url("/hook"),
            "BACKCHANNEL_ALERT_BACKOFF_SECONDS": "0.2",
            "BACKCHANNEL_ALERT_WAIT_SECONDS": "10"}


def write_sources(tmp_path, newsroom, seeds) -> str:
    path = tmp_path / "sources.toml"
    path.write_text(newsroom.sources_toml({s.outlet: [feed_path(s)] for s in seeds}),
                    encoding="utf-8")
    return str(path)


def crawl(sources: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    result = run_cli(["crawl", "--all", "--sources", sources], env)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def webhook_outlets(receiver) -> list[str]:
    return [post.body["outlet"] for post in receiver.accepted_at("/hook")]


def slack_outlets(receiver) -> list[str]:
    return [post.body["text"].split(": ", 1)[1].split(" - ")[0]
            for post in receiver.accepted_at("/slack")]


def test_seeds_in_date_order_give_five_alerts_per_channel_once(
        newsroom, seeds_dir, env, db, tmp_path, smtp, http_receiver):
    for n, seed in enumerate(SEED_LAYOUT, 1):
        publish_seeds(newsroom, seeds_dir, [seed])
        result = crawl(write_sources(tmp_path, newsroom, SEED_LAYOUT[:n]), env)
        assert "1 new alert" in result.stdout, (seed.key, result.stdout)
        # the crawl waits for its alerts: they are in before it exits
        assert len(smtp.mails) == n and len(http_receiver.accepted_at("/slack")) == n

    assert [m.message["X-Backchannel-Alert"] for m in smtp.mails] == [
        str(post.body["alert_id"]) for post in http_receiver.accepted_at("/hook")]
    assert webhook_outlets(http_receiver) == EXPECTED_OUTLETS
    assert slack_outlets(http_receiver) == EXPECTED_OUTLETS
    assert [m.subject.split(": ", 1)[1].split(" - ")[0] for m in smtp.mails] == EXPECTED_OUTLETS
    hooks = [post.body for post in http_receiver.accepted_at("/hook")]
    assert [h["kind"] for h in hooks] == ["first_report", "new_outlet", "new_outlet",
                                          "first_report", "new_outlet"]
    assert [h["story"]["position"] for h in hooks] == [1, 2, 3, 1, 2]
    assert [e["outlet"] for e in hooks[2]["earlier"]] == EXPECTED_OUTLETS[:2]
    assert hooks[4]["copy_of"]["outlet"] == EXPECTED_OUTLETS[3]  # the spun Reuters copy
    assert all(h["evidence"] and h["url"].startswith("http://127.0.0.1") for h in hooks)
    assert "Copies the text of " + EXPECTED_OUTLETS[3] in smtp.mails[4].part("plain")

    again = crawl(write_sources(tmp_path, newsroom, SEED_LAYOUT), env)
    assert "0 new alerts" in again.stdout
    assert len(smtp.mails) == 5 and len(http_receiver.accepted) == 10

    listed = run_cli(["alerts", "list", "--format", "json"], env)
    assert listed.returncode == 0, listed.stderr
    alerts = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [a["outlet"] for a in alerts] == EXPECTED_OUTLETS[::-1]  # newest first
    assert all({d["channel"]: d["status"] for d in a["deliveries"]} == {
        "email": "delivered", "slack": "delivered", "webhook": "delivered"} for a in alerts)
    table = run_cli(["alerts", "list"], env).stdout
    assert "webhook: delivered" in table and EXPECTED_OUTLETS[0] in table


def test_a_crawl_killed_before_delivery_delivers_on_the_next_run_once(
        newsroom, seeds_dir, env, db, tmp_path, smtp, http_receiver):
    publish_seeds(newsroom, seeds_dir)
    sources = write_sources(tmp_path, newsroom, SEED_LAYOUT)
    smtp.replies = ["hang"] * 2  # every channel stalls before it accepts anything
    http_receiver.script["/slack"] = [Reply(hang=20)] * 2
    http_receiver.script["/hook"] = [Reply(hang=20)] * 2
    slow = {**env, "BACKCHANNEL_ALERT_TIMEOUT": "30"}
    output = (tmp_path / "crawl.log").open("w+")
    proc = subprocess.Popen([sys.executable, "-m", "backchannel", "crawl", "--all",
                             "--sources", sources], env=slow, cwd=ROOT,
                            stdout=output, stderr=subprocess.STDOUT)
    try:
        stored = wait_until(lambda: count(db, "alerts") == 5, timeout=120)
        sending = wait_until(lambda: len(http_receiver.posts) >= 2, timeout=10)
        # every page stored too (on a loaded machine the last ones come after the alerts)
        everything = wait_until(lambda: count(db, "articles") == len(SEED_LAYOUT) * 2,
                                timeout=60)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    output.seek(0)
    assert stored and sending and everything, output.read()[-3000:]
    assert smtp.mails == [] and http_receiver.accepted == []
    assert count(db, "alert_deliveries WHERE status = 'pending'") == 15

    smtp.replies.clear()
    http_receiver.script.clear()
    result = crawl(sources, env)
    assert "stored 0 new articles" in result.stdout and "0 new alerts" in result.stdout
    assert sorted(webhook_outlets(http_receiver)) == sorted(EXPECTED_OUTLETS)
    assert sorted(slack_outlets(http_receiver)) == sorted(EXPECTED_OUTLETS)
    assert len(smtp.mails) == 5
    assert len({m.message["X-Backchannel-Alert"] for m in smtp.mails}) == 5
    assert count(db, "alert_deliveries WHERE status = 'delivered'") == 15


def count(db, table_and_condition: str) -> int:
    return db.execute(f"SELECT count(*) AS n FROM {table_and_condition}").fetchone()["n"]


def test_a_channel_down_at_first_delivers_later_in_the_same_run(
        newsroom, seeds_dir, env, db, tmp_path, smtp, http_receiver):
    publish_seeds(newsroom, seeds_dir)
    http_receiver.script["/hook"] = [Reply(503, "maintenance"), Reply(502, "bad gateway")]
    crawl(write_sources(tmp_path, newsroom, SEED_LAYOUT), env)
    assert sorted(webhook_outlets(http_receiver)) == sorted(EXPECTED_OUTLETS)
    assert len(http_receiver.posts) - len(http_receiver.accepted) == 2  # the two refusals
    assert len(smtp.mails) == 5 and len(http_receiver.accepted_at("/slack")) == 5


def test_a_channel_down_for_the_whole_run_fails_visibly_and_retries_on_request(
        newsroom, seeds_dir, env, db, tmp_path, smtp, http_receiver):
    publish_seeds(newsroom, seeds_dir)
    http_receiver.script["/hook"] = [Reply(503, "maintenance")] * 50
    down = {**env, "BACKCHANNEL_ALERT_ATTEMPTS": "2", "BACKCHANNEL_ALERT_WAIT_SECONDS": "3"}
    crawled = run_cli(["crawl", "--all", "--sources",
                       write_sources(tmp_path, newsroom, SEED_LAYOUT)], down)
    assert crawled.returncode == 1, crawled.stderr[-3000:]  # stored, but not all delivered
    assert "5 new alerts (0 delivered, 5 not delivered)" in crawled.stdout
    assert "5 alerts not delivered (webhook: 5); `backchannel alerts retry`" in crawled.stderr
    assert webhook_outlets(http_receiver) == []
    assert len(smtp.mails) == 5 and len(http_receiver.accepted_at("/slack")) == 5  # unharmed

    failed = run_cli(["alerts", "list", "--status", "failed"], down)
    assert failed.stdout.count("webhook: failed after 2") == 5
    assert "webhook failed (HTTP 503): maintenance" in failed.stdout

    http_receiver.script.clear()  # the webhook is back
    retried = run_cli(["alerts", "retry"], down)
    assert retried.returncode == 0, retried.stderr
    assert "5 failed deliveries queued again; now 0 pending, 15 delivered, 0 failed" in \
        retried.stdout
    assert sorted(webhook_outlets(http_receiver)) == sorted(EXPECTED_OUTLETS)
    assert len(smtp.mails) == 5 and len(http_receiver.accepted_at("/slack")) == 5


def test_without_channels_alerts_are_recorded_and_logged(newsroom, seeds_dir, cli_env, db,
                                                         tmp_path):
    publish_seeds(newsroom, seeds_dir)
    result = crawl(write_sources(tmp_path, newsroom, SEED_LAYOUT), cli_env)
    assert "5 new alerts" in result.stdout
    logged = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert sorted(e["outlet"] for e in logged if "alert" in e) == sorted(EXPECTED_OUTLETS)
    assert count(db, "alerts") == 5 and count(db, "alert_deliveries") == 0
    listed = run_cli(["alerts", "list"], cli_env)
    assert listed.stdout.count("no channel (log only)") == 5


def test_alerts_test_reports_each_channel_and_why_it_failed(env, smtp, http_receiver):
    ok = run_cli(["alerts", "test"], env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert [line.split(":")[0] for line in ok.stdout.splitlines()] == [
        "email", "slack", "webhook"]
    assert all(": ok (" in line for line in ok.stdout.splitlines())
    assert smtp.mails[0].subject == "backchannel test message"
    assert {p.path for p in http_receiver.accepted} == {"/slack", "/hook"}

    guarded = SmtpReceiver(username="desk", password="right-password")
    try:
        http_receiver.script["/slack"] = [Reply(403, "invalid_token")]
        bad = {**env,
               "BACKCHANNEL_SMTP_URL": guarded.url().replace("right-password", "wrong-pw-123"),
               "BACKCHANNEL_SLACK_WEBHOOK_URL": http_receiver.url("/slack/T00/B00/XSECRETX"),
               "BACKCHANNEL_WEBHOOK_URL": f"http://127.0.0.1:{free_port()}/hook"}
        http_receiver.script["/slack/T00/B00/XSECRETX"] = [Reply(403, "invalid_token")]
        failed = run_cli(["-v", "alerts", "test"], bad)
    finally:
        guarded.close()
    assert failed.returncode == 1
    lines = dict(line.split(": ", 1) for line in failed.stdout.splitlines())
    assert "rejected the credentials" in lines["email"]
    assert "rejected the message (HTTP 403): invalid_token" in lines["slack"]
    assert "unreachable" in lines["webhook"]
    for secret in ("wrong-pw-123", "XSECRETX"):
        assert secret not in failed.stdout + failed.stderr

    only = run_cli(["alerts", "test", "--channel", "webhook"], env)
    assert only.returncode == 0 and only.stdout.startswith("webhook: ok")
    unknown = run_cli(["alerts", "test", "--channel", "pager"], env)
    assert unknown.returncode == 2 and "'pager' is not configured" in unknown.stderr
    none = run_cli(["alerts", "test"], {k: v for k, v in env.items()
                                        if "SMTP" not in k and "WEBHOOK" not in k
                                        and "EMAIL" not in k})
    assert none.returncode == 2 and "no channel is configured" in none.stderr


def test_configuration_errors_name_the_setting_without_its_secret(cli_env):
    env = {**cli_env, "BACKCHANNEL_SMTP_URL": "smtp://desk:pa55word@mail.test:x587",
           "BACKCHANNEL_EMAIL_TO": "desk@newsroom.test"}
    result = run_cli(["alerts", "test"], env)
    assert result.returncode == 2
    assert "smtp_url (BACKCHANNEL_SMTP_URL): the port is not a number" in result.stderr
    assert "pa55word" not in result.stderr

