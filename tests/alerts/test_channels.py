"""Each channel against a real receiver on loopback: what a reader gets, that article
text cannot inject markup, and that every way of failing is named and classed."""

from __future__ import annotations

import json
import socket
import threading
from datetime import UTC, datetime, timedelta

import pytest
from receivers import Reply, SmtpReceiver, free_port, self_signed_certificate

from alerts.channels import DeliveryError, channels_from_settings
from alerts.channels.email import EmailChannel
from alerts.channels.http import retry_after
from alerts.channels.slack import SlackChannel
from alerts.channels.webhook import WebhookChannel
from core.config import ConfigError, Settings

HOSTILE = ("<script>alert(1)</script> <!channel> <https://evil.example|click here> "
           "*urgent* \r\nBcc: victim@example.org")


def facts(**overrides) -> dict:
    base = {
        "kind": "new_outlet", "outlet": "Lakeside Herald",
        "title": "Leaders said to have spoken", "url": "https://lakeside.example/b?x=1&y=2",
        "published_at": "2025-05-06T10:30:00+00:00",
        "reported_at": "2025-05-06T10:30:00+00:00", "language": "en",
        "call_status": "unconfirmed",
        "evidence": "Two people familiar with the conversation said the leaders spoke.",
        "story": {"id": 7, "title": "Leaders said to have spoken", "status": "unconfirmed",
                  "first_outlet": "Harbour Post",
                  "first_reported_at": "2025-05-06T08:00:00+00:00",
                  "outlets": 3, "position": 3},
        "earlier": [
            {"outlet": "Harbour Post", "reported_at": "2025-05-06T08:00:00+00:00",
             "title": "t", "url": "https://harbour.example/a"},
            {"outlet": "Valley Times", "reported_at": "2025-05-06T09:10:00+00:00",
             "title": "t", "url": "https://valley.example/a"}],
        "copy_of": {"outlet": "Harbour Post", "title": "t", "url": "https://harbour.example/a",
                    "reported_at": "2025-05-06T08:00:00+00:00"},
        "wire": "Reuters", "rule": "unconfirmed",
    }
    base.update(overrides)
    return base


def email_channel(smtp: SmtpReceiver, **settings) -> EmailChannel:
    return EmailChannel.from_settings(Settings(
        smtp_url=settings.pop("url", smtp.url()), email_from="alerts@backchannel.test",
        email_to="desk@newsroom.test, editor@newsroom.test", alert_timeout=5, **settings))


# --- email ---------------------------------------------------------------------------

def test_email_is_multipart_with_every_fact(smtp):
    receipt = email_channel(smtp).deliver([(42, facts())])
    assert "accepted" in receipt
    [mail] = smtp.mails
    assert mail.envelope_to == ["desk@newsroom.test", "editor@newsroom.test"]
    assert mail.subject == ("Outlet 3 of an unconfirmed call story: Lakeside Herald - "
                            "Leaders said to have spoken")
    text, html = mail.part("plain"), mail.part("html")
    for expected in ("Lakeside Herald", "https://lakeside.example/b?x=1&y=2",
                     "2025-05-06 10:30", "Two people familiar with the conversation",
                     "Harbour Post (2025-05-06 08:00", "Valley Times (2025-05-06 09:10",
                     "Copies the text of Harbour Post", "Reuters", "#7"):
        assert expected in text, expected
    assert 'href="https://lakeside.example/b?x=1&amp;y=2"' in html
    assert "<blockquote>Two people familiar" in html
    assert mail.message["Message-ID"].startswith("<alert-42.")
    assert mail.message["X-Backchannel-Alert"] == "42"


def test_email_escapes_hostile_article_text(smtp):
    email_channel(smtp).deliver([(1, facts(title=HOSTILE, evidence=HOSTILE,
                                           outlet="<b>Bold</b> Outlet"))])
    [mail] = smtp.mails
    html = mail.part("html")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>Bold</b>" not in html and "&lt;b&gt;Bold&lt;/b&gt;" in html
    assert mail.message["Bcc"] is None  # no header injection through the subject
    assert mail.envelope_to == ["desk@newsroom.test", "editor@newsroom.test"]
    assert "\n" not in mail.subject


def test_email_digest_lists_every_alert(smtp):
    email_channel(smtp).deliver([(1, facts(outlet="Harbour Post")),
                                 (2, facts(outlet="Valley Times"))])
    [mail] = smtp.mails
    assert mail.subject == "2 alerts: new reports from Harbour Post, Valley Times"
    assert "1 of 2" in mail.part("plain") and "2 of 2" in mail.part("plain")


def test_email_logs_in_and_names_bad_credentials_without_the_password():
    server = SmtpReceiver(username="bc", password="s3cret-pass")
    try:
        channel = email_channel(server)
        assert "accepted" in channel.deliver([(1, facts())])
        wrong = email_channel(server, url=server.url().replace("s3cret-pass", "wrong-pass"))
        with pytest.raises(DeliveryError) as failure:
            wrong.deliver([(2, facts())])
        assert not failure.value.transient
        assert "rejected the credentials" in failure.value.reason
        assert "wrong-pass" not in failure.value.reason
        assert len(server.mails) == 1
    finally:
        server.close()


def test_email_failures_are_classed(smtp):
    smtp.replies = ["451 4.3.0 try again later", "554 5.7.1 message refused"]
    channel = email_channel(smtp)
    with pytest.raises(DeliveryError) as soft:
        channel.deliver([(1, facts())])
    assert soft.value.transient and "451" in soft.value.reason
    with pytest.raises(DeliveryError) as hard:
        channel.deliver([(1, facts())])
    assert not hard.value.transient and "554" in hard.value.reason
    closed = email_channel(smtp, url=f"smtp://127.0.0.1:{free_port()}")
    with pytest.raises(DeliveryError) as down:
        closed.deliver([(1, facts())])
    assert down.value.transient and "unreachable" in down.value.reason


@pytest.mark.parametrize("tls", ["starttls", "implicit"])
def test_email_over_tls_with_a_trusted_certificate(tls, tmp_path, monkeypatch):
    certificate = self_signed_certificate(tmp_path)
    server = SmtpReceiver(username="desk", password="tls-pass", tls=tls,
                          certificate=certificate)
    try:
        url = server.url("smtps" if tls == "implicit" else "smtp")
        channel = email_channel(server, url=url)
        with pytest.raises(DeliveryError) as untrusted:  # not trusted yet
            channel.deliver([(1, facts())])
        assert not untrusted.value.transient and "not trusted" in untrusted.value.reason
        monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
        assert "accepted" in channel.deliver([(2, facts())])
    finally:
        server.close()
    assert [m.message["X-Backchannel-Alert"] for m in server.mails] == ["2"]


def own_address() -> str | None:
    """This machine's address on its main interface (no packet is sent), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: routing lookup only
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def test_email_refuses_a_password_in_clear_to_another_host():
    """A server that offers no STARTTLS gets no password, unless it is this machine."""
    address = own_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address to stand for another host")
    received: list[bytes] = []
    with socket.socket() as listener:  # an SMTP server that offers AUTH but no STARTTLS
        listener.bind((address, 0))
        listener.listen()
        port = listener.getsockname()[1]

        def serve() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.sendall(b"220 test ESMTP\r\n")
                received.append(conn.recv(1024))
                conn.sendall(b"250-test\r\n250 AUTH PLAIN\r\n")
                received.append(conn.recv(1024))

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        channel = EmailChannel(scheme="smtp", host=address, port=port, username="u",
                               password="p4ss", sender="a@b.test", recipients=["c@d.test"],
                               timeout=5)
        with pytest.raises(DeliveryError) as refused:
            channel.deliver([(1, facts())])
        thread.join(5)
    assert not refused.value.transient and "STARTTLS" in refused.value.reason
    assert not any(b"AUTH" in line for line in received)


# --- Slack ---------------------------------------------------------------------------

def mrkdwn_texts(blocks: list[dict]) -> list[str]:
    found = []

    def walk(node) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(blocks)
    return found


def test_slack_gets_block_kit_with_every_fact(http_receiver):
    SlackChannel(http_receiver.url("/slack"), 5).deliver([(1, facts())])
    [post] = http_receiver.accepted_at("/slack")
    body = json.dumps(post.body)
    assert post.body["blocks"][0]["type"] == "header"
    for expected in ("Lakeside Herald", "Leaders said to have spoken",
                     "Two people familiar with the conversation", "Harbour Post (2025-05-06 08:00",
                     "Copies the text of Harbour Post", "Reuters", "outlet 3 of 3"):
        assert expected in body, expected
    assert "<https://lakeside.example/b?x=1&amp;y=2|Read the article>" in mrkdwn_texts(
        post.body["blocks"])[0]


def test_slack_article_text_never_reaches_mrkdwn(http_receiver):
    hostile_url = "https://evil.example/a|b>c <!here>"
    SlackChannel(http_receiver.url("/slack"), 5).deliver(
        [(1, facts(title=HOSTILE, evidence=HOSTILE, outlet="<!channel>", url=hostile_url))])
    [post] = http_receiver.accepted_at("/slack")
    for text in [*mrkdwn_texts(post.body["blocks"]), post.body["text"]]:
        assert "<!channel>" not in text and "<!here>" not in text
        assert "<https://evil.example|" not in text
    link = mrkdwn_texts(post.body["blocks"])[0]
    assert link.startswith("<https://evil.example/a%7Cb%3Ec%20%3C!here%3E|")
    # the hostile words are still shown, as plain text that Slack does not parse
    plain = [b["text"]["text"] for b in post.body["blocks"]
             if b.get("text", {}).get("type") == "plain_text"]
    assert any("<!channel> <https://evil.example|click here> *urgent*" in t for t in plain)


def test_slack_failures_are_classed(http_receiver):
    http_receiver.script["/slack"] = [
        Reply(429, "rate_limited", {"Retry-After": "7"}),
        Reply(500, "internal_error"),
        Reply(403, "invalid_token"),
    ]
    channel = SlackChannel(http_receiver.url("/slack"), 5)
    errors = []
    for _ in range(3):
        with pytest.raises(DeliveryError) as failure:
            channel.deliver([(1, facts())])
        errors.append(failure.value)
    assert errors[0].transient and errors[0].retry_after == 7
    assert errors[1].transient and "HTTP 500" in errors[1].reason
    assert not errors[2].transient and "rejected" in errors[2].reason
    assert "invalid_token" in errors[2].reason
    assert http_receiver.accepted_at("/slack") == []


# --- the JSON webhook ------------------------------------------------------------------

def test_webhook_posts_the_facts_with_an_idempotency_key(http_receiver):
    WebhookChannel(http_receiver.url("/hook"), 5, "backchannel-test").deliver([(9, facts())])
    [post] = http_receiver.accepted_at("/hook")
    assert post.body["type"] == "alert" and post.body["alert_id"] == 9
    assert post.body["outlet"] == "Lakeside Herald"
    assert post.body["earlier"][0]["outlet"] == "Harbour Post"
    assert post.headers["idempotency-key"] == "backchannel-alert-9"
    assert post.headers["content-type"].startswith("application/json")


def test_webhook_that_hangs_times_out_as_a_passing_failure(http_receiver):
    http_receiver.script["/hook"] = [Reply(hang=3)]
    with pytest.raises(DeliveryError) as failure:
        WebhookChannel(http_receiver.url("/hook"), 1, "t").deliver([(1, facts())])
    assert failure.value.transient and "in time" in failure.value.reason


def test_retry_after_reads_seconds_and_dates():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert retry_after("30") == 30
    assert retry_after((now + timedelta(seconds=90)).strftime("%a, %d %b %Y %H:%M:%S GMT"),
                       now) == 90
    assert retry_after("soon") is None and retry_after(None) is None
    assert retry_after("999999") == 3600  # capped


# --- configuration -------------------------------------------------------------------

def test_channels_come_from_configuration_and_keep_secrets_out_of_descriptions():
    settings = Settings(smtp_url="smtps://bc:hunter22@mail.example.org",
                        email_to="a@example.org",
                        slack_webhook_url="https://hooks.slack.com/services/T0/B0/SECRETPATH",
                        webhook_url="https://hooks.example.org/in?token=SECRETQUERY")
    channels = channels_from_settings(settings)
    assert set(channels) == {"email", "slack", "webhook"}
    described = " ".join(channel.describe() for channel in channels.values())
    assert "mail.example.org:465" in described
    for secret in ("hunter22", "SECRETPATH", "SECRETQUERY"):
        assert secret not in described
        assert secret not in repr(settings)
    assert channels_from_settings(Settings()) == {}
    for bad, message in [
        (Settings(smtp_url="imap://x", email_to="a@b.c"), "must start smtp"),
        (Settings(smtp_url="smtp://x"), "email_to"),
        (Settings(email_to="a@b.c"), "smtp_url is not"),
        (Settings(slack_webhook_url="hooks.slack.com/x"), "slack_webhook_url"),
    ]:
        with pytest.raises(ConfigError, match=message):
            channels_from_settings(bad)
