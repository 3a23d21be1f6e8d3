"""What the web server reads beyond searches and stories (archive.search,
archive.stories), and how its pooled sessions are set up."""

from __future__ import annotations

import psycopg


def read_only_session(conn: psycopg.Connection, statement_timeout_ms: int) -> None:
    """Make the session refuse every write (not even a bug in a query builder can write
    through it) and end any statement that runs longer than `statement_timeout_ms`."""
    conn.execute("SET default_transaction_read_only = on")
    conn.execute(f"SET statement_timeout = {int(statement_timeout_ms)}")  # an int, not text


def outlets_by_id(conn: psycopg.Connection, article_ids: list[int]) -> dict[int, str]:
    """Article id → its outlet, for the given articles that exist."""
    rows = conn.execute("SELECT id, outlet FROM articles WHERE id = ANY(%s)",
                        (article_ids,)).fetchall()
    return {row["id"]: row["outlet"] for row in rows}
