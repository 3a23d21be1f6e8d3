"""Page → article: title, text, published date, authors, site name, canonical URL,
language. A plain function over stored bytes, so the archive can be re-extracted
(design notes: docs/extraction.md)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime

import trafilatura
from htmldate import find_date
from lxml import etree
from lxml.html import HtmlElement
from trafilatura.metadata import extract_metadata
from trafilatura.settings import set_date_params
from trafilatura.utils import load_html

from core.urls import host_of
from extract.charset import decode_html, plausible_date, storable, xml_safe_html
from extract.chunks import add_split_chunks
from extract.jsonld import ArticleData, read_json_ld
from extract.meta import (
    declared_language,
    detect_language,
    meta_dates,
    normalise_date,
)
from extract.text import (
    drop_edge_boilerplate,
    drop_leading_title,
    has_prose,
    prose_length,
    shingle_overlap,
    strip_site_name,
    tidy_lines,
)

# Precision mode's text shorter than this share of the balanced text's prose: it lost
# the article (seen on pages whose article sits in an unusual container).
PRECISION_MIN_SHARE = 0.6
# Precision text with less prose than this is checked against the balanced mode too.
SHORT_PROSE = 500
# A JSON-LD articleBody within these bounds of the extracted length (and sharing its
# word 4-grams, below) is the same article without the page's extra matter.
JSONLD_MIN_LENGTH_RATIO = 0.8
JSONLD_MAX_LENGTH_RATIO = 1.05
JSONLD_MIN_INSIDE = 0.9  # share of the JSON-LD body's 4-grams found in the extracted text
JSONLD_MIN_COVER = 0.75  # share of the extracted text's 4-grams found in the JSON-LD body
# Below this many characters an extraction counts as nothing found.
MIN_TEXT = 200
# What a hostile page can put in the metadata is cut to these lengths.
MAX_TITLE = 1000
MAX_FIELD = 300  # site name, each author, language
MAX_AUTHORS = 20
MAX_DESCRIPTION = 5000
# A page with more elements than this is not read: real article pages have a few
# thousand; a million `<p>x</p>` once kept the extractor busy for half an hour.
MAX_ELEMENTS = 150_000


class ExtractionLimit(Exception):
    """The page is beyond what the extractor reads (too many elements, nested too
    deeply for it): a limit of ours, not proof that the page holds no article."""


@dataclass
class Extracted:
    title: str | None
    text: str
    published: str | None  # ISO 8601 date or datetime (with offset when the page gives one)
    authors: list[str] = field(default_factory=list)
    site_name: str | None = None
    url: str | None = None  # canonical URL when the page states one
    language: str | None = None  # ISO 639-1
    description: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def extract(
    page: bytes | str, url: str | None = None, content_type: str | None = None
) -> Extracted:
    """Extract the main article of an HTML page. Empty text means no article was found.
    Every field comes out as the archive can store it (no NUL, no lone surrogates, no
    control characters, bounded metadata, a plausible publication date). Raises
    ExtractionLimit, and nothing else, for a page beyond the extractor's limits."""
    try:
        return _extract(page, url, content_type)
    except RecursionError:
        raise ExtractionLimit("page nested too deeply for the extractor") from None
    except MemoryError:
        raise ExtractionLimit("page too large for the extractor's memory") from None


def _extract(page: bytes | str, url: str | None, content_type: str | None) -> Extracted:
    html = decode_html(page, content_type) if isinstance(page, bytes) else page
    tags = count_tags(html)
    if tags > MAX_ELEMENTS:
        raise ExtractionLimit(f"page has {tags:,} elements, more than the "
                              f"{MAX_ELEMENTS:,} the extractor reads")
    tree = parse_html(xml_safe_html(html))
    if tree is None:
        return Extracted(title=None, text="", published=None, url=url)
    ld = read_json_ld(tree)
    text = article_text(tree, url, ld)
    meta = extract_metadata(tree, url, extensive=False)
    if not meta.date:  # the slower text-pattern search, only when the markup has no date
        meta.date = find_date(tree, **set_date_params(extensive=True))
    title = ld.headline or strip_site_name(meta.title, meta.sitename, _host(meta.url or url))
    headlines = [title, meta.title, *page_titles(tree)]
    text = drop_edge_boilerplate(drop_leading_title(tidy_lines(text), headlines))
    return Extracted(
        title=_field(title, MAX_TITLE),
        text=storable(text),
        published=published_date(tree, meta.date, ld),
        authors=[a for a in (_field(a, MAX_FIELD) for a in
                             (split_authors(meta.author) or ld.authors)[:MAX_AUTHORS]) if a],
        site_name=_field(meta.sitename or ld.publisher, MAX_FIELD),
        url=_field(meta.url, None) or url,
        language=_field(detect_language(text) or declared_language(tree) or ld.language,
                        MAX_FIELD),
        description=_field(meta.description, MAX_DESCRIPTION),
    )


def _field(value: object, limit: int | None) -> str | None:
    """A metadata string as the archive can store it; None for nothing."""
    if value is None:
        return None
    text = storable(str(value)).strip()
    return (text[:limit] if limit else text) or None


_START_TAG = re.compile(r"<[A-Za-z]")


def count_tags(html: str) -> int:
    """Start tags in the page, counted before any parsing (cheap, an upper bound)."""
    return sum(1 for _ in _START_TAG.finditer(html))


def parse_html(html: str) -> HtmlElement | None:
    """One lxml tree for every step; None for an empty or non-HTML page."""
    if not html or not html.strip():
        return None
    try:
        return load_html(html)
    except (ValueError, TypeError, etree.LxmlError):
        return None


def run_trafilatura(tree: HtmlElement, url: str | None, **options: bool) -> str:
    """trafilatura's plain-text body for the tree (which it copies), '' when it finds none."""
    doc = trafilatura.bare_extraction(
        tree,
        url=url,
        include_comments=False,
        include_tables=True,
        deduplicate=False,
        with_metadata=False,
        **options,
    )
    return (doc.text or "").strip() if doc is not None else ""


def article_text(tree: HtmlElement, url: str | None, ld: ArticleData) -> str:
    """The body: precision mode, the balanced text when precision lost the article, and
    the JSON-LD articleBody when it is complete (see the module docstring)."""
    text = run_trafilatura(tree, url, favor_precision=True)
    prose = prose_length(text)
    # The second run costs a third of the time: only when precision kept little of
    # the page's paragraph text, or little text at all.
    if prose < PRECISION_MIN_SHARE * paragraph_length(tree) or prose < SHORT_PROSE:
        balanced = run_trafilatura(tree, url, fast=True)
        if prose < PRECISION_MIN_SHARE * prose_length(balanced):
            text = balanced
    text = add_split_chunks(tree, text)
    if ld.body and complete_json_ld_body(ld.body, text):
        return ld.body
    # Menu entries and link lists with not one sentence among them: no article.
    return text if has_prose(text) else ""


def page_titles(tree: HtmlElement) -> list[str]:
    """The page's other wordings of its headline: og:title and the first <h1>."""
    found = [str(t) for t in tree.xpath('//meta[@property="og:title"]/@content')[:1]]
    h1 = tree.find(".//h1")
    if h1 is not None:
        found.append(h1.text_content())
    return found


def paragraph_length(tree: HtmlElement) -> int:
    """Characters of text in the page's <p> elements: a cheap upper hint of its prose."""
    return sum(len(p.text_content()) for p in tree.iter("p"))


def complete_json_ld_body(body: str, text: str) -> bool:
    """Whether the JSON-LD articleBody is the whole article: not cut short with an
    ellipsis, and either the extraction found (almost) nothing, or the two are the same
    article and the body is the one without extra matter."""
    if body.rstrip().endswith(("...", "…", "[…]", "[...]")):
        return False
    if len(text) < MIN_TEXT:
        return len(body) >= MIN_TEXT
    ratio = len(body) / len(text)
    if not JSONLD_MIN_LENGTH_RATIO <= ratio <= JSONLD_MAX_LENGTH_RATIO:
        return False
    return (
        shingle_overlap(body, text) >= JSONLD_MIN_INSIDE
        and shingle_overlap(text, body) >= JSONLD_MIN_COVER
    )


def published_date(tree: HtmlElement, found: str | None, ld: ArticleData) -> str | None:
    """trafilatura's publication date (htmldate: the original, not the modified date),
    given its time and offset when a page's own publication stamp says the same day."""
    stamps = [s for s in [ld.published, *meta_dates(tree)] if s]
    normalised = [d for d in (normalise_date(s) for s in stamps) if d and _plausible(d)]
    day = normalise_date(found) if found else None
    day = day if day and _plausible(day) else None
    if day is None:
        return normalised[0] if normalised else None
    for stamp in normalised:
        if stamp.startswith(day) and len(stamp) > len(day):
            return stamp
    return day


def _plausible(stamp: str) -> bool:
    """An ISO date or date-time within the bounds news can have (extract.charset)."""
    try:
        when = datetime.fromisoformat(stamp)
    except ValueError:
        return False
    return plausible_date(when)


def _host(url: str | None) -> str | None:
    try:
        return host_of(url) if url else None
    except ValueError:
        return None


_AUTHOR_SPLIT = re.compile(r"\s*;\s*")


def split_authors(author: str | None) -> list[str]:
    """trafilatura joins authors with '; '."""
    return [a for a in _AUTHOR_SPLIT.split(author or "") if a.strip()]
