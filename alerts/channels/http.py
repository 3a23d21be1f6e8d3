"""What HTTP answers mean for a delivery: 2xx accepted, 429 and 5xx worth another try
(after Retry-After when given), other 4xx a rejection that retrying will not cure."""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from datetime import datetime

from alerts.channels import DeliveryError, redact_text
from core.headers import retry_after as parse_retry_after

MAX_RETRY_AFTER = 3600.0
BODY_IN_ERROR = 200


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    return parse_retry_after(value, now, cap=MAX_RETRY_AFTER)


def http_failure(what: str, status: int, body: str, headers: dict[str, str],
                 secrets: Iterable[str] = ()) -> DeliveryError:
    """The failure for an HTTP answer; the server's body is quoted (shortened) without
    the channel's `secrets`, hidden before the cut so that no part of one is left."""
    detail = redact_text(" ".join(body.split()), secrets)[:BODY_IN_ERROR]
    detail = f": {detail}" if detail else ""
    if status == 429:
        wait = retry_after(_header(headers, "retry-after"))
        after = f", retry after {wait:.0f} s" if wait is not None else ""
        return DeliveryError(f"{what} rate-limited (HTTP 429{after}){detail}",
                             transient=True, retry_after=wait)
    if status >= 500 or status in (408, 425):
        return DeliveryError(f"{what} failed (HTTP {status}){detail}", transient=True,
                             retry_after=retry_after(_header(headers, "retry-after")))
    return DeliveryError(f"{what} rejected the message (HTTP {status}){detail}",
                         transient=False)


def network_failure(what: str, exc: BaseException) -> DeliveryError:
    """A connection that failed or timed out is worth retrying; a TLS certificate that
    does not verify is a configuration problem, not a passing one."""
    reason = getattr(exc, "reason", None) or exc
    if isinstance(reason, ssl.SSLCertVerificationError):
        return DeliveryError(f"{what}: TLS certificate not trusted: {reason}", transient=False)
    if isinstance(reason, TimeoutError):
        return DeliveryError(f"{what} did not answer in time", transient=True)
    return DeliveryError(f"{what} unreachable: {reason}", transient=True)


def _header(headers: dict[str, str], name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return value
    return None
