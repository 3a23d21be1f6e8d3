"""Reads for the pages and the API alike: the archive's functions, plus the little that
both need on top (paging, who a copy copies, snippets in both forms)."""

from __future__ import annotations

from datetime import datetime

import psycopg

from archive.search import Filters, get_article, reports_per_day, search
from archive.stories import list_stories, story_timeline
from archive.web import outlets_by_id
from web.queries import snippet_html, snippet_text


def stories_page(conn: psycopg.Connection, status: str | None, since: datetime | None,
                 page: int, limit: int) -> dict:
    """One page of stories, newest first; one row more is read to know if there is a next."""
    rows = list_stories(conn, status=status, since=since, limit=limit + 1,
                        offset=(page - 1) * limit)
    results = [{**row, "outlet_count": len(row["outlets"])} for row in rows[:limit]]
    return {"page": page, "limit": limit,
            "next_page": page + 1 if len(rows) > limit else None, "results": results}


def story(conn: psycopg.Connection, story_id: int) -> dict | None:
    """A story's timeline, with its outlets in order of first report and, for each copy,
    the outlet whose text it copies (looked up when that article is in another story)."""
    found = story_timeline(conn, story_id)
    if found is None:
        return None
    outlet_of = {a["article_id"]: a["outlet"] for a in found["articles"]}
    missing = [a["is_copy_of"] for a in found["articles"]
               if a["is_copy_of"] and a["is_copy_of"] not in outlet_of]
    if missing:
        outlet_of.update(outlets_by_id(conn, missing))
    for entry in found["articles"]:
        entry["copy_of_outlet"] = outlet_of.get(entry["is_copy_of"])
    found["outlets"] = [a["outlet"] for a in found["articles"] if a["new_outlet"]]
    return found


def search_page(conn: psycopg.Connection, filters: Filters, page: int, limit: int) -> dict:
    found = search(conn, filters, limit=limit, page=page, count=True)
    results = [{**row, "snippet": snippet_text(row["snippet"]),
                "snippet_html": str(snippet_html(row["snippet"]))} for row in found.results]
    shown = (page - 1) * limit + len(results)
    more = found.total_capped or (found.total or 0) > shown
    return {"page": page, "limit": limit, "total": found.total or 0,
            "total_capped": found.total_capped,
            "next_page": page + 1 if more and len(results) == limit else None,
            "results": results}


def article(conn: psycopg.Connection, ref: int | str) -> dict | None:
    return get_article(conn, ref)


def article_by_url(conn: psycopg.Connection, url: str) -> dict | None:
    """get_article takes a string of digits for an id (and fails on digits int() cannot
    read, such as "²"); no URL is only digits, so such a string finds nothing here."""
    if url.strip().isdigit() or not url.strip():
        return None
    return get_article(conn, url)


def days(conn: psycopg.Connection, since: datetime | None, until: datetime | None,
         status: str = "unconfirmed") -> dict:
    return {"status": status, "since": since, "until": until,
            "days": reports_per_day(conn, since=since, until=until, status=status)}
