"""Article URL normalisation, so one page is one article however many feeds list it."""

from __future__ import annotations

import re
from urllib.parse import urldefrag, urljoin, urlsplit

import courlan

FETCHABLE_SCHEMES = ("http", "https")
# Longer URLs are refused: no real article URL is this long (the sitemap protocol caps
# URLs at 2,048 characters), and a URL must fit a btree index entry of the archive.
MAX_URL_BYTES = 2048
# Characters no host name can hold (IPv6 literals lose their brackets in urlsplit).
_BAD_HOST = re.compile(r"[\x00-\x20\x7f-\x9f<>\"{}|\\^`%/?#@\[\]\ufffd]")
# What a normalised URL must not contain: controls, spaces, lone surrogates.
_UNSAFE = re.compile(r"[\x00-\x20\x7f-\x9f\ud800-\udfff]")


class BadURL(ValueError):
    """The URL cannot be fetched (wrong scheme, no host, unparsable)."""


def normalize_url(url: str, base: str | None = None) -> str:
    """Absolute, lower-cased host, default port dropped, tracking parameters
    (utm_*, fbclid, …) and the fragment removed. Raises BadURL for javascript:,
    mailto: and other links that name no web page."""
    raw = (url or "").strip()
    if not raw:
        raise BadURL("empty URL")
    try:
        if base:
            raw = urljoin(base, raw)
    except ValueError as exc:  # "Invalid IPv6 URL"
        raise BadURL(f"unparsable URL {raw[:200]!r}: {exc}") from None
    _check_parts(raw, raw)
    # courlan is not always idempotent (it reads "&lt;" in a host as "<", for one): its
    # output is checked like the input and normalised again until it stays the same.
    url = raw
    for _ in range(3):
        try:
            cleaned = urldefrag(courlan.normalize_url(url, strict=False)).url
        except Exception as exc:  # courlan raises several kinds on odd input
            raise BadURL(f"unparsable URL {raw[:200]!r}: {exc}") from None
        _check_parts(cleaned, raw)
        if _UNSAFE.search(cleaned):
            raise BadURL(f"URL holds control characters: {raw[:200]!r}")
        if len(cleaned.encode("utf-8")) > MAX_URL_BYTES:
            raise BadURL(f"URL longer than {MAX_URL_BYTES} bytes: {raw[:200]!r}…")
        if cleaned == url:
            return cleaned
        url = cleaned
    raise BadURL(f"URL does not normalise to one form: {raw[:200]!r}")


def _check_parts(url: str, raw: str) -> None:
    """BadURL unless `url` is http(s) with a valid host and port (`raw`: for messages)."""
    try:
        parts = urlsplit(url)
        hostname, port = parts.hostname, parts.port  # both parse, and may raise
    except ValueError as exc:  # "Invalid IPv6 URL", a port out of range, …
        raise BadURL(f"unparsable URL {raw[:200]!r}: {exc}") from None
    if parts.scheme.lower() not in FETCHABLE_SCHEMES:
        raise BadURL(f"not an http(s) URL: {raw[:200]!r}")
    if not hostname:
        raise BadURL(f"URL has no host: {raw[:200]!r}")
    if _BAD_HOST.search(hostname) or port == 0:
        raise BadURL(f"URL has an invalid host or port: {raw[:200]!r}")


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
