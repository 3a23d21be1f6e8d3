"""One crawl pass: sync the sources file, poll what is due, fetch new pages, store
them, and record each source's outcome. Used by `backchannel crawl`."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

from scrapy.crawler import CrawlerProcess

from archive.db import connect, database_url
from archive.store import due_source_urls, known_urls, record_poll, sync_sources
from backchannel.config import Settings
from crawler.items import PassReport, PollOutcome
from crawler.settings import scrapy_settings
from crawler.sources import load_sources
from crawler.spiders.feeds import FeedSpider

log = logging.getLogger(__name__)


def crawl_once(settings: Settings, sources_path: Path | None = None,
               all_sources: bool = False, outbox=None) -> PassReport:
    """Run one pass in this process. Scrapy's reactor cannot restart, so a process
    calls this once (the daemon runs each pass in a child process). `outbox` (an
    alerts.outbox.Outbox) decides alerts as articles are stored."""
    sources_path = sources_path or settings.sources
    sources = load_sources(sources_path, settings.default_interval_minutes)
    allow_private = settings.allow_private_addresses or bool(sources.allow_private_addresses)
    url = database_url(settings)
    conn = connect(url)
    try:
        states = sync_sources(conn, sources)
        now = datetime.now(UTC)
        due = set(states) if all_sources else due_source_urls(conn, list(states), now)
        report = PassReport()
        todo = [state for source_url, state in states.items() if source_url in due]
        log.info("polling %d of %d sources", len(todo), len(states))
        if todo:
            scrapy_conf = scrapy_settings(settings, allow_private)
            scrapy_conf["BACKCHANNEL_DATABASE_URL"] = url
            scrapy_conf["BACKCHANNEL_SOURCES"] = str(sources_path) if sources_path else ""
            scrapy_conf["BACKCHANNEL_OUTBOX"] = outbox
            process = CrawlerProcess(scrapy_conf, install_root_handler=False)
            process.crawl(FeedSpider, sources=todo,
                          known_urls=lambda urls: known_urls(conn, urls), report=report)
            process.start()
        for poll in report.polls.values():
            save_poll(conn, poll)
        return report
    finally:
        conn.close()


def save_poll(conn, poll: PollOutcome) -> None:
    """A feed whose article pages failed for a passing reason keeps its old validators,
    so the next pass sees the full feed again and retries those pages."""
    keep_validators = poll.transient_page_failures == 0
    record_poll(
        conn,
        poll.source.id,
        ok=poll.ok,
        status=poll.status,
        error=poll.error,
        etag=poll.etag if keep_validators else None,
        last_modified=poll.last_modified if keep_validators else None,
        body_sha256=poll.body_sha256 if keep_validators else None,
    )
