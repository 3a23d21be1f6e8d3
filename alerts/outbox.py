"""The outbox: alerts decided in the archive's transaction, delivered later.

`Outbox.record` runs inside the transaction that stored the article and put it in its
story: the alert commits with its cause or not at all, and the unique (rule, story,
outlet) key makes a second alert impossible whatever crashes or runs twice. A NOTIFY in
the same transaction wakes every dispatcher listening, in this process or another."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import psycopg
from psycopg.types.json import Jsonb

from alerts.message import KIND_STATUS_CHANGE, alert_facts
from alerts.rules import Join, Rule, fires, fires_on_change, rules_from_settings
from archive.stories import Assignment
from core.config import ConfigError, Settings

NOTIFY_CHANNEL = "backchannel_alerts"
DELIVERY_STATUSES = ("pending", "delivered", "failed")


@dataclass
class Outbox:
    rules: list[Rule]
    channels: list[str]  # names of the configured channels
    digest_minutes: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings, channels: list[str]) -> Outbox:
        rules = rules_from_settings(settings)
        for rule in rules:
            unknown = [c for c in rule.channels if c not in channels]
            if unknown:
                raise ConfigError(f"alert rule {rule.name!r}: channels {unknown} are not "
                                  f"configured (configured: {channels or 'none'})")
        digest = {name: minutes for name, minutes in settings.digest_minutes.items()
                  if minutes > 0}
        return cls(rules=rules, channels=channels, digest_minutes=digest)

    def record(self, conn: psycopg.Connection, assignment: Assignment) -> list[int]:
        """Write the alerts this story join calls for; return the ids of new ones (an
        alert that exists already is not new). Call it inside the archive's transaction."""
        if not assignment.joined_now:
            return []
        created = self._status_change(conn, assignment) + self._new_outlet(conn, assignment)
        if created:
            conn.execute("SELECT pg_notify(%s, %s)", (NOTIFY_CHANNEL, "new"))
        return created

    def _new_outlet(self, conn: psycopg.Connection, assignment: Assignment) -> list[int]:
        """The first report of a story, or an outlet new to it, in a status a rule
        watches."""
        if not assignment.is_new_outlet:
            return []
        row = conn.execute(
            "SELECT a.language, s.status FROM articles a, stories s "
            "WHERE a.id = %s AND s.id = %s",
            (assignment.article_id, assignment.story_id),
        ).fetchone()
        join = Join(outlet=assignment.outlet, language=row["language"],
                    story_status=row["status"], is_new_outlet=assignment.is_new_outlet,
                    joined_now=assignment.joined_now)
        rules = [rule for rule in self.rules if fires(rule, join)]
        if not rules:
            return []
        facts = alert_facts(conn, assignment.article_id, assignment.story_id)
        created = []
        for rule in rules:
            alert_id = self._insert(conn, rule, facts, assignment, status=None)
            if alert_id is not None:
                created.append(alert_id)
        return created

    def _status_change(self, conn: psycopg.Connection, assignment: Assignment) -> list[int]:
        """A government's readout or denial changed the story's status: alert once per
        rule and new status, through the same outbox."""
        rules = [rule for rule in self.rules
                 if fires_on_change(rule, assignment.previous_status, assignment.status)]
        if not rules:
            return []
        facts = alert_facts(conn, assignment.article_id, assignment.story_id)
        facts = {**facts, "kind": KIND_STATUS_CHANGE, "previous_status":
                 assignment.previous_status}
        created = []
        for rule in rules:
            alert_id = self._insert(conn, rule, facts, assignment, status=assignment.status)
            if alert_id is not None:
                created.append(alert_id)
        return created

    def _insert(self, conn: psycopg.Connection, rule: Rule, facts: dict,
                assignment: Assignment, status: str | None) -> int | None:
        """One alert and its deliveries; None when the unique keys say it exists."""
        conflict = ("(rule, story_id, status) WHERE kind = 'status_change'" if status
                    else "(rule, story_id, outlet) WHERE kind <> 'status_change'")
        inserted = conn.execute(
            f"""INSERT INTO alerts (rule, kind, story_id, outlet, article_id, payload, status)
                VALUES (%s, %s, %s, %s, %s, %s, %s)
                ON CONFLICT {conflict} DO NOTHING RETURNING id""",  # conflict: fixed text
            (rule.name, facts["kind"], assignment.story_id, assignment.outlet,
             assignment.article_id, Jsonb({**facts, "rule": rule.name}), status),
        ).fetchone()
        if inserted is None:
            return None
        for channel in rule.channels or self.channels:
            conn.execute(
                "INSERT INTO alert_deliveries (alert_id, channel, next_attempt_at) "
                "VALUES (%s, %s, %s)",
                (inserted["id"], channel, self._due_at(conn, channel)),
            )
        return inserted["id"]

    def _due_at(self, conn: psycopg.Connection, channel: str) -> datetime:
        """Now; or, for a digest channel, the end of the open window (a new one opens
        when none is pending), so that alerts in one window leave as one message."""
        minutes = self.digest_minutes.get(channel, 0)
        row = conn.execute(
            """SELECT coalesce(max(next_attempt_at), clock_timestamp()
                               + make_interval(secs => %(secs)s)) AS due
               FROM alert_deliveries
               WHERE %(secs)s > 0 AND channel = %(channel)s AND status = 'pending'
                 AND attempts = 0 AND next_attempt_at > clock_timestamp()""",
            {"channel": channel, "secs": minutes * 60.0},
        ).fetchone()
        return row["due"]


def list_alerts(conn: psycopg.Connection, status: str | None = None,
                limit: int = 1000) -> list[dict]:
    """Alerts, newest first, each with its per-channel delivery state. `status` keeps the
    alerts with at least one delivery in that state."""
    if status is not None and status not in DELIVERY_STATUSES:
        raise ValueError(f"unknown status {status!r} (one of {', '.join(DELIVERY_STATUSES)})")
    rows = conn.execute(
        """SELECT a.id, a.rule, a.kind, a.story_id, a.outlet, a.article_id, a.created_at,
                  a.payload->>'url' AS url, a.payload->>'title' AS title,
                  coalesce(jsonb_agg(jsonb_build_object(
                      'channel', d.channel, 'status', d.status, 'attempts', d.attempts,
                      'last_error', d.last_error, 'next_attempt_at', d.next_attempt_at,
                      'delivered_at', d.delivered_at) ORDER BY d.channel)
                    FILTER (WHERE d.channel IS NOT NULL), '[]') AS deliveries
           FROM alerts a LEFT JOIN alert_deliveries d ON d.alert_id = a.id
           GROUP BY a.id
           HAVING %(status)s::text IS NULL OR bool_or(d.status = %(status)s)
           ORDER BY a.created_at DESC, a.id DESC
           LIMIT %(limit)s""",
        {"status": status, "limit": limit},
    ).fetchall()
    return rows


def retry_failed(conn: psycopg.Connection, alert_ids: list[int] | None = None,
                 channel: str | None = None) -> int:
    """Put failed deliveries back in the queue, attempts reset; return how many."""
    cur = conn.execute(
        """UPDATE alert_deliveries SET status = 'pending', attempts = 0, next_attempt_at = now()
           WHERE status = 'failed'
             AND (%(ids)s::bigint[] IS NULL OR alert_id = ANY(%(ids)s))
             AND (%(channel)s::text IS NULL OR channel = %(channel)s)""",
        {"ids": alert_ids, "channel": channel},
    )
    conn.execute("SELECT pg_notify(%s, %s)", (NOTIFY_CHANNEL, "retry"))
    return cur.rowcount
