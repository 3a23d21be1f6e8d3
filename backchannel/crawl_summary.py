"""What a crawl pass meant, in a few lines for its user: sources that could not be
reached at all (offline?), why nothing was due and when the next poll is, and which
alerts did not get through and how to send them again."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from archive.outbox import delivery_counts
from core.text import plural
from crawler.items import PollOutcome

RETRY_COMMAND = "backchannel alerts retry"
POLL_NOW = "`backchannel crawl --all` to poll now"

# (text in a failure's reason, that failure in words, one and many): the ways a
# request fails before any server has answered
NETWORK_FAILURES = (
    ("DNS lookup failed", "DNS failure", "DNS failures"),
    ("CannotResolveHost", "DNS failure", "DNS failures"),
    ("Connection refused", "connection refused", "connections refused"),
    ("ConnectionRefused", "connection refused", "connections refused"),
    ("No route to host", "host unreachable", "hosts unreachable"),
    ("NoRouteError", "host unreachable", "hosts unreachable"),
    ("Network is unreachable", "network unreachable", "networks unreachable"),
    ("timed out", "timeout", "timeouts"),
)


def network_failure(error: str | None) -> tuple[str, str] | None:
    """(one, many): how this failure reads in words, when no server answered."""
    for marker, one, many in NETWORK_FAILURES:
        if error and marker in error:
            return one, many
    return None


def unreachable_line(polls: Iterable[PollOutcome]) -> str | None:
    """"no source could be reached: 26 DNS failures; is this machine offline?" when
    every source polled failed before a server answered; else None."""
    polls = list(polls)
    kinds = [network_failure(poll.error) for poll in polls if not poll.ok]
    if not polls or len(kinds) < len(polls) or None in kinds:
        return None
    counts = Counter(kinds)
    said = ", ".join(plural(n, one, many) for (one, many), n in counts.most_common())
    return f"no source could be reached: {said}; is this machine offline?"


def clock(moment: datetime, now: datetime) -> str:
    """A local time: "21:02" today, with the date on another day."""
    local, today = moment.astimezone(), now.astimezone()
    return f"{local:%H:%M}" if local.date() == today.date() else f"{local:%Y-%m-%d %H:%M}"


def nothing_due_line(rows: list[dict], now: datetime) -> tuple[str, bool]:
    """Why a pass polled nothing and when the next poll is, from the sources' polling
    state (archive.source_status rows); and whether it is because all are failing."""
    failing = [row for row in rows if row["consecutive_failures"]]
    working = [row for row in rows if not row["consecutive_failures"]]
    parts = []
    if working:
        nexts = [row["next_poll_at"] for row in working if row["next_poll_at"]]
        when = f", next poll at {clock(min(nexts), now)}" if nexts else ""
        polled = plural(len(working), "source")
        polled = f"all {polled}" if len(working) > 1 and not failing else polled
        parts.append(f"{polled} polled recently{when}")
    if failing:
        nexts = [row["next_poll_at"] for row in failing if row["next_poll_at"]]
        when = f", next retry at {clock(min(nexts), now)}" if nexts else ""
        parts.append(f"{plural(len(failing), 'source')} failing{when}")
    if not parts:
        return "nothing due: the sources file lists no source", False
    return f"nothing due: {'; '.join(parts)}; {POLL_NOW}", not working


@dataclass
class AlertOutcome:
    """The pass's alerts after the wait for their delivery."""

    new: int
    delivered: int = 0
    undelivered: int = 0
    waiting_digest: int = 0  # pending on a digest channel: sent with the next digest
    by_channel: Counter = field(default_factory=Counter)  # channel → undelivered

    def summary(self) -> str:
        """"2 new alerts (1 delivered, 1 not delivered)": the end of the summary line."""
        text = plural(self.new, "new alert")
        details = []
        if self.delivered or self.undelivered:
            details.append(f"{self.delivered} delivered")
        if self.undelivered:
            details.append(f"{self.undelivered} not delivered")
        if self.waiting_digest:
            details.append(f"{self.waiting_digest} waiting for the digest")
        return f"{text} ({', '.join(details)})" if details else text

    def problem(self) -> str | None:
        """The line that says which alerts did not get through and what sends them."""
        if not self.undelivered:
            return None
        where = ", ".join(f"{channel}: {n}" for channel, n in sorted(self.by_channel.items()))
        them = "it" if self.undelivered == 1 else "them"
        return (f"{plural(self.undelivered, 'alert')} not delivered ({where}); "
                f"`{RETRY_COMMAND}` sends {them} again, `backchannel alerts list` says why")


def alert_outcome(conn, alert_ids: list[int], channels: list[str],
                  digest_channels: set[str]) -> AlertOutcome:
    """Count the alerts delivered to every channel and those that some channel has not
    received (failed, or still pending: a retry later); pending on a digest channel is
    on time."""
    outcome = AlertOutcome(new=len(alert_ids))
    if not channels or not alert_ids:
        return outcome
    totals = delivery_counts(conn, alert_ids, channels)
    if not totals.get("failed") and not totals.get("pending"):
        outcome.delivered = len(alert_ids)  # the usual case, in one query
        return outcome
    for alert_id in alert_ids:
        missing, waiting = False, False
        for channel in channels:
            counts = delivery_counts(conn, [alert_id], [channel])
            if counts.get("failed") or (counts.get("pending") and channel not in digest_channels):
                outcome.by_channel[channel] += 1
                missing = True
            elif counts.get("pending"):
                waiting = True
        if missing:
            outcome.undelivered += 1
        elif waiting:
            outcome.waiting_digest += 1
        else:
            outcome.delivered += 1
    return outcome
