"""The response cache (web/cache.py): a page served from the cache changes as soon as
a new article or story is stored, and ETag / If-None-Match give 304 until then.
A fresh archive of its own, written through the archive's own functions."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from webserver import running

from archive.store import ArticleRecord, save_classification, store_article
from archive.stories import assign_story
from archive.web import archive_generation
from web.app import create_app


def report(db, key: str, title: str, day: int) -> int:
    """An article reporting an unconfirmed call, classified and put in its story, as
    the crawl stores one."""
    stored = store_article(db, ArticleRecord(
        url=f"https://harbour.example/{key}", outlet="Harbour Post", title=title,
        language="en", published_at=datetime(2025, 4, day, 9, tzinfo=UTC),
        text=f"{title}. Officials in Moscow said the presidents spoke by phone about "
             "a ceasefire; the White House has not confirmed the call."))
    save_classification(db, stored.article_id, True, "unconfirmed", "spoke by phone", "t")
    assign_story(db, stored.article_id)
    return stored.article_id


@pytest.fixture
def site(db, database_url):
    report(db, "first", "Presidents said to discuss a ceasefire", 1)
    app = create_app(database_url)
    with running(app) as url, httpx.Client(base_url=url, timeout=20) as client:
        yield app, client


def cache_of(app):
    """The ResponseCache instance in the app's middleware stack (built on first use)."""
    layer = app.middleware_stack
    while layer is not None and type(layer).__name__ != "ResponseCache":
        layer = getattr(layer, "app", None)
    assert layer is not None
    return layer


@pytest.mark.parametrize("path", ["/", "/api/stories", "/api/search?q=ceasefire",
                                  "/search?q=ceasefire"])
def test_a_cached_page_changes_as_soon_as_an_article_is_stored(db, site, path):
    app, client = site
    first = client.get(path)
    assert first.status_code == 200 and "Presidents said to discuss" in first.text
    again = client.get(path)
    assert again.text == first.text and again.headers["etag"] == first.headers["etag"]
    assert cache_of(app).hits >= 1  # the second answer came from the cache
    report(db, "second", "Kremlin describes a second ceasefire call", 2)
    after = client.get(path)  # at once: no expiry to wait for
    assert after.status_code == 200 and "Kremlin describes a second" in after.text
    assert after.headers["etag"] != first.headers["etag"]


def test_a_new_story_shows_on_the_stories_page_and_its_own(db, site):
    app, client = site
    before = client.get("/api/stories").json()["results"]
    assert len(before) == 1
    client.get("/api/stories")
    store_article(db, ArticleRecord(  # an article that is no contact story: no story
        url="https://harbour.example/weather", outlet="Harbour Post", title="Rain",
        language="en", text="Rain is expected in the capital all week."))
    assert len(client.get("/api/stories").json()["results"]) == 1
    article = report(db, "other", "Presidents to meet in Geneva, aides say", 20)
    stories = client.get("/api/stories").json()["results"]
    assert len(stories) == 2
    story = next(s for s in stories if s["first_article_id"] == article)
    page = client.get(f"/stories/{story['id']}")
    assert page.status_code == 200 and "Presidents to meet in Geneva" in page.text


def test_if_none_match_gives_304_until_the_archive_changes(db, site):
    app, client = site
    for path in ("/", "/api/stories", "/api/search?q=ceasefire"):
        first = client.get(path)
        etag = first.headers["etag"]
        unchanged = client.get(path, headers={"if-none-match": etag})
        assert unchanged.status_code == 304 and unchanged.content == b""
        assert unchanged.headers["etag"] == etag
        assert client.get(path, headers={"if-none-match": f'W/{etag}, "other"'}) \
            .status_code == 304
        assert client.get(path, headers={"if-none-match": '"other"'}).status_code == 200
    etags = {path: client.get(path).headers["etag"]
             for path in ("/", "/api/stories", "/api/search?q=ceasefire")}
    report(db, "third", "Aides confirm a ceasefire call was planned", 3)
    for path, etag in etags.items():
        changed = client.get(path, headers={"if-none-match": etag})
        assert changed.status_code == 200, path
        assert "Aides confirm a ceasefire call" in changed.text
        assert changed.headers["etag"] != etag


def test_the_generation_grows_once_per_write_transaction(db):
    before = archive_generation(db)
    with db.transaction():  # many rows, one transaction: one step
        for n in range(3):
            store_article(db, ArticleRecord(url=f"https://harbour.example/n{n}",
                                            outlet="Harbour Post", text="Text."))
    assert archive_generation(db) == before + 1
    db.execute("SELECT count(*) FROM articles")  # a read changes nothing
    assert archive_generation(db) == before + 1
    with db.transaction():
        db.execute("UPDATE articles SET title = 'T' WHERE url LIKE '%%/n0'")
    assert archive_generation(db) == before + 2


def test_errors_and_other_pages_are_not_cached(db, site):
    app, client = site
    assert client.get("/api/stories/999").status_code == 404
    assert client.get("/", params={"since": "soon"}).status_code == 422
    cache = cache_of(app)
    assert not any(answer.status != 200 for answer in cache._answers.values())
    assert "etag" not in client.get("/sources").headers  # clock-dependent: never cached
    assert client.head("/api/stories").status_code == 200


def test_no_cache_when_switched_off(db, database_url):
    with running(create_app(database_url, cache_entries=0)) as url:
        response = httpx.get(url + "/api/stories", timeout=20)
        assert response.status_code == 200 and "etag" not in response.headers
