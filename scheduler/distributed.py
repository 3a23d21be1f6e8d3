"""`backchannel run --role scheduler|worker`: the crawl spread over many processes and
machines, with procrastinate (PostgreSQL itself as the task queue: no new server;
design notes: docs/distributed.md)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from alerts.wiring import wiring_from_settings
from archive.db import connect, database_url
from archive.locks import SCHEMA_LOCK, CrawlerLock, hold_session_lock, release_session_lock
from archive.queue import create_queue_schema, queue_schema_exists, queued_or_running
from core.config import Settings
from core.urls import host_of
from crawler.sources import SourcesError, load_sources
from scheduler.daemon import STOP_DEADLINE, install_asyncio_reactor, quiet_planner
from scheduler.health import HealthServer
from scheduler.metrics import Metrics
from scheduler.sources_watch import SourcesWatch

log = logging.getLogger(__name__)

QUEUE = "backchannel_polls"
TASK = "backchannel.poll_source"


def knob(settings: Settings, name: str, default: float) -> float:
    """A distributed-mode setting: BACKCHANNEL_NAME, else the TOML file, else default."""
    raw = os.environ.get("BACKCHANNEL_" + name.upper(), settings.extra.get(name, default))
    try:
        return float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: {raw!r} is not a number") from None


def ensure_queue_schema(url: str) -> bool:
    """Create procrastinate's tables and functions unless they exist, one process at a
    time (advisory lock). Returns True when it created them. Upgrading procrastinate
    across schema versions: apply its migrations (`procrastinate schema --migrations`)."""
    from procrastinate.schema import SchemaManager

    with connect(url, migrate_now=False) as conn:
        hold_session_lock(conn, SCHEMA_LOCK)
        try:
            exists = queue_schema_exists(conn)
            if exists:
                return False
            with conn.transaction():
                create_queue_schema(conn, SchemaManager.get_schema())
            log.info("created the task queue's schema (procrastinate)")
            return True
        finally:
            release_session_lock(conn, SCHEMA_LOCK)


def make_app(url: str, work=None, pool_size: int = 4):
    """The procrastinate app and its one task. `work(source_id)` runs it (workers only)."""
    import procrastinate

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(
        conninfo=url, min_size=1, max_size=pool_size,
        kwargs={"application_name": "backchannel queue"}))

    @app.task(name=TASK, queue=QUEUE,
              retry=procrastinate.RetryStrategy(max_attempts=5, wait=5, linear_wait=5))
    async def poll_source(source_id: int) -> None:
        if work is None:
            raise RuntimeError("this process runs no tasks")
        await work(source_id)

    return app, poll_source


def in_flight(conn) -> dict[int, str]:
    """Source id → host lock of every poll task queued or running."""
    rows = queued_or_running(conn, TASK)
    found = {}
    for row in rows:
        key = row["queueing_lock"] or ""
        if key.startswith("source:"):
            found[int(key.split(":", 1)[1])] = row["lock"] or ""
    return found


class Scheduler:
    """`--role scheduler`: decide what is due and queue it; recover dead workers' tasks."""

    def __init__(self, settings: Settings, sources_path: Path | None = None) -> None:
        self.settings = settings
        self.sources_path = sources_path or settings.sources
        self.metrics = Metrics()
        self.last_look: float | None = None
        self.deferred = 0
        self.conn = None
        self.watch = SourcesWatch(self.sources_path, settings.default_interval_minutes)

    def run(self) -> int:
        self.watch.changed()  # fail early: SourcesError
        quiet_planner()  # `polling 0 of N sources` at every look says nothing
        self.url = database_url(self.settings)
        connect(self.url).close()  # create or migrate the archive
        ensure_queue_schema(self.url)
        self.stalled = knob(self.settings, "stalled_seconds", 30)
        return asyncio.run(self.main())

    async def main(self) -> int:
        from apscheduler.schedulers.asyncio import AsyncIOScheduler
        from procrastinate.exceptions import AlreadyEnqueued

        self.already = AlreadyEnqueued
        settings = self.settings
        self.lock = CrawlerLock(self.url, "backchannel run --role scheduler")
        self.health = HealthServer(settings.health_host, settings.health_port, self.url,
                                   self.metrics, lambda: self.last_look,
                                   settings.health_max_age_minutes * 60).start()
        self.app, self.task = make_app(self.url, pool_size=2)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        async with self.app.open_async():
            scheduler = AsyncIOScheduler(event_loop=loop)
            scheduler.add_job(self.tick, "interval", seconds=settings.tick_seconds,
                              id="schedule", max_instances=1, coalesce=True,
                              misfire_grace_time=None, next_run_time=datetime.now(UTC))
            scheduler.start()
            host, port = self.health.address
            log.info("scheduler started: a look for due sources every %.1f s; health on "
                     "http://%s:%d/healthz", settings.tick_seconds, host, port)
            await stop.wait()
            log.info("stopping: no more tasks deferred (queued ones stay queued)")
            scheduler.shutdown(wait=False)
        self.lock.release()
        self.health.stop()
        if self.conn is not None:
            self.conn.close()
        log.info("scheduler stopped after deferring %d tasks", self.deferred)
        return 0

    async def tick(self) -> None:
        try:
            await self._tick()
        except Exception:  # a failed look must not end the scheduler
            log.exception("scheduling failed; the next look will try again")
            if self.conn is not None:
                self.conn.close()
                self.conn = None

    async def _tick(self) -> None:
        from crawler.plan import plan_pass

        if not self.lock.hold():
            return
        if self.conn is None or self.conn.closed:
            self.conn = connect(self.url, migrate_now=False)
        await self.recover_stalled()
        try:
            self.watch.apply(self.url)  # a changed interval counts from the last poll
        except SourcesError as exc:
            log.error("%s; no source is queued until the sources file is fixed", exc)
        if self.watch.error:
            self.last_look = time.time()
            return
        due = plan_pass(self.conn, self.settings, self.sources_path, False, None).todo
        busy = in_flight(self.conn)
        per_host = Counter(lock for lock in busy.values())
        limit = max(1, self.settings.host_polls_per_tick)
        deferred = 0
        for state in due:
            lock = f"host:{host_of(state.url)}"
            if state.id in busy or per_host[lock] >= limit:
                continue
            try:
                await self.task.configure(lock=lock, queueing_lock=f"source:{state.id}"
                                          ).defer_async(source_id=state.id)
            except self.already:
                continue
            per_host[lock] += 1
            deferred += 1
        self.deferred += deferred
        self.last_look = time.time()
        if deferred:
            log.info("deferred %d poll tasks (%d due, %d already queued or running)",
                     deferred, len(due), len(busy))

    async def recover_stalled(self) -> None:
        """Tasks of workers that stopped sending heartbeats go back to the queue."""
        manager = self.app.job_manager
        for job in await manager.get_stalled_jobs(task_name=TASK,
                                                  seconds_since_heartbeat=self.stalled):
            try:
                await manager.retry_job(job)
                log.warning("task %s (%s) of a dead worker put back in the queue",
                            job.id, job.queueing_lock)
            except Exception as exc:  # it finished or was retried meanwhile
                log.info("task %s not retried: %s", job.id, exc)


class Worker:
    """`--role worker`: run poll tasks and deliver alerts until stopped."""

    def __init__(self, settings: Settings, sources_path: Path | None = None) -> None:
        self.settings = settings
        self.sources_path = sources_path or settings.sources
        self.metrics = Metrics()
        self.running_crawlers: list = []
        self.stopping = False
        self.tasks_done = 0
        self.worker_task: asyncio.Future | None = None
        self.alive_at: float | None = None

    def run(self) -> int:
        install_asyncio_reactor()
        from twisted.internet import reactor

        settings = self.settings
        sources = load_sources(self.sources_path, settings.default_interval_minutes)
        from crawler.resolver import install as install_resolver

        install_resolver(reactor, settings.allow_private_addresses
                         or bool(sources.allow_private_addresses))
        self.wiring = wiring_from_settings(settings, self.metrics.record_delivery)
        self.url = self.wiring.database_url
        connect(self.url).close()
        ensure_queue_schema(self.url)
        self.concurrency = max(1, int(knob(settings, "worker_concurrency", 4)))
        self.heartbeat = knob(settings, "heartbeat_seconds", 5)
        self.stalled = knob(settings, "stalled_seconds", 30)
        self.keep_jobs = bool(knob(settings, "keep_jobs", 0))  # finished tasks kept: audits
        self.health = HealthServer(settings.health_host, settings.health_port, self.url,
                                   self.metrics, lambda: self.alive_at,
                                   settings.health_max_age_minutes * 60).start()
        self.wiring.start()
        self.app, _ = make_app(self.url, self.poll, pool_size=self.concurrency + 2)
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: reactor.callFromThread(self.shutdown))
        reactor.callWhenRunning(lambda: asyncio.ensure_future(self.main()))
        reactor.run(installSignalHandlers=False)
        log.info("worker stopped after %d tasks", self.tasks_done)
        return 0

    async def main(self) -> None:
        from twisted.internet import reactor

        name = f"{socket.gethostname()}:{os.getpid()}"
        try:
            async with self.app.open_async():
                host, port = self.health.address
                log.info("worker %s started: %d tasks at once; health on "
                         "http://%s:%d/healthz", name, self.concurrency, host, port)
                self.worker_task = asyncio.ensure_future(self.app.run_worker_async(
                    queues=[QUEUE], concurrency=self.concurrency, name=name,
                    install_signal_handlers=False, listen_notify=True,
                    fetch_job_polling_interval=2.0,
                    update_heartbeat_interval=self.heartbeat,
                    stalled_worker_timeout=self.stalled,
                    shutdown_graceful_timeout=STOP_DEADLINE - 5,
                    delete_jobs="never" if self.keep_jobs else "successful"))
                keepalive = asyncio.ensure_future(self._keepalive())
                try:
                    await self.worker_task
                except asyncio.CancelledError:
                    pass
                finally:
                    keepalive.cancel()
        except Exception:
            log.exception("the worker failed")
        finally:
            self.wiring.stop(timeout=3)
            self.health.stop()
            if reactor.running:
                reactor.stop()

    async def _keepalive(self) -> None:
        while True:  # healthy while the worker loop runs (it polls the queue itself)
            self.alive_at = time.time()
            await asyncio.sleep(5)

    async def poll(self, source_id: int) -> None:
        from crawler.runners import crawl_sources

        started = time.monotonic()
        report = await crawl_sources(self.settings, self.url, [source_id], self.sources_path,
                                     self.wiring.outbox, self.running_crawlers)
        ended = time.time()
        self.alive_at = ended
        self.tasks_done += 1
        if report.polls:
            self.metrics.record_pass(report, time.monotonic() - started, ended)
            log.info("polled source %d: %d pages, %d new articles, %d alerts", source_id,
                     report.pages_fetched, report.articles_new, len(report.alerts))

    def shutdown(self) -> None:
        """SIGTERM: no new task; running crawls stop as the daemon's pass does (pages
        on the wire finish, queued ones are abandoned and their feeds due again)."""
        from crawler.runners import abandon_queued_requests

        if self.stopping:
            return
        self.stopping = True
        log.info("stopping: no new tasks; finishing the ones in progress")
        for crawler in list(self.running_crawlers):
            asyncio.ensure_future(crawler.stop_async())
            abandon_queued_requests(crawler)
        if self.worker_task is not None:
            self.worker_task.cancel()
        else:
            from twisted.internet import reactor

            reactor.stop()
