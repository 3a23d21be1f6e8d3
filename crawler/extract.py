"""Page → article: title, text, published date, authors, site name, canonical URL,
language. A plain function over stored bytes, so the archive can be re-extracted."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import trafilatura

from crawler.pages import decode_html


@dataclass
class Extracted:
    title: str | None
    text: str
    published: str | None  # ISO 8601 date or datetime, as found on the page
    authors: list[str] = field(default_factory=list)
    site_name: str | None = None
    url: str | None = None  # canonical URL when the page states one
    language: str | None = None
    description: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def extract(page: bytes | str, url: str | None = None, content_type: str | None = None) -> Extracted:
    """Extract the main article of an HTML page. Empty text means no article was found."""
    html = decode_html(page, content_type) if isinstance(page, bytes) else page
    doc = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        favor_precision=False,
        deduplicate=False,
    )
    if doc is None:
        return Extracted(title=None, text="", published=None, url=url)
    data = doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)
    authors = [a.strip() for a in (data.get("author") or "").split(";") if a.strip()]
    return Extracted(
        title=data.get("title") or None,
        text=(data.get("text") or "").strip(),
        published=data.get("date") or None,
        authors=authors,
        site_name=data.get("sitename") or None,
        url=data.get("url") or url,
        language=data.get("language") or None,
        description=data.get("description") or None,
    )
