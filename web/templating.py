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


def web_link(url: str | None) -> bool:
    """Only http(s) URLs become links: a stored `javascript:` URL stays text."""
    return bool(url) and url.lower().startswith(("http://", "https://"))


def configure(env: jinja2.Environment) -> jinja2.Environment:
    env.filters.update(when=when, iso=iso, status_label=status_label)
    env.tests["web_link"] = web_link
    return env
