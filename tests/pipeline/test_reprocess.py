"""`backchannel reprocess` end to end: an archive as an older extractor, classifier and
grouping left it is brought to what a fresh crawl gives; a run killed mid-way finishes
with the same result when started again; a second run changes nothing."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import psycopg
import pytest
from conftest import ROOT, crawl_invented_archive, run_cli, run_on_terminal
from newsroom import SEED_LAYOUT
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row

from archive.db import connect


@pytest.fixture
def crawled(cli_env, db, tmp_path, seeds_dir):
    """The invented reports and the seeds, crawled fresh."""
    crawl_invented_archive(cli_env, tmp_path)
    return db


def state(db) -> dict:
    """What a user sees of the archive: each article's fields and the stories as sets
    of URLs with their status and copy marks (ids and times aside)."""
    articles = {r["url"]: r for r in db.execute(
        "SELECT url, title, text, published_at, language, contact_story, call_status, "
        "evidence, official_stance FROM articles")}
    stories = set()
    for row in db.execute(
            "SELECT s.status, array_agg(a.url ORDER BY a.url) AS urls, "
            "array_agg(coalesce(o.url, '') ORDER BY a.url) AS copies FROM stories s "
            "JOIN story_articles sa ON sa.story_id = s.id "
            "JOIN articles a ON a.id = sa.article_id "
            "LEFT JOIN articles o ON o.id = sa.is_copy_of GROUP BY s.id, s.status"):
        stories.add((row["status"], tuple(row["urls"]), tuple(row["copies"])))
    return {"articles": articles, "stories": stories}


def make_old(db) -> None:
    """The archive as an older version left it: cut texts, no titles, every article
    labelled `none`, all of it lumped into one story, no version marks."""
    db.execute("UPDATE articles SET text = left(text, 300), title = NULL, "
               "contact_story = false, call_status = 'none', evidence = NULL, "
               "official_stance = NULL, classifier_version = 'rules-1+cues-1', "
               "extractor_version = NULL")
    db.execute("DELETE FROM story_articles")
    db.execute("DELETE FROM stories")
    db.execute("DELETE FROM article_signatures")
    story = db.execute("INSERT INTO stories (title, status) VALUES ('old', 'unconfirmed') "
                       "RETURNING id").fetchone()["id"]
    db.execute("INSERT INTO story_articles (story_id, article_id, outlet) "
               "SELECT %s, id, outlet FROM articles", (story,))


def test_reprocess_gives_what_a_fresh_crawl_gives_and_then_nothing(crawled, cli_env):
    fresh = state(crawled)
    assert len(fresh["stories"]) >= 3  # the seeds' two stories and the invented ones
    make_old(crawled)
    assert state(crawled) != fresh
    result = run_cli(["reprocess"], cli_env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert state(crawled) == fresh
    out = result.stdout
    n = len(fresh["articles"])
    assert f"reprocessed {n} articles from the extract stage; {n} changed" in out
    assert "call status: none → unconfirmed" in out
    # the lumped story was taken apart: articles moved out of it or it was split
    moved = crawled.execute("SELECT count(*) AS n FROM story_events "
                            "WHERE kind IN ('move', 'split')").fetchone()["n"]
    assert moved >= len(fresh["stories"]) - 1, out
    again = run_cli(["reprocess"], cli_env)
    assert again.returncode == 0 and "reprocessed 0 articles" in again.stdout
    events = crawled.execute("SELECT count(*) AS n FROM story_events").fetchone()["n"]
    every = run_cli(["reprocess", "--all"], cli_env)
    assert every.returncode == 0, every.stderr[-3000:]
    assert f"reprocessed {n} articles from the extract stage; 0 changed" in every.stdout
    assert state(crawled) == fresh
    assert crawled.execute("SELECT count(*) AS n FROM story_events").fetchone()["n"] == events


def test_filters_and_the_stories_stage(crawled, cli_env):
    outlet = SEED_LAYOUT[0].outlet
    crawled.execute("UPDATE articles SET classifier_version = 'old'")
    one = run_cli(["reprocess", "--stage", "classify", "--outlet", outlet.upper()], cli_env)
    assert one.returncode == 0, one.stderr[-3000:]
    assert "reprocessed 2 articles from the classify stage" in one.stdout
    dated = run_cli(["reprocess", "--stage", "classify", "--since", "2025-03-23",
                     "--until", "2025-03-23"], cli_env)
    # the Finance Wire seed and the Kabul Times markets page of the day before its seed
    assert "reprocessed 2 articles from the classify stage" in dated.stdout
    bad = run_cli(["reprocess", "--since", "yesterday"], cli_env)
    assert bad.returncode == 2 and "--since" in bad.stderr and "Traceback" not in bad.stderr
    stories = run_cli(["reprocess", "--stage", "stories"], cli_env)
    assert stories.returncode == 0 and "0 merged, 0 split" in stories.stdout


def copy_database(source_url: str, name: str) -> str:
    with psycopg.connect(source_url) as conn:
        source = conn.info.dbname
    admin = make_conninfo(source_url, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
    return make_conninfo(source_url, dbname=name)


def test_a_killed_run_goes_on_where_it_stopped(crawled, cli_env, database_url):
    # enough stored pages that a run takes seconds: copies of the markets page
    crawled.execute(
        "INSERT INTO articles (url, outlet_id, outlet, title, text, raw_page, content_type, "
        "content_sha256, published_at) SELECT a.url || '?copy=' || g, a.outlet_id, a.outlet, "
        "a.title, a.text, a.raw_page, a.content_type, a.content_sha256, a.published_at "
        "FROM articles a, generate_series(1, 150) g WHERE a.url LIKE '%%markets-update%%' "
        "AND a.outlet = %s", (SEED_LAYOUT[0].outlet,))
    make_old(crawled)
    name = crawled.info.dbname
    crawled.close()  # a template database must have no other session
    twin_url = copy_database(database_url, f"{name}_twin")
    twin_env = {**cli_env, "BACKCHANNEL_DATABASE_URL": twin_url}
    crawled = connect(database_url)
    try:
        whole = run_cli(["reprocess", "--batch-size", "10"], twin_env, timeout=300)
        assert whole.returncode == 0, whole.stderr[-3000:]
        child = subprocess.Popen([sys.executable, "-m", "backchannel", "reprocess",
                                  "--batch-size", "10"], env=cli_env, cwd=ROOT,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        done = 0
        while time.monotonic() < deadline and child.poll() is None:
            row = crawled.execute("SELECT last_article_id FROM reprocess_runs").fetchone()
            done = row["last_article_id"] if row else 0
            if done:
                break
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
        child.communicate()
        assert done, "the run finished before it could be killed"
        unfinished = crawled.execute("SELECT count(*) AS n FROM reprocess_runs "
                                     "WHERE finished_at IS NULL").fetchone()["n"]
        assert unfinished == 1
        resumed = run_cli(["reprocess", "--batch-size", "10"], cli_env, timeout=300)
        assert resumed.returncode == 0, resumed.stderr[-3000:]
        assert "resumed after an interrupted run" in resumed.stdout
        total = crawled.execute("SELECT count(*) AS n FROM articles").fetchone()["n"]
        assert f"reprocessed {total} articles" in resumed.stdout
        with psycopg.connect(twin_url, row_factory=dict_row) as twin:
            assert state(crawled) == state(twin)
        again = run_cli(["reprocess"], cli_env)
        assert "reprocessed 0 articles" in again.stdout
    finally:
        admin = make_conninfo(database_url, dbname="postgres")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}_twin" WITH (FORCE)')
        crawled.close()


def test_on_a_terminal_reprocess_shows_a_progress_bar(crawled, cli_env):
    code, text = run_on_terminal(["reprocess", "--all", "--batch-size", "2"], cli_env)
    n = crawled.execute("SELECT count(*) AS n FROM articles").fetchone()["n"]
    assert code == 0, text[-2000:]
    assert f"{n}/{n}" in text and "extract" in text  # the bar, drawn on the terminal…
    assert f"reprocessed {n} articles from the extract stage" in text  # …then the summary
