"""The cue index's shortcuts say what the plain regular expressions say: checked on
generated lines and texts against the compiled rules they stand in for."""

from __future__ import annotations

import re
import tomllib
from functools import cache
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from classify.cues import Cues, compile_cues, load_cues

CUE_FILE = Path(__file__).resolve().parents[2] / "classify" / "cues.toml"

# Pieces of furniture rules (their literals, split and whole) and of ordinary text.
LINE_PIECES = ["photo", "photo by", " by", "pool ", ":", " read", "min", "5 min read", "»",
               ">", "home", "news", "(reuters)", "reuters", "©", "copyright", "sign in",
               "sign", " in", "subscribe", "subscription", "фото", "фото:", "теги:", " ",
               "the kremlin said", "trump", "via ap", "via", "ap", "newsletter", "\u00e9",
               "2024", "12", ".", "share", "share this"]
LINES = st.lists(st.sampled_from(LINE_PIECES), max_size=12).map("".join)


@cache
def _unguarded() -> Cues:
    """The shipped cues plus a furniture rule with no literal (`\\d+\\s+\\w+`)."""
    data = tomllib.loads(CUE_FILE.read_text(encoding="utf-8"))
    data["page"]["furniture"] = [*data["page"]["furniture"], r"\d+\s+\w+"]
    return compile_cues(data)


@settings(max_examples=400, deadline=None)
@given(LINES)
def test_furniture_is_what_the_rules_say(line):
    cues = load_cues()
    assert cues.furniture_guard is not None  # the shipped rules all have a literal
    assert cues.is_furniture(line) == bool(cues.furniture.search(line))


@settings(max_examples=200, deadline=None)
@given(LINES)
def test_furniture_without_a_guard_is_what_the_rules_say(line):
    """A rule with no literal leaves every line to the full search."""
    cues = _unguarded()
    assert cues.furniture_guard is None
    assert cues.is_furniture(line) == bool(cues.furniture.search(line))


def test_furniture_guard_keeps_the_shortest_literals():
    cues = compile_cues({"page": {"furniture": ["photo by", "pool photo", r"\bphoto\s*:"]}})
    assert cues.furniture_guard == ("photo",)
    assert cues.is_furniture("a pool photo of the summit")
    assert not cues.is_furniture("a pool of photographers")  # "photo" is there: searched
    assert compile_cues({"page": {"furniture": []}}).is_furniture("anything") is False


TEXT_PIECES = ["the", "white", "house", "kremlin", "russian", "president", "presidents",
               "us", "u", ".", "s", "putin", "trump", "called", "spoke", "by", "phone", "with",
               "two", "leaders", "не", "подтвердил", "сша", " ", " ", "\n", ",", "-", "'",
               "a", "call", "between", "talks", "talked", "secret", "unitedly", "united",
               "states"]
TEXTS = st.lists(st.sampled_from(TEXT_PIECES), max_size=30).map("".join)


def _plain_find(cues: Cues, text: str) -> list[tuple[str, int, int]]:
    """What PhraseIndex.find (without regex cues) stands for: every word-list phrase
    tried at every word, with the next-word test, in text and index order."""
    index = cues.index
    found = []
    words = list(re.finditer(r"\w+", text))
    for n, m in enumerate(words):
        following = words[n + 1].group() if n + 1 < len(words) else ""
        for category, check, second in index._entries(m.group()):
            if check is None:
                found.append((category, m.start(), m.end()))
            elif second is None or following.startswith(second):
                hit = check.match(text, m.start())
                if hit is not None:
                    found.append((category, m.start(), hit.end()))
    if index._infix_re is not None and index._infix_re.search(text):
        index._find_infix(text, found)
    return found


@settings(max_examples=400, deadline=None)
@given(TEXTS)
def test_phrases_found_are_those_of_a_plain_reading(text):
    cues = load_cues()
    assert cues.index.find(text, raw=False) == _plain_find(cues, text)
