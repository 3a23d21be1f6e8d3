"""The HTML pages, over HTTP and in a real browser (Debian's Chromium through
Playwright), against an archive filled by a real crawl of the test newsroom."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta

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


def test_stories_page_filters_by_outlet_and_language(crawled_archive, site):
    page = site.get("/").text
    assert '<option value="Lakeside Herald">' in page  # the outlets to choose from
    assert '<option value="ru">ru</option>' in page
    valley = site.get("/", params={"outlet": "valley times"}).text  # case aside
    assert f'href="/stories/{story_id(crawled_archive, "geneva-1")}"' in valley
    assert "Presidents speak by phone" not in valley
    russian = site.get("/", params={"language": "ru"}).text  # a story with a Russian article
    assert f'href="/stories/{story_id(crawled_archive, "peskov-ru")}"' in russian
    assert f'href="/stories/{story_id(crawled_archive, "geneva-1")}"' not in russian
    typo = site.get("/", params={"outlet": "Valey Times"})
    assert typo.status_code == 422
    assert "outlet: no outlet is called &#39;Valey Times&#39;; did you mean " \
        "&#39;Valley Times&#39;?" in typo.text
    assert 'value="Valey Times"' in typo.text  # the form keeps what was typed
    assert site.get("/", params={"language": "r u"}).status_code == 422


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


def chart_parts(page: str) -> tuple[str, str, list[tuple[str, int]]]:
    """The chart's SVG, its caption and the table's (day, reports) rows."""
    svg = re.search(r"<svg.*?</svg>", page, re.S).group(0)
    caption = re.search(r"<figcaption[^>]*>(.*?)</figcaption>", page, re.S).group(1)
    rows = re.findall(r'<tr><td>(\d{4}-\d\d-\d\d)</td><td class="num">(\d+)</td></tr>', page)
    return svg, caption, [(day, int(n)) for day, n in rows]


def test_chart_of_reports_per_day(site):
    page = site.get("/chart").text
    svg, caption, rows = chart_parts(page)
    assert ">day (UTC)</text>" in svg and ">reports</text>" in svg
    assert "<title>2025-04-02: 1 report</title>" in svg
    assert ("2025-04-03", 1) in rows
    assert "<svg" in site.get("/").text  # also on the stories page
    assert site.get("/chart", params={"status": "maybe"}).status_code == 422


def test_chart_range_fits_the_data_and_the_caption_counts_the_table(site):
    svg, caption, rows = chart_parts(site.get("/chart").text)
    total, days, first, last = re.fullmatch(
        r"(\d+) reports? on (\d+) days?, from (\S+) to (\S+)", caption).groups()
    assert int(total) == sum(n for _, n in rows) and int(days) == len(rows)
    data_first, data_last = date.fromisoformat(rows[0][0]), date.fromisoformat(rows[-1][0])
    pad = timedelta(days=max(1, round((data_last - data_first).days * 0.05)))
    assert date.fromisoformat(first) == data_first - pad  # a little room, no empty year
    assert date.fromisoformat(last) == data_last + pad
    assert svg.count('class="bar"') == (date.fromisoformat(last)
                                        - date.fromisoformat(first)).days + 1


def test_chart_range_can_be_chosen(site):
    svg, caption, rows = chart_parts(site.get("/chart", params={
        "since": "2025-04-01", "until": "2025-04-10"}).text)
    assert caption.endswith("from 2025-04-01 to 2025-04-10") and svg.count('class="bar"') == 10
    assert rows and all("2025-04-01" <= day <= "2025-04-10" for day, _ in rows)
    assert caption.startswith(f"{sum(n for _, n in rows)} report")
    today = datetime.now(UTC).date()
    week = site.get("/chart", params={"days": "7"}).text  # the archive's news is older
    assert (f"No unconfirmed reports from {(today - timedelta(days=6)).isoformat()} "
            f"to {today.isoformat()}.") in week
    for params, words in [({"days": "7", "since": "2025-04-01"}, "days: give either"),
                          ({"days": "0"}, "days: must be from 1 to"),
                          ({"days": "a week"}, "days: &#39;a week&#39; is not a number"),
                          ({"since": "1900-01-01", "until": "2025-01-01"}, "at most 3660")]:
        response = site.get("/chart", params=params)
        assert response.status_code == 422 and words in response.text, params


def test_docs_come_from_this_server(site):
    response = site.get("/docs")
    assert response.status_code == 200
    page = response.text
    references = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert references and all(r.startswith("/") and not r.startswith("//")
                              for r in references)  # nothing from another host
    assert not re.search(r"https?:|//[a-z]", page.replace("http-equiv", ""))
    for path in references:
        asset = site.get(path)
        assert asset.status_code == 200, path
        assert asset.headers["content-type"].split(";")[0] in ("text/javascript", "text/css")
        assert len(asset.content) > 200, path
    assert "SwaggerUIBundle" in site.get("/docs/assets/swagger-ui-bundle.js").text
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "unsafe" not in policy
    assert site.get("/docs/assets/../app.py").status_code == 404
    assert site.get("/redoc").status_code == 404  # it would need a CDN


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

    page.goto(base + "/")
    page.fill("input[name=outlet]", "Valley Times")
    page.select_option("select[name=language]", "en")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("a.story-link")).to_have_count(2)  # Geneva and the hostile one
    screenshot(page, "web-stories-filtered.png")

    page.get_by_role("link", name="Reports per day").click()
    caption = page.locator("figcaption").inner_text()
    rows = page.locator("table.days tbody tr").count()
    assert f"on {rows} day" in caption
    screenshot(page, "web-chart.png")
    page.fill("input[name=since]", "2025-04-01")
    page.fill("input[name=until]", "2025-04-16")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("figcaption")).to_contain_text("from 2025-04-01 to 2025-04-16")
    expect(page.locator("svg rect.bar")).to_have_count(16)
    screenshot(page, "web-chart-chosen.png")
    page.close()


def test_docs_render_with_the_network_blocked(site, browser):
    """Every request the page makes that is not to this server is aborted and
    recorded: Swagger UI must render from the server's own files alone."""
    from playwright.sync_api import expect

    base = str(site.base_url).rstrip("/")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    elsewhere: list[str] = []
    refused: list[str] = []

    def gate(route):
        if route.request.url.startswith(base + "/"):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", gate)
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text
            or "Refused" in m.text else None)
    page.goto(base + "/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("backchannel")
    expect(page.locator(".opblock-summary-path", has_text="/api/alerts")).to_be_visible()
    page.locator(".opblock-summary-path", has_text="/api/sources").click()
    expect(page.locator(".opblock.is-open")).to_contain_text("state")
    screenshot(page, "web-docs.png")
    assert elsewhere == [] and refused == []
    page.close()
