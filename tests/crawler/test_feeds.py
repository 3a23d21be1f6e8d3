"""Feed parsing: RSS and Atom, with and without dates or GUIDs, malformed, not a feed."""

from __future__ import annotations

import pytest

from crawler.feeds import MAX_ENTRIES, FeedError, parse_feed
from crawler.sources import SourcesError, default_sources_path, load_sources, parse_sources

BASE = "https://feeds.example.org/rss.xml"


def rss(items: str) -> bytes:
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{items}' \
           f"</channel></rss>".encode()


def test_rss_entries_with_and_without_dates_and_guids():
    feed = parse_feed(rss(
        "<item><title>A</title><link>https://ex.org/a?utm_source=rss</link>"
        "<guid isPermaLink='false'>id-a</guid><pubDate>Mon, 10 Feb 2025 10:00:00 GMT</pubDate>"
        "</item><item><title>B</title><link>https://ex.org/b</link></item>"
        "<item><guid>https://ex.org/c</guid></item>"), BASE)
    assert [e.url for e in feed.entries] == ["https://ex.org/a", "https://ex.org/b",
                                             "https://ex.org/c"]
    assert feed.entries[0].entry_id == "id-a" and feed.entries[0].published.year == 2025
    assert feed.entries[1].entry_id == "https://ex.org/b" and feed.entries[1].published is None


def test_atom_feed_and_relative_links():
    body = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>
    <entry><title>A</title><link href="/news/a.html"/><id>tag:ex.org,2025:a</id>
    <updated>2025-02-10T10:00:00Z</updated></entry></feed>"""
    feed = parse_feed(body, BASE)
    assert feed.entries[0].url == "https://feeds.example.org/news/a.html"
    assert feed.entries[0].entry_id == "tag:ex.org,2025:a"


def test_duplicate_links_and_bad_links_are_dropped_with_reasons():
    feed = parse_feed(rss("<item><link>https://ex.org/a#x</link></item>"
                          "<item><link>https://ex.org/a</link></item>"
                          "<item><link>javascript:void(0)</link></item>"
                          "<item><title>no link</title></item>"), BASE)
    assert [e.url for e in feed.entries] == ["https://ex.org/a"]
    assert any("javascript" in p for p in feed.problems)
    assert any("no link" in p for p in feed.problems)


def test_malformed_feed_keeps_good_entries():
    feed = parse_feed(b"<rss version='2.0'><channel><title>A & B</title>"
                      b"<item><link>https://ex.org/a</link></item>", BASE)
    assert [e.url for e in feed.entries] == ["https://ex.org/a"]
    assert feed.problems and "malformed" in feed.problems[0]


@pytest.mark.parametrize("body", [b"", b"<html><body>Feeds</body></html>", bytes(range(256))])
def test_non_feeds_raise(body):
    with pytest.raises(FeedError, match="not an RSS or Atom feed"):
        parse_feed(body, BASE)


def test_enormous_feeds_are_truncated():
    items = "".join(f"<item><link>https://ex.org/{i}</link></item>" for i in range(MAX_ENTRIES + 5))
    feed = parse_feed(rss(items), BASE)
    assert len(feed.entries) == MAX_ENTRIES
    assert any("kept the first" in p for p in feed.problems)


def test_shipped_sources_file_is_valid():
    sources = load_sources(default_sources_path())
    assert len(sources.outlets) >= 15
    assert all(s.url.startswith("http") for s in sources.sources)


@pytest.mark.parametrize("data, message", [
    ({"outlets": [{"feeds": ["https://a.example/f"]}]}, "outlet #1: `name` is required"),
    ({"outlets": [{"name": "A", "interval_minutes": 0}]}, "interval_minutes"),
    ({"outlets": [{"name": "A", "feedz": []}]}, "`feedz`: unknown key; did you mean `feeds`?"),
    ({"outlets": [{"name": "A"}, {"name": "A"}]}, "listed twice"),
    ({"allow_private_addresses": "yes"}, "allow_private_addresses"),
])
def test_sources_file_errors_name_the_entry(data, message):
    with pytest.raises(SourcesError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_sources(data, "sources.toml")
