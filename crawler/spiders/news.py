"""The crawl's spider: polls each due source (feed, sitemap or section page), then
makes one request per article URL that the archive has not stored yet. One class for
all three kinds, so that an article is fetched once per pass and a host's politeness
is one budget (docs/crawl.md); the sitemap and section parts are mixins. The feed
part lives here: conditional GET of the feed, then its entries."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta

import scrapy
from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from archive.store import SourceState
from core.headers import retry_after
from crawler.feeds import FEED_ACCEPT, FeedError, body_hash, parse_feed_in_thread
from crawler.items import ListedPage, PassReport, PollOutcome
from crawler.polling import max_age
from crawler.sources import Source, SourcesFile
from crawler.spiders.searches import SearchSources
from crawler.spiders.sections import SectionSources
from crawler.spiders.sitemaps import SitemapSources
from crawler.websub import discover
from pipeline import FetchedPage

log = logging.getLogger(__name__)

PERMANENT_STATUSES = {400, 401, 403, 404, 405, 410, 451}
ROBOTS_FORBIDDEN = "Forbidden by robots.txt"
# Scrapy hands out the highest priority first. Sources go before older article pages,
# so every feed is read early in a long pass; a source's fresh pages go before the
# sources still waiting, so an outlet's news is stored (and alerted) as soon as its
# own feed is read rather than after every other feed of the pass.
FRESH_PAGE_PRIORITY = 2
SOURCE_PRIORITY = 1
OLDER_PAGE_PRIORITY = 0  # Scrapy's default
FRESH_HOURS = 48  # a listed date within this counts as fresh
FRESH_UNDATED = 5  # undated entries: the first few a source lists count as fresh


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
    if isinstance(exc, IgnoreRequest):  # a middleware's refusal (robots.txt, private
        return text, False              # address, size...): the same next time
    if "Timeout" in name or "TimedOut" in name:
        return f"timed out ({text})", True
    return f"{name}: {text}"[:500], True


class NewsSpider(SearchSources, SitemapSources, SectionSources, scrapy.Spider):
    """Polls feeds, sitemaps and section pages; yields a FetchedPage per new article.

    `sources_file` is the pass's parsed sources file: the per-source options come from
    it, and the item pipeline reads it (outlets, officials) with `database_url` and
    `outbox` from the spider. `probe=True` (`backchannel sources check`): each source
    is read (child sitemaps too) but no article page is requested and no validators
    are sent."""

    name = "news"

    def __init__(
        self,
        sources: list[SourceState],
        known_urls: Callable[[list[str]], set[str]],
        report: PassReport,
        sources_file: SourcesFile | None = None,
        database_url: str | None = None,
        outbox=None,  # alerts.outbox.Outbox, or None: no alerts decided
        probe: bool = False,
        pushed: dict[int, tuple[bytes, str | None]] | None = None,
        now: datetime | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.sources = list(sources)
        self.known_urls = known_urls
        self.report = report
        self.sources_file = sources_file
        self.database_url = database_url
        self.outbox = outbox
        self.probe = probe
        self.pushed = pushed or {}  # source id → (body, Content-Type) a WebSub hub pushed
        self.now = now or datetime.now(UTC)
        self.requested: set[str] = set()  # article URLs requested in this pass, any route
        # source URL → its entry in the sources file (selector, pages, first-pass window)
        self.options: dict[str, Source] = {
            s.url: s for s in sources_file.sources} if sources_file else {}

    async def start(self) -> AsyncIterator[scrapy.Request]:
        starters = {"feed": self.feed_request, "sitemap": self.sitemap_request,
                    "section": self.section_request, "search": self.search_request}
        for source in self.sources:
            poll = self.report.polls[source.id] = PollOutcome(source)
            starter = starters.get(source.kind)
            if starter is None:
                poll.error = f"{source.url}: unknown kind of source {source.kind!r}"
                continue
            if source.id in self.pushed:  # read as if the feed had answered with it
                async for request in self.parse_feed(
                        pushed_response(source, *self.pushed[source.id])):
                    yield request
                continue
            yield starter(source)

    def option(self, source: SourceState) -> Source:
        return self.options.get(source.url) or Source(source.outlet, source.kind, source.url,
                                                      source.interval_minutes)

    # --- the source's own document: shared by all kinds ---------------------------

    def source_request(self, source: SourceState, callback, accept: str,
                       conditional: bool = True, meta: dict | None = None) -> scrapy.Request:
        """GET the source's URL, conditionally (If-None-Match / If-Modified-Since) when
        the last complete pass left validators."""
        headers = {"Accept": accept}
        if conditional and not self.probe:
            if source.etag:
                headers["If-None-Match"] = source.etag
            if source.last_modified:
                headers["If-Modified-Since"] = source.last_modified
        # Before any article page: otherwise a source is polled only once its host has
        # no page waiting, and in a long pass the last feeds are read near its end,
        # their news (and alerts) waiting behind every other outlet's pages.
        return scrapy.Request(
            source.url, callback=callback, errback=self.source_failed, headers=headers,
            dont_filter=True, priority=SOURCE_PRIORITY,
            meta={"source_id": source.id, "handle_httpstatus_list": [304], **(meta or {})},
        )

    def read_source_response(self, response: Response) -> PollOutcome | None:
        """Record status, validators and server hints of a source's response; None when
        it has not changed since the last pass (304, or the same bytes)."""
        poll = self.report.polls[response.meta["source_id"]]
        poll.status = response.status
        poll.robots = self.robots_verdict()
        poll.etag = header(response, b"ETag")
        poll.last_modified = header(response, b"Last-Modified")
        poll.max_age = max_age(header(response, b"Cache-Control"))
        if response.status == 304:
            poll.unchanged = True
            log.info("%s not modified", poll.source.kind, extra={"source": poll.source.url})
            return None
        digest = body_hash(response.body)
        poll.body_sha256 = digest
        if digest == poll.source.body_sha256 and not self.probe:
            poll.unchanged = True  # some servers send a new ETag for the same bytes
            return None
        return poll

    def robots_verdict(self) -> str:
        return "allowed" if self.settings.getbool("ROBOTSTXT_OBEY") else "not checked"

    def source_failed(self, failure: Failure) -> None:
        request = failure.request
        poll = self.report.polls[request.meta["source_id"]]
        reason, _ = failure_reason(failure)
        poll.error = f"{poll.source.url}: {reason}"
        if ROBOTS_FORBIDDEN in reason:
            poll.robots = "disallowed"
        elif type(failure.value).__name__ != "PrivateAddressRefusedRequest":
            poll.robots = self.robots_verdict()
        if isinstance(failure.value, HttpError):
            poll.status = failure.value.response.status
            poll.retry_after = retry_after(header(failure.value.response, b"Retry-After"))
        log.error("%s failed: %s", poll.source.kind, reason,
                  extra={"source": poll.source.url, "url": request.url})

    feed_failed = source_failed  # the name it had when feeds were the only kind

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.request_dropped, signal=signals.request_dropped)
        return spider

    def request_dropped(self, request: scrapy.Request, spider=None) -> None:
        """A request the scheduler dropped gets neither callback nor errback; were it
        still counted as pending, its source would look unfinished and be polled again
        at once, every pass. Our requests skip Scrapy's duplicate filter (a redirect to
        a page already requested would be dropped), so this is a safety net."""
        poll = self.report.polls.get(request.meta.get("source_id"))
        if poll is not None and request.meta.get("pending"):
            poll.pages_pending -= 1
            poll.problems.append(f"{request.url}: dropped by the scheduler")
            log.warning("request dropped: %s", request.url,
                        extra={"source": poll.source.url, "url": request.url})

    # --- further documents of a source: child sitemaps, listing pages 2… -----------

    def follow_up(self, poll: PollOutcome, url: str, callback, meta: dict,
                  headers: dict | None = None) -> scrapy.Request:
        poll.pages_pending += 1
        return scrapy.Request(
            url, callback=callback, errback=self.follow_up_failed, headers=headers,
            dont_filter=True,  # de-duplicated per source here; see `request_dropped`
            priority=SOURCE_PRIORITY,  # listings before article pages, as sources
            meta={"source_id": poll.source.id, "handle_httpstatus_list": [304],
                  "pending": True, **meta},
        )

    def follow_up_failed(self, failure: Failure) -> None:
        """A child sitemap or further listing page failed: the source goes on with what
        it has (a sitemap source whose every sitemap failed fails: see `closed`)."""
        request = failure.request
        reason, transient = failure_reason(failure)
        poll = self.report.polls[request.meta["source_id"]]
        poll.pages_pending -= 1
        poll.documents_failed += 1
        if type(failure.value).__name__ == "PassInterrupted":
            poll.interrupted = True
        if transient:
            poll.transient_page_failures += 1  # keep the validators: read it all next time
        poll.problems.append(f"{request.url}: {reason}")
        log.warning("%s document failed: %s", poll.source.kind, reason,
                    extra={"source": poll.source.url, "url": request.url})

    # --- articles: shared by all kinds ---------------------------------------------

    def take_entries(self, poll: PollOutcome, entries: Iterable[ListedPage],
                     found_by: str | None = None) -> Iterator[scrapy.Request]:
        """A request for each listed article that neither the archive nor this pass
        (through any source) has already: one fetch per article per pass."""
        candidates = [e for e in entries if e.url not in self.requested]
        stored = self.known_urls([e.url for e in candidates]) if candidates else set()
        undated = 0
        fresh_since = datetime.now(UTC) - timedelta(hours=FRESH_HOURS)
        for entry in candidates:
            if entry.url in stored or entry.url in self.requested:
                continue
            self.requested.add(entry.url)
            poll.new_urls += 1
            if self.probe:
                continue
            poll.pages_pending += 1
            if entry.published is None:
                undated += 1
                fresh = undated <= FRESH_UNDATED
            else:
                fresh = entry.published >= fresh_since
            yield scrapy.Request(
                entry.url,
                callback=self.parse_page,
                errback=self.page_failed,
                priority=FRESH_PAGE_PRIORITY if fresh else OLDER_PAGE_PRIORITY,
                dont_filter=True,  # `requested` de-duplicates; see `request_dropped`
                meta={"source_id": poll.source.id, "entry": entry, "pending": True,
                      "found_by": found_by},
            )

    def parse_page(self, response: Response):
        entry: ListedPage = response.meta["entry"]
        self.report.pages_fetched += 1
        self.report.polls[response.meta["source_id"]].pages_pending -= 1
        yield FetchedPage(
            url=entry.url,
            final_url=response.url,
            status=response.status,
            content_type=header(response, b"Content-Type"),
            body=response.body,
            source_id=response.meta["source_id"],
            entry_ids=[entry.entry_id] if entry.entry_id else [],
            entry_title=entry.title,
            entry_published=entry.published,
            found_by=response.meta.get("found_by"),
            listed_site_name=entry.site_name,
        )

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

    # --- feeds -----------------------------------------------------------------------

    def feed_request(self, source: SourceState) -> scrapy.Request:
        return self.source_request(source, self.parse_feed, FEED_ACCEPT)

    async def parse_feed(self, response: Response):
        poll = self.read_source_response(response)
        if poll is None:
            return
        try:  # in a thread, with a time budget: the downloads go on meanwhile
            feed = await parse_feed_in_thread(response.body, response.url,
                                              header(response, b"Content-Type"))
        except FeedError as exc:
            poll.error = f"{response.url}: {exc}"
            poll.body_sha256 = None
            log.error("feed unusable: %s", exc, extra={"source": poll.source.url})
            return
        poll.hub = discover(response.body, header(response, b"Link"), response.url)
        for problem in feed.problems:
            log.warning("%s", problem, extra={"source": poll.source.url})
        poll.problems = feed.problems
        poll.entries = len(feed.entries)
        poll.ttl_minutes = feed.ttl_minutes
        poll.entry_times = [e.published for e in feed.entries if e.published]
        for request in self.take_entries(poll, (
                ListedPage(e.url, e.title, e.published, e.entry_id) for e in feed.entries)):
            yield request

    def closed(self, reason: str) -> None:
        self.sitemaps_closed()


def pushed_response(source: SourceState, body: bytes, content_type: str | None) -> Response:
    """A pushed feed body as the response to the feed's own request."""
    request = scrapy.Request(source.url, meta={"source_id": source.id})
    headers = {"Content-Type": content_type} if content_type else {}
    return Response(source.url, status=200, headers=headers, body=body, request=request)


def header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None
