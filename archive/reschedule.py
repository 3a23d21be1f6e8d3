"""Moving sources' next polls when the sources file changes under a running daemon: a
new `interval_minutes` counts from the last poll at once, not after the next poll."""

from __future__ import annotations

import psycopg

from archive.store import MAX_BACKOFF


def reschedule_intervals(conn: psycopg.Connection, intervals: dict[str, float]) -> list[str]:
    """For each source URL whose stored interval differs from the one given, set its
    next poll to its last poll plus the new interval (doubled per consecutive failure,
    as a failed poll would have, at most MAX_BACKOFF); a source never polled stays due.
    Returns the URLs rescheduled. The new interval itself is stored by the next sync."""
    if not intervals:
        return []
    urls, minutes = list(intervals), [float(m) for m in intervals.values()]
    rows = conn.execute(
        """UPDATE sources AS s SET
               next_poll_at = coalesce(s.last_polled_at, now()) + least(
                   make_interval(secs => f.minutes * 60)
                       * power(2, least(greatest(s.consecutive_failures - 1, 0), 10)),
                   %s),
               effective_interval_seconds = NULL
           FROM unnest(%s::text[], %s::float8[]) AS f(url, minutes)
           WHERE s.url = f.url AND s.interval_minutes IS DISTINCT FROM f.minutes
           RETURNING s.url""",
        (MAX_BACKOFF, urls, minutes),
    ).fetchall()
    return sorted(row["url"] for row in rows)


def next_polls(conn: psycopg.Connection, urls: list[str]) -> dict:
    """When the first of these sources is due and how many are failing: the daemon's
    heartbeat line."""
    return conn.execute(
        """SELECT min(next_poll_at) AS next_poll_at,
                  count(*) FILTER (WHERE consecutive_failures > 0) AS failing,
                  count(*) AS stored
           FROM sources WHERE url = ANY(%s)""",
        (urls,),
    ).fetchone()
