"""Feed bodies as strangers' servers send them: a body naming a local file is text, a
deeply nested feed parses in linear time."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import ROOT

from crawler.feeds import MAX_ENTRIES, FeedError, ParsedFeed, cut_entries, parse_feed

BASE = "https://feeds.example.org/rss.xml"


def parsed_or_error(body: bytes) -> ParsedFeed | None:
    try:
        return parse_feed(body, BASE)
    except FeedError:
        return None


@pytest.mark.parametrize("shape", ["{path}", "{path}\n", "  {path}", "file://{path}"])
def test_a_body_naming_a_local_feed_file_is_not_that_file(tmp_path, shape):
    local = tmp_path / "secret.xml"
    local.write_bytes(b'<?xml version="1.0"?><rss version="2.0"><channel><title>Local</title>'
                      b"<item><link>https://secret.example/leaked</link></item>"
                      b"</channel></rss>")
    assert parse_feed(local.read_bytes(), BASE).entries  # the file itself is a feed
    feed = parsed_or_error(shape.format(path=local).encode())
    assert feed is None or not feed.entries, feed
    assert feed is None or feed.title != "Local"


def test_a_body_naming_a_device_is_parsed_as_text():
    """/dev/zero once made feedparser read forever: run apart, with a deadline."""
    code = ("from crawler.feeds import FeedError, parse_feed\n"
            "for body in (b'/dev/zero', b'/dev/urandom', b'/etc/hostname',\n"
            "             b'/proc/self/environ'):\n"
            "    try:\n"
            "        feed = parse_feed(body, 'https://feeds.example.org/rss.xml')\n"
            "    except FeedError as exc:\n"
            "        print('error', exc)\n"
            "    else:\n"
            "        print('entries', len(feed.entries), feed.title)\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=30)
    lines = result.stdout.splitlines()
    assert result.returncode == 0 and len(lines) == 4, result.stdout + result.stderr
    for line in lines:
        assert line.startswith("error") or line == "entries 0 None", line


def nested_items(count: int) -> bytes:
    """A feed of `count` <item> each opened inside the last (about 1.2 MB for 60,000)."""
    return (b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
            + b"<item><b>x</b>" * count + b"</item>" * count + b"</channel></rss>")


def test_sixty_thousand_nested_items_parse():
    """cut_entries keeps a count of open entries instead of rescanning its stack per
    element; the whole parse takes well under a second here (see the commit)."""
    body = nested_items(60_000)
    assert len(body) > 1_200_000
    feed = parse_feed(body, BASE)
    assert any(f"lists 60000 entries; kept the first {MAX_ENTRIES}" in p for p in feed.problems)


def test_deep_non_entry_nesting_is_cut_in_one_pass():
    """Entries under 60,000 open elements that are no entries: the stack is never
    rescanned, and the cut closes every element still open."""
    depth = 60_000
    body = (b'<rss version="2.0"><channel>' + b"<d>" * depth
            + b"".join(b"<item><link>http://a.example/%d</link></item>" % n
                       for n in range(MAX_ENTRIES + 5))
            + b"</d>" * depth + b"</channel></rss>")
    cut = cut_entries(body, MAX_ENTRIES)
    assert cut.endswith(b"</d>" * 3 + b"</channel></rss>")
    assert cut.count(b"<item>") == MAX_ENTRIES
