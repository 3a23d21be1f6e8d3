"""Email over SMTP: `smtps://` is TLS from the first byte; `smtp://` upgrades with
STARTTLS whenever the server offers it, and refuses to send a password in clear to
anything but this machine. Each message has a plain-text and an HTML part; everything
from an article is HTML-escaped in the latter."""

from __future__ import annotations

import hashlib
import ipaddress
import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import formatdate, getaddresses
from html import escape
from urllib.parse import unquote, urlsplit

from alerts.channels import DeliveryError, redacted, url_secrets
from alerts.message import (
    digest_headline,
    digest_text,
    headline,
    notes,
    one_line,
    plain_text,
    when,
)
from core.config import ConfigError, Settings

DEFAULT_PORTS = {"smtp": 25, "smtps": 465}


class EmailChannel:
    name = "email"

    def __init__(self, *, scheme: str, host: str, port: int, username: str | None,
                 password: str | None, sender: str, recipients: list[str],
                 timeout: float, url: str | None = None) -> None:
        self.scheme, self.host, self.port = scheme, host, port
        self.username, self.password = username, password
        self.sender, self.recipients, self.timeout = sender, recipients, timeout
        credentials = {value for value in (username, password) if value and len(value) >= 2}
        self.secrets = sorted(credentials.union(url_secrets(url)), key=len, reverse=True)
        self._tls: ssl.SSLContext | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> EmailChannel:
        parts = urlsplit(settings.smtp_url or "")
        where = "smtp_url (BACKCHANNEL_SMTP_URL)"
        if parts.scheme not in DEFAULT_PORTS:
            raise ConfigError(f"{where} must start smtp:// or smtps://, "
                              f"not {parts.scheme or '(nothing)'}://")
        try:
            port = parts.port or DEFAULT_PORTS[parts.scheme]
        except ValueError:
            raise ConfigError(f"{where}: the port is not a number") from None
        if not parts.hostname:
            raise ConfigError(f"{where}: no host name")
        recipients = [addr for _, addr in getaddresses([settings.email_to or ""]) if addr]
        if not recipients:
            raise ConfigError("email_to (BACKCHANNEL_EMAIL_TO) must name at least one "
                              "address when smtp_url is set")
        bad = [addr for addr in recipients if "@" not in addr]
        if bad:
            raise ConfigError(f"email_to (BACKCHANNEL_EMAIL_TO): not an address: {bad}")
        sender = settings.email_from or f"backchannel@{socket.getfqdn()}"
        return cls(scheme=parts.scheme, host=parts.hostname, port=port,
                   username=unquote(parts.username) if parts.username else None,
                   password=unquote(parts.password) if parts.password else None,
                   sender=sender, recipients=recipients, timeout=settings.alert_timeout,
                   url=settings.smtp_url)

    def tls_context(self) -> ssl.SSLContext:
        """Built once per channel, on first use: loading the system's CA certificates
        costs 50-70 ms, more than the rest of a delivery to a nearby server. Dropped after
        a certificate is not trusted, so a CA bundle fixed meanwhile counts on the retry."""
        if self._tls is None:
            self._tls = ssl.create_default_context()
        return self._tls

    def describe(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port} to {', '.join(self.recipients)}"

    def deliver(self, alerts: list[tuple[int, dict]]) -> str:
        items = [facts for _, facts in alerts]
        if len(items) == 1:
            subject, text, html = headline(items[0]), plain_text(items[0]), alert_html(items[0])
        else:
            subject, text = digest_headline(items), digest_text(items)
            html = "<hr>".join(alert_html(facts) for facts in items)
        key = "-".join(str(alert_id) for alert_id, _ in alerts)
        return self._send(self._message(subject, text, html, f"alert-{key}"))

    def send_test(self) -> str:
        text = "This is a test message from backchannel: alerts will arrive at this address.\n"
        return self._send(self._message("backchannel test message", text,
                                        f"<p>{escape(text)}</p>", None))

    def _message(self, subject: str, text: str, html: str, key: str | None) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"] = one_line(subject, 200)
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.recipients)
        msg["Date"] = formatdate(localtime=False)
        if key:  # the same alert always has the same Message-ID: duplicates show as such
            digest = hashlib.sha256(f"{key}|{','.join(self.recipients)}".encode()).hexdigest()
            msg["Message-ID"] = f"<{key}.{digest[:16]}@backchannel>"
            msg["X-Backchannel-Alert"] = key.removeprefix("alert-")
        msg.set_content(text)
        msg.add_alternative(f"<!doctype html><html><body>{html}</body></html>", subtype="html")
        return msg

    def _send(self, msg: EmailMessage) -> str:
        try:
            return self._exchange(msg)
        except DeliveryError as exc:  # whatever the server said, never our credentials
            raise redacted(exc, self.secrets) from None

    def _exchange(self, msg: EmailMessage) -> str:
        where = f"SMTP server {self.host}:{self.port}"
        try:
            if self.scheme == "smtps":
                client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                          context=self.tls_context())
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            try:
                client.ehlo()
                if self.scheme == "smtp" and client.has_extn("starttls"):
                    client.starttls(context=self.tls_context())
                    client.ehlo()
                elif self.scheme == "smtp" and self.password and not _is_loopback(self.host):
                    raise DeliveryError(f"{where} does not offer STARTTLS; refusing to send "
                                        "the password in clear (use smtps://)", transient=False)
                if self.username:
                    client.login(self.username, self.password or "")
                refused = client.send_message(msg)
            finally:
                _hang_up(client)  # once the 250 is in, how the session ends does not matter
        except DeliveryError:
            raise
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(f"{where} rejected the credentials ({exc.smtp_code} "
                                f"{_text(exc.smtp_error)})", transient=False) from None
        except smtplib.SMTPRecipientsRefused as exc:
            codes = {addr: code for addr, (code, _) in exc.recipients.items()}
            transient = all(400 <= code < 500 for code in codes.values())
            raise DeliveryError(f"{where} refused the recipients {codes}",
                                transient=transient) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryError(f"{where}: {exc}", transient=False) from None
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError) as exc:
            raise DeliveryError(f"{where} unreachable: {exc}", transient=True) from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(f"{where} answered {exc.smtp_code} {_text(exc.smtp_error)}",
                                transient=400 <= exc.smtp_code < 500) from None
        except ssl.SSLCertVerificationError as exc:
            self._tls = None
            raise DeliveryError(f"{where}: TLS certificate not trusted: {exc.verify_message}",
                                transient=False) from None
        except TimeoutError:
            raise DeliveryError(f"{where} did not answer in time", transient=True) from None
        except OSError as exc:
            raise DeliveryError(f"{where} unreachable: {exc}", transient=True) from None
        if refused:
            return f"accepted by {where} except for {sorted(refused)}"
        return f"accepted by {where} for {len(self.recipients)} recipient(s)"


def alert_html(facts: dict) -> str:
    """The HTML part: every value escaped; links only to http(s) URLs."""
    story = facts["story"]
    rows = [
        ("Outlet", escape(facts["outlet"])),
        ("Headline", _link(facts["url"], facts["title"] or facts["url"])),
        ("Published", escape(when(facts["published_at"] or facts["reported_at"]))),
        ("Story", escape(f"#{story['id']} {story['title'] or ''} ({story['status']}, "
                         f"outlet {story['position']} of {story['outlets']})")),
    ]
    table = "".join(f"<tr><th align=left>{name}</th><td>{value}</td></tr>" for name, value in rows)
    parts = [f"<h2>{escape(headline(facts))}</h2>", f"<table>{table}</table>"]
    if facts.get("evidence"):
        parts.append(f"<blockquote>{escape(facts['evidence'])}</blockquote>")
    if facts.get("confidence") is not None:
        parts.append(f"<p>Confidence {facts['confidence']:.2f} that the call status is "
                     "right.</p>")
    earlier = "".join(f"<li>{escape(row['outlet'])} ({escape(when(row['reported_at']))})</li>"
                      for row in facts["earlier"])
    parts.append(f"<p>Reported before by:</p><ul>{earlier}</ul>" if earlier
                 else "<p>No outlet reported it before.</p>")
    parts += [f"<p>{escape(note)}</p>" for note in notes(facts)]
    return "\n".join(parts)


def _link(url: str, label: str) -> str:
    if urlsplit(url).scheme not in ("http", "https"):
        return escape(label)
    return f'<a href="{escape(url, quote=True)}">{escape(label)}</a>'


def _hang_up(client: smtplib.SMTP) -> None:
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
