"""Alert channels. Each one turns alert facts into its own kind of message and sends
it; a failure is a `DeliveryError` that says whether trying again could help."""

from __future__ import annotations

from typing import Protocol
from urllib.parse import urlsplit

from core.config import ConfigError, Settings
from core.logs import add_secret


class DeliveryError(Exception):
    """A channel did not accept a message. `transient` failures are retried (after
    `retry_after` seconds when the receiver said so); the others fail at once."""

    def __init__(self, reason: str, *, transient: bool, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.transient = transient
        self.retry_after = retry_after


class Channel(Protocol):
    name: str

    def describe(self) -> str:
        """Where messages go, with no secret in it."""

    def deliver(self, alerts: list[tuple[int, dict]]) -> str:
        """Send one alert, or a digest of several; return what the receiver said."""

    def send_test(self) -> str:
        """Send a message that says it is a test."""


def public_address(url: str) -> str:
    """scheme://host:port of a URL: no user, password, path or query (webhook paths and
    queries hold tokens)."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


def channels_from_settings(settings: Settings) -> dict[str, Channel]:
    """The configured channels, by name. Secrets are registered with the log filter."""
    from alerts.channels.email import EmailChannel
    from alerts.channels.slack import SlackChannel
    from alerts.channels.webhook import WebhookChannel

    channels: dict[str, Channel] = {}
    for secret in (settings.smtp_url, settings.slack_webhook_url, settings.webhook_url):
        add_secret(secret)
    if settings.smtp_url:
        channel = EmailChannel.from_settings(settings)
        add_secret(channel.password)
        channels[channel.name] = channel
    elif settings.email_to:
        raise ConfigError("email_to is set but smtp_url is not (BACKCHANNEL_SMTP_URL)")
    if settings.slack_webhook_url:
        _check_http_url(settings.slack_webhook_url, "slack_webhook_url")
        channels["slack"] = SlackChannel(settings.slack_webhook_url, settings.alert_timeout)
    if settings.webhook_url:
        _check_http_url(settings.webhook_url, "webhook_url")
        channels["webhook"] = WebhookChannel(settings.webhook_url, settings.alert_timeout,
                                             settings.user_agent)
    return channels


def _check_http_url(url: str, key: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{key} must be an http:// or https:// URL "
                          f"(BACKCHANNEL_{key.upper()}); got one starting {parts.scheme or '?'}:")
