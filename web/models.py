"""The JSON API's shapes. They are the OpenAPI document (/openapi.json), and FastAPI
checks every response against them, so the documentation cannot drift from the data."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

CallStatus = Literal["unconfirmed", "confirmed", "none"]
StoryStatus = Literal["unconfirmed", "confirmed"]


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
    text: str


class DayCount(BaseModel):
    day: date
    reports: int


class ReportsPerDay(BaseModel):
    status: StoryStatus
    since: datetime | None
    until: datetime | None = Field(description="exclusive")
    days: list[DayCount] = Field(description="days with at least one report, oldest first")
