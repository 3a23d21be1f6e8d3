"""Articles split into several containers: some sites cut the body into chunks of the
same markup (`<div class="article-body">` … an ad … `<div class="article-body">`), and
trafilatura keeps only the first. The later chunks are found by that shared markup."""

from __future__ import annotations

import re

from lxml.html import HtmlElement

from extract.text import is_prose, words

# Class names of containers that hold article text (not layout grids such as "row").
_BODY_CLASS = re.compile(r"body|content|text|article|story|chunk|entry|post", re.I)
# A paragraph whose text is more than this share of link text is a teaser, not prose.
MAX_LINK_SHARE = 0.3
# Paragraphs are matched on the start of their words.
KEY_CHARS = 60


def add_split_chunks(tree: HtmlElement, text: str) -> str:
    """The text with the prose paragraphs of later containers that share the class of
    the container of its first paragraph, within the same <article> or <main>, appended
    in page order. Unchanged when the first paragraph is not found or has no such kin."""
    first = next((line for line in text.split("\n") if is_prose(line)), None)
    if first is None:
        return text
    key = _key(first)
    anchor = next((p for p in tree.iter("p") if _key(p.text_content()).startswith(key)), None)
    box = anchor.getparent() if anchor is not None else None
    if box is None or not _BODY_CLASS.search(box.get("class") or ""):
        return text
    scope = next((a for a in box.iterancestors() if a.tag in ("article", "main")), None)
    if scope is None:
        return text
    kin = [e for e in scope.iter(box.tag) if e.get("class") == box.get("class")]
    seen = " ".join(words(text))
    added: list[str] = []
    for chunk in kin[kin.index(box) + 1 :]:
        for paragraph in chunk.iter("p"):
            line = " ".join(paragraph.text_content().split())
            links = sum(len(a.text_content()) for a in paragraph.iter("a"))
            if is_prose(line) and links <= MAX_LINK_SHARE * len(line) and _key(line) not in seen:
                added.append(line)
                seen += " " + " ".join(words(line))
    return "\n".join([text, *added]) if added else text


def _key(text: str) -> str:
    return " ".join(words(text))[:KEY_CHARS]
