"""A page's JSON-LD article object (schema.org NewsArticle and kin): headline, body,
dates, authors. Publishers fill it for search engines, so it is often the cleanest
statement of what the page is; it is also often truncated or stale, hence only a hint."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from lxml.html import HtmlElement

_TAGS = re.compile(r"<[^>]{0,500}>")
# A page's JSON-LD is read this deep and this wide at most: publishers nest a few
# levels (@graph, lists, author objects); more is a hostile or broken page.
MAX_DEPTH = 64
MAX_OBJECTS = 10_000
_SPACES = re.compile(r"[ \t\r\f\v]+")


@dataclass
class ArticleData:
    headline: str | None = None
    body: str | None = None
    published: str | None = None
    authors: list[str] = field(default_factory=list)
    publisher: str | None = None
    language: str | None = None


def read_json_ld(tree: HtmlElement) -> ArticleData:
    """The first article-like JSON-LD object's fields (the longest articleBody if several
    objects carry one); empty when the page has none or only invalid JSON."""
    found = ArticleData()
    for obj in article_objects(tree):
        found.headline = found.headline or _string(obj.get("headline") or obj.get("name"))
        body = _clean_body(_string(obj.get("articleBody") or obj.get("text")))
        if body and len(body) > len(found.body or ""):
            found.body = body
        found.published = found.published or _string(obj.get("datePublished"))
        found.authors = found.authors or _names(obj.get("author"))
        publisher = _names(obj.get("publisher"))
        found.publisher = found.publisher or (publisher[0] if publisher else None)
        lang = _string(obj.get("inLanguage"))
        found.language = found.language or (lang.split("-")[0].lower() if lang else None)
    return found


def article_objects(tree: HtmlElement) -> Iterator[dict]:
    """Every JSON-LD object typed as an article (NewsArticle, BlogPosting, …), in page
    order, including those nested in @graph or in lists."""
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        raw = (script.text or "").strip()
        if not raw:
            continue
        try:
            data = json.loads(raw, strict=False)
        except (ValueError, RecursionError):  # invalid, a 5,000-digit number, too deep
            continue
        for obj in _objects(data):
            if _is_article(obj):
                yield obj


def _objects(data: object) -> Iterator[dict]:
    """The dicts in `data`, depth first in document order, without recursion: at most
    MAX_OBJECTS of them, none deeper than MAX_DEPTH."""
    stack: list[tuple[object, int]] = [(data, 0)]
    found = 0
    while stack and found < MAX_OBJECTS:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            continue
        if isinstance(value, dict):
            found += 1
            yield value
            children = list(value.values())
        elif isinstance(value, list):
            children = value
        else:
            continue
        stack.extend((child, depth + 1) for child in reversed(children)
                     if isinstance(child, dict | list))


def _is_article(obj: dict) -> bool:
    kinds = obj.get("@type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return any(isinstance(k, str) and k.endswith(("Article", "Posting", "Report")) for k in kinds)


def _string(value: object) -> str | None:
    if isinstance(value, list) and value:
        value = value[0]
    if isinstance(value, str) and value.strip():
        return html.unescape(value).strip()
    return None


def _names(value: object) -> list[str]:
    """Names from a Person/Organization object, a list of them, or plain strings."""
    items = value if isinstance(value, list) else [value]
    names = []
    for item in items:
        name = item.get("name") if isinstance(item, dict) else item
        text = _string(name)
        if text and text not in names:
            names.append(text)
    return names


def _clean_body(body: str | None) -> str | None:
    """Some publishers put HTML in articleBody: keep the words, one paragraph a line."""
    if not body:
        return None
    body = re.sub(r"(?i)<br\s*/?>|</p\s*>|</h\d\s*>|</li\s*>", "\n", body)
    body = html.unescape(_TAGS.sub(" ", body))
    lines = (_SPACES.sub(" ", line).strip() for line in body.split("\n"))
    return "\n".join(line for line in lines if line) or None
