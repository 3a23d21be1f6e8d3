"""The JSON API: the same reads as the pages, one route each, documented by FastAPI at
/openapi.json and /docs. Parameters are typed and bounded in the signature, so the
OpenAPI document states every limit the server enforces."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import psycopg
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import StringConstraints, WithJsonSchema

from archive.search import SearchError
from web import views
from web.models import (
    AlertPage,
    Article,
    CallStatus,
    DeliveryStatus,
    Error,
    ReportsPerDay,
    ReportStatus,
    SearchPage,
    SourcePage,
    SourceState,
    StoryDetail,
    StoryPage,
    StoryStatus,
)
from web.queries import MAX_PAGE, search_filters, since_moment, until_moment

MAX_LIMIT = 100  # a larger `limit` is refused with 422, never silently clamped
MAX_ID = 2**63 - 1  # PostgreSQL bigint
NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL
LANGUAGE = r"^([A-Za-z]{2,3}(-[A-Za-z]{2,4})?)?$"  # empty: any, as an HTML form sends it
# A date (a whole UTC day) or an ISO date-time; empty means no limit, as for a form.
# `since` must be before `until`: a rule across two parameters that OpenAPI cannot state.
WHEN = {"anyOf": [{"type": "string", "format": "date"},
                  {"type": "string", "format": "date-time"},
                  {"type": "string", "maxLength": 0}]}

When = Annotated[str, WithJsonSchema(WHEN)]
Page = Annotated[int, Query(ge=1, le=MAX_PAGE, description="1 is the first page")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"at most {MAX_LIMIT}")]
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
Outlet = Annotated[str, StringConstraints(max_length=200, pattern=NO_NUL)]
Language = Annotated[str | None, Query(pattern=LANGUAGE, description="e.g. en, ru")]
CHANNEL = r"^[a-z]{0,20}$"

REPEATABLE = {"outlet"}


async def single_values(request: Request) -> None:
    """A parameter given twice is refused, not silently resolved to its last value."""
    for name in request.query_params:
        if name not in REPEATABLE and len(request.query_params.getlist(name)) > 1:
            raise SearchError(f"{name}: given more than once")


router = APIRouter(prefix="/api", tags=["archive"], dependencies=[Depends(single_values)],
                   responses={401: {"model": Error, "description": "token missing or wrong"},
                              422: {"model": Error, "description": "a parameter is wrong"},
                              429: {"model": Error, "description":
                                    "too many wrong tokens from this address: wait for "
                                    "Retry-After seconds"}})


async def connection(request: Request) -> AsyncIterator[psycopg.Connection]:
    """A pooled connection for the length of one request, waited for on the event loop
    (see web.db.WebPool): async, so that neither taking it nor giving it back needs a
    thread of the pool that runs the routes themselves."""
    async with request.app.state.pool.connection() as conn:
        yield conn


Conn = Annotated[psycopg.Connection, Depends(connection)]


@router.get("/stories", response_model=StoryPage, summary="Stories, newest first",
            responses={404: {"model": Error, "description":
                             "no outlet has the name given; `detail` names close ones"}})
def list_stories(conn: Conn,
                 status: Annotated[StoryStatus | None, Query()] = None,
                 since: Annotated[When | None, Query(
                     description="first reported on or after this date or date-time")] = None,
                 outlet: Annotated[Outlet | None, Query(
                     description="stories with an article of this outlet (an unknown "
                                 "name is a 422 naming the close ones)")] = None,
                 language: Language = None,
                 page: Page = 1, limit: Limit = 50) -> dict:
    return views.stories_page(conn, status, since_moment(since), page, limit,
                              outlet=outlet, language=language)


@router.get("/stories/{story_id}", response_model=StoryDetail,
            responses={404: {"model": Error, "description": "no such story"}},
            summary="One story's timeline, outlets in order of first report")
def get_story(conn: Conn, story_id: Id) -> dict:
    found = views.story(conn, story_id)
    if found is None:
        raise HTTPException(404, f"no story {story_id}")
    return found


@router.get("/search", response_model=SearchPage, summary="Full-text search with filters")
def search(conn: Conn,
           q: Annotated[str | None, Query(
               max_length=500, pattern=NO_NUL,
               description='web-search syntax: words, "a phrase", OR, -word')] = None,
           outlet: Annotated[list[Outlet] | None, Query(
               description="an outlet's name; repeat for several")] = None,
           status: Annotated[CallStatus | None, Query()] = None,
           story: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
           since: Annotated[When | None, Query(
               description="reported on or after; must be before `until`")] = None,
           until: Annotated[When | None, Query(
               description="reported before; a date includes its day")] = None,
           language: Language = None,
           page: Page = 1, limit: Limit = 20) -> dict:
    filters = search_filters(q, outlet, status, story, since, until, language)
    return views.search_page(conn, filters, page, limit)


@router.get("/articles/{article_id}", response_model=Article,
            responses={404: {"model": Error, "description": "no such article"}},
            summary="One article in full, with its story, what it copies and its copies")
def get_article(conn: Conn, article_id: Id) -> dict:
    found = views.article(conn, article_id)
    if found is None:
        raise HTTPException(404, f"no article {article_id}")
    return found


@router.get("/articles", response_model=Article,
            responses={404: {"model": Error, "description": "no article at this URL"}},
            summary="One article by its URL (or canonical URL)")
def find_article(conn: Conn, url: Annotated[str, Query(
        min_length=1, max_length=4096, pattern=NO_NUL)]) -> dict:
    found = views.article_by_url(conn, url)
    if found is None:
        raise HTTPException(404, "no article with this URL")
    return found


@router.get("/reports-per-day", response_model=ReportsPerDay,
            summary="Articles reporting a call, per day (UTC)")
def reports_per_day(conn: Conn,
                    since: Annotated[When | None, Query(
                        description="reported on or after; must be before `until`")] = None,
                    until: Annotated[When | None, Query(
                        description="a date includes its day")] = None,
                    status: Annotated[ReportStatus, Query()] = "unconfirmed") -> dict:
    start, end = since_moment(since), until_moment(until)
    if start and end and start >= end:
        raise SearchError("since: must be before until")
    return views.days(conn, start, end, status)


@router.get("/alerts", response_model=AlertPage,
            summary="Alerts sent, newest first, with each channel's delivery")
def alerts(conn: Conn,
           status: Annotated[DeliveryStatus | None, Query(
               description="alerts with a delivery in this state")] = None,
           channel: Annotated[str | None, Query(
               pattern=CHANNEL, description="email, slack or webhook")] = None,
           page: Page = 1, limit: Limit = 50) -> dict:
    return views.alerts_page(conn, status, channel or None, page, limit)


@router.get("/sources", response_model=SourcePage,
            summary="Every source's health: ok or failing, why, last success, next poll")
def sources(conn: Conn,
            state: Annotated[SourceState | None, Query()] = None,
            page: Page = 1, limit: Limit = 100) -> dict:
    return views.sources_page(conn, state, page, limit)
