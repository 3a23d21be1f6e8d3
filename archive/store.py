"""Reads and writes of the archive. Plain functions over a connection, so the crawler,
the scheduler and the web share one definition of each query."""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import psycopg

from archive.db import atomic

MAX_BACKOFF = timedelta(hours=6)


@dataclass
class SourceState:
    id: int
    outlet: str
    kind: str
    url: str
    interval_minutes: float
    etag: str | None
    last_modified: str | None
    body_sha256: str | None
    consecutive_failures: int
    effective_interval_seconds: float | None = None
    window_start: datetime | None = None  # sitemaps take entries newer than this
    search_window_end: datetime | None = None  # searches: end of the last complete window


@dataclass
class ArticleRecord:
    url: str
    outlet: str
    text: str
    title: str | None = None
    canonical_url: str | None = None
    published_at: datetime | None = None
    language: str | None = None
    authors: list[str] = field(default_factory=list)
    site_name: str | None = None
    source_id: int | None = None
    http_status: int | None = None
    content_type: str | None = None
    raw_page: bytes | None = None
    feed_entry_ids: list[str] = field(default_factory=list)
    contact_story: bool | None = None
    call_status: str | None = None
    evidence: str | None = None
    classifier_version: str | None = None
    extractor_version: str | None = None
    confidence: float | None = None  # the classifier's, 0–1

    @property
    def fingerprint(self) -> str:
        return content_fingerprint(self.title, self.text)


@dataclass
class StoreResult:
    article_id: int
    is_new: bool  # first time this URL is stored
    changed: bool  # stored before, but title or text differ now


def content_fingerprint(title: str | None, text: str) -> str:
    """Whitespace- and case-insensitive hash of title and text: a re-fetch of the same
    page with new ads or timestamps is not a change."""
    norm = " ".join(f"{title or ''}\n{text}".split()).casefold()
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()


def compress_page(page: bytes) -> bytes:
    return zlib.compress(page, 6)


def decompress_page(blob: bytes) -> bytes:
    return zlib.decompress(blob)


def sync_sources(conn: psycopg.Connection, sources) -> dict[str, SourceState]:
    """Upsert the outlets and sources of a sources file (`crawler.sources.SourcesFile`);
    return the polling state by source URL. Sources removed from the file stay in the
    archive, simply no longer polled."""
    states: dict[str, SourceState] = {}
    with conn.transaction():
        for outlet in sources.outlets:
            outlet_id = upsert_outlet(conn, outlet.name, outlet.domains)
            for source in outlet.sources:
                row = conn.execute(
                    """INSERT INTO sources (outlet_id, kind, url, interval_minutes)
                       VALUES (%s, %s, %s, %s)
                       ON CONFLICT (url) DO UPDATE
                         SET outlet_id = EXCLUDED.outlet_id, kind = EXCLUDED.kind,
                             interval_minutes = EXCLUDED.interval_minutes,
                             effective_interval_seconds = CASE
                                 WHEN sources.interval_minutes = EXCLUDED.interval_minutes
                                 THEN sources.effective_interval_seconds END
                       RETURNING id, kind, url, interval_minutes, etag, last_modified,
                                 body_sha256, consecutive_failures,
                                 effective_interval_seconds, window_start,
                                 search_window_end""",
                    (outlet_id, source.kind, source.url, source.interval_minutes),
                ).fetchone()
                states[source.url] = SourceState(outlet=outlet.name, **row)
        for source in getattr(sources, "search_sources", []):
            row = conn.execute(
                """INSERT INTO sources (outlet_id, kind, url, interval_minutes, search_name)
                   VALUES (NULL, 'search', %s, %s, %s)
                   ON CONFLICT (url) DO UPDATE
                     SET outlet_id = NULL, kind = 'search', search_name = EXCLUDED.search_name,
                         interval_minutes = EXCLUDED.interval_minutes
                   RETURNING id, kind, url, interval_minutes, etag, last_modified,
                             body_sha256, consecutive_failures,
                             effective_interval_seconds, window_start, search_window_end""",
                (source.url, source.interval_minutes, source.outlet),
            ).fetchone()
            states[source.url] = SourceState(outlet=source.outlet, **row)
    return states


def source_states(conn: psycopg.Connection, sources) -> dict[str, SourceState]:
    """The polling state of the file's sources, read only (they were synced before)."""
    outlet_of = {source.url: source.outlet for source in sources.sources}
    rows = conn.execute(
        """SELECT id, kind, url, interval_minutes, etag, last_modified, body_sha256,
                  consecutive_failures, effective_interval_seconds, window_start,
                  search_window_end
           FROM sources WHERE url = ANY(%s)""",
        (list(outlet_of),),
    ).fetchall()
    return {row["url"]: SourceState(outlet=outlet_of[row["url"]], **row) for row in rows}


def states_by_id(conn: psycopg.Connection, source_ids: list[int],
                 outlet_of: dict[str, str]) -> list[SourceState]:
    """The polling state of the sources with these ids, in id order; `outlet_of` (source
    URL → outlet, from the sources file) names their outlets, and a source not in it
    (no longer in the file) is left out."""
    rows = conn.execute(
        """SELECT id, kind, url, interval_minutes, etag, last_modified, body_sha256,
                  consecutive_failures, effective_interval_seconds, window_start,
                  search_window_end
           FROM sources WHERE id = ANY(%s) ORDER BY id""",
        (list(source_ids),),
    ).fetchall()
    return [SourceState(outlet=outlet_of[row["url"]], **row) for row in rows
            if row["url"] in outlet_of]


def upsert_outlet(conn: psycopg.Connection, name: str, domains: list[str] | None = None) -> int:
    row = conn.execute(
        """INSERT INTO outlets (name, domains) VALUES (%s, %s)
           ON CONFLICT (name) DO UPDATE
             SET domains = CASE WHEN cardinality(EXCLUDED.domains) > 0
                                THEN EXCLUDED.domains ELSE outlets.domains END
           RETURNING id""",
        (name, domains or []),
    ).fetchone()
    return row["id"]


def due_sources(conn: psycopg.Connection, urls: list[str], now: datetime) -> list[str]:
    """The URLs among `urls` whose next poll is due, the longest-waiting first."""
    rows = conn.execute(
        "SELECT url FROM sources WHERE url = ANY(%s) AND next_poll_at <= %s "
        "ORDER BY next_poll_at, id", (urls, now)
    ).fetchall()
    return [row["url"] for row in rows]


def record_poll(
    conn: psycopg.Connection,
    source_id: int,
    *,
    ok: bool,
    status: int | None,
    error: str | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    body_sha256: str | None = None,
    interval_seconds: float | None = None,
    next_poll_in: float | None = None,
    wait_at_least: float = 0.0,
    hint: str | None = None,
    now: datetime | None = None,
    complete: bool = True,
) -> None:
    """Store a poll's outcome and when to poll next. On success: after `next_poll_in`
    seconds (default: `interval_seconds`, the interval now in use, or the configured
    one). On failure: the configured interval doubled per consecutive failure (capped),
    so a broken source is not hammered; one success resets it. Never sooner than
    `wait_at_least` (the server's Retry-After). `complete`: every page the poll listed
    was dealt with for good, so the source's window (`window_start`) may move on."""
    now = now or datetime.now(UTC)
    params = {"now": now, "status": status, "etag": etag, "lm": last_modified,
              "sha": body_sha256, "id": source_id, "interval": interval_seconds,
              "hint": hint, "error": (error or "")[:2000], "cap": MAX_BACKOFF,
              "next": next_poll_in if next_poll_in is not None else interval_seconds,
              "floor": max(0.0, wait_at_least), "complete": complete}
    if ok:
        conn.execute(
            """UPDATE sources SET last_polled_at = %(now)s, last_success_at = %(now)s,
                   window_start = CASE WHEN %(complete)s THEN %(now)s ELSE window_start END,
                   last_status = %(status)s, consecutive_failures = 0, last_error = NULL,
                   etag = coalesce(%(etag)s, etag),
                   last_modified = coalesce(%(lm)s, last_modified),
                   body_sha256 = coalesce(%(sha)s, body_sha256),
                   effective_interval_seconds = %(interval)s, last_hint = %(hint)s,
                   next_poll_at = %(now)s + make_interval(secs => greatest(
                       coalesce(%(next)s, interval_minutes * 60), %(floor)s))
               WHERE id = %(id)s""",
            params,
        )
    else:
        conn.execute(
            """UPDATE sources SET last_polled_at = %(now)s, last_status = %(status)s,
                   consecutive_failures = consecutive_failures + 1, last_error = %(error)s,
                   last_hint = %(hint)s,
                   next_poll_at = %(now)s + greatest(least(
                       make_interval(secs => interval_minutes * 60)
                           * power(2, least(consecutive_failures, 10)),
                       %(cap)s), make_interval(secs => %(floor)s))
               WHERE id = %(id)s""",
            params,
        )


def save_classification(conn: psycopg.Connection, article_id: int, contact_story: bool,
                        call_status: str, evidence: str | None, version: str) -> bool:
    """Store a (re-)classification; True when the decision differs from the stored one."""
    row = conn.execute(
        """UPDATE articles AS a SET contact_story = %s, call_status = %s, evidence = %s,
               classifier_version = %s, classified_at = now()
           FROM (SELECT id, contact_story, call_status FROM articles WHERE id = %s
                 FOR UPDATE) AS old
           WHERE a.id = old.id
           RETURNING old.contact_story IS DISTINCT FROM a.contact_story
                  OR old.call_status IS DISTINCT FROM a.call_status AS differs""",
        (contact_story, call_status, evidence, version, article_id),
    ).fetchone()
    return bool(row and row["differs"])


def known_urls(conn: psycopg.Connection, urls: list[str]) -> set[str]:
    if not urls:
        return set()
    rows = conn.execute("SELECT url FROM articles WHERE url = ANY(%s)", (urls,)).fetchall()
    return {row["url"] for row in rows}


def store_article(conn: psycopg.Connection, article: ArticleRecord) -> StoreResult:
    """Insert or update one article by URL. Reports whether it is new, so that later
    stages (stories, alerts) act only on what the archive had not seen. Inside the
    caller's transaction it takes no savepoint (`atomic`), and the outlet is made in
    the same statement as the article: a crawl stores thousands of articles a pass."""
    with atomic(conn):
        params = {
            "url": article.url, "canonical_url": article.canonical_url,
            "outlet": article.outlet, "source_id": article.source_id, "title": article.title,
            "published_at": article.published_at, "text": article.text,
            "language": article.language, "authors": article.authors,
            "site_name": article.site_name, "http_status": article.http_status,
            "content_type": article.content_type,
            "raw_page": compress_page(article.raw_page) if article.raw_page else None,
            "sha": article.fingerprint, "entry_ids": article.feed_entry_ids,
            "contact_story": article.contact_story, "call_status": article.call_status,
            "evidence": article.evidence, "classifier_version": article.classifier_version,
            "extractor_version": article.extractor_version, "confidence": article.confidence,
        }
        # the outlet as upsert_outlet makes it (its row is locked and returned whether
        # it is new or not), in the article's own statement
        row = conn.execute(
            """WITH outlet AS (
                   INSERT INTO outlets (name, domains) VALUES (%(outlet)s, '{}')
                   ON CONFLICT (name) DO UPDATE SET domains = outlets.domains
                   RETURNING id)
               INSERT INTO articles (url, canonical_url, outlet_id, outlet, source_id, title,
                   published_at, text, language, authors, site_name, http_status, content_type,
                   raw_page, content_sha256, feed_entry_ids, contact_story, call_status,
                   evidence, classifier_version, classified_at, extractor_version, confidence)
               VALUES (%(url)s, %(canonical_url)s, (SELECT id FROM outlet), %(outlet)s,
                   %(source_id)s, %(title)s, %(published_at)s, %(text)s, %(language)s,
                   %(authors)s, %(site_name)s, %(http_status)s, %(content_type)s,
                   %(raw_page)s, %(sha)s, %(entry_ids)s, %(contact_story)s, %(call_status)s,
                   %(evidence)s, %(classifier_version)s,
                   CASE WHEN %(classifier_version)s::text IS NULL THEN NULL ELSE now() END,
                   %(extractor_version)s, %(confidence)s)
               ON CONFLICT (url) DO NOTHING
               RETURNING id""",
            params,
        ).fetchone()
        if row:
            return StoreResult(row["id"], is_new=True, changed=False)
        existing = conn.execute(
            "SELECT id, content_sha256 FROM articles WHERE url = %s FOR UPDATE", (article.url,)
        ).fetchone()
        changed = existing["content_sha256"] != params["sha"]
        conn.execute(
            """UPDATE articles SET
                   feed_entry_ids = ARRAY(SELECT DISTINCT unnest(feed_entry_ids || %(entry_ids)s)),
                   title = CASE WHEN %(changed)s THEN %(title)s ELSE title END,
                   text = CASE WHEN %(changed)s THEN %(text)s ELSE text END,
                   published_at = coalesce(published_at, %(published_at)s),
                   raw_page = CASE WHEN %(changed)s THEN %(raw_page)s ELSE raw_page END,
                   content_sha256 = %(sha)s,
                   contact_story = CASE WHEN %(changed)s THEN %(contact_story)s
                                        ELSE contact_story END,
                   call_status = CASE WHEN %(changed)s THEN %(call_status)s ELSE call_status END,
                   evidence = CASE WHEN %(changed)s THEN %(evidence)s ELSE evidence END,
                   classifier_version = CASE WHEN %(changed)s THEN %(classifier_version)s
                                             ELSE classifier_version END,
                   classified_at = CASE WHEN %(changed)s THEN now() ELSE classified_at END,
                   extractor_version = CASE WHEN %(changed)s THEN %(extractor_version)s
                                            ELSE extractor_version END,
                   confidence = CASE WHEN %(changed)s THEN %(confidence)s ELSE confidence END,
                   updated_at = CASE WHEN %(changed)s THEN now() ELSE updated_at END
               WHERE id = %(id)s""",
            {**params, "changed": changed, "id": existing["id"]},
        )
        return StoreResult(existing["id"], is_new=False, changed=changed)
