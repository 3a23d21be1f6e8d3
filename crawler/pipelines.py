"""The item pipeline: fetched page → `pipeline.process` (extract, classify) → archive
→ story → outbox. The pipeline class only wires that driver to Scrapy and the database;
what it needs (the pass's parsed sources file, the database URL, the alert outbox)
comes from the spider's arguments. The outbox is written in the same transaction as
the article and its story. Extraction runs in a child process with a time budget per
page (pipeline.isolated), awaited from a thread of its own, so that a hostile page
holds up neither the downloads nor a stop."""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg

from archive.db import DatabaseError, connect, error_line
from archive.discovery import discovered_outlet, outlet_by_domain
from archive.officials import mark_official_outlets, set_official_stance
from archive.store import store_article
from archive.stories import assign_story, may_join_story, restory
from extract.outlets import OutletDirectory
from pipeline import FetchedPage, NotAnArticle
from pipeline.isolated import PAGE_TIMEOUT, PageBudgetExceeded, ReadPage, WorkerPool, shared_pool

log = logging.getLogger(__name__)

NOT_STORED = "not stored"  # marks a page error that was the archive's, not the page's
NOT_READ = "not read"  # a page error of ours (time budget, limits): fetched again later
# When the pass is asked to stop, a page already fetched is still read and stored for
# this long (an extraction process just started takes seconds to be ready); after it,
# pages are given up at once and fetched again by a later pass.
STOP_GRACE_SECONDS = 5.0


class ArchivePipeline:
    """Stores each FetchedPage as an article; counts what happened in the spider's report."""

    def __init__(self, database_url: str, directory: OutletDirectory, outbox=None,
                 officials: dict[str, str] | None = None,
                 page_timeout: float = PAGE_TIMEOUT, processes: int = 0) -> None:
        self.database_url = database_url
        self.directory = directory
        self.officials = officials or {}  # outlet name → "ru" | "us"
        self.outbox = outbox  # alerts.outbox.Outbox, or None: no alerts decided
        self.conn: psycopg.Connection | None = None
        self.page_timeout = page_timeout
        self.processes = processes  # extraction children; 0: one per core
        self.worker: WorkerPool | None = None
        self.waiter: ThreadPoolExecutor | None = None  # waits on the workers, not the reactor
        self.crawler = None
        self._stop_seen: float | None = None

    @classmethod
    def from_crawler(cls, crawler):
        spider = crawler.spider  # NewsSpider: created before the pipelines
        sources = spider.sources_file
        if sources is None or spider.database_url is None:
            raise ValueError("ArchivePipeline needs the spider's sources_file and "
                             "database_url arguments")
        officials = {o.name: o.official for o in sources.outlets if o.official}
        timeout = crawler.settings.getfloat("BACKCHANNEL_PAGE_TIMEOUT", PAGE_TIMEOUT)
        processes = crawler.settings.getint("BACKCHANNEL_EXTRACT_PROCESSES", 0)
        pipeline = cls(spider.database_url, sources.directory(), spider.outbox, officials,
                       timeout, processes)
        pipeline.crawler = crawler
        return pipeline

    def open_spider(self) -> None:
        self._connect()
        if self.worker is None:
            self.worker = shared_pool(self.processes)
            self.waiter = ThreadPoolExecutor(self.worker.size, thread_name_prefix="extract-wait")

    def _connect(self) -> None:
        self.conn = connect(self.database_url, migrate_now=False)
        mark_official_outlets(self.conn, self.officials)

    def close_spider(self) -> None:
        if self.waiter is not None:  # the worker stays, for the daemon's next pass
            self.waiter.shutdown(wait=False)
        if self.conn is not None:
            self.conn.close()

    def _stopping(self) -> bool:
        """Whether pages still waiting should be given up: the pass is being stopped (a
        signal, its deadline) since more than STOP_GRACE_SECONDS. Read from the waiting
        threads, so only a flag and a clock are looked at."""
        engine = getattr(self.crawler, "engine", None)
        if engine is None or engine.running:
            return False
        if self._stop_seen is None:
            self._stop_seen = time.monotonic()
        return time.monotonic() - self._stop_seen > STOP_GRACE_SECONDS

    async def process_item(self, item):
        if not isinstance(item, FetchedPage):
            return item
        report = self.crawler.spider.report
        try:
            read = await asyncio.get_running_loop().run_in_executor(
                self.waiter, self.worker.process, item, self.directory, self.page_timeout,
                self._stopping)
        except NotAnArticle as exc:
            report.pages_skipped += 1
            log.warning("skipped %s: %s", item.url, exc, extra={"url": item.url})
            return item
        except PageBudgetExceeded as exc:  # ours, not the page's: fetch it again next pass
            report.pages_skipped += 1
            report.page_errors.append(f"{item.url}: {NOT_READ}: {exc}")
            poll = report.polls.get(item.source_id)
            if poll is not None:
                poll.transient_page_failures += 1
            log.warning("%s not read: %s; it will be fetched again", item.url, exc,
                        extra={"url": item.url})
            return item
        except Exception as exc:  # a bug of ours: say so, go on, and try again next pass
            report.pages_skipped += 1
            report.page_errors.append(f"{item.url}: extraction failed: {exc}")
            poll = report.polls.get(item.source_id)
            if poll is not None:
                poll.transient_page_failures += 1
            log.error("extraction failed for %s: %s", item.url, exc, extra={"url": item.url})
            return item
        for attempt in (1, 2):
            try:
                result, assignment, alerts = self._store(read, item)
                break
            except psycopg.Error as exc:  # the server went away, the disk is full…
                reconnected = self._reconnect_if_broken()
                if attempt == 1 and reconnected:  # a restart broke the connection
                    log.warning("lost the database connection (%s); storing %s again on a "
                                "new one", error_line(exc), item.url, extra={"url": item.url})
                    continue
                return self._not_stored(item, report, exc)
            except Exception as exc:  # a bug: say where, and go on with the next page
                self._reconnect_if_broken()
                return self._not_stored(item, report, exc, with_traceback=True)
        if assignment is not None and assignment.joined_now:
            report.story_joins.append(assignment)
        outlet = read.article.outlet
        for alert_id in alerts:
            report.alerts.append(alert_id)
            log.info("alert %d: %s reports a call in story %d: %s", alert_id, outlet,
                     assignment.story_id, item.url,
                     extra={"url": item.url, "outlet": outlet, "alert": alert_id})
        if result.is_new:
            report.articles_new += 1
            report.new_article_ids.append(result.article_id)
            log.info("stored %s", item.url, extra={"url": item.url, "outlet": outlet})
        elif result.changed:
            report.articles_changed += 1
        return item

    def _store(self, read: ReadPage, page: FetchedPage):
        """The article, its story and its alerts, in one transaction: all or nothing."""
        article = read.article
        alerts: list[int] = []
        with self.conn.transaction():
            if not self.directory.listed(page.url):
                article.outlet = self._unlisted_outlet(article, page)
            result = store_article(self.conn, article)
            if article.outlet in self.officials:  # the government's own word
                set_official_stance(self.conn, result.article_id, read.stance)
            assignment = None
            if result.is_new and may_join_story(article.contact_story):
                assignment = assign_story(self.conn, result.article_id)
            elif result.changed:  # its story follows the new text: stay, move or leave
                assignment = restory(self.conn, result.article_id).joined
            if assignment is not None and self.outbox is not None:
                alerts = self.outbox.record(self.conn, assignment)
        return result, assignment, alerts

    def _unlisted_outlet(self, article, page: FetchedPage) -> str:
        """A site no sources file lists: the outlet stored for its domain (discovered
        or followed), else, for a search's result, a new outlet named by the page's own
        site name; otherwise its domain, as before discovery."""
        key = article.outlet  # the directory's answer: registered domain or address:port
        if page.found_by is None:
            return outlet_by_domain(self.conn, key) or key
        return discovered_outlet(self.conn, key, article.site_name or page.listed_site_name,
                                 page.found_by)

    def _not_stored(self, item: FetchedPage, report, exc: Exception,
                    with_traceback: bool = False) -> FetchedPage:
        """Nothing of the page was stored: count it as a passing failure of its feed, so
        that the feed keeps its old validators and the next pass fetches the page again.
        A database error is one line in the log; anything else gets its traceback."""
        reason = error_line(exc)
        report.page_errors.append(f"{item.url}: {NOT_STORED}: {reason}")
        poll = report.polls.get(item.source_id)
        if poll is not None:
            poll.transient_page_failures += 1
        log.error("storing %s failed; it will be fetched again: %s", item.url, reason,
                  exc_info=exc if with_traceback else None, extra={"url": item.url})
        return item

    def _reconnect_if_broken(self) -> bool:
        """After a database restart the connection is dead; later pages need a new one.
        True when a new connection was made."""
        if self.conn is not None and not self.conn.closed and not self.conn.broken:
            return False
        try:
            if self.conn is not None:
                self.conn.close()
            self._connect()
        except (psycopg.Error, DatabaseError) as exc:
            log.error("cannot reconnect to the database: %s", error_line(exc))
            return False
        return True

