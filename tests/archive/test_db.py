"""The archive's database: embedded servers, migrations, and the article store."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from conftest import run_cli

from archive.db import connect, migrate, migrations
from archive.embedded import (
    find_postgres_bindir,
    stop_system_server,
    system_server_url,
)
from archive.store import ArticleRecord, decompress_page, record_poll, store_article, sync_sources
from crawler.sources import parse_sources


def test_init_is_idempotent_and_reports_the_version(cli_env, database_url):
    first = run_cli(["init"], cli_env)
    assert first.returncode == 0, first.stderr
    assert "migrated to version" in first.stdout
    second = run_cli(["init"], cli_env)
    assert second.returncode == 0 and "up to date" in second.stdout
    with psycopg.connect(database_url) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations")]
    assert versions == [m[0] for m in migrations()]


def test_concurrent_migrations_apply_each_version_once(database_url):
    errors: list[Exception] = []

    def run() -> None:
        try:
            conn = connect(database_url, migrate_now=False)
            migrate(conn)
            conn.close()
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with psycopg.connect(database_url) as conn:
        count = conn.execute("SELECT count(*) FROM schema_migrations").fetchone()[0]
    assert count == len(migrations())


def test_unreachable_server_gives_a_clear_error_without_the_password(cli_env):
    env = {**cli_env, "BACKCHANNEL_DATABASE_URL":
           "postgresql://bob:s3cret@127.0.0.1:1/none?connect_timeout=2"}
    result = run_cli(["init"], env)
    assert result.returncode != 0
    assert "cannot connect to PostgreSQL" in result.stderr
    assert "s3cret" not in result.stderr


def article(url="https://news.example.org/a", text="Some words " * 50, title="T"):
    return ArticleRecord(url=url, outlet="Example", title=title, text=text,
                         raw_page=b"<html>" + text.encode() + b"</html>")


def test_store_reports_new_unchanged_and_changed(db):
    first = store_article(db, article())
    assert first.is_new and not first.changed
    again = store_article(db, article(text="Some   WORDS " * 50))  # whitespace and case only
    assert not again.is_new and not again.changed and again.article_id == first.article_id
    edited = store_article(db, article(text="Other words " * 50))
    assert not edited.is_new and edited.changed
    row = db.execute("SELECT text, raw_page FROM articles").fetchone()
    assert row["text"].startswith("Other words")
    assert decompress_page(row["raw_page"]).startswith(b"<html>Other")


def test_store_inside_a_transaction_is_part_of_it(db):
    """Within the caller's transaction (the crawl's article, story and alerts) the
    article and its new outlet are made in one statement and share the transaction's
    fate: nothing of them stays when it rolls back, both when it commits."""
    with pytest.raises(RuntimeError), db.transaction():
        store_article(db, article())
        raise RuntimeError("the story could not be stored")
    assert db.execute("SELECT count(*) AS n FROM articles").fetchone()["n"] == 0
    assert db.execute("SELECT count(*) AS n FROM outlets").fetchone()["n"] == 0
    with db.transaction():
        first = store_article(db, article())
        second = store_article(db, article(url="https://news.example.org/b"))
    rows = db.execute("SELECT a.id, o.name FROM articles a JOIN outlets o "
                      "ON o.id = a.outlet_id ORDER BY a.id").fetchall()
    assert [(r["id"], r["name"]) for r in rows] == [(first.article_id, "Example"),
                                                    (second.article_id, "Example")]


def test_full_text_index_finds_stemmed_words(db):
    store_article(db, ArticleRecord(url="https://x.example/1", outlet="X", language="en",
                                    title="Kremlin declines to confirm call",
                                    text="The spokesman declined to confirm the calls."))
    hits = db.execute("SELECT url FROM articles WHERE search @@ "
                      "websearch_to_tsquery('english', 'confirming call')").fetchall()
    assert [h["url"] for h in hits] == ["https://x.example/1"]


def test_failing_source_backs_off_and_recovers(db):
    sources = parse_sources({"outlets": [{"name": "X", "feeds": ["https://x.example/rss"],
                                          "interval_minutes": 5}]}, "test")
    state = sync_sources(db, sources)["https://x.example/rss"]
    now = datetime(2025, 1, 1, tzinfo=UTC)
    delays = []
    for _ in range(3):
        record_poll(db, state.id, ok=False, status=500, error="HTTP 500", now=now)
        row = db.execute("SELECT next_poll_at, consecutive_failures FROM sources").fetchone()
        delays.append(row["next_poll_at"] - now)
    assert delays == [timedelta(minutes=5), timedelta(minutes=10), timedelta(minutes=20)]
    record_poll(db, state.id, ok=True, status=200, etag='"v2"', now=now)
    row = db.execute("SELECT * FROM sources").fetchone()
    assert row["consecutive_failures"] == 0 and row["last_error"] is None
    assert row["etag"] == '"v2"' and row["next_poll_at"] - now == timedelta(minutes=5)


def test_embedded_database_is_created_and_reused_without_configuration(cli_env, outside_tmp):
    pytest.importorskip("pgserver", reason="no pgserver wheel for this platform")
    env = {k: v for k, v in cli_env.items() if k != "BACKCHANNEL_DATABASE_URL"}
    env["BACKCHANNEL_HOME"] = str(outside_tmp / "home")
    first = run_cli(["init"], env)
    assert first.returncode == 0, first.stderr[-2000:]
    assert "migrated to version" in first.stdout
    assert (outside_tmp / "home" / "postgres" / "pgserver" / "PG_VERSION").exists()
    second = run_cli(["init"], env)  # the same data directory, already migrated
    assert second.returncode == 0 and "up to date" in second.stdout


def test_system_postgres_fallback_starts_a_private_server(outside_tmp):
    if find_postgres_bindir() is None:
        pytest.skip("no PostgreSQL binaries (initdb, pg_ctl) on this machine")
    base = outside_tmp / "system"
    try:
        url = system_server_url(base)
        with psycopg.connect(url) as conn:
            assert conn.execute("SHOW listen_addresses").fetchone() == ("",)
        assert system_server_url(base) == url  # already running: reused
    finally:
        stop_system_server(base)
