"""The feed spider: conditional GET of each due feed, then one request per article
URL that the archive has not stored yet."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable

import scrapy
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from archive.store import SourceState
from backchannel.headers import retry_after
from crawler.feeds import FeedError, body_hash, parse_feed
from crawler.items import FetchedPage, PassReport, PollOutcome
from crawler.polling import max_age

log = logging.getLogger(__name__)

PERMANENT_STATUSES = {400, 401, 403, 404, 405, 410, 451}


def failure_reason(failure: Failure) -> tuple[str, bool]:
    """A one-line reason for a failed request, and whether it is worth retrying later."""
    exc = failure.value
    if isinstance(exc, HttpError):
        status = exc.response.status
        return f"HTTP {status}", status not in PERMANENT_STATUSES
    name = type(exc).__name__
    text = str(exc).strip() or name
    if "max redirections" in text:
        return "too many redirects (a redirect loop?)", False
    if name in {"IgnoreRequest", "PrivateAddressRefusedRequest"}:
        return text, False
    if "Timeout" in name or "TimedOut" in name:
        return f"timed out ({text})", True
    return f"{name}: {text}"[:500], True


class FeedSpider(scrapy.Spider):
    name = "feeds"

    def __init__(
        self,
        sources: list[SourceState],
        known_urls: Callable[[list[str]], set[str]],
        report: PassReport,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.sources = [s for s in sources if s.kind == "feed"]
        self.known_urls = known_urls
        self.report = report
        self.requested: set[str] = set()

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for source in self.sources:
            self.report.polls[source.id] = PollOutcome(source)
            headers = {"Accept": "application/rss+xml, application/atom+xml, "
                                 "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"}
            if source.etag:
                headers["If-None-Match"] = source.etag
            if source.last_modified:
                headers["If-Modified-Since"] = source.last_modified
            yield scrapy.Request(
                source.url,
                callback=self.parse_feed,
                errback=self.feed_failed,
                headers=headers,
                dont_filter=True,
                meta={"source_id": source.id, "handle_httpstatus_list": [304]},
            )

    def parse_feed(self, response: Response):
        poll = self.report.polls[response.meta["source_id"]]
        poll.status = response.status
        poll.etag = _header(response, b"ETag")
        poll.last_modified = _header(response, b"Last-Modified")
        poll.max_age = max_age(_header(response, b"Cache-Control"))
        if response.status == 304:
            poll.unchanged = True
            log.info("feed not modified", extra={"source": poll.source.url})
            return
        digest = body_hash(response.body)
        poll.body_sha256 = digest
        if digest == poll.source.body_sha256:
            poll.unchanged = True  # some servers send a new ETag for the same bytes
            return
        try:
            feed = parse_feed(response.body, response.url, _header(response, b"Content-Type"))
        except FeedError as exc:
            poll.error = f"{response.url}: {exc}"
            poll.body_sha256 = None
            log.error("feed unusable: %s", exc, extra={"source": poll.source.url})
            return
        for problem in feed.problems:
            log.warning("%s", problem, extra={"source": poll.source.url})
        poll.problems = feed.problems
        poll.entries = len(feed.entries)
        poll.ttl_minutes = feed.ttl_minutes
        poll.entry_times = [e.published for e in feed.entries if e.published]
        candidates = [e for e in feed.entries if e.url not in self.requested]
        stored = self.known_urls([e.url for e in candidates])
        for entry in candidates:
            if entry.url in stored:
                continue
            self.requested.add(entry.url)
            poll.new_urls += 1
            poll.pages_pending += 1
            yield scrapy.Request(
                entry.url,
                callback=self.parse_page,
                errback=self.page_failed,
                meta={"source_id": poll.source.id, "entry": entry},
            )

    def parse_page(self, response: Response):
        entry = response.meta["entry"]
        self.report.pages_fetched += 1
        self.report.polls[response.meta["source_id"]].pages_pending -= 1
        yield FetchedPage(
            url=entry.url,
            final_url=response.url,
            status=response.status,
            content_type=_header(response, b"Content-Type"),
            body=response.body,
            source_id=response.meta["source_id"],
            entry_ids=[entry.entry_id],
            entry_title=entry.title,
            entry_published=entry.published,
        )

    def feed_failed(self, failure: Failure) -> None:
        request = failure.request
        poll = self.report.polls[request.meta["source_id"]]
        reason, _ = failure_reason(failure)
        poll.error = f"{poll.source.url}: {reason}"
        if isinstance(failure.value, HttpError):
            poll.retry_after = retry_after(_header(failure.value.response, b"Retry-After"))
        log.error("feed failed: %s", reason, extra={"source": poll.source.url, "url": request.url})

    def page_failed(self, failure: Failure) -> None:
        request = failure.request
        reason, transient = failure_reason(failure)
        poll = self.report.polls[request.meta["source_id"]]
        poll.pages_pending -= 1
        if type(failure.value).__name__ == "PassInterrupted":
            poll.interrupted = True
        if transient:
            poll.transient_page_failures += 1
        self.report.page_errors.append(f"{request.url}: {reason}")
        log.warning("page failed: %s", reason,
                    extra={"source": poll.source.url, "url": request.url})


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None
