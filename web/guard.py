"""What every request passes before it reaches a route: read-only methods, the token,
security headers and an access log that never holds a secret.

One plain ASGI middleware rather than several: the order matters (a POST is refused
before anything else; HEAD is served as a GET whose body the server drops) and is
easier to see in one place."""

from __future__ import annotations

import hmac
import logging
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

log = logging.getLogger("backchannel.web")

COOKIE = "backchannel_token"
ALLOWED = ("GET", "HEAD")
OPEN_PATHS = {"/healthz", "/login"}  # a probe needs no secret; /login checks its own
_SECRET_PARAM = re.compile(r"(?i)(^|[?&])(token=)[^&\s]*")

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable, Callable], Awaitable[None]]


def token_matches(given: str | None, token: str) -> bool:
    """Constant-time comparison, so response timing does not reveal the token."""
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


def presented_token(request: Request) -> str | None:
    """The bearer token of the Authorization header, else the login cookie."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(COOKIE)


def wants_json(path: str) -> bool:
    return path.startswith("/api") or path in ("/openapi.json", "/docs", "/redoc")


def redacted(query: str) -> str:
    return _SECRET_PARAM.sub(r"\1\2***", query)


class RedactToken(logging.Filter):
    """For uvicorn's own access log, should someone run the app with it on: the query
    string of /login?token=… is logged with the token replaced by ***."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redacted(a) if isinstance(a, str) else a
                                for a in record.args)
        return True


def _refusal(path: str, status: int, message: str, headers: dict[str, str]) -> Response:
    if wants_json(path):
        return JSONResponse({"detail": message, "parameter": None}, status, headers=headers)
    body = (f"<!doctype html><meta charset=utf-8><title>{status}</title>"
            f"<h1>{status}</h1><p>{message}</p>")
    return HTMLResponse(body, status, headers=headers)


class Guard:
    def __init__(self, app: ASGIApp, token: str | None = None) -> None:
        self.app = app
        self.token = token or None

    async def __call__(self, scope: Scope, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status_seen: list[int] = []
        path, method = scope.get("path", ""), scope["method"]
        html_page = not wants_json(path)

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                status_seen.append(message["status"])
                headers = list(message.get("headers", []))
                headers += [(b"x-content-type-options", b"nosniff"),
                            (b"referrer-policy", b"no-referrer"),
                            (b"x-frame-options", b"DENY")]
                if html_page:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        try:
            response = self._refuse(scope)
            if response is not None:
                await response(scope, receive, send_with_headers)
                return
            if scope["method"] == "HEAD":  # uvicorn still sees HEAD and sends no body
                scope = {**scope, "method": "GET"}
            await self.app(scope, receive, send_with_headers)
        finally:
            query = redacted(scope.get("query_string", b"").decode("latin-1"))
            log.info("%s %s%s %s %.0f ms", method, path, "?" + query if query else "",
                     status_seen[0] if status_seen else "-",
                     (time.perf_counter() - started) * 1000)

    def _refuse(self, scope: Scope) -> Response | None:
        path = scope.get("path", "")
        if scope["method"] not in ALLOWED:
            return _refusal(path, 405, "this server is read-only: only GET and HEAD",
                            {"allow": ", ".join(ALLOWED)})
        if self.token is None or path in OPEN_PATHS:
            return None
        if token_matches(presented_token(Request(scope)), self.token):
            return None
        return _refusal(path, 401, "a token is needed: send 'Authorization: Bearer TOKEN', "
                        "or open /login?token=TOKEN once in this browser",
                        {"www-authenticate": 'Bearer realm="backchannel"'})
