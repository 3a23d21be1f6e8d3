"""What every request passes before it reaches a route: read-only methods, the token,
security headers and an access log that never holds a secret.

One plain ASGI middleware rather than several: the order matters (a POST is refused
before anything else; HEAD is served as a GET whose body the server drops) and is
easier to see in one place."""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

log = logging.getLogger("backchannel.web")

COOKIE = "backchannel_token"
ALLOWED = ("GET", "HEAD")
OPEN_PATHS = {"/healthz", "/login"}  # a probe needs no secret; /login checks its own
SECRET_KEYS = {"token"}  # query keys whose value never reaches the log
MIN_TOKEN_LENGTH = 16  # beyond loopback, a shorter token is refused (serve)
FREE_GUESSES = 5  # wrong tokens a client may send before it has to wait
GUESS_DELAY = 1.0  # seconds of the first wait; doubled per further wrong token
MAX_GUESS_DELAY = 300.0
MAX_CLIENTS = 10_000  # addresses remembered; the oldest are forgotten first

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable, Callable], Awaitable[None]]


def token_matches(given: str | None, token: str) -> bool:
    """Constant-time comparison of digests (of equal length whatever was sent), so
    response timing reveals neither the token nor its length."""
    if given is None:
        return False
    return hmac.compare_digest(hashlib.sha256(given.encode("utf-8", "replace")).digest(),
                               hashlib.sha256(token.encode("utf-8")).digest())


def token_refusal(token: str | None, loopback: bool) -> str | None:
    """Why `serve` must not start with this token on this address, or None. Beyond
    loopback anyone on the network can guess: a short token would not last."""
    if loopback:
        return None
    if token is None:
        return "without a token"
    if len(token) < MIN_TOKEN_LENGTH:
        return (f"with a token of {len(token)} character{'' if len(token) == 1 else 's'}: "
                f"a token must have at least "
                f"{MIN_TOKEN_LENGTH} (for example `python -c 'import secrets; "
                f"print(secrets.token_urlsafe(24))'`)")
    return None


class Throttle:
    """Wrong tokens slowed per client address: after `free` wrong guesses, no token of
    that address is checked for `delay` seconds, doubling per further wrong one (to
    MAX_GUESS_DELAY); a right token clears its count. Lives on the event loop's thread,
    so it needs no lock."""

    def __init__(self, free: int = FREE_GUESSES, delay: float = GUESS_DELAY,
                 clients: int = MAX_CLIENTS) -> None:
        self.free, self.delay, self.clients = free, delay, clients
        self._wrong: OrderedDict[str, tuple[int, float]] = OrderedDict()

    def wait(self, client: str) -> float:
        """Seconds before a token of `client` is checked again (0: now)."""
        _, until = self._wrong.get(client, (0, 0.0))
        return max(0.0, until - time.monotonic())

    def failed(self, client: str) -> None:
        count = self._wrong.pop(client, (0, 0.0))[0] + 1
        until = 0.0
        if count > self.free:
            until = time.monotonic() + min(self.delay * 2 ** (count - self.free - 1),
                                           MAX_GUESS_DELAY)
        self._wrong[client] = (count, until)
        while len(self._wrong) > self.clients:
            self._wrong.popitem(last=False)

    def succeeded(self, client: str) -> None:
        self._wrong.pop(client, None)


def presented_token(request: Request) -> str | None:
    """The bearer token of the Authorization header, else the login cookie."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(COOKIE)


def wants_json(path: str) -> bool:
    """API answers and errors are JSON; /docs (and its assets) are no HTML page of ours
    either, so they keep their own caching."""
    return path.startswith(("/api", "/docs")) or path == "/openapi.json"


def redacted(text: str) -> str:
    """A query string (or a path with one) with the value of every secret key replaced
    by ***. Keys are compared decoded, as the server reads them: `%74oken=` is
    `token=`. Text without a secret key is returned as it was."""
    path, sep, query = text.partition("?")
    if not sep:
        path, query = "", text
    if "=" not in query:
        return text
    pairs = parse_qsl(query, keep_blank_values=True)
    # a value that is itself a query with a secret (`next=/login?token=…`) is hidden too
    secret = [key.strip().lower() in SECRET_KEYS or ("=" in value and redacted(value) != value)
              for key, value in pairs]
    if not any(secret):
        return text
    shown = "&".join(f"{quote(key, safe='')}={'***' if hide else quote(value, safe='')}"
                     for (key, value), hide in zip(pairs, secret, strict=True))
    return f"{path}{sep}{shown}" if sep else shown


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
    def __init__(self, app: ASGIApp, token: str | None = None,
                 throttle: Throttle | None = None) -> None:
        self.app = app
        self.token = token or None
        self.throttle = throttle or Throttle()

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
        if self.token is None or path == "/healthz":
            return None
        request = Request(scope)
        if path == "/login":  # the route answers; the guess is counted here
            given = request.query_params.get("token")
            return None if given is None else self._check(scope, path, given, quiet=True)
        given = presented_token(request)
        if given is None:
            return _refusal(path, 401, "a token is needed: send 'Authorization: Bearer "
                            "TOKEN', or open /login?token=TOKEN once in this browser",
                            {"www-authenticate": 'Bearer realm="backchannel"'})
        return self._check(scope, path, given)

    def _check(self, scope: Scope, path: str, given: str,
               quiet: bool = False) -> Response | None:
        """None when `given` is the token; else a 401 (or, for /login, None: the route
        says so), and a 429 without any check while the client must wait."""
        client = (scope.get("client") or ("unknown",))[0]
        wait = self.throttle.wait(client)
        if wait > 0:
            seconds = math.ceil(wait)
            return _refusal(path, 429, f"too many wrong tokens from this address: try "
                            f"again in {seconds} s", {"retry-after": str(seconds)})
        if token_matches(given, self.token):
            self.throttle.succeeded(client)
            return None
        self.throttle.failed(client)
        log.warning("wrong token from %s for %s", client, path)
        if quiet:
            return None
        return _refusal(path, 401, "that token is not right: send 'Authorization: Bearer "
                        "TOKEN', or open /login?token=TOKEN once in this browser",
                        {"www-authenticate": 'Bearer realm="backchannel"'})
