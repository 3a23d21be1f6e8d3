"""`process(page)`: a fetched page's article, classified. A plain function of the page
and the outlet directory, so that a stored page gives the same article today as when it
was fetched, given the same code."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from archive.officials import official_stance
from archive.store import ArticleRecord
from classify import CLASSIFIER_VERSION, Classification, classify
from extract import EXTRACTOR_VERSION, extract
from extract.charset import looks_like_html, plausible_date
from pipeline.page import FetchedPage, NotAnArticle

MIN_ARTICLE_WORDS = 40
HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass
class Processed:
    """A page's article and the classifier's whole decision about it."""

    article: ArticleRecord
    decision: Classification

    def stance(self) -> str | None:
        """What the article says of the contact, when its outlet speaks for a government."""
        return official_stance(self.decision.contact_story, self.decision.call_status,
                               self.decision.stance)


def stored_confidence(confidence: float) -> float:
    """As the archive keeps it: three places, as precise as the calibration is, so that
    a re-derived value compares equal to the stored one."""
    return round(confidence, 3)


def parse_published(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return parsed if plausible_date(parsed) else None


def process(page: FetchedPage, outlet_for: Callable[[str], str]) -> Processed:
    """Extract and classify the article of a fetched page. Raises NotAnArticle with the
    reason when the page holds none. `outlet_for` names the outlet of a URL (the sources
    file's directory)."""
    content_type = (page.content_type or "").split(";")[0].strip().lower()
    if content_type and content_type not in HTML_TYPES and not looks_like_html(page.body):
        raise NotAnArticle(f"not an HTML page (Content-Type: {content_type})")
    if b"\x00" in page.body[:4096] and not looks_like_html(page.body):
        raise NotAnArticle("binary content, not an HTML page")
    extracted = extract(page.body, page.final_url, page.content_type)
    words = len(extracted.text.split())
    if words < MIN_ARTICLE_WORDS:
        raise NotAnArticle(f"no article text found ({words} words extracted)")
    canonical = extracted.url if extracted.url and extracted.url != page.url else None
    title = extracted.title or page.entry_title
    decision = classify(title, extracted.text, extracted.language)
    article = ArticleRecord(
        url=page.url,
        canonical_url=canonical,
        outlet=outlet_for(page.url),
        title=title,
        text=extracted.text,
        published_at=parse_published(extracted.published) or page.entry_published,
        language=extracted.language,
        authors=extracted.authors,
        site_name=extracted.site_name,
        source_id=page.source_id,
        http_status=page.status,
        content_type=page.content_type,
        raw_page=page.body,
        feed_entry_ids=page.entry_ids,
        contact_story=decision.contact_story,
        call_status=decision.call_status,
        evidence=decision.evidence,
        classifier_version=CLASSIFIER_VERSION,
        extractor_version=EXTRACTOR_VERSION,
        confidence=stored_confidence(decision.confidence),
    )
    return Processed(article, decision)
