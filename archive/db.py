"""Connections and migrations. Every command goes through `connect()`, which picks
BACKCHANNEL_DATABASE_URL or the embedded server, and migrates when needed."""

from __future__ import annotations

import logging
import re
from contextlib import AbstractContextManager, nullcontext
from importlib import resources

import psycopg
from psycopg import pq
from psycopg.rows import dict_row

from archive.embedded import embedded_database_url
from archive.locks import MIGRATION_LOCK
from core.config import Settings

log = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class DatabaseError(RuntimeError):
    """The database could not be reached or migrated; the message says which and why."""


def database_url(settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url
    return embedded_database_url(settings.embedded_data_dir)


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) for every file in archive/migrations, in order."""
    found = []
    for entry in resources.files("archive.migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), match.group(2), entry.read_text(encoding="utf-8")))
    return sorted(found)


def migrate(conn: psycopg.Connection) -> list[int]:
    """Apply pending migrations, each in its own transaction; return the versions applied.
    Safe to run from several processes at once (advisory lock) and again and again."""
    applied: list[int] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   version integer PRIMARY KEY,
                   name text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        rows = conn.execute("SELECT version FROM schema_migrations").fetchall()
        done = {row["version"] if isinstance(row, dict) else row[0] for row in rows}
        for version, name, sql in migrations():
            if version in done:
                continue
            with conn.transaction():
                conn.execute(sql)
                conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                    (version, name),
                )
            log.info("applied migration %04d_%s", version, name)
            applied.append(version)
    return applied


def connect(settings: Settings | str, *, migrate_now: bool = True, autocommit: bool = True,
            connect_timeout: float = 15) -> psycopg.Connection:
    """An autocommit connection with dict rows; transactions are explicit.
    Takes the settings, or a URL already resolved by `database_url`. `autocommit=False`
    for a caller that needs one transaction around everything (a named cursor's)."""
    url = settings if isinstance(settings, str) else database_url(settings)
    try:
        conn = psycopg.connect(url, autocommit=autocommit, row_factory=dict_row,
                               connect_timeout=connect_timeout)
    except psycopg.OperationalError as exc:
        reason = _without_password(str(exc))
        raise DatabaseError(f"cannot connect to PostgreSQL: {reason}") from None
    if migrate_now:
        migrate(conn)
    return conn


def atomic(conn: psycopg.Connection) -> AbstractContextManager:
    """A transaction of its own, or, inside the caller's, the caller's: psycopg would
    nest a savepoint, two more round trips per call, which only a caller that catches
    the error and goes on in the same transaction needs (none of the callers of the
    per-article writes that use this does: the crawl stores each article in one)."""
    if conn.info.transaction_status == pq.TransactionStatus.INTRANS:
        return nullcontext()
    return conn.transaction()


def ping(conn: psycopg.Connection) -> None:
    """Raises psycopg.Error unless the server answers on this connection."""
    conn.execute("SELECT 1")


def ping_url(url: str, connect_timeout: float) -> None:
    """Raises psycopg.Error unless the server at `url` takes a connection and answers
    within about `connect_timeout` seconds: a probe (/healthz), so never migrates."""
    with psycopg.connect(url, connect_timeout=connect_timeout) as conn:
        ping(conn)


def error_line(exc: BaseException) -> str:
    """A database error's message in one line, without psycopg's context lines; other
    errors with their type."""
    if isinstance(exc, psycopg.Error):
        lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
        return _without_password(" ".join(lines[:2])) or type(exc).__name__
    if isinstance(exc, DatabaseError):  # ours: says what it is already
        return " ".join(str(exc).split())
    return " ".join(f"{type(exc).__name__}: {exc}".split())


def _without_password(message: str) -> str:
    return re.sub(r"(://[^:/@\s]+:)[^@\s]+@", r"\1***@", message)
