"""JSON Feed 1.0 and 1.1, read like RSS and Atom whatever the Content-Type. The
fixtures in tests/crawler/jsonfeed_cases were written for these tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from crawler.feeds import MAX_ENTRIES, FeedError, parse_feed

CASES = Path(__file__).parent / "jsonfeed_cases"
FEED_URL = "https://harbour-gazette.example/feed.json"


@pytest.mark.parametrize("content_type", [None, "application/feed+json", "application/json",
                                          "text/plain", "text/html; charset=utf-8",
                                          "application/rss+xml"])
def test_json_feed_1_1_items_of_every_shape(content_type):
    feed = parse_feed((CASES / "news-1.1.json").read_bytes(), FEED_URL, content_type)
    assert feed.title == "Harbour Gazette"
    assert [(e.url, e.entry_id, e.title) for e in feed.entries] == [
        ("https://harbour-gazette.example/2025/03/24/envoys-meet-in-geneva", "hg-2001",
         "Envoys meet in Geneva"),
        ("https://wire.example/stories/harbour-budget-vote", "hg-2002", None),
        ("https://harbour-gazette.example/2025/03/22/tram-line-opens",
         "https://harbour-gazette.example/2025/03/22/tram-line-opens", None),
        ("https://harbour-gazette.example/2025/03/21/relative-link-to-the-ferry-timetable",
         "2004", "Ferry timetable"),
        ("https://harbour-gazette.example/spip.php?article1342", "hg-2006", "Bare-key query"),
        ("https://harbour-gazette.example/spip.php?breve1342", "hg-2007",
         "Another bare-key query"),
    ]
    published = [e.published for e in feed.entries]
    assert published == [datetime(2025, 3, 24, 8, 30, tzinfo=UTC),
                         datetime(2025, 3, 23, 18, 0, tzinfo=UTC),  # date_modified
                         None, datetime(2025, 3, 21, 7, 0, tzinfo=UTC),
                         datetime(2025, 3, 17, 10, 0, tzinfo=UTC), None]
    assert "entry 5 has no link; skipped" in feed.problems
    assert "entry 8 has no link; skipped" in feed.problems


def test_json_feed_1_0_with_a_title_missing():
    feed = parse_feed((CASES / "news-1.0.json").read_bytes(), "https://vestnik.example/f.json")
    assert feed.title == "Кремлёвский вестник"
    assert [(e.url, e.title) for e in feed.entries] == [
        ("https://vestnik.example/news/2025/03/24/peregovory", "Переговоры продолжатся"),
        ("https://vestnik.example/news/2025/03/23/zvonok", None)]
    assert feed.entries[1].published == datetime(2025, 3, 23, 5, 15, tzinfo=UTC)
    assert feed.problems == []


def test_json_feed_with_a_byte_order_mark():
    feed = parse_feed((CASES / "bom.json").read_bytes(), "https://bom.example/feed.json")
    assert [e.url for e in feed.entries] == ["https://bom.example/a-story-with-a-bom"]


@pytest.mark.parametrize("name, message", [
    ("broken.json", "unreadable JSON Feed"),
    ("not-a-feed.json", "not a JSON Feed (no jsonfeed.org version, no items list)"),
])
def test_broken_json_is_a_feed_error(name, message):
    with pytest.raises(FeedError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_feed((CASES / name).read_bytes(), FEED_URL, "application/feed+json")


@pytest.mark.parametrize("body, message", [
    (b"[1, 2]", None),  # not an object: not taken for JSON Feed, and no XML either
    (b"{\"a\": " * 100_000, "nested too deep"),
    (b'{"version": "https://jsonfeed.org/version/1.1", "items": 5}', "items are not a list"),
    (b'{"version": "https://jsonfeed.org/version/1.1", "items": [], "n": ' + b"9" * 5000
     + b"}", "unreadable JSON Feed"),
    (b'{"version": "https://jsonfeed.org/version/1.1", "title": "\xff\xfe", "items": []}',
     None),
])
def test_hostile_json_fails_the_feed_alone(body, message):
    try:
        feed = parse_feed(body, FEED_URL)
    except FeedError as exc:
        assert message is None or message in str(exc), exc
    else:
        assert message is None and feed.entries == []


def test_a_long_json_feed_is_cut_like_a_long_rss():
    items = ",".join(f'{{"id": "{n}", "url": "https://a.example/story-{n}"}}'
                     for n in range(MAX_ENTRIES + 50))
    body = f'{{"version": "https://jsonfeed.org/version/1.1", "items": [{items}]}}'.encode()
    feed = parse_feed(body, FEED_URL)
    assert len(feed.entries) == MAX_ENTRIES
    assert f"feed lists {MAX_ENTRIES + 50} entries; kept the first {MAX_ENTRIES}" \
        in feed.problems
