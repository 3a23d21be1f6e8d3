"""The prefilter's fast paths give exactly the matches of a plain regex scan: checked on
generated text against `pattern.finditer` (and, for "^" cues, against trying the regex
at every line start), for the shipped cues and for regexes made to trip them."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from classify import load_cues
from classify.prefilter import Literals, RawCue, analyse, first_line_literals

# Pieces that make the starts of the cues occur inside words, at word starts, glued to
# each other, overlapping themselves and across lines.
PIECES = ["a", "a ", "the", "their", "in", "no", "n", "n't", "'", "se", "ce", ",", " ", "  ",
          "\n", "-", ":", "said", "told", "according", "according to", "to", "not", "never",
          "_", "é", "не", "по", "1", "20", "since", "the call", "call", "calls", "met", "was",
          "had", "held", " if", "if", "may", "have", "been", "report", "reports", "that", "x",
          "would", "will", "confirm", "peskov", "white house", "kremlin", "a a", "aa", ".",
          "https://example.com/2024/05/the-kremlin-said-trump-called-putin"]
TEXTS = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)

# Regexes that trip the analysis: a `\b` on some branches only, a start that overlaps
# itself at word starts, starts of non-word characters, `\b` before a lookaround, `\B`,
# and a start ("a") read at word starts for one cue and anywhere for a later one.
TRICKY = [
    r"(?:\bnot|n't|\bnever|\bno one)\W+\w+",
    r"\ba a(?!\w)(?! a)",
    r"\baa",
    r"(?:\ba|a)\w",
    r"\b(?:the|their|a)\W+(?:call|x)",
    r"\b(?=\w)(?:in|no)\b",
    r"\b-\w",
    r",\W+if\b",
    r"\b_\w*",
    r"\bне\W+\w+",
    r"\baccording to\W+\w+",
    r"\b(?:a|aa)+\b",
    r"\Bno\w*",
    r"a\W",
]

# "^" cues of sentences joined by line breaks: tried only on the lines with a literal
# that every match has on its first line, when one is known.
TRICKY_LINES = [
    r"^[^\n]*?\bsince\W+(?:the|their)\b",
    r"^(?![^\n]*?\bcall\w*\W+since)[^\n]*?\bsince\W+\w+",
    r"^\W*since",  # `\W` crosses lines: every line is tried
    r"^(?:according to|[^\n]*?\bthe call)\W+\w+",
    r"^\w+ since\b",
    r"^(?:\w+\W+){0,3}?(?:said|told)",
    r"^(?:[^\n]*?\b)?not\W+\w+",
    r"^if\b",
]
LINE_PIECES = ["since", " ", "the", "their", "\n", "call", "x", "according to", ",", "not",
               "told", "a"]
LINE_TEXTS = st.lists(st.sampled_from(LINE_PIECES), max_size=40).map("".join)


def _finditer(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    return [m.span() for m in pattern.finditer(text)]


def _line_starts(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    """What a "^" cue gives: the match at each line start, in order."""
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    return [m.span() for m in (pattern.match(text, i) for i in starts) if m is not None]


def _shipped() -> list[RawCue]:
    return load_cues().index.raw


def _check(cues: list[RawCue], text: str) -> None:
    present = Literals(set().union(*(cue.literals() for cue in cues))).present(text)
    found: dict[tuple[str, bool], list[int]] = {}  # shared by the cues, as in find_raw
    for cue in cues:
        expected = (_line_starts(cue.pattern, text) if cue.line_anchored
                    else _finditer(cue.pattern, text))
        assert cue.spans(text) == expected, cue.pattern.pattern
        assert cue.spans(text, present, found) == expected, cue.pattern.pattern


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS)
def test_shipped_cues_match_as_a_plain_scan(text):
    _check(_shipped(), text)


@settings(max_examples=500, deadline=None)
@given(TEXTS)
def test_tricky_regexes_match_as_a_plain_scan(text):
    _check([RawCue("x", re.compile(r, flags)) for flags in (0, re.MULTILINE, re.ASCII)
            for r in TRICKY], text)


@settings(max_examples=500, deadline=None)
@given(LINE_TEXTS)
@example("since the\nsince the\nx since their\n\nsince")
@example("since\nsince the")
def test_line_anchored_regexes_match_as_at_each_line_start(text):
    _check([RawCue("x", re.compile(r, re.MULTILINE)) for r in TRICKY_LINES], text)


@pytest.mark.parametrize(("regex", "literals"), [
    (r"^[^\n]*?\bsince\W+", {"since"}),
    (r"^(?![^\n]*x)[^\n]*?(?:since|\bafter)\b", {"since", "after"}),
    (r"^\w+ since", {" since"}),
    (r"^(?:xyz|)abc", {"xyz", "abc"}),
    (r"^\W*since", None),  # `\W` matches a line break
    (r"^.*since", None),  # `.` without DOTALL does not, but is not read
    (r"^(?:a|\w+)\s", None),
    (r"^(?:\w+ )?since", None),
])
def test_first_line_literals_are_read_from_the_regex(regex, literals):
    assert first_line_literals(regex) == (frozenset(literals) if literals else None)


@pytest.mark.parametrize(("regex", "at_word_start"), [
    (r"(?:\bnot|n't|\bnever)", {"not", "never"}),
    (r"(?:\ba|a)b", set()),  # "ab" also without a `\b` before it
    (r"\b-\w", set()),  # a `\b` before a non-word character is not a word start
    (r"\baccording to\b", {"according to"}),
    (r"\b(?=x)xy", {"xy"}),
    (r"x\by", set()),  # the `\b` is not at the start of the match
    (r"\Bno", set()),
])
def test_word_starts_are_read_from_the_regex(regex, at_word_start):
    assert analyse(regex)[3] == at_word_start


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_literals_present_are_those_in_the_text(text):
    literals = Literals(set().union(*(cue.literals() for cue in _shipped())) | {"a a", "é"})
    # with the words that stand for the literals that are not words ("according")
    every = set(literals.in_words) | {n for n, _proxy in literals.others}
    assert literals.present(text) == {n for n in every if n in text}
