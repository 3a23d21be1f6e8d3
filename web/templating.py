"""Jinja2 filters for the pages: times in UTC, status badges, safe outbound links."""

from __future__ import annotations

from datetime import UTC, datetime

import jinja2

STATUS_LABELS = {"unconfirmed": "unconfirmed", "confirmed": "confirmed", "none": "no call"}


def when(value: datetime | None) -> str:
    if value is None:
        return "–"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def iso(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat() if value else ""


def status_label(value: str | None) -> str:
    return STATUS_LABELS.get(value or "", "not classified")


def minutes(value: float | None) -> str:
    """An interval as a person reads it: 90 s, 5 min, 2.5 h."""
    if value is None:
        return "–"
    if value * 60 < 120:
        return f"{value * 60:.0f} s"
    if value < 120:
        return f"{value:.0f} min"
    return f"{value / 60:.1f} h"


def web_link(url: str | None) -> bool:
    """Only http(s) URLs become links: a stored `javascript:` URL stays text."""
    return bool(url) and url.lower().startswith(("http://", "https://"))


def configure(env: jinja2.Environment) -> jinja2.Environment:
    env.filters.update(when=when, iso=iso, status_label=status_label, minutes=minutes)
    env.tests["web_link"] = web_link
    return env
