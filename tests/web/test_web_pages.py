"""The HTML pages, over HTTP and in a real browser (Debian's Chromium through
Playwright), against an archive filled by a real crawl of the test newsroom."""

from __future__ import annotations

import html
import re

import httpx
import pytest
from webserver import article_id, chromium, running, screenshot, story_id

from web.app import create_app

HOSTILE = '<script>alert("x")</script> Lavrov and Rubio said to have spoken'


@pytest.fixture(scope="module")
def site(crawled_archive):
    with running(create_app(crawled_archive.database_url)) as url, \
            httpx.Client(base_url=url, timeout=20) as client:
        yield client


def escaped_only(text: str) -> None:
    """The hostile headline is there as text, and nowhere as markup."""
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; Lavrov and Rubio" in text
    assert "<script" not in text.lower()


def test_stories_page(crawled_archive, site):
    response = site.get("/")
    assert response.status_code == 200
    page = response.text
    escaped_only(page)
    geneva = story_id(crawled_archive, "geneva-1")
    row = next(r for r in page.split("<tr>") if f'href="/stories/{geneva}"' in r)
    assert "Harbour Post" in row and "2025-04-02 09:00 UTC" in row
    assert 'class="badge unconfirmed"' in row
    assert re.findall(r'<td class="num">(\d+)</td>', row) == ["2", "2"]  # outlets, articles
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy  # no script runs


def test_stories_page_filters_and_pages(site):
    confirmed = site.get("/", params={"status": "confirmed"}).text
    assert "Presidents speak by phone" in confirmed and "Geneva" not in confirmed
    second = site.get("/", params={"status": "confirmed", "page": 2}).text
    assert "No stories" in second and 'href="/?status=confirmed&amp;page=1"' in second
    bad = site.get("/", params={"since": "soon"})
    assert bad.status_code == 422 and "since: &#39;soon&#39; is not a date" in bad.text


def test_story_timeline_page(crawled_archive, site):
    page = site.get(f"/stories/{story_id(crawled_archive, 'geneva-1')}").text
    outlets = re.search(r'<ol class="outlets">(.*?)</ol>', page, re.S).group(1)
    assert re.findall(r"<li>(.*?)</li>", outlets) == ["Harbour Post", "Valley Times"]
    assert re.findall(r'<td class="outlet">(.*?)</td>', page) == ["Harbour Post",
                                                                  "Valley Times"]
    assert "<blockquote>“Neither the White House nor the Kremlin has confirmed" in page


def test_story_page_marks_copies(crawled_archive, site, seeds_dir):
    page = site.get(f"/stories/{story_id(crawled_archive, '001')}").text
    original = site.get(f"/api/articles/{article_id(crawled_archive, '000')}").json()
    assert f'<span class="mark copy">copy of {html.escape(original["outlet"])}</span>' in page


def test_search_page_highlights_and_escapes(crawled_archive, site):
    assert 'name="q"' in site.get("/search").text  # the form, no results yet
    page = site.get("/search", params={"q": "villa lake"}).text
    assert "<mark>villa</mark>" in page and "1 result" in page
    assert f'href="/articles/{article_id(crawled_archive, "geneva-2")}"' in page
    escaped_only(site.get("/search", params={"q": "Lavrov"}).text)
    story = site.get("/search", params={"story": story_id(crawled_archive, "geneva-1")}).text
    assert "2 results" in story


def test_search_page_names_a_bad_filter(site):
    response = site.get("/search", params={"q": "Geneva", "until": "2025-13-01"})
    assert response.status_code == 422
    assert "until: &#39;2025-13-01&#39; is not a date" in response.text
    assert 'value="2025-13-01"' in response.text  # the form keeps what was typed


def test_article_page(crawled_archive, site):
    number = article_id(crawled_archive, "geneva-2")
    page = site.get(f"/articles/{number}").text
    assert "<h1>Geneva meeting between envoys: what we know</h1>" in page
    assert "Valley Times" in page and "a villa near the lake" in page
    assert f'href="/stories/{story_id(crawled_archive, "geneva-2")}"' in page
    escaped_only(site.get(f"/articles/{article_id(crawled_archive, 'hostile')}").text)


def test_article_page_shows_copy_of(crawled_archive, site, seeds_dir):
    page = site.get(f"/articles/{article_id(crawled_archive, '001')}").text
    assert f'<dd class="copy-of"><a href="/articles/{article_id(crawled_archive, "000")}"' \
        in page


def test_chart_of_reports_per_day(site):
    page = site.get("/chart").text
    svg = re.search(r"<svg.*?</svg>", page, re.S).group(0)
    assert ">day (UTC)</text>" in svg and ">reports</text>" in svg
    assert "<title>2025-04-02: 1 report</title>" in svg
    assert svg.count('class="bar"') >= 8  # every day in the range, zeros included
    assert '<td>2025-04-03</td><td class="num">1</td>' in page
    assert "<svg" in site.get("/").text  # also on the stories page
    assert site.get("/chart", params={"status": "maybe"}).status_code == 422


@pytest.mark.parametrize("path", ["/stories/999999", "/articles/999999", "/nowhere"])
def test_unknown_pages_are_404(site, path):
    response = site.get(path)
    assert response.status_code == 404 and "<h1>404</h1>" in response.text


# --- in a browser ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


def test_in_a_browser(crawled_archive, site, browser):
    from playwright.sync_api import expect

    base = str(site.base_url).rstrip("/")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    page.goto(base + "/")
    expect(page.locator("h1")).to_have_text("Stories")
    expect(page.get_by_role("link", name=HOSTILE)).to_be_visible()  # text, not a script
    screenshot(page, "web-stories.png")

    geneva = story_id(crawled_archive, "geneva-1")
    page.locator(f'a.story-link[href="/stories/{geneva}"]').click()
    expect(page).to_have_url(f"{base}/stories/{geneva}")
    expect(page.locator("ol.outlets li")).to_have_text(["Harbour Post", "Valley Times"])
    expect(page.locator("td.outlet")).to_have_text(["Harbour Post", "Valley Times"])
    screenshot(page, "web-story.png")

    page.get_by_role("link", name="Search", exact=True).click()
    page.fill("input[name=q]", "prisoner exchange")
    page.fill("input[name=outlet]", "Valley Times")
    page.press("input[name=q]", "Enter")
    expect(page.locator("p.count")).to_have_text("1 result")
    marks = page.locator("ol.results mark").all_inner_texts()
    assert {m.lower() for m in marks} >= {"prisoner", "exchange"}
    screenshot(page, "web-search.png")

    page.locator("a.result").first.click()
    expect(page.locator("h1")).to_have_text("Geneva meeting between envoys: what we know")

    page.goto(f"{base}/articles/{article_id(crawled_archive, 'hostile')}")
    expect(page.locator("h1")).to_have_text(HOSTILE)
    screenshot(page, "web-article.png")
    assert page.title().startswith('<script>alert("x")</script>')
    assert dialogs == []  # no alert() ran anywhere
    page.close()
