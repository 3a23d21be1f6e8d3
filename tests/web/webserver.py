"""Helpers for the web tests: the app served by a real uvicorn on 127.0.0.1 (a free
port, in a thread), and lookups of ids in the crawled archive."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
import uvicorn
from conftest import ROOT
from psycopg.conninfo import make_conninfo

from archive.db import connect


@contextmanager
def running(app, sock: socket.socket | None = None) -> Iterator[str]:
    """Serve `app` until the block ends (on `sock` if given, bound but not listening);
    yields its base URL."""
    if sock is None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False,
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test web server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
ARTIFACTS = ROOT / "test-artifacts"  # screenshots, for a person to look at


@contextmanager
def chromium():
    """Debian's Chromium through Playwright (skips when either is absent)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent: install Debian's chromium "
                    "(scripts/ensure-chromium.sh, run by `make test`)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                             args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


@contextmanager
def empty_archive(pg_server: str) -> Iterator[str]:
    """A fresh, migrated, empty database on the test server, for a whole module."""
    name = f"t_web_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    url = make_conninfo(pg_server, dbname=name)
    try:
        connect(url).close()
        yield url
    finally:
        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def one(database_url: str, query: str, *params) -> dict | None:
    with psycopg.connect(database_url, autocommit=True,
                         row_factory=psycopg.rows.dict_row) as conn:
        return conn.execute(query, params).fetchone()


def article_id(archive, key: str) -> int:
    return one(archive.database_url, "SELECT id FROM articles WHERE url = %s",
               archive.urls[key])["id"]


def story_id(archive, key: str) -> int:
    return one(archive.database_url,
               "SELECT sa.story_id FROM story_articles sa JOIN articles a ON a.id = "
               "sa.article_id WHERE a.url = %s", archive.urls[key])["story_id"]


def article_count(database_url: str) -> int:
    return one(database_url, "SELECT count(*) AS n FROM articles")["n"]
