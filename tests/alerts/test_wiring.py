"""alerts/wiring.py, the one place that builds alert delivery for `crawl`, `run` and
`alerts`: one configuration gives every command the same channels and outbox; one
channel can be picked out; nothing touches a database before one is needed."""

from __future__ import annotations

import pytest
from conftest import run_cli
from newsroom import SEED_LAYOUT, Newsroom, feed_path, publish_seeds

from alerts.wiring import wiring_from_settings
from core.config import ConfigError, Settings

RULES = [{"name": "desk", "channels": ["email"]}, {"name": "everyone"}]


def configured(tmp_path, **extra) -> Settings:
    return Settings(home=tmp_path / "home", smtp_url="smtp://127.0.0.1:2525",
                    email_to="desk@newsroom.test", slack_webhook_url="http://127.0.0.1:9/s",
                    webhook_url="http://127.0.0.1:9/hook", extra=extra)


def test_the_configured_channels_and_an_outbox_over_them(tmp_path):
    wiring = wiring_from_settings(configured(tmp_path, alert_rules=RULES))
    assert list(wiring.channels) == ["email", "slack", "webhook"]
    assert wiring.outbox.channels == ["email", "slack", "webhook"]
    assert [rule.name for rule in wiring.outbox.rules] == ["desk", "everyone"]
    assert wiring.dispatcher is None  # nothing started
    # no database URL resolved yet: the embedded server was not started for it
    assert not (tmp_path / "home").exists()


def test_one_channel_picked_out_keeps_the_outbox_of_all(tmp_path):
    wiring = wiring_from_settings(configured(tmp_path, alert_rules=RULES))
    webhook = wiring.only("webhook")
    assert list(webhook.channels) == ["webhook"]
    assert webhook.outbox.channels == ["email", "slack", "webhook"]
    assert list(wiring.channels) == ["email", "slack", "webhook"]  # the original unchanged
    with pytest.raises(ConfigError, match=r"channel 'pager' is not configured "
                                          r"\(configured: email, slack, webhook\)"):
        wiring.only("pager")


def test_a_rule_naming_an_unconfigured_channel_is_refused(tmp_path):
    settings = Settings(home=tmp_path / "home", webhook_url="http://127.0.0.1:9/hook",
                        extra={"alert_rules": RULES})
    with pytest.raises(ConfigError, match="alert rule 'desk': channels \\['email'\\]"):
        wiring_from_settings(settings)


@pytest.fixture
def env(cli_env, smtp, http_receiver) -> dict[str, str]:
    return {**cli_env,
            "BACKCHANNEL_SMTP_URL": smtp.url(),
            "BACKCHANNEL_EMAIL_FROM": "backchannel@newsroom.test",
            "BACKCHANNEL_EMAIL_TO": "desk@newsroom.test",
            "BACKCHANNEL_SLACK_WEBHOOK_URL": http_receiver.url("/slack"),
            "BACKCHANNEL_WEBHOOK_URL": http_receiver.url("/hook"),
            "BACKCHANNEL_ALERT_WAIT_SECONDS": "10"}


def test_alerts_test_and_crawl_deliver_to_the_same_channels(seeds_dir, env, db, tmp_path,
                                                            smtp, http_receiver):
    tested = run_cli(["alerts", "test"], env)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    channels = [line.split(":")[0] for line in tested.stdout.splitlines()]
    assert channels == ["email", "slack", "webhook"]

    room = Newsroom()
    try:
        seed = SEED_LAYOUT[0]
        publish_seeds(room, seeds_dir, [seed])
        sources = tmp_path / "sources.toml"
        sources.write_text(room.sources_toml({seed.outlet: [feed_path(seed)]}),
                           encoding="utf-8")
        crawled = run_cli(["crawl", "--sources", str(sources)], env)
    finally:
        room.close()
    assert crawled.returncode == 0, crawled.stderr[-3000:]
    assert "1 new alert" in crawled.stdout
    rows = db.execute("SELECT channel, status FROM alert_deliveries ORDER BY channel")
    assert [(row["channel"], row["status"]) for row in rows] == [
        (name, "delivered") for name in channels]
    assert len(smtp.mails) == 2  # the test message, then the alert
    assert [p.path for p in http_receiver.accepted].count("/hook") == 2


def test_retry_of_one_channel_while_a_rule_routes_to_another(env, db, tmp_path):
    config = tmp_path / "backchannel.toml"
    config.write_text('[[alert_rules]]\nname = "desk"\nchannels = ["email"]\n',
                      encoding="utf-8")
    retried = run_cli(["alerts", "retry", "--channel", "webhook"],
                      {**env, "BACKCHANNEL_CONFIG": str(config)})
    assert retried.returncode == 0, retried.stderr
    assert "0 failed deliveries queued again; now 0 pending, 0 delivered, 0 failed" in \
        retried.stdout
    unknown = run_cli(["alerts", "retry", "--channel", "pager"], env)
    assert unknown.returncode == 2
    assert "channel 'pager' is not configured (configured: email, slack, webhook)" in \
        unknown.stderr
