"""Searching the archive: full-text queries in web-search syntax ("quoted phrases", OR,
-exclusions) with filters, ranked, with highlighted snippets; one article in full; the
whole matching archive streamed; unconfirmed-call reports per day.

Every value reaches SQL as a parameter. Each article's text is indexed with its own
language's text-search configuration, so a query is parsed once per configuration and
each article is matched with the parse of its language: stemming and exclusions work
as they should in every language, and each branch can use its language's GIN index.
A date window also reaches the index: the days and months that cover it are matched as
lexemes of the indexed document (migration 9), so common words are read from the
index only around the window, not over the whole archive."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import psycopg
from psycopg import sql

from core.urls import BadURL, normalize_url

STATUSES = ("unconfirmed", "confirmed", "none")
MAX_LIMIT = 200
MAX_QUERY = 500
HIGHLIGHT_START, HIGHLIGHT_STOP = "\x02", "\x03"  # replaced by each output format
HEADLINE_CHARS = 20_000  # ts_headline reads at most this much of an article
# ...but first only its opening, where news puts what it is about: parsing is most of
# a snippet's cost, and the whole text is read only when the words are not there.
LEDE_CHARS = 2_000
# text_search_config() in migration 1: languages with their own stemmer.
CONFIGS = {"en": "english", "ru": "russian", "de": "german", "fr": "french",
           "es": "spanish", "tr": "turkish"}
REPORTED_AT = "coalesce(a.published_at, a.fetched_at)"
# The expression of migration 9's search indexes: the article's words and its UTC day
# and month of report as lexemes ('day 20250315', 'month 202503').
SEARCH_DOCUMENT = f"(a.search || reported_periods({REPORTED_AT}))"
MAX_PERIODS = 60  # day and month lexemes in one window; longer windows: dates alone
# For the length of one search's transaction. Exact (not lossy) bitmaps for common
# words: a lossy page makes every row on it be tested again. And a parallel plan:
# ranking reads every match's tsvector, the bulk of a search's time, and PostgreSQL
# underestimates the matches of a window-narrowed index scan too much to ever choose
# one itself; one worker (fewer if the server allows fewer) keeps a core for others.
SEARCH_SETTINGS = """SET LOCAL work_mem = '64MB';
SET LOCAL parallel_setup_cost = 0; SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SELECT set_config('max_parallel_workers_per_gather',
    least(current_setting('max_parallel_workers_per_gather')::int, 1)::text, true)"""


class SearchError(ValueError):
    """A filter or query that cannot be used; the message says which and why."""


@dataclass
class Filters:
    query: str | None = None
    outlets: list[str] = field(default_factory=list)
    status: str | None = None
    story: int | None = None
    since: datetime | None = None
    until: datetime | None = None  # exclusive
    language: str | None = None


def make_filters(query: str | None = None, outlets: list[str] | str | None = None,
                 status: str | None = None, story: int | str | None = None,
                 since: str | date | None = None, until: str | date | None = None,
                 language: str | None = None) -> Filters:
    """Filters from what a user typed; SearchError names the one that is wrong."""
    query = (query or "").strip() or None
    if query and len(query) > MAX_QUERY:
        raise SearchError(f"query: at most {MAX_QUERY} characters")
    if query:
        _check_text(query, "query")
    if isinstance(outlets, str):
        outlets = [outlets]
    outlets = [o.strip() for o in outlets or [] if o and o.strip()]
    for outlet in outlets:
        _check_text(outlet, "outlet")
    if status is not None and status not in STATUSES:
        raise SearchError(f"status: {status!r} is not one of {', '.join(STATUSES)}")
    if story is not None and story != "":
        try:
            story = int(story)
        except (TypeError, ValueError):
            raise SearchError(f"story: {story!r} is not a story number") from None
        if story < 1:
            raise SearchError(f"story: {story} is not a story number")
    else:
        story = None
    language = (language or "").strip().lower() or None
    if language and not (2 <= len(language) <= 8 and language.replace("-", "").isalpha()):
        raise SearchError(f"language: {language!r} is not a language code such as en or ru")
    start = parse_when(since, "since") if since not in (None, "") else None
    end = parse_when(until, "until", end_of_day=True) if until not in (None, "") else None
    if start and end and start >= end:
        raise SearchError("since: must be before until")
    return Filters(query, outlets, status, story, start, end, language)


def parse_when(value: str | date, name: str, end_of_day: bool = False) -> datetime:
    """An ISO date (a whole day, UTC) or date-time; `until` dates include their day."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        day = value
    else:
        text = str(value).strip()
        try:
            if len(text) == 10:
                day = date.fromisoformat(text)
            else:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
                return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        except ValueError:
            raise SearchError(f"{name}: {text!r} is not a date (YYYY-MM-DD) or an ISO "
                              "date-time") from None
    moment = datetime.combine(day, time(), tzinfo=UTC)
    if not end_of_day:
        return moment
    try:
        return moment + timedelta(days=1)
    except OverflowError:  # until 9999-12-31: the end of time, as far as dates go
        return datetime.max.replace(tzinfo=UTC)


def _check_text(value: str, name: str) -> None:
    """PostgreSQL takes UTF-8 text without NUL: a value it would refuse is the user's
    mistake (SearchError), not a database error."""
    if "\x00" in value:
        raise SearchError(f"{name}: contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise SearchError(f"{name}: is not valid text (a lone surrogate)") from None


def _where(filters: Filters, periods: str | None = None) -> tuple[sql.Composable, dict]:
    """The WHERE clause and its parameters; the text match as one OR branch a language.
    periods: the tsquery of the window's days and months (see `window_periods`)."""
    clauses: list[sql.Composable] = []
    params: dict = {}
    if filters.query:
        params["q"] = filters.query
        if periods:
            params["periods"] = periods
        clauses.append(sql.SQL("({})").format(_match(filters.language, bool(periods))))
    if filters.outlets:
        clauses.append(sql.SQL("lower(a.outlet) = ANY(%(outlets)s)"))
        params["outlets"] = [o.lower() for o in filters.outlets]
    if filters.status == "none":
        clauses.append(sql.SQL("(a.call_status = 'none' OR a.call_status IS NULL)"))
    elif filters.status:
        clauses.append(sql.SQL("a.contact_story AND a.call_status = %(status)s"))
        params["status"] = filters.status
    if filters.story is not None:
        clauses.append(sql.SQL("sa.story_id = %(story)s"))
        params["story"] = filters.story
    if filters.since:
        clauses.append(sql.SQL(REPORTED_AT + " >= %(since)s"))
        params["since"] = filters.since
    if filters.until:
        clauses.append(sql.SQL(REPORTED_AT + " < %(until)s"))
        params["until"] = filters.until
    if filters.language:
        clauses.append(sql.SQL("a.language = %(language)s"))
        params["language"] = filters.language
    where = sql.SQL(" AND ").join(clauses) if clauses else sql.SQL("true")
    return where, params


def _from(filters: Filters) -> sql.Composable:
    """The articles, joined to their stories only when filtering by story."""
    if filters.story is None:
        return sql.SQL("articles a")
    return sql.SQL("articles a JOIN story_articles sa ON sa.article_id = a.id")


def period_lexemes(since: datetime, until: datetime) -> list[str] | None:
    """The fewest 'day YYYYMMDD' and 'month YYYYMM' lexemes (UTC) covering every moment
    in [since, until): whole months as one lexeme, the rest day by day. None when that
    takes more than MAX_PERIODS lexemes (then the date index alone narrows the search).
    The cover is never short of the window: the exact date filter still applies."""
    day = _utc_day(since)
    try:
        last = _utc_day(until - timedelta(microseconds=1))
    except OverflowError:  # until is the first moment there is: nothing before it
        return []
    lexemes: list[str] = []
    while day <= last:
        if len(lexemes) == MAX_PERIODS:
            return None
        next_month = _first_of_next_month(day)
        if day.day == 1 and (next_month is None or next_month - timedelta(days=1) <= last):
            lexemes.append(f"month {day.year * 100 + day.month}")
            if next_month is None:
                break
            day = next_month
        else:
            lexemes.append(f"day {day.year * 10000 + day.month * 100 + day.day}")
            if day == date.max:
                break
            day += timedelta(days=1)
    return lexemes


def _utc_day(moment: datetime) -> date:
    """The UTC day of a moment; a moment whose UTC day Python cannot hold (a time zone
    on 0001-01-01 or 9999-12-31) is on the first or last day there is."""
    try:
        return moment.astimezone(UTC).date()
    except OverflowError:
        return date.min if moment.year == 1 else date.max


def _first_of_next_month(day: date) -> date | None:
    if day.month == 12:
        return date(day.year + 1, 1, 1) if day.year < date.max.year else None
    return date(day.year, day.month + 1, 1)


def window_periods(conn: psycopg.Connection, filters: Filters) -> str | None:
    """The tsquery (text) of the days and months covering the filters' date window, for
    the search indexes; an open end is the archive's first or last report. None: no
    window, or one too long to help."""
    if not filters.query or not (filters.since or filters.until):
        return None
    since, until = filters.since, filters.until
    if since is None or until is None:
        try:
            bounds = conn.execute(
                f"""SELECT (SELECT {REPORTED_AT} FROM articles a
                            ORDER BY {REPORTED_AT} LIMIT 1) AS first,
                           (SELECT {REPORTED_AT} FROM articles a
                            ORDER BY {REPORTED_AT} DESC LIMIT 1) AS last""").fetchone()
        except psycopg.DataError:  # a stored time Python cannot hold: no narrowing
            return None
        if bounds["first"] is None:
            return None
        since = since or bounds["first"]
        if until is None:
            if bounds["last"] >= datetime.max.replace(tzinfo=UTC):
                return None
            until = bounds["last"] + timedelta(microseconds=1)
        if since >= until:
            return "'day 0'"  # nothing reported there: a lexeme no article has
    lexemes = period_lexemes(since, until)
    if lexemes is None:
        return None
    return " | ".join(f"'{lexeme}'" for lexeme in lexemes)


def _branches(language: str | None) -> list[tuple[list[str] | None, str]]:
    """(languages, configuration) pairs; None stands for every other language."""
    if language:
        return [([language], CONFIGS.get(language, "simple"))]
    return [([code], config) for code, config in CONFIGS.items()] + [(None, "simple")]


def _match(language: str | None, periods: bool = False) -> sql.Composable:
    document = sql.SQL(SEARCH_DOCUMENT)
    window = sql.SQL(" AND {} @@ %(periods)s::tsquery").format(document) if periods \
        else sql.SQL("")
    parts = []
    for codes, config in _branches(language):
        tsquery = sql.SQL("websearch_to_tsquery({}::regconfig, %(q)s)").format(
            sql.Literal(config))
        if codes is None:
            lang = sql.SQL("(a.language IS NULL OR NOT a.language = ANY({}))").format(
                sql.Literal(list(CONFIGS)))
        else:
            lang = sql.SQL("a.language = {}").format(sql.Literal(codes[0]))
        parts.append(sql.SQL("({} AND {} @@ {}{})").format(lang, document, tsquery, window))
    return sql.SQL(" OR ").join(parts)


def _query_for_row() -> sql.Composable:
    """The parse of the query in the row's own language, for ranking: one constant per
    configuration, so the query is not parsed again for every matching row."""
    whens = [sql.SQL("WHEN {} THEN websearch_to_tsquery({}::regconfig, %(q)s)").format(
        sql.Literal(code), sql.Literal(config)) for code, config in CONFIGS.items()]
    return sql.SQL("CASE a.language {} ELSE websearch_to_tsquery('simple'::regconfig, "
                   "%(q)s) END").format(sql.SQL(" ").join(whens))


@dataclass
class Page:
    results: list[dict]
    page: int
    limit: int
    total: int | None = None  # counted up to COUNT_CAP
    total_capped: bool = False


COUNT_CAP = 10_000


def search(conn: psycopg.Connection, filters: Filters, limit: int = 20, page: int = 1,
           count: bool = False) -> Page:
    """One page of matching articles: best match first when there is a query (ties:
    newest first), else newest first. The order is total, so pages are stable."""
    if not 1 <= limit <= MAX_LIMIT:
        raise SearchError(f"limit: must be from 1 to {MAX_LIMIT}")
    if page < 1 or page > 10_000:
        raise SearchError("page: must be from 1 to 10000")
    params = {"limit": limit, "offset": (page - 1) * limit}
    if filters.query:
        rank = sql.SQL("ts_rank_cd(a.search, {})").format(_query_for_row())
        order = sql.SQL("rank DESC, reported_at DESC, a.id DESC")
        snippet = sql.SQL("CASE WHEN strpos(lede.snippet, {start}) > 0 THEN lede.snippet "
                          "ELSE {whole} END").format(start=sql.Literal(HIGHLIGHT_START),
                                                     whole=_headline(HEADLINE_CHARS))
        # OFFSET 0 keeps the subquery whole: pulled up, its headline would be computed
        # once for each use in the CASE
        lede = sql.SQL("CROSS JOIN LATERAL (SELECT {} AS snippet OFFSET 0) lede").format(
            _headline(LEDE_CHARS))
    else:
        rank = sql.SQL("0::real")
        order = sql.SQL("reported_at DESC, a.id DESC")
        snippet = sql.SQL("left(p.text, 240)")
        lede = sql.SQL("")
    # A story's id is looked up for the page's rows only, after the LIMIT.
    query = sql.SQL("""
        WITH p AS (
            SELECT a.id, a.url, a.title, a.outlet, a.language, a.contact_story,
                   a.call_status, a.evidence, a.text,
                   {reported_at} AS reported_at, {rank} AS rank
            FROM {articles}
            WHERE {where}
            ORDER BY {order}
            LIMIT %(limit)s OFFSET %(offset)s)
        SELECT p.id, p.url, p.title, p.outlet, p.language, p.contact_story, p.call_status,
               p.evidence,
               (SELECT sa.story_id FROM story_articles sa WHERE sa.article_id = p.id)
                   AS story_id,
               p.reported_at, p.rank, {snippet} AS snippet
        FROM p {lede} ORDER BY p.rank DESC, p.reported_at DESC, p.id DESC""")
    with conn.transaction():
        if filters.query:
            conn.execute(SEARCH_SETTINGS)
        where, where_params = _where(filters, window_periods(conn, filters))
        params.update(where_params)
        rows = conn.execute(query.format(
            reported_at=sql.SQL(REPORTED_AT), rank=rank, articles=_from(filters),
            where=where, order=order, snippet=snippet, lede=lede), params).fetchall()
        result = Page(results=rows, page=page, limit=limit)
        if count:
            counted = conn.execute(sql.SQL(
                "SELECT count(*) AS n FROM (SELECT 1 FROM {} WHERE {} LIMIT {}) hits").format(
                _from(filters), where, sql.Literal(COUNT_CAP + 1)), params).fetchone()["n"]
            result.total, result.total_capped = min(counted, COUNT_CAP), counted > COUNT_CAP
    return result


def _headline(chars: int) -> sql.Composable:
    """The query's words highlighted in the first `chars` characters of the text."""
    return sql.SQL(
        "ts_headline(text_search_config(p.language), left(p.text, {chars}), "
        "websearch_to_tsquery(text_search_config(p.language), %(q)s), {options})"
    ).format(chars=sql.Literal(chars), options=sql.Literal(
        f"StartSel={HIGHLIGHT_START}, StopSel={HIGHLIGHT_STOP}, MaxWords=35, "
        "MinWords=12, MaxFragments=2, FragmentDelimiter=\" … \""))


def export(conn: psycopg.Connection, filters: Filters, batch: int = 1000,
           ) -> Iterator[dict]:
    """Every matching article, oldest first, streamed through a server-side cursor: the
    archive is never held in memory. Use a connection that is not in autocommit mode
    or inside `conn.transaction()` (named cursors live in a transaction)."""
    where, params = _where(filters, window_periods(conn, filters))
    query = sql.SQL("""
        SELECT a.id, a.url, a.canonical_url, a.outlet, a.title, a.published_at,
               a.fetched_at, a.language, a.authors, a.contact_story, a.call_status,
               a.evidence, sa.story_id, sa.is_copy_of, sa.wire, a.text
        FROM articles a LEFT JOIN story_articles sa ON sa.article_id = a.id
        WHERE {where}
        ORDER BY {reported_at}, a.id""").format(where=where,
                                                 reported_at=sql.SQL(REPORTED_AT))
    with conn.cursor(name="backchannel_export") as cursor:
        cursor.itersize = batch
        cursor.execute(query, params)
        yield from cursor


def unknown_outlets(conn: psycopg.Connection, names: list[str]) -> dict[str, list[str]]:
    """The names among `names` that no stored outlet has (any case), each with the
    stored outlets' names closest to it."""
    import difflib

    stored = [r["name"] for r in conn.execute("SELECT name FROM outlets ORDER BY name")]
    by_fold = {name.casefold(): name for name in stored}
    unknown = {}
    for name in names:
        if name.casefold() not in by_fold:
            close = difflib.get_close_matches(name.casefold(), list(by_fold), n=3, cutoff=0.5)
            unknown[name] = [by_fold[c] for c in close]
    return unknown


def get_article(conn: psycopg.Connection, ref: int | str) -> dict | None:
    """One article by id or URL (as given, or normalised as the crawl stores it), with its
    story, the article it copies and its copies."""
    if isinstance(ref, int) or (str(ref).isascii() and str(ref).isdigit()):
        digits = str(ref).lstrip("0") or "0"
        if len(digits) > 19 or int(digits) > 2**63 - 1:
            return None  # no bigint id is that large
        condition, params = "a.id = %s", (int(digits),)
    else:
        given = str(ref).strip()
        try:
            clean = normalize_url(given)
        except BadURL:
            clean = given
        condition = "(a.url = ANY(%s) OR a.canonical_url = ANY(%s))"
        params = ([given, clean], [given, clean])
    row = conn.execute(
        f"""SELECT a.id, a.url, a.canonical_url, a.outlet, a.title, a.published_at,
                   a.fetched_at, a.updated_at, a.language, a.authors, a.site_name,
                   a.contact_story, a.call_status, a.evidence, a.classifier_version,
                   a.confidence, a.text, {REPORTED_AT} AS reported_at,
                   sa.story_id, sa.is_copy_of, sa.wire,
                   s.title AS story_title, s.status AS story_status
            FROM articles a
            LEFT JOIN story_articles sa ON sa.article_id = a.id
            LEFT JOIN stories s ON s.id = sa.story_id
            WHERE {condition}
            ORDER BY a.id LIMIT 1""",  # condition is one of two fixed strings above
        params,
    ).fetchone()
    if row is None:
        return None
    row["copy_of"] = None
    if row["is_copy_of"]:
        row["copy_of"] = conn.execute(
            f"SELECT a.id, a.outlet, a.url, a.title, {REPORTED_AT} AS reported_at "
            "FROM articles a WHERE a.id = %s", (row["is_copy_of"],)).fetchone()
    row["copies"] = conn.execute(
        f"""SELECT a.id, a.outlet, a.url, a.title, {REPORTED_AT} AS reported_at, sa.wire
            FROM story_articles sa JOIN articles a ON a.id = sa.article_id
            WHERE sa.is_copy_of = %s ORDER BY reported_at, a.id""",
        (row["id"],)).fetchall()
    return row


def reports_per_day(conn: psycopg.Connection, since: datetime | None = None,
                    until: datetime | None = None, status: str = "unconfirmed",
                    ) -> list[dict]:
    """Articles reporting a call with this status, per day (UTC), oldest day first."""
    if status not in STATUSES[:2]:
        raise SearchError(f"status: {status!r} is not unconfirmed or confirmed")
    return conn.execute(
        f"""SELECT ({REPORTED_AT} AT TIME ZONE 'UTC')::date AS day, count(*) AS reports
            FROM articles a
            WHERE a.contact_story AND a.call_status = %(status)s
              AND (%(since)s::timestamptz IS NULL OR {REPORTED_AT} >= %(since)s)
              AND (%(until)s::timestamptz IS NULL OR {REPORTED_AT} < %(until)s)
            GROUP BY day ORDER BY day""",
        {"status": status, "since": since, "until": until},
    ).fetchall()


def highlighted(snippet: str | None, start: str, stop: str) -> str:
    """A snippet with the highlight markers replaced (after any escaping of the text)."""
    return (snippet or "").replace(HIGHLIGHT_START, start).replace(HIGHLIGHT_STOP, stop)


def plain(snippet: str | None) -> str:
    return highlighted(snippet, "", "")
