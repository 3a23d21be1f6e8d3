"""Article URL normalisation, so one page is one article however many feeds list it."""

from __future__ import annotations

import re
from urllib.parse import quote_plus, unquote_to_bytes, urldefrag, urljoin, urlsplit, urlunsplit

import courlan

FETCHABLE_SCHEMES = ("http", "https")
# Longer URLs are refused: no real article URL is this long (the sitemap protocol caps
# URLs at 2,048 characters), and a URL must fit a btree index entry of the archive.
MAX_URL_BYTES = 2048
# Characters no host name can hold (IPv6 literals lose their brackets in urlsplit).
_BAD_HOST = re.compile(r"[\x00-\x20\x7f-\x9f<>\"{}|\\^`%/?#@\[\]\ufffd]")
# What a normalised URL must not contain: controls, spaces, lone surrogates.
_UNSAFE = re.compile(r"[\x00-\x20\x7f-\x9f\ud800-\udfff]")


# Query keys that only say where a reader came from. An explicit list, not courlan's
# pattern: that one drops any key *containing* ref, source, ga, gl, session, uid… (and
# every key without a value), so spip.php?article1342 and ?breve1342 were one URL.
TRACKING_KEYS = frozenset({
    "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid",
    "ysclid", "twclid", "ttclid", "igshid", "igsh", "li_fat_id", "mc_cid", "mc_eid",
    "_ga", "_gl", "_hsenc", "_hsmi", "__hssc", "__hstc", "__hsfp", "hsctatracking",
    "mkt_tok", "oly_anon_id", "oly_enc_id", "vero_id", "vero_conv", "rb_clickid",
    "s_cid", "wickedid", "_openstat", "xtor", "at_medium", "at_campaign", "ncid",
    "cmpid", "ref", "ref_src", "ref_url", "referrer", "spm", "smid",
})
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "matomo_", "itm_")


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
    # It normalises scheme, host, port and path only: the query is ours (clean_query).
    url = raw
    for _ in range(3):
        try:
            parts = urlsplit(urldefrag(url).url)
            query = clean_query(parts.query)
            cleaned = courlan.normalize_url(urlunsplit(parts._replace(query="")),
                                            strict=False)
            cleaned = urldefrag(cleaned).url
            if query:
                head = urlsplit(cleaned)
                cleaned = urlunsplit(head._replace(path=head.path or "/", query=query))
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


def clean_query(query: str) -> str:
    """The query without tracking keys, sorted by key (one page, however its links order
    their parameters), each part percent-encoded one way. A key without a value stays
    one (`?article1342`, `?123`), and `key=` keeps its `=`."""
    kept: list[tuple[str, str]] = []
    for part in query.split("&"):
        if not part:
            continue
        key, equals, value = part.partition("=")
        name = _canonical(key)
        plain = unquote_to_bytes(key.replace("+", " ")).decode("utf-8", "replace").lower()
        if plain in TRACKING_KEYS or plain.startswith(TRACKING_PREFIXES):
            continue
        kept.append((name, f"{name}={_canonical(value)}" if equals else name))
    kept.sort(key=lambda pair: pair[0])  # stable: a repeated key keeps its values' order
    return "&".join(text for _, text in kept)


def _canonical(text: str) -> str:
    """One percent-encoding for a query key or value: decoded to bytes and quoted again
    (space as "+"), so that %7E and ~, %2f and %2F, é and %C3%A9 are one form."""
    return quote_plus(unquote_to_bytes(text.replace("+", " ")), safe="")


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
