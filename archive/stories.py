"""Stories in the archive: an article's story found or made, merged, its members' copy
marks and the story's status kept up to date. The rule that decides whether two articles
report one contact is `stories.matching.same_contact`; this module applies it over the
stored articles, in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import psycopg
from psycopg.types.json import Jsonb

from archive.locks import STORY_LOCK
from stories.copies import band_keys, signature, wire_attribution
from stories.matching import STATUSES, WINDOW, Item, is_copy_pair, same_contact


@dataclass
class Assignment:
    story_id: int
    is_new_story: bool  # this article is the story's first report
    is_new_outlet: bool  # no earlier article of this outlet in the story
    outlet: str
    copy_of: int | None
    wire: str | None
    joined_now: bool = True  # False when the article was already assigned (idempotent)
    article_id: int | None = None
    status: str | None = None  # the story's status once this article is in
    previous_status: str | None = None  # before it joined (None: a new story)


_ITEM_SQL = """
    SELECT a.id, a.outlet, coalesce(a.published_at, a.fetched_at) AS at, a.title, a.text,
           a.call_status AS status, a.evidence, a.language, sa.story_id, sa.is_copy_of
    FROM articles a LEFT JOIN story_articles sa ON sa.article_id = a.id
"""


def _item(row: dict) -> Item:
    return Item(id=row["id"], outlet=row["outlet"], at=row["at"], title=row["title"],
                text=row["text"] or "", status=row["status"], evidence=row["evidence"],
                language=row["language"], story_id=row["story_id"], copy_of=row["is_copy_of"])


def _earlier(a: Item, b: Item) -> bool:
    return (a.at, a.id) < (b.at, b.id)


def assign_story(conn: psycopg.Connection, article_id: int) -> Assignment | None:
    """Put a classified article into its story (new or existing), marking it a copy when
    another outlet published the same text earlier. None when the article is not a
    contact story with an unconfirmed or confirmed call. Runs in a (nested) transaction
    and never commits, so callers can group it with their own writes."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (STORY_LOCK,))
        row = conn.execute(
            _ITEM_SQL + " WHERE a.id = %s AND a.contact_story "
                        "AND (a.call_status = ANY(%s) OR a.official_stance IS NOT NULL)",
            (article_id, list(STATUSES)),
        ).fetchone()
        if row is None:
            return None
        item = _item(row)
        sig = _store_signature(conn, item)
        if item.story_id is not None:
            return _assignment(conn, item.id, joined_now=False)
        candidates = _candidates(conn, item, sig)
        matches = [c for c in candidates if same_contact(item, c)]
        before = _statuses(conn, {m.story_id for m in matches if m.story_id is not None})
        story_id = _join(conn, item, matches)
        copies = [c for c in matches if is_copy_pair(item, c)]
        originals = [c for c in copies if _earlier(c, item)]
        copy_of = min(originals, key=lambda c: (c.at, c.id)).id if originals else None
        conn.execute(
            """INSERT INTO story_articles (story_id, article_id, outlet, is_copy_of, wire)
               VALUES (%s, %s, %s, %s, %s)""",
            (story_id, item.id, item.outlet, copy_of,
             wire_attribution(item.text, item.title)),
        )
        _remark_later_copies(conn, item, copies)
        status = _refresh_story(conn, story_id)
        assignment = _assignment(conn, item.id, joined_now=True)
        assignment.status = status
        # the status the story had for its readers: that of the story it joined (the
        # oldest, when it bridged several), or none for a new story
        assignment.previous_status = before.get(story_id) if before else None
        return assignment


def _store_signature(conn: psycopg.Connection, item: Item) -> bytes:
    sig = signature(f"{item.title or ''}\n{item.text}")
    conn.execute(
        """INSERT INTO article_signatures (article_id, signature, bands) VALUES (%s, %s, %s)
           ON CONFLICT (article_id) DO UPDATE
             SET signature = EXCLUDED.signature, bands = EXCLUDED.bands, computed_at = now()
             WHERE article_signatures.signature <> EXCLUDED.signature""",
        (item.id, sig, band_keys(sig)),
    )
    return sig


def _candidates(conn: psycopg.Connection, item: Item, sig: bytes) -> list[Item]:
    """Assigned articles that could match: those within the window, and any whose
    signature shares an LSH band (copies may come late)."""
    rows = conn.execute(
        _ITEM_SQL + """
        WHERE sa.story_id IS NOT NULL AND a.id <> %(id)s
          AND (coalesce(a.published_at, a.fetched_at) BETWEEN %(lo)s AND %(hi)s
               OR a.id IN (SELECT article_id FROM article_signatures
                           WHERE bands && %(bands)s))""",
        {"id": item.id, "lo": _shift(item.at, -WINDOW), "hi": _shift(item.at, WINDOW),
         "bands": band_keys(sig)},
    ).fetchall()
    return [_item(r) for r in rows]


def _shift(moment: datetime, delta: timedelta) -> datetime:
    """moment + delta, held at the ends of the calendar (a page may claim year 9999)."""
    try:
        return moment + delta
    except OverflowError:
        return (datetime.max if delta > timedelta(0) else datetime.min).replace(
            tzinfo=moment.tzinfo)


def _join(conn: psycopg.Connection, item: Item, matches: list[Item]) -> int:
    """The story the article joins: a new one, or the oldest of those it matches, into
    which the others are merged (and the merge logged)."""
    story_ids = sorted({m.story_id for m in matches if m.story_id is not None})
    if not story_ids:
        row = conn.execute(
            """INSERT INTO stories (title, status, first_article_id, first_outlet,
                   first_reported_at) VALUES (%s, %s, %s, %s, %s) RETURNING id""",
            (item.title, item.status, item.id, item.outlet, item.at),
        ).fetchone()
        return row["id"]
    rows = conn.execute(
        "SELECT id FROM stories WHERE id = ANY(%s) ORDER BY first_reported_at, id",
        (story_ids,),
    ).fetchall()
    keep, others = rows[0]["id"], [r["id"] for r in rows[1:]]
    for other in others:
        conn.execute("UPDATE story_articles SET story_id = %s WHERE story_id = %s",
                     (keep, other))
        conn.execute(
            """INSERT INTO story_events (kind, story_id, other_id, article_id, detail)
               VALUES ('merge', %s, %s, %s, %s)""",
            (keep, other, item.id, Jsonb({"reason": "article matches both stories"})),
        )
        conn.execute("DELETE FROM stories WHERE id = %s", (other,))
    return keep


def _remark_later_copies(conn: psycopg.Connection, item: Item, copies: list[Item]) -> None:
    """Later copies of this article now point at it if it is older than their original."""
    later = [c for c in copies if _earlier(item, c)]
    for copy in later:
        current = None
        if copy.copy_of is not None:
            row = conn.execute(
                "SELECT id, coalesce(published_at, fetched_at) AS at FROM articles "
                "WHERE id = %s", (copy.copy_of,),
            ).fetchone()
            current = (row["at"], row["id"]) if row else None
        if current is None or (item.at, item.id) < current:
            conn.execute("UPDATE story_articles SET is_copy_of = %s WHERE article_id = %s",
                         (item.id, copy.id))


def _statuses(conn: psycopg.Connection, story_ids: set[int]) -> dict[int, str]:
    if not story_ids:
        return {}
    rows = conn.execute("SELECT id, status FROM stories WHERE id = ANY(%s)",
                        (list(story_ids),)).fetchall()
    return {row["id"]: row["status"] for row in rows}


def restory(conn: psycopg.Connection, article_id: int) -> int | None:
    """After an article's classification changed (`reclassify`): its story's title and
    status recomputed, or, for an article that now reports a contact, the story it
    joins. Returns that story's id (None: in no story). Writes no alert: the news is
    old. An article that no longer reports a contact stays in its story."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (STORY_LOCK,))
        row = conn.execute("SELECT story_id FROM story_articles WHERE article_id = %s",
                           (article_id,)).fetchone()
        if row is not None:
            _refresh_story(conn, row["story_id"])
            return row["story_id"]
    assignment = assign_story(conn, article_id)
    return assignment.story_id if assignment else None


def _refresh_story(conn: psycopg.Connection, story_id: int) -> str:
    """Title, status and first report recomputed from the members; return the status.
    The earliest article leads. The story is confirmed once a member reports the call
    confirmed or a government's own readout tells of it; denied when a government
    denies it and nothing confirms it; else unconfirmed. The article that decided a
    confirmation or denial is kept as its evidence (the earliest such)."""
    row = conn.execute(
        """WITH members AS (
               SELECT a.id, a.outlet, a.title, a.call_status, a.official_stance,
                      coalesce(a.published_at, a.fetched_at) AS at
               FROM story_articles sa JOIN articles a ON a.id = sa.article_id
               WHERE sa.story_id = %(id)s),
           first AS (SELECT * FROM members ORDER BY at, id LIMIT 1),
           readout AS (SELECT id FROM members WHERE official_stance = 'confirms'
                       ORDER BY at, id LIMIT 1),
           confirmation AS (SELECT id FROM members WHERE call_status = 'confirmed'
                            ORDER BY at, id LIMIT 1),
           denial AS (SELECT id FROM members WHERE official_stance = 'denies'
                      ORDER BY at, id LIMIT 1),
           decided AS (
               SELECT CASE WHEN EXISTS (SELECT 1 FROM readout)
                             OR EXISTS (SELECT 1 FROM confirmation) THEN 'confirmed'
                           WHEN EXISTS (SELECT 1 FROM denial) THEN 'denied'
                           ELSE 'unconfirmed' END AS status,
                      coalesce((SELECT id FROM readout), (SELECT id FROM confirmation),
                               (SELECT id FROM denial)) AS evidence)
           UPDATE stories s SET
               title = (SELECT title FROM first),
               first_article_id = (SELECT id FROM first),
               first_outlet = (SELECT outlet FROM first),
               first_reported_at = (SELECT at FROM first),
               status_changed_at = CASE WHEN s.status <> d.status THEN now()
                                        ELSE s.status_changed_at END,
               status = d.status,
               status_article_id = d.evidence,
               updated_at = now()
           FROM decided d
           WHERE s.id = %(id)s
           RETURNING s.status""",
        {"id": story_id},
    ).fetchone()
    return row["status"]


def _assignment(conn: psycopg.Connection, article_id: int, *, joined_now: bool) -> Assignment:
    """The article's place in its story, derived from what is stored, so that asking
    twice gives the same answer."""
    row = conn.execute(
        """SELECT sa.story_id, sa.outlet, sa.is_copy_of, sa.wire,
                  s.first_article_id = sa.article_id AS is_first,
                  NOT EXISTS (
                      SELECT 1 FROM story_articles o JOIN articles oa ON oa.id = o.article_id
                      WHERE o.story_id = sa.story_id AND o.outlet = sa.outlet
                        AND (coalesce(oa.published_at, oa.fetched_at), oa.id)
                            < (coalesce(a.published_at, a.fetched_at), a.id)) AS outlet_first
           FROM story_articles sa
           JOIN stories s ON s.id = sa.story_id
           JOIN articles a ON a.id = sa.article_id
           WHERE sa.article_id = %s""",
        (article_id,),
    ).fetchone()
    return Assignment(story_id=row["story_id"], is_new_story=row["is_first"],
                      is_new_outlet=row["outlet_first"], outlet=row["outlet"],
                      copy_of=row["is_copy_of"], wire=row["wire"], joined_now=joined_now,
                      article_id=article_id)


def list_stories(conn: psycopg.Connection, status: str | None = None,
                 since: datetime | date | None = None, limit: int | None = None,
                 offset: int = 0) -> list[dict]:
    """Stories, newest first report first, each with its article count and its outlets in
    order of first report. With `limit`, one page: the counts are made for it alone."""
    rows = conn.execute(
        """WITH page AS (
               SELECT s.id, s.title, s.status, s.first_article_id, s.first_outlet,
                      s.first_reported_at, s.created_at, s.updated_at
               FROM stories s
               WHERE (%(status)s::text IS NULL OR s.status = %(status)s)
                 AND (%(since)s::timestamptz IS NULL OR s.first_reported_at >= %(since)s)
               ORDER BY s.first_reported_at DESC NULLS LAST, s.id DESC
               LIMIT %(limit)s OFFSET %(offset)s)
           SELECT page.*,
                  (SELECT count(*) FROM story_articles sa
                   WHERE sa.story_id = page.id) AS articles,
                  (SELECT array_agg(outlet ORDER BY first_at, outlet) FROM (
                       SELECT o.outlet, min(coalesce(a.published_at, a.fetched_at)) AS first_at
                       FROM story_articles o JOIN articles a ON a.id = o.article_id
                       WHERE o.story_id = page.id GROUP BY o.outlet) per_outlet) AS outlets
           FROM page
           ORDER BY page.first_reported_at DESC NULLS LAST, page.id DESC""",
        {"status": status, "since": since, "limit": limit, "offset": offset},
    ).fetchall()
    return [{**row, "outlets": list(row["outlets"] or [])} for row in rows]


def story_timeline(conn: psycopg.Connection, story_id: int) -> dict | None:
    """One story and its articles in order of publication, each with its outlet, copy
    mark, wire, call status and evidence; None when there is no such story."""
    story = conn.execute("SELECT * FROM stories WHERE id = %s", (story_id,)).fetchone()
    if story is None:
        return None
    rows = conn.execute(
        """SELECT a.id AS article_id, sa.outlet, a.url, a.title,
                  coalesce(a.published_at, a.fetched_at) AS reported_at, a.call_status,
                  a.evidence, sa.is_copy_of, sa.wire, sa.joined_at
           FROM story_articles sa JOIN articles a ON a.id = sa.article_id
           WHERE sa.story_id = %s
           ORDER BY reported_at, a.id""",
        (story_id,),
    ).fetchall()
    seen: set[str] = set()
    for row in rows:
        row["new_outlet"] = row["outlet"] not in seen
        seen.add(row["outlet"])
    merged = conn.execute(
        "SELECT other_id, created_at FROM story_events WHERE story_id = %s AND kind = 'merge' "
        "ORDER BY id", (story_id,),
    ).fetchall()
    return {**story, "articles": rows, "merged": merged}
