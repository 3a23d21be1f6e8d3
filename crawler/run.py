"""A crawl pass: sync the sources file, poll what is due, fetch new pages, store them,
and record each source's outcome and next poll. `crawl_once` runs one pass in a
process of its own (cron); `crawl_pass` is the same pass inside a long-running asyncio
reactor (the daemon)."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from archive.db import DatabaseError, connect, database_url, error_line
from archive.store import (
    SourceState,
    due_sources,
    known_urls,
    record_poll,
    source_states,
    sync_sources,
)
from core.config import Settings
from core.logs import quiet_noisy_loggers
from core.urls import host_of
from crawler.items import PassReport, PollOutcome
from crawler.polling import PollingPolicy, next_interval, with_jitter
from crawler.settings import scrapy_settings
from crawler.sources import load_sources
from crawler.spiders.news import NewsSpider

log = logging.getLogger(__name__)


def plan_pass(conn, settings: Settings, sources_path: Path | None, all_sources: bool,
              per_host: int | None = None) -> tuple[list[SourceState], dict]:
    """The sources to poll now (every one with `all_sources`; at most `per_host` of one
    host, the longest-waiting first) and the Scrapy settings for the pass."""
    sources_path = sources_path or settings.sources
    sources = load_sources(sources_path, settings.default_interval_minutes)
    allow_private = settings.allow_private_addresses or bool(sources.allow_private_addresses)
    states = _states(conn, sources, sources_path)
    if all_sources:
        todo = list(states.values())
    else:
        due = due_sources(conn, list(states), datetime.now(UTC))  # longest-waiting first
        per_host_count: Counter[str] = Counter()
        todo = []
        for url in due:
            host = host_of(url)
            if per_host is None or per_host_count[host] < per_host:
                per_host_count[host] += 1
                todo.append(states[url])
    log.info("polling %d of %d sources", len(todo), len(states))
    conf = scrapy_settings(settings, allow_private)
    conf["BACKCHANNEL_SOURCES"] = str(sources_path) if sources_path else ""
    conf["BACKCHANNEL_SOURCE_OPTIONS"] = {source.url: source for source in sources.sources}
    return todo, conf


_synced: dict[tuple, tuple] = {}  # (file, database) → the file's (mtime, size) last synced


def _states(conn, sources, sources_path: Path | None) -> dict[str, SourceState]:
    """Sync the sources file into the archive when it changed (the daemon looks every few
    seconds: rewriting every row each time would only churn the table), else read."""
    path = Path(sources_path) if sources_path else None
    try:
        stat = path.stat() if path else None
    except OSError:
        stat = None
    key = (str(path), conn.info.host, conn.info.port, conn.info.dbname)
    signature = (stat.st_mtime_ns, stat.st_size) if stat else None
    states = source_states(conn, sources) if signature and _synced.get(key) == signature \
        else None
    if states is None or len(states) != len(sources.sources):
        states = sync_sources(conn, sources)
        if signature:
            _synced[key] = signature
    return states


class PassConnection:
    """A pass's database connection, replaced should a database restart break it: the
    stored-URL lookups during the crawl and the sources' outcome at its end go on on a
    new connection. Every pass body (cron, daemon, worker task) uses one."""

    def __init__(self, url: str, conn: psycopg.Connection) -> None:
        self.url, self.conn = url, conn

    def reconnect(self) -> psycopg.Connection:
        self.conn.close()
        self.conn = connect(self.url, migrate_now=False)
        return self.conn

    def known(self, urls: list[str]) -> set[str]:
        """The URLs already stored. Should the database be restarted meanwhile, on a new
        connection; should it be down, none: the pages are fetched and, not stored,
        leave their feeds unfinished (an exception here would lose the feed's entries
        and save its validators as if all were read)."""
        try:
            return known_urls(self.conn, urls)
        except psycopg.OperationalError as exc:
            log.warning("lost the database connection (%s); reconnecting", error_line(exc))
        try:
            return known_urls(self.reconnect(), urls)
        except (psycopg.OperationalError, DatabaseError) as exc:
            log.error("cannot look up stored articles (%s); fetching all %d listed",
                      error_line(exc), len(urls))
            return set()

    def finish(self, settings: Settings, report: PassReport) -> None:
        """Record each source's outcome (reconnecting once more if need be, whatever
        happened during the crawl); DatabaseError when that cannot be done."""
        try:
            finish_pass(self.conn, settings, report, self.reconnect)
        except (psycopg.OperationalError, DatabaseError) as exc:
            raise DatabaseError(
                f"the sources' outcome could not be recorded ({error_line(exc)}); "
                "they will be polled again by the next pass") from None

    def close(self) -> None:
        self.conn.close()


def finish_pass(conn, settings: Settings, report: PassReport, reconnect=None) -> None:
    """Record each source's outcome. With `reconnect` (a function returning a new
    connection), a connection that a database restart broke is replaced once."""
    policy = PollingPolicy.from_settings(settings)
    for poll in report.polls.values():
        try:
            save_poll(conn, poll, policy)
        except psycopg.OperationalError:
            if reconnect is None or not (conn.broken or conn.closed):
                raise
            log.warning("lost the database connection; recording the sources' outcome on "
                        "a new one")
            conn = reconnect()
            reconnect = None
            save_poll(conn, poll, policy)


def crawl_once(settings: Settings, sources_path: Path | None = None,
               all_sources: bool = False, outbox=None,
               report: PassReport | None = None) -> PassReport:
    """Run one pass in this process. Scrapy's CrawlerProcess starts and stops the
    reactor, so a process calls this once. `outbox` (an alerts.outbox.Outbox) decides
    alerts as articles are stored; `report` is filled in as the pass goes (progress)."""
    from scrapy.crawler import CrawlerProcess

    url = database_url(settings)
    link = PassConnection(url, connect(url))
    try:
        todo, conf = plan_pass(link.conn, settings, sources_path, all_sources)
        report = report if report is not None else PassReport()
        report.sources_due = len(todo)
        if todo:
            conf.update(BACKCHANNEL_DATABASE_URL=url, BACKCHANNEL_OUTBOX=outbox)
            process = CrawlerProcess({**conf, "LOG_INSTALL_ROOT_HANDLER": False})
            quiet_noisy_loggers()  # CrawlerProcess has just reset Scrapy's log levels
            process.crawl(NewsSpider, sources=todo, known_urls=link.known, report=report)
            process.start()
        link.finish(settings, report)
        return report
    finally:
        link.close()


async def crawl_pass(settings: Settings, url: str, sources_path: Path | None = None,
                     outbox=None, per_host: int | None = None, running: list | None = None,
                     ) -> PassReport:
    """One pass inside an already running asyncio reactor. The crawler is appended to
    `running` while it runs, so that a shutdown can stop it gracefully."""
    # the daemon migrated the archive at start
    link = PassConnection(url, connect(url, migrate_now=False))
    try:
        todo, conf = plan_pass(link.conn, settings, sources_path, False, per_host)
        return await _run_in_reactor(link, settings, todo, conf, outbox, running,
                                     PassReport())
    finally:
        link.close()


async def _run_in_reactor(link: PassConnection, settings: Settings,
                          todo: list[SourceState], conf: dict, outbox,
                          running: list | None, report: PassReport) -> PassReport:
    """Crawl `todo` with a new AsyncCrawlerRunner in the running reactor, then record
    each poll: the body of a daemon pass and of a worker's task alike."""
    from scrapy.crawler import AsyncCrawlerRunner

    if todo:
        conf.update(BACKCHANNEL_DATABASE_URL=link.url, BACKCHANNEL_OUTBOX=outbox)
        runner = AsyncCrawlerRunner(conf)
        crawler = runner.create_crawler(NewsSpider)
        if running is not None:
            running.append(crawler)
        try:
            await runner.crawl(crawler, sources=todo, known_urls=link.known, report=report)
        finally:
            if running is not None:
                running.remove(crawler)
    link.finish(settings, report)
    return report


def check_sources(settings: Settings, sources_path: Path | None = None) -> list[PollOutcome]:
    """Probe every source of the file once, reading it as a crawl would (the same Scrapy
    settings: politeness, robots.txt, retries, the private-address guard; child sitemaps
    too) but without the archive: nothing is written, no validators are sent, no article
    page is fetched. One outcome per source, in file order. Runs Scrapy's reactor, so
    once per process."""
    from scrapy.crawler import CrawlerProcess

    sources_path = sources_path or settings.sources
    sources = load_sources(sources_path, settings.default_interval_minutes)
    allow_private = settings.allow_private_addresses or bool(sources.allow_private_addresses)
    states = [SourceState(id=number, outlet=s.outlet, kind=s.kind, url=s.url,
                          interval_minutes=s.interval_minutes, etag=None, last_modified=None,
                          body_sha256=None, consecutive_failures=0)
              for number, s in enumerate(sources.sources, start=1)]
    report = PassReport()
    if states:
        conf = scrapy_settings(settings, allow_private)
        conf.update(ITEM_PIPELINES={}, LOG_INSTALL_ROOT_HANDLER=False,
                    BACKCHANNEL_SOURCE_OPTIONS={s.url: s for s in sources.sources})
        process = CrawlerProcess(conf)
        quiet_noisy_loggers()
        process.crawl(NewsSpider, sources=states, known_urls=lambda urls: set(),
                      report=report, probe=True)
        process.start()
    return [report.polls.get(s.id) or PollOutcome(s, error=f"{s.url}: not probed")
            for s in states]


class PassInterrupted(Exception):
    """The pass was stopped before this page was fetched; a later pass will fetch it."""


def abandon_queued_requests(crawler) -> int:
    """Fail the requests waiting in the downloader's queues. Scrapy's graceful stop sends
    every request already handed to the downloader (up to CONCURRENT_REQUESTS of them)
    before it closes; on shutdown we want only those already on the wire. The abandoned
    pages count as failed for a passing reason, so their feeds keep the old validators
    and the next pass fetches them."""
    engine = getattr(crawler, "engine", None)
    if engine is None or engine.downloader is None:
        return 0
    from twisted.python.failure import Failure

    abandoned = 0
    for slot in list(engine.downloader.slots.values()):
        while slot.queue:
            _, deferred = slot.queue.popleft()
            deferred.errback(Failure(PassInterrupted("stopped before it was fetched")))
            abandoned += 1
    return abandoned


def save_poll(conn, poll: PollOutcome, policy: PollingPolicy) -> None:
    """A feed whose article pages failed for a passing reason (or were never fetched,
    the pass being stopped) keeps its old validators, so the next pass sees the full
    feed again and retries those pages."""
    unfinished = poll.interrupted or poll.pages_pending > 0
    keep_validators = poll.transient_page_failures == 0 and not unfinished
    base = poll.source.interval_minutes * 60
    interval, hint = next_interval(base, poll, policy, poll.source.effective_interval_seconds)
    next_poll_in = 0.0 if unfinished else with_jitter(interval, policy)  # finish it first
    record_poll(
        conn,
        poll.source.id,
        ok=poll.ok,
        status=poll.status,
        error=poll.error,
        etag=poll.etag if keep_validators else None,
        last_modified=poll.last_modified if keep_validators else None,
        body_sha256=poll.body_sha256 if keep_validators else None,
        interval_seconds=interval,
        next_poll_in=next_poll_in,
        wait_at_least=poll.retry_after or 0.0,
        hint=hint,
        complete=keep_validators,
    )


# --- distributed workers (`backchannel run --role worker`) ---------------------------

_worker_plans: dict[tuple, tuple] = {}  # (file, interval) → ((mtime, size), sources, conf)


def plan_sources(conn, settings: Settings, sources_path: Path | None,
                 source_ids: list[int]) -> tuple[list[SourceState], dict]:
    """For a distributed worker: the polling state of the named sources, read only (the
    scheduler syncs the sources file into the archive), and the Scrapy settings. A source
    no longer in the file is left out. The file is re-read only when it changed."""
    sources_path = sources_path or settings.sources
    path = Path(sources_path) if sources_path else None
    try:
        stat = path.stat() if path else None
        signature = (stat.st_mtime_ns, stat.st_size) if stat else None
    except OSError:
        signature = None
    key = (str(path), settings.default_interval_minutes)
    cached = _worker_plans.get(key)
    if cached is None or signature is None or cached[0] != signature:
        sources = load_sources(sources_path, settings.default_interval_minutes)
        allow_private = (settings.allow_private_addresses
                         or bool(sources.allow_private_addresses))
        conf = scrapy_settings(settings, allow_private)
        conf["BACKCHANNEL_SOURCES"] = str(sources_path) if sources_path else ""
        conf["BACKCHANNEL_SOURCE_OPTIONS"] = {s.url: s for s in sources.sources}
        cached = (signature, {s.url: s.outlet for s in sources.sources}, conf)
        _worker_plans[key] = cached
    _, outlet_of, conf = cached
    rows = conn.execute(
        """SELECT id, kind, url, interval_minutes, etag, last_modified, body_sha256,
                  consecutive_failures, effective_interval_seconds, window_start
           FROM sources WHERE id = ANY(%s) ORDER BY id""",
        (list(source_ids),),
    ).fetchall()
    todo = [SourceState(outlet=outlet_of[row["url"]], **row) for row in rows
            if row["url"] in outlet_of]
    return todo, dict(conf)


async def crawl_sources(settings: Settings, url: str, source_ids: list[int],
                        sources_path: Path | None = None, outbox=None,
                        running: list | None = None) -> PassReport:
    """Poll the named sources now, due or not (the scheduler decided), inside an already
    running asyncio reactor: fetch, extract, classify, store, and record each poll, as
    `crawl_pass` does for the sources it finds due."""
    link = PassConnection(url, connect(url, migrate_now=False))
    try:
        todo, conf = plan_sources(link.conn, settings, sources_path, source_ids)
        return await _run_in_reactor(link, settings, todo, conf, outbox, running,
                                     PassReport(sources_due=len(todo)))
    finally:
        link.close()
