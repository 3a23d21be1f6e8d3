"""A fetched page: what the crawler hands to processing, and what `reprocess` rebuilds
from a stored raw page; and NotAnArticle, what processing says of a page without one.
Both without the extractor and the classifier, which the crawl's own process does not
import (they run in its extraction children, pipeline.isolated)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class FetchedPage:
    url: str  # the normalised URL the source listed
    final_url: str  # after redirects
    status: int
    content_type: str | None
    body: bytes
    source_id: int | None = None
    entry_ids: list[str] = field(default_factory=list)
    entry_title: str | None = None
    entry_published: datetime | None = None
    found_by: str | None = None  # the search that listed it (discovery of its outlet)
    listed_site_name: str | None = None  # the outlet's name as the search gave it


class NotAnArticle(ValueError):
    """The page holds no article we can store; the message says why."""
