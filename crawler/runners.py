"""The ways a pass runs: `crawl_once` in a process of its own (cron: Scrapy's
CrawlerProcess starts and stops the reactor), `crawl_pass` and `crawl_sources` inside
a long-running asyncio reactor (the daemon, a distributed worker); and how a shutdown
stops a running crawl. Each plans, crawls with NewsSpider, and records every poll."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from core.config import Settings
from core.logs import quiet_noisy_loggers
from crawler.connection import PassConnection
from crawler.items import PassReport
from crawler.plan import PassPlan, plan_pass, plan_sources
from crawler.spiders.news import NewsSpider

log = logging.getLogger(__name__)


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
            process = CrawlerProcess({**pass_settings(settings, plan),
                                      "LOG_INSTALL_ROOT_HANDLER": False})
            quiet_noisy_loggers()  # CrawlerProcess has just reset Scrapy's log levels
            crawler = process.create_crawler(NewsSpider)
            set_pass_deadline(crawler, settings.pass_timeout_minutes)
            if on_request is not None:
                crawler.signals.connect(lambda request, spider=None: on_request(request.url),
                                        signal=signals.request_reached_downloader, weak=False)
            process.crawl(crawler, **spider_arguments(plan, link, report, outbox))
            process.start()
            forget_unanswered(report, getattr(crawler, "abandoned_sources", set()))
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
        runner = AsyncCrawlerRunner(pass_settings(settings, plan))
        crawler = runner.create_crawler(NewsSpider)
        set_pass_deadline(crawler, settings.pass_timeout_minutes)
        if running is not None:
            running.append(crawler)
        try:
            await runner.crawl(crawler, **spider_arguments(plan, link, report, outbox))
        finally:
            if running is not None:
                running.remove(crawler)
        forget_unanswered(report, getattr(crawler, "abandoned_sources", set()))
    link.finish(settings, report)
    return report


def forget_unanswered(report: PassReport, abandoned: set[int]) -> None:
    """A stop (SIGTERM) is no failure of the sources it cut short: a source whose own
    request was abandoned, or never got an answer, was not polled. Its state stays as
    it was (failures included) and, being due, it is polled by the next pass."""
    for source_id, poll in list(report.polls.items()):
        if poll.status is None and (poll.error is None or source_id in abandoned):
            del report.polls[source_id]


def pass_settings(settings: Settings, plan: PassPlan) -> dict:
    """The plan's Scrapy settings and the page budget the item pipeline reads."""
    return {**plan.scrapy_settings,
            "BACKCHANNEL_PAGE_TIMEOUT": settings.page_timeout_seconds,
            "BACKCHANNEL_EXTRACT_PROCESSES": settings.extract_processes}


def set_pass_deadline(crawler, minutes: float) -> None:
    """Stop the crawl `minutes` after its engine starts, as a shutdown does: pages on
    the wire end, queued ones are abandoned (their feeds keep their validators) and
    sources not yet polled stay due, so the next pass takes what is left. A server
    answering just under the timeout can otherwise hold a pass for as long as it likes."""
    from scrapy import signals

    if not minutes or minutes <= 0:
        return
    calls = []

    def expire() -> None:
        log.warning("the pass ran for %g minutes (pass_timeout_minutes): stopping it; "
                    "what is left is taken by the next pass", minutes)
        asyncio.ensure_future(crawler.stop_async())
        abandon()

    def abandon() -> None:
        from twisted.internet import reactor

        abandon_queued_requests(crawler)
        if crawler.engine is not None and crawler.engine.spider is not None:
            calls.append(reactor.callLater(0.1, abandon))

    def started() -> None:
        from twisted.internet import reactor

        calls.append(reactor.callLater(minutes * 60, expire))

    def stopped() -> None:
        for call in calls:
            if call.active():
                call.cancel()

    crawler.signals.connect(started, signal=signals.engine_started, weak=False)
    crawler.signals.connect(stopped, signal=signals.engine_stopped, weak=False)


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
    sources = crawler.__dict__.setdefault("abandoned_sources", set())
    for slot in list(engine.downloader.slots.values()):
        while slot.queue:
            request, deferred = slot.queue.popleft()
            if "source_id" in request.meta and not request.meta.get("pending"):
                sources.add(request.meta["source_id"])  # the source's own document
            deferred.errback(Failure(PassInterrupted("stopped before it was fetched")))
            abandoned += 1
    return abandoned
