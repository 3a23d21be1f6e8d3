"""The ways a pass runs: `crawl_once` in a process of its own (cron: Scrapy's
CrawlerProcess starts and stops the reactor), `crawl_pass` and `crawl_sources` inside
a long-running asyncio reactor (the daemon, a distributed worker); and how a shutdown
stops a running crawl. Each plans, crawls with NewsSpider, and records every poll."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from core.config import Settings
from core.logs import quiet_noisy_loggers
from crawler.connection import PassConnection
from crawler.items import PassReport
from crawler.plan import PassPlan, plan_pass, plan_sources
from crawler.spiders.news import NewsSpider


def spider_arguments(plan: PassPlan, link: PassConnection, report: PassReport,
                     outbox) -> dict:
    """NewsSpider's arguments for a pass; the pipeline reads the parsed sources file,
    the database URL and the outbox from the spider."""
    return {"sources": plan.todo, "known_urls": link.known, "report": report,
            "sources_file": plan.sources_file, "database_url": link.url, "outbox": outbox}


def crawl_once(settings: Settings, url: str, sources_path: Path | None = None,
               all_sources: bool = False, outbox=None,
               report: PassReport | None = None,
               on_request: Callable[[str], None] | None = None) -> PassReport:
    """Run one pass in this process, once per process (the reactor cannot restart).
    `outbox` (an alerts.outbox.Outbox) decides alerts as articles are stored; `report`
    is filled in as the pass goes and `on_request` told each URL as it is sent
    (progress). The archive must be migrated already."""
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess

    link = PassConnection.open(url)
    try:
        plan = plan_pass(link.conn, settings, sources_path, all_sources)
        report = report if report is not None else PassReport()
        report.sources_due = len(plan.todo)
        if plan.todo:
            process = CrawlerProcess({**plan.scrapy_settings, "LOG_INSTALL_ROOT_HANDLER": False})
            quiet_noisy_loggers()  # CrawlerProcess has just reset Scrapy's log levels
            crawler = process.create_crawler(NewsSpider)
            if on_request is not None:
                crawler.signals.connect(lambda request, spider=None: on_request(request.url),
                                        signal=signals.request_reached_downloader, weak=False)
            process.crawl(crawler, **spider_arguments(plan, link, report, outbox))
            process.start()
        link.finish(settings, report)
        return report
    finally:
        link.close()


async def crawl_pass(settings: Settings, url: str, sources_path: Path | None = None,
                     outbox=None, per_host: int | None = None, running: list | None = None,
                     ) -> PassReport:
    """One pass over the due sources inside an already running asyncio reactor. The
    crawler is appended to `running` while it runs, so that a shutdown can stop it."""
    link = PassConnection.open(url)
    try:
        plan = plan_pass(link.conn, settings, sources_path, False, per_host)
        return await _run_in_reactor(link, settings, plan, outbox, running, PassReport())
    finally:
        link.close()


async def crawl_sources(settings: Settings, url: str, source_ids: list[int],
                        sources_path: Path | None = None, outbox=None,
                        running: list | None = None) -> PassReport:
    """Poll the named sources now, due or not (the scheduler decided), as `crawl_pass`
    does for the sources it finds due: a distributed worker's task."""
    link = PassConnection.open(url)
    try:
        plan = plan_sources(link.conn, settings, sources_path, source_ids)
        return await _run_in_reactor(link, settings, plan, outbox, running,
                                     PassReport(sources_due=len(plan.todo)))
    finally:
        link.close()


async def _run_in_reactor(link: PassConnection, settings: Settings, plan: PassPlan, outbox,
                          running: list | None, report: PassReport) -> PassReport:
    """Crawl the plan with a new AsyncCrawlerRunner in the running reactor, then record
    each poll."""
    from scrapy.crawler import AsyncCrawlerRunner

    if plan.todo:
        runner = AsyncCrawlerRunner(plan.scrapy_settings)
        crawler = runner.create_crawler(NewsSpider)
        if running is not None:
            running.append(crawler)
        try:
            await runner.crawl(crawler, **spider_arguments(plan, link, report, outbox))
        finally:
            if running is not None:
                running.remove(crawler)
    link.finish(settings, report)
    return report


class PassInterrupted(Exception):
    """The pass was stopped before this page was fetched; a later pass will fetch it."""


def abandon_queued_requests(crawler) -> int:
    """Fail the requests waiting in the downloader's queues. Scrapy's graceful stop sends
    every request already handed to the downloader (up to CONCURRENT_REQUESTS of them)
    before it closes; on shutdown we want only those already on the wire. The abandoned
    pages count as failed for a passing reason, so their feeds keep the old validators
    and the next pass fetches them. (This reads Scrapy's internals: the downloader's
    slots and their queues.)"""
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
