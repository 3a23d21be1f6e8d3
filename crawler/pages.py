"""Bytes → text for HTML pages: the declared charset when it decodes, else detection.
Pages with a wrong or missing charset are common; this must never raise."""

from __future__ import annotations

import re

from charset_normalizer import from_bytes

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_\-:.]+)""", re.I)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([a-zA-Z0-9_\-:.]+)", re.I)


def declared_charsets(page: bytes, content_type: str | None) -> list[str]:
    found: list[str] = []
    if content_type:
        match = _HEADER_CHARSET.search(content_type)
        if match:
            found.append(match.group(1).decode() if isinstance(match.group(1), bytes) else match.group(1))
    match = _META_CHARSET.search(page[:4096])
    if match:
        found.append(match.group(1).decode("ascii", "replace"))
    return found


def decode_html(page: bytes, content_type: str | None = None) -> str:
    if page.startswith(b"\xef\xbb\xbf"):
        return page[3:].decode("utf-8", "replace")
    for charset in declared_charsets(page, content_type):
        try:
            return page.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
    try:
        return page.decode("utf-8")
    except UnicodeDecodeError:
        pass
    best = from_bytes(page[:200_000]).best()
    if best is not None:
        try:
            return page.decode(best.encoding, "replace")
        except LookupError:
            pass
    return page.decode("utf-8", "replace")


def looks_like_html(page: bytes) -> bool:
    head = page[:2048].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<body" in head or b"<head" in head
