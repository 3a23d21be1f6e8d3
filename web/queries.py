"""What the pages and the API share: turning query parameters into the archive's
filters, and search snippets into safe HTML."""

from __future__ import annotations

import html
from datetime import datetime

from markupsafe import Markup

from archive.search import Filters, SearchError, highlighted, make_filters, parse_when, plain

MAX_PAGE = 10_000  # archive.search refuses deeper pages; stories follow the same rule
STORIES_PER_PAGE = 50


def parameter_of(error: Exception) -> str | None:
    """The parameter a SearchError names: its messages start with `name:`."""
    head, sep, _ = str(error).partition(":")
    return head if sep and head.isidentifier() else None


def search_filters(q: str | None = None, outlets: list[str] | None = None,
                   status: str | None = None, story: int | str | None = None,
                   since: str | None = None, until: str | None = None,
                   language: str | None = None) -> Filters:
    """archive.search.make_filters, plus the checks it leaves to its callers: PostgreSQL
    refuses NUL characters in any text, so a NUL must be a 4xx here, not a 500 there."""
    outlets = [o for o in outlets or [] if o is not None]
    for name, value in (("outlet", " ".join(outlets)), ("since", since), ("until", until),
                        ("language", language)):
        if value and "\x00" in value:
            raise SearchError(f"{name}: contains a NUL character")
    try:
        return make_filters(q, outlets, status or None, story, since, until, language)
    except OverflowError:  # `until` 9999-12-31 ends after the last representable day
        raise SearchError("until: is beyond the year 9999") from None


def since_moment(value: str | None) -> datetime | None:
    """An optional `since` (date or ISO date-time) for lists that are not searches."""
    if value is None or value.strip() == "":
        return None
    if "\x00" in value:
        raise SearchError("since: contains a NUL character")
    return parse_when(value, "since")


def until_moment(value: str | None) -> datetime | None:
    if value is None or value.strip() == "":
        return None
    if "\x00" in value:
        raise SearchError("until: contains a NUL character")
    try:
        return parse_when(value, "until", end_of_day=True)
    except OverflowError:
        raise SearchError("until: is beyond the year 9999") from None


def snippet_html(snippet: str | None) -> Markup:
    """Escape the article text FIRST, then turn the highlight markers into <mark>: the
    other order would let an article's own `<` through as markup."""
    return Markup(highlighted(html.escape(snippet or "", quote=True), "<mark>", "</mark>"))


def snippet_text(snippet: str | None) -> str:
    return plain(snippet)
