"""Plain-text clean-up and comparison for extracted article bodies."""

from __future__ import annotations

import re
from collections import Counter

_WORD = re.compile(r"\w+")
# A line with fewer words than this is a menu entry, caption or label, not prose.
PROSE_MIN_WORDS = 8


def words(text: str | None) -> list[str]:
    return [w.casefold() for w in _WORD.findall(text or "")]


def prose_length(text: str) -> int:
    """Characters in lines that read as sentences: a navigation dump is long but has
    little of it, so candidates are compared on this rather than on raw length."""
    return sum(len(line) for line in text.split("\n") if len(_WORD.findall(line)) >= PROSE_MIN_WORDS)


def shingle_overlap(part: str, whole: str, n: int = 4) -> float:
    """Share of `part`'s word n-grams (with counts) found in `whole`."""
    a, b = _shingles(part, n), _shingles(whole, n)
    total = sum(a.values())
    return sum((a & b).values()) / total if total else 0.0


def _shingles(text: str, n: int) -> Counter[tuple[str, ...]]:
    w = words(text)
    return Counter(tuple(w[i : i + n]) for i in range(max(0, len(w) - n + 1)))


def drop_leading_title(text: str, title: str | None) -> str:
    """Remove the headline when the text starts by repeating it."""
    if not text or not title:
        return text
    first, _, rest = text.partition("\n")
    if words(first) and words(first) == words(title):
        return rest.lstrip("\n")
    return text


# Lines that are furniture around an article, not part of it: sharing prompts,
# newsletter boxes, "read more" links, copyright and tag lines.
_BOILERPLATE = re.compile(
    r"""^(?:
        (?:share|like)\ this\ (?:story|article|post)\b.{0,60}
      | (?:click\ to\ )?share\ (?:on|via)\ \w+.{0,20}
      | (?:sign\ up|subscribe)\ (?:for|to)\ (?:our|the)\ .{0,40}newsletters?.{0,80}
      | (?:read|see)\ (?:more|also)\b.{0,100}
      | related(?:\ (?:articles?|stories|posts|coverage|content))?:?.{0,100}
      | also\ on\ \S+\.\w+\b.{0,200}
      | (?:copyright\s*)?(?:©|\(c\)|copyright)\s*(?:\d{4}|[\w&.,'-]+\s+\d{4}).{0,120}
      | all\ rights\ reserved\.?.{0,80}
      | tags?:?
      | advertisement
      | follow\ us\ on\ .{0,60}
      | (?:this\ )?(?:article|story)\ (?:was\ )?(?:originally\ )?(?:published|appeared)\ .{0,120}
    )$""",
    re.I | re.X,
)
# How many lines at each edge are examined.
EDGE_LINES = 3


def drop_edge_boilerplate(text: str) -> str:
    """Remove furniture lines within the first and last few lines of the text."""
    lines = [line for line in text.split("\n")]
    while lines and _is_furniture(lines[-1]) or (lines and not lines[-1].strip()):
        lines.pop()
    head = 0
    while head < min(EDGE_LINES, len(lines)) and (
        not lines[head].strip() or _is_furniture(lines[head])
    ):
        head += 1
    return "\n".join(lines[head:]).strip()


def _is_furniture(line: str) -> bool:
    return bool(_BOILERPLATE.match(line.strip()))
