"""When to poll a feed next. The configured interval is where a source starts; it then
follows the feed's posting rate within bounds, and never polls sooner than the server
or the feed asks (Retry-After, Cache-Control max-age, RSS <ttl>). A little jitter
keeps sources with equal intervals from firing together."""

from __future__ import annotations

import random
import re
import statistics
from dataclasses import dataclass
from datetime import datetime

from core.config import Settings
from crawler.items import PollOutcome

HINT_CAP = 24 * 3600.0  # a server asking for more than a day is not taken at its word
RECENT_ENTRIES = 20
POLLS_PER_GAP = 4  # poll about four times between two typical posts


@dataclass(frozen=True)
class PollingPolicy:
    adaptive: bool = True
    min_seconds: float = 60.0  # adaptive intervals go no lower (unless configured lower)
    max_seconds: float = 1800.0  # …and no higher (unless configured higher)
    jitter: float = 0.1  # up to this share of the interval is added at random

    @classmethod
    def from_settings(cls, settings: Settings) -> PollingPolicy:
        return cls(adaptive=settings.adaptive_intervals,
                   min_seconds=settings.min_interval_minutes * 60,
                   max_seconds=settings.max_interval_minutes * 60)


def posting_gap(times: list[datetime]) -> float | None:
    """Median seconds between the newest entries; None with fewer than three dates."""
    recent = sorted(set(times), reverse=True)[:RECENT_ENTRIES]
    if len(recent) < 3:
        return None
    gaps = [(a - b).total_seconds() for a, b in zip(recent, recent[1:], strict=False)]
    return max(1.0, statistics.median(gaps))


def server_floor(poll: PollOutcome) -> tuple[float, str | None]:
    """The longest wait the server or feed asked for, in seconds, and who asked."""
    asks = [(poll.retry_after or 0.0, "Retry-After"), (poll.max_age or 0.0, "max-age"),
            ((poll.ttl_minutes or 0) * 60.0, "feed ttl")]
    seconds, who = max(asks, key=lambda ask: ask[0])
    return (min(seconds, HINT_CAP), who) if seconds > 0 else (0.0, None)


def next_interval(base_seconds: float, poll: PollOutcome, policy: PollingPolicy,
                  previous: float | None = None) -> tuple[float, str]:
    """Seconds between polls from now on, and a short reason: the posting rate when the
    feed was read, else the interval in use (`previous`, e.g. after a 304), else the
    configured one; never below what the server or feed asked for."""
    interval, hint = base_seconds, "configured"
    gap = posting_gap(poll.entry_times) if policy.adaptive else None
    if gap is not None:
        low = min(base_seconds, policy.min_seconds)
        high = max(base_seconds, policy.max_seconds)
        interval = min(high, max(low, gap / POLLS_PER_GAP))
        hint = f"posts every ~{_human(gap)}"
    elif policy.adaptive and previous:
        interval, hint = previous, "as before"
    floor, who = server_floor(poll)
    if floor > interval:
        interval, hint = floor, f"{who} {_human(floor)}"
    return interval, hint


def with_jitter(seconds: float, policy: PollingPolicy, rng: random.Random | None = None,
                ) -> float:
    return seconds * (1 + (rng or random).uniform(0, policy.jitter))


def max_age(cache_control: str | None) -> float | None:
    match = re.search(r"(?:^|[,\s])max-age\s*=\s*(\d+)", cache_control or "", re.IGNORECASE)
    return float(match.group(1)) if match else None


def _human(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
