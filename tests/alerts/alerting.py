"""Articles put into stories the way the crawl's pipeline does it (store → story →
outbox, one transaction), from reports we wrote for these tests."""

from __future__ import annotations

from datetime import datetime

from alerts.outbox import Outbox
from archive.store import ArticleRecord, store_article
from archive.stories import Assignment, assign_story

# Our own invented reports: two contacts weeks apart, with different people involved.
PHONE_CALL = (
    "Kremlin spokesman Dmitry Peskov declined on Wednesday to confirm reports that "
    "Vladimir Putin and Donald Trump spoke by telephone about a ceasefire in the Black Sea. "
    "Two people familiar with the conversation said the presidents talked for about an hour "
    "and discussed grain shipments, prisoner exchanges and a possible summit in the spring. "
    "The White House did not respond to requests for comment on the claimed call. "
    "Officials in Moscow said only that contacts between the two administrations continue "
    "through several channels, and that any announcement would come in due course. "
    "Analysts said a call of this kind would mark a shift after months of silence between "
    "the two leaders, whose last confirmed conversation took place in the autumn. "
)
ENVOY_MEETING = (
    "Sergei Lavrov and Marco Rubio held a closed meeting in Riyadh, according to a regional "
    "diplomat who asked not to be named, though neither ministry has acknowledged it. "
    "The diplomat said the foreign ministers discussed embassy staffing, flights between "
    "the countries and the return of seized diplomatic property in Maryland and New York. "
    "A spokesperson for the State Department declined to say whether the meeting happened. "
    "The Russian foreign ministry referred questions to earlier statements about dialogue. "
    "Observers noted that Saudi officials had hosted several rounds of quiet talks before. "
)


def report(db, outbox: Outbox | None, outlet: str, key: str, published: str,
           text: str = PHONE_CALL, *, status: str = "unconfirmed", title: str | None = None,
           evidence: str | None = None, language: str = "en",
           confidence: float | None = None,
           ) -> tuple[int, Assignment | None, list[int]]:
    """Store one outlet's article as classified, put it in its story and record its
    alerts in one transaction; return (article id, assignment, new alert ids)."""
    with db.transaction():
        result = store_article(db, ArticleRecord(
            url=f"https://{outlet.lower().replace(' ', '-')}.example/{key}", outlet=outlet,
            text=text, title=title or f"{outlet} on the reported contact",
            published_at=datetime.fromisoformat(published), language=language,
            contact_story=True, call_status=status,
            evidence=evidence or text.split(". ")[0] + ".", classifier_version="test",
            confidence=confidence))
        assignment = assign_story(db, result.article_id)
        alerts = outbox.record(db, assignment) if (outbox and assignment) else []
    return result.article_id, assignment, alerts
