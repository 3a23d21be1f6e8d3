"""The daemon's WebSub side: after each pass, subscribe to the hubs the feeds named,
renew leases before they end, and give up on expired ones; on the HTTP server, answer
the hubs' verification GETs and take their signed deliveries, each processed in the
reactor as a poll of its feed that got the pushed body (crawler/pushed.py).

Off unless `websub_callback_url` is set. Threads: the HTTP handlers run in the health
server's threads and hand a delivery to the reactor's loop; everything else runs in the
reactor, subscription requests in a worker thread (a hub may verify before it answers).
The secrets go to the hubs and are compared with signatures; they are never logged."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from archive import websub as store
from archive.db import connect, error_line
from core.config import Settings
from crawler.items import PassReport
from crawler.websub import (
    RENEW_SHARE,
    RETRY_SECONDS,
    Hub,
    WebSubError,
    callback_base,
    callback_url,
    new_secret,
    signature_problem,
    subscribe,
    subscription_id,
    verify,
)

log = logging.getLogger(__name__)


class PushService:
    def __init__(self, settings: Settings, database_url: str, sources_path: Path | None,
                 outbox, running: list, allow_private: bool,
                 may_crawl: Callable[[], bool]) -> None:
        self.settings = settings
        self.base = callback_base(settings.websub_callback_url or "")
        self.url = database_url
        self.sources_path = sources_path
        self.outbox = outbox
        self.running = running  # the daemon's running crawlers, for its shutdown
        self.allow_private = allow_private
        self.may_crawl = may_crawl  # holds the crawler lock
        self.widest = max(settings.max_interval_minutes, settings.min_interval_minutes) * 60
        self.loop = asyncio.get_event_loop()
        self.queue: asyncio.Queue = asyncio.Queue()
        self.worker: asyncio.Task | None = None
        self.subscribing = asyncio.Lock()  # a tick and a push must not both renew
        self.processing = False
        self.stopping = False

    @classmethod
    def from_settings(cls, settings: Settings, *args, **kwargs) -> PushService | None:
        """The service, or None when WebSub is off (no callback URL set)."""
        if not settings.websub_callback_url:
            return None
        return cls(settings, *args, **kwargs)

    @property
    def busy(self) -> bool:
        return self.processing

    def stop(self) -> None:
        """No more pushes processed; the one in hand finishes (the shutdown waits)."""
        self.stopping = True

    # --- in the reactor: subscriptions ---------------------------------------------

    async def after_pass(self, report: PassReport | None) -> None:
        """Subscribe to newly named hubs, renew leases that end soon, expire the lapsed,
        and keep pushed sources at their widest interval."""
        async with self.subscribing:
            await self._subscriptions(report)

    async def _subscriptions(self, report: PassReport | None) -> None:
        now = datetime.now(UTC)
        conn = connect(self.url, migrate_now=False)
        try:
            for row in store.expire_lapsed(conn, now):
                log.warning("WebSub lease for %s ended without a renewal; polling it again",
                            row["topic"], extra={"source": row["topic"]})
            hubs = {poll.source.id: poll.hub for poll in (report.polls.values() if report
                                                          else []) if poll.hub is not None}
            known = store.subscriptions_of(conn, list(hubs)) if hubs else {}
            asks = [(source_id, hub, None) for source_id, hub in hubs.items()
                    if _wanted(known.get(source_id), hub, now)]
            asks += [(row["source_id"], Hub(row["hub"], row["topic"]), row["secret"])
                     for row in store.due_renewals(conn, now, RENEW_SHARE)]
            for source_id, hub, secret in asks:
                renewal = secret is not None
                secret = secret or new_secret()
                sub_id = store.request_subscription(conn, source_id, hub.hub, hub.topic,
                                                    secret)
                try:
                    await asyncio.to_thread(
                        subscribe, hub, callback_url(self.base, sub_id), secret,
                        allow_private=self.allow_private,
                        user_agent=self.settings.user_agent)
                except WebSubError as exc:
                    store.give_up(conn, sub_id, "failed", str(exc), datetime.now(UTC))
                    log.warning("WebSub: %s; polling as usual", exc,
                                extra={"source": hub.topic})
                    continue
                log.info("WebSub: %s %s at %s", "renewing" if renewal else "subscribed to",
                         hub.topic, hub.hub, extra={"source": hub.topic})
            store.widen_pushed(conn, self.widest, datetime.now(UTC))
        finally:
            conn.close()

    # --- in the HTTP server's threads: the hub's requests ---------------------------

    def answer_get(self, path: str) -> tuple[int, bytes]:
        """The hub's verification of intent (or denial) for one subscription."""
        query = dict(parse_qsl(urlsplit(path).query, keep_blank_values=True))
        sub_id = subscription_id(path)
        conn = connect(self.url, migrate_now=False)
        try:
            row = store.subscription(conn, sub_id) if sub_id is not None else None
            verdict = verify(row, query)
            now = datetime.now(UTC)
            if verdict.action == "activate":
                store.activate(conn, row["id"], verdict.lease_seconds, now, self.widest)
                lease = (f"lease {verdict.lease_seconds} s" if verdict.lease_seconds
                         else "no lease given")
                log.info("WebSub: the hub confirmed pushes of %s (%s)", row["topic"], lease,
                         extra={"source": row["topic"]})
            elif verdict.action == "denied":
                store.give_up(conn, row["id"], "denied", verdict.reason, now)
                log.warning("WebSub: %s for %s; polling as usual", verdict.reason,
                            row["topic"], extra={"source": row["topic"]})
            elif row is None or verdict.status == 404:
                log.warning("WebSub: refused a verification for %s (mode %s): not a "
                            "subscription we asked for", query.get("hub.topic", "?")[:300],
                            query.get("hub.mode", "?")[:20])
            return verdict.status, verdict.body
        finally:
            conn.close()

    def answer_post(self, path: str, signature: str | None, content_type: str | None,
                    body: bytes) -> int:
        """A delivery: 410 for a callback we no longer use (the hub may stop); 202 for
        the rest. Unsigned or wrongly signed bodies are acknowledged but ignored (the
        spec: the hub must not learn that the check failed)."""
        sub_id = subscription_id(path)
        conn = connect(self.url, migrate_now=False)
        try:
            row = store.subscription(conn, sub_id, with_secret=True) \
                if sub_id is not None else None
            if row is None or row["state"] not in ("active", "requested"):
                return 410
            problem = signature_problem(row["secret"], signature, body)
            store.record_push(conn, row["id"], problem is None, datetime.now(UTC))
        finally:
            conn.close()
        if problem is not None:
            log.warning("WebSub: ignored a delivery for %s: %s", row["topic"], problem,
                        extra={"source": row["topic"]})
            return 202
        self.loop.call_soon_threadsafe(self._enqueue, row["source_id"], row["topic"], body,
                                       content_type)
        return 202

    # --- in the reactor: processing deliveries, one at a time ------------------------

    def _enqueue(self, source_id: int, topic: str, body: bytes,
                 content_type: str | None) -> None:
        self.queue.put_nowait((source_id, topic, body, content_type))
        if self.worker is None or self.worker.done():
            self.worker = asyncio.ensure_future(self._work())

    async def _work(self) -> None:
        from crawler.pushed import crawl_pushed

        while not self.queue.empty() and not self.stopping:
            source_id, topic, body, content_type = self.queue.get_nowait()
            if not self.may_crawl():
                log.warning("WebSub: a delivery for %s arrived while another crawler holds "
                            "the lock; left to polling", topic)
                continue
            self.processing = True
            try:
                report = await crawl_pushed(self.settings, self.url, source_id, body,
                                            content_type, self.sources_path, self.outbox,
                                            self.running)
                poll = report.polls.get(source_id)
                log.info("WebSub push for %s: %d entries, %d new articles stored, %d alerts",
                         topic, poll.entries if poll else 0, report.articles_new,
                         len(report.alerts), extra={"source": topic})
                if poll is not None and poll.error:
                    log.error("WebSub push for %s unusable: %s", topic, poll.error)
                await self.after_pass(report)
            except Exception as exc:  # one bad delivery must not end the daemon
                log.error("WebSub push for %s failed: %s; polling will catch up", topic,
                          error_line(exc))
            finally:
                self.processing = False


def _wanted(row: dict | None, hub: Hub, now: datetime) -> bool:
    """Whether to ask the hub now: never asked, the feed names another hub or topic,
    or an earlier attempt failed, was denied, lapsed or went unverified long enough
    ago."""
    if row is None or (row["hub"], row["topic"]) != (hub.hub, hub.topic):
        return True
    if row["state"] == "active":
        return False  # renewed by lease, not by discovery
    return row["requested_at"] <= now - timedelta(seconds=RETRY_SECONDS)
