"""What an alert says. `alert_facts` reads them from the archive when the alert fires and
freezes them in the outbox (the message describes the story as it was then); the
renderers here give the plain text that email, logs and `alerts list` share."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

from archive.outbox import article_published_and_language
from archive.stories import story_timeline
from core.text import plural, quoted

KIND_FIRST = "first_report"
KIND_NEW_OUTLET = "new_outlet"
KIND_STATUS_CHANGE = "status_change"


def alert_facts(conn: psycopg.Connection, article_id: int, story_id: int) -> dict[str, Any]:
    """The article, its story, the outlets that reported it earlier, and copy/wire notes."""
    story = story_timeline(conn, story_id)
    if story is None:
        raise LookupError(f"story {story_id} not found")
    articles = story["articles"]
    this = next(a for a in articles if a["article_id"] == article_id)
    article = article_published_and_language(conn, article_id)
    first_by_outlet: dict[str, dict] = {}
    for row in articles:  # in order of publication
        first_by_outlet.setdefault(row["outlet"], row)
    outlets_in_order = list(first_by_outlet)
    earlier = [row for outlet, row in first_by_outlet.items()
               if outlet != this["outlet"] and _before(row, this)]
    original = next((a for a in articles if a["article_id"] == this["is_copy_of"]), None)
    return {
        "kind": KIND_FIRST if story["first_article_id"] == article_id else KIND_NEW_OUTLET,
        "outlet": this["outlet"],
        "title": this["title"],
        "url": this["url"],
        "published_at": _iso(article["published_at"]),
        "reported_at": _iso(this["reported_at"]),
        "language": article["language"],
        "call_status": this["call_status"],
        "evidence": this["evidence"],
        "confidence": article["confidence"],
        "story": {
            "id": story["id"],
            "title": story["title"],
            "status": story["status"],
            "first_outlet": story["first_outlet"],
            "first_reported_at": _iso(story["first_reported_at"]),
            "outlets": len(outlets_in_order),
            "position": outlets_in_order.index(this["outlet"]) + 1,
        },
        "earlier": [{"outlet": row["outlet"], "reported_at": _iso(row["reported_at"]),
                     "title": row["title"], "url": row["url"]} for row in earlier],
        "copy_of": None if original is None else {
            "outlet": original["outlet"], "title": original["title"], "url": original["url"],
            "reported_at": _iso(original["reported_at"])},
        "wire": this["wire"],
    }


def _before(row: dict, this: dict) -> bool:
    return (row["reported_at"], row["article_id"]) < (this["reported_at"], this["article_id"])


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def headline(facts: dict) -> str:
    """One line: what happened. Used as the email subject and Slack's fallback text."""
    status = facts["story"]["status"]
    if facts["kind"] == KIND_STATUS_CHANGE:
        word = "confirmed" if status == "confirmed" else "denied"
        return one_line(f"Story #{facts['story']['id']} {word} by {facts['outlet']} "
                        f"(was {facts.get('previous_status')}): "
                        f"{facts['title'] or facts['url']}")
    if facts["kind"] == KIND_FIRST:
        lead = f"First report of an {status} call"
    else:
        lead = f"Outlet {facts['story']['position']} of an {status} call story"
    return one_line(f"{lead}: {facts['outlet']} - {facts['title'] or facts['url']}")


def one_line(text: str, limit: int = 250) -> str:
    """Collapse whitespace (no header or line injection) and bound the length."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def when(value: str | None) -> str:
    """An ISO time as people read it: 2025-02-10 09:15 UTC."""
    if not value:
        return "time unknown"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return moment.strftime("%Y-%m-%d %H:%M %Z").strip()


def notes(facts: dict) -> list[str]:
    """Copy and wire notes, as sentences."""
    out = []
    if facts.get("copy_of"):
        original = facts["copy_of"]
        out.append(f"Copies the text of {original['outlet']} "
                   f"({when(original['reported_at'])}): {original['url']}")
    if facts.get("wire"):
        out.append(f"Credits the wire: {facts['wire']}")
    return out


def plain_text(facts: dict) -> str:
    """The whole alert as plain text (email's text part; the log when no channel is set)."""
    story = facts["story"]
    lines = [
        headline(facts),
        "",
        f"Outlet:    {facts['outlet']}",
        f"Headline:  {one_line(facts['title'] or '(none)', 500)}",
        f"Link:      {facts['url']}",
        f"Published: {when(facts['published_at'] or facts['reported_at'])}",
        f"Story:     #{story['id']} {one_line(story['title'] or '', 300)} "
        f"({story['status']}, {plural(story['outlets'], 'outlet')})",
    ]
    if facts.get("evidence"):
        lines += ["", "Evidence:", f"  {quoted(one_line(facts['evidence'], 1000))}"]
    if facts.get("confidence") is not None:
        lines.append(f"Confidence: {facts['confidence']:.2f} that the call status is right")
    if facts["earlier"]:
        lines += ["", "Reported before by:"]
        lines += [f"  - {row['outlet']} ({when(row['reported_at'])})" for row in facts["earlier"]]
    else:
        lines += ["", "No outlet reported it before."]
    extra = notes(facts)
    if extra:
        lines += ["", *extra]
    return "\n".join(lines) + "\n"


def digest_headline(items: list[dict]) -> str:
    outlets = ", ".join(dict.fromkeys(facts["outlet"] for facts in items))
    return one_line(f"{plural(len(items), 'alert')}: new reports from {outlets}")


def digest_text(items: list[dict]) -> str:
    parts = [digest_headline(items), ""]
    for n, facts in enumerate(items, 1):
        parts.append(f"--- {n} of {len(items)} ---")
        parts.append(plain_text(facts))
    return "\n".join(parts)
