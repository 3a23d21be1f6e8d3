"""Sitemap parsing on fixture files (tests/crawler/sitemap_cases): each fixture states
what it expects in its first comment, feedparser-test style. Every XML fixture is also
read gzip'd (.xml.gz) and must give the same result. Plus the sources-file keys of the
spiders."""

from __future__ import annotations

import gzip
import json
import re
from datetime import datetime
from pathlib import Path

import pytest

from crawler.sitemaps import (
    ChildSitemap,
    SitemapEntry,
    SitemapError,
    parse_sitemap,
    robots_sitemaps,
    select_entries,
    select_sitemaps,
    sitemap_body,
)
from crawler.sources import SourcesError, default_sources_path, load_sources, parse_sources

CASES = Path(__file__).parent / "sitemap_cases"
EXPECT = re.compile(rb"(?:<!--|#) expect: (\{.*?\})(?: -->|\n)", re.S)


def expectation(raw: bytes) -> dict:
    match = EXPECT.search(raw)
    assert match, "the fixture states no expectation"
    return json.loads(match.group(1))


def date(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


@pytest.mark.parametrize("path", sorted(CASES.iterdir()), ids=lambda p: p.name)
def test_sitemap_fixture(path):
    raw = path.read_bytes()
    expect = expectation(raw)
    if "robots" in expect:
        assert robots_sitemaps(raw, expect["url"]) == expect["robots"]
        return
    for body in (raw, gzip.compress(raw)):  # as .xml and as .xml.gz
        xml = sitemap_body(body)
        if "error" in expect:
            with pytest.raises(SitemapError, match=re.escape(expect["error"])):
                parse_sitemap(xml, expect["url"])
            continue
        parsed = parse_sitemap(xml, expect["url"])
        assert parsed.kind == expect["kind"]
        assert parsed.entries == [SitemapEntry(url, title, date(published), date(lastmod))
                                  for url, title, published, lastmod in
                                  expect.get("entries", [])]
        assert parsed.sitemaps == [ChildSitemap(url, date(lastmod))
                                   for url, lastmod in expect.get("sitemaps", [])]
        wanted = expect.get("problems", [])
        assert len(parsed.problems) == len(wanted), parsed.problems
        assert all(w in p for w, p in zip(wanted, parsed.problems, strict=True))
        if "recent" in expect:
            selection = select_entries(parsed.entries, date(expect["since"]))
            assert [e.url for e in selection.recent] == expect["recent"]
            assert (selection.old, selection.undated) == (expect["old"], expect["undated"])
        if "fresh" in expect:
            fresh, old = select_sitemaps(parsed.sitemaps, date(expect["since"]))
            assert [c.url for c in fresh] == expect["fresh"] and old == expect["old"]


def test_entry_limit_keeps_the_newest():
    entries = [SitemapEntry(f"https://ex.org/{n}", lastmod=datetime(2025, 3, 1 + n).astimezone())
               for n in range(10)]
    selection = select_entries(entries, datetime(2025, 3, 3).astimezone(), limit=3)
    assert [e.url for e in selection.recent] == [f"https://ex.org/{n}" for n in (9, 8, 7)]
    assert (selection.old, selection.over_limit) == (2, 5)


def test_a_zip_bomb_is_refused():
    bomb = gzip.compress(b"<urlset>" + b" " * 5_000_000 + b"</urlset>")
    with pytest.raises(SitemapError, match="gzip"):
        sitemap_body(bomb, max_size=1_000_000)


def outlet(**keys) -> dict:
    return {"outlets": [{"name": "X", **keys}]}


def test_sources_file_keys_of_the_spiders():
    sources = parse_sources(outlet(
        feeds=["https://x.example/feed"], sitemaps=["robots", "https://x.example/news.xml"],
        sections=["https://x.example/politics/"], section_selector="css:h2 > a",
        section_pages=5, sitemap_first_pass_hours=6), "f.toml")
    by_kind = {(s.kind, s.url): s for s in sources.sources}
    assert set(by_kind) == {("feed", "https://x.example/feed"),
                            ("sitemap", "https://x.example/robots.txt"),
                            ("sitemap", "https://x.example/news.xml"),
                            ("section", "https://x.example/politics/")}
    section = by_kind[("section", "https://x.example/politics/")]
    assert (section.selector, section.pages, section.first_pass_hours) == (
        "css:h2 > a", 5, 6.0)
    robots = parse_sources(outlet(domains=["y.example"], sitemaps="robots"), "f.toml")
    assert robots.sources[0].url == "https://y.example/robots.txt"
    default = parse_sources(outlet(sections=["https://x.example/a/"]), "f.toml").sources[0]
    assert (default.selector, default.pages, default.first_pass_hours) == (None, 3, 48.0)


@pytest.mark.parametrize("keys, message", [
    ({"sitemaps": ["robots"]}, "needs a feed, a section or a domain"),
    ({"section_selector": "h2 a"}, 'must be "css:SELECTOR" or "xpath:EXPRESSION"'),
    ({"section_selector": "css:h2 >>> a"}, "does not compile"),
    ({"section_selector": "xpath://a[@href"}, "does not compile"),
    ({"section_pages": 0}, "section_pages must be a whole number from 1 to 20"),
    ({"section_pages": "3"}, "section_pages"),
    ({"sitemap_first_pass_hours": -1}, "sitemap_first_pass_hours"),
    ({"sitemap_first_page_hours": 1},
     "`sitemap_first_page_hours`: unknown key; did you mean `sitemap_first_pass_hours`?"),
])
def test_bad_spider_keys_name_the_problem(keys, message):
    with pytest.raises(SourcesError, match=re.escape(message)) as error:
        parse_sources(outlet(**keys), "f.toml")
    assert "outlet 'X'" in str(error.value)


def test_shipped_sources_list_official_sections_and_sitemaps():
    sources = load_sources(default_sources_path())
    kinds = {(s.outlet, s.kind) for s in sources.sources}
    assert {("Kremlin", "feed"), ("Kremlin", "section"), ("The White House", "feed"),
            ("The White House", "section"), ("The White House", "sitemap")} <= kinds
