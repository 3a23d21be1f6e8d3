"""JSON Feed (1.0 and 1.1, https://jsonfeed.org) → the shape feedparser gives RSS and
Atom (`feed` and `entries` dicts with `link`, `id`, `title`, `published_parsed`…), so
that crawler/feeds.py handles its entries exactly as it handles theirs. feedparser 6
reads no JSON; a JSON Feed is recognised by its content, whatever its Content-Type."""

from __future__ import annotations

import codecs
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

VERSION_PREFIX = "https://jsonfeed.org/version/"
MAX_ITEMS = 50_000  # items looked at; crawler/feeds.py keeps far fewer


class JSONFeedError(ValueError):
    """The body is JSON but no JSON Feed, or not even JSON."""


@dataclass
class JSONFeed:
    feed: dict = field(default_factory=dict)  # title, link (home_page_url)
    entries: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def looks_like_json(text: bytes) -> bool:
    """A body (BOM already removed) whose first character opens a JSON object."""
    return text.lstrip(b" \t\r\n")[:1] == b"{"


def read_json_feed(body: bytes) -> JSONFeed:
    """The feed's title and home page, and one dict per item. JSONFeedError when the
    body is no JSON object with a JSON Feed `version` or an `items` list."""
    document = _load(body)
    if not isinstance(document, dict):
        raise JSONFeedError("not a JSON Feed (JSON, but not an object)")
    version = document.get("version")
    items = document.get("items")
    is_feed = isinstance(version, str) and version.startswith(VERSION_PREFIX)
    if not is_feed and not isinstance(items, list):
        raise JSONFeedError("not a JSON Feed (no jsonfeed.org version, no items list)")
    result = JSONFeed(feed={"title": _text(document.get("title")),
                            "link": _text(document.get("home_page_url"))})
    if not is_feed:
        result.problems.append("JSON feed without a jsonfeed.org version; read as one")
    if items is None:
        items = []
    if not isinstance(items, list):
        raise JSONFeedError("not a JSON Feed (its items are not a list)")
    # an item that is no object becomes {}: an entry with no link, skipped as such
    result.entries = [_entry(item) if isinstance(item, dict) else {}
                      for item in items[:MAX_ITEMS]]
    return result


def _load(body: bytes) -> object:
    try:
        return json.loads(body)  # UTF-8 (with or without BOM), UTF-16 or UTF-32
    except UnicodeDecodeError:
        text = body.decode("utf-8", "replace")
    except RecursionError:
        raise JSONFeedError("not a JSON Feed (JSON nested too deep)") from None
    except ValueError as exc:  # also an integer of more than 4,300 digits
        raise JSONFeedError(f"unreadable JSON Feed ({_short(exc)})") from None
    try:
        return json.loads(text.removeprefix(codecs.BOM_UTF8.decode()))
    except RecursionError:
        raise JSONFeedError("not a JSON Feed (JSON nested too deep)") from None
    except ValueError as exc:
        raise JSONFeedError(f"unreadable JSON Feed ({_short(exc)})") from None


def _entry(item: dict) -> dict:
    """An item as feedparser would give an RSS item: `link` the page (url, else
    external_url), `id` the item's id (a string or a number), dates as UTC struct_time."""
    entry: dict = {}
    link = _text(item.get("url")) or _text(item.get("external_url"))
    if link:
        entry["link"] = link
    item_id = item.get("id")
    if isinstance(item_id, bool):
        item_id = None
    if isinstance(item_id, (int, float)):
        item_id = str(item_id)
    if _text(item_id):
        entry["id"] = item_id.strip()
    title = _text(item.get("title"))
    if title:
        entry["title"] = title
    for key, name in (("date_published", "published_parsed"),
                      ("date_modified", "updated_parsed")):
        when = _date(item.get(key))
        try:
            if when is not None:
                entry[name] = when.utctimetuple()
        except (OverflowError, ValueError):  # year 1 east of UTC
            pass
    return entry


def _date(value: object) -> datetime | None:
    """An RFC 3339 date (the spec's), or an RFC 822 one (seen in the wild)."""
    text = _text(value)
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _short(exc: Exception) -> str:
    return str(exc)[:200]

