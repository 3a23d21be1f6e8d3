"""Bad input during a crawl: each fault gets a clear reason, the pass goes on, and
nothing already stored is lost."""

from __future__ import annotations

import time
from datetime import datetime

import pytest
from conftest import run_cli
from newsroom import Newsroom, Route, article_html, rss_feed

WHEN = datetime.fromisoformat("2025-03-01T10:00:00+00:00")

ENGLISH = [
    "The city council met on Tuesday evening to debate a new plan for the harbour district, "
    "where warehouses have stood empty for a decade and residents want parks and housing.",
    "Supporters said the plan would bring hundreds of jobs and open the waterfront to the "
    "public, while critics warned that rents in the neighbouring streets would rise sharply.",
    "A final vote is expected next month after a round of public hearings in every ward.",
]
RUSSIAN = [
    "Городской совет во вторник вечером обсуждал новый план развития портового района, где "
    "склады пустуют уже десять лет, а жители хотят видеть парки и новое жильё для семей.",
    "Сторонники плана заявили, что он принесёт сотни рабочих мест и откроет набережную для "
    "горожан, а критики предупредили, что аренда на соседних улицах заметно вырастет.",
    "Окончательное голосование ожидается в следующем месяце после общественных слушаний.",
]


def page(site, path, title, paragraphs, **kw) -> str:
    url = site.url(path)
    site.routes[path] = Route(article_html(title, paragraphs, WHEN, "Desk", site.name, url), **kw)
    return url


def feed(site, path, links, body=None) -> None:
    items = [{"title": f"Item {i}", "link": link, "guid": f"g{i}", "published": WHEN}
             for i, link in enumerate(links)]
    site.routes[path] = Route(body or rss_feed(site.name, site.base, items),
                              content_type="application/rss+xml", conditional=True)


@pytest.fixture
def newsroom():
    room = Newsroom()
    yield room
    room.close()


def slow(handler) -> None:
    time.sleep(4)
    try:
        handler.send_response(200)
        handler.end_headers()
    except OSError:
        pass


def test_faulty_sources_are_reported_and_good_work_is_kept(newsroom, cli_env, db, tmp_path):
    good = newsroom.site("Good Outlet")
    harbour = page(good, "/city/harbour.html", "Harbour plan debated", ENGLISH)
    feed(good, "/rss.xml", [harbour])
    sources = tmp_path / "sources.toml"
    sources.write_text(newsroom.sources_toml({"Good Outlet": ["/rss.xml"]}))
    assert run_cli(["crawl", "--sources", str(sources)], cli_env).returncode == 0

    bad = newsroom.site("Faulty Outlet")
    listed = page(bad, "/ok.html", "Harbour plan, second report", ENGLISH[::-1])
    # a malformed feed (unescaped &, unclosed channel) whose entry still counts
    bad.routes["/malformed.xml"] = Route(
        f"<rss version='2.0'><channel><title>A & B</title><item><title>x</title>"
        f"<link>{listed}</link></item>".encode(), content_type="application/rss+xml")
    bad.routes["/html-feed.xml"] = Route(b"<html><body><h1>Our feeds</h1></body></html>")
    bad.routes["/gone.xml"] = Route(b"gone", status=410, content_type="text/plain")
    bad.routes["/broken.xml"] = Route(b"oops", status=500, content_type="text/plain")
    bad.routes["/slow.xml"] = Route(handler=slow)
    bad.routes["/loop-a"] = Route(status=302, headers={"Location": "/loop-b"})
    bad.routes["/loop-b"] = Route(status=302, headers={"Location": "/loop-a"})
    huge = page(bad, "/huge.html", "Huge", ENGLISH * 4000)
    empty = page(bad, "/empty.html", "Nothing here", ["Share this page."])
    binary = bad.url("/file.html")
    bad.routes["/file.html"] = Route(bytes(range(256)) * 64, content_type="application/pdf")
    cp1251 = bad.url("/ru.html")
    bad.routes["/ru.html"] = Route(
        article_html("Совет обсудил план", RUSSIAN, WHEN, "Редакция", bad.name, cp1251)
        .replace(b'<meta charset="utf-8">', b"").replace(b'lang="en"', b'lang="ru"')
        .decode().encode("cp1251"),
        content_type="text/html")  # no charset anywhere
    latin = bad.url("/latin.html")
    bad.routes["/latin.html"] = Route(
        article_html("Café débat sur le port", [p.replace("harbour", "café harbour")
                                               for p in ENGLISH], WHEN, "Desk", bad.name, latin)
        .decode().encode("latin-1"), content_type="text/html; charset=utf-8")  # wrong charset
    feed(bad, "/pages.xml", [huge, empty, binary, cp1251, latin, bad.url("/missing.html"),
                             bad.url("/loop-a"), "javascript:alert(1)"])
    sources.write_text(newsroom.sources_toml({
        "Good Outlet": ["/rss.xml"],
        "Faulty Outlet": ["/malformed.xml", "/html-feed.xml", "/gone.xml", "/broken.xml",
                          "/slow.xml", "/pages.xml", "/loop-a"],
    }))
    env = {**cli_env, "BACKCHANNEL_DOWNLOAD_TIMEOUT": "2", "BACKCHANNEL_MAX_PAGE_BYTES": "300000"}
    result = run_cli(["crawl", "--all", "--sources", str(sources)], env)

    assert result.returncode == 1
    failed = [line for line in result.stderr.splitlines() if line.startswith("FAILED")]
    reasons = "\n".join(failed)
    assert len(failed) == 5, result.stderr[-4000:]
    assert "html-feed.xml: not an RSS or Atom feed" in reasons
    assert "gone.xml: HTTP 410" in reasons
    assert "broken.xml: HTTP 500" in reasons
    assert "slow.xml: timed out" in reasons
    assert "loop-a" in reasons and "redirect" in reasons.lower()
    log = result.stderr
    assert "malformed feed, parsed leniently" in log
    assert "no article text found" in log and "empty.html" in log
    assert "not an HTML page" in log and "file.html" in log
    assert "huge.html" in log
    assert "missing.html" in log and "HTTP 404" in log
    assert "javascript:" in log

    rows = {r["url"]: r for r in db.execute("SELECT url, title, text FROM articles")}
    assert harbour in rows  # stored before the faults, still there
    assert listed in rows  # the malformed feed's entry was kept
    assert "портового района" in rows[cp1251]["text"]
    assert "café harbour" in rows[latin]["text"]
    assert huge not in rows and empty not in rows and binary not in rows
    assert len(rows) == 4

    states = {r["url"].rsplit("/", 1)[1]: r for r in db.execute(
        "SELECT url, consecutive_failures, last_error, last_success_at FROM sources")}
    assert states["gone.xml"]["consecutive_failures"] == 1
    assert "HTTP 410" in states["gone.xml"]["last_error"]
    assert states["malformed.xml"]["last_success_at"] is not None


def test_loopback_feed_refused_when_private_addresses_are_not_allowed(newsroom, cli_env, db,
                                                                      tmp_path):
    site = newsroom.site("Internal")
    feed(site, "/rss.xml", [page(site, "/a.html", "Harbour", ENGLISH)])
    sources = tmp_path / "sources.toml"
    sources.write_text(newsroom.sources_toml({"Internal": ["/rss.xml"]}, allow_private=False))
    result = run_cli(["crawl", "--sources", str(sources)], cli_env)
    assert result.returncode == 1
    assert "private or loopback address" in result.stderr
    assert newsroom.log == []  # not a single request reached the server
    assert db.execute("SELECT count(*) AS n FROM articles").fetchone()["n"] == 0


def test_malformed_sources_file_names_the_problem(cli_env, tmp_path):
    sources = tmp_path / "sources.toml"
    sources.write_text('[[outlets]]\nname = "X"\nfeeds = ["ftp://example.org/feed"]\n')
    result = run_cli(["crawl", "--sources", str(sources)], cli_env)
    assert result.returncode == 2
    assert "outlet 'X'" in result.stderr and "not an http(s) URL" in result.stderr


def test_gzip_encoded_feed_and_page_are_read(newsroom, cli_env, db, tmp_path):
    import gzip

    site = newsroom.site("Zipped")
    url = page(site, "/z.html", "Harbour plan, compressed", ENGLISH)
    site.routes["/z.html"].body = gzip.compress(site.routes["/z.html"].body)
    site.routes["/z.html"].headers["Content-Encoding"] = "gzip"
    feed(site, "/rss.xml", [url])
    site.routes["/rss.xml"].body = gzip.compress(site.routes["/rss.xml"].body)
    site.routes["/rss.xml"].headers["Content-Encoding"] = "gzip"
    sources = tmp_path / "sources.toml"
    sources.write_text(newsroom.sources_toml({"Zipped": ["/rss.xml"]}))
    result = run_cli(["crawl", "--sources", str(sources)], cli_env)
    assert result.returncode == 0, result.stderr[-2000:]
    row = db.execute("SELECT text FROM articles WHERE url = %s", (url,)).fetchone()
    assert "warehouses have stood empty" in row["text"]
    assert all("gzip" in r.headers.get("accept-encoding", "") for r in newsroom.log)


def test_an_article_the_database_refused_is_fetched_again_next_pass(newsroom, cli_env, db,
                                                                  tmp_path):
    """The database fails one write: that page is not lost behind a 304 next time."""
    site = newsroom.site("Harbour Outlet")
    good = page(site, "/a.html", "Harbour plan debated", ENGLISH)
    refused = page(site, "/b.html", "Harbour plan, the vote", ENGLISH[::-1] + ENGLISH)
    feed(site, "/rss.xml", [good, refused])
    sources = tmp_path / "sources.toml"
    sources.write_text(newsroom.sources_toml({"Harbour Outlet": ["/rss.xml"]}))
    db.execute(f"""CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
                   BEGIN IF NEW.url = '{refused}' THEN
                       RAISE EXCEPTION 'disk full (simulated)'; END IF;
                   RETURN NEW; END $$""")
    db.execute("CREATE TRIGGER refuse BEFORE INSERT ON articles "
               "FOR EACH ROW EXECUTE FUNCTION refuse()")
    first = run_cli(["crawl", "--sources", str(sources)], cli_env)
    assert "stored 1 new article" in first.stdout, first.stdout + first.stderr[-2000:]
    assert "disk full (simulated)" in first.stderr
    db.execute("DROP TRIGGER refuse ON articles")

    second = run_cli(["crawl", "--all", "--sources", str(sources)], cli_env)
    assert "stored 1 new article" in second.stdout, second.stdout
    urls = {r["url"] for r in db.execute("SELECT url FROM articles").fetchall()}
    assert urls == {good, refused}
    feed_status = [r.status for r in newsroom.requests("Harbour Outlet", "/rss.xml")]
    assert feed_status == [200, 200]  # the validators were held back, not a 304


def test_a_pass_goes_on_after_its_database_session_is_killed(database_url, db):
    """Cron, daemon and worker passes share PassConnection: a restart (here, the pass's
    session killed) costs one reconnection, not the pass's lookups or its outcome."""
    from archive.db import DatabaseError, connect
    from archive.store import ArticleRecord, store_article, sync_sources
    from core.config import Settings
    from crawler.connection import PassConnection
    from crawler.items import PassReport, PollOutcome
    from crawler.sources import parse_sources

    store_article(db, ArticleRecord(url="https://kept.example/1", outlet="Kept",
                                    text="Stored before the restart. " * 20))
    sources = parse_sources({"outlets": [{"name": "Kept",
                                          "feeds": ["https://kept.example/rss"]}]}, "test")
    state = sync_sources(db, sources)["https://kept.example/rss"]
    report = PassReport()
    report.polls[state.id] = PollOutcome(source=state, status=200, etag='"v2"')

    def kill(link: PassConnection) -> None:
        db.execute("SELECT pg_terminate_backend(%s)", (link.conn.info.backend_pid,))

    looking = PassConnection(database_url, connect(database_url, migrate_now=False))
    recording = PassConnection(database_url, connect(database_url, migrate_now=False))
    try:
        kill(looking)  # during the crawl: the lookup goes on on a new session
        listed = ["https://kept.example/1", "https://kept.example/2"]
        assert looking.known(listed) == {"https://kept.example/1"}
        kill(recording)  # at the end: the outcome is recorded on a new session
        recording.finish(Settings(), report)
        row = db.execute("SELECT last_status, etag FROM sources").fetchone()
        assert (row["last_status"], row["etag"]) == (200, '"v2"')
        kill(looking)  # a second restart in one pass, at its end: recorded all the same
        report.polls[state.id].etag = '"v3"'
        looking.finish(Settings(), report)
        assert db.execute("SELECT etag FROM sources").fetchone()["etag"] == '"v3"'
        looking.url = "postgresql://nobody@127.0.0.1:1/gone"  # the database gone for good:
        looking.close()  # said plainly, no traceback
        with pytest.raises(DatabaseError, match="could not be recorded"):
            looking.finish(Settings(), report)
    finally:
        looking.close()
        recording.close()
