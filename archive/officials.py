"""The governments' own outlets. An article from the Kremlin's or the White House's site
that reports a contact is that government's word on it: a readout confirms the
contact, a denial denies it (see archive/stories.py for what that does to a story)."""

from __future__ import annotations

import psycopg


def mark_official_outlets(conn: psycopg.Connection, officials: dict[str, str]) -> None:
    """Record which outlets speak for a government (name → "ru" | "us"); others are not."""
    conn.execute(
        """UPDATE outlets SET official = CASE WHEN name = ANY(%(names)s)
                                         THEN (%(sides)s::text[])[array_position(
                                               %(names)s::text[], name)] END
           WHERE official IS DISTINCT FROM CASE WHEN name = ANY(%(names)s)
                                         THEN (%(sides)s::text[])[array_position(
                                               %(names)s::text[], name)] END""",
        {"names": list(officials), "sides": [officials[name] for name in officials]},
    )


def official_stance(contact_story: bool, call_status: str, stance: str | None) -> str | None:
    """What an official article says of the contact it reports: "denies" when a denial
    decided its classification; "confirms" when it tells of the contact as having
    happened (its own readout, or its side's claim); None when it hedges, plans or only
    mentions one."""
    if not contact_story:
        return None
    if stance == "denial":
        return "denies"
    if call_status == "confirmed" or stance in ("claim", "confirmed", "reported"):
        return "confirms"
    return None


def set_official_stance(conn: psycopg.Connection, article_id: int, stance: str | None) -> bool:
    """Record an official article's stance; True when it differs from the stored one."""
    return conn.execute("UPDATE articles SET official_stance = %s WHERE id = %s "
                        "AND official_stance IS DISTINCT FROM %s",
                        (stance, article_id, stance)).rowcount > 0
