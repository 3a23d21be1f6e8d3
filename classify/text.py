"""Page text -> the sentences of the article the page is about.

Extracted pages carry menus, newsletter boxes, captions and sometimes a second,
unrelated article. This module drops the furniture, cuts the page into articles at
headlines, picks the article named by the title (or the first news article), and
splits it into sentences whose spans point back into the original text, so that the
evidence can be quoted verbatim."""

from __future__ import annotations

import re
from dataclasses import dataclass

from classify.cues import Cues, normalize_line

_LINE = re.compile(r"[^\n]+")
# Full stops and question marks of the cue languages' scripts: Latin, the Devanagari
# danda, the Arabic question mark and full stop.
_STOPS = ".!?\u2026\u0964\u0965\u061f\u06d4"
_TERMINAL = re.compile(rf"[{_STOPS}:;][\"'\u201d\u2019\u00bb)\]]*$")
_LOWER_START = re.compile(
    r"^[\"'\u201c\u00ab(]*[a-z\u00df-\u00ff\u0430-\u045f\u0491\u0454\u0456\u0457]"
)
_ALNUM_START = re.compile(r"^\w")
_WORD = re.compile(r"\w+")
_TWO_WORDS = re.compile(r"\w\W+\w")  # found where a line has two words or more
# Candidate sentence ends: punctuation, closing quotes, then space.
_SENT_END = re.compile(rf"[{_STOPS}]+[\"'\u201d\u2019\u00bb)\]]*\s+")
# Spun copies glue sentences together: "on Sunday.Trump said". The cut is after the
# punctuation (the match's end); matching the punctuation first lets the regex engine
# skip to it instead of trying the lookbehind at every character.
_GLUED = re.compile(r"[.!?](?<=[a-z\u0430-\u044f]{2}[.!?])(?=[A-Z\u0410-\u042f][a-z\u0430-\u044f])")
_NEXT_LOWER = re.compile(r"[a-z\u0430-\u045f\u0491\u0454\u0456\u0457]")
_INITIAL = re.compile(r"(?:^|\s)[^\W\d_]\.$")  # "J." ends no sentence; "Dec. 3." does


@dataclass
class Block:
    """A line or paragraph of the page, with its span in the original text."""

    start: int
    end: int
    norm: str
    kind: str  # "text", "heading" or "furniture"


@dataclass
class Sentence:
    """One sentence of the chosen article: span in the original text and normalised text."""

    start: int
    end: int
    norm: str
    heading: bool = False


def _ends_sentence(line: str) -> bool:
    return bool(_TERMINAL.search(line.rstrip()))


def _ends_with_abbreviation(norm: str, cues: Cues) -> bool:
    last = norm.rsplit(None, 1)[-1] if norm.strip() else ""
    # a match is at most three characters and ends at most one before the end (`$`)
    return last in cues.abbreviations or bool(_INITIAL.search(norm, max(0, len(norm) - 4)))


def _raw_lines(text: str) -> list[tuple[int, int]]:
    """Non-blank lines as (start, end) spans, stripped of surrounding spaces."""
    spans = []
    for m in _LINE.finditer(text):
        line = m.group()
        stripped = line.strip()
        if not stripped:
            continue
        start = m.start() + (len(line) - len(line.lstrip()))
        spans.append((start, start + len(stripped)))
    return spans


def _merge_wrapped(text: str, spans: list[tuple[int, int]], cues: Cues) -> list[tuple[int, int]]:
    """Join lines that continue a sentence broken by a stray line break."""
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged:
            prev_start, prev_end = merged[-1]
            prev = text[prev_start:prev_end]
            line = text[start:end]
            prev_norm = normalize_line(prev)
            paragraph = text.count("\n", prev_end, start) > 1  # a blank line between
            if (not _ends_sentence(prev) and _LOWER_START.match(line)) or (
                _ends_with_abbreviation(prev_norm, cues) and _ALNUM_START.match(line)
                and len(prev_norm.split()) > 3 and not paragraph
            ):
                merged[-1] = (prev_start, end)
                continue
        merged.append((start, end))
    return merged


def _kind(line: str, norm: str, cues: Cues) -> str:
    words = len(norm.split())
    if words <= 30 and cues.is_furniture(norm):
        return "furniture"
    if not _TWO_WORDS.search(norm):  # one word or none
        return "furniture"
    stripped = line.rstrip()
    if stripped.endswith("?") and words <= 12:
        return "heading"
    if _ends_sentence(stripped):
        return "text"
    return "heading" if words <= 20 else "text"


def page_blocks(text: str, cues: Cues) -> list[Block]:
    """Cut the page into blocks and mark furniture, headings and text."""
    spans = _merge_wrapped(text, _raw_lines(text), cues)
    blocks = []
    for start, end in spans:
        norm = normalize_line(text[start:end]).strip()
        blocks.append(Block(start, end, norm, _kind(text[start:end], norm, cues)))
    _drop_orphan_headings(blocks)
    return blocks


def _drop_orphan_headings(blocks: list[Block]) -> None:
    """A heading with no text after it is a link in a list (related stories, menus)."""
    for i, block in enumerate(blocks):
        if block.kind != "heading":
            continue
        for later in blocks[i + 1:]:
            if later.kind == "furniture" or (later.kind == "heading" and (
                    later.norm == block.norm or len(later.norm.split()) <= 3)):
                continue  # a repeat of the headline, or a kicker, date or section line
            if later.kind != "text":
                block.kind = "furniture"
            break
        else:
            block.kind = "furniture"


def _title_case(line: str) -> bool:
    words = [w for w in _WORD.findall(line) if len(w) >= 4]
    if len(words) < 3:
        return False
    upper = sum(1 for w in words if w[0].isupper())
    return upper / len(words) >= 0.8


def _starts_article(blocks: list[Block], i: int, text: str, counts: dict[str, int]) -> bool:
    """A headline of its own article, not a subhead: repeated on the page, followed by a
    byline, date or caption, or set in title case."""
    block = blocks[i]
    if len(block.norm.split()) < 4:
        return False
    if counts.get(block.norm, 0) > 1:
        return True
    if i + 1 < len(blocks) and blocks[i + 1].kind == "furniture":
        return True
    return len(block.norm.split()) >= 5 and _title_case(text[block.start:block.end])


def split_articles(blocks: list[Block], text: str) -> list[list[Block]]:
    """Group the kept blocks into articles, starting a new one at each headline."""
    counts: dict[str, int] = {}
    for block in blocks:
        if block.kind == "heading":
            counts[block.norm] = counts.get(block.norm, 0) + 1
    articles: list[list[Block]] = [[]]
    for i, block in enumerate(blocks):
        if block.kind == "furniture":
            continue
        current = articles[-1]
        if block.kind == "heading" and current and current[-1].norm == block.norm:
            continue  # the same headline printed twice
        has_text = any(b.kind == "text" for b in current)
        if block.kind == "heading" and has_text and _starts_article(blocks, i, text, counts):
            articles.append([block])
        else:
            current.append(block)
    return [a for a in articles if a]


def _words(norm: str) -> set[str]:
    return set(_WORD.findall(norm))


def matches_title(norm: str, title_norm: str) -> bool:
    """Whether a heading is the page title (allowing small differences)."""
    if not title_norm:
        return False
    if norm == title_norm or (len(title_norm) > 20 and title_norm in norm):
        return True
    a, b = _words(norm), _words(title_norm)
    return bool(a and b) and len(a & b) / len(a | b) >= 0.6


def split_sentences(text: str, start: int, end: int, cues: Cues) -> list[tuple[int, int]]:
    """Sentence spans inside one block; keeps abbreviations such as "U.S." together."""
    chunk = text[start:end]
    cuts = [m.end() for m in _SENT_END.finditer(chunk)]
    cuts += [m.end() for m in _GLUED.finditer(chunk)]
    spans = []
    last = 0
    for cut in sorted(set(cuts)):
        if cut <= last or cut >= len(chunk):
            continue
        piece = chunk[last:cut]
        if _NEXT_LOWER.match(chunk[cut:cut + 1]):
            continue  # "U.S. officials" or a quote going on in lowercase
        if _ends_with_abbreviation(normalize_line(piece.rstrip()), cues):
            continue
        spans.append((last, cut))
        last = cut
    spans.append((last, len(chunk)))
    out = []
    for a, b in spans:
        piece = chunk[a:b]
        lead = len(piece) - len(piece.lstrip())
        trail = len(piece.rstrip())
        if trail > lead:
            out.append((start + a + lead, start + a + trail))
    return out
