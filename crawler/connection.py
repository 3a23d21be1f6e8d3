"""A pass's database side: the stored-URL lookups during the crawl and each source's
outcome at its end, on a connection replaced should a database restart break it.
Every pass body (cron, daemon, worker task) uses one `PassConnection`."""

from __future__ import annotations

import logging

import psycopg

from archive.db import DatabaseError, connect, error_line
from archive.discovery import record_search_window
from archive.store import known_urls, record_poll
from core.config import Settings
from crawler.items import PassReport, PollOutcome
from crawler.polling import PollingPolicy, next_interval, with_jitter

log = logging.getLogger(__name__)


class PassConnection:
    """The pass's connection and the database URL to make a new one from."""

    def __init__(self, url: str, conn: psycopg.Connection) -> None:
        self.url, self.conn = url, conn

    @classmethod
    def open(cls, url: str) -> PassConnection:
        """A connection to an archive already migrated (by the command or daemon)."""
        return cls(url, connect(url, migrate_now=False))

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


def save_poll(conn, poll: PollOutcome, policy: PollingPolicy) -> None:
    """A feed whose article pages failed for a passing reason (or were never fetched,
    the pass being stopped) keeps its old validators, so the next pass sees the full
    feed again and retries those pages."""
    unfinished = poll.interrupted or poll.pages_pending > 0
    # a search capped by max_pages_per_search: the rest is taken next pass
    keep_validators = poll.transient_page_failures == 0 and not unfinished and not poll.capped
    base = poll.source.interval_minutes * 60
    interval, hint = next_interval(base, poll, policy, poll.source.effective_interval_seconds)
    next_poll_in = 0.0 if unfinished or poll.capped else with_jitter(interval, policy)
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
    if poll.window_end is not None and poll.ok and keep_validators:
        record_search_window(conn, poll.source.id, poll.window_end)
