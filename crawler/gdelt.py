"""The GDELT DOC 2.0 API in ArtList mode: the request for a time window, the answer's
articles, and the process-wide gate that keeps to GDELT's one request every 5 s."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode, urlsplit

MAX_RECORDS = 250  # GDELT's most per request; a full answer means: page back in time
FIRST_WINDOW = timedelta(hours=24)  # a search's first poll
MAX_WINDOW = timedelta(days=90)  # GDELT keeps three months
OVERLAP = timedelta(minutes=5)  # GDELT indexes a little late; the archive drops repeats
TIME_FORMAT = "%Y%m%d%H%M%S"
DEFAULT_GAP_SECONDS = 5.0


class GdeltError(ValueError):
    """The answer is not GDELT's ArtList JSON; the message says what was wrong."""


@dataclass
class GdeltArticle:
    url: str
    title: str | None
    seen: datetime | None
    domain: str | None
    language: str | None


def window(last_end: datetime | None, now: datetime) -> tuple[datetime, datetime]:
    """The window a poll asks for: since the last complete one (less an overlap), the
    last 24 hours on the first poll, never more than GDELT's three months."""
    start = last_end - OVERLAP if last_end else now - FIRST_WINDOW
    return max(start, now - MAX_WINDOW), now


def request_url(endpoint: str, query: str, start: datetime, end: datetime) -> str:
    params = {"query": query, "mode": "ArtList", "format": "json", "sort": "DateDesc",
              "maxrecords": str(MAX_RECORDS),
              "startdatetime": start.astimezone(UTC).strftime(TIME_FORMAT),
              "enddatetime": end.astimezone(UTC).strftime(TIME_FORMAT)}
    return f"{endpoint}?{urlencode(params)}"


def parse_answer(body: bytes) -> list[GdeltArticle]:
    """The articles of an ArtList answer. GDELT answers `{}` when nothing matched; an
    answer that is no JSON object, or whose `articles` is no list, is an error (GDELT
    says what is wrong with a query in plain text)."""
    text = body.decode("utf-8", "replace").strip()
    if not text:
        raise GdeltError("empty answer")
    try:
        data = json.loads(text)
    except ValueError:
        raise GdeltError(f"not JSON: {text[:200]!r}") from None
    if not isinstance(data, dict):
        raise GdeltError("the answer is not a JSON object")
    items = data.get("articles", [])
    if not isinstance(items, list):
        raise GdeltError("`articles` is not a list")
    found = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("url"), str):
            continue
        found.append(GdeltArticle(
            url=item["url"], title=_text(item.get("title")), seen=seen_date(item.get("seendate")),
            domain=_text(item.get("domain")), language=_text(item.get("language"))))
    return found


def seen_date(value) -> datetime | None:
    """GDELT's seendate, "20250324T071500Z"."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def _text(value) -> str | None:
    return value.strip()[:500] or None if isinstance(value, str) else None


class RequestGate:
    """At most one request every `gap` seconds, for every caller in this process: each
    caller reserves the next free moment at once (no await between reading and moving
    it), then waits for it. A 429 pushes the next moment back by its Retry-After."""

    def __init__(self, gap: float = DEFAULT_GAP_SECONDS) -> None:
        self.gap = gap
        self.next_at = 0.0  # time.monotonic() of the next permitted request
        self.waited = 0.0  # seconds spent waiting, for `sources status` and tests
        self.refusals = 0  # 429 answers seen

    def reserve(self, gap: float | None = None) -> float:
        """Seconds to wait before sending; the moment after it is someone else's."""
        now = time.monotonic()
        at = max(now, self.next_at)
        self.next_at = at + (self.gap if gap is None else gap)
        return at - now

    async def wait(self, gap: float | None = None) -> None:
        delay = self.reserve(gap)
        if delay > 0:
            self.waited += delay
            await asyncio.sleep(delay)

    def refused(self, retry_after: float | None, gap: float | None = None) -> None:
        self.refusals += 1
        pause = max(retry_after or 0.0, self.gap if gap is None else gap)
        self.next_at = max(self.next_at, time.monotonic() + pause)


GATE = RequestGate()  # one per process: all gdelt searches, every pass of a daemon


class GdeltGateMiddleware:
    """Every request to a GDELT endpoint's host (robots.txt too) waits at the process's
    GATE; a 429 answer pushes the gate back by its Retry-After (the retry middleware,
    nearer the engine, then sends the request again: through the gate)."""

    def __init__(self, crawler, gap: float) -> None:
        self.crawler = crawler
        self.gap = gap
        self._hosts: set[str] | None = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler, crawler.settings.getfloat("BACKCHANNEL_GDELT_GAP_SECONDS",
                                                      DEFAULT_GAP_SECONDS))

    def gated(self, request) -> bool:
        if request.meta.get("gdelt"):
            return True
        if self._hosts is None:
            spider = getattr(self.crawler, "spider", None)
            files = getattr(spider, "sources_file", None)
            self._hosts = {urlsplit(s.url).netloc.lower() for s in
                           (files.searches if files else []) if s.engine == "gdelt"}
        return urlsplit(request.url).netloc.lower() in self._hosts

    async def process_request(self, request) -> None:
        if self.gated(request):
            await GATE.wait(self.gap)

    def process_response(self, request, response):
        if response.status == 429 and self.gated(request):
            after = response.headers.get(b"Retry-After")
            text = after.decode("latin-1").strip() if after else ""
            GATE.refused(float(text) if text.isdigit() else None, self.gap)
        return response
