"""The outbox: alerts decided in the archive's transaction, delivered later.

`Outbox.record` runs inside the transaction that stored the article and put it in its
story: the alert commits with its cause or not at all, and the unique (rule, story,
outlet) key makes a second alert impossible whatever crashes or runs twice. A NOTIFY in
the same transaction wakes every dispatcher listening, in this process or another."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import psycopg

from alerts.message import KIND_STATUS_CHANGE, alert_facts
from alerts.rules import Join, Rule, fires, fires_on_change, rules_from_settings
from archive.outbox import (
    alerts_with_deliveries,
    article_language_and_story_status,
    digest_due_at,
    insert_alert,
    insert_delivery,
    notify_dispatchers,
    requeue_failed,
)
from archive.stories import Assignment
from core.config import ConfigError, Settings

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
            notify_dispatchers(conn, "new")
        return created

    def _new_outlet(self, conn: psycopg.Connection, assignment: Assignment) -> list[int]:
        """The first report of a story, or an outlet new to it, in a status a rule
        watches."""
        if not assignment.is_new_outlet:
            return []
        row = article_language_and_story_status(conn, assignment.article_id,
                                                assignment.story_id)
        join = Join(outlet=assignment.outlet, language=row["language"],
                    story_status=row["status"], is_new_outlet=assignment.is_new_outlet,
                    joined_now=assignment.joined_now, confidence=row["confidence"])
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
        alert_id = insert_alert(
            conn, rule=rule.name, kind=facts["kind"], story_id=assignment.story_id,
            outlet=assignment.outlet, article_id=assignment.article_id,
            payload={**facts, "rule": rule.name}, status=status)
        if alert_id is None:
            return None
        for channel in rule.channels or self.channels:
            insert_delivery(conn, alert_id, channel, self._due_at(conn, channel))
        return alert_id

    def _due_at(self, conn: psycopg.Connection, channel: str) -> datetime:
        """Now; or, for a digest channel, the end of the open window (a new one opens
        when none is pending), so that alerts in one window leave as one message."""
        minutes = self.digest_minutes.get(channel, 0)
        return digest_due_at(conn, channel, minutes * 60.0)


def list_alerts(conn: psycopg.Connection, status: str | None = None,
                limit: int = 1000) -> list[dict]:
    """Alerts, newest first, each with its per-channel delivery state. `status` keeps the
    alerts with at least one delivery in that state."""
    if status is not None and status not in DELIVERY_STATUSES:
        raise ValueError(f"unknown status {status!r} (one of {', '.join(DELIVERY_STATUSES)})")
    return alerts_with_deliveries(conn, status, limit)


def retry_failed(conn: psycopg.Connection, alert_ids: list[int] | None = None,
                 channel: str | None = None) -> int:
    """Put failed deliveries back in the queue, attempts reset; return how many."""
    requeued = requeue_failed(conn, alert_ids, channel)
    notify_dispatchers(conn, "retry")
    return requeued
