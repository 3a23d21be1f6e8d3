"""The web server's database access: one small connection pool for the process.

A pool rather than a connection per request: connecting (TCP or socket, TLS, auth) costs
more than most of our queries, and the pool caps how many connections the web UI can
take from a PostgreSQL that the crawler and the daemon share. Connections are
autocommit with dict rows like every other part of backchannel, and read-only at the
session level, so not even a bug in a query builder could write through this server.

Requests wait for a connection on the event loop (`WebPool.connection`), not in a
worker thread: waiting in anyio's thread pool (40 threads) is what made the server
stall under a crowd, since once 40 requests sat blocked on the pool, a finished request
found no thread to give its connection back. Here at most `size` requests hold a
connection at a time; the others wait on an asyncio semaphore for at most
`wait_seconds` and then get `Busy` (a 503 with Retry-After), never an open-ended hang.
Threads are used only to take and give back a connection and for the query itself."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from archive.web import read_only_session

STATEMENT_TIMEOUT_MS = 15_000  # one slow query must not hold a worker forever
MIN_POOL_WAIT = 0.05  # seconds the pool itself may wait once the gate let a request in


class Busy(Exception):
    """No connection came free within the bounded wait."""

    def __init__(self, wait_seconds: float) -> None:
        super().__init__(f"the server is busy: no database connection came free within "
                         f"{wait_seconds:g} s; try again shortly")


def _configure(conn: psycopg.Connection) -> None:
    read_only_session(conn, STATEMENT_TIMEOUT_MS)


def make_pool(database_url: str, max_size: int = 8, timeout: float = 10) -> ConnectionPool:
    """A pool that is not open yet: the app opens it at start-up and closes it at exit."""
    return ConnectionPool(
        database_url,
        min_size=1,
        max_size=max_size,
        kwargs={"autocommit": True, "row_factory": dict_row, "connect_timeout": 10},
        configure=_configure,
        check=ConnectionPool.check_connection,  # a restarted server is noticed, not a 500
        timeout=timeout,
        open=False,
        name="backchannel-web",
    )


class WebPool:
    """The psycopg pool behind a gate of as many places as it has connections."""

    def __init__(self, database_url: str, size: int = 8, wait_seconds: float = 3.0) -> None:
        if size < 1:
            raise ValueError(f"web pool size must be at least 1, not {size}")
        if not wait_seconds > 0:
            raise ValueError(f"web pool wait must be more than 0 seconds, not {wait_seconds}")
        self.size, self.wait_seconds = size, wait_seconds
        self.pool = make_pool(database_url, size, timeout=wait_seconds)
        self._gate: anyio.Semaphore | None = None  # made in the server's event loop
        self._threads: anyio.CapacityLimiter | None = None

    def open(self) -> None:
        self.pool.open(wait=False)  # the server starts even if the database is a moment late

    def close(self) -> None:
        self.pool.close()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.Connection]:
        """A connection for the block, given back in every case (error, cancellation);
        `Busy` after `wait_seconds` without one."""
        if self._gate is None:  # no await between the test and the assignment
            self._gate = anyio.Semaphore(self.size)
            # Own threads for taking and giving back, so giving back never queues behind
            # the requests' own work in anyio's default pool.
            self._threads = anyio.CapacityLimiter(self.size)
        deadline = time.monotonic() + self.wait_seconds
        with anyio.move_on_after(self.wait_seconds) as waiting:
            await self._gate.acquire()
        if waiting.cancelled_caught:
            raise Busy(self.wait_seconds)
        try:
            left = max(deadline - time.monotonic(), MIN_POOL_WAIT)
            with anyio.CancelScope(shield=True):  # a connection taken is never lost
                conn = await anyio.to_thread.run_sync(self.pool.getconn, left,
                                                      limiter=self._threads)
            try:
                yield conn
            finally:
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(self.pool.putconn, conn,
                                                   limiter=self._threads)
        finally:
            self._gate.release()

    async def run(self, call, *args):
        """`call(conn, *args)` in a worker thread with a connection from the gate."""
        async with self.connection() as conn:
            return await anyio.to_thread.run_sync(call, conn, *args)
