"""A person's corrections to the stories (`backchannel stories merge|split|set-status|
rename`). Each is logged in `story_events` with its note, and each is kept by later
re-processing: articles placed by hand are pinned, a status or title set by hand
overrides the computed one."""

from __future__ import annotations

import psycopg

from archive.locks import STORY_LOCK
from archive.stories import (
    log_event,
    refresh_story,
    remark_copies,
    story_members,
)
from stories.matching import STORY_STATUSES


class CurationError(ValueError):
    """The correction cannot be made; the message says why."""


def _story(conn: psycopg.Connection, story_id: int) -> dict:
    row = conn.execute("SELECT id, title, status, status_override FROM stories "
                       "WHERE id = %s", (story_id,)).fetchone()
    if row is None:
        raise CurationError(f"no story {story_id}")
    return row


def merge_stories(conn: psycopg.Connection, keep: int, other: int, note: str | None = None
                  ) -> None:
    """Story `other`'s articles join story `keep`, pinned there; `other` is deleted."""
    if keep == other:
        raise CurationError("a story cannot be merged with itself")
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (STORY_LOCK,))
        _story(conn, keep)  # both must exist: the error names the missing one
        _story(conn, other)
        conn.execute("UPDATE story_articles SET story_id = %s, pinned = true "
                     "WHERE story_id IN (%s, %s)", (keep, keep, other))
        conn.execute("DELETE FROM stories WHERE id = %s", (other,))
        log_event(conn, "merge", keep, other, None, {"reason": note or "merged by hand",
                                                     "by": "user"})
        remark_copies(conn, keep)
        refresh_story(conn, keep)


def split_story_by_hand(conn: psycopg.Connection, story_id: int, article_ids: list[int],
                        note: str | None = None) -> int:
    """The named articles leave the story for a new one, pinned there; the id of the new
    story. The articles that stay are pinned too: the person has said where they go."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (STORY_LOCK,))
        _story(conn, story_id)
        members = {m.id: m for m in story_members(conn, story_id, every=True)}
        strangers = sorted(set(article_ids) - set(members))
        if strangers:
            raise CurationError(f"articles {strangers} are not in story {story_id}")
        if not article_ids or set(article_ids) == set(members):
            raise CurationError("name some, but not all, of the story's articles")
        first = min((members[i] for i in article_ids), key=lambda m: (m.at, m.id))
        status = first.status if first.status in STORY_STATUSES else "unconfirmed"
        new_id = conn.execute(
            "INSERT INTO stories (title, status, first_article_id, first_outlet, "
            "first_reported_at) VALUES (%s, %s, %s, %s, %s) RETURNING id",
            (first.title, status, first.id, first.outlet, first.at)).fetchone()["id"]
        conn.execute("UPDATE story_articles SET story_id = %s, pinned = true "
                     "WHERE article_id = ANY(%s)", (new_id, article_ids))
        conn.execute("UPDATE story_articles SET pinned = true WHERE story_id = %s",
                     (story_id,))
        log_event(conn, "split", story_id, new_id, None,
                  {"reason": note or "split by hand", "by": "user",
                   "articles": sorted(article_ids)})
        for changed in (story_id, new_id):
            remark_copies(conn, changed)
            refresh_story(conn, changed)
        return new_id


def set_story_status(conn: psycopg.Connection, story_id: int, status: str,
                     note: str | None = None) -> str:
    """Set the story's status by hand (`auto`: computed from its articles again); the
    status it has now."""
    if status != "auto" and status not in STORY_STATUSES:
        raise CurationError(f"status must be one of {', '.join(STORY_STATUSES)} or auto, "
                            f"not {status!r}")
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (STORY_LOCK,))
        before = _story(conn, story_id)["status"]
        conn.execute("UPDATE stories SET status_override = %s, note = coalesce(%s, note) "
                     "WHERE id = %s", (None if status == "auto" else status, note, story_id))
        now = refresh_story(conn, story_id)
        log_event(conn, "status", story_id, None, None,
                  {"reason": note or f"status set to {status} by hand", "by": "user",
                   "from": before, "to": now})
        return now


def rename_story(conn: psycopg.Connection, story_id: int, title: str,
                 note: str | None = None) -> None:
    title = " ".join(title.split())
    if not title:
        raise CurationError("the title is empty")
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (STORY_LOCK,))
        before = _story(conn, story_id)["title"]
        conn.execute("UPDATE stories SET title_override = %s WHERE id = %s",
                     (title, story_id))
        refresh_story(conn, story_id)
        log_event(conn, "rename", story_id, None, None,
                  {"reason": note or "renamed by hand", "by": "user", "from": before,
                   "to": title})
