"""End to end through `backchannel crawl`: a SPIP site whose articles differ only by a
bare query key, and a JSON Feed served with the wrong Content-Type, conditional GET."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from conftest import run_cli
from newsroom import Newsroom, Route, Site, article_html, report_paragraphs, rss_feed

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def newsroom():
    room = Newsroom()
    yield room
    room.close()


def write_sources(tmp_path, newsroom, outlets):
    path = tmp_path / "sources.toml"
    path.write_text(newsroom.sources_toml(outlets), encoding="utf-8")
    return path


def spip_site(newsroom: Newsroom) -> tuple[Site, list[str]]:
    """A SPIP site: ten articles and ten briefs, all pages of /spip.php, told apart by
    a query key without a value (?article1342, ?breve1342)."""
    site = newsroom.site("Le Courrier SPIP")
    pages: dict[str, bytes] = {}
    items = []
    for number, kind in enumerate(["article", "breve"] * 10):
        key = f"{kind}{1340 + number}"
        url = site.url(f"/spip.php?{key}")
        title = f"Dépêche {number}: le conseil débat du port, épisode {number}"
        pages[key] = article_html(title, report_paragraphs(f"the harbour works, part {number}"),
                                  NOW - timedelta(hours=number), "Rédaction", site.name, url,
                                  lang="fr")
        items.append({"title": title, "link": url + "&utm_source=rss", "guid": key,
                      "published": NOW - timedelta(hours=number)})

    def serve(request) -> None:
        query = urlsplit(request.path).query
        if query == "page=backend":
            Site._send(request, 200, rss_feed(site.name, site.base, items),
                       {"Content-Type": "application/rss+xml"})
        elif query in pages:
            Site._send(request, 200, pages[query], {"Content-Type": "text/html; charset=utf-8"})
        else:
            Site._send(request, 404, b"<html><body>Not found</body></html>", {})

    site.routes["/spip.php"] = Route(handler=serve)
    return site, [site.url(f"/spip.php?{i['guid']}") for i in items]


def test_a_spip_feed_gives_twenty_articles(newsroom, cli_env, db, tmp_path):
    site, urls = spip_site(newsroom)
    sources = write_sources(tmp_path, newsroom, {site.name: ["/spip.php?page=backend"]})
    result = run_cli(["crawl", "--sources", str(sources)], cli_env)
    assert result.returncode == 0, result.stderr[-3000:]
    stored = {row["url"] for row in db.execute("SELECT url FROM articles")}
    assert stored == set(urls)
    assert len(stored) == 20
    fetched = {r.path for r in newsroom.requests(site.name, "/spip.php?")} - {
        "/spip.php?page=backend"}
    assert len(fetched) == 20


def json_feed(site: Site) -> tuple[bytes, list[str]]:
    urls = [site.url(f"/news/2025/03/{day}/harbour-story-number-{day}") for day in (20, 21, 22)]
    for day, url in zip((20, 21, 22), urls, strict=True):
        site.routes[urlsplit(url).path] = Route(article_html(
            f"Harbour story {day}", report_paragraphs(f"harbour story {day}"),
            NOW - timedelta(days=1), "Staff", site.name, url))
    feed = {"version": "https://jsonfeed.org/version/1.1", "title": site.name,
            "home_page_url": site.base, "items": [
                {"id": "j1", "url": urls[0] + "?utm_medium=json", "title": "Harbour story 20",
                 "content_html": "<p>One</p>", "date_published": NOW.isoformat()},
                {"id": "j2", "external_url": urls[1], "content_text": "Two, untitled"},
                {"id": urls[2], "date_modified": NOW.isoformat()},
            ]}
    return json.dumps(feed).encode(), urls


def test_a_json_feed_is_crawled_and_polled_conditionally(newsroom, cli_env, db, tmp_path):
    site = newsroom.site("Harbour JSON")
    body, urls = json_feed(site)
    # served as text/plain, as some servers do: recognised by its content
    site.routes["/feed.json"] = Route(body, content_type="text/plain", conditional=True)
    sources = write_sources(tmp_path, newsroom, {site.name: ["/feed.json"]})
    first = run_cli(["crawl", "--sources", str(sources)], cli_env)
    assert first.returncode == 0, first.stderr[-3000:]
    assert {row["url"] for row in db.execute("SELECT url FROM articles")} == set(urls)
    second = run_cli(["crawl", "--all", "--sources", str(sources)], cli_env)
    assert second.returncode == 0, second.stderr[-3000:]
    polls = newsroom.requests(site.name, "/feed.json")
    assert [r.status for r in polls] == [200, 304]
    assert polls[1].headers.get("if-none-match")
    assert db.execute("SELECT count(*) AS n FROM articles").fetchone()["n"] == 3
