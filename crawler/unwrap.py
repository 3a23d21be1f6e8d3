"""The publisher's URL behind a search engine's link. A redirect wrapper that carries
the target in a parameter (Google Alerts' google.com/url?url=…, Bing's
apiclick.aspx?url=…, any ?q=http…) is unwrapped without a request; a Google News
article link of the older form carries the URL in its base64 id and is decoded; any
other link (Google News' newer ids too) must be resolved by following its redirects."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qs, urlsplit

WRAPPER_PARAMETERS = ("url", "q", "u", "target", "dest")
GOOGLE_NEWS_HOSTS = ("news.google.com",)


def unwrap(link: str) -> str | None:
    """The target a wrapper link carries in a parameter or its Google News id; None
    when the link carries none (follow its redirects, or it is the publisher's)."""
    parts = urlsplit(link)
    query = parse_qs(parts.query)
    for name in WRAPPER_PARAMETERS:
        for value in query.get(name, []):
            if value.startswith(("http://", "https://")):
                return value
    if (parts.hostname or "") in GOOGLE_NEWS_HOSTS:
        return google_news_url(link)
    return None


def is_google_news(link: str) -> bool:
    return (urlsplit(link).hostname or "") in GOOGLE_NEWS_HOSTS


def google_news_url(link: str) -> str | None:
    """The publisher's URL in a Google News article link (…/articles/CBMi…,
    …/rss/articles/CBMi…?oc=5), read from the id's protobuf: a message whose
    length-delimited field 4 is the URL (field 26, when present, its AMP page). None
    for the newer ids ("AU_yqL…" inside), which only Google can resolve: follow them."""
    path = urlsplit(link).path.rstrip("/")
    if "/articles/" not in path:
        return None
    article_id = path.rsplit("/", 1)[-1]
    try:
        payload = base64.urlsafe_b64decode(article_id + "=" * (-len(article_id) % 4))
    except (binascii.Error, ValueError):
        return None
    for field_number, value in protobuf_fields(payload):
        if field_number == 4 and isinstance(value, bytes):
            text = value.decode("utf-8", "replace")
            return text if text.startswith(("http://", "https://")) else None
    return None


def protobuf_fields(data: bytes) -> list[tuple[int, int | bytes]]:
    """The top-level fields of a protobuf message (varints and length-delimited ones;
    reading stops at anything else or at a truncation)."""
    fields: list[tuple[int, int | bytes]] = []
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        if key is None:
            break
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
            if value is None:
                break
            fields.append((number, value))
        elif wire == 2:
            length, pos = _varint(data, pos)
            if length is None or pos + length > len(data):
                break
            fields.append((number, data[pos:pos + length]))
            pos += length
        else:
            break
    return fields


def _varint(data: bytes, pos: int) -> tuple[int | None, int]:
    value = shift = 0
    while pos < len(data) and shift < 64:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
    return None, pos


def google_news_link(url: str, amp: str | None = None, prefix: int = 0x13) -> str:
    """A Google News article link of the older form for `url` (for tests and tools):
    field 1 = `prefix`, field 4 = the URL, field 26 = the AMP URL."""
    payload = bytes([0x08, prefix]) + _field(4, url.encode())
    if amp:
        payload += _field(26, amp.encode())
    article_id = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    return f"https://news.google.com/rss/articles/{article_id}?oc=5"


def _field(number: int, value: bytes) -> bytes:
    return _encode_varint(number << 3 | 2) + _encode_varint(len(value)) + value


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)
