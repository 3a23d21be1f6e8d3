"""`GET /healthz` and `GET /metrics` for the daemon, on a small threaded HTTP server;
with WebSub on, also the hubs' callbacks (`GET` and `POST /websub/ID`, answered by
scheduler/websub.py).

/healthz answers 200 only when the database answers and a pass ended recently (or
the daemon started recently and has not finished its first one); otherwise 503 with
the reason, so a supervisor restarts a daemon that is stuck rather than idle."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from archive.db import DatabaseError, error_line, ping_url
from scheduler.metrics import Metrics

CALLBACKS = "/websub/"

log = logging.getLogger(__name__)


class HealthServer:
    def __init__(self, host: str, port: int, database_url: str, metrics: Metrics,
                 last_pass: Callable[[], float | None], max_age_seconds: float,
                 websub=None, max_push_bytes: int = 10 * 1024 * 1024) -> None:
        self.database_url = database_url
        self.metrics = metrics
        self.last_pass = last_pass
        self.max_age = max_age_seconds
        self.started = time.time()
        self.websub = websub  # scheduler.websub.PushService, or None: WebSub off
        health = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                path = self.path.split("?", 1)[0]
                if health.websub is not None and CALLBACKS in path:
                    status, body = health.callback(health.websub.answer_get, self.path)
                    self._send(status, body, "text/plain")
                elif path == "/metrics":
                    self._send(200, generate_latest(health.metrics.registry),
                               CONTENT_TYPE_LATEST)
                elif path == "/healthz":
                    ok, detail = health.check()
                    self._send(200 if ok else 503, json.dumps(detail).encode(),
                               "application/json")
                else:
                    self._send(404, b"not found\n", "text/plain")

            def do_POST(self) -> None:  # noqa: N802
                if health.websub is None or CALLBACKS not in self.path.split("?", 1)[0]:
                    self._send(404, b"not found\n", "text/plain")
                    return
                length = self.headers.get("Content-Length", "")
                if not length.isdigit() or int(length) > max_push_bytes:
                    self.close_connection = True
                    self._send(411 if not length.isdigit() else 413, b"", "text/plain")
                    return
                body = self.rfile.read(int(length))
                status, _ = health.callback(
                    lambda *args: (health.websub.answer_post(*args), b""), self.path,
                    self.headers.get("X-Hub-Signature"), self.headers.get("Content-Type"),
                    body)
                self._send(status, b"", "text/plain")

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="health",
                                       daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        return self.server.server_address[:2]

    def start(self) -> HealthServer:
        self.thread.start()
        return self

    @staticmethod
    def callback(answer: Callable[..., tuple[int, bytes]], *args) -> tuple[int, bytes]:
        """A hub's request answered; a database that cannot be reached is a one-line
        error and a 503 (the hub retries), never a traceback."""
        try:
            return answer(*args)
        except (psycopg.Error, DatabaseError) as exc:
            log.error("WebSub callback %s not answered: %s", args[0].split("?", 1)[0],
                      error_line(exc))
            return 503, b"database unavailable\n"

    def check(self) -> tuple[bool, dict]:
        detail: dict = {}
        try:
            ping_url(self.database_url, connect_timeout=3)
            detail["database"] = "ok"
        except psycopg.Error as exc:
            detail["database"] = f"unreachable: {type(exc).__name__}"
        last = self.last_pass()
        since = time.time() - (last if last is not None else self.started)
        detail["last_pass_end"] = last
        detail["seconds_since_last_pass"] = round(since, 1)
        fresh = since <= self.max_age
        if not fresh:
            detail["pass"] = f"no pass ended in the last {self.max_age:.0f} s"
        ok = detail["database"] == "ok" and fresh
        detail["status"] = "ok" if ok else "failing"
        return ok, detail

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
