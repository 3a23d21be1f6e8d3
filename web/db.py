"""The web server's database access: one small connection pool for the process.

A pool rather than a connection per request: connecting (TCP or socket, TLS, auth) costs
more than most of our queries, and the pool caps how many connections the web UI can
take from a PostgreSQL that the crawler and the daemon share. Connections are
autocommit with dict rows like every other part of backchannel, and read-only at the
session level, so not even a bug in a query builder could write through this server."""

from __future__ import annotations

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from archive.web import read_only_session

STATEMENT_TIMEOUT_MS = 15_000  # one slow query must not hold a worker forever


def _configure(conn: psycopg.Connection) -> None:
    read_only_session(conn, STATEMENT_TIMEOUT_MS)


def make_pool(database_url: str, max_size: int = 8) -> ConnectionPool:
    """A pool that is not open yet: the app opens it at start-up and closes it at exit."""
    return ConnectionPool(
        database_url,
        min_size=1,
        max_size=max_size,
        kwargs={"autocommit": True, "row_factory": dict_row, "connect_timeout": 10},
        configure=_configure,
        check=ConnectionPool.check_connection,  # a restarted server is noticed, not a 500
        timeout=10,
        open=False,
        name="backchannel-web",
    )
