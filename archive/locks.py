"""PostgreSQL advisory locks: every key backchannel uses (below, and nowhere else), and
the crawler lock: one crawler per database at a time (a cron pass, a daemon), so that
nothing is fetched or alerted twice. A session advisory lock, held by a connection of
its own: if the process dies, the server releases it."""

from __future__ import annotations

import logging

import psycopg
from psycopg.rows import dict_row

log = logging.getLogger(__name__)

# Every PostgreSQL advisory-lock key of backchannel, here and only here, so that no two
# uses can take the same number by mistake. One database, one key space: each key names
# one thing that at most one process (or transaction) does at a time.
MIGRATION_LOCK = 7_130_001  # transaction lock: one migrator applies migrations at a time
CRAWLER_LOCK = 7_130_002  # session lock: one crawler (cron pass, daemon, scheduler) per database
SCHEMA_LOCK = 7_130_003  # session lock: one process creates procrastinate's queue schema
STORY_LOCK = 7_130_004  # transaction lock: one story assigner (or re-storier) at a time


def hold_session_lock(conn: psycopg.Connection, key: int) -> None:
    """Wait for and take the session advisory lock `key` (one of the keys above); it is
    held until `release_session_lock` or the connection's end."""
    conn.execute("SELECT pg_advisory_lock(%s)", (key,))


def release_session_lock(conn: psycopg.Connection, key: int) -> None:
    conn.execute("SELECT pg_advisory_unlock(%s)", (key,))


class CrawlerLock:
    def __init__(self, database_url: str, who: str) -> None:
        self.database_url = database_url
        self.who = who  # shown to the other crawler: "backchannel run", "backchannel crawl"
        self.conn: psycopg.Connection | None = None
        self.waiting = False  # said that another crawler holds it, and not yet acquired

    def hold(self) -> bool:
        """Whether this process holds the lock now, taking it when it is free. For a
        process that waits its turn: says once who holds it, and once when it is ours."""
        if self.held() or self.try_acquire():
            if self.waiting:
                log.info("crawler lock acquired")
                self.waiting = False
            return True
        if not self.waiting:
            log.warning("another crawler holds the lock on this database: %s; waiting",
                        self.holder())
            self.waiting = True
        return False

    def try_acquire(self) -> bool:
        if self.held():
            return True
        conn = psycopg.connect(self.database_url, autocommit=True, row_factory=dict_row,
                               application_name=self.who, connect_timeout=15)
        got = conn.execute("SELECT pg_try_advisory_lock(%s) AS got",
                           (CRAWLER_LOCK,)).fetchone()["got"]
        if got:
            self.conn = conn
        else:
            conn.close()
        return got

    def held(self) -> bool:
        """True while our lock connection is alive (a database restart loses the lock)."""
        if self.conn is None or self.conn.closed:
            return False
        try:
            self.conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            self.conn.close()
            self.conn = None
            return False

    def holder(self) -> str:
        """Who holds the lock, as far as the server can tell."""
        try:
            with psycopg.connect(self.database_url, autocommit=True, row_factory=dict_row,
                                 connect_timeout=15) as conn:
                row = conn.execute(
                    """SELECT a.pid, a.application_name, a.client_addr, a.backend_start
                       FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                       WHERE l.locktype = 'advisory' AND l.granted
                         AND l.objid = %s AND l.database = (
                             SELECT oid FROM pg_database WHERE datname = current_database())
                       LIMIT 1""",
                    (CRAWLER_LOCK,),
                ).fetchone()
        except psycopg.Error:
            return "another process"
        if row is None:
            return "nobody (it was just released)"
        name = row["application_name"] or "a client"
        return f"{name} (server pid {row['pid']}, since {row['backend_start']:%Y-%m-%d %H:%M})"

    def release(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
