"""The alert outbox in the archive: alerts and their per-channel deliveries, written in
the transaction that stored their cause and drained by the dispatchers; the NOTIFY that
wakes the dispatchers and the LISTEN they wait on. What an alert is and when one is due
is decided in `alerts/`; this module only reads and writes the rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

NOTIFY_CHANNEL = "backchannel_alerts"  # the PostgreSQL notification channel


def notify_dispatchers(conn: psycopg.Connection, reason: str) -> None:
    """Wake every dispatcher listening, at the commit of the current transaction."""
    conn.execute("SELECT pg_notify(%s, %s)", (NOTIFY_CHANNEL, reason))


def listen_for_alerts(conn: psycopg.Connection) -> None:
    """Have this (autocommit) connection receive the outbox's notifications."""
    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")  # a fixed identifier, not a value


def article_language_and_story_status(conn: psycopg.Connection, article_id: int,
                                      story_id: int) -> dict:
    """{"language", "confidence", "status"}: the article's language and classifier
    confidence, its story's status."""
    return conn.execute(
        "SELECT a.language, a.confidence, s.status FROM articles a, stories s "
        "WHERE a.id = %s AND s.id = %s",
        (article_id, story_id),
    ).fetchone()


def article_published_and_language(conn: psycopg.Connection, article_id: int) -> dict:
    """{"published_at", "language", "confidence"} of one stored article."""
    return conn.execute(
        "SELECT published_at, language, confidence FROM articles WHERE id = %s", (article_id,)
    ).fetchone()


def insert_alert(conn: psycopg.Connection, *, rule: str, kind: str, story_id: int,
                 outlet: str, article_id: int | None, payload: dict[str, Any],
                 status: str | None) -> int | None:
    """The new alert's id; None when the unique keys say it exists already: (rule,
    story, status) for a status change (`status` given), (rule, story, outlet) else."""
    conflict = ("(rule, story_id, status) WHERE kind = 'status_change'" if status
                else "(rule, story_id, outlet) WHERE kind <> 'status_change'")
    inserted = conn.execute(
        f"""INSERT INTO alerts (rule, kind, story_id, outlet, article_id, payload, status)
            VALUES (%s, %s, %s, %s, %s, %s, %s)
            ON CONFLICT {conflict} DO NOTHING RETURNING id""",  # conflict: fixed text
        (rule, kind, story_id, outlet, article_id, Jsonb(payload), status),
    ).fetchone()
    return None if inserted is None else inserted["id"]


def insert_delivery(conn: psycopg.Connection, alert_id: int, channel: str,
                    next_attempt_at: datetime) -> None:
    conn.execute(
        "INSERT INTO alert_deliveries (alert_id, channel, next_attempt_at) "
        "VALUES (%s, %s, %s)",
        (alert_id, channel, next_attempt_at),
    )


def digest_due_at(conn: psycopg.Connection, channel: str, seconds: float) -> datetime:
    """When a new delivery on `channel` is due: now when `seconds` is 0; else the end of
    the channel's open digest window, or of one opened now when none is pending."""
    row = conn.execute(
        """SELECT coalesce(max(next_attempt_at), clock_timestamp()
                           + make_interval(secs => %(secs)s)) AS due
           FROM alert_deliveries
           WHERE %(secs)s > 0 AND channel = %(channel)s AND status = 'pending'
             AND attempts = 0 AND next_attempt_at > clock_timestamp()""",
        {"channel": channel, "secs": seconds},
    ).fetchone()
    return row["due"]


# An alert's deliveries as one JSON list, over `alerts a LEFT JOIN alert_deliveries d`.
DELIVERIES_JSON = """coalesce(jsonb_agg(jsonb_build_object(
                      'channel', d.channel, 'status', d.status, 'attempts', d.attempts,
                      'last_error', d.last_error, 'next_attempt_at', d.next_attempt_at,
                      'delivered_at', d.delivered_at) ORDER BY d.channel)
                    FILTER (WHERE d.channel IS NOT NULL), '[]') AS deliveries"""


def alerts_with_deliveries(conn: psycopg.Connection, status: str | None,
                           limit: int) -> list[dict]:
    """Alerts, newest first, each with its per-channel delivery state ("deliveries");
    `status` keeps the alerts with at least one delivery in that state."""
    return conn.execute(
        f"""SELECT a.id, a.rule, a.kind, a.story_id, a.outlet, a.article_id, a.created_at,
                  a.payload->>'url' AS url, a.payload->>'title' AS title,
                  {DELIVERIES_JSON}
           FROM alerts a LEFT JOIN alert_deliveries d ON d.alert_id = a.id
           GROUP BY a.id
           HAVING %(status)s::text IS NULL OR bool_or(d.status = %(status)s)
           ORDER BY a.created_at DESC, a.id DESC
           LIMIT %(limit)s""",
        {"status": status, "limit": limit},
    ).fetchall()


def requeue_failed(conn: psycopg.Connection, alert_ids: list[int] | None,
                   channel: str | None) -> int:
    """How many failed deliveries were put back in the queue, attempts reset (of these
    alerts, of this channel; None: all)."""
    cur = conn.execute(
        """UPDATE alert_deliveries SET status = 'pending', attempts = 0, next_attempt_at = now()
           WHERE status = 'failed'
             AND (%(ids)s::bigint[] IS NULL OR alert_id = ANY(%(ids)s))
             AND (%(channel)s::text IS NULL OR channel = %(channel)s)""",
        {"ids": alert_ids, "channel": channel},
    )
    return cur.rowcount


def delivery_counts(conn: psycopg.Connection, alert_ids: list[int] | None,
                    channels: list[str]) -> dict[str, int]:
    """Delivery status → how many deliveries of these alerts (None: all) on these
    channels are in it; statuses with none are missing."""
    rows = conn.execute(
        """SELECT status, count(*) AS n FROM alert_deliveries
           WHERE (%(ids)s::bigint[] IS NULL OR alert_id = ANY(%(ids)s))
             AND channel = ANY(%(channels)s) GROUP BY status""",
        {"ids": alert_ids, "channels": channels},
    ).fetchall()
    return {row["status"]: row["n"] for row in rows}


def lock_due_deliveries(conn: psycopg.Connection, channel: str, limit: int) -> list[dict]:
    """The channel's oldest pending deliveries, at most `limit`, locked for this
    transaction (FOR UPDATE SKIP LOCKED: another dispatcher's are skipped), each with
    its alert's payload and the seconds until it is due ("wait", 0 when due)."""
    return conn.execute(
        """SELECT d.alert_id, d.attempts, a.payload,
                  greatest(0, extract(epoch FROM d.next_attempt_at
                                      - clock_timestamp()))::float AS wait
           FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id
           WHERE d.channel = %s AND d.status = 'pending'
           ORDER BY d.alert_id
           LIMIT %s
           FOR UPDATE OF d SKIP LOCKED""",
        (channel, limit),
    ).fetchall()


def mark_delivered(conn: psycopg.Connection, channel: str, alert_ids: list[int]) -> None:
    conn.execute(
        """UPDATE alert_deliveries SET status = 'delivered', delivered_at = clock_timestamp(),
                  attempts = attempts + 1, last_error = NULL
           WHERE channel = %s AND alert_id = ANY(%s)""",
        (channel, alert_ids),
    )


def mark_failed(conn: psycopg.Connection, channel: str, alert_ids: list[int], attempts: int,
                reason: str) -> None:
    """No more attempts: the deliveries wait for `backchannel alerts retry`."""
    conn.execute(
        """UPDATE alert_deliveries SET status = 'failed', attempts = %s, last_error = %s
           WHERE channel = %s AND alert_id = ANY(%s)""",
        (attempts, reason, channel, alert_ids),
    )


def postpone(conn: psycopg.Connection, channel: str, alert_ids: list[int], attempts: int,
             reason: str, delay: float) -> None:
    """A failed attempt to be tried again `delay` seconds from now."""
    conn.execute(
        """UPDATE alert_deliveries SET attempts = %s, last_error = %s,
                  next_attempt_at = clock_timestamp() + make_interval(secs => %s)
           WHERE channel = %s AND alert_id = ANY(%s)""",
        (attempts, reason, delay, channel, alert_ids),
    )
