"""WebSub (W3C Recommendation, 2018) from the subscriber's side: find a feed's hub,
ask the hub for its pushes, answer the hub's verification of intent, and check that a
delivery was signed with the subscription's secret. Plain functions; the daemon's
side (when to subscribe and renew, what to do with a push) is scheduler/websub.py, the
stored subscriptions archive/websub.py. See docs/websub.md."""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import re
import secrets
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from crawler.netguard import PrivateAddressRefused, check_url

LEASE_SECONDS = 10 * 24 * 3600  # what we ask for; the hub decides
RENEW_SHARE = 0.5  # renew at half the lease: the other half is the margin
RETRY_SECONDS = 3600.0  # a hub that refused or failed is asked again this much later
TIMEOUT = 15.0  # seconds for the hub to answer a subscription request
ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha384": hashlib.sha384,
              "sha512": hashlib.sha512}
CALLBACK_PATH = re.compile(r"/websub/(\d{1,18})$")


class WebSubError(Exception):
    """A subscription request failed; the message says which hub and why."""


@dataclass(frozen=True)
class Hub:
    """Where to subscribe (`hub`) and to what (`topic`, the feed's rel="self" URL)."""

    hub: str
    topic: str


# --- discovery ---------------------------------------------------------------------

_LINK_VALUE = re.compile(r"<([^>]*)>((?:\s*;\s*[^;,]*)*)")
_REL = re.compile(r"""\brel\s*=\s*(?:"([^"]*)"|([^\s;,"]+))""", re.I)
_LINK_TAG = re.compile(rb"<(?:[\w.-]+:)?link\b([^>]*)>", re.I)
_ATTRIBUTE = re.compile(rb"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_FIRST_ENTRY = re.compile(rb"<(?:[\w.-]+:)?(?:item|entry)[\s>/]", re.I)
HEAD_BYTES = 64 * 1024  # the feed-level links come before the entries


def discover(body: bytes, link_header: str | None, feed_url: str) -> Hub | None:
    """The feed's hub and topic: from the HTTP Link header first, else from the feed's
    own links (Atom <link rel="hub">, atom:link in RSS, a JSON Feed's "hubs"). The
    topic is the rel="self" URL from the same place, else the feed's URL."""
    for links in (header_links(link_header), feed_links(body)):
        hubs = [url for rel, url in links if rel == "hub"]
        if hubs:
            selves = [url for rel, url in links if rel == "self"]
            hub = _absolute(hubs[0], feed_url)
            topic = _absolute(selves[0], feed_url) if selves else feed_url
            if hub and topic:
                return Hub(hub, topic)
    return None


def header_links(value: str | None) -> list[tuple[str, str]]:
    """(rel, URL) for each link in an HTTP Link header (RFC 8288)."""
    links: list[tuple[str, str]] = []
    for match in _LINK_VALUE.finditer(value or ""):
        rel = _REL.search(match.group(2))
        if rel:
            for name in (rel.group(1) or rel.group(2)).lower().split():
                links.append((name, match.group(1).strip()))
    return links


def feed_links(body: bytes) -> list[tuple[str, str]]:
    """(rel, URL) for each feed-level <link rel=… href=…> (before the first entry), or
    a JSON Feed's hubs (type WebSub) and feed_url as "self"."""
    if body.lstrip()[:1] == b"{":
        return _json_feed_links(body)
    head = body[:HEAD_BYTES]
    first = _FIRST_ENTRY.search(head)
    head = head[:first.start()] if first else head
    links: list[tuple[str, str]] = []
    for tag in _LINK_TAG.finditer(head):
        attrs = {m.group(1).lower(): (m.group(2) if m.group(2) is not None else m.group(3))
                 for m in _ATTRIBUTE.finditer(tag.group(1))}
        rel, href = attrs.get(b"rel"), attrs.get(b"href")
        if rel and href:
            url = html.unescape(href.decode("utf-8", "replace")).strip()
            for name in rel.decode("ascii", "replace").lower().split():
                links.append((name, url))
    return links


def _json_feed_links(body: bytes) -> list[tuple[str, str]]:
    try:
        feed = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return []
    if not isinstance(feed, dict):
        return []
    links = [("hub", hub["url"]) for hub in feed.get("hubs") or []
             if isinstance(hub, dict) and isinstance(hub.get("url"), str)
             and str(hub.get("type", "")).lower() in ("websub", "pubsubhubbub")]
    if isinstance(feed.get("feed_url"), str):
        links.append(("self", feed["feed_url"]))
    return links


def _absolute(url: str, base: str) -> str | None:
    joined = urllib.parse.urljoin(base, url)
    return joined if urllib.parse.urlsplit(joined).scheme in ("http", "https") else None


# --- subscribing ---------------------------------------------------------------------

def new_secret() -> str:
    """A subscription's secret: 32 random bytes, hex (the spec allows up to 200 bytes)."""
    return secrets.token_hex(32)


def callback_base(value: str) -> str:
    """The configured `websub_callback_url` without a trailing slash; ValueError naming
    the setting when it is no absolute http(s) URL."""
    parts = urllib.parse.urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"websub_callback_url must be the daemon's public http(s) base URL "
                         f"(e.g. https://alerts.example.org), not {value!r}")
    return value.strip().rstrip("/")


def callback_url(base: str, subscription_id: int) -> str:
    """Each subscription has its own callback, so a push names its subscription."""
    return f"{base}/websub/{subscription_id}"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a redirect is the hub's answer
        return None


def subscribe(hub: Hub, callback: str, secret: str, *, allow_private: bool,
              user_agent: str, lease_seconds: int = LEASE_SECONDS,
              timeout: float = TIMEOUT) -> int:
    """Ask the hub to push `hub.topic` to `callback`, signed with `secret`; the hub's
    HTTP status (2xx: it will verify our intent). WebSubError when it refuses, cannot
    be reached, or is on a private address that is not allowed. The secret is sent to
    the hub only: never in the error."""
    try:
        check_url(hub.hub, allow_private)
    except PrivateAddressRefused as exc:
        raise WebSubError(f"hub {hub.hub} refused: {exc}") from None
    form = urllib.parse.urlencode({
        "hub.mode": "subscribe", "hub.topic": hub.topic, "hub.callback": callback,
        "hub.lease_seconds": str(lease_seconds), "hub.secret": secret}).encode()
    request = urllib.request.Request(hub.hub, data=form, method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded", "User-Agent": user_agent})
    opener = urllib.request.build_opener(_NoRedirects)
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        said = _first_line(exc.read(500)) if exc.fp else ""
        raise WebSubError(f"hub {hub.hub} refused the subscription to {hub.topic}: "
                          f"HTTP {exc.code}{': ' + said if said else ''}") from None
    except (OSError, ValueError) as exc:  # refused, timed out, DNS, a malformed URL
        reason = getattr(exc, "reason", None) or exc
        raise WebSubError(f"hub {hub.hub} cannot be reached: {reason}") from None


def _first_line(body: bytes) -> str:
    text = body.decode("utf-8", "replace").strip()
    return " ".join(text.splitlines()[0].split())[:200] if text else ""


# --- the hub's requests to our callback ----------------------------------------------

@dataclass(frozen=True)
class Verdict:
    """Our answer to the hub's verification GET, and what to record."""

    status: int
    body: bytes
    action: str | None = None  # "activate" | "denied" | None: nothing to record
    lease_seconds: int | None = None
    reason: str | None = None


def verify(subscription: dict | None, query: dict[str, str]) -> Verdict:
    """Answer a verification of intent (spec §5.3) or a denial (§5.2). We confirm a
    subscribe for the topic we asked for, echoing the challenge; anything else (an
    unknown callback, another topic, an unsubscribe we never asked for) is a 404."""
    mode, topic = query.get("hub.mode", ""), query.get("hub.topic", "")
    if subscription is None or topic != subscription["topic"]:
        return Verdict(404, b"no such subscription\n")
    if mode == "denied":
        reason = query.get("hub.reason") or "no reason given"
        return Verdict(200, b"", "denied", reason=f"the hub denied it: {reason[:300]}")
    challenge = query.get("hub.challenge", "")
    if mode != "subscribe" or not challenge or subscription["state"] not in (
            "requested", "active"):
        return Verdict(404, b"not asked for\n")
    lease = query.get("hub.lease_seconds", "")
    lease_seconds = int(lease) if lease.isdigit() and len(lease) < 10 else None
    return Verdict(200, challenge.encode("utf-8"), "activate", lease_seconds)


def signature_problem(secret: str, header: str | None, body: bytes) -> str | None:
    """Why a delivery is not to be trusted (no signature, an unknown method, a wrong
    one), or None when `X-Hub-Signature: method=hexdigest` is the body's HMAC under the
    subscription's secret."""
    if not header:
        return "no X-Hub-Signature"
    method, _, digest = header.strip().partition("=")
    algorithm = ALGORITHMS.get(method.strip().lower())
    if algorithm is None:
        return f"unknown signature method {method.strip()[:20]!r}"
    expected = hmac.new(secret.encode("utf-8"), body, algorithm).hexdigest()
    if not hmac.compare_digest(expected.encode(), digest.strip().lower().encode()):
        return f"wrong {method.strip().lower()} signature"
    return None


def subscription_id(path: str) -> int | None:
    """The subscription a callback path names (…/websub/ID), or None."""
    match = CALLBACK_PATH.search(path.split("?", 1)[0])
    return int(match.group(1)) if match else None
