"""The app factory: routes, templates, errors and the guard put together.

`create_app(database_url, token, pool_size, pool_wait_seconds, cache_entries)` is all a server
(uvicorn in `backchannel serve`, or a test) needs; nothing is read from the environment
here, so tests can build as many differently configured apps as they like."""

from __future__ import annotations

import base64
import hashlib
import logging
import math
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import jinja2
import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from fastapi.templating import Jinja2Templates
from psycopg_pool import PoolTimeout
from starlette.exceptions import HTTPException

from archive.db import ping
from archive.search import SearchError
from core import __version__
from web import api, docs, pages
from web.cache import DEFAULT_ENTRIES, ResponseCache
from web.db import Busy, WebPool
from web.guard import (
    COOKIE,
    FREE_GUESSES,
    GUESS_DELAY,
    Guard,
    RedactToken,
    Throttle,
    wants_json,
)
from web.models import Error, Health
from web.queries import parameter_of
from web.templating import configure
from web.views import UnknownOutlet

log = logging.getLogger("backchannel.web")
HERE = Path(__file__).resolve().parent
DESCRIPTION = """Read-only access to the backchannel archive: stories (one per alleged
Kremlin–White House contact), their timelines, full-text search, single articles,
reports per day, the alerts sent and the sources' health.
Datetimes are ISO 8601 (UTC). A wrong parameter is a 422 whose `parameter` names it;
`limit` above its maximum is refused (422), not clamped."""


def create_app(database_url: str, token: str | None = None, pool_size: int = 8,
               pool_wait_seconds: float = 3.0, free_guesses: int = FREE_GUESSES,
               guess_delay_seconds: float = GUESS_DELAY,
               cache_entries: int = DEFAULT_ENTRIES) -> FastAPI:
    """`pool_size` connections at most; a request that finds none free within
    `pool_wait_seconds` gets a 503 with Retry-After. A client that sent more than
    `free_guesses` wrong tokens waits `guess_delay_seconds`, doubling per further
    guess, before any token of its is checked again (see web.guard.Throttle). At most
    `cache_entries` answers are kept for reuse while the archive does not change
    (web.cache; 0: no cache)."""
    pool = WebPool(database_url, pool_size, pool_wait_seconds)
    access_log = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactToken) for f in access_log.filters):
        access_log.addFilter(RedactToken())

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        pool.open()
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(pool.close)

    if not (HERE / "templates" / "base.html").is_file():
        raise RuntimeError(f"{HERE}/templates is missing: the package was installed without "
                           "its data files (see [tool.setuptools.package-data])")
    if docs.missing_assets():
        raise RuntimeError(f"/docs needs {', '.join(docs.missing_assets())}: install the "
                           "fastapi-offline package (a dependency of backchannel)")
    app = FastAPI(title="backchannel", version=__version__, description=DESCRIPTION,
                  lifespan=lifespan, docs_url=None, redoc_url=None,
                  swagger_ui_oauth2_redirect_url=None)
    css = (HERE / "static" / "style.css").read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    app.state.pool = pool
    app.state.token = token or None
    app.state.templates = Jinja2Templates(env=configure(jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
        undefined=jinja2.StrictUndefined)))
    app.state.templates.env.globals["css"] = css
    app.state.csp = (f"default-src 'none'; style-src 'sha256-{digest}'; img-src 'self'; "
                     "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")

    @app.get("/healthz", response_model=Health, tags=["health"],
             responses={503: {"model": Error, "description": "the database does not answer"}},
             openapi_extra={"security": []}, summary="200 when the database answers")
    async def healthz() -> Response | dict:
        try:
            await pool.run(ping)
        except Busy as exc:
            return JSONResponse({"detail": str(exc), "parameter": None}, 503,
                                headers={"retry-after": _retry_after(pool)})
        except (PoolTimeout, psycopg.Error) as exc:
            log.warning("healthz: database unavailable: %s", type(exc).__name__)
            return JSONResponse({"detail": "the database does not answer", "parameter": None},
                                503, headers={"retry-after": _retry_after(pool)})
        return {"status": "ok"}

    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(docs.router)
    _add_error_handlers(app)
    app.openapi = lambda: _openapi(app)
    # Inside the Guard: only requests it let through (the token checked) reach the cache.
    app.add_middleware(ResponseCache, pool=pool, unavailable=_unavailable,
                       entries=cache_entries,
                       errors=(Busy, PoolTimeout, psycopg.OperationalError))
    app.add_middleware(Guard, token=app.state.token, throttle=Throttle(
        free_guesses, guess_delay_seconds))
    return app


def _retry_after(pool: WebPool) -> str:
    """Whole seconds (RFC 9110): about as long as a request may wait for a connection."""
    return str(max(1, math.ceil(pool.wait_seconds)))


def _unavailable(request: Request, exc: Exception) -> Response:
    """The 503 of a request that got no database connection (Busy) or whose database
    does not answer, as the error handlers below give it."""
    pool = request.app.state.pool
    if isinstance(exc, Busy):
        log.warning("busy: %s %s waited %g s for a database connection", request.method,
                    request.url.path, pool.wait_seconds)
        message = str(exc)
    else:
        log.warning("database unavailable: %s", type(exc).__name__)
        message = "the database does not answer; try again shortly"
    return _error(request, 503, message, headers={"retry-after": _retry_after(pool)})


def _openapi(app: FastAPI) -> dict:
    """FastAPI's document, plus the token scheme when the server requires one."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version,
                             description=app.description, routes=app.routes)
        if app.state.token:
            schema.setdefault("components", {})["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": COOKIE}}
            schema["security"] = [{"bearer": []}, {"cookie": []}]
        app.openapi_schema = schema
    return app.openapi_schema


def _error(request: Request, status: int, message: str, parameter: str | None = None,
           headers: dict[str, str] | None = None) -> Response:
    if wants_json(request.url.path):
        return JSONResponse({"detail": message, "parameter": parameter}, status,
                            headers=headers)
    response = request.app.state.templates.TemplateResponse(
        request, "error.html", {"status": status, "message": message}, status_code=status,
        headers=headers)
    response.headers["content-security-policy"] = request.app.state.csp
    return response


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        loc = [str(part) for part in first.get("loc", ())]
        parameter = loc[1] if len(loc) > 1 else None
        message = first.get("msg", "invalid request")
        return _error(request, 422, f"{parameter}: {message}" if parameter else message,
                      parameter)

    @app.exception_handler(SearchError)
    async def bad_filter(request: Request, exc: SearchError) -> Response:
        return _error(request, 422, str(exc), parameter_of(exc))

    @app.exception_handler(UnknownOutlet)
    async def unknown_outlet(request: Request, exc: UnknownOutlet) -> Response:
        # A page shows it beside its form (422); for the API, no such outlet is a 404.
        return _error(request, 404 if wants_json(request.url.path) else 422, str(exc),
                      "outlet")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        return _error(request, exc.status_code, str(exc.detail), None, exc.headers)

    @app.exception_handler(Busy)
    @app.exception_handler(PoolTimeout)
    @app.exception_handler(psycopg.OperationalError)
    async def unavailable(request: Request, exc: Exception) -> Response:
        return _unavailable(request, exc)

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> Response:
        # Starlette re-raises after this response, so the traceback reaches the log
        # (uvicorn's), never the client.
        return _error(request, 500, "internal error; the server log has the details")

