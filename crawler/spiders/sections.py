"""Section-page sources, a part of the crawl's one spider (crawler/spiders/news.py,
`NewsSpider`, which explains why there is one).

For outlets with neither feed nor sitemap: a listing page (`sections = [...]`) is
fetched conditionally like a feed; its article links are found by the outlet's
`section_selector` or the default heuristic (crawler/sections.py); those the archive
does not hold, and that no other source of this pass requested, are fetched. The next
listing page (rel=next, Next/Older/»/a page number) is followed while the page just
read brought a new article, up to `section_pages` pages (3) in all. Requests go
through Scrapy like any other: robots.txt, per-host limits, retries."""

from __future__ import annotations

import logging

from scrapy.http import Response

from crawler.items import ListedPage
from crawler.sections import section_links
from extract.charset import looks_like_html

log = logging.getLogger(__name__)

HTML_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
HTML_TYPES = ("text/html", "application/xhtml+xml")


class SectionSources:
    """Mixin for NewsSpider: the `section` kind of source."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._listings_seen: dict[int, set[str]] = {}  # per source: listing pages requested

    def section_request(self, source):
        self._listings_seen[source.id] = {source.url}
        return self.source_request(source, self.parse_section, HTML_ACCEPT, meta={"page": 1})

    def parse_section(self, response: Response):
        page = response.meta.get("page", 1)
        if page == 1:
            poll = self.read_source_response(response)
            if poll is None:
                return
        else:
            poll = self.report.polls[response.meta["source_id"]]
            poll.pages_pending -= 1
            poll.documents_read += 1
            if response.status == 304:
                return
        content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
        kind = content_type.split(";")[0].strip().lower()
        if kind and kind not in HTML_TYPES and not looks_like_html(response.body):
            problem = f"{response.url}: not an HTML page (Content-Type: {kind})"
            if page == 1:
                poll.error, poll.body_sha256 = problem, None
                log.error("section unusable: %s", problem, extra={"source": poll.source.url})
            else:
                poll.problems.append(problem)
            return
        option = self.option(poll.source)
        listing = section_links(response.body, response.url, content_type or None,
                                option.selector, page, section_url=poll.source.url)
        poll.entries += len(listing.articles)
        if page == 1:
            poll.next_page = listing.next_page
            if not listing.articles:
                poll.problems.append(f"{response.url}: no article links found (a "
                                     f"section_selector may be needed)")
        log.info("section page %d: %d article links, %d other links, next page %s", page,
                 len(listing.articles), len(listing.rejected), listing.next_page or "none",
                 extra={"source": poll.source.url, "url": response.url})
        before = poll.new_urls
        yield from self.take_entries(poll, (ListedPage(link.url, link.text)
                                            for link in listing.articles))
        seen = self._listings_seen.setdefault(poll.source.id, {poll.source.url})
        if (listing.next_page and not self.probe and page < option.pages
                and poll.new_urls > before and listing.next_page not in seen):
            seen.add(listing.next_page)
            yield self.follow_up(poll, listing.next_page, self.parse_section,
                                 {"page": page + 1}, {"Accept": HTML_ACCEPT})
