"""Article URL normalisation, so one page is one article however many feeds list it."""

from __future__ import annotations

from urllib.parse import urldefrag, urljoin, urlsplit

import courlan

FETCHABLE_SCHEMES = ("http", "https")


class BadURL(ValueError):
    """The URL cannot be fetched (wrong scheme, no host, unparsable)."""


def normalize_url(url: str, base: str | None = None) -> str:
    """Absolute, lower-cased host, default port dropped, tracking parameters
    (utm_*, fbclid, …) and the fragment removed. Raises BadURL for javascript:,
    mailto: and other links that name no web page."""
    raw = (url or "").strip()
    if not raw:
        raise BadURL("empty URL")
    if base:
        raw = urljoin(base, raw)
    try:
        parts = urlsplit(raw)
    except ValueError as exc:
        raise BadURL(f"unparsable URL {raw[:200]!r}: {exc}") from None
    if parts.scheme.lower() not in FETCHABLE_SCHEMES:
        raise BadURL(f"not an http(s) URL: {raw[:200]!r}")
    if not parts.hostname:
        raise BadURL(f"URL has no host: {raw[:200]!r}")
    try:
        cleaned = courlan.normalize_url(raw, strict=False)
    except Exception as exc:  # courlan raises several kinds on odd input
        raise BadURL(f"unparsable URL {raw[:200]!r}: {exc}") from None
    return urldefrag(cleaned).url


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def site_of(url: str) -> str:
    """Host with its port when the port is not the scheme's default: two servers on
    one address but different ports are different sites."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    return f"{host}:{port}" if port and port != default else host
