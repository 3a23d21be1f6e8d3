"""What spiders hand to the pipeline, and what a pass reports back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from archive.store import SourceState
from crawler.sources import redact_url


@dataclass
class ListedPage:
    """An article URL a source lists: a feed entry, a sitemap entry, a section link."""

    url: str  # normalised
    title: str | None = None
    published: datetime | None = None
    entry_id: str | None = None  # a feed entry's GUID
    site_name: str | None = None  # searches: the outlet's name the engine gives


@dataclass
class PollOutcome:
    """One source's poll in this pass; written to `sources` when the pass ends."""

    source: SourceState
    status: int | None = None
    error: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    body_sha256: str | None = None
    entries: int = 0
    new_urls: int = 0
    unchanged: bool = False
    transient_page_failures: int = 0
    # follow-up requests made and not yet answered: article pages, child sitemaps,
    # listing pages 2…
    pages_pending: int = 0
    interrupted: bool = False  # the pass was stopped before all its pages were fetched
    problems: list[str] = field(default_factory=list)
    # Sitemaps and sections: documents read beyond the source's own URL (child
    # sitemaps, listing pages 2…) and those that failed; entries left out as too old
    # or undated (sitemaps); the next listing page found (sections).
    documents_read: int = 0
    documents_failed: int = 0
    entries_old: int = 0
    entries_undated: int = 0
    next_page: str | None = None
    robots: str | None = None  # "allowed" | "disallowed" | "not checked" (sources check)
    # What decides the next poll: the entries' dates, and the server's own hints.
    entry_times: list[datetime] = field(default_factory=list)
    ttl_minutes: int | None = None
    max_age: float | None = None
    retry_after: float | None = None
    # Searches: the end of the window asked for (saved when the poll is complete), and
    # whether max_pages_per_search left results for the next pass.
    window_end: datetime | None = None
    capped: bool = False
    requests: int = 0  # requests to the engine (GDELT pages, redirects followed)
    hub: object | None = None  # feeds: the WebSub hub it names (crawler.websub.Hub)

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None

    def __setattr__(self, name: str, value) -> None:
        """An error names its source's URL: never with the credentials it may carry, as
        it is printed (FAILED lines), logged and stored (sources.last_error)."""
        if name == "error" and value:
            value = redact_url(value)
            userinfo = urlsplit(self.source.url).netloc.rpartition("@")[0]
            if userinfo:  # quoted without its URL ("invalid hostname: user:pw@host")
                value = value.replace(userinfo, "***")
        super().__setattr__(name, value)


@dataclass
class PassReport:
    """Counts for one crawl pass, printed at its end and used by tests and metrics."""

    polls: dict[int, PollOutcome] = field(default_factory=dict)
    sources_due: int = 0
    pages_fetched: int = 0
    articles_new: int = 0
    articles_changed: int = 0
    pages_skipped: int = 0
    page_errors: list[str] = field(default_factory=list)
    new_article_ids: list[int] = field(default_factory=list)
    story_joins: list = field(default_factory=list)  # archive.stories.Assignment, new only
    alerts: list[int] = field(default_factory=list)  # ids of the alerts this pass created

    @property
    def failed_sources(self) -> list[PollOutcome]:
        return [poll for poll in self.polls.values() if not poll.ok]
