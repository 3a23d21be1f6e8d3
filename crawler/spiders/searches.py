"""The search part of NewsSpider: a news search engine's results as article URLs of
outlets nobody listed. GDELT is asked for the window since its last complete poll,
paging back in time while an answer is full; a search-results feed is read as a feed,
each link turned into the publisher's URL (unwrapped, decoded, or its redirects
followed). The URLs then go the way every listed article goes (`take_entries`)."""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import urljoin

import scrapy
from scrapy.http import Response

from archive.store import SourceState
from core.urls import BadURL, normalize_url
from crawler.feeds import FEED_ACCEPT, FeedError, parse_feed
from crawler.gdelt import MAX_RECORDS, GdeltError, parse_answer, request_url, window
from crawler.items import ListedPage, PollOutcome
from crawler.sources import DEFAULT_MAX_PAGES_PER_SEARCH
from crawler.unwrap import is_google_news, unwrap
from extract.outlets import OutletDirectory

log = logging.getLogger(__name__)

REDIRECTS = (301, 302, 303, 307, 308)
MAX_HOPS = 5
GATE_SLOT = "gdelt"  # one download slot for every GDELT request: nothing else in it
_sites = OutletDirectory()  # no outlets: the registered domain (or address:port) of a URL


def site_key(url: str) -> str:
    return _sites.outlet_for(url)


class SearchSources:
    """Mixed into NewsSpider (which provides report, option, source_request,
    read_source_response, follow_up, take_entries, sources_file)."""

    def search_request(self, source: SourceState) -> scrapy.Request:
        search = self.option(source).search
        if search is not None and search.engine == "gdelt":
            return self.gdelt_request(source)
        return self.source_request(source, self.parse_search_feed, FEED_ACCEPT)

    # --- GDELT ------------------------------------------------------------------------

    def gdelt_request(self, source: SourceState) -> scrapy.Request:
        search = self.option(source).search
        poll = self.report.polls[source.id]
        start, end = window(source.search_window_end, self.now)
        poll.window_end = end
        poll.requests += 1
        return scrapy.Request(
            request_url(search.url, search.query, start, end), callback=self.parse_gdelt,
            errback=self.source_failed, dont_filter=True, priority=1,
            meta={"source_id": source.id, "gdelt_start": start, "gdelt_end": end,
                  "download_slot": GATE_SLOT, "gdelt": True})

    def parse_gdelt(self, response: Response):
        poll = self.report.polls[response.meta["source_id"]]
        search = self.option(poll.source).search
        if response.meta.get("pending"):
            poll.pages_pending -= 1
            poll.documents_read += 1
        else:
            poll.status = response.status
            poll.robots = self.robots_verdict()
        try:
            articles = parse_answer(response.body)
        except GdeltError as exc:
            if response.meta.get("pending"):  # a later page: the window is left unfinished
                poll.documents_failed += 1
                poll.transient_page_failures += 1
                poll.problems.append(f"{response.url}: GDELT: {exc}")
            else:
                poll.error = f"{search.url}: GDELT answer unusable: {exc}"
            log.error("GDELT answer unusable: %s", exc, extra={"source": poll.source.url})
            return
        poll.entries += len(articles)
        poll.entry_times += [a.seen for a in articles if a.seen]
        listed = []
        for article in articles:
            try:
                url = normalize_url(article.url)
            except BadURL as exc:
                poll.problems.append(f"GDELT result {article.url[:200]!r}: {exc}; skipped")
                continue
            listed.append(ListedPage(url, article.title, article.seen))
        yield from self.take_search_entries(poll, listed)
        seen = [a.seen for a in articles if a.seen]
        start, end = response.meta["gdelt_start"], response.meta["gdelt_end"]
        if len(articles) >= MAX_RECORDS and seen and not poll.capped and min(seen) > start:
            # A full answer: there is more, further back. GDELT's times are whole
            # seconds; more than 250 results in one second cannot be paged through, so
            # a page that ends where it began moves on a second (and says so).
            older = min(seen)
            if older >= end:
                older = end - timedelta(seconds=1)
                poll.problems.append(f"more than {MAX_RECORDS} GDELT results seen at "
                                     f"{end:%Y-%m-%d %H:%M:%S}; only {MAX_RECORDS} taken")
            poll.requests += 1
            yield self.follow_up(
                poll, request_url(search.url, search.query, start, older),
                self.parse_gdelt, {"gdelt_start": start, "gdelt_end": older,
                                   "download_slot": GATE_SLOT, "gdelt": True})

    # --- search-results feeds ---------------------------------------------------------

    def parse_search_feed(self, response: Response):
        poll = self.read_source_response(response)
        if poll is None:
            return
        try:
            feed = parse_feed(response.body, response.url, response.headers.get(
                b"Content-Type", b"").decode("latin-1") or None)
        except FeedError as exc:
            poll.error = f"{response.url}: {exc}"
            poll.body_sha256 = None
            return
        poll.problems = feed.problems
        poll.entries = len(feed.entries)
        poll.entry_times = [e.published for e in feed.entries if e.published]
        feed_site = site_key(response.url)
        direct = []
        for entry in feed.entries:
            if entry.source_url and self.sources_file and self.sources_file.excluded(
                    entry.source_url):
                continue
            page = ListedPage(entry.url, entry.title, entry.published, entry.entry_id,
                              entry.source_title)
            target = unwrap(entry.url)
            if target is not None:
                try:
                    page.url = normalize_url(target)
                except BadURL as exc:
                    poll.problems.append(f"{entry.url[:200]}: {exc}; skipped")
                    continue
                direct.append(page)
            elif is_google_news(entry.url) or site_key(entry.url) == feed_site:
                poll.requests += 1  # a redirect to follow, one request per hop
                yield self.follow_up(poll, entry.url, self.resolved, {
                    "listed": page, "hops": 0, "dont_redirect": True,
                    "handle_httpstatus_list": [*REDIRECTS, 304]})
            else:
                direct.append(page)  # the publisher's own link
        yield from self.take_search_entries(poll, direct)

    def resolved(self, response: Response):
        """A hop of a wrapper's redirects: the first Location off the wrapper's site is
        the publisher's URL."""
        poll = self.report.polls[response.meta["source_id"]]
        poll.pages_pending -= 1
        page: ListedPage = response.meta["listed"]
        location = response.headers.get(b"Location")
        if response.status not in REDIRECTS or not location:
            poll.problems.append(f"{response.url}: no redirect to the publisher "
                                 f"(HTTP {response.status}); skipped")
            return
        target = urljoin(response.url, location.decode("latin-1").strip())
        hops = response.meta["hops"] + 1
        if site_key(target) == site_key(response.url) and hops < MAX_HOPS:
            poll.requests += 1
            yield self.follow_up(poll, target, self.resolved, {
                "listed": page, "hops": hops, "dont_redirect": True,
                "handle_httpstatus_list": [*REDIRECTS, 304]})
            return
        try:
            page.url = normalize_url(unwrap(target) or target)
        except BadURL as exc:
            poll.problems.append(f"{response.url}: redirects to {target[:200]!r}: {exc}")
            return
        yield from self.take_search_entries(poll, [page])

    # --- both -------------------------------------------------------------------------

    def take_search_entries(self, poll: PollOutcome, pages: list[ListedPage]):
        """The new pages among `pages` (excluded domains dropped), at most the search's
        max_pages_per_search in a pass: what the cap leaves is taken next pass (the poll
        is then incomplete, so its window and validators stay where they were)."""
        search = self.option(poll.source).search
        limit = search.max_pages if search else DEFAULT_MAX_PAGES_PER_SEARCH
        files = self.sources_file
        pages = [p for p in pages if not (files and files.excluded(p.url))]
        fresh = [p for p in pages if p.url not in self.requested]
        stored = self.known_urls([p.url for p in fresh]) if fresh else set()
        fresh = [p for p in fresh if p.url not in stored]
        room = max(0, limit - poll.new_urls)
        if len(fresh) > room:
            poll.capped = True
            fresh = fresh[:room]
        yield from self.take_entries(poll, fresh, found_by=poll.source.outlet)
