"""Reads for the pages and the API alike: the archive's functions, plus the little that
both need on top (paging, who a copy copies, snippets in both forms)."""

from __future__ import annotations

import difflib
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlsplit, urlunsplit

import psycopg

from archive.search import Filters, SearchError, get_article, reports_per_day, search
from archive.stories import list_stories, story_timeline
from archive.web import (
    alert_history,
    article_ref,
    delivery_totals,
    known_outlets,
    outlets_by_id,
    source_health,
    source_totals,
    status_evidence,
    story_languages,
    story_outlets,
)
from web.chart import MAX_DAYS, fitted_range
from web.queries import snippet_html, snippet_text


def stories_page(conn: psycopg.Connection, status: str | None, since: datetime | None,
                 page: int, limit: int, outlet: str | None = None,
                 language: str | None = None) -> dict:
    """One page of stories, newest first; one row more is read to know if there is a next.
    An outlet the archive does not know is an error naming the close ones."""
    if outlet:
        outlet = known_outlet(conn, outlet)
    rows = list_stories(conn, status=status, since=since, outlet=outlet,
                        language=language or None, limit=limit + 1,
                        offset=(page - 1) * limit)
    results = [{**row, "outlet_count": len(row["outlets"])} for row in rows[:limit]]
    return {"page": page, "limit": limit,
            "next_page": page + 1 if len(rows) > limit else None, "results": results}


class UnknownOutlet(SearchError):
    """An outlet filter naming no outlet of the archive (a 404 in the API)."""


def story_filter_choices(conn: psycopg.Connection) -> dict:
    """The outlets and languages the story list can be narrowed to."""
    return {"outlets": story_outlets(conn), "languages": story_languages(conn)}


def known_outlet(conn: psycopg.Connection, name: str) -> str:
    """The archive's spelling of `name` (case aside); else a SearchError that says which
    known outlets are close, so a typo does not just give an empty list."""
    known = known_outlets(conn)
    for outlet in known:
        if outlet.lower() == name.strip().lower():
            return outlet
    by_lower = {outlet.lower(): outlet for outlet in known}
    close = [by_lower[c] for c in difflib.get_close_matches(name.strip().lower(), by_lower,
                                                             n=3, cutoff=0.6)]
    hint = (f"; did you mean {' or '.join(repr(c) for c in close)}?" if close
            else f"; {len(known)} outlets are known" if known else "; the archive has none")
    raise UnknownOutlet(f"outlet: no outlet is called {name!r}{hint}")


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
    found["status_evidence"] = status_evidence(conn, story_id)
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
    """The article, with what confirmed or denied its story; when that is this article
    (a readout, a denial), the story's first report: the claim it answers."""
    found = get_article(conn, ref)
    if found is None:
        return None
    found["status_evidence"] = found["claim"] = None
    if found["story_id"]:
        found["status_evidence"] = status_evidence(conn, found["story_id"])
        claim_id = (found["status_evidence"] or {}).get("first_article_id")
        if found["status_evidence"] and found["status_evidence"]["id"] == found["id"] \
                and claim_id and claim_id != found["id"]:
            found["claim"] = article_ref(conn, claim_id)
    return found


def article_by_url(conn: psycopg.Connection, url: str) -> dict | None:
    """get_article takes a string of digits for an id (and fails on digits int() cannot
    read, such as "²"); no URL is only digits, so such a string finds nothing here."""
    if url.strip().isdigit() or not url.strip():
        return None
    return article(conn, url)


def days(conn: psycopg.Connection, since: datetime | None, until: datetime | None,
         status: str = "unconfirmed") -> dict:
    return {"status": status, "since": since, "until": until,
            "days": reports_per_day(conn, since=since, until=until, status=status)}


def chart_days(conn: psycopg.Connection, status: str, since: datetime | None,
               until: datetime | None, days: int | None, today: date | None = None) -> dict:
    """The days a chart shows and the days with reports in them (what its caption and
    its table both count). Chosen by `days` (the last N days to today, UTC) or by
    since/until (either may be open: the data's first or last day closes it); else the
    data's own range, padded a little."""
    if days is not None:
        if since or until:
            raise SearchError("days: give either days or since/until, not both")
        if not 1 <= days <= MAX_DAYS:
            raise SearchError(f"days: must be from 1 to {MAX_DAYS}")
        last = today or datetime.now(UTC).date()
        since = datetime.combine(last - timedelta(days=days - 1), time(), UTC)
        until = datetime.combine(last + timedelta(days=1), time(), UTC)
    if since and until and since >= until:
        raise SearchError("since: must be before until")
    rows = reports_per_day(conn, since=since, until=until, status=status)
    if since is None and until is None:
        span = fitted_range(rows)
    else:
        fitted = fitted_range(rows)
        first = since.astimezone(UTC).date() if since else fitted and fitted[0]
        last = (until.astimezone(UTC) - timedelta(microseconds=1)).date() if until \
            else fitted and fitted[1]
        span = (first or last, last or first) if first or last else None
        if span and (span[1] - span[0]).days + 1 > MAX_DAYS:
            raise SearchError(f"since: the chart shows at most {MAX_DAYS} days; "
                              "narrow since/until")
    if span is None:
        return {"first": None, "last": None, "days": []}
    shown = [row for row in rows if span[0] <= row["day"] <= span[1]]
    return {"first": span[0], "last": span[1], "days": shown}


# --- alerts and sources ---------------------------------------------------------------

def _moment(value: str | None) -> datetime | None:
    """A timestamp that came through jsonb as text, back to a datetime."""
    return datetime.fromisoformat(value) if value else None


def alerts_page(conn: psycopg.Connection, status: str | None, channel: str | None,
                page: int, limit: int) -> dict:
    rows = alert_history(conn, status=status, channel=channel, limit=limit + 1,
                         offset=(page - 1) * limit)
    for row in rows:
        for delivery in row["deliveries"]:
            delivery["next_attempt_at"] = (_moment(delivery["next_attempt_at"])
                                           if delivery["status"] == "pending" else None)
            delivery["delivered_at"] = _moment(delivery["delivered_at"])
    return {"page": page, "limit": limit,
            "next_page": page + 1 if len(rows) > limit else None, "results": rows[:limit]}


def alert_totals(conn: psycopg.Connection) -> dict:
    """Alerts in all, and per channel how many deliveries are in each state."""
    found = delivery_totals(conn)
    channels: dict[str, dict[str, int]] = {}
    for row in found["deliveries"]:
        channels.setdefault(row["channel"], {"pending": 0, "delivered": 0, "failed": 0})[
            row["status"]] = row["n"]
    return {"alerts": found["alerts"], "channels": channels}


def without_credentials(url: str) -> str:
    """A source URL with any user:password@ replaced by ***@: the page is no place for
    a secret someone put in a feed URL."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"***@{host}"))


def sources_page(conn: psycopg.Connection, state: str | None, page: int,
                 limit: int) -> dict:
    rows = source_health(conn, state=state, limit=limit + 1, offset=(page - 1) * limit)
    for row in rows:
        if row["last_error"] and row["last_error"].startswith(row["url"] + ": "):
            row["last_error"] = row["last_error"][len(row["url"]) + 2:]  # said beside it
        row["url"] = without_credentials(row["url"])
        seconds = row.pop("effective_interval_seconds")
        row["effective_interval_minutes"] = seconds / 60 if seconds else None
    totals = {"ok": 0, "failing": 0, "never polled": 0, **source_totals(conn)}
    return {"page": page, "limit": limit, "totals": totals,
            "next_page": page + 1 if len(rows) > limit else None, "results": rows[:limit]}
