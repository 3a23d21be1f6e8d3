"""Shared fixtures: a real PostgreSQL server (one per test session, a fresh database
per test), the shared reference data, and a way to run the `backchannel` command."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("BACKCHANNEL_SHARED", ROOT.parent / "shared"))
SEEDS = SHARED / "seeds"


@pytest.fixture(scope="session")
def pg_server() -> str:
    """URL of a PostgreSQL server: BACKCHANNEL_TEST_DATABASE_URL, or our embedded one.
    Its data lives outside pytest's temp root: a new pytest session resets that root to
    mode 0700, which would lock out the server's own user mid-run."""
    url = os.environ.get("BACKCHANNEL_TEST_DATABASE_URL")
    if url:
        yield url
        return
    from archive.embedded import embedded_database_url

    data = Path(tempfile.mkdtemp(prefix="backchannel-test-pg-"))
    yield embedded_database_url(data)
    shutil.rmtree(data, ignore_errors=True)


@pytest.fixture
def outside_tmp() -> Path:
    """A temporary folder outside pytest's temp root, for servers run as another user."""
    path = Path(tempfile.mkdtemp(prefix="backchannel-test-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def database_url(pg_server) -> str:
    """A fresh, empty database for one test, dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    yield make_conninfo(pg_server, dbname=name)
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def db(database_url):
    """An autocommit connection (dict rows) to a migrated, empty archive."""
    from archive.db import connect

    conn = connect(database_url)
    yield conn
    conn.close()


@pytest.fixture
def seeds_dir() -> Path:
    if not SEEDS.is_dir() or not any(SEEDS.glob("*.txt")):
        pytest.skip(f"seed documents not found in {SEEDS} (the shared/ folder is absent)")
    return SEEDS


@pytest.fixture
def cli_env(database_url, tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKCHANNEL_")}
    env.update(
        BACKCHANNEL_DATABASE_URL=database_url,
        BACKCHANNEL_HOME=str(tmp_path / "home"),
        BACKCHANNEL_ALLOW_PRIVATE_ADDRESSES="0",
        BACKCHANNEL_DOWNLOAD_DELAY="0",
        # loopback answers in milliseconds; the margin is for a loaded machine, where a
        # robots.txt timing out would read as "allow all" (Scrapy's rule)
        BACKCHANNEL_DOWNLOAD_TIMEOUT="15",
        BACKCHANNEL_RETRY_TIMES="1",
        PYTHONUNBUFFERED="1",
    )
    return env


def run_cli(args: list[str], env: dict[str, str], input: str | None = None,
            timeout: float = 180) -> subprocess.CompletedProcess:
    """Run `backchannel ARGS` as a user would, in a child process."""
    return subprocess.run(
        [sys.executable, "-m", "backchannel", *args],
        env=env, input=input, capture_output=True, text=True, timeout=timeout, cwd=ROOT,
    )


def run_on_terminal(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run `backchannel ARGS` with a pseudo-terminal for stdout and stderr, as a person
    at a terminal would; (exit status, everything it wrote)."""
    import pty

    pid, fd = pty.fork()
    if pid == 0:  # the child
        os.chdir(ROOT)
        os.execve(sys.executable, [sys.executable, "-m", "backchannel", *args], env)
    output = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), output.decode("utf-8", "replace")


@pytest.fixture
def smtp():
    """A real SMTP server on loopback (aiosmtpd) that records what it accepts."""
    from receivers import SmtpReceiver

    server = SmtpReceiver()
    yield server
    server.close()


@pytest.fixture
def http_receiver():
    """A loopback HTTP server standing in for Slack and a JSON webhook."""
    from receivers import HttpReceiver

    server = HttpReceiver()
    yield server
    server.close()


class CrawledArchive:
    """A database filled by `backchannel crawl` from the test newsroom."""

    def __init__(self, database_url: str, urls: dict[str, str], env: dict[str, str]) -> None:
        self.database_url = database_url
        self.urls = urls  # report key (or seed number) → article URL
        self.env = env  # for run_cli: points at this database


def crawl_invented_archive(env: dict[str, str], folder: Path) -> dict[str, str]:
    """`backchannel crawl` of our invented reports (tests/newsroom.py ARCHIVE_REPORTS)
    and, when ../shared is there, the five seeds; returns report key → article URL."""
    from newsroom import SEED_LAYOUT, Newsroom, feed_path, publish_archive, publish_seeds

    room = Newsroom()
    try:
        urls = publish_archive(room)
        feeds = {outlet: ["/rss.xml"] for outlet in room.sites}
        if SEEDS.is_dir() and any(SEEDS.glob("*.txt")):
            urls.update(publish_seeds(room, SEEDS))
            feeds.update({s.outlet: [feed_path(s)] for s in SEED_LAYOUT})
        sources = folder / "sources.toml"
        sources.write_text(room.sources_toml(feeds), encoding="utf-8")
        result = run_cli(["crawl", "--sources", str(sources)], env)
        assert result.returncode == 0, result.stderr[-3000:]
    finally:
        room.close()
    return urls


@pytest.fixture(scope="module")
def crawled_archive(pg_server, tmp_path_factory) -> CrawledArchive:
    """Our invented reports (tests/newsroom.py ARCHIVE_REPORTS) and, when ../shared is
    there, the five seeds, crawled once for the whole module. Read-only for tests."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    url = make_conninfo(pg_server, dbname=name)
    tmp = tmp_path_factory.mktemp("archive")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKCHANNEL_")}
    env.update(BACKCHANNEL_DATABASE_URL=url, BACKCHANNEL_HOME=str(tmp / "home"),
               BACKCHANNEL_DOWNLOAD_DELAY="0", BACKCHANNEL_DOWNLOAD_TIMEOUT="15",
               PYTHONUNBUFFERED="1")
    urls = crawl_invented_archive(env, tmp)
    yield CrawledArchive(url, urls, env)
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
