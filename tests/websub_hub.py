"""A WebSub hub stand-in on 127.0.0.1, as the spec's hubs behave: it takes a
subscription request (202), then verifies the subscriber's intent with a GET to the
callback (a random challenge that must come back as the body), grants its own lease,
and delivers what is published to every verified subscriber, signed with the
subscriber's secret (X-Hub-Signature) — or unsigned or wrongly signed, on request."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from newsroom import QuietServer


@dataclass
class Subscription:
    topic: str
    callback: str
    secret: str
    requested_at: float
    lease_seconds: int
    verified_at: float | None = None  # the subscriber echoed the challenge
    expires_at: float | None = None
    lapsed_before_renewal: bool = False  # a renewal came after the lease had ended


@dataclass
class Hub:
    lease_seconds: int = 3600
    refused_topics: set[str] = field(default_factory=set)  # answered 503
    requests: list[dict] = field(default_factory=list)  # every subscription request's form
    verifications: list[tuple[str, int, bool]] = field(default_factory=list)  # topic,
    # the subscriber's status, whether the challenge came back

    def __post_init__(self) -> None:
        self.subscriptions: dict[tuple[str, str], Subscription] = {}
        self.lock = threading.Lock()
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                status = hub.take(form)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if status == 202:
                    threading.Thread(target=hub.verify, args=(form,), daemon=True).start()

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def take(self, form: dict) -> int:
        with self.lock:
            self.requests.append({**form, "at": time.time()})
        if form.get("hub.mode") != "subscribe" or not form.get("hub.callback"):
            return 400
        return 503 if form.get("hub.topic") in self.refused_topics else 202

    def verify(self, form: dict) -> None:
        challenge = secrets.token_urlsafe(16)
        query = urllib.parse.urlencode({
            "hub.mode": "subscribe", "hub.topic": form["hub.topic"],
            "hub.challenge": challenge, "hub.lease_seconds": str(self.lease_seconds)})
        status, body = get(f"{form['hub.callback']}?{query}")
        echoed = status == 200 and body == challenge.encode()
        now = time.time()
        with self.lock:
            self.verifications.append((form["hub.topic"], status, echoed))
            if not echoed:
                return
            key = (form["hub.topic"], form["hub.callback"])
            earlier = self.subscriptions.get(key)
            sub = Subscription(form["hub.topic"], form["hub.callback"],
                               form.get("hub.secret", ""), now, self.lease_seconds, now,
                               now + self.lease_seconds)
            sub.lapsed_before_renewal = bool(earlier and earlier.lapsed_before_renewal or (
                earlier and earlier.expires_at and now > earlier.expires_at))
            self.subscriptions[key] = sub

    def verified(self, topic: str) -> list[Subscription]:
        with self.lock:
            return [s for s in self.subscriptions.values() if s.topic == topic]

    def publish(self, topic: str, body: bytes, signing: str = "good",
                method: str = "sha256", content_type: str = "application/rss+xml") -> list[int]:
        """Deliver `body` to the topic's subscribers; their HTTP statuses. `signing`:
        "good", "none" (no header) or "wrong" (signed with another secret)."""
        statuses = []
        for sub in self.verified(topic):
            headers = {"Content-Type": content_type}
            if signing != "none":
                key = sub.secret if signing == "good" else "not-" + sub.secret
                digest = hmac.new(key.encode(), body, getattr(hashlib, method)).hexdigest()
                headers["X-Hub-Signature"] = f"{method}={digest}"
            statuses.append(post(sub.callback, body, headers)[0])
        return statuses

    def close(self) -> None:
        """The hub disappears: nothing listens on its address any more."""
        self.server.shutdown()
        self.server.server_close()


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return 0, b""


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return 0, b""
