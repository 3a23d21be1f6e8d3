"""Counts read as people write them."""

import pytest

from core.text import plural


@pytest.mark.parametrize("count, words, expected", [
    (1, ("outlet",), "1 outlet"), (0, ("outlet",), "0 outlets"),
    (2, ("new alert",), "2 new alerts"),
    (1, ("story", "stories"), "1 story"), (3, ("story", "stories"), "3 stories"),
])
def test_plural(count, words, expected):
    assert plural(count, *words) == expected


@pytest.mark.parametrize("sentence, shown", [
    ('"We spoke on Monday," he said', '“We spoke on Monday," he said”'),
    ("“The call took place.”", "“The call took place.”"),
    ("«Разговор состоялся»", "“Разговор состоялся”"),
    ("Plain  sentence\nover lines", "“Plain sentence over lines”"),
])
def test_quoted_once(sentence, shown):
    from core.text import quoted

    assert quoted(sentence) == shown
