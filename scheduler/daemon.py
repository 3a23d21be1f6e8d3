"""`backchannel run`: crawl passes on a schedule until stopped, in one process with one
asyncio reactor for its whole life (Scrapy's reactor cannot be restarted). How the
passes, alert delivery and shutdown fit together: docs/crawl.md."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import time
from pathlib import Path

from alerts.wiring import wiring_from_settings
from archive.db import DatabaseError, connect
from archive.locks import CrawlerLock
from core.config import Settings
from crawler.sources import load_sources
from scheduler.health import HealthServer
from scheduler.metrics import Metrics
from scheduler.websub import PushService

log = logging.getLogger(__name__)

ASYNCIO_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
STOP_DEADLINE = 25.0  # seconds from SIGTERM to exit, whatever is still running


class ReactorError(RuntimeError):
    """The Twisted reactor was installed before the daemon could install its own."""


def install_asyncio_reactor() -> None:
    """Install the asyncio reactor, or fail loudly: a default reactor imported earlier
    (by anything importing twisted.internet.reactor) would make the daemon hang."""
    if "twisted.internet.reactor" in sys.modules:
        from twisted.internet import reactor

        name = f"{type(reactor).__module__}.{type(reactor).__name__}"
        if name != ASYNCIO_REACTOR:
            raise ReactorError(f"the Twisted reactor {name} was installed before the daemon "
                               f"started; it needs {ASYNCIO_REACTOR}")
        return
    from scrapy.utils.reactor import install_reactor

    install_reactor(ASYNCIO_REACTOR)


class Daemon:
    def __init__(self, settings: Settings, sources_path: Path | None = None) -> None:
        self.settings = settings
        self.sources_path = sources_path or settings.sources
        self.metrics = Metrics()
        self.stopping = False
        self.in_pass = False
        self.passes = 0
        self.last_pass_end: float | None = None
        self.running_crawlers: list = []

    def run(self, max_passes: int | None = None) -> int:
        install_asyncio_reactor()
        from apscheduler.schedulers.asyncio import AsyncIOScheduler
        from twisted.internet import reactor

        settings = self.settings
        sources = load_sources(self.sources_path, settings.default_interval_minutes)
        from crawler.resolver import install as install_resolver

        install_resolver(reactor, settings.allow_private_addresses
                         or bool(sources.allow_private_addresses))  # no DNS rebinding
        self.wiring = wiring_from_settings(settings, self.metrics.record_delivery)
        self.url = self.wiring.database_url
        connect(self.url).close()  # create or migrate the archive
        self.max_passes = max_passes
        self.lock = CrawlerLock(self.url, "backchannel run")
        self.websub = PushService.from_settings(
            settings, self.url, self.sources_path, self.wiring.outbox, self.running_crawlers,
            settings.allow_private_addresses or bool(sources.allow_private_addresses),
            self.lock.hold)
        self.health = HealthServer(settings.health_host, settings.health_port, self.url,
                                   self.metrics, lambda: self.last_pass_end,
                                   settings.health_max_age_minutes * 60, self.websub,
                                   settings.max_page_bytes).start()
        self.wiring.start()
        self.scheduler = AsyncIOScheduler(event_loop=asyncio.get_event_loop())
        self.scheduler.add_job(self.tick, "interval", seconds=settings.tick_seconds,
                               id="crawl", max_instances=1, coalesce=True,
                               misfire_grace_time=None, next_run_time=_now())
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: reactor.callFromThread(self.shutdown))
        reactor.callWhenRunning(self.scheduler.start)
        host, port = self.health.address
        log.info("daemon started: a look for due sources every %.0f s; health on "
                 "http://%s:%d/healthz", settings.tick_seconds, host, port)
        reactor.run(installSignalHandlers=False)
        log.info("daemon stopped after %d passes", self.passes)
        return 0

    async def tick(self) -> None:
        """One pass over the sources that are due, if this process holds the lock."""
        from crawler.runners import crawl_pass

        if self.stopping:
            return
        if not self.lock.hold():
            return
        self.in_pass = True
        started = time.monotonic()
        try:
            report = await crawl_pass(self.settings, self.url, self.sources_path,
                                      self.wiring.outbox, self.settings.host_polls_per_tick,
                                      self.running_crawlers)
            if self.websub is not None:  # subscribe, renew, widen pushed feeds' polls
                await self.websub.after_pass(report)
            self.last_pass_end = time.time()  # a look with nothing due counts for health…
            if report.polls:  # …but only a pass that polled is a pass in the figures
                self.metrics.record_pass(report, time.monotonic() - started,
                                         self.last_pass_end)
                self.passes += 1
                log.info("pass %d: polled %d sources, stored %d new articles, %d alerts",
                         self.passes, len(report.polls), report.articles_new,
                         len(report.alerts))
        except DatabaseError as exc:  # already one clear line: no traceback
            log.error("crawl pass failed: %s; the next one will try again", exc)
        except Exception:  # a pass that fails must not end the daemon
            log.exception("crawl pass failed; the next one will try again")
        finally:
            self.in_pass = False
        if self.max_passes is not None and self.passes >= self.max_passes:
            self.shutdown()

    def shutdown(self) -> None:
        """Stop taking work, let the pass in hand end, then stop the reactor."""
        from twisted.internet import reactor

        from crawler.runners import abandon_queued_requests

        if self.stopping:
            return
        self.stopping = True
        log.info("stopping: no new passes; finishing the one in progress")
        self.scheduler.pause()
        if self.websub is not None:
            self.websub.stop()
        for crawler in list(self.running_crawlers):
            asyncio.ensure_future(crawler.stop_async())
        deadline = time.monotonic() + STOP_DEADLINE

        def finish() -> None:
            for crawler in list(self.running_crawlers):  # pages not yet on the wire
                abandon_queued_requests(crawler)
            busy = self.in_pass or (self.websub is not None and self.websub.busy)
            if busy and time.monotonic() < deadline:
                reactor.callLater(0.1, finish)
                return
            if busy:
                log.error("the pass did not stop in %.0f s; exiting anyway (every article "
                          "is stored whole or not at all)", STOP_DEADLINE)
            self.scheduler.shutdown(wait=False)
            self.wiring.stop(timeout=3)
            self.lock.release()
            self.health.stop()
            reactor.stop()

        finish()


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)
