"""Delivery: the outbox drained to each channel by a thread of its own, so that a slow
or broken channel holds up nobody else.

Each message is sent inside the transaction that locks its delivery rows (FOR UPDATE
SKIP LOCKED) and marks them delivered, so two dispatchers (two processes, a cron job
and the daemon) never send the same alert. The one window left is a crash after the
receiver accepted and before the commit: the alert is then sent again on restart,
with the same Message-ID / Idempotency-Key. A channel delivers in alert order; when
its oldest pending message is waiting to be retried, the ones behind it wait too."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from psycopg.rows import dict_row

from alerts.channels import Channel, DeliveryError, redact_text
from archive.db import DatabaseError, connect, error_line
from archive.outbox import (
    listen_for_alerts,
    lock_due_deliveries,
    mark_delivered,
    mark_failed,
    postpone,
)
from core.config import Settings
from core.logs import redact

log = logging.getLogger(__name__)

DIGEST_BATCH = 50  # alerts in one digest message at most
IDLE_POLL = 1.0  # seconds between looks at the outbox when no NOTIFY comes
ERROR_LIMIT = 500  # characters of an error kept in the outbox


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 8  # tries per delivery before it is marked failed
    base: float = 5.0  # seconds before the first retry; doubles each time
    cap: float = 3600.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(attempts=max(1, settings.alert_attempts),
                   base=max(0.0, settings.alert_backoff_seconds))

    def delay(self, attempts: int, retry_after: float | None = None) -> float:
        """Exponential backoff with jitter (half to all of the step); never sooner than
        the receiver's Retry-After."""
        step = min(self.cap, self.base * 2 ** max(0, attempts - 1))
        return max(step * random.uniform(0.5, 1.0), retry_after or 0.0)


Observer = Callable[[str, int, int], None]  # (channel, delivered, failed attempts)


def deliver_due(conn: psycopg.Connection, channel: Channel, policy: RetryPolicy,
                digest: bool = False, observer: Observer | None = None) -> float | None:
    """Send every message of this channel that is due, one transaction each. Returns the
    seconds until its next pending message is due, or None when none is pending (or
    another dispatcher holds them)."""
    while True:
        with conn.transaction():
            rows = lock_due_deliveries(conn, channel.name, DIGEST_BATCH if digest else 1)
            if not rows:
                return None
            if rows[0]["wait"] > 0:
                return rows[0]["wait"]
            batch = [row for row in rows if row["wait"] <= 0]
            delivered = _send(conn, channel, policy, batch)
        if observer is not None:  # after the commit: what was counted really happened
            observer(channel.name, len(batch) if delivered else 0, 0 if delivered else 1)


def _send(conn: psycopg.Connection, channel: Channel, policy: RetryPolicy,
          batch: list[dict]) -> bool:
    ids = [row["alert_id"] for row in batch]
    started = time.monotonic()
    try:
        receipt = channel.deliver([(row["alert_id"], row["payload"]) for row in batch])
    except Exception as exc:  # a channel bug must not stop the others: count it a failure
        failure = exc if isinstance(exc, DeliveryError) else DeliveryError(
            f"{type(exc).__name__}: {exc}", transient=True)
        _record_failure(conn, channel.name, policy, batch, failure,
                        getattr(channel, "secrets", ()))
        return False
    mark_delivered(conn, channel.name, ids)
    log.info("alerts %s delivered to %s in %.2f s: %s", ids, channel.name,
             time.monotonic() - started, receipt, extra={"channel": channel.name})
    return True


def _record_failure(conn: psycopg.Connection, name: str, policy: RetryPolicy,
                    batch: list[dict], failure: DeliveryError, secrets=()) -> None:
    """Stored and logged without the channel's secrets (its URL's path, query and
    credentials), whatever the receiver or a bug put in the reason."""
    attempts = max(row["attempts"] for row in batch) + 1
    reason = redact(redact_text(failure.reason, secrets))[:ERROR_LIMIT]
    final = not failure.transient or attempts >= policy.attempts
    ids = [row["alert_id"] for row in batch]
    if final:
        mark_failed(conn, name, ids, attempts, reason)
        log.error("alerts %s to %s failed after %d attempt(s): %s (retry with "
                  "`backchannel alerts retry`)", ids, name, attempts, reason,
                  extra={"channel": name})
        return
    delay = policy.delay(attempts, failure.retry_after)
    postpone(conn, name, ids, attempts, reason, delay)
    log.warning("alerts %s to %s: attempt %d of %d failed: %s; next try in %.1f s", ids, name,
                attempts, policy.attempts, reason, delay, extra={"channel": name})


class Dispatcher:
    """One thread per channel, each with its own connection, woken by the outbox's
    NOTIFY. `drain()` lets the threads finish what falls due within a time budget, as
    `crawl` does before exiting; `stop()` ends them after the message in hand."""

    def __init__(self, database_url: str, channels: dict[str, Channel], policy: RetryPolicy,
                 digest_channels: set[str] | frozenset[str] = frozenset(),
                 observer: Observer | None = None) -> None:
        self.database_url = database_url
        self.observer = observer
        self.channels = channels
        self.policy = policy
        self.digest_channels = set(digest_channels)
        self._stop = threading.Event()
        self._deadline: float | None = None
        self._threads: list[threading.Thread] = []

    def start(self) -> Dispatcher:
        for channel in self.channels.values():
            thread = threading.Thread(target=self._run, args=(channel,),
                                      name=f"alerts-{channel.name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def drain(self, budget: float) -> None:
        """Deliver what is due now or within `budget` seconds, then stop."""
        self._deadline = time.monotonic() + budget
        for thread in self._threads:
            thread.join(budget + self.policy.cap)
        self._stop.set()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)

    def _run(self, channel: Channel) -> None:
        conn = None
        while not self._stop.is_set():
            try:
                if conn is None or conn.closed:
                    conn = connect(self.database_url, migrate_now=False)
                    conn.row_factory = dict_row
                    listen_for_alerts(conn)
                wait = deliver_due(conn, channel, self.policy,
                                   channel.name in self.digest_channels, self.observer)
            except (psycopg.Error, DatabaseError) as exc:  # DatabaseError: cannot reconnect
                log.warning("alert dispatcher for %s: database error: %s", channel.name,
                            error_line(exc), extra={"channel": channel.name})
                if conn is not None:
                    conn.close()
                conn, wait = None, IDLE_POLL
            except Exception:  # a bug: log it, but never let the channel's thread die
                log.exception("alert dispatcher for %s failed", channel.name,
                              extra={"channel": channel.name})
                if conn is not None:
                    conn.close()
                conn, wait = None, IDLE_POLL
            pause = IDLE_POLL if wait is None else min(wait, IDLE_POLL)
            if self._deadline is not None:
                remaining = self._deadline - time.monotonic()
                if wait is None or wait > remaining or remaining <= 0:
                    break
                pause = min(pause, remaining)
            if conn is None:
                self._stop.wait(pause)
            else:
                try:
                    for _ in conn.notifies(timeout=max(pause, 0.01), stop_after=1):
                        pass
                except psycopg.Error:
                    conn.close()
        if conn is not None:
            conn.close()
