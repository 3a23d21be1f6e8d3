"""Channels whose receivers (or a proxy in front of them) echo the request path, query
or credentials in their error answers: the secret shows in none of `alerts test`'s
output, the log, or alert_deliveries.last_error."""

from __future__ import annotations

import logging

from alerting import PHONE_CALL, report
from conftest import run_cli
from receivers import Reply, SmtpReceiver

from alerts.dispatch import RetryPolicy, deliver_due
from alerts.outbox import Outbox
from alerts.rules import Rule
from alerts.wiring import wiring_from_settings
from core.config import load_settings

SLACK_PATH = "/services/T0HARBOUR1/B0LEDGER22/XoXoSlackSecret77"
HOOK_PATH = "/relay/hook"
HOOK_QUERY = "token=Tok3nOfTheHook&tenant=desk-7"
SMTP_USER, SMTP_PASSWORD = "desk-bot", "Hunter2Harbour"
SECRETS = ["T0HARBOUR1", "B0LEDGER22", "XoXoSlackSecret77", "Tok3nOfTheHook",
           "desk-7", SMTP_PASSWORD, SMTP_USER]
ONCE = RetryPolicy(attempts=1, base=0.05)


def echoing_receivers(http_receiver, smtp: SmtpReceiver) -> dict[str, str]:
    """Each channel's URL, its receiver scripted to quote the secret back: the path as
    an Express-style 404, the query raw and percent-encoded behind a gateway, the
    credentials in an SMTP refusal."""
    http_receiver.script[SLACK_PATH] = [Reply(404, f"Cannot POST {SLACK_PATH}")] * 3
    hook = f"{HOOK_PATH}?{HOOK_QUERY}"
    encoded = HOOK_QUERY.replace("=", "%3D").replace("&", "%26")
    http_receiver.script[hook] = [Reply(502, f"upstream {hook} failed (query {encoded}); "
                                             "token Tok3nOfTheHook unknown " + "x" * 300)] * 3
    smtp.replies = [f"554 relay denied for {SMTP_USER} with password {SMTP_PASSWORD}"] * 3
    return {"BACKCHANNEL_SLACK_WEBHOOK_URL": http_receiver.url(SLACK_PATH),
            "BACKCHANNEL_WEBHOOK_URL": http_receiver.url(hook),
            "BACKCHANNEL_SMTP_URL": smtp.url(),
            "BACKCHANNEL_EMAIL_TO": "desk@newsroom.test"}


def test_alerts_test_prints_no_secret_a_receiver_echoes(cli_env, http_receiver):
    smtp = SmtpReceiver(SMTP_USER, SMTP_PASSWORD)
    try:
        env = {**cli_env, **echoing_receivers(http_receiver, smtp)}
        result = run_cli(["alerts", "test"], env)
    finally:
        smtp.close()
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "slack: FAILED" in output and "HTTP 404" in output and "Cannot POST" in output
    assert "webhook: FAILED" in output and "HTTP 502" in output
    assert "email: FAILED" in output and "554 relay denied" in output
    assert len(http_receiver.posts) == 2  # both really asked, and really refused
    for secret in SECRETS:
        assert secret not in output, secret


def test_failed_deliveries_store_and_log_no_secret(db, database_url, http_receiver, caplog):
    smtp = SmtpReceiver(SMTP_USER, SMTP_PASSWORD)
    try:
        env = {"BACKCHANNEL_DATABASE_URL": database_url,
               **echoing_receivers(http_receiver, smtp)}
        channels = wiring_from_settings(load_settings(env)).channels
        outbox = Outbox(rules=[Rule()], channels=sorted(channels))
        _, _, alerts = report(db, outbox, "Harbour Post", "k1", "2025-05-06T01:00:00+00:00",
                              PHONE_CALL)
        assert len(alerts) == 1
        with caplog.at_level(logging.INFO):
            for channel in channels.values():
                deliver_due(db, channel, ONCE)
    finally:
        smtp.close()
    rows = db.execute("SELECT channel, status, last_error FROM alert_deliveries "
                      "ORDER BY channel").fetchall()
    assert [(r["channel"], r["status"]) for r in rows] == [
        ("email", "failed"), ("slack", "failed"), ("webhook", "failed")]
    errors = {r["channel"]: r["last_error"] for r in rows}
    assert "Cannot POST" in errors["slack"] and "HTTP 502" in errors["webhook"]
    assert "554 relay denied" in errors["email"]
    logged = caplog.text
    assert "failed after 1 attempt" in logged
    for secret in SECRETS:
        for where, text in [*errors.items(), ("log", logged)]:
            assert secret not in text, (secret, where)
