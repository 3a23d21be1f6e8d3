"""`backchannel run`: crawl passes on a schedule until stopped, in one process with one
asyncio reactor for its whole life (Scrapy's reactor cannot be restarted). How the
passes, alert delivery and shutdown fit together: docs/crawl.md."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from alerts.wiring import wiring_from_settings
from archive.db import DatabaseError, connect
from archive.locks import CrawlerLock
from archive.reschedule import next_polls
from core.config import Settings
from core.text import plural
from crawler.items import PassReport
from crawler.sources import SourcesError
from scheduler.health import HealthServer
from scheduler.metrics import Metrics
from scheduler.sources_watch import SourcesWatch
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


class PlannerLines(logging.Filter):
    """The planner logs `polling N of M sources` at each look, every few seconds; in the
    daemon the pass line says it when there was a pass, so the planner's INFO lines show
    only at DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or logging.getLogger().level <= logging.DEBUG


class OverlapLines(logging.Filter):
    """APScheduler warns at every tick that falls inside a long pass that the job is
    still running: by design (one pass at a time, the next one coalesced)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances" not in str(record.msg)


def quiet_planner() -> None:
    """Silence the lines a look repeats every few seconds (see the two filters)."""
    for name, kind in (("crawler.plan", PlannerLines), ("apscheduler.scheduler", OverlapLines)):
        logger = logging.getLogger(name)
        if not any(isinstance(f, kind) for f in logger.filters):
            logger.addFilter(kind())


class Quiet:
    """What happened since the daemon last logged a line: the heartbeat's summary."""

    def __init__(self) -> None:
        self.since = time.time()
        self.looks = 0
        self.error: str | None = None  # the last failed look's reason, logged once
        self.errors = 0

    def reset(self) -> None:
        self.__init__()


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
        self.watch = SourcesWatch(self.sources_path, settings.default_interval_minutes)
        self.quiet = Quiet()

    def run(self, max_passes: int | None = None) -> int:
        install_asyncio_reactor()
        from apscheduler.schedulers.asyncio import AsyncIOScheduler
        from twisted.internet import reactor

        settings = self.settings
        sources = self.watch.changed()  # SourcesError: the file is broken at the start
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
        quiet_planner()
        self.wiring.start()
        self.scheduler = AsyncIOScheduler(event_loop=asyncio.get_event_loop())
        self.scheduler.add_job(self.tick, "interval", seconds=settings.tick_seconds,
                               id="crawl", max_instances=1, coalesce=True,
                               misfire_grace_time=None, next_run_time=_now())
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: reactor.callFromThread(self.shutdown))
        reactor.callWhenRunning(self.scheduler.start)
        host, port = self.health.address
        log.info("daemon started: a look for due sources every %g s; health on "
                 "http://%s:%d/healthz", settings.tick_seconds, host, port)
        reactor.run(installSignalHandlers=False)
        log.info("daemon stopped after %s", plural(self.passes, "pass", "passes"))
        return 0

    async def tick(self) -> None:
        """One pass over the sources that are due, if this process holds the lock. Only
        a pass that polled something is logged; an idle daemon logs a heartbeat."""
        from crawler.runners import crawl_pass

        if self.stopping:
            return
        if not self.lock.hold():
            return
        self.metrics.looks.inc()
        self.quiet.looks += 1
        self.in_pass = True
        started = time.monotonic()
        try:
            if self.sources_usable():
                report = await crawl_pass(self.settings, self.url, self.sources_path,
                                          self.wiring.outbox,
                                          self.settings.host_polls_per_tick,
                                          self.running_crawlers)
                if self.websub is not None:  # subscribe, renew, widen pushed feeds' polls
                    await self.websub.after_pass(report)
                self.last_pass_end = time.time()  # a look with nothing due counts for
                if report.polls:                  # health, but only a pass that polled
                    self.record_pass(report, time.monotonic() - started)  # is a pass
                self.quiet.error = None
        except DatabaseError as exc:  # already one clear line: no traceback
            self.look_failed(f"crawl pass failed: {exc}; the next one will try again")
        except Exception as exc:  # a pass that fails must not end the daemon
            if self.look_failed(f"crawl pass failed ({type(exc).__name__}: {exc}); the "
                                "next one will try again"):
                log.debug("the failed pass's traceback", exc_info=True)
        finally:
            self.in_pass = False
        self.heartbeat()
        if self.max_passes is not None and self.passes >= self.max_passes:
            self.shutdown()

    def sources_usable(self) -> bool:
        """Apply a change of the sources file; False while the file cannot be read
        (said once per change: nothing is polled until it is fixed)."""
        try:
            self.watch.apply(self.url)
        except SourcesError as exc:
            log.error("%s; no source is polled until the sources file is fixed "
                      "(alerts are still delivered)", exc)
        return self.watch.error is None

    def record_pass(self, report: PassReport, seconds: float) -> None:
        self.metrics.record_pass(report, seconds, self.last_pass_end)
        self.passes += 1
        failed = sum(1 for poll in report.polls.values() if not poll.ok)
        listed = len(self.watch.sources.sources) if self.watch.sources else len(report.polls)
        log.info("pass %d: polled %d of %s%s, fetched %s, stored %s, %s", self.passes,
                 len(report.polls), plural(listed, "source"),
                 f" ({failed} failed)" if failed else "",
                 plural(report.pages_fetched, "page"),
                 plural(report.articles_new, "new article"), plural(len(report.alerts), "alert"))
        self.quiet.reset()

    def look_failed(self, line: str) -> bool:
        """Log a failed look, unless it failed the same way last time (the heartbeat
        counts those). True when it is a new failure."""
        self.quiet.errors += 1
        if line == self.quiet.error:
            return False
        self.quiet.error = line
        log.error("%s", line)
        return True

    def heartbeat(self) -> None:
        """After `heartbeat_minutes` without a line, one line saying the daemon is alive,
        what it looked at and when the next poll is."""
        minutes = self.settings.heartbeat_minutes
        quiet = self.quiet
        if minutes <= 0 or time.time() - quiet.since < minutes * 60:
            return
        parts = [f"idle for {_duration(time.time() - quiet.since)}: "
                 f"{plural(quiet.looks, 'look')} for due sources, no poll"]
        if self.watch.error:
            parts.append(f"the sources file cannot be used: {self.watch.error}")
        elif quiet.errors:
            parts.append(f"{plural(quiet.errors, 'look')} failed, the last: {quiet.error}")
        parts.append(self.schedule_line())
        log.info("%s", "; ".join(part for part in parts if part))
        error = quiet.error
        quiet.reset()
        quiet.error = error  # a failure still going on is not logged again

    def schedule_line(self) -> str:
        """`9 sources (2 failing), next poll at 12:40:05 UTC`, from the archive."""
        sources = self.watch.sources
        if sources is None:
            return ""
        try:
            with connect(self.url, migrate_now=False, connect_timeout=5) as conn:
                row = next_polls(conn, [source.url for source in sources.sources])
        except (DatabaseError, psycopg.Error) as exc:
            return f"the archive cannot be read ({type(exc).__name__})"
        failing = f" ({row['failing']} failing)" if row["failing"] else ""
        when = row["next_poll_at"]
        at = (f", next poll at {when.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC" if when
              else "")
        return f"{plural(len(sources.sources), 'source')}{failing}{at}"

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


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def _now():
    return datetime.now(UTC)
