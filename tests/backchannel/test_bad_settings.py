"""Every bad setting stops the command before any work: one line naming what was wrong
and where, exit 2, no traceback, nothing polled (the newsroom's log stays empty) and
nothing changed (the database stays without a single table). Each case runs
`backchannel` as a user would, in a child process; the cases run a few at a time."""

from __future__ import annotations

import socket
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import psycopg
import pytest
from conftest import ROOT, run_cli
from newsroom import Newsroom, Route, rss_feed
from psycopg.conninfo import make_conninfo

SOURCES = ("allow_private_addresses = true\n\n[[outlets]]\nname = \"Case Wire\"\n"
           "feeds = [\"{feed}\"]\n")
DEEP = "a = " + "[" * 5000 + "]" * 5000 + "\n"
BINARY = b"\x89PNG\r\n\x1a\n\x00\x00\xff\xd8\xff\xe0binary"
DIRECTORY = object()  # a case's file that is a folder


@dataclass
class Case:
    id: str
    message: str
    env: dict[str, str] = field(default_factory=dict)
    config: str | bytes | object | None = None  # backchannel.toml (BACKCHANNEL_CONFIG)
    sources: str | bytes | object = SOURCES
    args: tuple[str, ...] = ("crawl", "--sources", "{sources}")
    status: int = 2


CASES = [
    # the environment
    Case("health-port", "BACKCHANNEL_HEALTH_PORT: must be a whole number from 1 to 65535, "
         "not '99999'", env={"BACKCHANNEL_HEALTH_PORT": "99999"}),
    Case("log-level", "BACKCHANNEL_LOG_LEVEL: must be one of DEBUG, INFO, WARNING, ERROR, "
         "CRITICAL, not 'LOUD'", env={"BACKCHANNEL_LOG_LEVEL": "LOUD"}),
    Case("log-level-show", "BACKCHANNEL_LOG_LEVEL: must be one of",
         env={"BACKCHANNEL_LOG_LEVEL": "LOUD"}, args=("stories",)),
    Case("per-domain", "BACKCHANNEL_CONCURRENT_REQUESTS_PER_DOMAIN: must be a whole number "
         "of at least 1, not '-1'", env={"BACKCHANNEL_CONCURRENT_REQUESTS_PER_DOMAIN": "-1"}),
    Case("timeout-negative", "BACKCHANNEL_DOWNLOAD_TIMEOUT: must be a number above 0, "
         "not '-5'", env={"BACKCHANNEL_DOWNLOAD_TIMEOUT": "-5"}),
    Case("timeout-nan", "BACKCHANNEL_DOWNLOAD_TIMEOUT: must be a number above 0, not 'nan'",
         env={"BACKCHANNEL_DOWNLOAD_TIMEOUT": "nan"}),
    Case("timeout-zero", "BACKCHANNEL_DOWNLOAD_TIMEOUT: must be a number above 0, not '0'",
         env={"BACKCHANNEL_DOWNLOAD_TIMEOUT": "0"}),
    Case("page-bytes", "BACKCHANNEL_MAX_PAGE_BYTES: must be a whole number of at least 1, "
         "not '-1'", env={"BACKCHANNEL_MAX_PAGE_BYTES": "-1"}),
    Case("retries", "BACKCHANNEL_RETRY_TIMES: must be a whole number of at least 0, "
         "not '-3'", env={"BACKCHANNEL_RETRY_TIMES": "-3"}),
    Case("attempts", "BACKCHANNEL_ALERT_ATTEMPTS: must be a whole number of at least 1, "
         "not '-1'", env={"BACKCHANNEL_ALERT_ATTEMPTS": "-1"}),
    Case("interval", "BACKCHANNEL_DEFAULT_INTERVAL_MINUTES: must be a number from 0.01",
         env={"BACKCHANNEL_DEFAULT_INTERVAL_MINUTES": "-5"}),
    Case("home-file", "BACKCHANNEL_HOME: {dir}/a-file is not a directory",
         env={"BACKCHANNEL_HOME": "{dir}/a-file"}),
    # the configuration file
    Case("config-key", "backchannel.toml:2: `smtp_ulr`: unknown key; did you mean "
         "`smtp_url`?", config='retry_times = 1\nsmtp_ulr = "smtp://127.0.0.1:9"\n'),
    Case("config-bool", "backchannel.toml:1: `download_timeout` must be a number above 0, "
         "not true", config="download_timeout = true\n"),
    Case("config-table", "backchannel.toml:1: `alert_rule`: unknown table; did you mean "
         "`alert_rules`?", config='[[alert_rule]]\nname = "desk"\n'),
    Case("config-binary", "backchannel.toml: not a text file (not UTF-8) (configuration "
         "file, BACKCHANNEL_CONFIG)", config=BINARY),
    Case("config-folder", "backchannel.toml: is a directory, not a TOML file",
         config=DIRECTORY),
    Case("config-deep", "backchannel.toml: not valid TOML: nested too deeply", config=DEEP),
    # the sources file
    Case("sources-key", "sources.toml:1: `allow_private_adresses`: unknown key; did you "
         "mean `allow_private_addresses`?",
         sources="allow_private_adresses = true\n" + SOURCES.split("\n", 1)[1]),
    Case("sources-table", "sources.toml:3: `outlet`: unknown table; did you mean `outlets`?",
         sources=SOURCES.replace("[[outlets]]", "[[outlet]]")),
    Case("sources-empty", "sources.toml: no [[outlets]] or [[searches]] tables: nothing to "
         "watch", sources=""),
    Case("official", "sources.toml:3: outlet 'Case Wire': official must be one of ru, us "
         "(the government whose word it is), not 'russia'",
         sources=SOURCES + 'official = "russia"\n'),
    Case("feed-twice", "sources.toml:7: outlet 'Other Wire': feeds: {feed} is listed "
         "already, under outlet 'Case Wire'; list it once",
         sources=SOURCES + '\n[[outlets]]\nname = "Other Wire"\nfeeds = ["{feed}"]\n'),
    Case("no-source", "sources.toml:7: outlet 'Bare Wire': no source: list its feeds, "
         "sitemaps or sections",
         sources=SOURCES + '\n[[outlets]]\nname = "Bare Wire"\ndomains = ["bare.example"]\n'),
    Case("case-names", "sources.toml:7: outlet 'CASE WIRE': 'Case Wire' (line 3) is the "
         "same outlet (names differ only in case); name it once",
         sources=SOURCES + '\n[[outlets]]\nname = "CASE WIRE"\nfeeds = ["{feed}x"]\n'),
    Case("newline-name", "sources.toml:3: outlet #1: `name` must not hold control "
         "characters (found '\\n')",
         sources=SOURCES.replace("Case Wire", "Case Wire\\nFAILED Forged: 0 articles")),
    Case("ansi-name", "must not hold control characters (found '\\x1b')",
         sources=SOURCES.replace("Case Wire", "Case \\u001b[2KWire")),
    Case("sources-folder", "{dir}/sources.toml: is a directory, not a TOML file (sources "
         "file)", sources=DIRECTORY),
    Case("sources-deep", "sources.toml: not valid TOML: nested too deeply", sources=DEEP),
    Case("cues-binary", "backchannel classify: cannot read cue file {dir}/cues.toml: not a "
         "text file (not UTF-8)", args=("classify", "--cues", "{dir}/cues.toml",
                                        "{dir}/items.jsonl")),
    # a warning only: the command goes on
    Case("unknown-variable", "backchannel: warning: BACKCHANNEL_SMPT_URL: unknown variable, "
         "ignored; did you mean BACKCHANNEL_SMTP_URL?", env={"BACKCHANNEL_SMPT_URL": "x"},
         args=("sources", "list", "--sources", "{sources}"), status=0),
]


def fresh_database(server: str) -> str:
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    return make_conninfo(server, dbname=name)


def drop_database(server: str, url: str) -> None:
    name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def tables(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
                            ).fetchone()[0]


def write(path, content) -> None:
    if content is DIRECTORY:
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")


@pytest.fixture(scope="module")
def outcomes(pg_server, tmp_path_factory):
    """Every case run once, a few at a time; the newsroom's log and a database that no
    case may touch, and a control crawl (a good file) that polls and writes."""
    import os

    room = Newsroom()
    site = room.site("Case Wire")
    site.routes["/control/rss.xml"] = Route(rss_feed("Control", site.url("/"), []),
                                            content_type="application/rss+xml")
    untouched, control_db = fresh_database(pg_server), fresh_database(pg_server)
    base = {k: v for k, v in os.environ.items() if not k.startswith("BACKCHANNEL_")}
    base.update(BACKCHANNEL_DOWNLOAD_DELAY="0", BACKCHANNEL_DOWNLOAD_TIMEOUT="15",
                BACKCHANNEL_RETRY_TIMES="1", PYTHONUNBUFFERED="1")

    root = tmp_path_factory.mktemp("cases")  # one folder each, made here: not thread-safe

    def run(case: Case | None) -> subprocess.CompletedProcess:
        name = case.id if case else "control"
        folder = root / name
        folder.mkdir()
        feed = site.url(f"/{name}/rss.xml")
        fill = {"dir": str(folder), "feed": feed, "sources": str(folder / "sources.toml")}
        sources = SOURCES if case is None else case.sources
        write(folder / "sources.toml", sources.format(**fill) if isinstance(sources, str)
              else sources)
        write(folder / "cues.toml", BINARY)
        write(folder / "items.jsonl", '{"id": 1, "title": "t", "text": "x"}\n')
        write(folder / "a-file", "a file")
        env = {**base, "BACKCHANNEL_HOME": str(folder / "home"),
               "BACKCHANNEL_DATABASE_URL": untouched if case else control_db}
        if case is not None:
            env.update({k: v.format(**fill) for k, v in case.env.items()})
            if case.config is not None:
                write(folder / "backchannel.toml", case.config)
                env["BACKCHANNEL_CONFIG"] = str(folder / "backchannel.toml")
        args = case.args if case else ("crawl", "--sources", "{sources}")
        result = subprocess.run([sys.executable, "-m", "backchannel",
                                 *(a.format(**fill) for a in args)],
                                env=env, capture_output=True, text=True, timeout=180,
                                cwd=ROOT)
        result.fill = fill
        return result

    with ThreadPoolExecutor(max_workers=3) as pool:
        results = dict(zip([c.id for c in CASES] + ["control"],
                           pool.map(run, [*CASES, None]), strict=True))
    yield results, room, untouched, control_db
    room.close()
    for url in (untouched, control_db):
        drop_database(pg_server, url)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_bad_setting_stops_before_any_work(outcomes, case):
    results, room, untouched, _ = outcomes
    result = results[case.id]
    message = case.message.format(**result.fill)
    assert result.returncode == case.status, result.stderr[-2000:]
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr  # one line
    assert room.requests(path_prefix=f"/{case.id}/") == []  # nothing polled
    assert tables(untouched) == 0  # nothing changed: not even a migration


def test_the_same_file_without_the_mistake_is_polled_and_stored(outcomes):
    """The control: what the cases above would have done, seen by the same checks."""
    results, room, _, control_db = outcomes
    result = results["control"]
    assert result.returncode == 0, result.stderr[-2000:]
    assert [r.path for r in room.requests(path_prefix="/control/")] == ["/control/rss.xml"]
    assert tables(control_db) > 0


def test_a_taken_port_names_the_address_and_the_setting(cli_env, tmp_path):
    room = Newsroom()
    site = room.site("Case Wire")
    sources = tmp_path / "sources.toml"
    sources.write_text(SOURCES.format(feed=site.url("/busy/rss.xml")), encoding="utf-8")
    try:
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            port = busy.getsockname()[1]
            ran = run_cli(["run", "--sources", str(sources), "--max-passes", "1"],
                          {**cli_env, "BACKCHANNEL_HEALTH_PORT": str(port)})
            served = run_cli(["serve", "--port", str(port)], cli_env)
        assert ran.returncode == 2, ran.stderr[-2000:]
        assert (f"backchannel run: cannot listen on 127.0.0.1:{port} for /healthz and "
                "/metrics: the address is in use (health_host and health_port; the port "
                "from BACKCHANNEL_HEALTH_PORT)") in ran.stderr
        assert room.requests() == []  # no pass began
        assert served.returncode == 1, served.stderr[-2000:]
        assert (f"cannot listen on 127.0.0.1:{port} (chosen by --host and --port; the port "
                "defaults to 8080): Address already in use") in served.stderr
        assert "Traceback" not in ran.stderr + served.stderr
    finally:
        room.close()


def test_show_with_an_enormous_id_is_no_such_article(cli_env):
    shown = run_cli(["show", "9" * 5000], cli_env)
    assert shown.returncode == 1, shown.stderr[-2000:]
    assert "backchannel show: no article 999" in shown.stderr
    assert "Traceback" not in shown.stderr


def test_credentials_in_a_feed_url_are_never_printed(cli_env, db, tmp_path):
    room = Newsroom()
    site = room.site("Paid Wire")
    site.routes["/paid/rss.xml"] = Route(b"down for maintenance", status=500)
    feed = site.url("/paid/rss.xml").replace("http://", "http://reader:s3cr3t-pw@")
    sources = tmp_path / "sources.toml"
    sources.write_text(SOURCES.replace("Case Wire", "Paid Wire").format(feed=feed),
                       encoding="utf-8")
    env = {**cli_env, "BACKCHANNEL_RETRY_TIMES": "0"}
    try:
        listed = run_cli(["sources", "list", "--sources", str(sources)], env)
        crawled = run_cli(["crawl", "--sources", str(sources)], env)
    finally:
        room.close()
    assert listed.returncode == 0, listed.stderr[-2000:]
    assert "http://***@127.0.0.1:" in listed.stdout
    assert crawled.returncode == 1, crawled.stderr[-2000:]
    assert "FAILED Paid Wire: http://***@127.0.0.1:" in crawled.stderr
    for output in (listed.stdout, listed.stderr, crawled.stdout, crawled.stderr):
        assert "s3cr3t-pw" not in output
    [row] = db.execute("SELECT url, last_error FROM sources").fetchall()
    assert "s3cr3t-pw" not in row["last_error"]
    assert row["url"] == feed  # kept as written: the crawl fetches with it
