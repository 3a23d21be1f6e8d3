r"""Run a regular-expression cue only where it can match, with the same matches.

Most of the classifier's time went into the `re:` cues of cues.toml, each scanning the
contact sentences position by position. Each regex is read once (Python's own parser)
for two things every match must have: a literal it contains (`needs`) and the strings
it starts with (`starts`). A text without any of the needed literals cannot match; in
the others the regex is tried only where one of its starts occurs, and for a start
after a `\b` that begins with a word character (`\b(?:the|a)\W+`) only where it begins
a word: trying "a" wherever the letter occurs was a third of the classifier's time.
All of it is exact, and any construct the reading does not understand (flags, a class,
a leading repeat that may be empty) leaves the cue to a plain `finditer`."""

from __future__ import annotations

import re
from functools import lru_cache
from re import _constants as sre
from re import _parser as sre_parse

_ZERO_WIDTH = (sre.AT, sre.ASSERT, sre.ASSERT_NOT)
_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)
_MAX_STARTS = 64  # more start strings than this cost more to look for than they save
_UNSAFE_FLAGS = sre.SRE_FLAG_IGNORECASE | sre.SRE_FLAG_LOCALE | sre.SRE_FLAG_ASCII
_WORD = re.compile(r"\w+")


def _literal_chars(items) -> set[str] | None:
    """The characters of a class made only of literals (`[-:|]`), else None."""
    chars = set()
    for op, av in items:
        if op is not sre.LITERAL:
            return None
        chars.add(chr(av))
    return chars


def _starts(items, bounded: bool = False) -> set[tuple[str, bool]] | None:
    r"""Strings one of which every match of this sequence starts with, or None; each with
    whether a `\b` stands right before it (at the start of the match)."""
    for k, (op, av) in enumerate(items):
        if (op, av) == (sre.AT, sre.AT_BOUNDARY):
            bounded = True
            continue
        if op in _ZERO_WIDTH:
            continue  # consumes nothing: the match starts with what follows
        if op is sre.LITERAL:
            run = []
            for op2, av2 in items[k:]:
                if op2 is not sre.LITERAL:
                    break
                run.append(chr(av2))
            head = "".join(run)
            # "(?:had|held)" is parsed as "h" then "ad|eld": read on into the rest
            rest = _starts(items[k + len(run):])
            tails = None if rest is None else {tail for tail, _ in rest}
            if tails is None or len(tails) > _MAX_STARTS:
                return {(head, bounded)}
            return {(head + tail, bounded) for tail in tails}
        if op is sre.IN:
            chars = _literal_chars(av)
            return None if chars is None else {(c, bounded) for c in chars}
        if op is sre.SUBPATTERN:
            _group, add_flags, del_flags, inner = av
            return None if add_flags or del_flags else _starts(inner.data, bounded)
        if op is sre.BRANCH:
            out: set[tuple[str, bool]] = set()
            for branch in av[1]:
                first = _starts(branch.data, bounded)
                if first is None:
                    return None
                out |= first
            return out
        if op in _REPEATS:
            low, _high, inner = av
            return _starts(inner.data, bounded) if low >= 1 else None
        return None
    return None


def _needs(items) -> list[set[str]]:
    """Literal sets such that every match of this sequence contains one literal of each."""
    found: list[set[str]] = []
    run: list[str] = []
    for op, av in items:
        if op is sre.LITERAL:
            run.append(chr(av))
            continue
        if run:
            found.append({"".join(run)})
            run = []
        if op is sre.SUBPATTERN and not (av[1] or av[2]):
            found += _needs(av[3].data)
        elif op in _REPEATS and av[0] >= 1:
            found += _needs(av[2].data)
        elif op is sre.BRANCH:
            # one branch matches: the union of each branch's most selective set
            chosen = [_selective(_needs(branch.data)) for branch in av[1]]
            if all(chosen):
                found.append(set().union(*chosen))
        elif op is sre.IN:
            chars = _literal_chars(av)
            if chars:
                found.append(chars)
    if run:
        found.append({"".join(run)})
    return found


def _selective(sets: list[set[str]]) -> set[str] | None:
    """The most selective of several literal sets: longest shortest literal, fewest."""
    if not sets:
        return None
    return max(sets, key=lambda s: (min(len(x) for x in s), -len(s)))


def _anchored(items, flags: int) -> bool:
    """Whether the regex starts with `^` (without MULTILINE: the start of the text only)."""
    return (bool(items) and items[0] == (sre.AT, sre.AT_BEGINNING)
            and not flags & sre.SRE_FLAG_MULTILINE) or (
            bool(items) and items[0] == (sre.AT, sre.AT_BEGINNING_STRING))


def anchored(regex: str) -> bool:
    """Whether a regex can only match at the start of the text (`^`, no MULTILINE)."""
    try:
        tree = sre_parse.parse(regex)
    except (re.error, RecursionError):
        return False
    return _anchored(tree.data, tree.state.flags)


def analyse(regex: str) -> tuple[tuple[tuple[str, ...], ...], tuple[str, ...] | None, bool,
                                 frozenset[str]]:
    r"""(needs, starts, anchored, at_word_start) of a regex: `needs` are literal sets every
    match has one of each of (none: no filter), `starts` the strings every match starts
    with (None: unknown), `anchored` whether it can only match at position 0, and
    `at_word_start` the starts that begin with a word character after a `\b`: a match
    starting with one of those starts where a run of word characters (`\w+`) does."""
    try:
        tree = sre_parse.parse(regex)
    except (re.error, RecursionError):
        return (), None, False, frozenset()
    flags = tree.state.flags
    if flags & _UNSAFE_FLAGS:
        return (), None, False, frozenset()
    needs = tuple(tuple(sorted(s)) for s in _needs(tree.data) if s and "" not in s)
    pairs = _starts(tree.data)
    starts = None if pairs is None else {start for start, _ in pairs}
    if starts is None or not starts or "" in starts:
        return needs, None, _anchored(tree.data, flags), frozenset()
    # a start seen both after a `\b` and not (in different branches) is looked for anywhere
    loose = {start for start, bounded in pairs if not bounded}
    at_word_start = frozenset(start for start, bounded in pairs
                              if bounded and start not in loose and _WORD.match(start))
    return needs, tuple(sorted(starts)), _anchored(tree.data, flags), at_word_start


_NEWLINE = ord("\n")
_FREE: frozenset[str] = frozenset()  # no literal, and no line break either
_NO_NEWLINE_CATEGORIES = (sre.CATEGORY_WORD, sre.CATEGORY_DIGIT, sre.CATEGORY_UNI_WORD,
                          sre.CATEGORY_UNI_DIGIT)


def _no_newline(op, av) -> bool:
    """Whether this one-character item cannot match a line break (`[^\\n]`, `\\w`, "x")."""
    if op is sre.NOT_LITERAL:
        return av == _NEWLINE
    if op is sre.LITERAL:
        return av != _NEWLINE
    if op is sre.IN:
        if av and av[0][0] is sre.NEGATE:
            return (sre.LITERAL, _NEWLINE) in av[1:]
        return all((o is sre.LITERAL and a != _NEWLINE)
                   or (o is sre.RANGE and not a[0] <= _NEWLINE <= a[1])
                   or (o is sre.CATEGORY and a in _NO_NEWLINE_CATEGORIES) for o, a in av)
    return False


def _first_line(items) -> frozenset[str] | None:
    """Literals one of which every match of this sequence has before any line break it
    spans; `_FREE` when it can match no line break and has no literal; None: unknown."""
    for k, (op, av) in enumerate(items):
        if op in _ZERO_WIDTH:
            continue
        if op is sre.LITERAL and av != _NEWLINE:
            run = []
            for op2, av2 in items[k:]:
                if op2 is not sre.LITERAL or av2 == _NEWLINE:
                    break
                run.append(chr(av2))
            return frozenset({"".join(run)})
        if _no_newline(op, av):
            continue
        if op in _REPEATS:
            low, _high, inner = av
            first = _first_line(inner.data)
            if first == _FREE:
                continue
            return first if low >= 1 else None
        if op is sre.SUBPATTERN and not (av[1] or av[2]):
            first = _first_line(av[3].data)
        elif op is sre.BRANCH:
            branches = [_first_line(branch.data) for branch in av[1]]
            if any(b is None for b in branches):
                return None
            first = frozenset().union(*branches)
            if _FREE in branches:  # those go on with the rest of the sequence
                rest = _first_line(items[k + 1:])
                if rest is None or (rest == _FREE and first):
                    return None
                return first | rest
        else:
            return None
        if first != _FREE:
            return first  # None or the literals
    return _FREE


def first_line_literals(regex: str) -> frozenset[str] | None:
    """For a multiline regex that starts with `^`: literals one of which every match has
    on the line where it starts (None: not known), so that only lines with one are tried."""
    try:
        tree = sre_parse.parse(regex)
    except (re.error, RecursionError):
        return None
    if tree.state.flags & _UNSAFE_FLAGS:
        return None
    first = _first_line(tree.data)
    return first if first and "" not in first else None


def needed_literals(regex: str) -> frozenset[str] | None:
    """Literals one of which every match of the regex contains (the most selective of its
    `needs`), or None when none is known: a cheap test that it cannot match a text."""
    needs = analyse(regex)[0]
    return frozenset(_selective([set(literals) for literals in needs])) if needs else None


class RawCue:
    """A regular-expression cue of one category, with its prefilter."""

    def __init__(self, category: str, pattern: re.Pattern[str]) -> None:
        self.category = category
        self.pattern = pattern
        self.needs, self.starts, self.anchored, self.at_word_start = analyse(pattern.pattern)
        if pattern.flags & _UNSAFE_FLAGS:  # given to compile(), not written in the regex
            self.needs, self.starts, self.at_word_start = (), None, frozenset()
        self._needs = tuple(frozenset(literals) for literals in self.needs)
        # multiline: "^" holds at every line start, not at 0 only
        self.line_anchored = self.anchored and bool(pattern.flags & re.MULTILINE)
        self.line_literals: tuple[str, ...] | None = None
        if self.line_anchored:
            self.anchored = False
            literals = first_line_literals(pattern.pattern)
            # a one-letter literal ("с") is on nearly every line: not worth looking for
            if literals and not pattern.flags & _UNSAFE_FLAGS and min(map(len, literals)) >= 3:
                self.line_literals = tuple(sorted(literals))

    def _line_spans(self, text: str) -> list[tuple[int, int]]:
        """Matches of a "^"-anchored multiline cue: tried at each line start only, or
        only at the starts of the lines with one of its `line_literals`."""
        if self.line_literals is not None:
            return self._lines_with_literals(text)
        out = []
        match = self.pattern.match
        i = 0
        while i >= 0:
            m = match(text, i)
            if m is not None:
                out.append(m.span())
            i = text.find("\n", i)
            if i >= 0:
                i += 1
        return out

    def _lines_with_literals(self, text: str) -> list[tuple[int, int]]:
        starts = set()
        for literal in self.line_literals or ():
            i = text.find(literal)
            while i >= 0:
                line = text.rfind("\n", 0, i) + 1
                starts.add(line)
                end = text.find("\n", i)  # the line is taken: on to the next one
                i = text.find(literal, end + 1) if end >= 0 else -1
        out = []
        match = self.pattern.match
        for i in sorted(starts):
            m = match(text, i)
            if m is not None:
                out.append(m.span())
        return out

    def literals(self) -> set[str]:
        return {n for literals in self.needs for n in literals} | set(self.starts or ())

    def spans(self, text: str, present: set[str] | None = None,
              found: dict[tuple[str, bool], list[int]] | None = None) -> list[tuple[int, int]]:
        """The spans `pattern.finditer(text)` gives, found faster; `present` may give
        which of the cue's literals occur in the text (see `Literals`); `found` keeps
        where each start may begin in this text (key: the start and whether only at
        the start of a word), for the other cues of the same text."""
        if present is not None:
            for literals in self._needs:
                if literals.isdisjoint(present):
                    return []
        else:
            for literals in self.needs:
                if not any(n in text for n in literals):
                    return []
        if self.line_anchored:
            return self._line_spans(text)
        if self.anchored:
            m = self.pattern.match(text)
            # an empty match at 0 is followed by none: `^` holds nowhere else
            return [m.span()] if m is not None else []
        if self.starts is None:
            return [m.span() for m in self.pattern.finditer(text)]
        if found is None:
            found = {}
        positions: list[int] = []
        for start in self.starts:
            if present is not None and start not in present:
                continue
            at_word_start = start in self.at_word_start
            key = (start, at_word_start)
            where = found.get(key)
            if where is None:
                where = _at_word_start(start, text) if at_word_start else _anywhere(start, text)
                found[key] = where
            positions += where
        if len(positions) > 1:
            positions = sorted(set(positions))
        out = []
        end = 0
        match = self.pattern.match
        for i in positions:
            if i < end:
                continue  # inside the previous match: finditer goes on from its end
            m = match(text, i)
            if m is not None:
                out.append(m.span())
                end = m.end()  # never empty: every match starts with a literal
        return out


def _anywhere(start: str, text: str) -> list[int]:
    """Every position where `start` occurs in the text (overlapping ones too)."""
    out = []
    i = text.find(start)
    while i >= 0:
        out.append(i)
        i = text.find(start, i + 1)
    return out


def _at_word_start(start: str, text: str) -> list[int]:
    r"""Every position where `start` (beginning with a word character) occurs at the start
    of a word: where a regex with a `\b` before it can match it (see `analyse`)."""
    out = []
    search = _word_start_locator(start).search
    m = search(text)
    while m is not None:
        out.append(m.start())
        # not from m.end(): "a a" occurs at the start of words 1 and 2 of "a a a"
        m = search(text, m.start() + 1)
    return out


@lru_cache(maxsize=4096)
def _word_start_locator(start: str) -> re.Pattern[str]:
    r"""A regex that finds `start` where no word character precedes it (for a `start`
    beginning with a word character, where a `` holds before it). The check stands
    after the literal (`said(?<!\wsaid)`, not `said`) so that the regex engine scans
    for the literal quickly; the lookbehind sees the text before `pos`, as `` does."""
    literal = re.escape(start)
    return re.compile(literal + r"(?<!\w" + literal + ")")


class Literals:
    """Which of many literals occur in a text, read from its tokens: a literal made of
    letters can only occur inside one word, and a text's tokens repeat (memoised per
    token), where testing each literal against the whole text took most of the time."""

    def __init__(self, literals: set[str]) -> None:
        # A literal with other characters ("according to", "n't") is searched for in the
        # text only when its longest run of letters is in one of its words.
        self.others = tuple(sorted((n, max(_WORD.findall(n), key=len, default=None))
                                   for n in literals if not _WORD.fullmatch(n)))
        in_words = {n for n in literals if _WORD.fullmatch(n)}
        in_words |= {proxy for _, proxy in self.others if proxy is not None}
        self.in_words = tuple(sorted(in_words))
        self._in_words = frozenset(in_words)
        self._lengths = tuple(sorted({len(n) for n in in_words}))
        self._cache: dict[str, frozenset[str]] = {}

    def _inside(self, word: str) -> frozenset[str]:
        """The literals inside one word (or token), read from its substrings of the
        literals' lengths: fewer tests than the literals for a word of ordinary length."""
        literals, size = self._in_words, len(word)
        if size > 40:  # a link or a run of digits: test each literal
            return frozenset(n for n in self.in_words if n in word)
        return frozenset(word[i:i + n] for i in range(size) for n in self._lengths
                         if i + n <= size and word[i:i + n] in literals)

    def present(self, text: str) -> set[str]:
        """The literals that occur in the text (exactly those)."""
        cache = self._cache
        if len(cache) > 200_000:
            cache.clear()  # bounded: the vocabulary of a long crawl is unbounded
        # Read from the text's tokens between spaces ("trump's,"), found much faster than
        # its words: a literal of word characters lies inside a word, and a word inside a
        # token, as no space is a word character; what is inside a token is in the text.
        words = set(text.split())
        for word in words.difference(cache):
            cache[word] = self._inside(word)
        found: set[str] = set().union(*map(cache.__getitem__, words))
        found.update(n for n, proxy in self.others
                     if (proxy is None or proxy in found) and n in text)
        return found
