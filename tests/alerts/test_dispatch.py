"""Delivery from the outbox to real receivers: retries with backoff, Retry-After, giving
up and trying again on request, channels independent of each other, and never twice."""

from __future__ import annotations

import threading
import time

import pytest
from alerting import PHONE_CALL, report
from newsroom import wait_until
from receivers import Reply

from alerts.channels.email import EmailChannel
from alerts.channels.slack import SlackChannel
from alerts.channels.webhook import WebhookChannel
from alerts.dispatch import Dispatcher, RetryPolicy, deliver_due
from alerts.outbox import Outbox, retry_failed
from alerts.rules import Rule
from core.config import Settings

FAST = RetryPolicy(attempts=4, base=0.05)
OUTLETS = ["Harbour Post", "Lakeside Herald", "Valley Times", "Northern Ledger",
           "Coastal Courier"]


def queue_alerts(db, channels: list[str], n: int = 3, **outbox_options) -> list[int]:
    outbox = Outbox(rules=[Rule()], channels=channels, **outbox_options)
    ids = []
    for i, outlet in enumerate(OUTLETS[:n]):
        _, _, created = report(db, outbox, outlet, f"k{i}", f"2025-05-06T0{i + 1}:00:00+00:00",
                               PHONE_CALL + f"Paragraph {i} of {outlet}'s own.")
        ids += created
    assert len(ids) == n
    return ids


def states(db, channel: str) -> list[tuple[str, int]]:
    rows = db.execute("SELECT status, attempts FROM alert_deliveries WHERE channel = %s "
                      "ORDER BY alert_id", (channel,)).fetchall()
    return [(r["status"], r["attempts"]) for r in rows]


def slack(receiver, timeout: float = 5) -> SlackChannel:
    return SlackChannel(receiver.url("/slack"), timeout)


def test_a_channel_down_for_two_attempts_delivers_in_order_after(db, http_receiver):
    ids = queue_alerts(db, ["slack"])
    http_receiver.script["/slack"] = [Reply(503, "down"), Reply(500, "still down")]
    channel = slack(http_receiver)
    deadline = time.monotonic() + 10
    while deliver_due(db, channel, FAST) is not None and time.monotonic() < deadline:
        time.sleep(0.02)
    accepted = http_receiver.accepted_at("/slack")
    assert [p.body["text"].split(": ", 1)[1].split(" - ")[0] for p in accepted] == OUTLETS[:3]
    assert states(db, "slack") == [("delivered", 3), ("delivered", 1), ("delivered", 1)]
    assert len(http_receiver.posts) == 5  # two refused, three accepted, none twice
    assert ids == sorted(ids)


def test_retry_after_is_honoured(db, http_receiver):
    queue_alerts(db, ["slack"], n=1)
    http_receiver.script["/slack"] = [Reply(429, "rate_limited", {"Retry-After": "1"})]
    channel = slack(http_receiver)
    wait = deliver_due(db, channel, FAST)
    assert wait is not None and 0.9 < wait <= 1.0  # not the 0.05 s of our own backoff
    time.sleep(wait)
    assert deliver_due(db, channel, FAST) is None
    first, second = http_receiver.posts
    assert second.at - first.at >= 1.0
    row = db.execute("SELECT status, last_error FROM alert_deliveries").fetchone()
    assert row["status"] == "delivered" and row["last_error"] is None


def test_after_the_last_attempt_it_is_failed_until_retried(db, http_receiver):
    queue_alerts(db, ["webhook"], n=1)
    http_receiver.script["/hook"] = [Reply(502, "bad gateway")] * 4
    channel = WebhookChannel(http_receiver.url("/hook"), 5, "t")
    deadline = time.monotonic() + 10
    while deliver_due(db, channel, FAST) is not None and time.monotonic() < deadline:
        time.sleep(0.02)
    row = db.execute("SELECT status, attempts, last_error FROM alert_deliveries").fetchone()
    assert (row["status"], row["attempts"]) == ("failed", 4)
    assert "HTTP 502" in row["last_error"]
    assert http_receiver.accepted == []
    assert retry_failed(db) == 1
    assert deliver_due(db, channel, FAST) is None
    assert states(db, "webhook") == [("delivered", 1)]
    assert len(http_receiver.accepted_at("/hook")) == 1


def test_a_rejection_fails_at_once(db, http_receiver):
    queue_alerts(db, ["slack"], n=1)
    http_receiver.script["/slack"] = [Reply(404, "no_service")]
    assert deliver_due(db, slack(http_receiver), FAST) is None
    row = db.execute("SELECT status, attempts, last_error FROM alert_deliveries").fetchone()
    assert (row["status"], row["attempts"]) == ("failed", 1)
    assert "no_service" in row["last_error"]


def test_a_hanging_channel_holds_up_no_other(database_url, db, http_receiver, smtp):
    queue_alerts(db, ["slack", "email", "webhook"])
    http_receiver.script["/slack"] = [Reply(hang=4)] * 3
    channels = {
        "slack": slack(http_receiver, timeout=2),
        "email": EmailChannel.from_settings(Settings(smtp_url=smtp.url(),
                                                     email_to="desk@newsroom.test")),
        "webhook": WebhookChannel(http_receiver.url("/hook"), 5, "t"),
    }
    started = time.monotonic()
    dispatcher = Dispatcher(database_url, channels, RetryPolicy(attempts=5, base=10)).start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not (
                len(smtp.mails) == 3 and len(http_receiver.accepted_at("/hook")) == 3):
            time.sleep(0.02)
        others_done = time.monotonic() - started
    finally:
        dispatcher.stop()
    assert len(smtp.mails) == 3 and len(http_receiver.accepted_at("/hook")) == 3
    assert others_done < 1.5  # not behind Slack's 2 s timeout
    assert http_receiver.accepted_at("/slack") == []
    assert states(db, "slack")[0] == ("pending", 1)  # waiting for its retry


def test_two_dispatchers_at_once_send_each_alert_once(database_url, db, http_receiver):
    """A cron job and the daemon (or two daemons) draining the same outbox."""
    ids = queue_alerts(db, ["webhook"], n=5)
    channels = {"webhook": WebhookChannel(http_receiver.url("/hook"), 5, "t")}
    dispatchers = [Dispatcher(database_url, channels, FAST) for _ in range(2)]
    threads = [threading.Thread(target=lambda d=d: d.start().drain(3)) for d in dispatchers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    delivered = sorted(p.body["alert_id"] for p in http_receiver.accepted_at("/hook"))
    assert delivered == sorted(ids)
    assert states(db, "webhook") == [("delivered", 1)] * 5


def test_a_new_alert_wakes_a_waiting_dispatcher(database_url, db, http_receiver):
    channels = {"slack": slack(http_receiver)}
    dispatcher = Dispatcher(database_url, channels, FAST).start()
    try:
        time.sleep(0.3)  # the dispatcher is idle, listening
        queue_alerts(db, ["slack"], n=1)
        stored = time.time()
        assert wait_until(lambda: http_receiver.accepted_at("/slack"), 5)
        latency = http_receiver.accepted_at("/slack")[0].at - stored
    finally:
        dispatcher.stop()
    assert latency < 1.0


def test_a_digest_channel_sends_one_message_per_window(db, http_receiver):
    queue_alerts(db, ["slack"], n=3, digest_minutes={"slack": 1})
    channel = slack(http_receiver)
    wait = deliver_due(db, channel, FAST, digest=True)
    assert wait is not None and 50 < wait <= 60 and http_receiver.posts == []
    db.execute("UPDATE alert_deliveries SET next_attempt_at = now()")  # the window closes
    assert deliver_due(db, channel, FAST, digest=True) is None
    [post] = http_receiver.accepted_at("/slack")
    assert post.body["text"].startswith("3 alerts: new reports from ")
    assert states(db, "slack") == [("delivered", 1)] * 3


@pytest.mark.parametrize("attempts", [1, 2, 3, 6])
def test_backoff_grows_with_jitter_and_respects_retry_after(attempts):
    policy = RetryPolicy(attempts=8, base=2, cap=20)
    step = min(20, 2 * 2 ** (attempts - 1))
    delays = [policy.delay(attempts) for _ in range(200)]
    assert all(step / 2 <= d <= step for d in delays)
    assert len({round(d, 3) for d in delays}) > 100  # jittered
    assert policy.delay(attempts, retry_after=30) == 30
