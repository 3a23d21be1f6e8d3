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
from stories.matching import STATUSES, WINDOW, Item, components, is_copy_pair, same_contact

# Titles that are a photo caption, a credit or page furniture rather than a headline.
NOT_HEADLINES = (r"(\mphoto\M|фото|getty images|©|\mfile (picture|image)\M|"
                 r"subscribe|newsletter|cookies?\M|\msign in\M|all rights reserved)")


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
           a.call_status AS status, a.evidence, a.language, sa.story_id, sa.is_copy_of,
           coalesce(sa.pinned, false) AS pinned,
           coalesce(a.contact_story AND (a.call_status = ANY(%(statuses)s)
                                         OR a.official_stance IS NOT NULL), false) AS qualifies
    FROM articles a LEFT JOIN story_articles sa ON sa.article_id = a.id
"""
_STORY_STATUSES = list(STATUSES)


def _item(row: dict) -> Item:
    return Item(id=row["id"], outlet=row["outlet"], at=row["at"], title=row["title"],
                text=row["text"] or "", status=row["status"], evidence=row["evidence"],
                language=row["language"], story_id=row["story_id"], copy_of=row["is_copy_of"],
                extra={"pinned": row["pinned"]})


def _earlier(a: Item, b: Item) -> bool:
    return (a.at, a.id) < (b.at, b.id)


def may_join_story(contact_story: bool | None) -> bool:
    """Whether an article so classified can be in a story at all (`qualifies` in
    _ITEM_SQL needs contact_story): a caller that knows the classification asks this
    before assign_story takes the story lock and reads the article back."""
    return bool(contact_story)


def assign_story(conn: psycopg.Connection, article_id: int) -> Assignment | None:
    """Put a classified article into its story (new or existing), marking it a copy when
    another outlet published the same text earlier. None when the article is not a
    contact story with an unconfirmed or confirmed call. Runs in a (nested) transaction
    and never commits, so callers can group it with their own writes."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (STORY_LOCK,))
        row = conn.execute(_ITEM_SQL + " WHERE a.id = %(id)s",
                           {"statuses": _STORY_STATUSES, "id": article_id}).fetchone()
        if row is None or not row["qualifies"]:
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
        status = refresh_story(conn, story_id)
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
         "bands": band_keys(sig), "statuses": _STORY_STATUSES},
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
    story_ids = {m.story_id for m in matches if m.story_id is not None}
    if not story_ids:
        row = conn.execute(
            """INSERT INTO stories (title, status, first_article_id, first_outlet,
                   first_reported_at) VALUES (%s, %s, %s, %s, %s) RETURNING id""",
            (item.title, _opening_status(item), item.id, item.outlet, item.at),
        ).fetchone()
        return row["id"]
    return _merge(conn, story_ids, item.id)


def _opening_status(item: Item) -> str:
    """A new story's status until `_refresh_story` decides it: a government's readout or
    denial may be the first article of a story without a call status of its own."""
    return item.status if item.status in STATUSES else "unconfirmed"


def _merge(conn: psycopg.Connection, story_ids: set[int], article_id: int) -> int:
    """Merge the stories into the oldest of them (each merge logged); return its id."""
    rows = conn.execute(
        "SELECT id FROM stories WHERE id = ANY(%s) ORDER BY first_reported_at, id",
        (sorted(story_ids),),
    ).fetchall()
    keep, others = rows[0]["id"], [r["id"] for r in rows[1:]]
    for other in others:
        conn.execute("UPDATE story_articles SET story_id = %s WHERE story_id = %s",
                     (keep, other))
        log_event(conn, "merge", keep, other, article_id,
             {"reason": "article matches both stories"})
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


@dataclass
class Regrouping:
    """Where an article stands after its story was brought up to date."""

    story_id: int | None  # its story now (None: in no story)
    joined: Assignment | None = None  # it joined a story it was not in: alerts may follow


def restory(conn: psycopg.Connection, article_id: int) -> Regrouping:
    """Bring an article's story up to date after its text or classification changed
    (`reprocess`): an article that no longer reports a contact leaves its story; one that
    matches none of its story's other articles moves to the story it now belongs to;
    stories it now bridges are merged; a story an article left is split when what
    remains reports two contacts (`split_story` checks the others). Every change is
    logged in `story_events`. Writes no alert: the caller decides."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (STORY_LOCK,))
        row = conn.execute(_ITEM_SQL + " WHERE a.id = %(id)s",
                           {"statuses": _STORY_STATUSES, "id": article_id}).fetchone()
        if row is None:
            return Regrouping(None)
        item = _item(row)
        if item.story_id is None:
            if not row["qualifies"]:
                return Regrouping(None)
            assignment = assign_story(conn, article_id)
            return Regrouping(assignment.story_id, assignment)
        if row["pinned"]:  # a person put it there: it stays, whatever the rules say
            refresh_story(conn, item.story_id)
            return Regrouping(item.story_id)
        if not row["qualifies"]:
            _leave(conn, item, "remove", "no longer reports a contact")
            return Regrouping(None)
        sig = _store_signature(conn, item)
        members = story_members(conn, item.story_id)
        others = [m for m in members if m.id != item.id]
        if others and not any(same_contact(item, m) for m in others):
            old_story = item.story_id
            _leave(conn, item, "move", "matches no other article of its story")
            assignment = assign_story(conn, article_id)
            conn.execute("UPDATE story_events SET other_id = %s WHERE id = (SELECT max(id) "
                         "FROM story_events WHERE kind = 'move' AND article_id = %s "
                         "AND story_id = %s)", (assignment.story_id, article_id, old_story))
            return Regrouping(assignment.story_id, assignment)
        story_id = item.story_id
        outside = {c.story_id for c in _candidates(conn, item, sig)
                   if c.story_id != story_id and same_contact(item, c)}
        if outside:
            story_id = _merge(conn, outside | {story_id}, item.id)
            remark_copies(conn, story_id)
        refresh_story(conn, story_id)
        return Regrouping(story_id)


def split_story(conn: psycopg.Connection, story_id: int) -> list[int]:
    """Split the story if its articles now report more than one contact (see `_split`);
    the new stories' ids. `reprocess` asks once per story it touched."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (STORY_LOCK,))
        members = story_members(conn, story_id)
        return _split(conn, story_id, members) if members else []


def story_members(conn: psycopg.Connection, story_id: int, every: bool = False) -> list[Item]:
    """The story's articles that report its kind of contact (`every`: all of them, also
    those whose new classification has not been applied to the story yet)."""
    rows = conn.execute(_ITEM_SQL + " WHERE sa.story_id = %(id)s",
                        {"statuses": _STORY_STATUSES, "id": story_id}).fetchall()
    return [_item(r) for r in rows if every or r["qualifies"]]


def _story_of(conn: psycopg.Connection, article_id: int) -> int:
    return conn.execute("SELECT story_id FROM story_articles WHERE article_id = %s",
                        (article_id,)).fetchone()["story_id"]


def log_event(conn: psycopg.Connection, kind: str, story_id: int, other_id: int | None,
         article_id: int | None, detail: dict) -> None:
    conn.execute(
        """INSERT INTO story_events (kind, story_id, other_id, article_id, detail)
           VALUES (%s, %s, %s, %s, %s)""",
        (kind, story_id, other_id, article_id, Jsonb(detail)),
    )


def _leave(conn: psycopg.Connection, item: Item, kind: str, reason: str) -> None:
    """Take the article out of its story ('remove' or 'move'); the story left behind is
    deleted when empty, else split if the article held two contacts together."""
    story_id = item.story_id
    conn.execute("DELETE FROM story_articles WHERE article_id = %s", (item.id,))
    conn.execute("UPDATE story_articles SET is_copy_of = NULL WHERE is_copy_of = %s",
                 (item.id,))
    log_event(conn, kind, story_id, None, item.id, {"reason": reason})
    item.story_id = None
    if not story_members(conn, story_id, every=True):
        conn.execute("DELETE FROM stories WHERE id = %s", (story_id,))
        log_event(conn, "delete", story_id, None, item.id, {"reason": "no article left"})
        return
    remark_copies(conn, story_id)
    _split(conn, story_id, story_members(conn, story_id))
    refresh_story(conn, story_id)


def _split(conn: psycopg.Connection, story_id: int, members: list[Item]) -> list[int]:
    """Split a story whose articles report more than one contact: the group holding the
    first report keeps the story, each other group becomes a story of its own. Returns
    the new stories' ids."""
    groups = components(members, together={m.id for m in members if m.extra.get("pinned")})
    created = []
    for group in groups[1:]:
        first = group[0]
        new_id = conn.execute(
            """INSERT INTO stories (title, status, first_article_id, first_outlet,
                   first_reported_at) VALUES (%s, %s, %s, %s, %s) RETURNING id""",
            (first.title, _opening_status(first), first.id, first.outlet, first.at),
        ).fetchone()["id"]
        ids = [m.id for m in group]
        conn.execute("UPDATE story_articles SET story_id = %s WHERE article_id = ANY(%s)",
                     (new_id, ids))
        log_event(conn, "split", story_id, new_id, None,
             {"reason": "its articles report different contacts", "articles": ids})
        remark_copies(conn, new_id)
        refresh_story(conn, new_id)
        created.append(new_id)
    if created:
        remark_copies(conn, story_id)
        refresh_story(conn, story_id)
    return created


def remark_copies(conn: psycopg.Connection, story_id: int) -> None:
    """Each member's copy mark recomputed within its story: the earliest other outlet's
    article it is a copy of, or none."""
    members = sorted(story_members(conn, story_id), key=lambda m: (m.at, m.id))
    for i, member in enumerate(members):
        originals = [m for m in members[:i] if is_copy_pair(m, member)]
        copy_of = originals[0].id if originals else None
        if copy_of != member.copy_of:
            conn.execute("UPDATE story_articles SET is_copy_of = %s WHERE article_id = %s",
                         (copy_of, member.id))


def refresh_story(conn: psycopg.Connection, story_id: int) -> str:
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
           -- the story's title: the earliest real headline (a caption or page
           -- furniture taken for a title is too short, too long or says what it is)
           headline AS (SELECT title FROM members
                        WHERE array_length(regexp_split_to_array(btrim(title), '\\s+'), 1)
                              BETWEEN 4 AND 30
                          AND title !~* %(not_headlines)s
                        ORDER BY at, id LIMIT 1),
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
               title = coalesce(s.title_override, (SELECT title FROM headline),
                                (SELECT title FROM first)),
               first_article_id = (SELECT id FROM first),
               first_outlet = (SELECT outlet FROM first),
               first_reported_at = (SELECT at FROM first),
               status_changed_at = CASE WHEN s.status <> coalesce(s.status_override, d.status)
                                        THEN now() ELSE s.status_changed_at END,
               status = coalesce(s.status_override, d.status),
               status_article_id = d.evidence,
               updated_at = now()
           FROM decided d
           WHERE s.id = %(id)s
           RETURNING s.status""",
        {"id": story_id, "not_headlines": NOT_HEADLINES},
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
                 offset: int = 0, outlet: str | None = None,
                 language: str | None = None) -> list[dict]:
    """Stories, newest first report first, each with its article count and its outlets in
    order of first report. With `limit`, one page: the counts are made for it alone.
    `outlet` and `language` keep the stories with an article of that outlet / in that
    language (case-insensitive)."""
    rows = conn.execute(
        """WITH page AS (
               SELECT s.id, s.title, s.status, s.first_article_id, s.first_outlet,
                      s.first_reported_at, s.created_at, s.updated_at
               FROM stories s
               WHERE (%(status)s::text IS NULL OR s.status = %(status)s)
                 AND (%(since)s::timestamptz IS NULL OR s.first_reported_at >= %(since)s)
                 AND (%(outlet)s::text IS NULL OR EXISTS (
                      SELECT 1 FROM story_articles sa
                      WHERE sa.story_id = s.id AND lower(sa.outlet) = lower(%(outlet)s)))
                 AND (%(language)s::text IS NULL OR EXISTS (
                      SELECT 1 FROM story_articles sa JOIN articles a ON a.id = sa.article_id
                      WHERE sa.story_id = s.id AND lower(a.language) = lower(%(language)s)))
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
        {"status": status, "since": since, "outlet": outlet, "language": language,
         "limit": limit, "offset": offset},
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
    events = story_events(conn, story_id)
    merged = [{"other_id": e["other_id"], "created_at": e["created_at"]}
              for e in events if e["kind"] == "merge" and e["story_id"] == story_id]
    return {**story, "articles": rows, "merged": merged, "events": events}


def story_events(conn: psycopg.Connection, story_id: int) -> list[dict]:
    """Every merge, split, move and removal that involved the story, oldest first."""
    rows = conn.execute(
        """SELECT id, kind, story_id, other_id, article_id, detail->>'reason' AS reason,
                  detail->>'from' AS changed_from, detail->>'to' AS changed_to, created_at
           FROM story_events WHERE story_id = %(id)s OR other_id = %(id)s
           ORDER BY id""",
        {"id": story_id},
    ).fetchall()
    for row in rows:
        row["text"] = event_text(story_id, row)
    return rows


def event_text(story_id: int, event: dict) -> str:
    """One change of the story (merge, split, move, removal, curation), told from this
    story's side."""
    kind, other, article = event["kind"], event["other_id"], event["article_id"]
    reason = f" ({event['reason']})" if event["reason"] else ""
    if kind == "merge":
        return (f"story {other} merged into this one{reason}" if event["story_id"] == story_id
                else f"merged into story {event['story_id']}{reason}")
    if kind == "split":
        return (f"split: story {other} made of some of its articles{reason}"
                if event["story_id"] == story_id
                else f"split from story {event['story_id']}{reason}")
    if kind == "move":
        return (f"article #{article} moved to story {other}{reason}"
                if event["story_id"] == story_id
                else f"article #{article} moved here from story {event['story_id']}{reason}")
    if kind == "remove":
        return f"article #{article} left the story{reason}"
    if kind == "rename":
        return f"renamed from “{event['changed_from']}” to “{event['changed_to']}”{reason}"
    if kind == "status":
        return f"status {event['changed_from']} → {event['changed_to']}{reason}"
    return f"{kind}{reason}"

