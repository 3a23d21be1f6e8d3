"""Section pages: which links are articles, and the next page. Fixture pages in
tests/crawler/section_cases state what they expect in their first comment; a table of
URLs covers the heuristic's rules one by one."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from crawler.sections import article_url_problem, section_links

CASES = Path(__file__).parent / "section_cases"


@pytest.mark.parametrize("path", sorted(CASES.glob("*.html")), ids=lambda p: p.name)
def test_section_fixture(path):
    raw = path.read_bytes()
    expect = json.loads(re.search(rb"<!-- expect: (\{.*?\}) -->", raw, re.S).group(1))
    body, content_type = raw, expect.get("content_type")
    if expect.get("encoding"):  # the fixture is stored as UTF-8, served in its own charset
        body = raw.decode("utf-8").encode(expect["encoding"])
    page = section_links(body, expect["url"], content_type, expect.get("selector"),
                         expect.get("page", 1))
    assert [[a.url, a.text] for a in page.articles] == expect["articles"]
    assert page.next_page == expect["next"]
    for url, reason in expect.get("rejected", {}).items():
        assert reason in page.rejected.get(url, "(taken)"), url


SECTION = "https://www.example.com/politics/"


@pytest.mark.parametrize("url, problem", [
    ("https://www.example.com/2025/03/24/talks-resume", None),
    ("https://www.example.com/2025/3/talks-resume.html", None),
    ("https://example.com/world/2025-03-24-talks-resume", None),
    ("https://m.example.com/politics/envoys-meet-again-in-geneva", None),
    ("https://www.example.com/events/president/news/76543", None),
    ("https://www.example.com/article-1234567.html", None),
    ("https://www.example.com/2025/03/24/", "no date, numeric id or long slug"),
    ("https://www.example.com/2025/", "no date, numeric id or long slug"),
    ("https://www.example.com/politics/europe", "no date, numeric id or long slug"),
    ("https://www.example.com/terms-of-use-and-cookies", None),  # a slug is a slug
    ("https://www.example.com/tag/envoys-meet-again-in-geneva", "a /tag/ page"),
    ("https://www.example.com/topics/russia-us-relations-2025", "a /topics/ page"),
    ("https://www.example.com/authors/maria-ivanova-staff-writer", "a /authors/ page"),
    ("https://www.example.com/politics/page/2", "a /page/ page"),
    ("https://www.example.com/politics/envoys-meet-again?page=2", "pagination"),
    ("https://www.example.com/search/envoys-meet-again-in-geneva", "a /search/ page"),
    ("https://www.example.com/login.php", "a /login/ page"),
    ("https://www.example.com/privacy-policy", "a /privacy-policy/ page"),
    ("https://www.example.com/politics", "the listing itself or above it"),
    ("https://www.example.com/", "the listing itself or above it"),
    ("https://www.other.org/2025/03/24/talks-resume", "another site"),
    ("http://127.0.0.1:8001/2025/03/24/talks-resume", "another site"),
])
def test_article_url_rules(url, problem):
    found = article_url_problem(url, SECTION)
    assert (found is None) if problem is None else (problem in (found or "")), found


def test_loopback_sites_differ_by_port():
    page = "http://127.0.0.1:8001/politics/"
    assert article_url_problem("http://127.0.0.1:8001/2025/03/24/talks-resume", page) is None
    assert article_url_problem("http://127.0.0.1:8002/2025/03/24/talks-resume",
                               page) == "another site"


@pytest.mark.parametrize("html, page, expected", [
    ('<link rel="next" href="/p/2"><a href="/p/3">3</a>', 1, "/p/2"),
    ('<a rel="prev" href="/p/1">1</a><a href="/p/3" rel="next">x</a>', 2, "/p/3"),
    ('<a href="/news?page=3">3</a><a href="/news?page=4">4</a>', 2, "/news?page=3"),
    ('<a href="/news?page=1">«</a><a href="/news?page=3">»</a>', 2, "/news?page=3"),
    ('<a href="/newer">Newer posts →</a><a href="/older">← Older posts</a>', 1, "/older"),
    ('<a href="/p2" aria-label="Next page"><svg></svg></a>', 1, "/p2"),
    ('<a href="/ru/2">Далее</a>', 1, "/ru/2"),
    ('<a href="/comments">3</a><a href="/prev">Previous</a>', 2, None),
    ('<a href="https://elsewhere.org/next">Next</a>', 1, None),
])
def test_next_page(html, page, expected):
    body = f"<html><head></head><body><main>{html}</main></body></html>".encode()
    found = section_links(body, "https://www.example.com/news", page=page).next_page
    assert found == (expected and "https://www.example.com" + expected)


def test_selector_takes_what_it_selects_only():
    body = b"""<html><body><div class="list"><h3><a href="/p/1">One story</a></h3>
    <h3><a href="https://partner.example.net/x">Partner story</a></h3></div>
    <div class="other"><a href="/2025/03/24/a-story-not-in-the-list">No</a></div></body></html>"""
    for selector in ("css:div.list h3 a", "xpath://div[@class='list']", "css:div.list"):
        page = section_links(body, "https://www.example.com/", selector=selector)
        assert [a.url for a in page.articles] == ["https://www.example.com/p/1",
                                                  "https://partner.example.net/x"], selector
