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
    """One request at a time, each sent at least `gap` seconds after the answer to the
    previous one, for every caller in this process. Spacing the answers rather than
    the starts holds however late a busy reactor sends what it was handed: the next
    request cannot reach the server sooner than `gap` after the last one did. A 429
    pushes the next moment back by its Retry-After."""

    STALE = 300.0  # a request never answered (a bug) holds the gate no longer than this

    def __init__(self, gap: float = DEFAULT_GAP_SECONDS) -> None:
        self.gap = gap
        self.next_at = 0.0  # time.monotonic() of the next permitted request
        self.busy_since: float | None = None  # a request is out, not yet answered
        self.waited = 0.0  # seconds spent waiting, for tests and logs
        self.refusals = 0  # 429 answers seen

    def ready(self) -> float:
        """0 when a request may go now, else how long to wait before looking again."""
        now = time.monotonic()
        if self.busy_since is not None and now - self.busy_since < self.STALE:
            return 0.02
        return max(0.0, self.next_at - now)

    async def acquire(self) -> None:
        started = time.monotonic()
        while (delay := self.ready()) > 0:
            await asyncio.sleep(delay)
        self.busy_since = time.monotonic()  # no await between the check and this
        self.waited += self.busy_since - started

    def release(self, gap: float | None = None, retry_after: float | None = None) -> None:
        """The answer (or the failure) of the request out: the next waits `gap`, or the
        server's Retry-After when longer."""
        self.busy_since = None
        pause = max(self.gap if gap is None else gap, retry_after or 0.0)
        self.next_at = max(self.next_at, time.monotonic() + pause)

    def refused(self, retry_after: float | None, gap: float | None = None) -> None:
        self.refusals += 1
        self.release(gap, retry_after)


GATE = RequestGate()  # one per process: all gdelt searches, every pass of a daemon


class GdeltGateMiddleware:
    """Every request to a GDELT endpoint's host (robots.txt too) holds the process's
    GATE until its answer; a 429 answer pushes the gate back by its Retry-After (the
    retry middleware, nearer the engine, then sends the request again: through the
    gate). Nearest the wire of our middlewares, so nothing else delays a request
    between the gate and the server."""

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
            await GATE.acquire()
            request.meta["gdelt_gate_held"] = True

    def process_response(self, request, response):
        if request.meta.pop("gdelt_gate_held", False):
            if response.status == 429:
                after = response.headers.get(b"Retry-After")
                text = after.decode("latin-1").strip() if after else ""
                GATE.refused(float(text) if text.isdigit() else None, self.gap)
            else:
                GATE.release(self.gap)
        return response

    def process_exception(self, request, exception) -> None:
        if request.meta.pop("gdelt_gate_held", False):
            GATE.release(self.gap)
