"""The sources file is checked whole before anything is polled: a mistake that used to
pass silently (a misspelt key or table, an empty file, a feed under two outlets, names
differing only in case, a control character in a name) is one SourcesError naming the
file, the line and the entry; credentials in a feed URL are never shown."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from archive.store import SourceState
from crawler.items import PollOutcome
from crawler.sources import SourcesError, load_sources

GOOD = '[[outlets]]\nname = "Wire One"\nfeeds = ["https://one.example/rss"]\n'


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("text, message", [
    ("allow_private_adresses = true\n" + GOOD,
     "sources.toml:1: `allow_private_adresses`: unknown key; did you mean "
     "`allow_private_addresses`?"),
    ('[[outlet]]\nname = "Wire One"\nfeeds = ["https://one.example/rss"]\n',
     "sources.toml:1: `outlet`: unknown table; did you mean `outlets`?"),
    (GOOD + "\n[[serches]]\nname = \"s\"\n", "sources.toml:5: `serches`: unknown table; "
     "did you mean `searches`?"),
    ("", "sources.toml: no [[outlets]] or [[searches]] tables: nothing to watch"),
    ("# only a comment\nexclude_domains = []\n", "nothing to watch"),
    (GOOD + '\n[[outlets]]\nname = "Wire Two"\nfeedz = ["https://two.example/rss"]\n',
     "sources.toml:5: outlet 'Wire Two': `feedz`: unknown key; did you mean `feeds`?"),
    (GOOD + 'official = "russia"\n',
     "sources.toml:1: outlet 'Wire One': official must be one of ru, us"),
    (GOOD + '\n[[outlets]]\nname = "Wire Two"\nfeeds = ["https://ONE.example/rss"]\n',
     "sources.toml:5: outlet 'Wire Two': feeds: https://one.example/rss is listed already, "
     "under outlet 'Wire One'; list it once"),
    (GOOD + 'sections = ["https://one.example/rss"]\n', "is listed already"),
    (GOOD + '\n[[outlets]]\nname = "Wire Two"\ndomains = ["two.example"]\n',
     "sources.toml:5: outlet 'Wire Two': no source: list its feeds, sitemaps or sections"),
    (GOOD + '\n[[outlets]]\nname = "WIRE ONE"\nfeeds = ["https://two.example/rss"]\n',
     "sources.toml:5: outlet 'WIRE ONE': 'Wire One' (line 1) is the same outlet "
     "(names differ only in case); name it once"),
    (GOOD + '\n[[outlets]]\nname = "Wire One"\nfeeds = ["https://two.example/rss"]\n',
     "outlet 'Wire One': listed twice (also at line 1)"),
    ('[[outlets]]\nname = "Wire\\nFAILED Other: forged"\nfeeds = ["https://a.example/f"]\n',
     "sources.toml:1: outlet #1: `name` must not hold control characters (found '\\n')"),
    ('[[outlets]]\nname = "Wire \\u001b[31mRed"\nfeeds = ["https://a.example/f"]\n',
     "must not hold control characters (found '\\x1b')"),
    ('[[outlets]]\nname = "Wire \\u202eenO"\nfeeds = ["https://a.example/f"]\n',
     "must not hold control characters"),
    ('[[searches]]\nname = "Find\\r"\nengine = "feed"\nurl = "https://s.example/rss"\n',
     "search #1: `name` must not hold control characters"),
    (GOOD + "interval_minutes = -1\n", "outlet 'Wire One': interval_minutes must be"),
    ('allow_private_addresses = "yes"\n' + GOOD,
     "sources.toml:1: allow_private_addresses must be true or false"),
    (GOOD + "feeds_extra = 1\n", "`feeds_extra`: unknown key; did you mean `feeds`?"),
])
def test_a_mistake_in_the_sources_file_is_named_with_its_line(tmp_path, text, message):
    with pytest.raises(SourcesError) as error:
        load_sources(write(tmp_path, text))
    assert message in str(error.value)
    assert str(error.value).startswith(str(tmp_path / "sources.toml"))


@pytest.mark.parametrize("content, message", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xd8", "not a text file (not UTF-8)"),
    (b"a = " + b"[" * 5000 + b"]" * 5000, "nested too deeply"),
])
def test_an_unreadable_sources_file_is_one_line(tmp_path, content, message):
    path = tmp_path / "sources.toml"
    path.write_bytes(content)
    with pytest.raises(SourcesError, match=re.escape(message)):
        load_sources(path)
    with pytest.raises(SourcesError, match="is a directory, not a TOML file"):
        load_sources(tmp_path)


def test_credentials_in_a_feed_url_are_never_shown(tmp_path):
    sources = load_sources(write(tmp_path, '[[outlets]]\nname = "Paywalled"\n'
                                 'feeds = ["https://reader:s3cr3t-pw@pay.example/rss"]\n'))
    [source] = sources.sources
    assert source.url == "https://reader:s3cr3t-pw@pay.example/rss"  # fetched with them
    assert source.shown_url == "https://***@pay.example/rss"
    state = SourceState(1, source.outlet, source.kind, source.url, 5, None, None, None, 0)
    poll = PollOutcome(state, error=f"{source.url}: HTTP 500")
    assert poll.error == "https://***@pay.example/rss: HTTP 500"
    poll.error = f"{source.url}: timed out"
    assert "s3cr3t-pw" not in poll.error and "reader" not in poll.error
    with pytest.raises(SourcesError) as error:  # nor in an error about the file
        load_sources(write(tmp_path, '[[outlets]]\nname = "A"\n'
                           'feeds = ["https://u:s3cr3t-pw@a.example/f"]\n'
                           '[[outlets]]\nname = "B"\n'
                           'feeds = ["https://u:s3cr3t-pw@a.example/f"]\n'))
    assert "s3cr3t-pw" not in str(error.value) and "https://***@a.example/f" in str(error.value)


def test_a_sound_file_still_reads(tmp_path):
    sources = load_sources(write(tmp_path, "allow_private_addresses = true\n\n" + GOOD
                                 + 'official = "ru"\n\n[[outlets]]\nname = "Wire Two"\n'
                                 'sitemaps = ["https://two.example/sitemap.xml"]\n'))
    assert [o.name for o in sources.outlets] == ["Wire One", "Wire Two"]
    assert sources.outlets[0].official == "ru" and sources.allow_private_addresses is True
