"""WebSub subscriptions in the archive: one per feed source, with its hub, topic,
secret, lease and state; and the source's next poll, widened while a hub pushes and
brought forward when it stops. The secret is read only to sign-check a delivery and to
send it to the hub; no query here returns it to anything that prints."""

from __future__ import annotations

from datetime import datetime

import psycopg

COLUMNS = """id, source_id, hub, topic, state, lease_seconds, lease_expires_at,
             requested_at, verified_at, last_push_at, pushes, ignored_pushes, last_error"""


def subscription(conn: psycopg.Connection, subscription_id: int,
                 with_secret: bool = False) -> dict | None:
    """One subscription by its id (the last part of its callback URL), or None."""
    extra = ", secret" if with_secret else ""
    return conn.execute(f"SELECT {COLUMNS}{extra} FROM websub_subscriptions WHERE id = %s",
                        (subscription_id,)).fetchone()


def subscriptions_of(conn: psycopg.Connection, source_ids: list[int]) -> dict[int, dict]:
    """The subscriptions of these sources, by source id (no secrets)."""
    rows = conn.execute(f"SELECT {COLUMNS} FROM websub_subscriptions "
                        "WHERE source_id = ANY(%s)", (list(source_ids),)).fetchall()
    return {row["source_id"]: row for row in rows}


def request_subscription(conn: psycopg.Connection, source_id: int, hub: str, topic: str,
                         secret: str) -> int:
    """Record that we are asking `hub` for `topic` (a new request or a renewal: the
    state becomes 'requested' unless the subscription is active); its id."""
    row = conn.execute(
        """INSERT INTO websub_subscriptions (source_id, hub, topic, secret)
           VALUES (%(source)s, %(hub)s, %(topic)s, %(secret)s)
           ON CONFLICT (source_id) DO UPDATE SET
               hub = EXCLUDED.hub, topic = EXCLUDED.topic, secret = EXCLUDED.secret,
               requested_at = now(), last_error = NULL,
               state = CASE WHEN websub_subscriptions.state = 'active'
                             AND websub_subscriptions.hub = EXCLUDED.hub
                             AND websub_subscriptions.topic = EXCLUDED.topic
                            THEN 'active' ELSE 'requested' END
           RETURNING id""",
        {"source": source_id, "hub": hub, "topic": topic, "secret": secret}).fetchone()
    return row["id"]


def activate(conn: psycopg.Connection, subscription_id: int, lease_seconds: int | None,
             now: datetime, widest_seconds: float) -> None:
    """The hub verified our request: pushes come until the lease ends, so the source is
    polled only at its widest interval meanwhile."""
    with conn.transaction():
        conn.execute(
            """UPDATE websub_subscriptions SET state = 'active', verified_at = %(now)s,
                   lease_seconds = %(lease)s, last_error = NULL,
                   lease_expires_at = CASE WHEN %(lease)s::int IS NULL THEN NULL
                       ELSE %(now)s + make_interval(secs => %(lease)s::int) END
               WHERE id = %(id)s""",
            {"id": subscription_id, "lease": lease_seconds, "now": now})
        widen_pushed(conn, widest_seconds, now)


def give_up(conn: psycopg.Connection, subscription_id: int, state: str, reason: str,
            now: datetime) -> None:
    """The hub denied, refused or cannot be reached: back to polling as usual, at once
    if the hub was pushing (items may have been published since its last push)."""
    with conn.transaction():
        row = conn.execute("SELECT source_id, state FROM websub_subscriptions "
                           "WHERE id = %s FOR UPDATE", (subscription_id,)).fetchone()
        if row is None:
            return
        conn.execute("UPDATE websub_subscriptions SET state = %s, last_error = %s "
                     "WHERE id = %s", (state, reason[:2000], subscription_id))
        if row["state"] == "active":  # it was pushed, so polled seldom: catch up
            _poll_now(conn, [row["source_id"]], now)


def expire_lapsed(conn: psycopg.Connection, now: datetime) -> list[dict]:
    """Active subscriptions whose lease has ended without a renewal become 'expired'
    and their sources are polled at once; those subscriptions."""
    with conn.transaction():
        rows = conn.execute(
            f"""UPDATE websub_subscriptions SET state = 'expired',
                    last_error = 'the lease ended without a renewal'
                WHERE state = 'active' AND lease_expires_at <= %s
                RETURNING {COLUMNS}""", (now,)).fetchall()
        _poll_now(conn, [row["source_id"] for row in rows], now)
    return rows


def due_renewals(conn: psycopg.Connection, now: datetime, share: float) -> list[dict]:
    """Active subscriptions with less than `share` of their lease left and no renewal
    asked since the last verification (with their secret: it is sent again)."""
    return conn.execute(
        f"""SELECT {COLUMNS}, secret FROM websub_subscriptions
            WHERE state = 'active' AND lease_expires_at IS NOT NULL
              AND lease_expires_at - make_interval(secs => lease_seconds * %s) <= %s
              AND requested_at <= verified_at
            ORDER BY lease_expires_at""", (share, now)).fetchall()


def record_push(conn: psycopg.Connection, subscription_id: int, accepted: bool,
                now: datetime) -> None:
    column = "pushes" if accepted else "ignored_pushes"
    conn.execute(f"UPDATE websub_subscriptions SET {column} = {column} + 1, "
                 "last_push_at = CASE WHEN %s THEN %s ELSE last_push_at END WHERE id = %s",
                 (accepted, now, subscription_id))


def widen_pushed(conn: psycopg.Connection, widest_seconds: float, now: datetime) -> None:
    """Sources whose hub pushes are polled no sooner than their widest interval (the
    configured one, or the policy's longest if that is longer) after their last poll:
    a safety net for pushes that never came."""
    conn.execute(
        """UPDATE sources s SET next_poll_at = s.last_polled_at + make_interval(
                   secs => greatest(s.interval_minutes * 60, %(widest)s))
           FROM websub_subscriptions w
           WHERE w.source_id = s.id AND w.state = 'active'
             AND (w.lease_expires_at IS NULL OR w.lease_expires_at > %(now)s)
             AND s.last_polled_at IS NOT NULL
             AND s.next_poll_at < s.last_polled_at + make_interval(
                   secs => greatest(s.interval_minutes * 60, %(widest)s))""",
        {"widest": widest_seconds, "now": now})


def _poll_now(conn: psycopg.Connection, source_ids: list[int], now: datetime) -> None:
    if source_ids:
        conn.execute("UPDATE sources SET next_poll_at = least(next_poll_at, %s) "
                     "WHERE id = ANY(%s)", (now, source_ids))
