"""Discovery in the archive: a search's polling window, the outlets that articles from
unlisted sites create, and the feeds an outlet was promoted to (`outlets follow`)."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg

from archive.store import SourceState, upsert_outlet

SOURCE_COLUMNS = """s.id, s.kind, s.url, s.interval_minutes, s.etag, s.last_modified,
    s.body_sha256, s.consecutive_failures, s.effective_interval_seconds, s.window_start,
    s.search_window_end"""


def record_search_window(conn: psycopg.Connection, source_id: int, end: datetime) -> None:
    """The search saw everything up to `end`: its next poll starts there."""
    conn.execute("UPDATE sources SET search_window_end = %s WHERE id = %s", (end, source_id))


def outlet_by_domain(conn: psycopg.Connection, key: str) -> str | None:
    row = conn.execute("SELECT name FROM outlets WHERE domains @> ARRAY[%s]::text[] "
                       "ORDER BY id LIMIT 1",
                       (key,)).fetchone()
    return row["name"] if row else None


def discovered_outlet(conn: psycopg.Connection, key: str, site_name: str | None,
                      found_by: str | None) -> str:
    """The outlet of an unlisted site, keyed by `key` (its registered domain, or address
    and port): the one stored, else a new one named by the page's own site name (the key
    when it has none, or when another outlet has that name already)."""
    known = outlet_by_domain(conn, key)
    if known is not None:
        return known
    name = (site_name or "").strip()[:200] or key
    taken = conn.execute("SELECT 1 FROM outlets WHERE name = %s", (name,)).fetchone()
    if taken and name != key:
        name = f"{name} ({key})"
    row = conn.execute(
        """INSERT INTO outlets (name, domains, discovered_at, found_by)
           VALUES (%s, %s, now(), %s)
           ON CONFLICT (name) DO UPDATE SET domains = CASE
               WHEN %s = ANY(outlets.domains) THEN outlets.domains
               ELSE outlets.domains || %s END
           RETURNING name""",
        (name, [key], found_by, key, [key]),
    ).fetchone()
    return row["name"]


def follow_feed(conn: psycopg.Connection, outlet: str, url: str,
                interval_minutes: float) -> int:
    """Make `url` a feed of `outlet`, polled like a listed one; returns its source id."""
    with conn.transaction():
        outlet_id = upsert_outlet(conn, outlet)
        row = conn.execute(
            """INSERT INTO sources (outlet_id, kind, url, interval_minutes, followed)
               VALUES (%s, 'feed', %s, %s, true)
               ON CONFLICT (url) DO UPDATE SET followed = true, next_poll_at = now()
               RETURNING id""",
            (outlet_id, url, interval_minutes),
        ).fetchone()
    return row["id"]


def followed_sources(conn: psycopg.Connection) -> list[SourceState]:
    """Every followed feed with its outlet's name."""
    rows = conn.execute(
        f"""SELECT {SOURCE_COLUMNS}, o.name AS outlet FROM sources s
            JOIN outlets o ON o.id = s.outlet_id WHERE s.followed ORDER BY s.id"""
    ).fetchall()
    return [SourceState(**row) for row in rows]


def due_followed(conn: psycopg.Connection, now: datetime | None = None) -> list[SourceState]:
    now = now or datetime.now(UTC)
    rows = conn.execute(
        f"""SELECT {SOURCE_COLUMNS}, o.name AS outlet FROM sources s
            JOIN outlets o ON o.id = s.outlet_id
            WHERE s.followed AND s.next_poll_at <= %s ORDER BY s.next_poll_at, s.id""",
        (now,),
    ).fetchall()
    return [SourceState(**row) for row in rows]


def outlet_rows(conn: psycopg.Connection, discovered_only: bool = False) -> list[dict]:
    """Outlets with their article counts and first contact-story article, newest
    discoveries first, then by name."""
    return conn.execute(
        """SELECT o.name, o.domains, o.discovered_at, o.found_by,
                  count(a.id) AS articles,
                  count(a.id) FILTER (WHERE a.contact_story) AS contact_articles,
                  (SELECT f.url FROM articles f WHERE f.outlet_id = o.id AND f.contact_story
                   ORDER BY coalesce(f.published_at, f.fetched_at), f.id LIMIT 1)
                      AS first_contact_url,
                  EXISTS (SELECT 1 FROM sources s WHERE s.outlet_id = o.id AND s.followed)
                      AS followed
           FROM outlets o LEFT JOIN articles a ON a.outlet_id = o.id
           WHERE NOT %s OR o.discovered_at IS NOT NULL
           GROUP BY o.id
           ORDER BY o.discovered_at DESC NULLS LAST, o.name""",
        (discovered_only,),
    ).fetchall()


def outlet_key(conn: psycopg.Connection, name: str) -> str | None:
    """The outlet's first domain (what a discovered outlet is keyed by), if any."""
    row = conn.execute("SELECT domains FROM outlets WHERE name = %s", (name,)).fetchone()
    return row["domains"][0] if row and row["domains"] else None


def find_outlet(conn: psycopg.Connection, domain: str) -> str | None:
    """The outlet named `domain`, or keyed by it."""
    row = conn.execute("SELECT name FROM outlets WHERE name = %s", (domain,)).fetchone()
    return row["name"] if row else outlet_by_domain(conn, domain)
