"""A small response cache for the read-only pages and API reads that a crowd asks again
and again (the stories list, searches, a story, an article), with ETag and 304.

Why: a search ranks every match and the stories page lists, counts and charts; each
costs PostgreSQL tens of milliseconds, and two cores then serve fewer than 20 requests
a second however many clients ask. The archive changes only when the crawler stores
something, so the same answer can be given until then.

Exact, never stale: each request first learns the archive's generation
(archive.web.archive_generation, one row that migration 17's triggers bump in the same
transaction as every write of articles, stories, their articles and events, outlets)
from a read that began after the request arrived, and an answer is reused only for the
same generation. The generation is read before the answer is made, so a stored answer
is never older than its generation. One read serves every request that arrived before
it began (`Generation`): under a crowd that is one query per round trip, not one per
request, and requests do not queue for connections just to learn a number. Answers that
depend on the clock (the chart's `days=`, sources' next polls) or on alert deliveries
are not cached at all.

Keyed on the path and the raw query string. Responses do not differ by user: the Guard
(outside this middleware) lets through only requests with the one token, and nothing
of a request but its path and query reaches a cached route's answer. Only 200s are
kept; at most `entries` answers (least recently used dropped first), none over
MAX_BODY bytes. Several requests for the same answer while it is being made wait for
the first one (no stampede of identical queries after each new article).

Every 200 answer of a cached route carries an ETag (a digest of its body), and a
request whose If-None-Match names it gets a 304 without a body."""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from archive.web import archive_generation

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable, Callable], Awaitable[None]]

DEFAULT_ENTRIES = 1000
MAX_BODY = 1 << 20  # a larger answer is sent, not kept
# The routes whose answers depend only on the archive's articles, stories and outlets.
CACHED = re.compile(r"/|/search|/stories/\d+|/articles/\d+|"
                    r"/api/(stories|stories/\d+|search|articles|articles/\d+|reports-per-day)")


@dataclass
class Answer:
    generation: int
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    etag: bytes


def etag_of(body: bytes) -> bytes:
    return b'"' + hashlib.blake2b(body, digest_size=12).hexdigest().encode() + b'"'


def matches(if_none_match: str | None, etag: bytes) -> bool:
    """If-None-Match (RFC 9110, weak comparison): `*` or a list naming this ETag."""
    if not if_none_match:
        return False
    tag = etag.decode()
    for given in if_none_match.split(","):
        given = given.strip()
        if given == "*" or given.removeprefix("W/") == tag:
            return True
    return False


class Generation:
    """The archive's generation, read for many requests at once: `current()` waits for
    the next read that begins after it was called (never one already under way, whose
    snapshot may predate a write the caller has seen committed). Lives on the event
    loop, so it needs no lock."""

    def __init__(self, pool) -> None:
        self.pool = pool
        self._next: asyncio.Future | None = None  # for the callers of the next read
        self._reader: asyncio.Task | None = None
        self.reads = 0

    async def current(self) -> int:
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
            self._next.add_done_callback(_retrieved)
        waiting = self._next
        if self._reader is None:
            self._reader = asyncio.create_task(self._read())
        return await asyncio.shield(waiting)

    async def _read(self) -> None:
        try:
            while self._next is not None:
                batch, self._next = self._next, None  # later callers wait for the next
                self.reads += 1
                try:
                    batch.set_result(await self.pool.run(archive_generation))
                except Exception as exc:  # each caller of this batch gets it (Busy: 503)
                    batch.set_exception(exc)
                except BaseException:  # cancelled (the server stops): so are its callers
                    batch.cancel()
                    raise
        finally:
            self._reader = None


def _retrieved(future: asyncio.Future) -> None:
    """A batch's error is its callers'; if all of them went away, it is no one's."""
    if not future.cancelled():
        future.exception()


class ResponseCache:
    """ASGI middleware. `pool` is the app's WebPool; `unavailable(request, exc)` is the
    app's answer when no connection comes free for the generation's read (a 503 with
    Retry-After, as the route itself would give)."""

    def __init__(self, app: ASGIApp, pool, unavailable: Callable[[Request, Exception],
                 Response], entries: int = DEFAULT_ENTRIES,
                 errors: tuple[type[Exception], ...] = ()) -> None:
        self.app, self.unavailable = app, unavailable
        self.generation = Generation(pool)
        self.entries, self.errors = entries, errors
        self._answers: OrderedDict[tuple[str, bytes], Answer] = OrderedDict()
        self._making: dict[tuple[int, str, bytes], asyncio.Event] = {}
        self.newest = 0  # the highest generation seen
        self.hits = self.misses = 0

    async def __call__(self, scope: Scope, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or self.entries <= 0 \
                or not CACHED.fullmatch(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        try:
            generation = await self.generation.current()
        except self.errors as exc:
            await self.unavailable(request, exc)(scope, receive, send)
            return
        key = (scope["path"], scope.get("query_string", b""))
        answer = self._fresh(key, generation)
        while answer is None and (generation, *key) in self._making:
            await self._making[(generation, *key)].wait()
            answer = self._fresh(key, generation)
        if answer is None:
            self.misses += 1
            making = self._making[(generation, *key)] = asyncio.Event()
            try:
                answer = await self._make(scope, receive, generation)
            finally:
                del self._making[(generation, *key)]
                making.set()
            self._keep(key, answer)
        else:
            self.hits += 1
        await self._send(answer, request.headers.get("if-none-match"), send)

    def _fresh(self, key: tuple[str, bytes], generation: int) -> Answer | None:
        answer = self._answers.get(key)
        if answer is None or answer.generation != generation:
            return None
        self._answers.move_to_end(key)
        return answer

    def _keep(self, key: tuple[str, bytes], answer: Answer) -> None:
        if answer.status != 200 or len(answer.body) > MAX_BODY \
                or answer.generation < self.newest:
            return
        if answer.generation > self.newest:  # the archive changed: all else is old
            self._answers.clear()
            self.newest = answer.generation
        self._answers[key] = answer
        self._answers.move_to_end(key)
        while len(self._answers) > self.entries:
            self._answers.popitem(last=False)

    async def _make(self, scope: Scope, receive: Callable, generation: int) -> Answer:
        """The route's answer, whole (pages and API answers are small)."""
        start: dict = {}
        chunks: list[bytes] = []

        async def capture(message: dict) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        body = b"".join(chunks)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"etag"]
        return Answer(generation, start.get("status", 500), headers, body, etag_of(body))

    async def _send(self, answer: Answer, if_none_match: str | None,
                    send: Callable) -> None:
        if answer.status != 200:
            await send({"type": "http.response.start", "status": answer.status,
                        "headers": answer.headers})
            await send({"type": "http.response.body", "body": answer.body})
            return
        if matches(if_none_match, answer.etag):
            headers = [(k, v) for k, v in answer.headers
                       if k.lower() not in (b"content-length", b"content-type")]
            await send({"type": "http.response.start", "status": 304,
                        "headers": [*headers, (b"etag", answer.etag)]})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": 200,
                    "headers": [*answer.headers, (b"etag", answer.etag)]})
        await send({"type": "http.response.body", "body": answer.body})
