"""Load the cue file (cues.toml) and compile its phrases into regular expressions.

The cue file is data an editor maintains; this module only knows its small phrase
syntax (see the header of cues.toml), so adding a word never needs a code change."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate
from pathlib import Path

from classify.prefilter import Literals, RawCue, anchored, needed_literals

DEFAULT_CUES = Path(__file__).with_name("cues.toml")
_DEFAULT_RESOLVED = DEFAULT_CUES.resolve()  # once: resolve() per article was slow

# Category name in the classifier -> (table, key) in the cue file.
CATEGORIES: dict[str, tuple[str, str]] = {
    "ru": ("actors", "russia"),
    "ru_weak": ("actors", "russia_weak"),
    "us": ("actors", "us"),
    "us_weak": ("actors", "us_weak"),
    "other": ("actors", "other"),
    "speaker_ru": ("speakers", "russia"),
    "speaker_us": ("speakers", "us"),
    "contact": ("contact", "words"),
    "contact_weak": ("contact", "weak_words"),
    "pair": ("contact", "pair"),
    "not_contact": ("contact", "not_contact"),
    "uncertain": ("status", "uncertain"),
    "denial": ("status", "denial"),
    "negation": ("status", "negation"),
    "source": ("status", "source"),
    "assertion": ("status", "assertion"),
    "sourcing": ("status", "sourcing"),
    "earlier": ("status", "earlier"),
    "claim": ("status", "claim"),
    "media": ("status", "media"),
    "silence": ("status", "silence"),
    "confirmed": ("status", "confirmed"),
    "planned": ("status", "planned"),
    "past": ("status", "past"),
    "question": ("status", "question"),
    "background": ("status", "background"),
    "dating": ("status", "dating"),
    "long_ago": ("status", "long_ago"),
    "openness": ("status", "openness"),
    "hedge": ("status", "hedge"),
    "refusal": ("status", "refusal"),
    "readout": ("status", "readout"),
    "official": ("status", "official"),
}

_PUNCT = str.maketrans(
    {
        "\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'", "\u02bc": "'", "\u2032": "'",
        "\u201c": '"', "\u201d": '"', "\u00ab": '"', "\u00bb": '"', "\u201e": '"', "\u2033": '"',
        "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u2011": "-", "\u00a0": " ", "\u200b": "",
        "\u00ad": "", "\n": " ", "\r": " ", "\t": " ",
        "\u00df": "ss",  # German sharp s: cues spell "ausserte", pages "äußerte"
        "\u0131": "i",  # Turkish dotless i: cues spell "dogrulamadi", pages "doğrulamadı"
    }
)
# str.translate with a dict is slow on non-ASCII text (most of normalize's time); one
# regex pass over the few characters it maps gives the same string.
_PUNCT_CHARS = re.compile("[" + "".join(re.escape(chr(c)) for c in _PUNCT) + "]")
_PUNCT_MAP = {chr(c): v for c, v in _PUNCT.items()}


def _unify_punctuation(text: str) -> str:
    return _PUNCT_CHARS.sub(lambda m: _PUNCT_MAP[m.group()], text)


_MARKS = re.compile(r"[\u0300-\u036f\u0483-\u0489\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0670"
                    r"\u06d6-\u06ed\u093c\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
# Article spinners and broken HTML decoding leave "&&" where quotes and apostrophes were.
_SPUN_APOSTROPHE = re.compile(r"(\w)\s*&\s*&?\s*(s|t|re|ll|ve|d|m)\b")
_SPUN_QUOTE = re.compile(r"&\s?&")
_SPUN_DASH = re.compile(r"&-+")


class CueError(ValueError):
    """The cue file is missing, not TOML, or has a phrase that does not compile."""


def normalize(text: str) -> str:
    """Lowercase, strip accents, unify quotes and dashes, and undo spinner artefacts,
    so that cues written in plain spelling match messy text."""
    text = unicodedata.normalize("NFKD", text).lower()
    text = _unify_punctuation(_MARKS.sub("", text))
    if "&" in text:
        text = _SPUN_DASH.sub("-", text)
        text = _SPUN_APOSTROPHE.sub(r"\1'\2", text)
        text = _SPUN_QUOTE.sub('"', text)
    return text


@lru_cache(maxsize=8192)
def _normalize_short(text: str) -> str:
    return normalize(text)


def normalize_line(text: str) -> str:
    """normalize() memoised for lines and sentences: the page reader normalises the same
    line several times (merging wrapped lines, kinds of block, sentence ends)."""
    return _normalize_short(text) if len(text) <= 2000 else normalize(text)


def _token_regex(token: str) -> str:
    """One word of a phrase: `*` is the rest of a word, a leading `*` any prefix."""
    prefix = token.startswith("*")
    suffix = token.endswith("*") and len(token) > 1
    core = token.strip("*")
    body = re.escape(core).replace(r"\-", r"\W*")
    if prefix:
        body = r"\w*" + body
    elif core[:1].isalnum() or core[:1] == "_":
        body = r"(?<!\w)" + body
    if suffix:
        body += r"\w*"
    elif core[-1:].isalnum() or core[-1:] == "_":
        body += r"(?!\w)"
    return body


def phrase_to_regex(phrase: str) -> str:
    """Translate one cue phrase (see cues.toml) into a regular expression."""
    if phrase.startswith("re:"):
        return phrase[3:]
    tokens = normalize(phrase).split()
    if not tokens or all(t == ".." for t in tokens):
        raise CueError(f"empty cue phrase {phrase!r}")
    out: list[str] = []
    gap = False
    for token in tokens:
        if token == "..":
            gap = True
            continue
        if out:
            out.append(r"(?:\W+\w+){0,3}?\W+" if gap else r"\W+")
        gap = False
        out.append(_token_regex(token))
    return "".join(out)


_WORD = re.compile(r"\w+")
_WORD_PIECES = re.compile(r"(\w+)")
_LEAD_WORD = re.compile(r"\w+")
_BUCKET = 3  # stems are looked up by their first three letters

Entry = tuple[str, "re.Pattern[str] | None", "str | None"]


def _second_word(spelled: list[str]) -> str | None:
    r"""What the word after the first must start with, for a phrase whose first token is
    a whole word or stem: its second token's leading letters, when that token follows
    right after (no `..` gap) and starts with a letter (no leading `*`). The phrase's
    regex joins them with `\W+`, so they can only stand in the next word."""
    tokens = spelled[next(i for i, t in enumerate(spelled) if t != ".."):]
    if len(tokens) < 2 or tokens[1] == ".." or tokens[1].startswith("*"):
        return None
    lead = _LEAD_WORD.match(tokens[1])
    return lead.group() if lead is not None else None


class PhraseIndex:
    """All phrases of all categories, indexed by their first word, so that a text is
    read once, word by word, instead of once per phrase (hundreds of phrases, and the
    classifier must keep up with a crawl)."""

    def __init__(self) -> None:
        # An entry is (category, check, second): `check` the regex of the whole phrase
        # (None for a single word), `second` what the next word must start with for the
        # phrase to match (None: not known), a cheap test before the check.
        self.exact: dict[str, list[Entry]] = {}
        self.stems: dict[str, list[tuple[str, Entry]]] = {}
        self.short_stems: list[tuple[str, Entry]] = []
        self.infix: list[tuple[str, str, re.Pattern[str] | None]] = []
        self.raw: list[RawCue] = []
        self._infix_re: re.Pattern[str] | None = None
        self._raw_literals = Literals(set())
        self._infix_cache: dict[str, tuple[tuple[str, re.Pattern[str] | None], ...]] = {}
        self._cache: dict[str, tuple[Entry, ...]] = {}
        # (word, first letter of the next word) -> the entries that may match there
        self._after: dict[tuple[str, str], tuple[Entry, ...]] = {}

    def add(self, category: str, phrase: str, regex: str) -> None:
        """Index one phrase; `regex` is its translation (used to check the whole phrase)."""
        if phrase.startswith("re:"):
            # multiline: raw cues read sentences joined by newlines, and "^" / "$" stand
            # for the start and end of each sentence
            self.raw.append(RawCue(category, re.compile(regex, re.MULTILINE)))
            return
        spelled = normalize(phrase).split()
        tokens = [t for t in spelled if t != ".."]
        first = tokens[0]
        single = len(tokens) == 1
        core = first.strip("*")
        lead = _LEAD_WORD.match(core)
        if lead is None:
            self.raw.append(RawCue(category, re.compile(regex)))
            return
        whole = lead.end() == len(core)
        check = None if (single and whole) else re.compile(regex)
        if first.startswith("*"):
            self.infix.append((lead.group(), category, check))
        elif first.endswith("*") and whole:
            stem = lead.group()
            entry = (category, check, _second_word(spelled))
            if len(stem) < _BUCKET:
                self.short_stems.append((stem, entry))
            else:
                self.stems.setdefault(stem[:_BUCKET], []).append((stem, entry))
        else:
            key = lead.group()
            if not whole and check is None:
                check = re.compile(regex)
            second = _second_word(spelled) if whole else None
            self.exact.setdefault(key, []).append((category, check, second))

    def _entries(self, word: str) -> tuple[Entry, ...]:
        """The phrases that may start at this word, in index order (memoised per word:
        a text's words repeat, and the lookups were most of the classifier's time)."""
        out = list(self.exact.get(word, ()))
        out += [e for stem, e in self.stems.get(word[:_BUCKET], ()) if word.startswith(stem)]
        out += [e for stem, e in self.short_stems if word.startswith(stem)]
        return tuple(out)

    def has_any(self, text: str, categories: tuple[str, ...]) -> bool:
        """Whether a word-list phrase of one of the categories occurs (stops at the first)."""
        cache = self._cache
        for m in _WORD.finditer(text):
            word = m.group()
            entries = cache.get(word)
            if entries is None:
                entries = cache[word] = self._entries(word)
            for category, check, _second in entries:
                if category in categories and (check is None or check.match(text, m.start())):
                    return True
        found: list[tuple[str, int, int]] = []
        if self._infix_re is not None and self._infix_re.search(text):
            self._find_infix(text, found)
        return any(c in categories for c, _, _ in found)

    def finish(self) -> None:
        self._raw_literals = Literals(set().union(*(cue.literals() for cue in self.raw)))
        subs = sorted({sub for sub, _, _ in self.infix}, key=len, reverse=True)
        self._infix_re = re.compile("|".join(re.escape(s) for s in subs)) if subs else None

    def find(self, text: str, raw: bool = True) -> list[tuple[str, int, int]]:
        """(category, start, end) of every phrase occurring in the normalised text;
        `raw=False` leaves out the regular-expression cues (see `find_raw`)."""
        found: list[tuple[str, int, int]] = []
        cache = self._cache
        if len(cache) > 200_000:
            cache.clear()  # bounded: the vocabulary of a long crawl is unbounded
        # text before the first word, first word, text between, ..., text after the last:
        # the words and their offsets without a match object per word
        pieces = _WORD_PIECES.split(text)
        words = pieces[1::2]
        for word in set(words).difference(cache):
            cache[word] = self._entries(word)
        hits = [n for n, word in enumerate(words) if cache[word]]  # words starting a phrase
        if hits:
            offsets = list(accumulate(map(len, pieces)))  # word n: offsets[2n] to [2n + 1]
            self._find_phrases(text, words, offsets, hits, found)
        if self._infix_re is not None and self._infix_re.search(text):
            self._find_infix(text, found)
        if raw:
            found.extend(self.find_raw(text))
        return found

    def _find_phrases(self, text: str, words: list[str], offsets: list[int], hits: list[int],
                      found: list[tuple[str, int, int]]) -> None:
        """The phrases starting at the given words (indexes into `words`)."""
        after = self._after
        if len(after) > 200_000:
            after.clear()
        last = len(words) - 1
        for n in hits:
            word = words[n]
            following = words[n + 1] if n < last else ""
            key = (word, following[:1])
            entries = after.get(key)
            if entries is None:
                entries = after[key] = self._entries_before(word, key[1])
            start = offsets[2 * n]
            for category, check, second in entries:
                if check is None:
                    found.append((category, start, offsets[2 * n + 1]))
                elif second is None or following.startswith(second):
                    hit = check.match(text, start)
                    if hit is not None:
                        found.append((category, start, hit.end()))

    def _entries_before(self, word: str, initial: str) -> tuple[Entry, ...]:
        """The phrases that may start at this word when the next word begins with
        `initial` ("" at the end of the text), in index order: "the" starts dozens of
        phrases, but few of them go on with the next word's first letter."""
        return tuple(e for e in self._cache[word] if e[1] is None or e[2] is None
                     or (initial and e[2].startswith(initial)))

    def find_raw(self, text: str) -> list[tuple[str, int, int]]:
        """Matches of the regular-expression cues: slower, so callers run them only on
        sentences that may speak of a contact."""
        present = self._raw_literals.present(text)
        found: dict[tuple[str, bool], list[int]] = {}  # where starts are, for all cues
        return [(cue.category, a, b) for cue in self.raw
                for a, b in cue.spans(text, present, found)]

    def _find_infix(self, text: str, found: list[tuple[str, int, int]]) -> None:
        cache = self._infix_cache
        if len(cache) > 200_000:
            cache.clear()
        for m in _WORD.finditer(text):
            word = m.group()
            entries = cache.get(word)
            if entries is None:  # the infix phrases inside this word, in index order
                entries = cache[word] = tuple((category, check) for sub, category, check
                                              in self.infix if sub in word)
            for category, check in entries:
                self._hit(found, category, check, text, m.start(), m.end())

    @staticmethod
    def _hit(found: list, category: str, check: re.Pattern[str] | None, text: str,
             start: int, end: int) -> None:
        if check is None:
            found.append((category, start, end))
            return
        hit = check.match(text, start)
        if hit is not None:
            found.append((category, start, hit.end()))


@dataclass(frozen=True)
class Cues:
    """Compiled cues: the phrase index of all categories, plus page-furniture rules."""

    version: str
    index: PhraseIndex
    furniture: re.Pattern[str]
    abbreviations: frozenset[str]
    source: str
    # Languages the cues read: those with cues in every category that decides a status
    # (READ_CATEGORIES); in the others the rules see a few names and guess.
    languages: frozenset[str] = frozenset()
    # The furniture rules split for speed: those anchored at the start of the line (tried
    # there only) and the others; together they say what `furniture.search` says.
    furniture_at_start: re.Pattern[str] = re.compile(r"(?!x)x")
    furniture_anywhere: re.Pattern[str] = re.compile(r"(?!x)x")
    # Literals one of which a line has if `furniture_anywhere` matches it (None: unknown).
    # Testing them with `in` is several times faster than the search, which tries each
    # rule at each character of the line, and few lines have any of them.
    furniture_guard: tuple[str, ...] | None = None

    def is_furniture(self, norm: str) -> bool:
        """Whether a normalised line matches a page-furniture rule."""
        if self.furniture_at_start.match(norm):
            return True
        if self.furniture_guard is not None:
            for literal in self.furniture_guard:
                if literal in norm:
                    break
            else:
                return False  # no rule can match
        return self.furniture_anywhere.search(norm) is not None

    def find(
        self, text: str, categories: tuple[str, ...] | None = None, raw: bool = True
    ) -> list[tuple[str, int, int]]:
        """Matches in a normalised text, optionally only of some categories."""
        hits = self.index.find(text, raw=raw)
        if categories is None:
            return hits
        return [h for h in hits if h[0] in categories]


def _phrases(table: dict, where: str) -> list[str]:
    """All phrases of a category, over every language list in it."""
    if not isinstance(table, dict):
        raise CueError(f"{where} must be a table of lists (one per language)")
    phrases: list[str] = []
    for lang, items in table.items():
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise CueError(f"{where}.{lang} must be a list of strings")
        phrases.extend(items)
    return phrases


def _add_all(index: PhraseIndex, category: str, phrases: list[str], where: str) -> None:
    for phrase in phrases:
        regex = phrase_to_regex(phrase)
        try:
            re.compile(regex)
        except re.error as exc:
            raise CueError(f"{where}: cue {phrase!r} does not compile: {exc}") from None
        index.add(category, phrase, regex)


# The cue tables a language needs to be read: contact words and each kind of status.
READ_CATEGORIES = ("contact", "uncertain", "denial", "negation", "claim", "silence",
                   "planned", "refusal", "past")


def _read_languages(data: dict) -> frozenset[str]:
    sections = [data.get(CATEGORIES[c][0], {}).get(CATEGORIES[c][1], {})
                for c in READ_CATEGORIES]
    langs = set.intersection(*(set(s) for s in sections)) if sections else set()
    return frozenset(langs - {"any"})


def compile_cues(data: dict, source: str = "<memory>") -> Cues:
    """Build Cues from the parsed TOML of a cue file."""
    index = PhraseIndex()
    for name, (table, key) in CATEGORIES.items():
        section = data.get(table, {}).get(key, {})
        _add_all(index, name, _phrases(section, f"{table}.{key}"), f"{table}.{key}")
    index.finish()
    page = data.get("page", {})
    furniture_parts = []
    at_start, anywhere = [], []
    for regex in page.get("furniture", []):
        try:
            re.compile(regex)
        except re.error as exc:
            raise CueError(f"page.furniture: {regex!r} does not compile: {exc}") from None
        furniture_parts.append(f"(?:{regex})")
        (at_start if anchored(regex) else anywhere).append(f"(?:{regex})")
    furniture = re.compile("|".join(furniture_parts) or r"(?!x)x")
    guard: set[str] | None = set()
    for regex in anywhere:
        needed = needed_literals(regex)
        if needed is None:
            guard = None  # a rule without a known literal: every line is searched
            break
        guard |= needed
    if guard is not None:  # "photo" is in every line that has "photo by"
        guard = {n for n in guard if not any(m != n and m in n for m in guard)}
    abbreviations = frozenset(normalize(a) for a in page.get("abbreviations", []))
    return Cues(
        version=str(data.get("version", "0")),
        index=index,
        furniture=furniture,
        furniture_at_start=re.compile("|".join(at_start) or r"(?!x)x"),
        furniture_anywhere=re.compile("|".join(anywhere) or r"(?!x)x"),
        furniture_guard=tuple(sorted(guard)) if guard is not None else None,
        abbreviations=abbreviations,
        source=source,
        languages=_read_languages(data),
    )


@lru_cache(maxsize=8)
def _load(path: Path, mtime: float) -> Cues:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CueError(f"cannot read cue file {path}: {exc}") from None
    except UnicodeDecodeError:
        raise CueError(f"cannot read cue file {path}: not a text file (not UTF-8)") from None
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        raise CueError(f"cue file {path} is not valid TOML: {exc}") from None
    return compile_cues(data, str(path))


def load_cues(path: Path | str | None = None) -> Cues:
    """Load and compile a cue file (the shipped one by default); cached per file version."""
    cue_path = Path(path) if path is not None else DEFAULT_CUES
    try:
        mtime = cue_path.stat().st_mtime
    except OSError as exc:
        raise CueError(f"cannot read cue file {cue_path}: {exc}") from None
    return _load(cue_path.resolve() if path is not None else _DEFAULT_RESOLVED, mtime)
