"""Plain-text clean-up and comparison for extracted article bodies."""

from __future__ import annotations

import re
from collections import Counter

from extract.outlets import registered_domain

_WORD = re.compile(r"\w+")
# For judging prose, each Chinese/Japanese character counts as a word (no spaces there).
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_PROSE_TOKEN = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+")
# A line with fewer words than this is a menu entry, caption or label, not prose.
PROSE_MIN_WORDS = 8
PROSE_LONG_WORDS = 16
_SENTENCE_END = re.compile(r"[.!?…。！？:;][\"'”’»)\]]*\s*$")


def words(text: str | None) -> list[str]:
    return [w.casefold() for w in _WORD.findall(text or "")]


def prose_length(text: str) -> int:
    """Characters in lines that read as sentences: a navigation dump is long but has
    little of it, so candidates are compared on this rather than on raw length."""
    return sum(len(line) for line in text.split("\n") if is_prose(line))


def has_prose(text: str) -> bool:
    """Whether any line reads as a sentence (prose_length > 0), from the first one on."""
    return any(is_prose(line) for line in text.split("\n"))


def is_prose(line: str) -> bool:
    """A sentence rather than a label: enough words, and either a sentence's closing
    punctuation or the length of one (a headline link has neither)."""
    count = len(_PROSE_TOKEN.findall(line))
    if count >= PROSE_LONG_WORDS:
        return True
    return count >= PROSE_MIN_WORDS and bool(_SENTENCE_END.search(line))


def shingle_overlap(part: str, whole: str, n: int = 4) -> float:
    """Share of `part`'s word n-grams (with counts) found in `whole`."""
    a, b = _shingles(part, n), _shingles(whole, n)
    total = sum(a.values())
    return sum((a & b).values()) / total if total else 0.0


def _shingles(text: str, n: int) -> Counter[tuple[str, ...]]:
    w = words(text)
    return Counter(tuple(w[i : i + n]) for i in range(max(0, len(w) - n + 1)))


def tidy_lines(text: str) -> str:
    """One paragraph a line: lines stripped, blank ones dropped."""
    return "\n".join(line.strip() for line in text.split("\n") if line.strip())


def drop_leading_title(text: str, titles: list[str | None]) -> str:
    """Remove the headline when the text starts by repeating it (in any of the page's
    wordings of it: JSON-LD headline, <title>, og:title, <h1>)."""
    first, _, rest = text.partition("\n")
    head = words(first)
    if head and any(head == words(title) for title in titles if title):
        return rest.lstrip("\n")
    return text


# Lines that are furniture around an article, not part of it: sharing prompts,
# newsletter boxes, "read more" links, tag lines. Copyright and "originally published
# by" lines are kept: they tell a wire or syndicated copy.
_BOILERPLATE = re.compile(
    r"""^(?:
        (?:share|like)\ this\ (?:story|article|post)\b.{0,60}
      | (?:click\ to\ )?share\ (?:on|via)\ \w+.{0,20}
      | (?:sign\ up|subscribe)\ (?:for|to)\ (?:our|the)\ .{0,40}newsletters?.{0,80}
      | read\ (?:more|also|next)\b:?.{0,100}
      | related(?:\ (?:articles?|stories|posts|coverage|content))?(?::.{0,100})?
      | also\ on\ \S+\.\w+\b.{0,200}
      | tags?:?
      | advertisement
      | follow\ us\ on\ .{0,60}
    )$""",
    re.I | re.X,
)
# Anywhere in a short edge line: a newsletter box or an author's social-media contact.
_FURNITURE_PHRASE = re.compile(
    r"\b(?:subscribe|sign\ up)\b.{0,80}\bnewsletters?\b"
    r"|\bnewsletters?\b.{0,80}\b(?:subscribe|sign\ up)\b"
    r"|\bfollow\ (?:us|him|her|them|me)\ on\ (?:twitter|facebook|instagram|x)\b",
    re.I | re.X,
)
FURNITURE_MAX_LINE = 250
# How many lines at each edge are examined.
EDGE_LINES = 3


def drop_edge_boilerplate(text: str) -> str:
    """Remove furniture lines within the first and last few lines of the text."""
    lines = text.split("\n")
    while lines and (not lines[-1].strip() or _is_furniture(lines[-1])):
        lines.pop()
    head = 0
    while head < min(EDGE_LINES, len(lines)) and (
        not lines[head].strip() or _is_furniture(lines[head])
    ):
        head += 1
    return "\n".join(lines[head:]).strip()


def _is_furniture(line: str) -> bool:
    line = line.strip()
    if _BOILERPLATE.match(line):
        return True
    return len(line) <= FURNITURE_MAX_LINE and bool(_FURNITURE_PHRASE.search(line))


_HOST_PREFIXES = ("www", "m", "amp", "mobile")
_TITLE_SEPARATORS = re.compile(r"\s+[|\-–—:·•»/]\s+|\s*[|·•»]\s*|\s+::\s+")


def strip_site_name(title: str | None, site_name: str | None, host: str | None) -> str | None:
    """Remove leading or trailing ' | Site' segments from a <title>-style title, when a
    segment names the site: its stated name, a label of its host (letters only, spaces
    and case ignored), or its domain written out."""
    if not title:
        return title
    names = {"".join(words(site_name))} if site_name else set()
    domains: set[str] = set()
    if host:
        labels = [label for label in host.lower().split(".")[:-1] if label not in _HOST_PREFIXES]
        names.update("".join(words(label)) for label in labels)
        domain = registered_domain(host)
        domains.update(
            {host.lower(), domain, *(domain.removeprefix(p + ".") for p in _HOST_PREFIXES)}
        )
    names = {n for n in names if len(n) >= 3}
    parts = _TITLE_SEPARATORS.split(title)
    if len(parts) < 2 or not (names or domains):
        return title

    def is_site(segment: str) -> bool:
        joined = "".join(words(segment))
        lowered = segment.lower()
        return bool(joined) and (joined in names or any(d in lowered for d in domains if "." in d))

    while len(parts) > 1 and is_site(parts[-1]):
        parts.pop()
    while len(parts) > 1 and is_site(parts[0]):
        parts.pop(0)
    if len(parts) == len(_TITLE_SEPARATORS.split(title)):
        return title
    # Rebuild from the original text so the headline's own punctuation survives.
    start = title.find(parts[0])
    end = title.rfind(parts[-1]) + len(parts[-1])
    return title[start:end].strip() if start >= 0 and end > start else title
