"""The HTML pages. Every value from the database goes through Jinja2 with autoescape on,
and the pages carry a Content-Security-Policy that allows no script at all: a headline
such as `<script>…</script>` shows as text, and would not run even if it slipped through.

Page parameters are read as text, because an HTML form sends empty fields as "", and a
wrong one is shown on the page beside the form rather than as a bare error."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import urlencode

import psycopg
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from archive.search import SearchError
from web import views
from web.api import LANGUAGE, Conn
from web.chart import bar_chart
from web.guard import COOKIE, token_matches
from web.queries import (
    MAX_PAGE,
    STORIES_PER_PAGE,
    parameter_of,
    search_filters,
    since_moment,
    until_moment,
)

RESULTS_PER_PAGE = 20
ALERTS_PER_PAGE = 50
SOURCES_PER_PAGE = 100
STORY_STATUSES = ("unconfirmed", "confirmed", "denied")
SOURCE_STATES = ("ok", "failing", "never polled")
router = APIRouter(include_in_schema=False)


def render(request: Request, name: str, context: dict, status: int = 200) -> HTMLResponse:
    response = request.app.state.templates.TemplateResponse(
        request, name, context, status_code=status)
    response.headers["content-security-policy"] = request.app.state.csp
    return response


def page_number(value: str | None) -> int:
    try:
        number = int(value or 1)
    except ValueError:
        raise SearchError(f"page: {value!r} is not a page number") from None
    if not 1 <= number <= MAX_PAGE:
        raise SearchError(f"page: must be from 1 to {MAX_PAGE}")
    return number


def link(path: str, params: dict, **changes) -> str:
    """`path?query` keeping the given parameters (empty ones dropped) with changes."""
    merged = {k: v for k, v in {**params, **changes}.items() if v not in (None, "")}
    return f"{path}?{urlencode(merged)}" if merged else path


def chart_for(conn: psycopg.Connection, since=None, until=None,
              status: str = "unconfirmed") -> dict | None:
    return bar_chart(views.days(conn, since, until, status)["days"])


@router.get("/", response_class=HTMLResponse)
def stories(request: Request, conn: Conn, status: str = "", since: str = "",
            outlet: str = "", language: str = "", page: str = "1") -> HTMLResponse:
    params = {"status": status, "since": since, "outlet": outlet, "language": language}
    context = {"params": params, "error": None, "stories": [], "next": None, "prev": None,
               **views.story_filter_choices(conn)}
    try:
        if status not in ("", *STORY_STATUSES):
            raise SearchError(f"status: {status!r} is not one of {', '.join(STORY_STATUSES)}")
        if language and not re.fullmatch(LANGUAGE, language):
            raise SearchError(f"language: {language!r} is not a language code such as en")
        number = page_number(page)
        found = views.stories_page(conn, status or None, since_moment(since), number,
                                   STORIES_PER_PAGE, outlet=outlet.strip() or None,
                                   language=language or None)
    except SearchError as exc:
        context["error"] = str(exc)
        return render(request, "stories.html", context, 422)
    context.update(stories=found["results"], page=number,
                   next=found["next_page"] and link("/", params, page=found["next_page"]),
                   prev=number > 1 and link("/", params, page=number - 1),
                   chart=chart_for(conn))
    return render(request, "stories.html", context)


@router.get("/stories/{story_id}", response_class=HTMLResponse)
def story(request: Request, conn: Conn, story_id: int) -> HTMLResponse:
    found = views.story(conn, story_id) if 1 <= story_id < 2**63 else None
    if found is None:
        raise HTTPException(404, f"There is no story {story_id}.")
    return render(request, "story.html", {"story": found})


@router.get("/search", response_class=HTMLResponse)
def search(request: Request, conn: Conn, q: str = "", outlet: str = "", status: str = "",
           story: str = "", since: str = "", until: str = "", language: str = "",
           page: str = "1") -> HTMLResponse:
    params = {"q": q, "outlet": outlet, "status": status, "story": story, "since": since,
              "until": until, "language": language}
    context = {"params": params, "error": None, "error_field": None, "found": None,
               "next": None, "prev": None}
    if not any(value.strip() for value in params.values()):
        return render(request, "search.html", context)
    try:
        if status not in ("", "unconfirmed", "confirmed", "none"):
            raise SearchError(f"status: {status!r} is not one of unconfirmed, confirmed, none")
        number = page_number(page)
        filters = search_filters(q, [outlet] if outlet else [], status, story, since, until,
                                 language)
        found = views.search_page(conn, filters, number, RESULTS_PER_PAGE)
    except SearchError as exc:
        context.update(error=str(exc), error_field=parameter_of(exc))
        return render(request, "search.html", context, 422)
    context.update(found=found, page=number,
                   next=found["next_page"] and link("/search", params, page=found["next_page"]),
                   prev=number > 1 and link("/search", params, page=number - 1))
    return render(request, "search.html", context)


@router.get("/articles/{article_id}", response_class=HTMLResponse)
def article(request: Request, conn: Conn, article_id: int) -> HTMLResponse:
    found = views.article(conn, article_id) if 1 <= article_id < 2**63 else None
    if found is None:
        raise HTTPException(404, f"There is no article {article_id}.")
    paragraphs = [p.strip() for p in (found["text"] or "").split("\n") if p.strip()]
    return render(request, "article.html", {"article": found, "paragraphs": paragraphs})


@router.get("/chart", response_class=HTMLResponse)
def chart(request: Request, conn: Conn, since: str = "", until: str = "", days: str = "",
          status: str = "unconfirmed") -> HTMLResponse:
    params = {"since": since, "until": until, "days": days, "status": status}
    context = {"params": params, "error": None, "chart": None, "days": []}
    try:
        if status not in ("unconfirmed", "confirmed"):
            raise SearchError(f"status: {status!r} is not unconfirmed or confirmed")
        try:
            count = int(days) if days.strip() else None
        except ValueError:
            raise SearchError(f"days: {days!r} is not a number of days") from None
        found = views.chart_days(conn, status, since_moment(since), until_moment(until),
                                 count)
    except SearchError as exc:
        context["error"] = str(exc)
        return render(request, "chart.html", context, 422)
    context.update(chart=bar_chart(found["days"], found["first"], found["last"]),
                   days=found["days"], first=found["first"], last=found["last"])
    return render(request, "chart.html", context)


@router.get("/alerts", response_class=HTMLResponse)
def alerts(request: Request, conn: Conn, status: str = "", channel: str = "",
           page: str = "1") -> HTMLResponse:
    params = {"status": status, "channel": channel}
    context = {"params": params, "error": None, "alerts": [], "next": None, "prev": None,
               "totals": views.alert_totals(conn)}
    try:
        if status not in ("", "pending", "delivered", "failed"):
            raise SearchError(f"status: {status!r} is not pending, delivered or failed")
        number = page_number(page)
        found = views.alerts_page(conn, status or None, channel or None, number,
                                  ALERTS_PER_PAGE)
    except SearchError as exc:
        context["error"] = str(exc)
        return render(request, "alerts.html", context, 422)
    context.update(alerts=found["results"], page=number,
                   next=found["next_page"] and link("/alerts", params, page=found["next_page"]),
                   prev=number > 1 and link("/alerts", params, page=number - 1))
    return render(request, "alerts.html", context)


@router.get("/sources", response_class=HTMLResponse)
def sources(request: Request, conn: Conn, state: str = "", page: str = "1") -> HTMLResponse:
    params = {"state": state}
    context = {"params": params, "error": None, "sources": [], "totals": {}, "next": None,
               "prev": None, "now": datetime.now(UTC)}
    try:
        if state not in ("", *SOURCE_STATES):
            raise SearchError(f"state: {state!r} is not one of {', '.join(SOURCE_STATES)}")
        number = page_number(page)
        found = views.sources_page(conn, state or None, number, SOURCES_PER_PAGE)
    except SearchError as exc:
        context["error"] = str(exc)
        return render(request, "sources.html", context, 422)
    context.update(sources=found["results"], totals=found["totals"], page=number,
                   next=found["next_page"] and link("/sources", params,
                                                    page=found["next_page"]),
                   prev=number > 1 and link("/sources", params, page=number - 1))
    return render(request, "sources.html", context)


@router.get("/login")
def login(request: Request, token: str = "",
          next: str = Query("/", description="where to go after logging in")) -> Response:
    """Sets the token cookie for browsers, which cannot send an Authorization header
    on a plain link. Only a path on this server is followed afterwards (no open redirect)."""
    target = next if next.startswith("/") and not next.startswith("//") \
        and "\\" not in next else "/"
    expected = request.app.state.token
    if expected is None:
        return RedirectResponse(target, 303)
    if not token_matches(token, expected):
        raise HTTPException(401, "That token is not right.")
    response = RedirectResponse(target, 303)
    response.set_cookie(COOKIE, expected, max_age=30 * 24 * 3600, path="/", httponly=True,
                        samesite="lax", secure=request.url.scheme == "https")
    return response
