"""What `reprocess` reads and writes: stored pages in batches, an article's re-derived
fields, and the run's progress, committed with each batch so that a killed run goes on
where it stopped."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.types.json import Jsonb

from archive.store import content_fingerprint, decompress_page

# The fields an article's processing decides, as stored, in the order a summary lists them.
FIELDS = ("title", "text", "canonical_url", "published_at", "language", "authors",
          "site_name", "contact_story", "call_status", "evidence", "official_stance",
          "confidence")


@dataclass
class Selection:
    """Which stored articles a run takes. `stale` keeps only those an older extractor
    (stage extract) or classifier (stage classify) made; stories are always all."""

    stage: str  # "extract" | "classify" | "stories"
    since: datetime | None = None
    until: datetime | None = None  # exclusive
    outlets: tuple[str, ...] = ()
    stale: bool = True
    extractor_version: str = ""
    classifier_version: str = ""

    def key(self) -> dict:
        return {"stage": self.stage, "since": self.since and self.since.isoformat(),
                "until": self.until and self.until.isoformat(), "outlets": list(self.outlets),
                "stale": self.stale, "extractor": self.extractor_version,
                "classifier": self.classifier_version}

    def where(self) -> tuple[str, dict]:
        clauses = ["a.id > %(after)s"]
        params: dict = {"since": self.since, "until": self.until,
                        "outlets": [o.casefold() for o in self.outlets],
                        "extractor": self.extractor_version,
                        "classifier": self.classifier_version}
        if self.since is not None:
            clauses.append("coalesce(a.published_at, a.fetched_at) >= %(since)s")
        if self.until is not None:
            clauses.append("coalesce(a.published_at, a.fetched_at) < %(until)s")
        if self.outlets:
            clauses.append("lower(a.outlet) = ANY(%(outlets)s)")
        if self.stale and self.stage == "extract":
            clauses.append("(a.extractor_version IS DISTINCT FROM %(extractor)s "
                           "OR a.classifier_version IS DISTINCT FROM %(classifier)s)")
        elif self.stale and self.stage == "classify":
            clauses.append("a.classifier_version IS DISTINCT FROM %(classifier)s")
        return " AND ".join(clauses), params


@dataclass
class Run:
    id: int
    last_article_id: int
    counts: dict
    resumed: bool


def open_run(conn: psycopg.Connection, selection: Selection) -> Run:
    """The unfinished run of the same selection, to go on with, or a new one."""
    with conn.transaction():
        row = conn.execute(
            """SELECT id, last_article_id, counts FROM reprocess_runs
               WHERE finished_at IS NULL AND stage = %s AND selection = %s
               ORDER BY id DESC LIMIT 1 FOR UPDATE""",
            (selection.stage, Jsonb(selection.key())),
        ).fetchone()
        if row is not None:
            return Run(row["id"], row["last_article_id"], dict(row["counts"]), resumed=True)
        row = conn.execute(
            "INSERT INTO reprocess_runs (stage, selection) VALUES (%s, %s) RETURNING id",
            (selection.stage, Jsonb(selection.key())),
        ).fetchone()
        return Run(row["id"], 0, {}, resumed=False)


def advance_run(conn: psycopg.Connection, run: Run) -> None:
    conn.execute("UPDATE reprocess_runs SET last_article_id = %s, counts = %s, "
                 "updated_at = now() WHERE id = %s",
                 (run.last_article_id, Jsonb(run.counts), run.id))


def finish_run(conn: psycopg.Connection, run: Run) -> None:
    conn.execute("UPDATE reprocess_runs SET counts = %s, finished_at = now(), "
                 "updated_at = now() WHERE id = %s", (Jsonb(run.counts), run.id))


def count_selected(conn: psycopg.Connection, selection: Selection, after: int) -> int:
    where, params = selection.where()
    return conn.execute(f"SELECT count(*) AS n FROM articles a WHERE {where}",
                        {**params, "after": after}).fetchone()["n"]


def selected_batch(conn: psycopg.Connection, selection: Selection, after: int,
                   limit: int) -> list[dict]:
    """The next stored articles of the selection in id order, with their raw page
    decompressed (`page`: None when none was kept) and whether the outlet is official."""
    where, params = selection.where()
    rows = conn.execute(
        f"""SELECT a.id, a.url, a.outlet, a.source_id, a.http_status, a.content_type,
                   a.raw_page, a.feed_entry_ids, a.title, a.text, a.canonical_url,
                   a.published_at, a.language, a.authors, a.site_name, a.contact_story,
                   a.call_status, a.evidence, a.official_stance, a.confidence, o.official
            FROM articles a LEFT JOIN outlets o ON o.id = a.outlet_id
            WHERE {where} ORDER BY a.id LIMIT %(limit)s""",
        {**params, "after": after, "limit": limit},
    ).fetchall()
    for row in rows:
        blob = row.pop("raw_page")
        row["page"] = decompress_page(blob) if blob else None
    return rows


def update_article(conn: psycopg.Connection, row: dict, new: dict,
                   extractor_version: str | None, classifier_version: str) -> list[str]:
    """Write the re-derived fields of one article; return the names of those that
    changed. The raw page, the URL and the outlet are never touched."""
    changed = [name for name in FIELDS if name in new and new[name] != row.get(name)]
    values = {**{name: row.get(name) for name in FIELDS}, **new}
    conn.execute(
        """UPDATE articles SET title = %(title)s, text = %(text)s,
               canonical_url = %(canonical_url)s, published_at = %(published_at)s,
               language = %(language)s, authors = %(authors)s, site_name = %(site_name)s,
               contact_story = %(contact_story)s, call_status = %(call_status)s,
               evidence = %(evidence)s, official_stance = %(official_stance)s,
               confidence = %(confidence)s,
               content_sha256 = %(sha)s,
               extractor_version = coalesce(%(extractor)s, extractor_version),
               classifier_version = %(classifier)s, classified_at = now(),
               updated_at = CASE WHEN %(changed)s THEN now() ELSE updated_at END
           WHERE id = %(id)s""",
        {**values, "sha": content_fingerprint(values["title"], values["text"]),
         "extractor": extractor_version, "classifier": classifier_version,
         "changed": bool(changed), "id": row["id"]},
    )
    return changed


def story_statuses(conn: psycopg.Connection) -> dict[int, str]:
    return {r["id"]: r["status"] for r in conn.execute("SELECT id, status FROM stories")}


def stories_of(conn: psycopg.Connection, article_ids: list[int]) -> set[int]:
    rows = conn.execute("SELECT DISTINCT story_id FROM story_articles "
                        "WHERE article_id = ANY(%s)", (article_ids,)).fetchall()
    return {r["story_id"] for r in rows}


def last_event_id(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT coalesce(max(id), 0) AS n FROM story_events").fetchone()["n"]


def events_since(conn: psycopg.Connection, after: int) -> dict[str, int]:
    rows = conn.execute("SELECT kind, count(*) AS n FROM story_events WHERE id > %s "
                        "GROUP BY kind", (after,)).fetchall()
    return {r["kind"]: r["n"] for r in rows}
