"""Slack through an Incoming Webhook (slack_sdk), as Block Kit blocks.

Text from articles only ever goes into `plain_text` objects, which Slack never parses,
so a hostile headline cannot add links, mentions or formatting; the one mrkdwn field
holds our own words and the article's link, percent-encoded."""

from __future__ import annotations

import logging
from urllib.error import HTTPError
from urllib.parse import quote

from slack_sdk.webhook import WebhookClient

from alerts.channels import DeliveryError, public_address, redacted, url_secrets
from alerts.channels.http import http_failure, network_failure
from alerts.message import digest_headline, headline, notes, one_line, when
from core.text import quoted

# slack_sdk logs request URLs (the webhook's secret) at debug level; keep it quiet.
_sdk_log = logging.getLogger("alerts.channels.slack.sdk")
_sdk_log.setLevel(logging.WARNING)

HEADER_LIMIT = 150
TEXT_LIMIT = 2900  # a section's text may hold 3000
DIGEST_IN_FULL = 8  # alerts shown in full in a digest (up to 6 blocks each)


def escape_mrkdwn(text: str) -> str:
    """Slack's three control characters, for the few places mrkdwn is unavoidable."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def link(url: str, label: str) -> str:
    safe_url = quote(url, safe=":/?#[]@!$'()*+,;=%~-._&").replace("&", "&amp;")
    return f"<{safe_url}|{escape_mrkdwn(label)}>"


def plain(text: str, limit: int = TEXT_LIMIT) -> dict:
    return {"type": "plain_text", "text": one_line(text, limit) or " ", "emoji": False}


def alert_blocks(facts: dict) -> list[dict]:
    story = facts["story"]
    blocks: list[dict] = [
        {"type": "header", "text": plain(headline(facts), HEADER_LIMIT)},
        {"type": "section", "text": plain(facts["title"] or "(no headline)")},
        {"type": "section", "text": {"type": "mrkdwn", "text": (
            link(facts["url"], "Read the article")
            + f"  ·  published {when(facts['published_at'] or facts['reported_at'])}")}},
    ]
    if facts.get("evidence"):
        blocks.append({"type": "section", "text": plain(quoted(facts["evidence"]))})
    if facts.get("confidence") is not None:
        blocks.append({"type": "context", "elements": [
            plain(f"confidence {facts['confidence']:.2f} that the call status is right")]})
    story_line = (f"Story #{story['id']}: {story['title'] or ''} "
                  f"({story['status']}, outlet {story['position']} of {story['outlets']})")
    earlier = "; ".join(f"{row['outlet']} ({when(row['reported_at'])})"
                        for row in facts["earlier"]) or "no outlet before this one"
    context = [plain(story_line, 1900), plain(f"Reported before by: {earlier}", 1900)]
    context += [plain(note, 1900) for note in notes(facts)]
    blocks.append({"type": "context", "elements": context})
    return blocks


class SlackChannel:
    name = "slack"

    def __init__(self, url: str, timeout: float) -> None:
        self.url = url
        self.secrets = url_secrets(url)
        self.client = WebhookClient(url, timeout=max(1, round(timeout)), retry_handlers=[],
                                    logger=_sdk_log)

    def describe(self) -> str:
        return f"Slack webhook {public_address(self.url)}/…"

    def deliver(self, alerts: list[tuple[int, dict]]) -> str:
        if len(alerts) == 1:
            facts = alerts[0][1]
            return self._send(escape_mrkdwn(headline(facts)), alert_blocks(facts))
        items = [facts for _, facts in alerts]
        blocks: list[dict] = [{"type": "header", "text": plain(digest_headline(items),
                                                               HEADER_LIMIT)}]
        for facts in items[:DIGEST_IN_FULL]:
            blocks += [{"type": "divider"}, *alert_blocks(facts)[1:]]
        rest = items[DIGEST_IN_FULL:]  # Slack takes 50 blocks a message; the rest are named
        if rest:
            names = "; ".join(f"{f['outlet']}: {f['title'] or f['url']}" for f in rest)
            more = plain(f"And {len(rest)} more: {names}")
            blocks.append({"type": "context", "elements": [more]})
        return self._send(escape_mrkdwn(digest_headline(items)), blocks)

    def send_test(self) -> str:
        text = "backchannel test message: alerts will arrive in this channel."
        return self._send(text, [{"type": "section", "text": plain(text)}])

    def _send(self, text: str, blocks: list[dict]) -> str:
        try:
            return self._exchange(text, blocks)
        except DeliveryError as exc:  # whatever the server said, never our URL's secrets
            raise redacted(exc, self.secrets) from None

    def _exchange(self, text: str, blocks: list[dict]) -> str:
        try:
            response = self.client.send(text=text, blocks=blocks)
        except (UnicodeDecodeError, LookupError) as exc:
            # slack_sdk decodes the answer's body after the exchange: undecodable bytes or
            # an unknown charset say nothing about delivery. Raised while handling an
            # HTTPError, the status decides; otherwise the webhook accepted (2xx).
            error = exc.__context__
            if isinstance(error, HTTPError):
                raise http_failure("Slack webhook", error.code, "",
                                   dict(error.headers or {}), self.secrets) from None
            return "accepted by Slack (its answer could not be decoded)"
        except Exception as exc:  # urllib raises several kinds; all mean "not delivered"
            raise network_failure("Slack webhook", exc) from None
        if 200 <= response.status_code < 300:
            return f"accepted by Slack (HTTP {response.status_code})"
        raise http_failure("Slack webhook", response.status_code, response.body or "",
                           dict(response.headers or {}), self.secrets)
