"""Sitemap sources, a part of the crawl's one spider (crawler/spiders/news.py,
`NewsSpider`, which explains why there is one) (design notes: docs/crawl.md)."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import urlsplit

from scrapy.http import Response

from crawler.items import ListedPage, PollOutcome
from crawler.sitemaps import (
    MAX_CHILD_SITEMAPS,
    MAX_DEPTH,
    MAX_ENTRIES,
    SitemapError,
    parse_sitemap,
    robots_sitemaps,
    select_entries,
    select_sitemaps,
    sitemap_body,
)

log = logging.getLogger(__name__)

SLACK = timedelta(hours=1)  # entries dated a little before the last success still count
SITEMAP_ACCEPT = ("application/xml, text/xml;q=0.9, application/x-gzip;q=0.8, "
                  "application/gzip;q=0.8, */*;q=0.5")
PROBE_CHILD_SITEMAPS = 10  # `sources check` reads no more children of an index
ENTRY_TIMES_KEPT = 100  # the newest entry dates, for the posting-rate estimate


def is_robots(url: str) -> bool:
    return urlsplit(url).path == "/robots.txt"


class SitemapSources:
    """Mixin for NewsSpider: the `sitemap` kind of source."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._sitemaps_seen: dict[int, set[str]] = {}  # per source: documents requested
        self._urlsets: Counter[int] = Counter()  # per source: sitemaps (not indexes) read
        self._taken: Counter[int] = Counter()  # per source: entries taken, at most MAX_ENTRIES

    def sitemap_request(self, source):
        if is_robots(source.url):  # reading robots.txt is always allowed
            return self.source_request(source, self.parse_robots, "text/plain, */*;q=0.5",
                                       conditional=False, meta={"dont_obey_robotstxt": True})
        self._sitemaps_seen.setdefault(source.id, {source.url})
        return self.source_request(source, self.parse_sitemap, SITEMAP_ACCEPT,
                                   meta={"depth": 0})

    def sitemap_since(self, source) -> datetime:
        """The start of the window: entries dated earlier are not taken."""
        if source.window_start is not None and not self.probe:
            return source.window_start - SLACK
        return self.now - timedelta(hours=self.option(source).first_pass_hours)

    def parse_robots(self, response: Response):
        poll = self.read_source_response(response)
        if poll is None:
            return
        poll.etag = poll.last_modified = poll.body_sha256 = None  # always read it whole
        urls = robots_sitemaps(response.body, response.url)
        if not urls:
            poll.error = f"{poll.source.url}: robots.txt lists no sitemap (no Sitemap: line)"
            log.error("robots.txt lists no sitemap", extra={"source": poll.source.url})
            return
        for url in urls:
            request = self._follow_sitemap(poll, url, 1)
            if request is not None:
                yield request

    def _follow_sitemap(self, poll: PollOutcome, url: str, depth: int):
        seen = self._sitemaps_seen.setdefault(poll.source.id, set())
        if url in seen:
            return None
        if depth > MAX_DEPTH:
            poll.problems.append(f"{url}: sitemaps nested deeper than {MAX_DEPTH} levels; "
                                 f"not read")
            return None
        seen.add(url)
        headers = {"Accept": SITEMAP_ACCEPT}
        if not self.probe:  # nothing new in it if it has not changed since the window began
            headers["If-Modified-Since"] = _http_date(self.sitemap_since(poll.source))
        return self.follow_up(poll, url, self.parse_sitemap, {"depth": depth}, headers)

    def parse_sitemap(self, response: Response):
        depth = response.meta.get("depth", 0)
        source_id = response.meta["source_id"]
        if depth == 0:
            poll = self.read_source_response(response)
            if poll is None:
                return
        else:
            poll = self.report.polls[source_id]
            poll.pages_pending -= 1
            if response.status == 304:  # not changed since the window began
                poll.documents_read += 1
                self._urlsets[source_id] += 1
                return
        max_size = self.settings.getint("DOWNLOAD_MAXSIZE")
        try:
            parsed = parse_sitemap(sitemap_body(response.body, max_size), response.url)
        except SitemapError as exc:
            if depth == 0:
                poll.error = f"{response.url}: {exc}"
                poll.body_sha256 = None
                log.error("sitemap unusable: %s", exc, extra={"source": poll.source.url})
            else:
                poll.documents_failed += 1
                poll.problems.append(f"{response.url}: {exc}")
                log.warning("sitemap unusable: %s", exc,
                            extra={"source": poll.source.url, "url": response.url})
            return
        if depth:
            poll.documents_read += 1
        for problem in parsed.problems:
            poll.problems.append(f"{response.url}: {problem}")
            log.warning("%s", problem, extra={"source": poll.source.url, "url": response.url})
        since = self.sitemap_since(poll.source)
        if parsed.kind == "sitemapindex":
            if depth == 0:  # the sitemaps it lists change while it does not
                poll.etag = poll.last_modified = poll.body_sha256 = None
            limit = PROBE_CHILD_SITEMAPS if self.probe else MAX_CHILD_SITEMAPS
            children, old = select_sitemaps(parsed.sitemaps, since, limit)
            left = len(parsed.sitemaps) - old - len(children)
            if left > 0:
                poll.problems.append(f"{response.url}: {left} more sitemaps changed in the "
                                     f"window than the {limit} read")
            log.info("sitemap index: %d sitemaps, %d changed in the window", len(
                parsed.sitemaps), len(children), extra={"source": poll.source.url,
                                                        "url": response.url})
            for child in children:
                request = self._follow_sitemap(poll, child.url, depth + 1)
                if request is not None:
                    yield request
            return
        self._urlsets[source_id] += 1
        poll.entries += len(parsed.entries)
        poll.entry_times = sorted([*poll.entry_times, *(e.when for e in parsed.entries
                                                        if e.when)],
                                  reverse=True)[:ENTRY_TIMES_KEPT]
        budget = MAX_ENTRIES - self._taken[source_id]
        selection = select_entries(parsed.entries, since, budget)
        self._taken[source_id] += len(selection.recent)
        poll.entries_old += selection.old
        poll.entries_undated += selection.undated
        if selection.undated:
            poll.problems.append(f"{response.url}: {selection.undated} entries without a "
                                 f"date left out")
        if selection.over_limit:
            poll.problems.append(f"{response.url}: {selection.over_limit} recent entries "
                                 f"beyond {MAX_ENTRIES} per source left out (the oldest)")
        log.info("sitemap: %d entries, %d in the window, %d older, %d undated",
                 len(parsed.entries), len(selection.recent), selection.old, selection.undated,
                 extra={"source": poll.source.url, "url": response.url})
        yield from self.take_entries(poll, (ListedPage(e.url, e.title, e.when)
                                            for e in selection.recent))

    def sitemaps_closed(self) -> None:
        """A sitemap source whose index or robots.txt was read but none of whose
        sitemaps could be (they failed, none was read or found unchanged): the source
        failed."""
        urlsets = self._urlsets
        for source_id, poll in self.report.polls.items():
            if (poll.source.kind == "sitemap" and poll.error is None and poll.status
                    and not poll.unchanged and not poll.interrupted
                    and urlsets[source_id] == 0 and poll.documents_failed):
                poll.error = (f"{poll.source.url}: none of its sitemaps could be read "
                              f"({poll.problems[-1] if poll.problems else 'no reason given'})")


def _http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)
