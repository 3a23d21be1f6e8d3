"""Alert channels. Each one turns alert facts into its own kind of message and sends
it; a failure is a `DeliveryError` that says whether trying again could help."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol
from urllib.parse import parse_qsl, unquote, unquote_plus, urlsplit

from core.config import ConfigError, Settings
from core.logs import REDACTED, add_secret


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
    secrets: list[str]  # what its error texts must never show (url_secrets)

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


# A path segment this long that is not a plain lowercase word ("services", "hooks") is
# taken for a token, and hidden wherever it shows up alone.
TOKEN_SEGMENT = 6


def url_secrets(url: str | None) -> list[str]:
    """The secret parts of a channel's URL, as they may come back in a server's error
    text ("Cannot POST /services/T0…/B0…/XoXo…"): the path and query whole, each query
    value, each token-like path segment, the user name and password; raw and
    percent-decoded. Longest first, so that a part is hidden before its pieces."""
    if not url:
        return []
    parts = urlsplit(url)
    found = [parts.username, parts.password]
    if parts.path.strip("/"):
        found.append(parts.path)
        found += [segment for segment in parts.path.split("/") if len(segment) >= TOKEN_SEGMENT
                  and not (segment.isalpha() and segment.islower())]
    if parts.query:
        found.append(parts.query)
        found += [value for _, value in parse_qsl(parts.query, keep_blank_values=True)]
    if parts.fragment:
        found.append(parts.fragment)
    pieces = {piece for raw in found if raw
              for piece in (raw, unquote(raw), unquote_plus(raw)) if len(piece) >= 2}
    return sorted(pieces, key=len, reverse=True)


def redact_text(text: str, secrets: Iterable[str]) -> str:
    """The text with every one of `secrets` replaced by ***."""
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text


def redacted(error: DeliveryError, secrets: Iterable[str]) -> DeliveryError:
    """The same failure, its reason without the channel's secrets."""
    return DeliveryError(redact_text(error.reason, secrets), transient=error.transient,
                         retry_after=error.retry_after)


def register_secrets(secrets: Iterable[str]) -> None:
    """The log filter hides these too, whoever logs them (the long ones: short pieces
    such as a two-letter user name would blot out ordinary words)."""
    for secret in secrets:
        if len(secret) >= TOKEN_SEGMENT:
            add_secret(secret)


def channels_from_settings(settings: Settings) -> dict[str, Channel]:
    """The configured channels, by name. Secrets are registered with the log filter."""
    from alerts.channels.email import EmailChannel
    from alerts.channels.slack import SlackChannel
    from alerts.channels.webhook import WebhookChannel

    channels: dict[str, Channel] = {}
    for secret in (settings.smtp_url, settings.slack_webhook_url, settings.webhook_url):
        add_secret(secret)
        register_secrets(url_secrets(secret))
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
