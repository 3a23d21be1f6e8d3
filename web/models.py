"""The JSON API's shapes. They are the OpenAPI document (/openapi.json), and FastAPI
checks every response against them, so the documentation cannot drift from the data."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

CallStatus = Literal["unconfirmed", "confirmed", "none"]
StoryStatus = Literal["unconfirmed", "confirmed", "denied"]
ReportStatus = Literal["unconfirmed", "confirmed"]  # what an article reports of a call
DeliveryStatus = Literal["pending", "delivered", "failed"]
SourceState = Literal["ok", "failing", "never polled"]


class Error(BaseModel):
    detail: str = Field(description="what is wrong, starting with the parameter's name")
    parameter: str | None = Field(None, description="the query parameter at fault, if any")


class Health(BaseModel):
    status: Literal["ok"]


class StorySummary(BaseModel):
    id: int
    title: str | None
    status: StoryStatus
    first_article_id: int | None
    first_outlet: str | None
    first_reported_at: datetime | None
    created_at: datetime
    updated_at: datetime
    articles: int = Field(description="articles in the story, copies included")
    outlets: list[str] = Field(description="outlets in order of their first report")
    outlet_count: int


class Evidence(BaseModel):
    """The article that confirmed or denied a story."""
    id: int
    outlet: str
    url: str
    title: str | None
    reported_at: datetime | None
    decides: Literal["confirmed", "denied"] = Field(description="the status it gave")
    official: Literal["ru", "us"] | None = Field(
        description="the government whose own outlet published it; null: a news report")
    status_changed_at: datetime | None


class StoryPage(BaseModel):
    page: int
    limit: int
    next_page: int | None
    results: list[StorySummary]


class TimelineEntry(BaseModel):
    article_id: int
    outlet: str
    url: str
    title: str | None
    reported_at: datetime | None
    call_status: CallStatus | None
    evidence: str | None
    new_outlet: bool = Field(description="the outlet's first article in this story")
    is_copy_of: int | None = Field(description="the article this one copies")
    copy_of_outlet: str | None = Field(description="the outlet whose text this one copies")
    wire: str | None
    joined_at: datetime


class Merge(BaseModel):
    other_id: int
    created_at: datetime


class StoryEvent(BaseModel):
    kind: str = Field(description="merge, split, move, remove, delete, rename or status")
    story_id: int
    other_id: int | None
    article_id: int | None
    reason: str | None
    text: str = Field(description="the change told from this story's side")
    created_at: datetime


class StoryDetail(BaseModel):
    id: int
    title: str | None
    status: StoryStatus
    first_article_id: int | None
    first_outlet: str | None
    first_reported_at: datetime | None
    created_at: datetime
    updated_at: datetime
    outlets: list[str] = Field(description="outlets in order of their first report")
    articles: list[TimelineEntry]
    merged: list[Merge]
    events: list[StoryEvent] = Field(description="merges, splits and moves, oldest first")
    status_evidence: Evidence | None = Field(
        description="the readout, denial or report that confirmed or denied the story")


class SearchHit(BaseModel):
    id: int
    url: str
    title: str | None
    outlet: str
    language: str | None
    contact_story: bool | None
    call_status: CallStatus | None
    evidence: str | None
    story_id: int | None
    reported_at: datetime | None
    rank: float
    snippet: str = Field(description="plain text")
    snippet_html: str = Field(description="HTML-escaped, matches in <mark>…</mark>")


class SearchPage(BaseModel):
    page: int
    limit: int
    total: int = Field(description="matching articles, counted up to total_cap")
    total_capped: bool
    next_page: int | None
    results: list[SearchHit]


class ArticleRef(BaseModel):
    id: int
    outlet: str
    url: str
    title: str | None
    reported_at: datetime | None
    wire: str | None = None


class Article(BaseModel):
    id: int
    url: str
    canonical_url: str | None
    outlet: str
    title: str | None
    published_at: datetime | None
    fetched_at: datetime
    updated_at: datetime
    reported_at: datetime | None
    language: str | None
    authors: list[str]
    site_name: str | None
    contact_story: bool | None
    call_status: CallStatus | None
    evidence: str | None
    classifier_version: str | None
    confidence: float | None = Field(
        default=None, description="0–1: how likely the classifier's decision is right")
    story_id: int | None
    story_title: str | None
    story_status: StoryStatus | None
    is_copy_of: int | None
    wire: str | None
    copy_of: ArticleRef | None
    copies: list[ArticleRef]
    status_evidence: Evidence | None = Field(
        description="what confirmed or denied this article's story (may be this article)")
    claim: ArticleRef | None = Field(
        description="when this article decided its story: the story's first report, "
                    "the claim it confirms or denies")
    text: str


class DayCount(BaseModel):
    day: date
    reports: int


class ReportsPerDay(BaseModel):
    status: ReportStatus
    since: datetime | None
    until: datetime | None = Field(description="exclusive")
    days: list[DayCount] = Field(description="days with at least one report, oldest first")


class Delivery(BaseModel):
    channel: str = Field(description="email, slack or webhook")
    status: DeliveryStatus
    attempts: int = Field(description="tries so far; retries are attempts beyond the first")
    last_error: str | None
    next_attempt_at: datetime | None = Field(description="when a pending one is tried next")
    delivered_at: datetime | None


class AlertEntry(BaseModel):
    id: int
    rule: str
    kind: Literal["first_report", "new_outlet", "status_change"]
    story_id: int
    outlet: str
    story_status: StoryStatus | None = Field(description="a status change's new status")
    article_id: int
    url: str | None
    title: str | None
    created_at: datetime
    deliveries: list[Delivery] = Field(description="one per channel; empty: none configured")


class AlertPage(BaseModel):
    page: int
    limit: int
    next_page: int | None
    results: list[AlertEntry]


class SourceHealth(BaseModel):
    id: int
    outlet: str | None
    kind: str = Field(description="feed, sitemap, section or search")
    url: str = Field(description="credentials in the URL are shown as ***")
    state: SourceState
    consecutive_failures: int
    last_error: str | None = Field(description="why the last poll failed")
    last_status: int | None = Field(description="HTTP status of the last poll")
    last_polled_at: datetime | None
    last_success_at: datetime | None
    next_poll_at: datetime | None
    interval_minutes: float = Field(description="as configured")
    effective_interval_minutes: float | None = Field(description="as adapted, if it was")


class SourcePage(BaseModel):
    page: int
    limit: int
    next_page: int | None
    totals: dict[SourceState, int] = Field(description="sources per state, all pages")
    results: list[SourceHealth]
