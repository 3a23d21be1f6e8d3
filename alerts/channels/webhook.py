"""A generic JSON webhook: the alert's facts as one JSON document per message, with an
Idempotency-Key so that a receiver can drop the rare duplicate (a crash after the
receiver accepted but before we recorded it)."""

from __future__ import annotations

import json
import urllib.request
from urllib.error import HTTPError

from alerts.channels import DeliveryError, public_address, redacted, url_secrets
from alerts.channels.http import http_failure, network_failure


class WebhookChannel:
    name = "webhook"

    def __init__(self, url: str, timeout: float, user_agent: str) -> None:
        self.url = url
        self.timeout = timeout
        self.user_agent = user_agent
        self.secrets = url_secrets(url)

    def describe(self) -> str:
        return f"JSON webhook {public_address(self.url)}/…"

    def deliver(self, alerts: list[tuple[int, dict]]) -> str:
        ids = [alert_id for alert_id, _ in alerts]
        if len(alerts) == 1:
            alert_id, facts = alerts[0]
            document = {"type": "alert", "alert_id": alert_id, **facts}
        else:
            document = {"type": "digest", "alert_ids": ids,
                        "alerts": [{"alert_id": i, **facts} for i, facts in alerts]}
        key = "backchannel-alert-" + "-".join(str(i) for i in ids)
        return self._post(document, key)

    def send_test(self) -> str:
        return self._post({"type": "test", "text": "backchannel test message"}, None)

    def _post(self, document: dict, idempotency_key: str | None) -> str:
        try:
            return self._exchange(document, idempotency_key)
        except DeliveryError as exc:  # whatever the server said, never our URL's secrets
            raise redacted(exc, self.secrets) from None

    def _exchange(self, document: dict, idempotency_key: str | None) -> str:
        headers = {"Content-Type": "application/json; charset=utf-8",
                   "User-Agent": self.user_agent}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        body = json.dumps(document, ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read(65536)
                return f"accepted by the webhook (HTTP {response.status})"
        except HTTPError as exc:
            text = exc.read(4096).decode("utf-8", "replace") if exc.fp else ""
            raise http_failure("webhook", exc.code, text, dict(exc.headers or {}),
                               self.secrets) from None
        except DeliveryError:
            raise
        except Exception as exc:
            raise network_failure("webhook", exc) from None
