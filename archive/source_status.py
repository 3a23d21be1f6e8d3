"""The sources' polling state as `backchannel sources status` shows it: interval (and
the one the feed asked for), last poll, success and error, failures, next poll, and
the WebSub hub that pushes it (if any)."""

from __future__ import annotations

import psycopg


def polling_state(conn: psycopg.Connection, urls: list[str]) -> list[dict]:
    """One row per stored source among `urls`, with its outlet's name (a search's own
    name: it has no outlet), by outlet and URL; a source never polled has no row."""
    return conn.execute(
        """SELECT coalesce(o.name, s.search_name) AS outlet, s.kind, s.url,
                  s.interval_minutes, s.search_window_end,
                  s.effective_interval_seconds, s.last_hint, s.last_polled_at,
                  s.last_success_at, s.last_status, s.last_error, s.consecutive_failures,
                  s.next_poll_at,
                  CASE WHEN w.state = 'active' THEN w.hub END AS pushed_by,
                  CASE WHEN w.state = 'active' THEN w.lease_expires_at END AS push_lease_until
           FROM sources s LEFT JOIN outlets o ON o.id = s.outlet_id
                LEFT JOIN websub_subscriptions w ON w.source_id = s.id
           WHERE s.url = ANY(%s) ORDER BY 1, s.url""",
        (urls,),
    ).fetchall()
