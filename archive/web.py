"""What the web server reads beyond searches and stories (archive.search,
archive.stories): story filters, what decided a story, alert history, sources' health;
and how its pooled sessions are set up."""

from __future__ import annotations

import psycopg

from archive.outbox import DELIVERIES_JSON


def read_only_session(conn: psycopg.Connection, statement_timeout_ms: int) -> None:
    """Make the session refuse every write (not even a bug in a query builder can write
    through it) and end any statement that runs longer than `statement_timeout_ms`."""
    conn.execute("SET default_transaction_read_only = on")
    conn.execute(f"SET statement_timeout = {int(statement_timeout_ms)}")  # an int, not text


def archive_generation(conn: psycopg.Connection) -> int:
    """A number that changes (grows) whenever a committed write changes articles,
    stories, their articles or events, or outlets (migration 17's triggers): what the
    web server's response cache is keyed on. One row of one table: cheap to read."""
    return conn.execute("SELECT generation FROM archive_generation").fetchone()["generation"]


def outlets_by_id(conn: psycopg.Connection, article_ids: list[int]) -> dict[int, str]:
    """Article id → its outlet, for the given articles that exist."""
    rows = conn.execute("SELECT id, outlet FROM articles WHERE id = ANY(%s)",
                        (article_ids,)).fetchall()
    return {row["id"]: row["outlet"] for row in rows}


def story_outlets(conn: psycopg.Connection) -> list[str]:
    """The outlets with an article in some story, for the story list's filter."""
    return [row["outlet"] for row in conn.execute(
        "SELECT DISTINCT outlet FROM story_articles ORDER BY outlet").fetchall()]


def known_outlets(conn: psycopg.Connection) -> list[str]:
    """Every outlet name the archive knows, listed or discovered."""
    return [row["name"] for row in conn.execute(
        "SELECT name FROM outlets UNION SELECT DISTINCT outlet FROM story_articles "
        "ORDER BY 1").fetchall()]


def story_languages(conn: psycopg.Connection) -> list[str]:
    """The languages of the articles in stories, for the story list's filter."""
    return [row["language"] for row in conn.execute(
        "SELECT DISTINCT lower(a.language) AS language FROM story_articles sa "
        "JOIN articles a ON a.id = sa.article_id WHERE a.language IS NOT NULL "
        "ORDER BY 1").fetchall()]


# --- what decided a story's status ----------------------------------------------------

def status_evidence(conn: psycopg.Connection, story_id: int) -> dict | None:
    """The article that confirmed or denied the story (an official readout or denial,
    or a report of the call confirmed by both sides), with its outlet's government if
    it is official, and the story's first report (`first_article_id`, the claim it
    answers); None while the story is unconfirmed or the evidence is gone."""
    return conn.execute(
        """SELECT a.id, a.outlet, a.url, a.title,
                  coalesce(a.published_at, a.fetched_at) AS reported_at,
                  s.status AS decides, s.status_changed_at, o.official,
                  s.first_article_id
           FROM stories s
           JOIN articles a ON a.id = s.status_article_id
           LEFT JOIN outlets o ON o.id = a.outlet_id
           WHERE s.id = %s
             AND ((s.status = 'confirmed'
                   AND (a.official_stance = 'confirms' OR a.call_status = 'confirmed'))
               OR (s.status = 'denied' AND a.official_stance = 'denies'))""",
        (story_id,),
    ).fetchone()


def article_ref(conn: psycopg.Connection, article_id: int) -> dict | None:
    return conn.execute(
        "SELECT a.id, a.outlet, a.url, a.title, "
        "coalesce(a.published_at, a.fetched_at) AS reported_at FROM articles a "
        "WHERE a.id = %s", (article_id,)).fetchone()


# --- alert history --------------------------------------------------------------------

def alert_history(conn: psycopg.Connection, *, status: str | None = None,
                  channel: str | None = None, limit: int = 50,
                  offset: int = 0) -> list[dict]:
    """Alerts, newest first, each with its deliveries (channel, state, attempts, last
    error, next attempt, delivered at). `status` and `channel` keep the alerts with a
    delivery in that state / on that channel (both: the same delivery)."""
    return conn.execute(
        f"""SELECT a.id, a.rule, a.kind, a.story_id, a.outlet, a.status AS story_status,
                  a.article_id, a.created_at, a.payload->>'url' AS url,
                  a.payload->>'title' AS title,
                  {DELIVERIES_JSON}
           FROM alerts a LEFT JOIN alert_deliveries d ON d.alert_id = a.id
           GROUP BY a.id
           HAVING (%(status)s::text IS NULL AND %(channel)s::text IS NULL)
               OR bool_or((%(status)s::text IS NULL OR d.status = %(status)s)
                          AND (%(channel)s::text IS NULL OR d.channel = %(channel)s))
           ORDER BY a.created_at DESC, a.id DESC
           LIMIT %(limit)s OFFSET %(offset)s""",
        {"status": status, "channel": channel, "limit": limit, "offset": offset},
    ).fetchall()


def delivery_totals(conn: psycopg.Connection) -> dict:
    """How many alerts there are, and deliveries per channel and state."""
    alerts = conn.execute("SELECT count(*) AS n FROM alerts").fetchone()["n"]
    rows = conn.execute("SELECT channel, status, count(*) AS n FROM alert_deliveries "
                        "GROUP BY channel, status ORDER BY channel, status").fetchall()
    return {"alerts": alerts, "deliveries": rows}


# --- sources' health ------------------------------------------------------------------

SOURCE_STATE = """CASE WHEN s.last_polled_at IS NULL THEN 'never polled'
                       WHEN s.consecutive_failures > 0 THEN 'failing' ELSE 'ok' END"""


def source_health(conn: psycopg.Connection, *, state: str | None = None, limit: int = 100,
                  offset: int = 0) -> list[dict]:
    """Every stored source (feeds, sitemaps, sections, searches) with its polling
    state; failing ones first, then by outlet and URL."""
    return conn.execute(
        f"""SELECT s.id, coalesce(o.name, s.search_name) AS outlet, s.kind, s.url,
                   {SOURCE_STATE} AS state, s.consecutive_failures, s.last_error,
                   s.last_status, s.last_polled_at, s.last_success_at, s.next_poll_at,
                   s.interval_minutes, s.effective_interval_seconds, s.last_hint
            FROM sources s LEFT JOIN outlets o ON o.id = s.outlet_id
            WHERE %(state)s::text IS NULL OR {SOURCE_STATE} = %(state)s
            ORDER BY ({SOURCE_STATE} = 'failing') DESC, 2, s.url
            LIMIT %(limit)s OFFSET %(offset)s""",  # SOURCE_STATE is the fixed text above
        {"state": state, "limit": limit, "offset": offset},
    ).fetchall()


def source_totals(conn: psycopg.Connection) -> dict[str, int]:
    """Sources per state (ok, failing, never polled); states with none are missing."""
    rows = conn.execute(f"SELECT {SOURCE_STATE} AS state, count(*) AS n FROM sources s "
                        "GROUP BY 1").fetchall()
    return {row["state"]: row["n"] for row in rows}
